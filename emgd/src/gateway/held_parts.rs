//! The state behind [`super::reassembly`]: the parts of long messages held until they can
//! be joined, which policy holds them, and how a whole message is made of its parts.

use common::gsm::Udh;
use common::message::Message;
use config::{Protocol, Reassemble};
use std::collections::{BTreeMap, HashMap};

/// The parts of one long message that have arrived.
#[derive(Debug)]
pub(super) struct Held {
    pub(super) total: u8,
    /// When the first part arrived (Unix µs): the timeout runs from here.
    pub(super) first_us: i64,
    pub(super) parts: BTreeMap<u8, Message>,
}

/// Long messages waiting for parts, by key. Held across the store commit, so the commits of
/// one message's parts land in the order they were decided in.
#[derive(Debug, Default)]
pub struct Reassembly {
    pub(super) pending: tokio::sync::Mutex<HashMap<String, Held>>,
}

impl Reassembly {
    /// The parts a restart found in the store.
    pub fn recover(parts: &[(String, u8, Message)]) -> Reassembly {
        let mut pending: HashMap<String, Held> = HashMap::new();
        for (key, seq, m) in parts {
            let Some(c) = m.concat() else { continue };
            let held = pending.entry(key.clone()).or_insert_with(|| Held {
                total: c.total,
                first_us: m.received_us,
                parts: BTreeMap::new(),
            });
            held.first_us = held.first_us.min(m.received_us);
            held.parts.insert(*seq, m.clone());
        }
        Reassembly {
            pending: tokio::sync::Mutex::new(pending),
        }
    }
}

/// Whether a part routed to `target` is held for joining, by the receiving connector's policy.
pub fn joins(policy: Reassemble, target: &config::Connector) -> bool {
    match policy {
        Reassemble::Never => false,
        Reassemble::Always => true,
        Reassemble::Auto => matches!(
            target.protocol,
            Protocol::Http | Protocol::Mgp | Protocol::Smtp
        ),
    }
}

/// Which long message a part belongs to: where it came in, from whom, to whom, and the
/// reference and count of its concatenation element.
pub(super) fn key_of(m: &Message, reference: u16, total: u8) -> String {
    format!(
        "{}|{}|{}|{reference}|{total}",
        m.origin.connector, m.source.addr, m.dest.addr
    )
}

/// The whole message: the first part's fields, every part's user data after its UDH, and
/// the UDH's other elements (ports) if there were any.
pub(super) fn joined(parts: &BTreeMap<u8, Message>) -> Message {
    let mut whole = parts.values().next().cloned().unwrap_or_default();
    let mut text = Vec::new();
    let mut udh = None;
    for part in parts.values() {
        match Udh::split(&part.body) {
            Ok((h, data)) => {
                text.extend_from_slice(data);
                udh.get_or_insert(h);
            }
            Err(_) => text.extend_from_slice(&part.body),
        }
        whole.dlr_requested |= part.dlr_requested;
    }
    let rest = udh.map(|mut h| {
        h.ies.retain(|ie| ie.as_concat().is_none());
        h
    });
    match rest
        .filter(|h| !h.ies.is_empty())
        .and_then(|h| h.encode().ok())
    {
        Some(mut body) => {
            body.extend_from_slice(&text);
            whole.body = body;
        }
        None => {
            whole.esm_class &= !0x40;
            whole.body = text;
        }
    }
    whole
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::gsm::{Concat, Ie, Ports};

    fn part(seq: u8, text: &str, ports: bool) -> Message {
        let mut udh = Udh::with_concat(Concat {
            reference: 9,
            total: 2,
            seq,
            wide_ref: false,
        });
        if ports {
            udh.ies.push(Ie::ports(Ports {
                dest: 2948,
                src: 9200,
                wide: true,
            }));
        }
        let mut body = udh.encode().unwrap();
        body.extend_from_slice(text.as_bytes());
        Message {
            esm_class: 0x40,
            body,
            dlr_requested: seq == 2,
            ..Default::default()
        }
    }

    #[test]
    fn parts_join_in_order_without_their_concatenation_element() {
        let parts: BTreeMap<u8, Message> =
            [(2, part(2, " world", false)), (1, part(1, "hello", false))].into();
        let whole = joined(&parts);
        assert_eq!(whole.body, b"hello world");
        assert_eq!(whole.esm_class & 0x40, 0);
        assert!(whole.dlr_requested);
        assert_eq!(whole.concat(), None);
    }

    #[test]
    fn other_udh_elements_stay() {
        let parts: BTreeMap<u8, Message> =
            [(1, part(1, "ab", true)), (2, part(2, "cd", true))].into();
        let whole = joined(&parts);
        assert_eq!(whole.esm_class & 0x40, 0x40);
        let (udh, text) = Udh::split(&whole.body).unwrap();
        assert_eq!(text, b"abcd");
        assert_eq!(udh.concat(), None);
        assert!(udh.ports().is_some());
    }
}

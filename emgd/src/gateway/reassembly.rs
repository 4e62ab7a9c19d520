//! Joining the parts of a long message received in parts (UDH concatenation) before it
//! travels on, for targets that want whole messages: HTTP (a web application), MGP and SMTP
//! (a person reading it). The receiving connector's `reassemble` says when: `auto` (those
//! targets), `always` or `never`. Every incoming protocol comes through here, since every
//! message received goes through [`Gateway::accept`] once routed.
//!
//! Durable: each part is stored as it arrives (`concat_parts`) and answered only once the
//! store has it; the last part's commit enqueues the whole message and deletes the parts in
//! one transaction; a restart loads the held parts again. A part arriving twice replaces the
//! first copy. A message whose parts have not all arrived within `cmrexpire` seconds of its
//! first part is not lost: its parts are queued as they are, each with its UDH, as `never`
//! would have, with a connector log line naming what was missing.

use super::reject::Reject;
use super::shared::Gateway;
use crate::connector::runtime::state::ConnectorHandle;
use crate::store::{Record, Write};
use common::gsm::Udh;
use common::message::{Message, MessageId};
use config::{Protocol, Reassemble};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The parts of one long message that have arrived.
#[derive(Debug)]
struct Held {
    total: u8,
    /// When the first part arrived (Unix µs): the timeout runs from here.
    first_us: i64,
    parts: BTreeMap<u8, Message>,
}

/// Long messages waiting for parts, by key. Held across the store commit, so the commits of
/// one message's parts land in the order they were decided in.
#[derive(Debug, Default)]
pub struct Reassembly {
    pending: tokio::sync::Mutex<HashMap<String, Held>>,
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
fn key_of(m: &Message, reference: u16, total: u8) -> String {
    format!(
        "{}|{}|{}|{reference}|{total}",
        m.origin.connector, m.source.addr, m.dest.addr
    )
}

/// The whole message: the first part's fields, every part's user data after its UDH, and
/// the UDH's other elements (ports) if there were any.
fn joined(parts: &BTreeMap<u8, Message>) -> Message {
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

impl Gateway {
    /// `part` (routed to `target`, id and times set) is held; when it was the last one
    /// missing, the whole message is queued instead. Resolves once the store has it.
    pub(super) async fn hold_part(
        &self,
        part: Message,
        target: &Arc<ConnectorHandle>,
    ) -> Result<MessageId, Reject> {
        let Some(c) = part.concat() else {
            unreachable!("only parts are held")
        };
        let key = key_of(&part, c.reference, c.total);
        let id = part.id;
        let mut pending = self.reassembly.pending.lock().await;
        let held = pending.entry(key.clone()).or_insert_with(|| Held {
            total: c.total,
            first_us: part.received_us,
            parts: BTreeMap::new(),
        });
        held.parts.insert(c.seq, part.clone());
        let complete = (1..=held.total).all(|n| held.parts.contains_key(&n));
        if !complete {
            let write = Write::HoldPart {
                key: key.clone(),
                seq: c.seq,
                part: Record::of(&part),
            };
            if let Err(e) = self.store.commit(vec![write]).await {
                if let Some(h) = pending.get_mut(&key) {
                    h.parts.remove(&c.seq);
                }
                return Err(e.into());
            }
            return Ok(id);
        }
        let held = pending.remove(&key).expect("just filled");
        let mut whole = joined(&held.parts);
        whole.id = id;
        let writes = vec![
            Write::enqueue(&whole),
            Write::DropParts { key: key.clone() },
        ];
        if let Err(e) = self.store.commit(writes).await {
            let mut held = held;
            held.parts.remove(&c.seq);
            pending.insert(key, held);
            return Err(e.into());
        }
        drop(pending);
        self.logs.connector(
            &whole.origin.connector,
            0,
            format!(
                "REASSEMBLED (info=\"{} parts from {} as message {id} for {}\")",
                held.total, whole.source.addr, whole.target
            ),
        );
        target.queue.push(whole);
        Ok(id)
    }

    /// Long messages whose parts did not all come within `cmrexpire` seconds: their parts
    /// are queued as they are.
    pub async fn expire_parts(&self) {
        let ttl_us = (self.config().general.cmrexpire as i64).saturating_mul(1_000_000);
        let cutoff = crate::clock::now_us().saturating_sub(ttl_us);
        let mut pending = self.reassembly.pending.lock().await;
        let late: Vec<String> = pending
            .iter()
            .filter(|(_, h)| h.first_us <= cutoff)
            .map(|(k, _)| k.clone())
            .collect();
        for key in late {
            let Some(held) = pending.remove(&key) else {
                continue;
            };
            let mut writes: Vec<Write> = held.parts.values().map(Write::enqueue).collect();
            writes.push(Write::DropParts { key: key.clone() });
            if let Err(e) = self.store.commit(writes).await {
                tracing::warn!("held parts of {key} not queued yet: {e}");
                pending.insert(key, held);
                continue;
            }
            let missing: Vec<String> = (1..=held.total)
                .filter(|n| !held.parts.contains_key(n))
                .map(|n| n.to_string())
                .collect();
            if let Some(first) = held.parts.values().next() {
                self.logs.connector(
                    &first.origin.connector,
                    0,
                    format!(
                        "REASSEMBLY TIMEOUT (info=\"{} of {} parts from {} in {} s, part {} missing: queued as they are\")",
                        held.parts.len(),
                        held.total,
                        first.source.addr,
                        ttl_us / 1_000_000,
                        missing.join(", ")
                    ),
                );
            }
            for part in held.parts.into_values() {
                match self.connectors.get(&part.target) {
                    Some(c) => c.queue.push(part),
                    None => tracing::warn!(
                        "part {} is queued for connector {}, which the configuration no longer has; it stays in the store",
                        part.id,
                        part.target
                    ),
                }
            }
        }
    }
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

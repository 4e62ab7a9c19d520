//! The stored form of a [`Message`]: a compact binary record, encoded by the caller before the
//! write reaches the store's writer thread.
//!
//! The record leaves out what the row already holds (the id and the target connector), writes
//! numbers as varints and strings and the body as length-prefixed bytes. A typical SMS is about
//! 90 bytes instead of the ≈470 of the JSON that stores before schema 5 wrote (where the body
//! was an array of decimal numbers). Those JSON rows are still read: a record that starts with
//! `{` is JSON, one that starts with [`FORMAT`] is this encoding.

use common::dlr::DlrStatus;
use common::message::{
    Address, DlrInfo, Message, MessageId, MsgType, Origin, PassedTlv, SessionRef,
};

/// First byte of a binary record; bump it when the layout changes and keep reading the old.
/// 2 added the parameters carried through (`Message::tlvs`) and the scheduled delivery time
/// at the end, 3 the routing entry that matched (`Message::route_entry`), the client session
/// it was submitted on (`Origin::session`) and the SME acknowledgement bits
/// (`Message::sme_ack`); 1 and 2 are read without what they lack.
pub const FORMAT: u8 = 3;
const FORMAT_WITHOUT_TLVS: u8 = 1;
const FORMAT_WITHOUT_SESSION: u8 = 2;
/// The registered_delivery bits `Message::sme_ack` keeps.
const SME_ACK_BITS: u8 = 0x0C;

/// The record of `m` (without its id and target, which the row holds).
pub fn encode(m: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + m.body.len() + m.source.addr.len() + m.dest.addr.len());
    let w = &mut out;
    w.push(FORMAT);
    w.push(m.msgtype.code());
    address(w, &m.source);
    address(w, &m.dest);
    w.extend_from_slice(&[m.data_coding, m.esm_class, m.protocol_id, m.priority]);
    w.push(u8::from(m.dlr_requested));
    bytes(w, &m.body);
    string(w, &m.origin.connector);
    opt_string(w, m.origin.user.as_deref());
    opt_string(w, m.origin.account.as_deref());
    opt_string(w, m.origin.client_ref.as_deref());
    opt_string(w, m.origin.callback_url.as_deref());
    opt_string(w, m.origin.callback_method.as_deref());
    w.push(m.origin.callback_mask);
    opt_string(w, m.target_user.as_deref());
    match &m.dlr {
        None => w.push(0),
        Some(d) => {
            w.push(1);
            varint(w, d.message_id);
            string(w, &d.reported_id);
            w.push(status_code(d.status));
            varint(w, u64::from(d.error));
            signed(w, d.submit_us);
            signed(w, d.done_us);
            string(w, &d.text);
        }
    }
    signed(w, m.received_us);
    match m.expires_us {
        None => w.push(0),
        Some(t) => {
            w.push(1);
            signed(w, t);
        }
    }
    varint(w, u64::from(m.attempts));
    opt_string(w, m.price.map(|d| d.to_string()).as_deref());
    opt_string(w, m.cost.map(|d| d.to_string()).as_deref());
    varint(w, m.tlvs.len() as u64);
    for t in &m.tlvs {
        varint(w, u64::from(t.tag));
        bytes(w, &t.value);
    }
    match m.deliver_at_us {
        None => w.push(0),
        Some(t) => {
            w.push(1);
            signed(w, t);
        }
    }
    opt_string(w, m.route_entry.as_deref());
    // One byte: the SME acknowledgement bits (0x0c) and whether a session follows (0x01).
    w.push((m.sme_ack & SME_ACK_BITS) | u8::from(m.origin.session.is_some()));
    if let Some(s) = &m.origin.session {
        varint(w, u64::from(s.instance));
        signed(w, s.bound_us);
        string(w, &s.ip);
    }
    out
}

/// Why a record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the record ends early")]
    Truncated,
    #[error("unknown record format {0}")]
    Format(u8),
    #[error("unknown {0} code {1}")]
    Code(&'static str, u64),
    #[error("a text field is not UTF-8")]
    Utf8,
    #[error("{0:?} is not a decimal amount")]
    Amount(String),
    #[error("JSON record: {0}")]
    Json(String),
}

/// Read the record of message `id` queued for `target`.
pub fn decode(id: MessageId, target: &str, data: &[u8]) -> Result<Message, DecodeError> {
    let mut m = match data.first() {
        Some(b'{') => serde_json::from_slice(data).map_err(|e| DecodeError::Json(e.to_string()))?,
        Some(&format @ (FORMAT | FORMAT_WITHOUT_SESSION | FORMAT_WITHOUT_TLVS)) => Reader {
            data,
            at: 1,
            format,
        }
        .message()?,
        Some(&other) => return Err(DecodeError::Format(other)),
        None => return Err(DecodeError::Truncated),
    };
    m.id = id;
    m.target = target.to_string();
    Ok(m)
}

fn status_code(s: DlrStatus) -> u8 {
    DlrStatus::ALL.iter().position(|x| *x == s).unwrap_or(0) as u8
}

fn varint(w: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        w.push((n as u8) | 0x80);
        n >>= 7;
    }
    w.push(n as u8);
}

/// Zig-zag, so small negative numbers stay short (times are never negative in practice).
fn signed(w: &mut Vec<u8>, n: i64) {
    varint(w, ((n << 1) ^ (n >> 63)) as u64);
}

fn bytes(w: &mut Vec<u8>, b: &[u8]) {
    varint(w, b.len() as u64);
    w.extend_from_slice(b);
}

fn string(w: &mut Vec<u8>, s: &str) {
    bytes(w, s.as_bytes());
}

/// Length plus one, 0 for none: `None` and `Some("")` stay apart.
fn opt_string(w: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => w.push(0),
        Some(s) => {
            varint(w, s.len() as u64 + 1);
            w.extend_from_slice(s.as_bytes());
        }
    }
}

fn address(w: &mut Vec<u8>, a: &Address) {
    w.push(a.ton);
    w.push(a.npi);
    string(w, &a.addr);
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    format: u8,
}

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8, DecodeError> {
        let b = *self.data.get(self.at).ok_or(DecodeError::Truncated)?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(DecodeError::Code("varint", n))
    }

    fn signed(&mut self) -> Result<i64, DecodeError> {
        let z = self.varint()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let n = self.varint()?;
        u32::try_from(n).map_err(|_| DecodeError::Code("u32", n))
    }

    fn take(&mut self, len: usize) -> Result<&[u8], DecodeError> {
        let end = self.at.checked_add(len).ok_or(DecodeError::Truncated)?;
        let b = self.data.get(self.at..end).ok_or(DecodeError::Truncated)?;
        self.at = end;
        Ok(b)
    }

    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let len = self.varint()? as usize;
        Ok(self.take(len)?.to_vec())
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let len = self.varint()? as usize;
        text(self.take(len)?)
    }

    fn opt_string(&mut self) -> Result<Option<String>, DecodeError> {
        match self.varint()? {
            0 => Ok(None),
            n => text(self.take(n as usize - 1)?).map(Some),
        }
    }

    fn address(&mut self) -> Result<Address, DecodeError> {
        Ok(Address {
            ton: self.u8()?,
            npi: self.u8()?,
            addr: self.string()?,
        })
    }

    fn message(&mut self) -> Result<Message, DecodeError> {
        let msgtype = match self.u8()? {
            1 => MsgType::Sms,
            5 => MsgType::Dlr,
            6 => MsgType::Email,
            7 => MsgType::Mms,
            9 => MsgType::WapPush,
            other => return Err(DecodeError::Code("message type", other.into())),
        };
        let source = self.address()?;
        let dest = self.address()?;
        let [data_coding, esm_class, protocol_id, priority] =
            [self.u8()?, self.u8()?, self.u8()?, self.u8()?];
        let dlr_requested = self.u8()? != 0;
        let body = self.bytes()?;
        let origin = Origin {
            connector: self.string()?,
            user: self.opt_string()?,
            account: self.opt_string()?,
            client_ref: self.opt_string()?,
            callback_url: self.opt_string()?,
            callback_method: self.opt_string()?,
            callback_mask: self.u8()?,
            session: None,
        };
        let target_user = self.opt_string()?;
        let dlr = match self.u8()? {
            0 => None,
            _ => Some(DlrInfo {
                message_id: self.varint()?,
                reported_id: self.string()?,
                status: {
                    let code = self.u8()?;
                    *DlrStatus::ALL
                        .get(code as usize)
                        .ok_or(DecodeError::Code("report status", code.into()))?
                },
                error: self.u32()?,
                submit_us: self.signed()?,
                done_us: self.signed()?,
                text: self.string()?,
            }),
        };
        let received_us = self.signed()?;
        let expires_us = match self.u8()? {
            0 => None,
            _ => Some(self.signed()?),
        };
        let attempts = self.u32()?;
        let price = self.amount()?;
        let cost = self.amount()?;
        let tlvs = self.tlvs()?;
        let deliver_at_us = if self.format == FORMAT_WITHOUT_TLVS {
            None
        } else {
            match self.u8()? {
                0 => None,
                _ => Some(self.signed()?),
            }
        };
        let mut origin = origin;
        let mut sme_ack = 0;
        let mut route_entry = None;
        if self.format == FORMAT {
            route_entry = self.opt_string()?;
            let flags = self.u8()?;
            sme_ack = flags & SME_ACK_BITS;
            if flags & 0x01 != 0 {
                origin.session = Some(SessionRef {
                    instance: self.u32()?,
                    bound_us: self.signed()?,
                    ip: self.string()?,
                });
            }
        }
        Ok(Message {
            id: 0,
            msgtype,
            source,
            dest,
            data_coding,
            esm_class,
            protocol_id,
            priority,
            body,
            dlr_requested,
            origin,
            target: String::new(),
            target_user,
            dlr,
            received_us,
            expires_us,
            attempts,
            price,
            cost,
            tlvs,
            deliver_at_us,
            route_entry,
            sme_ack,
        })
    }

    /// The parameters carried through (format 1 records have none).
    fn tlvs(&mut self) -> Result<Vec<PassedTlv>, DecodeError> {
        if self.format == FORMAT_WITHOUT_TLVS {
            return Ok(Vec::new());
        }
        let n = self.varint()?;
        (0..n)
            .map(|_| {
                let tag = self.varint()?;
                Ok(PassedTlv {
                    tag: u16::try_from(tag).map_err(|_| DecodeError::Code("TLV tag", tag))?,
                    value: self.bytes()?,
                })
            })
            .collect()
    }

    fn amount(&mut self) -> Result<Option<rust_decimal::Decimal>, DecodeError> {
        self.opt_string()?
            .map(|t| t.parse().map_err(|_| DecodeError::Amount(t)))
            .transpose()
    }
}

fn text(b: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(b.to_vec()).map_err(|_| DecodeError::Utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Message {
        Message {
            id: 7,
            msgtype: MsgType::Dlr,
            source: Address {
                ton: 5,
                npi: 0,
                addr: "Émg".into(),
            },
            dest: Address::new("46701234567"),
            data_coding: 8,
            esm_class: 0x44,
            protocol_id: 1,
            priority: 3,
            body: (0..=255).collect(),
            dlr_requested: true,
            origin: Origin {
                connector: "http-in".into(),
                user: Some("alice".into()),
                account: Some(String::new()),
                client_ref: Some("ref-1".into()),
                callback_url: Some("http://127.0.0.1:9/dlr?id=%I".into()),
                callback_method: Some("GET".into()),
                callback_mask: 31,
                session: Some(SessionRef {
                    instance: 3,
                    bound_us: 1_700_000_000_000_001,
                    ip: "::1".into(),
                }),
            },
            target: "smsc".into(),
            target_user: Some("alice".into()),
            dlr: Some(DlrInfo {
                message_id: 9_000_000_000_000_000_001,
                reported_id: "ref-1".into(),
                status: DlrStatus::Skipped,
                error: u32::MAX,
                submit_us: -1,
                done_us: 1_700_000_000_123_456,
                text: "hello".into(),
            }),
            received_us: 1_700_000_000_000_000,
            expires_us: Some(i64::MAX),
            attempts: 12,
            price: Some("0.0512".parse().unwrap()),
            cost: Some("-1.5".parse().unwrap()),
            tlvs: vec![
                PassedTlv {
                    tag: 0x0204,
                    value: vec![0, 7],
                },
                PassedTlv {
                    tag: 0x0381,
                    value: b"\x01\x014670".to_vec(),
                },
            ],
            deliver_at_us: Some(1_700_000_060_000_000),
            route_entry: Some("emg.toml:42".into()),
            sme_ack: 0x0C,
        }
    }

    /// `full()` without what format 2 did not record.
    fn without_session() -> Message {
        let m = full();
        Message {
            origin: Origin {
                session: None,
                ..m.origin.clone()
            },
            sme_ack: 0,
            route_entry: None,
            ..m
        }
    }

    #[test]
    fn format_1_records_are_read_without_parameters() {
        let m = Message {
            tlvs: Vec::new(),
            deliver_at_us: None,
            ..without_session()
        };
        let mut old = encode(&m);
        old[0] = FORMAT_WITHOUT_TLVS;
        // The parameter count, the delivery time, the route entry, and the session and SME
        // bits, none.
        old.truncate(old.len() - 4);
        assert_eq!(decode(m.id, &m.target, &old).unwrap(), m);
    }

    #[test]
    fn format_2_records_are_read_without_a_route_entry_or_the_session() {
        let m = without_session();
        let mut old = encode(&m);
        old[0] = FORMAT_WITHOUT_SESSION;
        // The route entry and the session and SME bits, none.
        old.truncate(old.len() - 2);
        assert_eq!(decode(m.id, &m.target, &old).unwrap(), m);
    }

    #[test]
    fn every_field_comes_back() {
        for m in [full(), Message::default()] {
            let data = encode(&m);
            let back = decode(m.id, &m.target, &data).unwrap();
            assert_eq!(back, m);
        }
    }

    #[test]
    fn a_short_message_is_small() {
        let m = Message {
            source: Address::new("4670"),
            dest: Address::new("46701234567"),
            body: b"benchmark message 1".to_vec(),
            dlr_requested: true,
            origin: Origin {
                connector: "smpp-in".into(),
                user: Some("bench".into()),
                account: Some("bench".into()),
                ..Default::default()
            },
            received_us: 1_700_000_000_000_000,
            ..Default::default()
        };
        let binary = encode(&m).len();
        let json = serde_json::to_vec(&m).unwrap().len();
        // 88 bytes at format 2; format 3 adds an empty route entry and the session flags.
        assert!(binary <= 90, "{binary} bytes");
        assert!(binary * 4 < json, "{binary} bytes against {json} as JSON");
    }

    #[test]
    fn json_records_of_older_stores_are_read() {
        let m = full();
        let json = serde_json::to_vec(&m).unwrap();
        assert_eq!(decode(m.id, &m.target, &json).unwrap(), m);
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        let data = encode(&full());
        for len in 0..data.len() {
            assert!(decode(1, "x", &data[..len]).is_err(), "cut at {len}");
        }
        let mut bad = data.clone();
        bad[0] = 0x7f;
        assert!(matches!(
            decode(1, "x", &bad),
            Err(DecodeError::Format(0x7f))
        ));
    }
}

//! One-line packet rendering in the shape of EMG's PDU log lines:
//!
//! `Write op:03 (SUBMIT_MESSAGE) status:0 trn:001 datalen:52 DESTINATIONADDRESS:4670123
//! USERDATA:hello` — the header first (`status` is the 900 error code of a response, else 0),
//! then the parameters by their spec names, sorted, user data decoded from the CIMD2
//! alphabet. Passwords are always masked.

use std::fmt::Write as _;

use super::frame::Packet;
use super::{op, param, text};
use crate::smpp::Direction;

/// The PDU log line without time stamp and connector prefix.
pub fn log_line(dir: Direction, p: &Packet) -> String {
    let mut fields: Vec<(String, String)> = p
        .params
        .iter()
        .map(|pa| {
            let name = param::spec(pa.code)
                .map_or_else(|| format!("P{:03}", pa.code), |s| s.name.to_string());
            let value = match pa.code {
                param::PASSWORD => "********".to_string(),
                param::USER_DATA => text::decode(&pa.value),
                _ => pa.text(),
            };
            (name, value)
        })
        .collect();
    fields.sort();
    let mut line = format!(
        "{} op:{:02} ({}) status:{} trn:{:03} datalen:{}",
        match dir {
            Direction::Read => "Read",
            Direction::Write => "Write",
        },
        p.op,
        op::name(p.op),
        p.error_code(),
        p.number,
        p.encoded_len(),
    );
    for (name, value) in fields {
        let _ = write!(line, " {name}:{value}");
    }
    line
}

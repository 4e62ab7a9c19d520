//! The history rows ([`Event`]) the gateway appends to the writes that record a message's
//! steps: each submit attempt with its answer, each receipt, each report called back. A
//! report going back is a message of its own; its attempts are recorded as callbacks of the
//! message it reports on, so that message's history shows when its sender heard.

use crate::clock::now_us;
use crate::store::{Event, EventKind, Write};
use common::message::{Message, MsgType};

/// The answer words an attempt is recorded with.
pub const OK: &str = "OK";
/// Refused for now: the message waits in its queue for another attempt.
pub const RETRY: &str = "RETRY";
/// Refused for good (or given up on): the message failed.
pub const FAILED: &str = "FAILED";

/// `m` was submitted on instance `instance` of `connector` and answered `status` (`code`,
/// `remote_id`).
pub fn attempt(
    connector: &str,
    instance: Option<u32>,
    m: &Message,
    status: &str,
    code: u32,
    remote_id: Option<&str>,
) -> Write {
    let (message_id, kind) = match (&m.dlr, m.msgtype) {
        (Some(d), MsgType::Dlr) => (d.message_id, EventKind::Callback),
        _ => (m.id, EventKind::Attempt),
    };
    Event {
        message_id,
        at_us: now_us(),
        kind,
        connector: connector.to_string(),
        instance,
        status: status.to_string(),
        code,
        remote_id: remote_id.map(str::to_string),
    }
    .write()
}

/// A receipt for message `id` came from `connector` under `remote_id`: `status` (`code`).
pub fn receipt(id: u64, connector: &str, remote_id: &str, status: &str, code: u32) -> Write {
    Event {
        message_id: id,
        at_us: now_us(),
        kind: EventKind::Receipt,
        connector: connector.to_string(),
        instance: None,
        status: status.to_string(),
        code,
        remote_id: Some(remote_id.to_string()),
    }
    .write()
}

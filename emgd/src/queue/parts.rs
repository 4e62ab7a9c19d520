//! The parts of one long message, as its parts name it ([`PartsKey`]), and which session of a
//! connector sends them ([`Affinities`]): the session that took the first part takes the rest,
//! in order, for `cmrexpire` seconds (CMR within a connector; the gateway's CMR routes them
//! all to one connector in the first place).

use common::message::Message;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One long message, as its parts name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartsKey {
    connector: String,
    source: String,
    dest: String,
    reference: u16,
    total: u8,
}

impl PartsKey {
    /// The key of `m` when it is one part of a long message (UDH concatenation element).
    pub fn of(m: &Message) -> Option<PartsKey> {
        let c = m.concat()?;
        Some(PartsKey {
            connector: m.origin.connector.clone(),
            source: m.source.addr.clone(),
            dest: m.dest.addr.clone(),
            reference: c.reference,
            total: c.total,
        })
    }
}

/// Which session sends a long message's parts, and how far it got.
#[derive(Debug, Clone, Copy)]
struct Affinity {
    owner: u32,
    last_seq: u8,
    until: Instant,
}

/// The sessions long messages are tied to.
#[derive(Debug, Default)]
pub struct Affinities {
    by_message: HashMap<PartsKey, Affinity>,
}

impl Affinities {
    /// Whether session `instance` may take `m` now: anything but a part of a long message
    /// another session sends; a part only after the part before it, unless it was received
    /// before `overdue_us` (the part before may never come).
    pub fn may_take(&self, m: &Message, instance: u32, now: Instant, overdue_us: i64) -> bool {
        let (Some(k), Some(c)) = (PartsKey::of(m), m.concat()) else {
            return true;
        };
        let entry = self.by_message.get(&k).filter(|a| a.until > now);
        if entry.is_some_and(|a| a.owner != instance) {
            return false;
        }
        let expected = entry.map_or(1, |a| a.last_seq.saturating_add(1));
        c.seq <= expected || m.received_us <= overdue_us
    }

    /// Session `instance` took `m`: the rest of its message follows it for `ttl`.
    pub fn took(&mut self, m: &Message, instance: u32, now: Instant, ttl: Duration) {
        let (Some(k), Some(c)) = (PartsKey::of(m), m.concat()) else {
            return;
        };
        if self.by_message.len() >= 1024 {
            self.by_message.retain(|_, a| a.until > now);
        }
        let last_seq = self
            .by_message
            .get(&k)
            .filter(|a| a.until > now)
            .map_or(c.seq, |a| a.last_seq.max(c.seq));
        self.by_message.insert(
            k,
            Affinity {
                owner: instance,
                last_seq,
                until: now + ttl,
            },
        );
    }
}

//! The parts of one long message, as its parts name it ([`PartsKey`]), and which session of a
//! connector sends them ([`Affinities`]): the session that took the first part takes the rest,
//! in order, for `cmrexpire` seconds (CMR within a connector; the gateway's CMR routes them
//! all to one connector in the first place).

use super::PART_ORDER_WAIT;
use common::message::Message;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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

/// The sessions long messages are tied to, and the parts held back for the part before them.
#[derive(Debug, Default)]
pub struct Affinities {
    by_message: HashMap<PartsKey, Affinity>,
    /// When each part waiting for the part before it was first held back.
    held_since: HashMap<(PartsKey, u8), Instant>,
}

/// Parts of long messages being accepted for one queue, by message.
pub type AcceptingParts = HashMap<PartsKey, usize>;

impl Affinities {
    /// Whether session `instance` may take `m` now: anything but a part of a long message
    /// another session sends; a part only after the part before it, unless none of its
    /// message's parts is still being accepted (`accepting`) and it has been held back for
    /// [`PART_ORDER_WAIT`] (the part before may never come).
    ///
    /// The wait counts from when the part was first held back here, not from its reception:
    /// under load a part's commit can take longer than the wait, and a part that reached the
    /// queue late must still wait for the one before it.
    pub fn may_take(
        &mut self,
        m: &Message,
        instance: u32,
        now: Instant,
        accepting: &AcceptingParts,
    ) -> bool {
        let (Some(k), Some(c)) = (PartsKey::of(m), m.concat()) else {
            return true;
        };
        let entry = self.by_message.get(&k).filter(|a| a.until > now);
        if entry.is_some_and(|a| a.owner != instance) {
            return false;
        }
        let expected = entry.map_or(1, |a| a.last_seq.saturating_add(1));
        if c.seq <= expected {
            return true;
        }
        if self.held_since.len() >= 1024 {
            self.held_since
                .retain(|_, since| now.saturating_duration_since(*since) < HELD_FORGET);
        }
        if accepting.contains_key(&k) {
            // The part before may be committing right now: wait for it, afresh.
            self.held_since.insert((k, c.seq), now);
            return false;
        }
        let since = *self.held_since.entry((k, c.seq)).or_insert(now);
        now.saturating_duration_since(since) >= PART_ORDER_WAIT
    }

    /// Session `instance` took `m`: the rest of its message follows it for `ttl`.
    pub fn took(&mut self, m: &Message, instance: u32, now: Instant, ttl: Duration) {
        let (Some(k), Some(c)) = (PartsKey::of(m), m.concat()) else {
            return;
        };
        self.held_since.remove(&(k.clone(), c.seq));
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

/// A held-back part whose wait started this long ago is forgotten (it left the queue some
/// other way: cancelled, expired, moved).
const HELD_FORGET: Duration = Duration::from_secs(600);

/// One part of a long message being accepted for a queue (routed there, not yet committed):
/// while it lives, the later parts of its message wait for it. Dropped once the part is
/// queued, or refused.
pub struct Accepting {
    parts: Arc<Mutex<AcceptingParts>>,
    key: PartsKey,
}

impl Accepting {
    pub(super) fn new(parts: Arc<Mutex<AcceptingParts>>, key: PartsKey) -> Accepting {
        *parts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_default() += 1;
        Accepting { parts, key }
    }
}

impl Drop for Accepting {
    fn drop(&mut self) {
        let mut parts = self.parts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = parts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                parts.remove(&self.key);
            }
        }
    }
}

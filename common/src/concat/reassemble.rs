//! Reassembling long messages received in parts (UDH or SAR), sans-io.
//!
//! Parts arrive out of order, twice (SMSC retries), or never. The caller passes `now` in any
//! monotonic unit (the same one as the TTL), so expiry is testable and no clock lives here.
//! Pending messages are bounded: when full, the oldest is evicted and handed back so the caller
//! can apply its "deliver partial" or "drop" policy rather than lose it silently.

use std::collections::{BTreeMap, HashMap};

/// What identifies one long message: who sent it to whom, with which reference and part count.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub source: String,
    pub dest: String,
    pub reference: u16,
    pub total: u8,
}

/// A whole message: the parts' bodies (UDH removed) joined in sequence order. Decode it with
/// [`crate::gsm::decode_text`] after joining, so a surrogate pair a peer split still decodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled {
    pub key: Key,
    pub body: Vec<u8>,
}

/// An incomplete message given up on (expired or evicted), with the parts that did arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partial {
    pub key: Key,
    /// (seq, body) in sequence order.
    pub parts: Vec<(u8, Vec<u8>)>,
}

/// Result of [`Reassembler::push`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// That was the last missing part.
    Complete(Assembled),
    /// Still waiting. `evicted` is the oldest pending message if this part's message had to
    /// push it out to stay within the bound.
    Pending {
        received: u8,
        total: u8,
        evicted: Option<Partial>,
    },
    /// This seq was already received; the first copy is kept.
    Duplicate,
    /// seq 0, seq > total or total 0: not a valid part.
    Invalid,
}

#[derive(Debug)]
struct Entry {
    first_seen: u64,
    parts: BTreeMap<u8, Vec<u8>>,
}

/// Collects parts until a message is whole.
#[derive(Debug)]
pub struct Reassembler {
    pending: HashMap<Key, Entry>,
    max_pending: usize,
    ttl: u64,
}

impl Reassembler {
    /// `max_pending` incomplete messages at most (at least 1); each is dropped `ttl` after its
    /// first part arrived.
    pub fn new(max_pending: usize, ttl: u64) -> Reassembler {
        Reassembler {
            pending: HashMap::new(),
            max_pending: max_pending.max(1),
            ttl,
        }
    }

    /// Number of incomplete messages held.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// When the next pending message expires, so the caller can arm one timer.
    pub fn next_deadline(&self) -> Option<u64> {
        self.pending
            .values()
            .map(|e| e.first_seen.saturating_add(self.ttl))
            .min()
    }

    /// Adds part `seq` of the message `key`. Single-part messages complete at once.
    pub fn push(&mut self, key: Key, seq: u8, body: Vec<u8>, now: u64) -> Pushed {
        if key.total == 0 || seq == 0 || seq > key.total {
            return Pushed::Invalid;
        }
        // Complete at once and never held, so it must not evict a message that waits:
        // `Complete` has no room to hand that one back.
        if key.total == 1 {
            return Pushed::Complete(Assembled { key, body });
        }
        let mut evicted = None;
        if !self.pending.contains_key(&key) && self.pending.len() >= self.max_pending {
            evicted = self.evict_oldest();
        }
        let total = key.total;
        let entry = self.pending.entry(key.clone()).or_insert_with(|| Entry {
            first_seen: now,
            parts: BTreeMap::new(),
        });
        if entry.parts.contains_key(&seq) {
            return Pushed::Duplicate;
        }
        entry.parts.insert(seq, body);
        let received = entry.parts.len() as u8;
        if received < total {
            return Pushed::Pending {
                received,
                total,
                evicted,
            };
        }
        let parts = self
            .pending
            .remove(&key)
            .map(|e| e.parts)
            .unwrap_or_default();
        Pushed::Complete(Assembled {
            key,
            body: parts.into_values().flatten().collect(),
        })
    }

    /// Removes and returns every message whose TTL has passed at `now`.
    pub fn expire(&mut self, now: u64) -> Vec<Partial> {
        let ttl = self.ttl;
        let mut gone: Vec<Key> = self
            .pending
            .iter()
            .filter(|(_, e)| now >= e.first_seen.saturating_add(ttl))
            .map(|(k, _)| k.clone())
            .collect();
        gone.sort();
        gone.into_iter().filter_map(|k| self.take(k)).collect()
    }

    fn evict_oldest(&mut self) -> Option<Partial> {
        let oldest = self
            .pending
            .iter()
            .min_by(|a, b| (a.1.first_seen, a.0).cmp(&(b.1.first_seen, b.0)))
            .map(|(k, _)| k.clone())?;
        self.take(oldest)
    }

    fn take(&mut self, key: Key) -> Option<Partial> {
        let e = self.pending.remove(&key)?;
        Some(Partial {
            key,
            parts: e.parts.into_iter().collect(),
        })
    }
}

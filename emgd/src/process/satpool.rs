//! SAT (source address translation) pools: the in-memory index of who was given which pool
//! address, loaded from the store at start and written through to it.
//!
//! An entry says: in pool P, messages to `dest` went out with pool address A in place of the
//! sender S (an e-mail address, typically), until it expires. Creating one picks an A that no
//! live entry for `dest` holds, so the pair (A, `dest`) names one conversation; the reply from
//! `dest` to A is turned back into a message to S. Without `threaded`, a sender writing to the
//! same recipient again gets the same A (its entry is refreshed); with `threaded`, every message
//! gets a fresh A so each reply maps to the message it answers. When every address of the pool
//! is taken for a recipient, the entry closest to expiry is reused (and a warning logged).

use crate::clock::now_us;
use crate::store::{SatEntry, Write};
use common::message::Address;
use config::SatPool;
use std::collections::HashMap;

/// How often, at most, expired entries are dropped from memory and the store.
const PURGE_EVERY_US: i64 = 60_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    original: Address,
    expires_us: i64,
}

/// Live entries by (pool, dest), then by pool address.
#[derive(Debug, Default)]
pub struct SatIndex {
    entries: HashMap<(String, String), HashMap<String, Slot>>,
    last_purge_us: i64,
}

/// What [`SatIndex::create`] decided.
#[derive(Debug, Clone)]
pub struct Created {
    /// The pool address to put in the message, with the pool's TON/NPI.
    pub address: Address,
    /// Store writes that make the decision durable.
    pub writes: Vec<Write>,
    /// An entry of another sender had to be taken over: the pool is too small.
    pub evicted: Option<Address>,
}

impl SatIndex {
    /// The index over entries loaded from the store (expired ones are skipped).
    pub fn new(entries: &[SatEntry]) -> SatIndex {
        let now = now_us();
        let mut index = SatIndex {
            entries: HashMap::new(),
            last_purge_us: now,
        };
        for e in entries.iter().filter(|e| e.expires_us > now) {
            index
                .entries
                .entry((e.pool.clone(), e.dest.clone()))
                .or_default()
                .insert(
                    e.sat_addr.clone(),
                    Slot {
                        original: e.original.clone(),
                        expires_us: e.expires_us,
                    },
                );
        }
        index
    }

    /// Live entries, over every pool.
    pub fn len(&self, now_us: i64) -> usize {
        self.entries
            .values()
            .flat_map(|m| m.values())
            .filter(|s| s.expires_us > now_us)
            .count()
    }

    /// Chooses the pool address that replaces `original` in a message to `dest`.
    pub fn create(
        &mut self,
        pool: &SatPool,
        original: &Address,
        dest: &str,
        now_us: i64,
    ) -> Created {
        let mut writes = self.purge(now_us);
        let expires_us = now_us.saturating_add((pool.expire as i64).saturating_mul(1_000_000));
        let used = self
            .entries
            .entry((pool.name.clone(), dest.to_string()))
            .or_default();
        let live = |s: &Slot| s.expires_us > now_us;
        let reuse = (!pool.threaded)
            .then(|| {
                used.iter()
                    .find(|(_, s)| live(s) && s.original == *original)
                    .map(|(a, _)| a.clone())
            })
            .flatten();
        let free = || {
            pool.addresses
                .iter()
                .find(|a| used.get(a.as_str()).is_none_or(|s| !live(s)))
                .cloned()
        };
        let (chosen, evicted) = match reuse.or_else(free) {
            Some(a) => (a, None),
            None => {
                // Every address is taken for this recipient: the oldest entry gives way.
                let oldest = pool
                    .addresses
                    .iter()
                    .min_by_key(|a| used.get(a.as_str()).map_or(i64::MIN, |s| s.expires_us))
                    .cloned()
                    .unwrap_or_default();
                let evicted = used.get(&oldest).map(|s| s.original.clone());
                (oldest, evicted)
            }
        };
        used.insert(
            chosen.clone(),
            Slot {
                original: original.clone(),
                expires_us,
            },
        );
        writes.push(Write::SatEntry {
            entry: SatEntry {
                pool: pool.name.clone(),
                dest: dest.to_string(),
                sat_addr: chosen.clone(),
                original: original.clone(),
                expires_us,
            },
        });
        Created {
            address: Address {
                ton: pool.ton,
                npi: pool.npi,
                addr: chosen,
            },
            writes,
            evicted,
        }
    }

    /// The address that pool address `sat_addr` stood for in messages to `other` (the party now
    /// replying), while its entry lives.
    pub fn lookup(&self, pool: &str, other: &str, sat_addr: &str, now_us: i64) -> Option<Address> {
        self.entries
            .get(&(pool.to_string(), other.to_string()))?
            .get(sat_addr)
            .filter(|s| s.expires_us > now_us)
            .map(|s| s.original.clone())
    }

    /// Drops expired entries, at most once a minute; the store is told to do the same.
    fn purge(&mut self, now_us: i64) -> Vec<Write> {
        if now_us - self.last_purge_us < PURGE_EVERY_US {
            return Vec::new();
        }
        self.last_purge_us = now_us;
        self.entries.retain(|_, m| {
            m.retain(|_, s| s.expires_us > now_us);
            !m.is_empty()
        });
        vec![Write::SatPurge { before_us: now_us }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(addresses: &[&str], threaded: bool) -> SatPool {
        SatPool {
            name: "mail".into(),
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            expire: 60,
            threaded,
            ton: 1,
            npi: 1,
        }
    }

    fn mail(a: &str) -> Address {
        Address {
            ton: 5,
            npi: 0,
            addr: a.into(),
        }
    }

    const T0: i64 = 1_000_000_000_000;

    /// An empty index that last purged at `t`.
    fn index_at(t: i64) -> SatIndex {
        SatIndex {
            last_purge_us: t,
            ..Default::default()
        }
    }
    const SECOND: i64 = 1_000_000;

    #[test]
    fn pairs_are_unique_per_conversation_and_replies_map_back() {
        let p = pool(&["4670100", "4670101", "4670102"], false);
        let mut ix = index_at(T0);
        let alice = ix.create(&p, &mail("alice@example.com"), "4670555", T0);
        let bob = ix.create(&p, &mail("bob@example.com"), "4670555", T0);
        // Another recipient may get the same pool address: the pair is what is unique.
        let carol_to_other = ix.create(&p, &mail("carol@example.com"), "4670666", T0);
        assert_eq!(alice.address.addr, "4670100");
        assert_eq!((alice.address.ton, alice.address.npi), (1, 1));
        assert_eq!(bob.address.addr, "4670101");
        assert_eq!(carol_to_other.address.addr, "4670100");
        // Alice writes again: same conversation, same address.
        let again = ix.create(&p, &mail("alice@example.com"), "4670555", T0 + SECOND);
        assert_eq!(again.address.addr, "4670100");
        // Replies from the recipient to each pool address.
        let cases = [
            ("4670555", "4670100", Some("alice@example.com")),
            ("4670555", "4670101", Some("bob@example.com")),
            ("4670666", "4670100", Some("carol@example.com")),
            ("4670666", "4670101", None),
            ("4670777", "4670100", None),
        ];
        for (from, to, expected) in cases {
            let got = ix.lookup("mail", from, to, T0 + SECOND);
            assert_eq!(
                got.as_ref().map(|a| a.addr.as_str()),
                expected,
                "{from} -> {to}"
            );
        }
        assert_eq!(ix.lookup("other", "4670555", "4670100", T0), None);
        // The original's TON/NPI come back with it.
        let back = ix.lookup("mail", "4670555", "4670100", T0).unwrap();
        assert_eq!(back, mail("alice@example.com"));
        let Write::SatEntry { entry } = &again.writes[0] else {
            panic!("{:?}", again.writes);
        };
        assert_eq!(entry.expires_us, T0 + SECOND + 60 * SECOND);
    }

    #[test]
    fn threaded_gives_every_message_its_own_address() {
        let p = pool(&["100", "101"], true);
        let mut ix = index_at(T0);
        let first = ix.create(&p, &mail("alice@example.com"), "4670555", T0);
        let second = ix.create(&p, &mail("alice@example.com"), "4670555", T0);
        assert_eq!(
            (first.address.addr.as_str(), second.address.addr.as_str()),
            ("100", "101")
        );
        // Pool exhausted for this recipient: the entry closest to expiry is taken over.
        let third = ix.create(&p, &mail("bob@example.com"), "4670555", T0 + SECOND);
        assert_eq!(third.address.addr, "100");
        assert_eq!(third.evicted, Some(mail("alice@example.com")));
        let owner = ix.lookup("mail", "4670555", "100", T0 + SECOND).unwrap();
        assert_eq!(owner.addr, "bob@example.com");
    }

    #[test]
    fn entries_expire_and_free_their_address() {
        let p = pool(&["100"], false);
        let mut ix = index_at(T0);
        ix.create(&p, &mail("alice@example.com"), "4670555", T0);
        let before = T0 + 59 * SECOND;
        let after = T0 + 60 * SECOND;
        assert!(ix.lookup("mail", "4670555", "100", before).is_some());
        assert_eq!(ix.lookup("mail", "4670555", "100", after), None);
        assert_eq!(ix.len(before), 1);
        assert_eq!(ix.len(after), 0);
        // The expired address is free again: no eviction.
        let bob = ix.create(&p, &mail("bob@example.com"), "4670555", after);
        assert_eq!((bob.address.addr.as_str(), bob.evicted), ("100", None));
        // A minute on, creating also purges memory and the store.
        let later = ix.create(&p, &mail("carol@example.com"), "4670999", T0 + 200 * SECOND);
        assert!(
            matches!(later.writes[0], Write::SatPurge { before_us } if before_us == T0 + 200 * SECOND)
        );
        assert_eq!(ix.entries.len(), 1, "bob's expired entry was dropped");
    }

    #[test]
    fn loaded_entries_are_live_until_they_expire() {
        let now = now_us();
        let entry = |addr: &str, expires_us| SatEntry {
            pool: "mail".into(),
            dest: "4670555".into(),
            sat_addr: addr.into(),
            original: mail("alice@example.com"),
            expires_us,
        };
        let ix = SatIndex::new(&[
            entry("100", now + 3_600 * SECOND),
            entry("101", now - SECOND),
        ]);
        assert!(ix.lookup("mail", "4670555", "100", now).is_some());
        assert!(ix.lookup("mail", "4670555", "101", now).is_none());
    }
}

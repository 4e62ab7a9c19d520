//! The open DLR entries: which message each expected receipt is for, keyed by (connector,
//! remote id as the connector's `dlr_id_format` normalises it); receipts that came before their
//! entry (parked for `dlr_park_seconds`); and the tallies of long messages sent in parts.
//!
//! A data structure and nothing else: the gateway's `outcome` and `receipt` decide when to
//! open, match and close entries and commit that to the store.
//!
//! While parts are outstanding, a [`Tally`] counts the ones still open and remembers the final
//! states of the others. Each part's final state is also written to its `dlr_open` row, so a
//! restart rebuilds the tally from the store and the combined state is still right.

use crate::store::OpenDlr;
use common::dlr::DlrStatus;
use common::dlrid::{self, IdFormat};
use common::message::{Message, MessageId};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// (connector, normalised remote id).
pub type DlrKey = (String, String);

/// What an open DLR entry remembers about the message it waits for, and since when (Unix µs:
/// it expires `dlr_expire` later). After a restart only the id is known until the message is
/// read back from the store.
#[derive(Debug, Clone)]
pub enum OpenEntry {
    Loaded(Box<Message>, i64),
    OnlyId(MessageId, i64),
}

impl OpenEntry {
    pub fn since_us(&self) -> i64 {
        match self {
            OpenEntry::Loaded(_, t) | OpenEntry::OnlyId(_, t) => *t,
        }
    }
}

/// A receipt waiting for its open DLR entry.
#[derive(Debug, Clone, Copy)]
pub struct ParkedReceipt {
    pub status: DlrStatus,
    pub error: u32,
    until: Instant,
}

/// Receipts of one long message so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tally {
    /// Parts still waiting for a final receipt.
    open: usize,
    /// Final (state, error) of the parts already done, in arrival order.
    finals: Vec<(DlrStatus, u32)>,
    /// The remote ids of every part's entry, to close them all at the end.
    remote_ids: Vec<String>,
}

/// Where a part's final receipt leaves its long message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartsSoFar {
    /// The message has no tally (no longer multipart).
    Unknown,
    /// Other parts are still open.
    Waiting,
    /// That was the last: the state and error the whole message ends with, and the remote
    /// ids of all its parts (whose entries the store closes now).
    Whole(DlrStatus, u32, Vec<String>),
}

#[derive(Debug, Default)]
pub struct DlrBook {
    open: Mutex<HashMap<DlrKey, OpenEntry>>,
    /// Receipts that matched no open entry yet: their submit response may still be on its
    /// way. Matched when the id is opened.
    parked: Mutex<HashMap<DlrKey, ParkedReceipt>>,
    /// Long messages whose parts' receipts are still coming in.
    tallies: Mutex<HashMap<MessageId, Tally>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl DlrBook {
    /// The book as the store left it: entries known by message id only, and the tallies of
    /// long messages (those with more than one entry), which remember the parts already done.
    pub fn recover(rows: &[OpenDlr]) -> DlrBook {
        let (still_open, tallies) = recover(rows);
        let open = still_open
            .into_iter()
            .map(|d| {
                (
                    (d.connector.clone(), d.remote_id.clone()),
                    OpenEntry::OnlyId(d.message_id, d.created_us),
                )
            })
            .collect();
        DlrBook {
            open: Mutex::new(open),
            parked: Mutex::new(HashMap::new()),
            tallies: Mutex::new(tallies),
        }
    }

    /// Open the entry for `message`, sent on `connector` as `remote`; returns the receipt
    /// that was parked for it, if one was.
    pub fn open(
        &self,
        connector: &str,
        remote: &str,
        message: Message,
        format: IdFormat,
    ) -> Option<ParkedReceipt> {
        // Lock order parked -> open, as in `find_or_park`: a receipt either sees the entry or
        // is parked before we look for it.
        let mut parked = lock(&self.parked);
        lock(&self.open).insert(
            (connector.to_string(), remote.to_string()),
            OpenEntry::Loaded(Box::new(message), crate::clock::now_us()),
        );
        unpark(&mut parked, connector, remote, format)
    }

    /// Open one entry per part of the long `message`, and its tally; returns the receipts
    /// parked for any of them.
    pub fn open_parts(
        &self,
        connector: &str,
        remotes: &[String],
        message: &Message,
        format: IdFormat,
    ) -> Vec<(String, ParkedReceipt)> {
        lock(&self.tallies).insert(
            message.id,
            Tally {
                open: remotes.len(),
                finals: Vec::new(),
                remote_ids: remotes.to_vec(),
            },
        );
        let since = crate::clock::now_us();
        let mut early = Vec::new();
        let mut parked = lock(&self.parked);
        let mut open = lock(&self.open);
        for remote in remotes {
            open.insert(
                (connector.to_string(), remote.clone()),
                OpenEntry::Loaded(Box::new(message.clone()), since),
            );
            if let Some(p) = unpark(&mut parked, connector, remote, format) {
                early.push((remote.clone(), p));
            }
        }
        early
    }

    /// The entry a receipt for `canon` on `connector` matches (trying the id's other
    /// spellings). Without one, the receipt is parked for `window` seconds when that is not 0.
    pub fn find_or_park(
        &self,
        connector: &str,
        canon: &str,
        format: IdFormat,
        status: DlrStatus,
        error: u32,
        window: u64,
    ) -> Option<(DlrKey, OpenEntry)> {
        let mut parked = lock(&self.parked);
        let open = lock(&self.open);
        let found = std::iter::once(canon.to_string())
            .chain(dlrid::receipt_candidates(canon, format))
            .find_map(|k| {
                let key = (connector.to_string(), k);
                open.get(&key).cloned().map(|e| (key, e))
            });
        if found.is_none() && window > 0 {
            tracing::debug!("connector {connector}: receipt for {canon} parked for {window} s");
            parked.insert(
                (connector.to_string(), canon.to_string()),
                ParkedReceipt {
                    status,
                    error,
                    until: Instant::now() + Duration::from_secs(window),
                },
            );
        }
        found
    }

    /// Forget an entry (its final receipt came, it expired, or its message is gone). False
    /// when it was already gone: another receipt for it (or its expiry) settled it meanwhile.
    pub fn close(&self, key: &DlrKey) -> bool {
        lock(&self.open).remove(key).is_some()
    }

    /// The entries opened at or before `cutoff` (Unix µs).
    pub fn opened_before(&self, cutoff: i64) -> Vec<(DlrKey, OpenEntry)> {
        lock(&self.open)
            .iter()
            .filter(|(_, e)| e.since_us() <= cutoff)
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect()
    }

    /// Remote ids with an open entry on `connector`.
    pub fn open_of(&self, connector: &str) -> Vec<String> {
        lock(&self.open)
            .keys()
            .filter(|(c, _)| c == connector)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// Whether `id` is a long message with parts still open.
    pub fn is_multipart(&self, id: MessageId) -> bool {
        lock(&self.tallies).contains_key(&id)
    }

    /// One part of long message `id` reached its final state.
    pub fn part_final(&self, id: MessageId, status: DlrStatus, error: u32) -> PartsSoFar {
        let mut tallies = lock(&self.tallies);
        let Some(tally) = tallies.get_mut(&id) else {
            return PartsSoFar::Unknown;
        };
        tally.open = tally.open.saturating_sub(1);
        tally.finals.push((status, error));
        if tally.open > 0 {
            return PartsSoFar::Waiting;
        }
        let (s, e) = combined(&tally.finals);
        let parts = std::mem::take(&mut tally.remote_ids);
        tallies.remove(&id);
        PartsSoFar::Whole(s, e, parts)
    }
}

/// Take a parked receipt for the entry just opened under `canon`, if one waits, and drop the
/// ones whose window has passed.
fn unpark(
    parked: &mut HashMap<DlrKey, ParkedReceipt>,
    connector: &str,
    canon: &str,
    format: IdFormat,
) -> Option<ParkedReceipt> {
    if parked.is_empty() {
        return None;
    }
    let now = Instant::now();
    parked.retain(|(c, id), p| {
        let keep = p.until > now;
        if !keep {
            tracing::warn!("connector {c}: receipt for {id} matched no message within its parking window; dropped");
        }
        keep
    });
    std::iter::once(canon.to_string())
        .chain(dlrid::stored_aliases(canon, format))
        .find_map(|k| parked.remove(&(connector.to_string(), k)))
}

/// The state reported for the whole message: delivered only when every part was; otherwise
/// the first part's failure, with its error.
fn combined(finals: &[(DlrStatus, u32)]) -> (DlrStatus, u32) {
    finals
        .iter()
        .copied()
        .find(|(s, _)| *s != DlrStatus::Delivered)
        .unwrap_or((DlrStatus::Delivered, 0))
}

/// Splits recovered entries into the ones still open and the tallies of long messages (those
/// with more than one entry), which remember the parts already done.
fn recover(open: &[OpenDlr]) -> (Vec<&OpenDlr>, HashMap<MessageId, Tally>) {
    let mut per_message: HashMap<MessageId, Vec<&OpenDlr>> = HashMap::new();
    for d in open {
        per_message.entry(d.message_id).or_default().push(d);
    }
    let mut tallies = HashMap::new();
    let mut still_open = Vec::new();
    for (id, entries) in per_message {
        let mut tally = Tally::default();
        let many = entries.len() > 1;
        for d in entries {
            tally.remote_ids.push(d.remote_id.clone());
            match &d.part_done {
                Some((word, error)) => tally.finals.push((status_of_word(word), *error)),
                None => {
                    tally.open += 1;
                    still_open.push(d);
                }
            }
        }
        if many && tally.open > 0 {
            tallies.insert(id, tally);
        }
    }
    (still_open, tallies)
}

fn status_of_word(word: &str) -> DlrStatus {
    DlrStatus::ALL
        .into_iter()
        .find(|s| s.stat_word() == word)
        .unwrap_or(DlrStatus::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DlrStatus::*;

    /// Parts' final (state, error) and what the whole message reports.
    type Case<'a> = (&'a [(DlrStatus, u32)], (DlrStatus, u32));

    #[test]
    fn the_whole_is_delivered_only_when_every_part_is() {
        let cases: &[Case] = &[
            (&[(Delivered, 0), (Delivered, 0)], (Delivered, 0)),
            (&[(Delivered, 0), (Undeliverable, 34)], (Undeliverable, 34)),
            (&[(Expired, 0), (Undeliverable, 34)], (Expired, 0)),
            (
                &[(Delivered, 0), (Rejected, 1), (Deleted, 2)],
                (Rejected, 1),
            ),
        ];
        for (finals, want) in cases {
            assert_eq!(combined(finals), *want, "{finals:?}");
        }
    }

    fn row(id: MessageId, remote: &str, done: Option<&str>) -> OpenDlr {
        OpenDlr {
            connector: "smsc".into(),
            remote_id: remote.into(),
            message_id: id,
            part_done: done.map(|w| (w.to_string(), 7)),
            created_us: 0,
        }
    }

    #[test]
    fn recovery_rebuilds_the_tallies_of_long_messages() {
        let rows = vec![
            row(1, "a", None),
            row(2, "b1", Some("UNDELIV")),
            row(2, "b2", None),
            row(2, "b3", None),
            row(3, "c1", None),
            row(3, "c2", None),
        ];
        let (open, tallies) = recover(&rows);
        let mut open: Vec<&str> = open.iter().map(|d| d.remote_id.as_str()).collect();
        open.sort();
        assert_eq!(open, ["a", "b2", "b3", "c1", "c2"]);
        assert!(!tallies.contains_key(&1), "a single entry needs no tally");
        assert_eq!(
            tallies[&2],
            Tally {
                open: 2,
                finals: vec![(Undeliverable, 7)],
                remote_ids: vec!["b1".into(), "b2".into(), "b3".into()],
            }
        );
        assert_eq!(tallies[&3].open, 2);
    }
}

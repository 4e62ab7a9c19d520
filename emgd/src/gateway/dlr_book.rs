//! The open DLR entries: which message each expected receipt is for, keyed by (connector,
//! remote id as the connector's `dlr_id_format` normalises it); receipts that came before their
//! entry (parked for `dlr_park_seconds`); and the tallies of long messages sent in parts.
//!
//! A parked receipt is not answered yet: its session waits on a [`Parked`] until the entry
//! opens (committed) and hands itself over, so the next hop hears of it only once it is
//! recorded, and resends it if emgd dies first. Opening an entry takes only the receipts
//! parked under its exact key; one parked under another spelling of the id (hex for decimal)
//! is matched by [`DlrBook::unpark_late`] only when its window ends with no exact match, since
//! with short dense ids another message's id can read the same in the other base.
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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

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

/// A receipt waiting for its open DLR entry: opening the entry hands the entry to `waiter`.
#[derive(Debug)]
struct ParkedReceipt {
    token: u64,
    until: Instant,
    waiter: oneshot::Sender<(DlrKey, OpenEntry)>,
}

/// The session's side of a parked receipt: resolves with the entry when it opens.
#[derive(Debug)]
pub struct Parked {
    token: u64,
    pub entry: oneshot::Receiver<(DlrKey, OpenEntry)>,
}

/// What a receipt found.
#[derive(Debug)]
pub enum Lookup {
    Found(DlrKey, OpenEntry),
    /// No entry yet: wait on it for up to the parking window.
    Parked(Parked),
    Unmatched,
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

/// Parked receipts below which no sweep runs.
const PARKED_SWEEP_MIN: usize = 64;

#[derive(Debug, Default)]
pub struct DlrBook {
    open: Mutex<HashMap<DlrKey, OpenEntry>>,
    /// Receipts that matched no open entry yet: their submit response may still be on its
    /// way. Matched when the id is opened.
    parked: Mutex<HashMap<DlrKey, Vec<ParkedReceipt>>>,
    next_token: AtomicU64,
    /// Size of `parked` at which the next park sweeps out receipts nobody waits for.
    sweep_parked_at: Mutex<usize>,
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
            next_token: AtomicU64::new(0),
            sweep_parked_at: Mutex::new(PARKED_SWEEP_MIN),
            tallies: Mutex::new(tallies),
        }
    }

    /// Open the entry for `message`, sent on `connector` as `remote`, and hand it to the
    /// receipts parked under that exact key.
    pub fn open(&self, connector: &str, remote: &str, message: Message) {
        // Lock order parked -> open, as in `find_or_park`: a receipt either sees the entry or
        // is parked before we look for it.
        let mut parked = lock(&self.parked);
        let key = (connector.to_string(), remote.to_string());
        let entry = OpenEntry::Loaded(Box::new(message), crate::clock::now_us());
        lock(&self.open).insert(key.clone(), entry.clone());
        hand_over(&mut parked, key, entry);
    }

    /// Open one entry per part of the long `message`, and its tally, handing each to the
    /// receipts parked for it.
    pub fn open_parts(&self, connector: &str, remotes: &[String], message: &Message) {
        lock(&self.tallies).insert(
            message.id,
            Tally {
                open: remotes.len(),
                finals: Vec::new(),
                remote_ids: remotes.to_vec(),
            },
        );
        let since = crate::clock::now_us();
        let mut parked = lock(&self.parked);
        let mut open = lock(&self.open);
        for remote in remotes {
            let key = (connector.to_string(), remote.clone());
            let entry = OpenEntry::Loaded(Box::new(message.clone()), since);
            open.insert(key.clone(), entry.clone());
            hand_over(&mut parked, key, entry);
        }
    }

    /// The entry a receipt for `canon` on `connector` matches (trying the id's other
    /// spellings). Without one, the receipt is parked for `window` seconds when that is not 0.
    pub fn find_or_park(
        &self,
        connector: &str,
        canon: &str,
        format: IdFormat,
        window: u64,
    ) -> Lookup {
        let mut parked = lock(&self.parked);
        if let Some(found) = find(&lock(&self.open), connector, canon, format) {
            return Lookup::Found(found.0, found.1);
        }
        if window == 0 {
            return Lookup::Unmatched;
        }
        tracing::debug!("connector {connector}: receipt for {canon} parked for {window} s");
        let now = Instant::now();
        // Receipts whose session went away before their window ended (no `unpark_late` for
        // them): nothing waits for them. Swept when the map has doubled since the last sweep,
        // so a park costs O(1) amortised, not a scan of every parked receipt.
        let mut sweep_at = lock(&self.sweep_parked_at);
        if parked.len() >= *sweep_at {
            parked.retain(|_, waiting| {
                waiting.retain(|p| p.until > now && !p.waiter.is_closed());
                !waiting.is_empty()
            });
            *sweep_at = (parked.len() * 2).max(PARKED_SWEEP_MIN);
        }
        drop(sweep_at);
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let (waiter, entry) = oneshot::channel();
        parked
            .entry((connector.to_string(), canon.to_string()))
            .or_default()
            .push(ParkedReceipt {
                token,
                until: now + Duration::from_secs(window),
                waiter,
            });
        Lookup::Parked(Parked { token, entry })
    }

    /// The parking window of the receipt `parked` for `canon` ended: unpark it, and take the
    /// entry it may still match, exactly or under another spelling of its id.
    pub fn unpark_late(
        &self,
        connector: &str,
        canon: &str,
        format: IdFormat,
        mut parked: Parked,
    ) -> Option<(DlrKey, OpenEntry)> {
        let mut waiting = lock(&self.parked);
        let key = (connector.to_string(), canon.to_string());
        if let Some(list) = waiting.get_mut(&key) {
            list.retain(|p| p.token != parked.token);
            if list.is_empty() {
                waiting.remove(&key);
            }
        }
        // Handed over just before we took it out of the park?
        if let Ok(found) = parked.entry.try_recv() {
            return Some(found);
        }
        find(&lock(&self.open), connector, canon, format)
    }

    /// Take in entries another node opened (read from a shared store because a receipt for
    /// one came here), with the tallies of their long messages, and hand them to the receipts
    /// parked for them. An entry or tally this node already has stays as it is.
    pub fn adopt(&self, rows: &[OpenDlr]) {
        let (still_open, tallies) = recover(rows);
        {
            let mut known = lock(&self.tallies);
            for (id, tally) in tallies {
                known.entry(id).or_insert(tally);
            }
        }
        let mut parked = lock(&self.parked);
        let mut open = lock(&self.open);
        for d in still_open {
            let key = (d.connector.clone(), d.remote_id.clone());
            if open.contains_key(&key) {
                continue;
            }
            let entry = OpenEntry::OnlyId(d.message_id, d.created_us);
            open.insert(key.clone(), entry.clone());
            hand_over(&mut parked, key, entry);
        }
    }

    /// Forget an entry (its final receipt came, it expired, or its message is gone). False
    /// when it was already gone: another receipt for it (or its expiry) settled it meanwhile.
    pub fn close(&self, key: &DlrKey) -> bool {
        lock(&self.open).remove(key).is_some()
    }

    /// The entries opened at or before the cutoff (Unix µs) `cutoff` gives their scope.
    pub fn opened_before(&self, cutoff: impl Fn(&str) -> i64) -> Vec<(DlrKey, OpenEntry)> {
        lock(&self.open)
            .iter()
            .filter(|((scope, _), e)| e.since_us() <= cutoff(scope))
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

/// The open entry for a receipt id `canon`: its exact key, else one of its other spellings.
fn find(
    open: &HashMap<DlrKey, OpenEntry>,
    connector: &str,
    canon: &str,
    format: IdFormat,
) -> Option<(DlrKey, OpenEntry)> {
    std::iter::once(canon.to_string())
        .chain(dlrid::receipt_candidates(canon, format))
        .find_map(|k| {
            let key = (connector.to_string(), k);
            open.get(&key).cloned().map(|e| (key, e))
        })
}

/// Hand the entry just opened under `key` to the receipts parked under exactly that key.
fn hand_over(parked: &mut HashMap<DlrKey, Vec<ParkedReceipt>>, key: DlrKey, entry: OpenEntry) {
    for p in parked.remove(&key).unwrap_or_default() {
        // A waiter that is gone (its session ended) was never answered: the next hop sends
        // the receipt again.
        let _ = p.waiter.send((key.clone(), entry.clone()));
    }
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

    fn message(id: MessageId) -> Message {
        Message {
            id,
            ..Default::default()
        }
    }

    fn entry_id(e: &OpenEntry) -> MessageId {
        match e {
            OpenEntry::Loaded(m, _) => m.id,
            OpenEntry::OnlyId(id, _) => *id,
        }
    }

    fn parked(l: Lookup) -> Parked {
        match l {
            Lookup::Parked(p) => p,
            other => panic!("expected the receipt to be parked, got {other:?}"),
        }
    }

    /// Decimal ids 10 and 16 from an SMSC, `auto` format: "16" read as hex is 22, and "10"
    /// read as hex is 16. The receipt for 16 comes before either submit response. Opening 10
    /// must not take it (the old code did: 16 is one of 10's aliases), opening 16 must.
    #[test]
    fn a_parked_receipt_is_not_taken_by_another_base_spelling_when_its_entry_opens() {
        let book = DlrBook::default();
        let mut for_16 = parked(book.find_or_park("smsc", "16", IdFormat::Auto, 60));
        book.open("smsc", "10", message(1));
        assert!(
            for_16.entry.try_recv().is_err(),
            "the receipt for 16 waits on: 10 is another message"
        );
        book.open("smsc", "16", message(2));
        let (key, entry) = for_16.entry.try_recv().expect("16 opened: handed over");
        assert_eq!(key, ("smsc".to_string(), "16".to_string()));
        assert_eq!(entry_id(&entry), 2);
    }

    /// A receipt that spells the id in the other base (hex "a" for decimal 10) is matched
    /// only when its window ends with no exact entry for "a".
    #[test]
    fn a_cross_base_match_waits_for_the_end_of_the_parking_window() {
        let book = DlrBook::default();
        let mut spelled_hex = parked(book.find_or_park("smsc", "a", IdFormat::Auto, 60));
        book.open("smsc", "10", message(7));
        assert!(spelled_hex.entry.try_recv().is_err(), "no exact match yet");
        let (key, entry) = book
            .unpark_late("smsc", "a", IdFormat::Auto, spelled_hex)
            .expect("the window ended: the other spelling matches");
        assert_eq!(key.1, "10");
        assert_eq!(entry_id(&entry), 7);
        assert!(lock(&book.parked).is_empty(), "unparked");
    }

    /// An exact entry opened during the window wins over an earlier cross-base one.
    #[test]
    fn an_exact_entry_wins_over_a_cross_base_one() {
        let book = DlrBook::default();
        let mut r = parked(book.find_or_park("smsc", "16", IdFormat::Auto, 60));
        book.open("smsc", "10", message(1));
        book.open("smsc", "16", message(2));
        let (_, entry) = r.entry.try_recv().unwrap();
        assert_eq!(entry_id(&entry), 2);
        // Had the handover been missed, the late look-up still prefers the exact key.
        let late = parked(book.find_or_park("smsc", "22", IdFormat::Decimal, 60));
        book.open("smsc", "22", message(3));
        let (_, entry) = book
            .unpark_late("smsc", "22", IdFormat::Decimal, late)
            .unwrap();
        assert_eq!(entry_id(&entry), 3);
    }

    #[test]
    fn without_a_window_an_unknown_receipt_is_unmatched_at_once() {
        let book = DlrBook::default();
        assert!(matches!(
            book.find_or_park("smsc", "99", IdFormat::Auto, 0),
            Lookup::Unmatched
        ));
        book.open("smsc", "99", message(4));
        assert!(matches!(
            book.find_or_park("smsc", "99", IdFormat::Auto, 0),
            Lookup::Found(_, OpenEntry::Loaded(..))
        ));
    }

    /// Parks sweep out receipts nobody waits for only now and then (when the map doubled),
    /// so the map stays within twice what is really waiting and a park scans nothing.
    #[test]
    fn abandoned_parked_receipts_are_swept_without_a_scan_per_park() {
        let book = DlrBook::default();
        let kept: Vec<Parked> = (0..10)
            .map(|i| parked(book.find_or_park("smsc", &format!("k{i}"), IdFormat::Auto, 60)))
            .collect();
        let mut most = 0;
        for i in 0..10_000 {
            // The session went away: its Parked is dropped without unpark_late.
            drop(book.find_or_park("smsc", &format!("gone{i}"), IdFormat::Auto, 60));
            most = most.max(lock(&book.parked).len());
        }
        assert!(most <= 2 * PARKED_SWEEP_MIN + 1, "at most {most} parked");
        for (i, p) in kept.into_iter().enumerate() {
            book.open("smsc", &format!("k{i}"), message(i as MessageId));
            let mut p = p;
            assert!(
                p.entry.try_recv().is_ok(),
                "the receipts still waiting were kept"
            );
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

//! What the simulator is told (options) and what it counts, shared by its sessions.

use anyhow::anyhow;
use common::dlr::DlrStatus;
use common::smpp::{status, SmppAddr};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How message ids are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFormat {
    Decimal,
    /// Lower-case hexadecimal.
    Hex,
}

impl IdFormat {
    pub fn write(self, n: u64) -> String {
        match self {
            IdFormat::Decimal => n.to_string(),
            IdFormat::Hex => format!("{n:x}"),
        }
    }
}

impl std::str::FromStr for IdFormat {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<IdFormat> {
        match s {
            "decimal" | "dec" => Ok(IdFormat::Decimal),
            "hex" => Ok(IdFormat::Hex),
            _ => Err(anyhow!("unknown id format {s:?} (decimal or hex)")),
        }
    }
}

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Accept only this system_id and password; `None`: any.
    pub credentials: Option<(String, String)>,
    /// Ids in submit_sm_resp.
    pub ids: IdFormat,
    /// Ids in the receipts (text and receipted_message_id); differing from `ids` reproduces
    /// the id-format drift of real SMSCs.
    pub receipt_ids: IdFormat,
    /// The first message id handed out.
    pub first_id: u64,
    /// Delay between a submit and its receipt.
    pub dlr_delay: Duration,
    /// What the receipts report.
    pub dlr_status: DlrStatus,
    /// Share of submits refused with `fail_status`, spread evenly (0.0 .. 1.0).
    pub fail_share: f64,
    pub fail_status: u32,
    /// Most submits per second accepted on one session; above it ESME_RTHROTTLED.
    pub throttle: Option<f64>,
    /// Most receipts sent on one session and not yet answered.
    pub dlr_window: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            credentials: None,
            ids: IdFormat::Decimal,
            receipt_ids: IdFormat::Decimal,
            first_id: 1,
            dlr_delay: Duration::from_millis(100),
            dlr_status: DlrStatus::Delivered,
            fail_share: 0.0,
            fail_status: status::ESME_RSYSERR,
            throttle: None,
            dlr_window: 1024,
        }
    }
}

/// Running totals, shared by every session.
#[derive(Default)]
pub struct Counters {
    pub(super) binds: AtomicU64,
    pub(super) binds_refused: AtomicU64,
    pub(super) sessions: AtomicI64,
    pub(super) submits: AtomicU64,
    pub(super) accepted: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) throttled: AtomicU64,
    pub(super) receipts: AtomicU64,
    pub(super) receipts_acked: AtomicU64,
    pub(super) receipts_dropped: AtomicU64,
    pub(super) enquire_links: AtomicU64,
    pub(super) first_submit_us: AtomicI64,
    pub(super) last_submit_us: AtomicI64,
}

/// A snapshot of the counters, as `emgsmsc` prints it and writes its `--stats` file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub binds: u64,
    pub binds_refused: u64,
    /// Sessions open now.
    pub sessions: i64,
    pub submits: u64,
    pub accepted: u64,
    /// Refused by `fail_share` (throttled ones not included).
    pub refused: u64,
    pub throttled: u64,
    /// Receipts sent.
    pub receipts: u64,
    /// Receipts the ESME answered with deliver_sm_resp.
    pub receipts_acked: u64,
    /// Receipts of a transmitter session with no receiver bound to take them.
    pub receipts_dropped: u64,
    pub enquire_links: u64,
    /// Unix time in microseconds of the first and the latest submit_sm (0: none yet).
    pub first_submit_us: i64,
    pub last_submit_us: i64,
}

impl Stats {
    /// One `key=value` line.
    pub fn line(&self) -> String {
        format!(
            "binds={} binds_refused={} sessions={} submits={} accepted={} refused={} throttled={} receipts={} receipts_acked={} receipts_dropped={} enquire_links={}",
            self.binds,
            self.binds_refused,
            self.sessions,
            self.submits,
            self.accepted,
            self.refused,
            self.throttled,
            self.receipts,
            self.receipts_acked,
            self.receipts_dropped,
            self.enquire_links
        )
    }
}

/// A receipt waiting for its time.
#[derive(Clone)]
pub(super) struct Pending {
    pub(super) due: Instant,
    pub(super) id: u64,
    /// The receipt's addresses: the submit's destination and source, swapped.
    pub(super) source: SmppAddr,
    pub(super) dest: SmppAddr,
    pub(super) text: String,
    pub(super) submit_date: String,
}

/// A session that takes receipts: its number and where to hand them.
type Receiver = (u64, mpsc::UnboundedSender<Pending>);

/// The simulator: options, counters, id source and the receiver sessions by system_id.
pub struct Smsc {
    pub(super) opts: Options,
    pub(super) counters: Counters,
    pub(super) next_id: AtomicU64,
    pub(super) receivers: Mutex<HashMap<String, Vec<Receiver>>>,
    /// Receipts of a closed session that no receiver of its system_id could take then: the
    /// next session bound with that system_id gets them (a bounce closes every session).
    pub(super) orphans: Mutex<HashMap<String, Vec<Pending>>>,
    pub(super) next_session: AtomicU64,
    pub(super) round_robin: AtomicU64,
}

impl Smsc {
    pub fn new(opts: Options) -> Arc<Smsc> {
        Arc::new(Smsc {
            next_id: AtomicU64::new(opts.first_id),
            opts,
            counters: Counters::default(),
            receivers: Mutex::new(HashMap::new()),
            orphans: Mutex::new(HashMap::new()),
            next_session: AtomicU64::new(0),
            round_robin: AtomicU64::new(0),
        })
    }

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            binds: c.binds.load(Relaxed),
            binds_refused: c.binds_refused.load(Relaxed),
            sessions: c.sessions.load(Relaxed),
            submits: c.submits.load(Relaxed),
            accepted: c.accepted.load(Relaxed),
            refused: c.refused.load(Relaxed),
            throttled: c.throttled.load(Relaxed),
            receipts: c.receipts.load(Relaxed),
            receipts_acked: c.receipts_acked.load(Relaxed),
            receipts_dropped: c.receipts_dropped.load(Relaxed),
            enquire_links: c.enquire_links.load(Relaxed),
            first_submit_us: c.first_submit_us.load(Relaxed),
            last_submit_us: c.last_submit_us.load(Relaxed),
        }
    }

    pub(super) fn register_receiver(
        &self,
        system_id: &str,
        session: u64,
        tx: mpsc::UnboundedSender<Pending>,
    ) {
        let mut map = self.receivers.lock().unwrap_or_else(|p| p.into_inner());
        let waiting = self
            .orphans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(system_id)
            .unwrap_or_default();
        for p in waiting {
            // The session is still being bound: its receiver end is alive.
            let _ = tx.send(p);
        }
        map.entry(system_id.to_string())
            .or_default()
            .push((session, tx));
    }

    pub(super) fn unregister_receiver(&self, system_id: &str, session: u64) {
        let mut map = self.receivers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = map.get_mut(system_id) {
            list.retain(|(s, _)| *s != session);
        }
    }

    /// A closing session's waiting receipts: to another receiver of the same system_id, or
    /// kept for the next one to bind (the session has unregistered itself already).
    pub(super) fn adopt(&self, system_id: &str, waiting: impl IntoIterator<Item = Pending>) {
        let map = self.receivers.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.get(system_id).map(Vec::as_slice).unwrap_or_default();
        for mut p in waiting {
            if !list.is_empty() {
                let i = self.round_robin.fetch_add(1, Relaxed) as usize % list.len();
                match list[i].1.send(p) {
                    Ok(()) => continue,
                    Err(mpsc::error::SendError(back)) => p = back,
                }
            }
            self.orphans
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(system_id.to_string())
                .or_default()
                .push(p);
        }
    }

    /// Receipts kept for a system_id with no session bound (see [`Smsc::adopt`]).
    pub fn orphaned(&self) -> usize {
        let orphans = self.orphans.lock().unwrap_or_else(|p| p.into_inner());
        orphans.values().map(Vec::len).sum()
    }

    /// Hand a transmitter session's receipt to a receiver of the same system_id.
    pub(super) fn forward(&self, system_id: &str, p: Pending) {
        let map = self.receivers.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.get(system_id).map(Vec::as_slice).unwrap_or_default();
        if !list.is_empty() {
            let i = self.round_robin.fetch_add(1, Relaxed) as usize % list.len();
            if list[i].1.send(p).is_ok() {
                return;
            }
        }
        self.counters.receipts_dropped.fetch_add(1, Relaxed);
    }
}

/// Now as Unix time in microseconds.
pub fn unix_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

//! Metrics: latency histograms and counters in one process-wide registry, so any module (the
//! store's writer thread included) records with one call and no handle to pass around.
//!
//! The registry knows nothing of connectors, the store or the gateway, so every layer may
//! record into it; [`exposition`] renders it, with the connectors' states and queues read
//! when scraped, as Prometheus `/metrics` and serves `/health`.

pub mod exposition;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Upper bounds (seconds) of every latency histogram's buckets.
const BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A histogram's numbers at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramCounts {
    /// (upper bound in seconds, observations in this bucket only).
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_us: u64,
}

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(
            d.as_micros().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
    }

    /// Per-bucket counts (not cumulative), with the upper bounds.
    pub fn counts(&self) -> HistogramCounts {
        HistogramCounts {
            buckets: BUCKETS
                .iter()
                .zip(&self.counts)
                .map(|(b, c)| (*b, c.load(Ordering::Relaxed)))
                .collect(),
            count: self.count.load(Ordering::Relaxed),
            sum_us: self.sum_us.load(Ordering::Relaxed),
        }
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (b, c) in BUCKETS.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let braces = |l: &str| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{{{l}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {sum}", braces(labels));
        let _ = writeln!(out, "{name}_count{} {count}", braces(labels));
    }
}

/// Histograms and counters keyed by label values, made on first use.
#[derive(Debug, Default)]
struct Family<T> {
    by: Mutex<BTreeMap<Vec<String>, Arc<T>>>,
}

impl<T: Default> Family<T> {
    fn get(&self, labels: &[&str]) -> Arc<T> {
        let mut by = self.by.lock().unwrap_or_else(|p| p.into_inner());
        // Few label sets exist (connectors x codes): a scan beats allocating a key per call.
        if let Some((_, t)) = by
            .iter()
            .find(|(k, _)| k.iter().map(String::as_str).eq(labels.iter().copied()))
        {
            return t.clone();
        }
        by.entry(labels.iter().map(|s| s.to_string()).collect())
            .or_default()
            .clone()
    }

    fn snapshot(&self) -> Vec<(Vec<String>, Arc<T>)> {
        let by = self.by.lock().unwrap_or_else(|p| p.into_inner());
        by.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// The process-wide registry.
#[derive(Debug, Default)]
pub struct Metrics {
    store_commit: Histogram,
    store_batches: AtomicU64,
    store_commit_failures: AtomicU64,
    /// Why the last commit failed, while commits fail (`/health` answers 503 with it).
    store_failing: Mutex<Option<String>>,
    store_purged_messages: AtomicU64,
    store_purged_routelog: AtomicU64,
    accept_commit: Family<Histogram>,
    submit_response: Family<Histogram>,
    http_requests: Family<AtomicU64>,
    http_request_seconds: Family<Histogram>,
    callbacks: Family<AtomicU64>,
    dlr_expired: Family<AtomicU64>,
    callback_seconds: Family<Histogram>,
    /// Millionths of the currency charged, by account.
    charged_micros: Family<AtomicU64>,
    balance_refusals: Family<AtomicU64>,
    /// Queued rows this node claimed from nodes whose lease ran out.
    takeover_taken: AtomicU64,
    /// Of those, rows the dead node was submitting: sent again, maybe delivered twice.
    takeover_resent: AtomicU64,
    /// Times this node's own lease lapsed (it stopped sending and accepting until renewed).
    lease_lapses: AtomicU64,
}

/// The registry every module records into.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

impl Metrics {
    /// The store committed `batches` callers' batches in one transaction that took `took`.
    pub fn store_committed(&self, batches: usize, took: Duration) {
        self.store_commit.observe(took);
        self.store_batches
            .fetch_add(batches as u64, Ordering::Relaxed);
    }

    /// A store transaction failed (rolled back): commits fail until one succeeds again.
    /// True when the store was healthy until now.
    pub fn store_commit_failed(&self, reason: &str) -> bool {
        self.store_commit_failures.fetch_add(1, Ordering::Relaxed);
        let mut failing = self.store_failing.lock().unwrap_or_else(|p| p.into_inner());
        failing.replace(reason.to_string()).is_none()
    }

    /// A store transaction that wrote something committed: the store is healthy again.
    /// True when commits failed until now.
    pub fn store_commit_succeeded(&self) -> bool {
        let mut failing = self.store_failing.lock().unwrap_or_else(|p| p.into_inner());
        failing.take().is_some()
    }

    /// Why commits fail, while they do.
    pub fn store_failing(&self) -> Option<String> {
        self.store_failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Where a message accepted on `connector` records its time from acceptance to durable
    /// commit.
    pub fn accept_histogram(&self, connector: &str) -> Arc<Histogram> {
        self.accept_commit.get(&[connector])
    }

    /// The store's housekeeping purged this many finished messages and routelog rows.
    pub fn store_purged(&self, messages: u64, routelog: u64) {
        self.store_purged_messages
            .fetch_add(messages, Ordering::Relaxed);
        self.store_purged_routelog
            .fetch_add(routelog, Ordering::Relaxed);
    }

    /// An outgoing connector got the answer to a submit after `took`.
    pub fn submit_response(&self, connector: &str, took: Duration) {
        self.submit_response.get(&[connector]).observe(took);
    }

    /// An HTTP request to an incoming connector was answered with `status`.
    pub fn http_request(&self, connector: &str, status: u16, took: Duration) {
        let code = status.to_string();
        self.http_requests
            .get(&[connector, &code])
            .fetch_add(1, Ordering::Relaxed);
        self.http_request_seconds.get(&[connector]).observe(took);
    }

    /// A DLR callback attempt ended with `result` (`ok`, `retry`, `expired`, `skipped`).
    pub fn callback(&self, connector: &str, result: &str, took: Option<Duration>) {
        self.callbacks
            .get(&[connector, result])
            .fetch_add(1, Ordering::Relaxed);
        if let Some(t) = took {
            self.callback_seconds.get(&[connector]).observe(t);
        }
    }

    /// `connector`'s two latency histograms as they stand (submit -> response, accept ->
    /// commit), for MGP `connector_stats`: none before its first observation.
    pub fn latencies(&self, connector: &str) -> [Option<HistogramCounts>; 2] {
        let find = |f: &Family<Histogram>| {
            f.snapshot()
                .into_iter()
                .find(|(k, _)| k.len() == 1 && k[0] == connector)
                .map(|(_, h)| h.counts())
        };
        [find(&self.submit_response), find(&self.accept_commit)]
    }

    /// `account` was charged `micros` millionths for a message it sent.
    pub fn charged(&self, account: &str, micros: i64) {
        self.charged_micros
            .get(&[account])
            .fetch_add(micros.max(0) as u64, Ordering::Relaxed);
    }

    /// A message of `account` was refused: its balance did not cover the price.
    pub fn balance_refused(&self, account: &str) {
        self.balance_refusals
            .get(&[account])
            .fetch_add(1, Ordering::Relaxed);
    }

    /// This node took over `taken` queued rows of dead nodes, `resent` of them in flight there.
    pub fn took_over(&self, taken: u64, resent: u64) {
        self.takeover_taken.fetch_add(taken, Ordering::Relaxed);
        self.takeover_resent.fetch_add(resent, Ordering::Relaxed);
    }

    /// (taken, resent) since start: see [`Metrics::took_over`].
    pub fn takeovers(&self) -> (u64, u64) {
        (
            self.takeover_taken.load(Ordering::Relaxed),
            self.takeover_resent.load(Ordering::Relaxed),
        )
    }

    /// This node's lease lapsed.
    pub fn lease_lapsed(&self) {
        self.lease_lapses.fetch_add(1, Ordering::Relaxed);
    }

    pub fn lease_lapses(&self) -> u64 {
        self.lease_lapses.load(Ordering::Relaxed)
    }

    /// An open DLR entry of `connector` expired without its receipt.
    pub fn dlr_expired(&self, connector: &str) {
        self.dlr_expired
            .get(&[connector])
            .fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(300));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(100));
        let mut out = String::new();
        h.render(&mut out, "x", "c=\"a\"");
        assert!(out.contains("x_bucket{c=\"a\",le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{c=\"a\",le=\"0.005\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{c=\"a\",le=\"30\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{c=\"a\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count{c=\"a\"} 3\n"), "{out}");
    }
}

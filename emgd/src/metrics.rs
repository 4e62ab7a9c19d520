//! Prometheus metrics (`/metrics`, text exposition format 0.0.4) and `/health`.
//!
//! Connector state, queue depth and message totals are read from the connectors when scraped;
//! latencies are histograms kept here, in one process-wide registry, so any module (the store's
//! writer thread included) records with one call and no handle to pass around.

use crate::connector::ConnState;
use crate::gateway::Gateway;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Upper bounds (seconds) of every latency histogram's buckets.
const BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How long `/health` waits for the store.
const HEALTH_STORE_TIMEOUT: Duration = Duration::from_secs(2);

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
    store_purged_messages: AtomicU64,
    store_purged_routelog: AtomicU64,
    accept_commit: Family<Histogram>,
    submit_response: Family<Histogram>,
    http_requests: Family<AtomicU64>,
    http_request_seconds: Family<Histogram>,
    callbacks: Family<AtomicU64>,
    dlr_expired: Family<AtomicU64>,
    callback_seconds: Family<Histogram>,
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

    /// An open DLR entry of `connector` expired without its receipt.
    pub fn dlr_expired(&self, connector: &str) {
        self.dlr_expired
            .get(&[connector])
            .fetch_add(1, Ordering::Relaxed);
    }
}

/// `"v"` with Prometheus label escaping.
fn quoted(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

fn labels(names: &[&str], values: &[String]) -> String {
    names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}={}", quoted(v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

const STATES: [ConnState; 6] = [
    ConnState::Idle,
    ConnState::Connected,
    ConnState::Bound,
    ConnState::Terminating,
    ConnState::Dead,
    ConnState::Error,
];

/// The whole exposition.
pub fn render(gw: &Gateway) -> String {
    let m = global();
    let mut out = String::with_capacity(8192);
    let connectors: Vec<_> = gw.connectors().cloned().collect();
    let c = |name: &str| labels(&["connector"], &[name.to_string()]);

    head(
        &mut out,
        "emg_connector_instances",
        "gauge",
        "Instances of a connector in each state.",
    );
    for h in &connectors {
        let states = h.states();
        for s in STATES {
            let n = states.iter().filter(|x| **x == s).count();
            let l = labels(&["connector", "state"], &[h.name.clone(), s.to_string()]);
            let _ = writeln!(out, "emg_connector_instances{{{l}}} {n}");
        }
    }
    head(
        &mut out,
        "emg_connector_up",
        "gauge",
        "1 when the connector can take traffic.",
    );
    for h in &connectors {
        let _ = writeln!(
            out,
            "emg_connector_up{{{}}} {}",
            c(&h.name),
            u8::from(h.is_up())
        );
    }
    head(
        &mut out,
        "emg_connector_hold",
        "gauge",
        "1 while an operator holds the connector.",
    );
    for h in &connectors {
        let _ = writeln!(
            out,
            "emg_connector_hold{{{}}} {}",
            c(&h.name),
            u8::from(h.held())
        );
    }
    head(
        &mut out,
        "emg_queue_depth",
        "gauge",
        "Messages queued or in flight on a connector.",
    );
    for h in &connectors {
        let _ = writeln!(out, "emg_queue_depth{{{}}} {}", c(&h.name), h.queue.len());
    }
    head(
        &mut out,
        "emg_queue_total",
        "gauge",
        "Messages queued or in flight, server-wide.",
    );
    let _ = writeln!(out, "emg_queue_total {}", gw.total_queued());
    for (name, help, get) in [
        (
            "emg_messages_received_total",
            "Messages received on a connector.",
            (|h: &crate::connector::ConnectorHandle| &h.counters.received)
                as fn(&crate::connector::ConnectorHandle) -> &AtomicU64,
        ),
        (
            "emg_messages_sent_total",
            "Messages handed on by a connector.",
            |h| &h.counters.sent,
        ),
        (
            "emg_messages_failed_total",
            "Messages that failed on a connector.",
            |h| &h.counters.failed,
        ),
    ] {
        head(&mut out, name, "counter", help);
        for h in &connectors {
            let v = get(h).load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}{{{}}} {v}", c(&h.name));
        }
    }

    head(
        &mut out,
        "emg_store_commit_seconds",
        "histogram",
        "Duration of store transactions (group commits, fsync included).",
    );
    m.store_commit
        .render(&mut out, "emg_store_commit_seconds", "");
    head(
        &mut out,
        "emg_store_commit_batches_total",
        "counter",
        "Callers' batches committed.",
    );
    let _ = writeln!(
        out,
        "emg_store_commit_batches_total {}",
        m.store_batches.load(Ordering::Relaxed)
    );
    head(
        &mut out,
        "emg_store_purged_total",
        "counter",
        "Rows the store purged after their retention, by table.",
    );
    let _ = writeln!(
        out,
        "emg_store_purged_total{{table=\"messages\"}} {}",
        m.store_purged_messages.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "emg_store_purged_total{{table=\"routelog\"}} {}",
        m.store_purged_routelog.load(Ordering::Relaxed)
    );
    histograms(
        &mut out,
        "emg_accept_commit_seconds",
        "From acceptance of a message to its durable commit, by receiving connector.",
        &["connector"],
        &m.accept_commit,
    );
    histograms(
        &mut out,
        "emg_submit_response_seconds",
        "From a submit to the next hop's answer, by outgoing connector.",
        &["connector"],
        &m.submit_response,
    );
    counters(
        &mut out,
        "emg_http_requests_total",
        "HTTP requests to incoming HTTP connectors, by status code.",
        &["connector", "code"],
        &m.http_requests,
    );
    histograms(
        &mut out,
        "emg_http_request_seconds",
        "Time to answer an HTTP request on an incoming HTTP connector.",
        &["connector"],
        &m.http_request_seconds,
    );
    counters(
        &mut out,
        "emg_dlr_expired_total",
        "Open delivery-report entries that expired without a receipt (dlr_expire), by outgoing connector.",
        &["connector"],
        &m.dlr_expired,
    );
    counters(
        &mut out,
        "emg_dlr_callbacks_total",
        "DLR callback attempts, by result (ok, retry, expired, skipped).",
        &["connector", "result"],
        &m.callbacks,
    );
    histograms(
        &mut out,
        "emg_dlr_callback_seconds",
        "Duration of DLR callback requests.",
        &["connector"],
        &m.callback_seconds,
    );
    head(
        &mut out,
        "emg_shutting_down",
        "gauge",
        "1 once shutdown has begun.",
    );
    let _ = writeln!(out, "emg_shutting_down {}", u8::from(gw.is_shutting_down()));
    out
}

fn histograms(out: &mut String, name: &str, help: &str, names: &[&str], f: &Family<Histogram>) {
    head(out, name, "histogram", help);
    for (values, h) in f.snapshot() {
        h.render(out, name, &labels(names, &values));
    }
}

fn counters(out: &mut String, name: &str, help: &str, names: &[&str], f: &Family<AtomicU64>) {
    head(out, name, "counter", help);
    for (values, n) in f.snapshot() {
        let _ = writeln!(
            out,
            "{name}{{{}}} {}",
            labels(names, &values),
            n.load(Ordering::Relaxed)
        );
    }
}

/// `GET /metrics`.
pub async fn metrics(State(gw): State<Arc<Gateway>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&gw),
    )
}

/// `GET /health`: 200 while the store answers, 503 when it does not or during shutdown.
pub async fn health(State(gw): State<Arc<Gateway>>) -> (StatusCode, &'static str) {
    if gw.is_shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
    }
    match tokio::time::timeout(HEALTH_STORE_TIMEOUT, gw.store.ping()).await {
        Ok(Ok(_)) => (StatusCode::OK, "OK\n"),
        Ok(Err(_)) => (StatusCode::SERVICE_UNAVAILABLE, "store error\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "store not answering\n"),
    }
}

/// The `/metrics` and `/health` routes.
pub fn router(gw: Arc<Gateway>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .route("/health", axum::routing::get(health))
        .with_state(gw)
}

/// Serve `/metrics` and `/health` on `metrics_address` until shutdown.
pub async fn serve(gw: Arc<Gateway>, listener: tokio::net::TcpListener) {
    let mut shutdown = gw.shutdown_signal();
    let app = router(gw);
    let stop = async move { crate::gateway::stopped(&mut shutdown).await };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!("metrics listener failed: {e}");
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

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(quoted("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}

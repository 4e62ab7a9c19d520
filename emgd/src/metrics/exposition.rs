//! Prometheus metrics (`/metrics`, text exposition format 0.0.4) and `/health`.
//!
//! Connector state, queue depth and message totals are read from the connectors when scraped;
//! latencies come from the registry in [`super`].

use super::{global, Family, Histogram};
use crate::connector::runtime::state::{ConnState, ConnectorHandle};
use crate::gateway::Gateway;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
    let connectors = gw.connectors();
    let c = |name: &str| labels(&["connector"], &[name.to_string()]);

    head(
        &mut out,
        "emg_connector_instances",
        "gauge",
        "Instances of a connector in each state.",
    );
    for h in &connectors {
        let states = h.shown_states();
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
            (|h: &ConnectorHandle| &h.counters.received) as fn(&ConnectorHandle) -> &AtomicU64,
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
        "emg_store_commit_failures_total",
        "counter",
        "Store transactions that failed and were rolled back (disk full, read-only, I/O error).",
    );
    let _ = writeln!(
        out,
        "emg_store_commit_failures_total {}",
        m.store_commit_failures.load(Ordering::Relaxed)
    );
    let (taken, resent) = m.takeovers();
    head(
        &mut out,
        "emg_takeover_taken_total",
        "counter",
        "Queued messages this node took over from nodes whose lease ran out (shared store).",
    );
    let _ = writeln!(out, "emg_takeover_taken_total {taken}");
    head(
        &mut out,
        "emg_takeover_resent_total",
        "counter",
        "Of those, messages the dead node was submitting, sent again (they may arrive twice).",
    );
    let _ = writeln!(out, "emg_takeover_resent_total {resent}");
    head(
        &mut out,
        "emg_node_lease_lapses_total",
        "counter",
        "Times this node's lease lapsed: it stopped sending and accepting until it renewed it.",
    );
    let _ = writeln!(out, "emg_node_lease_lapses_total {}", m.lease_lapses());
    head(
        &mut out,
        "emg_store_healthy",
        "gauge",
        "1 while the store commits, 0 from a failed commit until one succeeds again.",
    );
    let _ = writeln!(
        out,
        "emg_store_healthy {}",
        u8::from(m.store_failing().is_none())
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
        "emg_charged_total",
        "counter",
        "Amount charged to balance-controlled accounts for accepted messages, in the price table's currency, by account.",
    );
    for (values, n) in m.charged_micros.snapshot() {
        let micros = i64::try_from(n.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        let amount = crate::store::accounts::from_micros(micros);
        let _ = writeln!(
            out,
            "emg_charged_total{{{}}} {amount}",
            labels(&["account"], &values)
        );
    }
    counters(
        &mut out,
        "emg_balance_refusals_total",
        "Messages refused because the account's balance did not cover the price, by account.",
        &["account"],
        &m.balance_refusals,
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

/// `GET /health`: 200 while the store commits and answers, 503 (with the reason) while its
/// commits fail, when it does not answer, or during shutdown.
pub async fn health(State(gw): State<Arc<Gateway>>) -> (StatusCode, String) {
    match gw.health().await {
        Ok(()) => (StatusCode::OK, "OK\n".into()),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why),
    }
}

/// The `/metrics` and `/health` routes.
pub fn router(gw: Arc<Gateway>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .route("/health", axum::routing::get(health))
        .with_state(gw)
}

/// Serve `/metrics` and `/health` on `metrics_address` until shutdown: over HTTPS with
/// `metrics_tls_cert`/`metrics_tls_key` (read again after each reload).
pub async fn serve(gw: Arc<Gateway>, listener: tokio::net::TcpListener) {
    let mut shutdown = gw.shutdown_signal();
    let listener = MetricsListener {
        listener,
        gw: gw.clone(),
        tls: crate::tls::Reloading::new("metrics listener"),
    };
    let app = router(gw);
    let stop = async move { crate::gateway::stopped(&mut shutdown).await };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!("metrics listener failed: {e}");
    }
}

/// The metrics socket, each connection plain or TLS as the configuration in force says.
struct MetricsListener {
    listener: tokio::net::TcpListener,
    gw: Arc<Gateway>,
    tls: crate::tls::Reloading<config::Config>,
}

impl axum::serve::Listener for MetricsListener {
    type Io = crate::tls::ServerStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.listener.accept().await {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("metrics listener: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let acceptor = self.tls.acceptor(self.gw.config(), |c| {
                crate::tls::listener_acceptor(c.general.metrics_tls.as_ref())
            });
            let Ok(acceptor) = acceptor else { continue };
            let label = format!("metrics listener: {addr}");
            return (crate::tls::ServerStream::new(stream, acceptor, label), addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(quoted("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}

//! emgd's own view of a run, from its Prometheus `/metrics` endpoint: how many store
//! transactions (group commits) the messages took, how many callers' batches each carried, and
//! how long they lasted. The benchmark reads it before and after the load and reports the
//! difference.

use crate::httpload::parse_message;
use anyhow::{anyhow, bail, Context};
use bytes::BytesMut;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The store counters at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreMetrics {
    /// Transactions committed.
    pub commits: f64,
    /// Seconds spent in them.
    pub seconds: f64,
    /// Callers' batches they carried.
    pub batches: f64,
    /// Cumulative histogram: (upper bound in seconds, transactions at most that long).
    pub buckets: Vec<(f64, f64)>,
    /// Rows purged after their retention: messages, routelog.
    pub purged: (f64, f64),
    /// Messages queued now, every connector (`emg_queue_total`).
    pub queued: f64,
}

impl StoreMetrics {
    /// What happened between `before` and `self`, as a short note.
    pub fn since(&self, before: &StoreMetrics, messages: usize) -> String {
        let commits = self.commits - before.commits;
        if commits <= 0.0 {
            return "store: no commits seen".into();
        }
        let batches = self.batches - before.batches;
        let mean_ms = (self.seconds - before.seconds) / commits * 1e3;
        let deltas: Vec<(f64, f64)> = self
            .buckets
            .iter()
            .map(|&(le, n)| {
                let was = before
                    .buckets
                    .iter()
                    .find(|(l, _)| *l == le)
                    .map_or(0.0, |b| b.1);
                (le, n - was)
            })
            .collect();
        let at_most = |q: f64| {
            deltas
                .iter()
                .find(|(_, n)| *n >= q * commits)
                .map_or("more".into(), |(le, _)| format!("{}", le * 1e3))
        };
        format!(
            "store: {commits:.0} commits ({:.2} per message, {:.1} batches each), mean {mean_ms:.2} ms, p50 <= {} ms, p99 <= {} ms",
            commits / messages.max(1) as f64,
            batches / commits,
            at_most(0.5),
            at_most(0.99)
        )
    }
}

/// GET `path` from 127.0.0.1:`port`; the body.
fn get(port: u16, path: &str) -> anyhow::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).context("connect to /metrics")?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let mut buf = BytesMut::from(&raw[..]);
    let m = parse_message(&mut buf)?.ok_or_else(|| anyhow!("incomplete answer from {path}"))?;
    if !m.start.contains(" 200") {
        bail!("{path}: {}", m.start);
    }
    Ok(String::from_utf8_lossy(&m.body).into_owned())
}

/// Read the store series from emgd's metrics endpoint on `port`.
pub fn store(port: u16) -> anyhow::Result<StoreMetrics> {
    let text = get(port, "/metrics")?;
    let mut m = StoreMetrics::default();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        if let Some(le) = name
            .strip_prefix("emg_store_commit_seconds_bucket{le=\"")
            .and_then(|r| r.strip_suffix("\"}"))
        {
            if let Ok(le) = le.parse::<f64>() {
                m.buckets.push((le, v));
            }
            continue;
        }
        match name {
            "emg_store_commit_seconds_count" => m.commits = v,
            "emg_store_commit_seconds_sum" => m.seconds = v,
            "emg_store_commit_batches_total" => m.batches = v,
            "emg_store_purged_total{table=\"messages\"}" => m.purged.0 = v,
            "emg_store_purged_total{table=\"routelog\"}" => m.purged.1 = v,
            "emg_queue_total" => m.queued = v,
            _ => {}
        }
    }
    if m.buckets.is_empty() {
        bail!("no emg_store_commit_seconds in /metrics");
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_of_two_readings() {
        let before = StoreMetrics {
            commits: 10.0,
            seconds: 0.01,
            batches: 20.0,
            buckets: vec![(0.001, 5.0), (0.01, 10.0)],
            ..Default::default()
        };
        let after = StoreMetrics {
            commits: 110.0,
            seconds: 0.21,
            batches: 820.0,
            buckets: vec![(0.001, 55.0), (0.01, 110.0)],
            ..Default::default()
        };
        assert_eq!(
            after.since(&before, 400),
            "store: 100 commits (0.25 per message, 8.0 batches each), mean 2.00 ms, p50 <= 1 ms, p99 <= 10 ms"
        );
    }
}

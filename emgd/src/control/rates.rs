//! Message rates per connector: the counters sampled each second, rates over the last 10 s.

use crate::gateway::{stopped, Gateway};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The window rates are computed over.
pub const WINDOW: Duration = Duration::from_secs(10);

#[derive(Clone, Copy)]
struct Sample {
    at: Instant,
    counts: [u64; 3],
}

/// Per connector, the samples of the last [`WINDOW`].
#[derive(Default)]
pub struct Rates {
    samples: Mutex<HashMap<String, VecDeque<Sample>>>,
}

impl Rates {
    /// Start sampling every connector's counters once a second until shutdown.
    pub fn start(gw: Arc<Gateway>) -> Arc<Rates> {
        let rates = Arc::new(Rates::default());
        let r = rates.clone();
        tokio::spawn(async move {
            let mut shutdown = gw.shutdown_signal();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tick.tick() => r.sample(&gw),
                    _ = stopped(&mut shutdown) => return,
                }
            }
        });
        rates
    }

    fn sample(&self, gw: &Gateway) {
        let now = Instant::now();
        let mut map = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        for c in gw.connectors() {
            let q = map.entry(c.name.clone()).or_default();
            q.push_back(Sample {
                at: now,
                counts: counts(&c),
            });
            while q.front().is_some_and(|s| now - s.at > WINDOW) {
                q.pop_front();
            }
        }
    }

    /// Sent, received and failed per second for connector `name` whose counters are `now`.
    pub fn rates(&self, name: &str, now: [u64; 3]) -> [f64; 3] {
        let map = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let Some(oldest) = map.get(name).and_then(|q| q.front()) else {
            return [0.0; 3];
        };
        let secs = oldest.at.elapsed().as_secs_f64();
        if secs < 0.5 {
            return [0.0; 3];
        }
        let mut out = [0.0; 3];
        for i in 0..3 {
            let d = now[i].saturating_sub(oldest.counts[i]) as f64 / secs;
            out[i] = (d * 10.0).round() / 10.0;
        }
        out
    }
}

/// A connector's sent, received and failed counters.
pub fn counts(c: &crate::connector::runtime::state::ConnectorHandle) -> [u64; 3] {
    [
        c.counters.sent.load(Ordering::Relaxed),
        c.counters.received.load(Ordering::Relaxed),
        c.counters.failed.load(Ordering::Relaxed),
    ]
}

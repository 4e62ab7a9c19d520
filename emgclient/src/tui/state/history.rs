//! Throughput and queue depth over the last minutes, kept client-side from `watch`'s
//! once-a-second counters (emgd keeps no history to ask for).

use common::mgp::ConnectorInfo;
use std::collections::{HashMap, VecDeque};

/// Samples kept per series: ten minutes at one per second.
pub const HISTORY_LEN: usize = 600;

/// One connector's samples, oldest first. Rates are kept in tenths of a message per second.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub sent: VecDeque<u64>,
    pub received: VecDeque<u64>,
    pub queued: VecDeque<u64>,
}

impl Series {
    fn push(&mut self, sent: f64, received: f64, queued: usize) {
        for (q, v) in [
            (&mut self.sent, (sent * 10.0).round() as u64),
            (&mut self.received, (received * 10.0).round() as u64),
            (&mut self.queued, queued as u64),
        ] {
            q.push_back(v);
            while q.len() > HISTORY_LEN {
                q.pop_front();
            }
        }
    }

    pub fn len(&self) -> usize {
        self.sent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
    }
}

/// Per connector and for the whole node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub connectors: HashMap<String, Series>,
    pub total: Series,
}

impl History {
    /// One `counters` event. Connectors no longer listed are forgotten.
    pub fn push(&mut self, list: &[ConnectorInfo]) {
        let (mut sent, mut received, mut queued) = (0.0, 0.0, 0);
        for c in list {
            self.connectors.entry(c.name.clone()).or_default().push(
                c.rate_sent,
                c.rate_received,
                c.queued,
            );
            sent += c.rate_sent;
            received += c.rate_received;
            queued += c.queued;
        }
        self.connectors
            .retain(|name, _| list.iter().any(|c| &c.name == name));
        self.total.push(sent, received, queued);
    }
}

/// The last `n` samples of a series, for a sparkline `n` cells wide.
pub fn tail(q: &VecDeque<u64>, n: usize) -> Vec<u64> {
    q.iter().skip(q.len().saturating_sub(n)).copied().collect()
}

//! Limits on what comes in: the server-wide `maxtotalqueuesize` (and its soft limit, which
//! slows senders down), a connector's `maxqueuesize`, and each user's `throughput`.

use super::reject::Reject;
use crate::connector::runtime::state::ConnectorHandle;
use crate::queue::Totals;
use crate::rate::RateLimiter;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Per-user `throughput` limits, made on first use and dropped on reload.
#[derive(Debug, Default)]
pub struct UserLimits {
    by_user: Mutex<HashMap<String, Arc<RateLimiter>>>,
}

impl UserLimits {
    /// Whether `user`'s `throughput` lets one more message in now (always, without a limit).
    /// A burst of a tenth of a second's worth is allowed, so windowed clients are not refused
    /// for sending a few submits back to back.
    pub fn allows(&self, cfg: &config::Config, user: &str) -> bool {
        let Some(rate) = cfg.users.get(user).and_then(|u| u.throughput) else {
            return true;
        };
        let limiter = self
            .by_user
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(user.to_string())
            .or_insert_with(|| {
                let burst = (rate / 10.0).ceil().max(1.0) as u32;
                Arc::new(RateLimiter::new(rate, burst))
            })
            .clone();
        limiter.try_take(Instant::now())
    }

    /// Forget every limiter (a reload may have changed the rates).
    pub fn clear(&self) {
        self.by_user
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// Whether one more message may be queued for `target` now. Past the soft limit it may, after
/// EMG's 0.1 s delay per message.
pub async fn check_queue_limits(
    cfg: &config::Config,
    totals: &Totals,
    target: &ConnectorHandle,
) -> Result<(), Reject> {
    let total = totals.get() as u64;
    if let Some(max) = cfg.general.maxtotalqueuesize {
        if total >= max {
            return Err(Reject::QueueFull(format!(
                "{total} messages queued, maxtotalqueuesize is {max}"
            )));
        }
    }
    if let Some(max) = target.config().maxqueuesize {
        let len = target.queue.len() as u64;
        if len >= max {
            return Err(Reject::QueueFull(format!(
                "connector {} has {len} messages queued, its maxqueuesize is {max}",
                target.name
            )));
        }
    }
    if let Some(soft) = cfg.general.maxtotalqueuesize_soft {
        if total >= soft {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

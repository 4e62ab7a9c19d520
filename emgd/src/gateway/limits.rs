//! Limits on what comes in: the server-wide `maxtotalqueuesize` (and its soft limit, which
//! slows senders down), a connector's `maxqueuesize`, and each user's `throughput`.

use super::reject::Reject;
use crate::connector::runtime::state::ConnectorHandle;
use crate::queue::{Full, Reserved, Totals};
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

/// A place on `target`'s queue for one more message, taken at once so that concurrent
/// accepts cannot pass `maxqueuesize` or `maxtotalqueuesize` together (`exempt`: the
/// receiving connector has `ignoremaxtotalqueuesize`). Past the soft limit it comes after
/// EMG's 0.1 s delay per message. Dropping it gives the place back.
pub async fn reserve_place(
    cfg: &config::Config,
    totals: &Totals,
    target: &ConnectorHandle,
    exempt: bool,
) -> Result<Reserved, Reject> {
    let total_max = cfg.general.maxtotalqueuesize.filter(|_| !exempt);
    let max = target.config().maxqueuesize.filter(|_| !exempt);
    let reserved = target.queue.reserve(max, total_max).map_err(|full| {
        Reject::QueueFull(match full {
            Full::Total(total) => format!(
                "{total} messages queued, maxtotalqueuesize is {}",
                total_max.unwrap_or_default()
            ),
            Full::Connector(len) => format!(
                "connector {} has {len} messages queued, its maxqueuesize is {}",
                target.name,
                max.unwrap_or_default()
            ),
        })
    })?;
    if let Some(soft) = cfg.general.maxtotalqueuesize_soft.filter(|_| !exempt) {
        // The total counts this message's place already.
        if totals.get() as u64 > soft {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(reserved)
}

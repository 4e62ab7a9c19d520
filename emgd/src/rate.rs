//! Throughput limits (`throughput` on connectors and users), as a GCRA: one "theoretical
//! arrival time" per limit, no timers and no background task.
//!
//! Users are limited by refusal (the sender gets ESME_RTHROTTLED and retries); connectors by
//! pacing (the session waits before it sends the next message).

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    /// How far ahead of schedule a caller may be: the allowed burst.
    tolerance: Duration,
    tat: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// `per_second` messages a second, allowing a burst of `burst` messages at once.
    pub fn new(per_second: f64, burst: u32) -> RateLimiter {
        let interval = Duration::from_secs_f64(1.0 / per_second.max(1e-6));
        RateLimiter {
            interval,
            tolerance: interval * burst.saturating_sub(1),
            tat: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.tat.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take a slot now if the limit allows it.
    pub fn try_take(&self, now: Instant) -> bool {
        let mut tat = self.lock();
        let t = tat.map_or(now, |t| t.max(now));
        if t.saturating_duration_since(now) > self.tolerance {
            return false;
        }
        *tat = Some(t + self.interval);
        true
    }

    /// How long until `try_take` would succeed, without taking anything.
    pub fn wait_time(&self, now: Instant) -> Duration {
        let t = self.lock().map_or(now, |t| t.max(now));
        t.saturating_duration_since(now)
            .saturating_sub(self.tolerance)
    }

    /// Reserve the next slot; returns how long to wait before using it.
    pub fn reserve(&self, now: Instant) -> Duration {
        let mut tat = self.lock();
        let t = tat.map_or(now, |t| t.max(now));
        *tat = Some(t + self.interval);
        t.saturating_duration_since(now)
            .saturating_sub(self.tolerance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_above_the_rate_and_recovers() {
        let l = RateLimiter::new(10.0, 2);
        let t0 = Instant::now();
        assert!(l.try_take(t0));
        assert!(l.try_take(t0), "burst of two");
        assert!(!l.try_take(t0));
        assert!(!l.try_take(t0 + Duration::from_millis(50)));
        assert!(l.try_take(t0 + Duration::from_millis(110)));
        // Over a long stretch, exactly the rate gets through.
        let l = RateLimiter::new(100.0, 1);
        let ok = (0..10_000)
            .filter(|i| l.try_take(t0 + Duration::from_micros(i * 1000)))
            .count();
        assert_eq!(ok, 1000, "100/s over 10 s of attempts every millisecond");
    }

    #[test]
    fn pacing_spaces_messages_evenly() {
        let l = RateLimiter::new(20.0, 1);
        let t0 = Instant::now();
        let waits: Vec<Duration> = (0..4).map(|_| l.reserve(t0)).collect();
        assert_eq!(waits, [0, 50, 100, 150].map(Duration::from_millis));
        assert_eq!(l.wait_time(t0), Duration::from_millis(200));
        assert!(!l.try_take(t0));
        assert!(l.try_take(t0 + Duration::from_millis(200)));
    }
}

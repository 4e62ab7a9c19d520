//! SMPP 5.0 `congestion_state` (0-100, §4.8.4.17): an SMSC tells in its responses how loaded
//! it is, and an outgoing session slows down while it is congested.
//!
//! The rule (documented under `windowsize` in emg.toml(5)):
//! - below [`THROTTLE_FROM`] (80): no change;
//! - 80-89: new submits are spaced (`congestion_state` − 79) × 10 ms apart, 10 ms at 80 to
//!   100 ms at 89, so at most 100 to 10 per second on the session;
//! - [`PAUSE_FROM`] (90) and above: no new submit for [`PAUSE`] (1 s) after the response that
//!   said so, then one every 100 ms until a response says less.
//!
//! Each response that carries the parameter sets the state; a response without it (the
//! SMSC is no longer congested, or never says) sets it back to 0, so sending recovers with
//! the first such answer. A pause, once begun, runs its full second: the answers to submits
//! already in the window when it began do not cut it short.

use std::time::Duration;
use tokio::time::Instant;

pub const THROTTLE_FROM: u8 = 80;
pub const PAUSE_FROM: u8 = 90;
pub const PAUSE: Duration = Duration::from_secs(1);

/// How congested the SMSC last said it was, and when the next submit may go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Congestion {
    state: u8,
    next_at: Option<Instant>,
}

impl Congestion {
    /// A response came with `state` (`None`: without the parameter). Returns the new state
    /// when it crossed a threshold, for the log.
    pub fn answered(&mut self, state: Option<u8>, now: Instant) -> Option<u8> {
        let new = state.unwrap_or(0).min(100);
        let band = |s: u8| u8::from(s >= THROTTLE_FROM) + u8::from(s >= PAUSE_FROM);
        let changed = band(new) != band(self.state);
        self.state = new;
        if new >= PAUSE_FROM {
            self.next_at = Some(now + PAUSE);
        }
        changed.then_some(new)
    }

    /// A submit was written now: the next waits out the spacing the state asks for.
    pub fn sent(&mut self, now: Instant) {
        let spacing = self.spacing();
        if !spacing.is_zero() {
            let after = now + spacing;
            self.next_at = Some(self.next_at.map_or(after, |t| t.max(after)));
        }
    }

    /// How long the next submit must still wait (zero: it may go now).
    pub fn wait(&self, now: Instant) -> Duration {
        self.next_at
            .map_or(Duration::ZERO, |t| t.saturating_duration_since(now))
    }

    fn spacing(&self) -> Duration {
        match self.state {
            s if s >= PAUSE_FROM => Duration::from_millis(100),
            s if s >= THROTTLE_FROM => Duration::from_millis(u64::from(s - 79) * 10),
            _ => Duration::ZERO,
        }
    }
}

/// What the log says when the state crosses a threshold.
pub fn log_line(state: u8) -> String {
    let what = match state {
        s if s >= PAUSE_FROM => format!("new submits paused {} s", PAUSE.as_secs()),
        s if s >= THROTTLE_FROM => format!("submits spaced {} ms", u64::from(s - 79) * 10),
        _ => "sending at full speed again".to_string(),
    };
    format!("CONGESTION (info=\"congestion_state {state}: {what}\")")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_throttles_pauses_and_recovers() {
        let t = Instant::now();
        let mut c = Congestion::default();
        assert_eq!(c.answered(Some(50), t), None, "below 80: nothing changes");
        c.sent(t);
        assert!(c.wait(t).is_zero());
        assert_eq!(c.answered(Some(85), t), Some(85));
        c.sent(t);
        assert_eq!(c.wait(t), Duration::from_millis(60));
        assert_eq!(c.answered(Some(95), t), Some(95));
        assert_eq!(c.wait(t), PAUSE);
        assert_eq!(
            c.answered(None, t),
            Some(0),
            "an answer without it: recovered"
        );
        assert_eq!(c.wait(t), PAUSE, "after the pause");
        let later = t + PAUSE;
        assert!(c.wait(later).is_zero());
        c.sent(later);
        assert!(c.wait(later).is_zero(), "full speed");
    }
}

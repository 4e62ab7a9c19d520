//! A session's deadlines ([`Due`]: keepalive, its answer, idle timeout, response timeout,
//! polling, closing) and the one timer that wakes it for the first of them ([`Timer`]).

use std::time::Duration;
use tokio::time::Instant;

/// Deadlines are rounded up to this, so the session's one timer is reset a few times a second
/// at most rather than at every wake-up (a window's oldest request changes with each answer).
const TICK: Duration = Duration::from_millis(250);

/// When the session must act without a frame coming in, as of this wake-up.
pub(super) struct Due {
    /// Send the keepalive request (no frame for `keepalive` seconds).
    pub(super) keepalive_at: Option<Instant>,
    /// The keepalive request in flight must be answered by then.
    pub(super) keepalive_deadline: Option<Instant>,
    /// Close: no message traffic for `idletimeout` seconds.
    pub(super) idle_at: Option<Instant>,
    /// The oldest request waiting must be answered by then (the login, by `LOGIN_TIMEOUT`).
    pub(super) answer_by: Option<Instant>,
    /// Send the driver's polling request.
    pub(super) poll_at: Option<Instant>,
    /// Closing gives up waiting for answers then.
    pub(super) closing_at: Option<Instant>,
    /// Incoming: the peer has not logged in by then (`bind_timeout`).
    pub(super) login_by: Option<Instant>,
    /// The frame begun must be whole by then (`frame_timeout`).
    pub(super) frame_by: Option<Instant>,
}

impl Due {
    pub(super) fn next(&self) -> Option<Instant> {
        [
            self.keepalive_at,
            self.keepalive_deadline,
            self.idle_at,
            self.answer_by,
            self.poll_at,
            self.closing_at,
            self.login_by,
            self.frame_by,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// The session's one timer, for whichever deadline comes first.
pub(super) struct Timer {
    pub(super) sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    /// What it is set to; `None` while no deadline is pending.
    at: Option<Instant>,
    /// When it last went off (it stays ready until set again).
    fired: Option<Instant>,
    epoch: Instant,
}

impl Timer {
    pub(super) fn new() -> Timer {
        let epoch = Instant::now();
        Timer {
            sleep: Box::pin(tokio::time::sleep_until(epoch)),
            at: None,
            fired: None,
            epoch,
        }
    }

    /// Set the timer for `wake` (rounded up to a [`TICK`]); false when there is nothing to
    /// wait for.
    pub(super) fn arm(&mut self, wake: Option<Instant>) -> bool {
        let Some(wake) = wake else {
            self.at = None;
            return false;
        };
        let ticks = wake
            .saturating_duration_since(self.epoch)
            .as_nanos()
            .div_ceil(TICK.as_nanos()) as u32;
        let mut at = self.epoch + TICK * ticks;
        // A deadline that has passed and still stands (nothing could be done about it, such
        // as a keepalive with no sequence number free) is looked at again a tick later.
        if let Some(fired) = self.fired.filter(|f| at <= *f) {
            at = fired + TICK;
        }
        if self.at != Some(at) {
            self.sleep.as_mut().reset(at);
            self.at = Some(at);
        }
        true
    }

    pub(super) fn fired(&mut self) {
        self.fired = self.at;
    }
}

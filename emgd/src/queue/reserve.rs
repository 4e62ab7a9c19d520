//! Places held in a queue for messages being accepted. A message's commit takes a while
//! (group commit), and many are accepted at once; checking `maxqueuesize` and
//! `maxtotalqueuesize` against what is queued before the commit let a window of concurrent
//! submits through together. So a place is taken atomically at the check ([`Queue::reserve`]):
//! it counts in [`Queue::len`] and the server-wide total like a queued message from then on,
//! becomes the message's own when it is queued ([`Queue::push_reserved`]), and is given back
//! when dropped (the commit failed, or the message was refused or held elsewhere).

use super::{Queue, Totals};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Which limit a reservation ran into, and the count it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// `maxtotalqueuesize`: messages queued server-wide.
    Total(u64),
    /// The connector's `maxqueuesize`: messages on its queue.
    Connector(u64),
}

/// One place in a queue (and in the server-wide total), given back when dropped unless a
/// message took it.
#[must_use]
pub struct Reserved {
    queue: Arc<Queue>,
    held: bool,
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if self.held {
            self.queue.uncount(1);
        }
    }
}

/// Add one to `counter` unless it is at `max` already (no max: always); the count found.
fn take_one(counter: &AtomicUsize, max: Option<u64>) -> Result<(), u64> {
    let Some(max) = max else {
        counter.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    };
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            ((n as u64) < max).then_some(n + 1)
        })
        .map(|_| ())
        .map_err(|n| n as u64)
}

impl Totals {
    fn reserve(&self, max: Option<u64>) -> Result<(), u64> {
        take_one(&self.queued, max)
    }
}

impl Queue {
    /// Take a place for one more message, unless that would pass `max` on this queue or
    /// `total_max` server-wide.
    pub fn reserve(
        self: &Arc<Self>,
        max: Option<u64>,
        total_max: Option<u64>,
    ) -> Result<Reserved, Full> {
        self.totals.reserve(total_max).map_err(Full::Total)?;
        if let Err(n) = take_one(&self.size, max) {
            self.totals.queued.fetch_sub(1, Ordering::Relaxed);
            return Err(Full::Connector(n));
        }
        Ok(Reserved {
            queue: self.clone(),
            held: true,
        })
    }

    /// Queue a newly committed message in the place `reserved` holds for it (as
    /// [`Queue::push_or_schedule`], without counting it again).
    pub fn push_reserved(self: &Arc<Self>, message: common::message::Message, reserved: Reserved) {
        let mut reserved = reserved;
        reserved.held = false;
        self.place_or_schedule(message);
    }
}

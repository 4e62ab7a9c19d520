//! In-memory view of each connector's durable queue.
//!
//! The store is the truth; this is what sessions take work from. A message enters here only
//! after its enqueue has committed, and leaves the count only once its outcome is recorded, so
//! the sizes the limits check include messages in flight.

use crate::gateway::PartsKey;
use common::message::Message;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long a part of a long message waits for the part before it before going anyway.
pub const PART_ORDER_WAIT: Duration = Duration::from_secs(2);

/// Which session sends a long message's parts, and how far it got.
#[derive(Debug, Clone, Copy)]
struct Affinity {
    owner: u32,
    last_seq: u8,
    until: Instant,
}

/// Server-wide count of queued and in-flight messages, for MAXTOTALQUEUESIZE.
#[derive(Debug, Default)]
pub struct Totals {
    queued: AtomicUsize,
}

impl Totals {
    pub fn get(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }
}

/// One connector's queue.
#[derive(Debug)]
pub struct Queue {
    waiting: Mutex<VecDeque<Message>>,
    /// Waiting plus in flight.
    size: AtomicUsize,
    notify: Notify,
    totals: Arc<Totals>,
    /// No waiting message expires before this (Unix µs; `i64::MAX` when none has a validity),
    /// so the expiry sweep looks at a long queue only when something is due.
    earliest_expiry: AtomicI64,
    /// Long messages sent part by part: the session that took the first part takes the rest,
    /// in order, until the deadline (CMR within a connector).
    affinity: Mutex<HashMap<PartsKey, Affinity>>,
}

impl Queue {
    pub fn new(totals: Arc<Totals>) -> Queue {
        Queue {
            waiting: Mutex::new(VecDeque::new()),
            size: AtomicUsize::new(0),
            notify: Notify::new(),
            totals,
            earliest_expiry: AtomicI64::new(i64::MAX),
            affinity: Mutex::new(HashMap::new()),
        }
    }

    /// Messages waiting or in flight.
    pub fn len(&self) -> usize {
        self.size.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Messages waiting to be taken.
    pub fn waiting(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Message>> {
        // A panic while holding this lock cannot leave the deque half-changed.
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add a newly committed message.
    pub fn push(&self, message: Message) {
        self.size.fetch_add(1, Ordering::Relaxed);
        self.totals.queued.fetch_add(1, Ordering::Relaxed);
        {
            // Under the lock, so a concurrent sweep cannot overwrite the earliest expiry.
            let mut q = self.lock();
            self.note_expiry(&message);
            q.push_back(message);
        }
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Put a taken message back at the head (a session closed before sending it, or a retry).
    /// It was already counted.
    pub fn put_back(&self, message: Message) {
        let mut q = self.lock();
        self.note_expiry(&message);
        q.push_front(message);
        drop(q);
        self.notify.notify_one();
    }

    /// Take the first message this session may send: one addressed to no user in particular,
    /// or to `user`.
    pub fn take_for(&self, user: Option<&str>) -> Option<Message> {
        let mut q = self.lock();
        let pos = q
            .iter()
            .position(|m| m.target_user.is_none() || m.target_user.as_deref() == user)?;
        q.remove(pos)
    }

    /// Take the first message session `instance` may send. The parts of a long message go
    /// to the session that took its first part, in sequence order: a part waits for the one
    /// before it (parts are stored concurrently, so they can reach the queue out of order),
    /// unless it has waited [`PART_ORDER_WAIT`] already (that part may never come).
    pub fn take_on(&self, instance: u32, ttl: Duration) -> Option<Message> {
        let mut q = self.lock();
        let mut affinity = self.affinity.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let overdue = crate::clock::now_us() - PART_ORDER_WAIT.as_micros() as i64;
        let pos = q.iter().position(|m| {
            if m.target_user.is_some() {
                return false;
            }
            let (Some(k), Some(c)) = (PartsKey::of(m), m.concat()) else {
                return true;
            };
            let entry = affinity.get(&k).filter(|a| a.until > now);
            if entry.is_some_and(|a| a.owner != instance) {
                return false;
            }
            let expected = entry.map_or(1, |a| a.last_seq.saturating_add(1));
            c.seq <= expected || m.received_us <= overdue
        })?;
        let m = q.remove(pos)?;
        if let (Some(k), Some(c)) = (PartsKey::of(&m), m.concat()) {
            if affinity.len() >= 1024 {
                affinity.retain(|_, a| a.until > now);
            }
            let last_seq = affinity
                .get(&k)
                .filter(|a| a.until > now)
                .map_or(c.seq, |a| a.last_seq.max(c.seq));
            affinity.insert(
                k,
                Affinity {
                    owner: instance,
                    last_seq,
                    until: now + ttl,
                },
            );
        }
        Some(m)
    }

    /// Wait until session `instance` may take a message (see [`take_on`](Self::take_on)).
    pub async fn next_on(&self, instance: u32, ttl: Duration) -> Message {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(m) = self.take_on(instance, ttl) {
                return m;
            }
            // A part held back for order may become due without anything being pushed.
            let _ = tokio::time::timeout(PART_ORDER_WAIT / 4, notified).await;
        }
    }

    /// Wait until a message is available for `user`, then take it.
    pub async fn next_for(&self, user: Option<&str>) -> Message {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(m) = self.take_for(user) {
                return m;
            }
            notified.await;
        }
    }

    fn note_expiry(&self, message: &Message) {
        if let Some(t) = message.expires_us {
            self.earliest_expiry.fetch_min(t, Ordering::Relaxed);
        }
    }

    /// Take the waiting messages whose validity ended by `now`. They still count, as taken
    /// messages do, until [`finished`](Self::finished).
    pub fn take_expired(&self, now: i64) -> Vec<Message> {
        if now < self.earliest_expiry.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let mut q = self.lock();
        let mut expired = Vec::new();
        let mut kept = VecDeque::with_capacity(q.len());
        let mut earliest = i64::MAX;
        for m in q.drain(..) {
            match m.expires_us {
                Some(t) if t <= now => expired.push(m),
                Some(t) => {
                    earliest = earliest.min(t);
                    kept.push_back(m);
                }
                None => kept.push_back(m),
            }
        }
        *q = kept;
        self.earliest_expiry.store(earliest, Ordering::Relaxed);
        expired
    }

    /// A taken message's outcome has been recorded: it no longer counts.
    pub fn finished(&self) {
        self.size.fetch_sub(1, Ordering::Relaxed);
        self.totals.queued.fetch_sub(1, Ordering::Relaxed);
    }

    /// Remove every waiting message (for queue move and clear). They stop counting here.
    pub fn drain(&self) -> Vec<Message> {
        let taken: Vec<Message> = self.lock().drain(..).collect();
        self.size.fetch_sub(taken.len(), Ordering::Relaxed);
        self.totals.queued.fetch_sub(taken.len(), Ordering::Relaxed);
        taken
    }

    /// Remove the waiting messages `keep_out` selects, in queue order (for queue move with a
    /// filter, and cancel). They stop counting here.
    pub fn take_where(&self, mut keep_out: impl FnMut(&Message) -> bool) -> Vec<Message> {
        let mut q = self.lock();
        let mut taken = Vec::new();
        let mut kept = VecDeque::with_capacity(q.len());
        for m in q.drain(..) {
            if keep_out(&m) {
                taken.push(m);
            } else {
                kept.push_back(m);
            }
        }
        *q = kept;
        drop(q);
        self.size.fetch_sub(taken.len(), Ordering::Relaxed);
        self.totals.queued.fetch_sub(taken.len(), Ordering::Relaxed);
        taken
    }

    /// Copies of the first `n` waiting messages (for queue list).
    pub fn peek(&self, n: usize) -> Vec<Message> {
        self.lock().iter().take(n).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: u64, user: Option<&str>) -> Message {
        Message {
            id,
            target_user: user.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn sessions_only_take_their_users_messages() {
        let totals = Arc::new(Totals::default());
        let q = Queue::new(totals.clone());
        q.push(msg(1, Some("alice")));
        q.push(msg(2, Some("bob")));
        q.push(msg(3, None));
        assert_eq!(q.take_for(Some("bob")).unwrap().id, 2);
        assert_eq!(q.take_for(Some("bob")).unwrap().id, 3);
        assert!(q.take_for(Some("bob")).is_none());
        assert_eq!(q.len(), 3, "taken messages count until finished");
        q.finished();
        q.finished();
        assert_eq!(q.len(), 1);
        assert_eq!(totals.get(), 1);
        assert_eq!(q.drain().len(), 1);
        assert_eq!(totals.get(), 0);
    }

    #[tokio::test]
    async fn next_for_wakes_on_push() {
        let q = Arc::new(Queue::new(Arc::new(Totals::default())));
        let waiter = {
            let q = q.clone();
            tokio::spawn(async move { q.next_for(None).await.id })
        };
        tokio::task::yield_now().await;
        q.push(msg(9, None));
        assert_eq!(waiter.await.unwrap(), 9);
    }
}

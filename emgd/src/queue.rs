//! In-memory view of each connector's durable queue.
//!
//! The store is the truth; this is what sessions take work from. A message enters here only
//! after its enqueue has committed, and leaves the count only once its outcome is recorded, so
//! the sizes the limits check include messages in flight.

use common::message::Message;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

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
}

impl Queue {
    pub fn new(totals: Arc<Totals>) -> Queue {
        Queue {
            waiting: Mutex::new(VecDeque::new()),
            size: AtomicUsize::new(0),
            notify: Notify::new(),
            totals,
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
        self.lock().push_back(message);
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Put a taken message back at the head (a session closed before sending it, or a retry).
    /// It was already counted.
    pub fn put_back(&self, message: Message) {
        self.lock().push_front(message);
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

//! In-memory view of each connector's durable queue.
//!
//! The store is the truth; this is what sessions take work from. A message enters here only
//! after its enqueue has committed, and leaves the count only once its outcome is recorded, so
//! the sizes the limits check include messages in flight (and the places reserved by messages
//! still being accepted, [`reserve`]).
//!
//! Only the head of a long queue is held in memory ([`LOADED_MAX`] messages); behind it the
//! queue keeps ids alone and loads the messages back from the store in batches as the head
//! drains. A million messages behind a held connector cost a few megabytes, not gigabytes.

mod parts;
mod reserve;

use crate::store::Store;
use common::message::{Message, MessageId};
use parts::Affinities;
pub use parts::PartsKey;
pub use reserve::{Full, Reserved};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Messages per queue held in memory ([`LOADED_MAX`]); the rest wait as ids (see the module
/// doc). The store decides it, since recovery loads as many.
pub use crate::store::{Spilled, LOADED_MAX};
/// Load more from the store when fewer than this many are in memory.
const REFILL_BELOW: usize = 2_500;
/// Messages loaded from the store at once.
const REFILL_BATCH: usize = 2_500;

/// What a store read of spilled messages gave.
type Loaded = Result<Vec<Message>, crate::store::StoreError>;

/// A batch of spilled messages being read from the store.
struct Fetch {
    ids: Vec<MessageId>,
    slot: Arc<Mutex<Option<Loaded>>>,
    done: Arc<Notify>,
}

/// The waiting messages, oldest first: those in memory, then those left in the store; and
/// those waiting out a retry's hold delay.
#[derive(Debug, Default)]
struct Waiting {
    loaded: VecDeque<Message>,
    spilled: VecDeque<Spilled>,
    /// Ids taken from `spilled` whose load is under way; new messages still go behind them.
    loading: usize,
    /// Held back until a retry's hold delay has passed ([`Queue::defer`]): still queued, so
    /// listed, moved, cleared, cancelled and expired like the others, but not taken.
    deferred: Vec<Message>,
}

impl Waiting {
    fn len(&self) -> usize {
        self.loaded.len() + self.spilled.len() + self.loading + self.deferred.len()
    }
}

/// How long a part of a long message waits for the part before it before going anyway.
pub const PART_ORDER_WAIT: Duration = Duration::from_secs(2);

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
pub struct Queue {
    waiting: Mutex<Waiting>,
    /// Waiting plus in flight.
    size: AtomicUsize,
    notify: Notify,
    totals: Arc<Totals>,
    /// No waiting message expires before this (Unix µs; `i64::MAX` when none has a validity),
    /// so the expiry sweep looks at a long queue only when something is due.
    earliest_expiry: AtomicI64,
    /// Long messages sent part by part: the session that took the first part takes the rest,
    /// in order, until the deadline (CMR within a connector).
    affinity: Mutex<Affinities>,
    /// Where spilled messages are loaded from; `None` keeps everything in memory.
    store: Option<Arc<dyn Store>>,
    /// Queue move and clear go through the spilled ids one at a time.
    refilling: tokio::sync::Mutex<()>,
    /// The store read under way for [`refill`](Self::refill), if any.
    fetch: Mutex<Option<Fetch>>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("size", &self.len())
            .field("waiting", &self.waiting())
            .finish()
    }
}

impl Queue {
    /// A queue that keeps every message in memory (tests, tools).
    pub fn new(totals: Arc<Totals>) -> Queue {
        Queue::with_store(totals, None)
    }

    /// A queue that leaves all but its first [`LOADED_MAX`] messages in `store`.
    pub fn with_store(totals: Arc<Totals>, store: Option<Arc<dyn Store>>) -> Queue {
        Queue {
            waiting: Mutex::new(Waiting::default()),
            size: AtomicUsize::new(0),
            notify: Notify::new(),
            totals,
            earliest_expiry: AtomicI64::new(i64::MAX),
            affinity: Mutex::new(Affinities::default()),
            store,
            refilling: tokio::sync::Mutex::new(()),
            fetch: Mutex::new(None),
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        // A panic while holding this lock cannot leave the deque half-changed.
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add a newly committed message.
    pub fn push(&self, message: Message) {
        self.size.fetch_add(1, Ordering::Relaxed);
        self.totals.queued.fetch_add(1, Ordering::Relaxed);
        self.place(message);
    }

    /// Put a counted message in line.
    fn place(&self, message: Message) {
        {
            // Under the lock, so a concurrent sweep cannot overwrite the earliest expiry.
            let mut q = self.lock();
            self.note_expiry(message.expires_us);
            // Messages for one user (reports to an SMPP client) stay in memory: a session
            // looks for its user's among them.
            let spill = self.store.is_some()
                && message.target_user.is_none()
                && (!q.spilled.is_empty() || q.loading > 0 || q.loaded.len() >= LOADED_MAX);
            if spill {
                q.spilled.push_back(Spilled {
                    id: message.id,
                    expires_us: message.expires_us,
                });
            } else {
                q.loaded.push_back(message);
            }
        }
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Put a taken message back at the head (a session closed before sending it, or a retry).
    /// It was already counted.
    pub fn put_back(&self, message: Message) {
        let mut q = self.lock();
        self.note_expiry(message.expires_us);
        q.loaded.push_front(message);
        drop(q);
        // Every waiter: one woken alone might be a session of another user, which would leave
        // the message waiting.
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Hold a taken message back for `delay` (a retry's hold delay), then put it back at the
    /// head. It stays counted and in view meanwhile: queue list, move and clear and msg
    /// cancel see it, and it expires on time.
    pub fn defer(self: &Arc<Self>, message: Message, delay: Duration) {
        let id = message.id;
        {
            let mut q = self.lock();
            self.note_expiry(message.expires_us);
            q.deferred.push(message);
        }
        let queue = Arc::downgrade(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(queue) = queue.upgrade() {
                queue.undefer(id);
            }
        });
    }

    /// A new message: queued, or, when it is scheduled for later (SMPP
    /// schedule_delivery_time), counted in the queue like [`Queue::push`] and held like
    /// [`Queue::defer`] until its time: in view of `queue list`, leaving then.
    pub fn push_or_schedule(self: &Arc<Self>, message: Message) {
        self.size.fetch_add(1, Ordering::Relaxed);
        self.totals.queued.fetch_add(1, Ordering::Relaxed);
        self.place_or_schedule(message);
    }

    /// [`Queue::push_or_schedule`] for a message already counted.
    fn place_or_schedule(self: &Arc<Self>, message: Message) {
        match message.wait_before_sending(crate::clock::now_us()) {
            Some(delay) => self.defer(message, delay),
            None => self.place(message),
        }
    }

    /// Deferred message `id` is due: back at the head, unless an operator took it meanwhile.
    fn undefer(&self, id: MessageId) {
        let mut q = self.lock();
        let Some(pos) = q.deferred.iter().position(|m| m.id == id) else {
            return;
        };
        let m = q.deferred.swap_remove(pos);
        q.loaded.push_front(m);
        drop(q);
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Add a message recovered from the store without loading it (restart).
    pub fn push_spilled(&self, spilled: Spilled) {
        self.size.fetch_add(1, Ordering::Relaxed);
        self.totals.queued.fetch_add(1, Ordering::Relaxed);
        let mut q = self.lock();
        self.note_expiry(spilled.expires_us);
        q.spilled.push_back(spilled);
    }

    fn needs_refill(&self) -> bool {
        let q = self.lock();
        self.store.is_some() && q.loaded.len() < REFILL_BELOW && !q.spilled.is_empty()
    }

    /// Load the next batch of spilled messages into memory.
    ///
    /// Sessions call this inside `select!` arms that are dropped whenever another arm wins,
    /// so the store read runs in a task of its own: a dropped caller leaves it running, and
    /// the next caller applies its result. The batch stays in `spilled` until then and moves
    /// to `loaded` in one step.
    async fn refill(&self) {
        let Some(store) = &self.store else { return };
        let (slot, done) = {
            let mut fetch = self.fetch.lock().unwrap_or_else(|p| p.into_inner());
            if fetch.is_none() {
                let ids: Vec<MessageId> = {
                    let q = self.lock();
                    if q.loaded.len() >= REFILL_BELOW || q.spilled.is_empty() {
                        return;
                    }
                    q.spilled.iter().take(REFILL_BATCH).map(|s| s.id).collect()
                };
                let f = Fetch {
                    ids: ids.clone(),
                    slot: Arc::new(Mutex::new(None)),
                    done: Arc::new(Notify::new()),
                };
                let (slot, done, store) = (f.slot.clone(), f.done.clone(), store.clone());
                tokio::spawn(async move {
                    let loaded = store.load_queued(ids).await;
                    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(loaded);
                    done.notify_waiters();
                    done.notify_one();
                });
                *fetch = Some(f);
            }
            let f = fetch.as_ref().expect("set above");
            (f.slot.clone(), f.done.clone())
        };
        loop {
            let notified = done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if slot.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
                break;
            }
            notified.await;
        }
        // One caller applies the result; from here on nothing awaits.
        let fetch = {
            let mut fetch = self.fetch.lock().unwrap_or_else(|p| p.into_inner());
            match fetch.take() {
                Some(f) if Arc::ptr_eq(&f.slot, &slot) => f,
                other => {
                    *fetch = other;
                    return;
                }
            }
        };
        let result = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        let messages = match result {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                tracing::error!("cannot load queued messages from the store: {e}");
                return;
            }
            None => return,
        };
        let mut q = self.lock();
        // Meanwhile only removals (cancel, expiry) and appends happened: what is left of the
        // batch is still at the front.
        let batch: std::collections::HashSet<MessageId> = fetch.ids.into_iter().collect();
        let mut still = std::collections::HashSet::new();
        while let Some(front) = q.spilled.front() {
            if !batch.contains(&front.id) {
                break;
            }
            still.insert(front.id);
            q.spilled.pop_front();
        }
        for m in messages {
            if still.remove(&m.id) {
                q.loaded.push_back(m);
            }
        }
        drop(q);
        // Left over: no longer queued in the store.
        self.uncount(still.len());
        self.notify.notify_waiters();
    }

    /// Take the first message this session may send: one addressed to no user in particular,
    /// or to `user`.
    pub fn take_for(&self, user: Option<&str>) -> Option<Message> {
        let mut q = self.lock();
        let pos = q
            .loaded
            .iter()
            .position(|m| m.target_user.is_none() || m.target_user.as_deref() == user)?;
        q.loaded.remove(pos)
    }

    /// Take up to `max` waiting messages, whoever they are addressed to (the DLR callbacks
    /// of an incoming HTTP connector: one sender serves every user).
    pub fn take_any(&self, max: usize) -> Vec<Message> {
        let mut q = self.lock();
        let n = max.min(q.loaded.len());
        q.loaded.drain(..n).collect()
    }

    /// Wait until messages are waiting in memory (loading spilled ones when needed), for
    /// [`take_any`](Self::take_any). Pushes that come while the caller is busy leave one
    /// wake-up between them, not one each.
    pub async fn wait_any(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.needs_refill() {
                self.refill().await;
            }
            if !self.lock().loaded.is_empty() {
                return;
            }
            if self.needs_refill() {
                continue;
            }
            notified.await;
        }
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
        let pos = q.loaded.iter().position(|m| {
            m.target_user.is_none() && affinity.may_take(m, instance, now, overdue)
        })?;
        let m = q.loaded.remove(pos)?;
        affinity.took(&m, instance, now, ttl);
        Some(m)
    }

    /// Wait until session `instance` may take a message (see [`take_on`](Self::take_on)).
    pub async fn next_on(&self, instance: u32, ttl: Duration) -> Message {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.needs_refill() {
                self.refill().await;
            }
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
            if self.needs_refill() {
                self.refill().await;
            }
            if let Some(m) = self.take_for(user) {
                return m;
            }
            if self.needs_refill() {
                continue;
            }
            notified.await;
        }
    }

    fn note_expiry(&self, expires_us: Option<i64>) {
        if let Some(t) = expires_us {
            self.earliest_expiry.fetch_min(t, Ordering::Relaxed);
        }
    }

    /// Take the waiting messages whose validity ended by `now`: those in memory, and the ids
    /// of those left in the store (the caller loads them). All still count, as taken
    /// messages do, until [`finished`](Self::finished).
    pub fn take_expired(&self, now: i64) -> (Vec<Message>, Vec<MessageId>) {
        if now < self.earliest_expiry.load(Ordering::Relaxed) {
            return (Vec::new(), Vec::new());
        }
        let mut q = self.lock();
        let mut earliest = i64::MAX;
        let mut due = |t: Option<i64>| match t {
            Some(t) if t <= now => true,
            Some(t) => {
                earliest = earliest.min(t);
                false
            }
            None => false,
        };
        let (mut expired, kept): (VecDeque<Message>, VecDeque<Message>) =
            q.loaded.drain(..).partition(|m| due(m.expires_us));
        q.loaded = kept;
        let (late, held): (Vec<Message>, Vec<Message>) =
            q.deferred.drain(..).partition(|m| due(m.expires_us));
        q.deferred = held;
        expired.extend(late);
        let (expired_ids, kept): (VecDeque<Spilled>, VecDeque<Spilled>) =
            q.spilled.drain(..).partition(|s| due(s.expires_us));
        q.spilled = kept;
        self.earliest_expiry.store(earliest, Ordering::Relaxed);
        (
            expired.into(),
            expired_ids.into_iter().map(|s| s.id).collect(),
        )
    }

    /// A taken message's outcome has been recorded: it no longer counts.
    pub fn finished(&self) {
        self.size.fetch_sub(1, Ordering::Relaxed);
        self.totals.queued.fetch_sub(1, Ordering::Relaxed);
    }

    fn uncount(&self, n: usize) {
        self.size.fetch_sub(n, Ordering::Relaxed);
        self.totals.queued.fetch_sub(n, Ordering::Relaxed);
    }

    /// Remove waiting message `id` (for cancel and replace). It stops counting here.
    pub async fn take_id(&self, id: MessageId) -> Option<Message> {
        {
            let mut q = self.lock();
            if let Some(pos) = q.loaded.iter().position(|m| m.id == id) {
                let m = q.loaded.remove(pos);
                drop(q);
                self.uncount(1);
                return m;
            }
            if let Some(pos) = q.deferred.iter().position(|m| m.id == id) {
                let m = q.deferred.swap_remove(pos);
                drop(q);
                self.uncount(1);
                return Some(m);
            }
            let pos = q.spilled.iter().position(|s| s.id == id)?;
            q.spilled.remove(pos);
        }
        self.uncount(1);
        let store = self.store.as_ref()?;
        store.load_queued(vec![id]).await.ok()?.pop()
    }

    /// Remove up to `max` waiting messages that `keep_out` selects, in queue order (queue move
    /// and clear, in batches). They stop counting here.
    pub async fn take_matching(
        &self,
        mut keep_out: impl FnMut(&Message) -> bool,
        max: usize,
    ) -> Vec<Message> {
        let mut taken = self.take_where_loaded(&mut keep_out, max);
        let from_memory = taken.len();
        let Some(store) = &self.store else {
            return taken;
        };
        let _one = self.refilling.lock().await;
        // Go through the spilled ids in order; what is not taken goes back in front.
        let mut pending: VecDeque<Spilled> = {
            let mut q = self.lock();
            let all: VecDeque<Spilled> = q.spilled.drain(..).collect();
            q.loading += all.len();
            all
        };
        let total = pending.len();
        let mut kept: Vec<Spilled> = Vec::new();
        let mut gone = 0;
        while taken.len() < max && !pending.is_empty() {
            let chunk: Vec<Spilled> = pending.drain(..REFILL_BATCH.min(pending.len())).collect();
            let Ok(messages) = store
                .load_queued(chunk.iter().map(|s| s.id).collect())
                .await
            else {
                kept.extend(chunk);
                break;
            };
            gone += chunk.len() - messages.len();
            for m in messages {
                if taken.len() < max && keep_out(&m) {
                    taken.push(m);
                } else {
                    kept.push(Spilled {
                        id: m.id,
                        expires_us: m.expires_us,
                    });
                }
            }
        }
        let mut q = self.lock();
        q.loading -= total;
        for s in kept.into_iter().chain(pending).rev() {
            q.spilled.push_front(s);
        }
        drop(q);
        // Those taken from memory were uncounted already.
        self.uncount(gone + taken.len() - from_memory);
        taken
    }

    /// Remove up to `max` in-memory waiting messages that `keep_out` selects (uncounted).
    fn take_where_loaded(
        &self,
        keep_out: &mut impl FnMut(&Message) -> bool,
        max: usize,
    ) -> Vec<Message> {
        let mut q = self.lock();
        let mut taken = Vec::new();
        let mut kept = VecDeque::with_capacity(q.loaded.len());
        for m in q.loaded.drain(..) {
            if taken.len() < max && keep_out(&m) {
                taken.push(m);
            } else {
                kept.push_back(m);
            }
        }
        q.loaded = kept;
        let mut held = Vec::with_capacity(q.deferred.len());
        for m in q.deferred.drain(..) {
            if taken.len() < max && keep_out(&m) {
                taken.push(m);
            } else {
                held.push(m);
            }
        }
        q.deferred = held;
        drop(q);
        self.uncount(taken.len());
        taken
    }

    /// Copies of the first `n` waiting messages in memory, then those waiting out a hold
    /// delay (for queue list).
    pub fn peek(&self, n: usize) -> Vec<Message> {
        let q = self.lock();
        q.loaded
            .iter()
            .chain(&q.deferred)
            .take(n)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests;

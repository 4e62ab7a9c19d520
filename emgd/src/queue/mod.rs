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
//! Messages only one user's sessions may take (reports, MO for an SMPP client) wait in that
//! user's lane ([`waiting`]), with a window of [`USER_LOADED_MAX`] in memory.
//!
//! Longer than 600 lines for a reason: these are the methods of one type around one lock,
//! kept together so the locking reads in one place; the lanes' bookkeeping is in
//! [`waiting`], the parts' order in [`parts`].

mod fence;
pub mod handover;
mod parts;
mod reserve;
mod waiting;

use crate::store::Store;
use common::message::{Message, MessageId};
pub use fence::Fence;
use parts::Affinities;
pub use parts::{Accepting, PartsKey};
pub use reserve::{Full, Reserved};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
pub use waiting::USER_LOADED_MAX;
use waiting::{spilled, LaneKey, Waiting};

/// Messages per queue held in memory ([`LOADED_MAX`]); the rest wait as ids (see the module
/// doc). The store decides it, since recovery loads as many.
pub use crate::store::{Spilled, LOADED_MAX};
/// Load more from the store when fewer than this many are in memory (the shared lane).
const REFILL_BELOW: usize = 2_500;
/// Messages loaded from the store at once (the shared lane).
const REFILL_BATCH: usize = 2_500;
/// The same for a user's lane ([`USER_LOADED_MAX`] in memory at most).
const USER_REFILL_BELOW: usize = USER_LOADED_MAX / 2;
const USER_REFILL_BATCH: usize = USER_LOADED_MAX / 2;

/// What a store read of spilled messages gave.
type Loaded = Result<Vec<Message>, crate::store::StoreError>;

/// A batch of spilled messages being read from the store.
struct Fetch {
    ids: Vec<MessageId>,
    slot: Arc<Mutex<Option<Loaded>>>,
    done: Arc<Notify>,
}

/// How long a part of a long message, once held back for the part before it, waits for it
/// before going anyway (when no part of its message is still being accepted).
pub const PART_ORDER_WAIT: Duration = Duration::from_secs(2);

/// How soon a session that found nothing looks again when the store could not be read.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// Server-wide count of queued and in-flight messages, for MAXTOTALQUEUESIZE.
#[derive(Debug, Default)]
pub struct Totals {
    queued: AtomicUsize,
    /// Whether this node may send and accept (every queue of the node shares it).
    pub fence: Fence,
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
    /// The store reads under way for [`refill`](Self::refill), by lane.
    fetch: Mutex<HashMap<LaneKey, Fetch>>,
    /// Parts of long messages being accepted for this queue (routed, not yet committed):
    /// a later part waits for them.
    accepting: Arc<Mutex<parts::AcceptingParts>>,
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
            fetch: Mutex::new(HashMap::new()),
            accepting: Arc::default(),
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
            q.push(message, self.store.is_some());
        }
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// Put a taken message back at the head (a session closed before sending it, or a retry).
    /// It was already counted.
    pub fn put_back(&self, message: Message) {
        let mut q = self.lock();
        self.note_expiry(message.expires_us);
        q.put_front(message);
        drop(q);
        // Every waiter: one woken alone might be a session of another user, which would leave
        // the message waiting.
        self.wake_all();
    }

    /// Wake every session waiting to take: what one may take changed (a message came back,
    /// or a session that receipts were kept for went away).
    pub fn wake_all(&self) {
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
        q.put_front(m);
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
        q.shared.spilled.push_back(spilled);
    }

    /// Whether lane `key` should load more of its messages from the store.
    fn needs_refill(&self, key: &LaneKey) -> bool {
        let q = self.lock();
        let below = match key {
            None => REFILL_BELOW,
            Some(_) => USER_REFILL_BELOW,
        };
        self.store.is_some()
            && q.lane(key)
                .is_some_and(|l| l.loaded.len() < below && !l.spilled.is_empty())
    }

    /// Load the next batch of lane `key`'s spilled messages into memory; false when it could
    /// not (the store failed).
    ///
    /// Sessions call this inside `select!` arms that are dropped whenever another arm wins,
    /// so the store read runs in a task of its own: a dropped caller leaves it running, and
    /// the next caller applies its result. The batch stays in `spilled` until then and moves
    /// to `loaded` in one step. Messages of the shared lane that are for a user (a restart
    /// left them there as ids) move to that user's lane.
    async fn refill(&self, key: &LaneKey) -> bool {
        let Some(store) = &self.store else {
            return true;
        };
        let (below, batch_size) = match key {
            None => (REFILL_BELOW, REFILL_BATCH),
            Some(_) => (USER_REFILL_BELOW, USER_REFILL_BATCH),
        };
        let (slot, done) = {
            let mut fetch = self.fetch.lock().unwrap_or_else(|p| p.into_inner());
            if !fetch.contains_key(key) {
                let ids: Vec<MessageId> = {
                    let q = self.lock();
                    let Some(lane) = q.lane(key) else { return true };
                    if lane.loaded.len() >= below || lane.spilled.is_empty() {
                        return true;
                    }
                    lane.spilled.iter().take(batch_size).map(|s| s.id).collect()
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
                fetch.insert(key.clone(), f);
            }
            let f = fetch.get(key).expect("set above");
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
            match fetch.remove(key) {
                Some(f) if Arc::ptr_eq(&f.slot, &slot) => f,
                Some(other) => {
                    fetch.insert(key.clone(), other);
                    return true;
                }
                None => return true,
            }
        };
        let result = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        let messages = match result {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                tracing::error!("cannot load queued messages from the store: {e}");
                return false;
            }
            None => return true,
        };
        let mut q = self.lock();
        // Meanwhile only removals (cancel, expiry) and appends happened: what is left of the
        // batch is still at the front.
        let batch: std::collections::HashSet<MessageId> = fetch.ids.into_iter().collect();
        let mut still = std::collections::HashSet::new();
        let lane = q.lane_mut(key);
        while let Some(front) = lane.spilled.front() {
            if !batch.contains(&front.id) {
                break;
            }
            still.insert(front.id);
            lane.spilled.pop_front();
        }
        for m in messages {
            if still.remove(&m.id) {
                match (key, &m.target_user) {
                    // Sorted into its user's lane, behind what that lane holds.
                    (None, Some(_)) => q.place(m, true),
                    _ => q.lane_mut(key).loaded.push_back(m),
                }
            }
        }
        q.forget_if_empty(key);
        drop(q);
        // Left over: no longer queued in the store.
        self.uncount(still.len());
        self.notify.notify_waiters();
        true
    }

    /// Refill the lanes `keys` that need it; false when the store failed.
    async fn refill_lanes(&self, keys: &[LaneKey]) -> bool {
        let mut fine = true;
        for key in keys {
            if self.needs_refill(key) {
                fine &= self.refill(key).await;
            }
        }
        fine
    }

    /// Take the first message this session may send: one addressed to no user in particular,
    /// or to `user`, of those `pick` lets it have (the receipt session policy), oldest first.
    pub fn take_for(&self, user: Option<&str>, pick: &dyn Fn(&Message) -> bool) -> Option<Message> {
        if !self.may_send() {
            return None;
        }
        let mut q = self.lock();
        let shared = q.shared.loaded.front().map(|m| m.id);
        let own = user
            .and_then(|u| q.users.get(u))
            .and_then(|l| l.loaded.iter().position(pick).map(|i| (i, l.loaded[i].id)));
        match (shared, own) {
            (Some(s), Some((_, o))) if s < o => q.shared.loaded.pop_front(),
            (_, Some((i, _))) => {
                let key = user.map(str::to_string);
                let m = q.lane_mut(&key).loaded.remove(i);
                q.forget_if_empty(&key);
                m
            }
            (Some(_), None) => q.shared.loaded.pop_front(),
            (None, None) => None,
        }
    }

    /// Take up to `max` waiting messages, whoever they are addressed to (the DLR callbacks
    /// of an incoming HTTP connector: one sender serves every user).
    pub fn take_any(&self, max: usize) -> Vec<Message> {
        if !self.may_send() {
            return Vec::new();
        }
        let mut q = self.lock();
        let mut taken = Vec::new();
        for key in q.keys() {
            let lane = q.lane_mut(&key);
            let n = (max - taken.len()).min(lane.loaded.len());
            taken.extend(lane.loaded.drain(..n));
            q.forget_if_empty(&key);
            if taken.len() == max {
                break;
            }
        }
        taken
    }

    /// Wait until messages are waiting in memory (loading spilled ones when needed), for
    /// [`take_any`](Self::take_any). Pushes that come while the caller is busy leave one
    /// wake-up between them, not one each.
    pub async fn wait_any(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let keys = self.lock().keys();
            let fine = self.refill_lanes(&keys).await;
            {
                let q = self.lock();
                if !q.shared.loaded.is_empty() || q.users.values().any(|l| !l.loaded.is_empty()) {
                    return;
                }
            }
            if fine && keys.iter().any(|k| self.needs_refill(k)) {
                continue;
            }
            let _ = tokio::time::timeout(STORE_RETRY, notified).await;
        }
    }

    /// Take the first message session `instance` may send. The parts of a long message go
    /// to the session that took its first part, in sequence order: a part waits for the one
    /// before it (parts are stored concurrently, so they can reach the queue out of order)
    /// while any part of its message is still being accepted, and for [`PART_ORDER_WAIT`]
    /// after it was first held back (then the part before it may never come).
    pub fn take_on(&self, instance: u32, ttl: Duration) -> Option<Message> {
        self.take_on_at(instance, ttl, Instant::now())
    }

    fn take_on_at(&self, instance: u32, ttl: Duration, now: Instant) -> Option<Message> {
        if !self.may_send() {
            return None;
        }
        let mut q = self.lock();
        let mut affinity = self.affinity.lock().unwrap_or_else(|p| p.into_inner());
        let accepting = self.accepting.lock().unwrap_or_else(|p| p.into_inner());
        let pos = q.shared.loaded.iter().position(|m| {
            m.target_user.is_none() && affinity.may_take(m, instance, now, &accepting)
        })?;
        drop(accepting);
        let m = q.shared.loaded.remove(pos)?;
        affinity.took(&m, instance, now, ttl);
        Some(m)
    }

    /// A part of a long message with key `key` is being accepted for this queue: later parts
    /// already queued wait for it while the guard lives.
    pub fn accepting(&self, key: PartsKey) -> Accepting {
        Accepting::new(self.accepting.clone(), key)
    }

    /// Wait until session `instance` may take a message (see [`take_on`](Self::take_on)).
    pub async fn next_on(&self, instance: u32, ttl: Duration) -> Message {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.refill_lanes(&[None]).await;
            if let Some(m) = self.take_on(instance, ttl) {
                return m;
            }
            // A part held back for order may become due without anything being pushed.
            let _ = tokio::time::timeout(PART_ORDER_WAIT / 4, notified).await;
        }
    }

    /// Wait until a message is available for `user` (that `pick` lets it have), then take it.
    pub async fn next_for(
        &self,
        user: Option<&str>,
        pick: &(dyn Fn(&Message) -> bool + Sync),
    ) -> Message {
        let keys = [None, user.map(str::to_string)];
        let keys = &keys[..if user.is_some() { 2 } else { 1 }];
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let fine = self.refill_lanes(keys).await;
            if let Some(m) = self.take_for(user, pick) {
                return m;
            }
            // The shared lane may still hold this user's messages as ids (after a restart):
            // sort them into lanes until it is empty.
            if fine && keys.iter().any(|k| self.needs_refill(k)) {
                continue;
            }
            let _ = tokio::time::timeout(STORE_RETRY, notified).await;
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
        // A node fenced off leaves expiry to the node that may have taken its queue over.
        if now < self.earliest_expiry.load(Ordering::Relaxed) || !self.totals.fence.is_open(now) {
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
        let mut expired = Vec::new();
        let mut expired_ids = Vec::new();
        for key in q.keys() {
            let lane = q.lane_mut(&key);
            let (late, kept): (VecDeque<Message>, VecDeque<Message>) =
                lane.loaded.drain(..).partition(|m| due(m.expires_us));
            lane.loaded = kept;
            expired.extend(late);
            let (late, kept): (VecDeque<Spilled>, VecDeque<Spilled>) =
                lane.spilled.drain(..).partition(|s| due(s.expires_us));
            lane.spilled = kept;
            expired_ids.extend(late.into_iter().map(|s| s.id));
            q.forget_if_empty(&key);
        }
        let (late, held): (Vec<Message>, Vec<Message>) =
            q.deferred.drain(..).partition(|m| due(m.expires_us));
        q.deferred = held;
        expired.extend(late);
        self.earliest_expiry.store(earliest, Ordering::Relaxed);
        (expired, expired_ids)
    }

    /// Whether this node may send now (its fence: a shared store's lease holds).
    fn may_send(&self) -> bool {
        self.totals.fence.is_open(crate::clock::now_us())
    }

    /// Forget every waiting message, in memory and as ids (the store keeps them): this node's
    /// lease lapsed, so another node may have taken them over. Messages in flight still count
    /// until finished. How many were dropped.
    pub fn drop_waiting(&self) -> usize {
        let dropped = {
            let mut q = self.lock();
            let n = q.shared.loaded.len()
                + q.shared.spilled.len()
                + q.users
                    .values()
                    .map(|l| l.loaded.len() + l.spilled.len())
                    .sum::<usize>()
                + q.deferred.len();
            q.shared.loaded.clear();
            q.shared.spilled.clear();
            q.users.retain(|_, l| {
                l.loaded.clear();
                l.spilled.clear();
                l.loading > 0
            });
            q.deferred.clear();
            n
        };
        self.uncount(dropped);
        dropped
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
            for key in q.keys() {
                let lane = q.lane_mut(&key);
                if let Some(pos) = lane.loaded.iter().position(|m| m.id == id) {
                    let m = lane.loaded.remove(pos);
                    q.forget_if_empty(&key);
                    drop(q);
                    self.uncount(1);
                    return m;
                }
            }
            if let Some(pos) = q.deferred.iter().position(|m| m.id == id) {
                let m = q.deferred.swap_remove(pos);
                drop(q);
                self.uncount(1);
                return Some(m);
            }
            let found = q.keys().into_iter().find_map(|key| {
                let pos = q.lane(&key)?.spilled.iter().position(|s| s.id == id)?;
                Some((key, pos))
            });
            let (key, pos) = found?;
            q.lane_mut(&key).spilled.remove(pos);
            q.forget_if_empty(&key);
        }
        self.uncount(1);
        let store = self.store.as_ref()?;
        store.load_queued(vec![id]).await.ok()?.pop()
    }

    /// Remove up to `max` waiting messages that `keep_out` selects, in queue order (queue move
    /// and clear, in batches): the shared lane, then each user's. They stop counting here.
    pub async fn take_matching(
        &self,
        mut keep_out: impl FnMut(&Message) -> bool,
        max: usize,
    ) -> Vec<Message> {
        let mut taken = self.take_where_loaded(&mut keep_out, max);
        if self.store.is_none() {
            return taken;
        }
        let _one = self.refilling.lock().await;
        let keys = self.lock().keys();
        for key in keys {
            if taken.len() >= max {
                break;
            }
            self.take_spilled_matching(&key, &mut keep_out, max, &mut taken)
                .await;
        }
        taken
    }

    /// Go through lane `key`'s spilled ids in order, taking into `taken` (up to `max`) those
    /// `keep_out` selects; what is not taken goes back in front.
    async fn take_spilled_matching(
        &self,
        key: &LaneKey,
        keep_out: &mut impl FnMut(&Message) -> bool,
        max: usize,
        taken: &mut Vec<Message>,
    ) {
        let Some(store) = &self.store else { return };
        let before = taken.len();
        let mut pending: VecDeque<Spilled> = {
            let mut q = self.lock();
            let lane = q.lane_mut(key);
            let all: VecDeque<Spilled> = lane.spilled.drain(..).collect();
            lane.loading += all.len();
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
                    kept.push(spilled(&m));
                }
            }
        }
        let mut q = self.lock();
        let lane = q.lane_mut(key);
        lane.loading -= total;
        for s in kept.into_iter().chain(pending).rev() {
            lane.spilled.push_front(s);
        }
        q.forget_if_empty(key);
        drop(q);
        self.uncount(gone + taken.len() - before);
    }

    /// Remove up to `max` in-memory waiting messages that `keep_out` selects (uncounted).
    fn take_where_loaded(
        &self,
        keep_out: &mut impl FnMut(&Message) -> bool,
        max: usize,
    ) -> Vec<Message> {
        let mut q = self.lock();
        let mut taken = Vec::new();
        for key in q.keys() {
            let lane = q.lane_mut(&key);
            let mut kept = VecDeque::with_capacity(lane.loaded.len());
            for m in lane.loaded.drain(..) {
                if taken.len() < max && keep_out(&m) {
                    taken.push(m);
                } else {
                    kept.push_back(m);
                }
            }
            lane.loaded = kept;
            q.forget_if_empty(&key);
        }
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

    /// Copies of the first `n` waiting messages in memory (the shared lane, then each user's),
    /// then those waiting out a hold delay (for queue list).
    pub fn peek(&self, n: usize) -> Vec<Message> {
        let q = self.lock();
        q.shared
            .loaded
            .iter()
            .chain(q.users.values().flat_map(|l| l.loaded.iter()))
            .chain(&q.deferred)
            .take(n)
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests;

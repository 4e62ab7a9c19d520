//! The record of one connector that everything shares ([`ConnectorHandle`]): its settings,
//! queue and counters, the state of each instance and who is bound there, published on a
//! `watch` channel, the operator's hold and force-close flags, and the `throughput` pacer.
//!
//! It holds state and nothing else: the rest of the runtime drives it, the gateway routes by
//! it and queues into it, and the MGP server, metrics and the dashboard read it. So it sits
//! below the gateway, unlike the rest of the runtime.

pub mod admission;
pub mod logins;

use crate::queue::{Queue, Totals};
use common::message::{Message, SessionRef};
use config::DlrSession;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::{broadcast, watch};

/// EMG's connector (instance) states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Created, or disconnected on purpose (idle timeout); static connectors never rest here.
    Idle,
    /// Transport up, not yet authenticated.
    Connected,
    /// Authenticated: may transmit and receive.
    Bound,
    /// Graceful shutdown in progress.
    Terminating,
    /// Shut down.
    Dead,
    /// Failed repeatedly; waiting for the next retry period.
    Error,
}

impl fmt::Display for ConnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnState::Idle => "IDLE",
            ConnState::Connected => "CONNECTED",
            ConnState::Bound => "BOUND",
            ConnState::Terminating => "TERMINATING",
            ConnState::Dead => "DEAD",
            ConnState::Error => "ERROR",
        })
    }
}

/// Message counters of one connector.
#[derive(Debug, Default)]
pub struct Counters {
    pub received: AtomicU64,
    pub sent: AtomicU64,
    pub failed: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// State changes a slow `watch` listener may fall behind by before it skips some.
const TRANSITIONS_BUFFER: usize = 256;

/// Who is on the other end of one bound instance, for operators (MGP `connector`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub instance: u32,
    /// Peer address (`IP:PORT`), the configured remote address, or `in-process` for sim.
    pub peer: Option<String>,
    /// `transceiver`, `transmitter`, `receiver` or `sim`.
    pub bind: Option<String>,
    /// The user that bound (incoming) or the system id we bound as (outgoing).
    pub user: Option<String>,
    /// Unix time in microseconds of the bind.
    pub since_us: i64,
}

impl SessionInfo {
    /// Whether the session takes messages from us (anything but an SMPP transmitter bind).
    pub fn receives(&self) -> bool {
        self.bind.as_deref() != Some("transmitter")
    }

    /// The client's IP address, from `peer`.
    fn ip(&self) -> Option<String> {
        let peer = self.peer.as_deref()?;
        Some(match peer.parse::<std::net::SocketAddr>() {
            Ok(a) => a.ip().to_string(),
            Err(_) => peer.to_string(),
        })
    }
}

/// Everything the gateway knows about one connector at run time. One per configured
/// (non-virtual) connector; shared by its sessions, the router and the control plane.
pub struct ConnectorHandle {
    pub name: String,
    config: RwLock<Arc<config::Connector>>,
    pub queue: Arc<Queue>,
    states: watch::Sender<Vec<ConnState>>,
    /// Every change of `states`, in order (a watch channel keeps only the latest): MGP
    /// `watch` reports each transition, even one that lasts a millisecond.
    transitions: broadcast::Sender<Vec<ConnState>>,
    /// One slot per instance: set on bind, cleared when the instance leaves BOUND/TERMINATING.
    sessions: Mutex<Vec<Option<SessionInfo>>>,
    hold: watch::Sender<bool>,
    forceclose: watch::Sender<bool>,
    /// Force-close is in the store (set with `persist`): it holds after a restart too.
    forceclose_stored: AtomicBool,
    pub counters: Counters,
    /// Per instance, the messages its session has taken and not yet had answered: the
    /// window in use, beside the configured `windowsize` (MGP `connectors`, `connector`).
    inflight: Box<[AtomicU32]>,
    /// Paces sending to the connector's `throughput`.
    pacer: Mutex<Option<Arc<crate::rate::RateLimiter>>>,
    /// A reload removed the connector from the configuration: it takes nothing new, and
    /// operators see it TERMINATING until it is stopped, then DEAD.
    removed: AtomicBool,
    /// Incoming: the connections open, per source address and in all.
    pub admission: Arc<admission::Admission>,
    /// Incoming: the brake on failed logins.
    pub logins: logins::Logins,
}

impl ConnectorHandle {
    pub fn new(
        cfg: config::Connector,
        totals: Arc<Totals>,
        store: Option<Arc<dyn crate::store::Store>>,
    ) -> ConnectorHandle {
        let instances = cfg.instances as usize;
        ConnectorHandle {
            name: cfg.name.clone(),
            config: RwLock::new(Arc::new(cfg)),
            queue: Arc::new(Queue::with_store(totals, store)),
            states: watch::channel(vec![ConnState::Idle; instances]).0,
            transitions: broadcast::channel(TRANSITIONS_BUFFER).0,
            sessions: Mutex::new(vec![None; instances]),
            hold: watch::channel(false).0,
            forceclose: watch::channel(false).0,
            forceclose_stored: AtomicBool::new(false),
            counters: Counters::default(),
            inflight: (0..instances).map(|_| AtomicU32::new(0)).collect(),
            pacer: Mutex::new(None),
            removed: AtomicBool::new(false),
            admission: Arc::default(),
            logins: Default::default(),
        }
        .with_pacer()
    }

    /// (Re)build the pacer from the `throughput` keyword.
    fn with_pacer(self) -> ConnectorHandle {
        self.reset_pacer();
        self
    }

    fn reset_pacer(&self) {
        let limiter = self
            .config()
            .throughput
            .map(|rate| Arc::new(crate::rate::RateLimiter::new(rate, 1)));
        *self.pacer.lock().unwrap_or_else(|p| p.into_inner()) = limiter;
    }

    fn pacer(&self) -> Option<Arc<crate::rate::RateLimiter>> {
        self.pacer.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// For select loops: how long until `throughput` lets the next message out (zero when
    /// it may go now). Takes nothing; call [`pace_take`](Self::pace_take) when sending.
    pub fn pace_wait(&self) -> std::time::Duration {
        self.pacer()
            .map(|l| l.wait_time(std::time::Instant::now()))
            .unwrap_or_default()
    }

    /// Count one message (part) against `throughput`.
    pub fn pace_take(&self) {
        if let Some(l) = self.pacer() {
            l.try_take(std::time::Instant::now());
        }
    }

    /// Wait until `throughput` allows the next message (part) out; at once without a limit.
    pub async fn pace(&self) {
        if let Some(l) = self.pacer() {
            let wait = l.reserve(std::time::Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
    }

    pub fn config(&self) -> Arc<config::Connector> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Take new settings on reload (sessions read them as they go). A new `instances` count
    /// resizes the instance states, so call it with one only while no session runs.
    pub fn set_config(&self, cfg: config::Connector) {
        let instances = cfg.instances as usize;
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(cfg);
        self.reset_pacer();
        let running = self.states.borrow().len();
        if running != instances {
            self.sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .resize(instances, None);
            self.states
                .send_modify(|s| s.resize(instances, ConnState::Idle));
        }
    }

    /// Whether a reload removed the connector from the configuration.
    pub fn removed(&self) -> bool {
        self.removed.load(Ordering::Relaxed)
    }

    pub fn set_removed(&self, on: bool) {
        self.removed.store(on, Ordering::Relaxed);
    }

    /// The states operators see: those of the sessions, except that a removed connector
    /// shows TERMINATING on every instance not yet DEAD, since it is on its way out.
    pub fn shown_states(&self) -> Vec<ConnState> {
        let states = self.states();
        if !self.removed() {
            return states;
        }
        states
            .into_iter()
            .map(|s| match s {
                ConnState::Dead => ConnState::Dead,
                _ => ConnState::Terminating,
            })
            .collect()
    }

    /// Set every instance DEAD: the connector's sessions are gone for good.
    pub fn set_dead(&self) {
        // Not `0..self.states.borrow().len()`: the borrow would live through the loop and
        // deadlock `set_state`.
        let instances = self.states.borrow().len() as u32;
        for instance in 0..instances {
            self.set_state(instance, ConnState::Dead);
        }
    }

    /// Messages taken by a session and not yet settled.
    pub fn in_flight(&self) -> usize {
        self.queue.len().saturating_sub(self.queue.waiting())
    }

    /// Whether no session is connected and no message is in flight.
    pub fn is_quiet(&self) -> bool {
        self.in_flight() == 0
            && !self.states().iter().any(|st| {
                matches!(
                    st,
                    ConnState::Bound | ConnState::Connected | ConnState::Terminating
                )
            })
    }

    /// Set an instance's state; any state but BOUND and TERMINATING ends its session record,
    /// so a session can never outlive its bind.
    pub fn set_state(&self, instance: u32, state: ConnState) {
        if !matches!(state, ConnState::Bound | ConnState::Terminating) {
            self.set_session(instance, None);
        }
        self.states.send_modify(|s| {
            if let Some(slot) = s.get_mut(instance as usize) {
                *slot = state;
            }
            // Under the channel's lock: each listener sees every state in the order set.
            if self.transitions.receiver_count() > 0 {
                let _ = self.transitions.send(s.clone());
            }
        });
    }

    /// Every change of the instance states from now on, in order; a listener that lags
    /// gets `Lagged` and can read [`states`](Self::states) instead.
    pub fn subscribe_states(&self) -> broadcast::Receiver<Vec<ConnState>> {
        self.transitions.subscribe()
    }

    /// Record (or with `None`, forget) the session bound on an instance. Call before setting
    /// BOUND so that whoever reacts to the state change sees the session.
    pub fn set_session(&self, instance: u32, session: Option<SessionInfo>) {
        let left = session.is_none();
        {
            let mut s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(slot) = s.get_mut(instance as usize) {
                *slot = session;
            }
        }
        if left {
            // Receipts kept for the session that left may go to the user's others now.
            self.queue.wake_all();
        }
    }

    /// The session bound on `instance`, as the messages submitted on it remember it.
    pub fn session_ref(&self, instance: u32) -> Option<SessionRef> {
        let s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let info = s.get(instance as usize)?.as_ref()?;
        Some(SessionRef {
            instance,
            bound_us: info.since_us,
            ip: info.ip().unwrap_or_default(),
        })
    }

    /// Whether the session on `instance` may take `m` under the connector's receipt session
    /// policy (`dlr_session`): with `submitting`, a report for a message submitted on
    /// another session of this connector waits for that session while it is bound and
    /// receives; with `same_ip`, for a session from the submitter's IP while one is bound.
    /// Messages no session of ours submitted (MO) go to any.
    pub fn may_take_on(&self, instance: u32, m: &Message) -> bool {
        let Some(from) = m.origin.session.as_ref() else {
            return true;
        };
        if m.origin.connector != self.name {
            return true;
        }
        let policy = self.config().dlr_session;
        let s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let mine = s.get(instance as usize).and_then(Option::as_ref);
        let receivers = || {
            s.iter()
                .flatten()
                .filter(|o| o.receives() && o.user == m.target_user)
        };
        match policy {
            DlrSession::Any => true,
            DlrSession::Submitting => {
                let is_mine = instance == from.instance
                    && mine.is_some_and(|me| me.since_us == from.bound_us);
                is_mine
                    || !receivers()
                        .any(|o| o.instance == from.instance && o.since_us == from.bound_us)
            }
            DlrSession::SameIp => {
                mine.and_then(SessionInfo::ip).as_deref() == Some(from.ip.as_str())
                    || !receivers().any(|o| o.ip().as_deref() == Some(from.ip.as_str()))
            }
        }
    }

    /// Instance `instance`'s session has `n` messages awaiting their answer.
    pub fn set_inflight(&self, instance: u32, n: usize) {
        if let Some(slot) = self.inflight.get(instance as usize) {
            slot.store(u32::try_from(n).unwrap_or(u32::MAX), Ordering::Relaxed);
        }
    }

    /// Messages awaiting their answer, by instance.
    pub fn inflight(&self) -> Vec<u32> {
        self.inflight
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect()
    }

    /// The sessions bound now, by instance.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        let s = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        s.iter().flatten().cloned().collect()
    }

    pub fn states(&self) -> Vec<ConnState> {
        self.states.borrow().clone()
    }

    pub fn watch_states(&self) -> watch::Receiver<Vec<ConnState>> {
        self.states.subscribe()
    }

    /// Can take traffic now: in the configuration, not force-closed, and not every instance
    /// in ERROR or DEAD.
    pub fn is_up(&self) -> bool {
        !self.removed()
            && !*self.forceclose.borrow()
            && self
                .states
                .borrow()
                .iter()
                .any(|s| !matches!(s, ConnState::Error | ConnState::Dead))
    }

    pub fn held(&self) -> bool {
        *self.hold.borrow()
    }

    pub fn forceclosed(&self) -> bool {
        *self.forceclose.borrow()
    }

    pub fn set_hold(&self, on: bool) {
        self.hold.send_replace(on);
    }

    pub fn set_forceclose(&self, on: bool) {
        self.forceclose.send_replace(on);
    }

    /// Whether force-close is stored (so a restart keeps it): what the stored flags must
    /// keep saying when hold changes.
    pub fn forceclose_stored(&self) -> bool {
        self.forceclose_stored.load(Ordering::Relaxed)
    }

    pub fn set_forceclose_stored(&self, on: bool) {
        self.forceclose_stored.store(on, Ordering::Relaxed);
    }

    /// Resolves when neither hold nor force-close is set.
    pub async fn wait_released(&self) {
        let mut hold = self.hold.subscribe();
        let mut fc = self.forceclose.subscribe();
        loop {
            if !*hold.borrow_and_update() && !*fc.borrow_and_update() {
                return;
            }
            tokio::select! {
                _ = hold.changed() => {}
                _ = fc.changed() => {}
            }
        }
    }
}

impl ConnectorHandle {
    /// Close every session now, wait (at most `wait`) until none is connected, then let them
    /// connect again.
    pub async fn bounce(&self, wait: std::time::Duration) {
        self.set_forceclose(true);
        let mut states = self.watch_states();
        let _ = tokio::time::timeout(
            wait,
            states.wait_for(|s| {
                !s.iter().any(|st| {
                    matches!(
                        st,
                        ConnState::Bound | ConnState::Connected | ConnState::Terminating
                    )
                })
            }),
        )
        .await;
        self.set_forceclose(false);
    }

    /// Resolves once force-close is clear (hold alone still lets a session stay bound).
    pub async fn wait_released_or_hold_only(&self) {
        let mut fc = self.forceclose.subscribe();
        let _ = fc.wait_for(|on| !*on).await;
    }

    /// Force-close as it changes, for a session's `select!`.
    pub fn watch_forceclose(&self) -> watch::Receiver<bool> {
        self.forceclose.subscribe()
    }

    /// Resolves when force-close gets set.
    pub async fn forceclose_set(&self) {
        let mut fc = self.forceclose.subscribe();
        let _ = fc.wait_for(|on| *on).await;
    }

    /// Wait while the connector is held, then take the next message session `instance` may
    /// send (parts of a long message stay on the session that took the first; see
    /// [`Queue::take_on`](crate::queue::Queue::take_on)).
    pub async fn next_unheld_on(
        &self,
        instance: u32,
        ttl: std::time::Duration,
    ) -> common::message::Message {
        let mut hold = self.hold.subscribe();
        loop {
            let _ = hold.wait_for(|on| !*on).await;
            tokio::select! {
                m = self.queue.next_on(instance, ttl) => {
                    if self.held() {
                        self.queue.put_back(m);
                        continue;
                    }
                    return m;
                }
                _ = async { let _ = hold.wait_for(|on| *on).await; } => {}
            }
        }
    }

    /// Wait while the connector is held, then take the next message for `user` (or for no
    /// user in particular) that the session on `instance` may have
    /// ([`may_take_on`](Self::may_take_on)).
    pub async fn next_unheld(&self, user: Option<&str>, instance: u32) -> Message {
        let mut hold = self.hold.subscribe();
        let pick = |m: &Message| self.may_take_on(instance, m);
        loop {
            let _ = hold.wait_for(|on| !*on).await;
            tokio::select! {
                m = self.queue.next_for(user, &pick) => {
                    if self.held() {
                        self.queue.put_back(m);
                        continue;
                    }
                    return m;
                }
                _ = async { let _ = hold.wait_for(|on| *on).await; } => {}
            }
        }
    }
}

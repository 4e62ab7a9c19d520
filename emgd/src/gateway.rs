//! The heart of the daemon: accepts messages from incoming sessions, routes and stores them,
//! and records what outgoing sessions report back (sent, failed, delivery reports).
//!
//! Sessions own their sockets; this owns the shared state they act on.

use crate::clock::now_us;
use crate::connector::{ConnectorHandle, Counters};
use crate::logs::Logs;
use crate::queue::Totals;
use crate::router::{NoRoute, Router};
use crate::store::{MessageState, Recovered, Store, StoreError, Write};
use common::dlr::DlrStatus;
use common::dlrid::{self, IdFormat};
use common::message::{DlrInfo, Message, MessageId, MsgType, NODE_ID_FACTOR};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::watch;

mod cmr;
mod dlr_expiry;
mod parts;
mod plugins;
mod queued;

pub use cmr::PartsKey;
pub use queued::QueuedError;

/// Why a message was not accepted. Each protocol maps these to its own error codes.
#[derive(Debug, thiserror::Error)]
pub enum Reject {
    /// Permanent: the routing table has nothing for it.
    #[error(transparent)]
    NoRoute(#[from] NoRoute),
    /// Temporary: the server-wide or the target connector's queue is full.
    #[error("queue full: {0}")]
    QueueFull(String),
    /// Temporary: the store could not commit it.
    #[error("message could not be stored: {0}")]
    Store(#[from] StoreError),
    /// The gateway is shutting down.
    #[error("gateway is shutting down")]
    ShuttingDown,
    /// Permanent: the blacklist refuses the source or destination address.
    #[error(transparent)]
    Refused(#[from] crate::process::Refused),
    /// A plugin refused it; its kind says whether for good and what about.
    #[error(transparent)]
    Plugin(#[from] crate::plugin::Refusal),
}

impl Reject {
    /// The sender may try again later.
    pub fn is_temporary(&self) -> bool {
        match self {
            Reject::Plugin(r) => r.kind.is_temporary(),
            other => !matches!(other, Reject::NoRoute(_) | Reject::Refused(_)),
        }
    }
}

/// What an open DLR entry remembers about the message it waits for, and since when (Unix µs:
/// it expires `dlr_expire` later). After a restart only the id is known until the message is
/// read back from the store.
#[derive(Debug, Clone)]
enum OpenEntry {
    Loaded(Box<Message>, i64),
    OnlyId(MessageId, i64),
}

impl OpenEntry {
    fn since_us(&self) -> i64 {
        match self {
            OpenEntry::Loaded(_, t) | OpenEntry::OnlyId(_, t) => *t,
        }
    }
}

/// A receipt waiting for its open DLR entry.
#[derive(Debug, Clone, Copy)]
struct ParkedReceipt {
    status: DlrStatus,
    error: u32,
    until: std::time::Instant,
}

/// Queue limits from the general options.
#[derive(Debug, Clone, Copy)]
struct Limits {
    total: Option<u64>,
    soft: Option<u64>,
}

pub struct Gateway {
    config: RwLock<Arc<config::Config>>,
    pub store: Arc<dyn Store>,
    connectors: BTreeMap<String, Arc<ConnectorHandle>>,
    router: RwLock<Arc<Router>>,
    open_dlrs: Mutex<HashMap<(String, String), OpenEntry>>,
    /// Receipts that matched no open entry yet, by (connector, normalised id): their submit
    /// response may still be on its way. Matched when `sent` registers the id.
    parked: Mutex<HashMap<(String, String), ParkedReceipt>>,
    /// Where the parts of long messages that clients send part by part were routed.
    cmr: cmr::Cmr,
    /// Long messages whose parts' receipts are still coming in.
    tallies: Mutex<HashMap<MessageId, parts::Tally>>,
    /// When the open DLR entries are next searched for expired ones (Unix µs).
    next_dlr_expiry: std::sync::atomic::AtomicI64,
    /// Per-user `throughput` limits, made on first use and dropped on reload.
    user_limits: Mutex<HashMap<String, Arc<crate::rate::RateLimiter>>>,
    next_id: AtomicU64,
    totals: Arc<Totals>,
    pub logs: Logs,
    shutdown: watch::Sender<bool>,
    /// Mapping, rewriting, masquerading, SAT and blacklist state (`crate::process`).
    pub(crate) process: crate::process::Processing,
    /// The compiled plugins (`crate::plugin`), swapped whole on reload.
    plugins: RwLock<Arc<crate::plugin::Plugins>>,
}

impl Gateway {
    /// Build the gateway from a validated configuration and what the store recovered.
    pub fn new(
        cfg: config::Config,
        store: Arc<dyn Store>,
        logs: Logs,
        recovered: &Recovered,
    ) -> Arc<Gateway> {
        let totals = Arc::new(Totals::default());
        let connectors: BTreeMap<String, Arc<ConnectorHandle>> = cfg
            .connectors
            .values()
            .map(|c| {
                (
                    c.name.clone(),
                    Arc::new(ConnectorHandle::new(
                        c.clone(),
                        totals.clone(),
                        Some(store.clone()),
                    )),
                )
            })
            .collect();
        for (name, hold, fc) in &recovered.flags {
            if let Some(c) = connectors.get(name) {
                c.set_hold(*hold);
                c.set_forceclose(*fc);
            }
        }
        let node_base = u64::from(cfg.general.nodeid) * NODE_ID_FACTOR;
        let next = recovered.max_id.max(node_base) + 1;
        let (still_open, tallies) = parts::recover(&recovered.open_dlrs);
        let open_dlrs = still_open
            .into_iter()
            .map(|d| {
                (
                    (d.connector.clone(), d.remote_id.clone()),
                    OpenEntry::OnlyId(d.message_id, d.created_us),
                )
            })
            .collect();
        let gw = Arc::new(Gateway {
            router: RwLock::new(Arc::new(Router::new(&cfg))),
            config: RwLock::new(Arc::new(cfg)),
            store,
            connectors,
            open_dlrs: Mutex::new(open_dlrs),
            parked: Mutex::new(HashMap::new()),
            tallies: Mutex::new(tallies),
            cmr: cmr::Cmr::default(),
            next_dlr_expiry: std::sync::atomic::AtomicI64::new(0),
            user_limits: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(next),
            totals,
            logs,
            shutdown: watch::channel(false).0,
            process: crate::process::Processing::new(&recovered.sat_entries),
            plugins: RwLock::default(),
        });
        for m in &recovered.queued {
            match gw.connectors.get(&m.target) {
                Some(c) => c.queue.push(m.clone()),
                None => tracing::warn!(
                    "message {} is queued for connector {}, which the configuration no longer has; it stays in the store",
                    m.id,
                    m.target
                ),
            }
        }
        for (target, spilled) in &recovered.spilled {
            match gw.connectors.get(target) {
                Some(c) => spilled.iter().for_each(|s| c.queue.push_spilled(*s)),
                None => tracing::warn!(
                    "{} messages are queued for connector {target}, which the configuration no longer has; they stay in the store",
                    spilled.len()
                ),
            }
        }
        gw
    }

    pub fn config(&self) -> Arc<config::Config> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn connector(&self, name: &str) -> Option<&Arc<ConnectorHandle>> {
        self.connectors.get(name)
    }

    pub fn connectors(&self) -> impl Iterator<Item = &Arc<ConnectorHandle>> {
        self.connectors.values()
    }

    /// Messages queued or in flight, server-wide.
    pub fn total_queued(&self) -> usize {
        self.totals.get()
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    pub(crate) fn allocate_id(&self) -> MessageId {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Apply a reloaded configuration: routes, users, limits and connector settings. Adding or
    /// removing connectors needs a restart (logged).
    pub fn reload(&self, cfg: config::Config) {
        self.user_limits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        for name in cfg.connectors.keys() {
            if !self.connectors.contains_key(name) {
                tracing::warn!("reload: new connector {name} will start at the next restart");
            }
        }
        for (name, handle) in &self.connectors {
            match cfg.connectors.get(name) {
                Some(c) => handle.set_config(c.clone()),
                None => tracing::warn!(
                    "reload: connector {name} was removed from the configuration; it keeps running until restart"
                ),
            }
        }
        *self.router.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Router::new(&cfg));
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(cfg);
    }

    /// Whether `user`'s `throughput` lets one more message in now (always, without a limit).
    /// A burst of a tenth of a second's worth is allowed, so windowed clients are not refused
    /// for sending a few submits back to back.
    pub fn user_allows(&self, user: &str) -> bool {
        let Some(rate) = self.config().users.get(user).and_then(|u| u.throughput) else {
            return true;
        };
        let limiter = self
            .user_limits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(user.to_string())
            .or_insert_with(|| {
                let burst = (rate / 10.0).ceil().max(1.0) as u32;
                Arc::new(crate::rate::RateLimiter::new(rate, burst))
            })
            .clone();
        limiter.try_take(std::time::Instant::now())
    }

    fn limits(&self) -> Limits {
        let cfg = self.config();
        Limits {
            total: cfg.general.maxtotalqueuesize,
            soft: cfg.general.maxtotalqueuesize_soft,
        }
    }

    /// Accept a message received on `message.origin.connector`: route it, check the queue
    /// limits, store it durably and queue it. Resolves with its id only once it is committed.
    pub async fn accept(&self, mut message: Message) -> Result<MessageId, Reject> {
        if self.is_shutting_down() {
            return Err(Reject::ShuttingDown);
        }
        let receiving = self.connectors.get(&message.origin.connector);
        if let Some(c) = receiving {
            Counters::add(&c.counters.received);
        }
        message = self.inbound(message).await?;
        let (mut message, forced) = self.plugins_on_receive(message).await?;
        let router = self
            .router
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let parts_key = cmr::PartsKey::of(&message);
        let now = std::time::Instant::now();
        let earlier = parts_key
            .as_ref()
            .and_then(|k| self.cmr.lookup(k, now))
            .filter(|c| self.connectors.contains_key(c));
        let routed = match earlier.or(forced) {
            Some(c) => Ok(c),
            None => router.route(&message, |name| {
                self.connectors.get(name).is_some_and(|c| c.is_up())
            }),
        };
        let target = match routed {
            Ok(t) => {
                if let Some(k) = parts_key {
                    let ttl = Duration::from_secs(self.config().general.cmrexpire);
                    self.cmr.remember(k, &t, now, ttl);
                }
                t
            }
            Err(no_route) => {
                message.id = self.allocate_id();
                message.received_us = now_us();
                let reason = no_route.to_string();
                self.store
                    .commit(vec![Write::Rejected {
                        message: Box::new(message),
                        reason,
                    }])
                    .await?;
                return Err(no_route.into());
            }
        };
        let Some(target_handle) = self.connectors.get(&target).cloned() else {
            // Validation guarantees routes name connectors; a group member removed on reload
            // could still get here.
            return Err(Reject::NoRoute(NoRoute {
                dest: message.dest.addr.clone(),
                connector: message.origin.connector.clone(),
                account: message.origin.account.clone(),
            }));
        };
        let exempt = receiving.is_some_and(|c| c.config().ignoremaxtotalqueuesize);
        if !exempt {
            self.check_limits(&target_handle).await?;
        }
        message.id = self.allocate_id();
        message.received_us = now_us();
        message.target = target;
        self.store.commit(vec![Write::enqueue(&message)]).await?;
        accepted_durably(&message);
        let id = message.id;
        target_handle.queue.push(message);
        Ok(id)
    }

    /// Accept a message for the connector `target`, bypassing routing (MGP `send --via`); the
    /// queue limits and the plugins' `before_receive` still apply (their `route` does not: the
    /// operator named the connector). Resolves with its id once it is committed.
    pub async fn accept_via(&self, message: Message, target: &str) -> Result<MessageId, Reject> {
        if self.is_shutting_down() {
            return Err(Reject::ShuttingDown);
        }
        let mut message = self.plugins_before_receive(message).await?;
        let Some(handle) = self.connectors.get(target).cloned() else {
            return Err(Reject::NoRoute(NoRoute {
                dest: message.dest.addr.clone(),
                connector: message.origin.connector.clone(),
                account: message.origin.account.clone(),
            }));
        };
        self.check_limits(&handle).await?;
        message.id = self.allocate_id();
        message.received_us = now_us();
        message.target = target.to_string();
        self.store.commit(vec![Write::enqueue(&message)]).await?;
        accepted_durably(&message);
        let id = message.id;
        handle.queue.push(message);
        Ok(id)
    }

    async fn check_limits(&self, target: &ConnectorHandle) -> Result<(), Reject> {
        let limits = self.limits();
        let total = self.totals.get() as u64;
        if let Some(max) = limits.total {
            if total >= max {
                return Err(Reject::QueueFull(format!(
                    "{total} messages queued, maxtotalqueuesize is {max}"
                )));
            }
        }
        if let Some(max) = target.config().maxqueuesize {
            let len = target.queue.len() as u64;
            if len >= max {
                return Err(Reject::QueueFull(format!(
                    "connector {} has {len} messages queued, its maxqueuesize is {max}",
                    target.name
                )));
            }
        }
        if let Some(soft) = limits.soft {
            if total >= soft {
                // EMG's soft limit: slow every sender down by 0.1 s per message.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// An outgoing session handed `message` to the next hop. With a remote id and a DLR
    /// requested, an open DLR entry now waits for the receipt.
    pub async fn sent(
        &self,
        connector: &ConnectorHandle,
        message: Message,
        remote_id: Option<String>,
    ) {
        let format = self.id_format(&connector.name);
        let remote_id = remote_id.map(|r| dlrid::normalise(&r, format));
        let awaiting = message.dlr_requested && message.msgtype != MsgType::Dlr;
        let (write, waiting) = match (&remote_id, awaiting) {
            // A delivery report handed on is simply done: one write instead of sent-then-done.
            _ if message.msgtype == MsgType::Dlr => (
                Write::finish(message, MessageState::Done, "DELIVERED", None),
                None,
            ),
            (Some(remote), true) => (
                Write::Sent {
                    id: message.id,
                    connector: connector.name.clone(),
                    remote_id: remote.clone(),
                },
                Some(message),
            ),
            _ => (
                Write::Handed {
                    message: Box::new(message),
                    remote_id: remote_id.clone(),
                },
                None,
            ),
        };
        // The entry becomes matchable only once its row is committed, so a receipt's CloseDlr
        // can never be committed before the row it closes; one arriving earlier is parked.
        self.commit_logged(vec![write]).await;
        let mut early = None;
        if let (Some(message), Some(remote)) = (waiting, &remote_id) {
            // Lock order parked -> open_dlrs, as in `receipt`: a receipt either sees the
            // entry or is parked before we look for it.
            let mut parked = self.lock_parked();
            self.lock_dlrs().insert(
                (connector.name.clone(), remote.clone()),
                OpenEntry::Loaded(Box::new(message), now_us()),
            );
            early = unpark(&mut parked, &connector.name, remote, format);
        }
        Counters::add(&connector.counters.sent);
        connector.queue.finished();
        if let (Some(parked), Some(remote)) = (early, &remote_id) {
            tracing::debug!(
                "connector {}: parked receipt for {remote} matched",
                connector.name
            );
            self.receipt(&connector.name, remote, parked.status, parked.error)
                .await;
        }
    }

    /// An outgoing session took `messages` and is about to submit them: record it before
    /// anything leaves, so a crash in between is known for what it is. False when the store
    /// failed (the caller puts the messages back).
    pub async fn submitting(&self, connector: &ConnectorHandle, messages: &[Message]) -> bool {
        self.commit_logged(vec![Write::Submitting {
            ids: messages.iter().map(|m| m.id).collect(),
            connector: connector.name.clone(),
        }])
        .await
    }

    /// `message` was taken from `connector`'s queue after its validity ended: it fails as
    /// EXPIRED without being sent, and its sender hears so.
    pub async fn expired(&self, connector: &ConnectorHandle, message: Message) {
        Counters::add(&connector.counters.failed);
        self.gw_log_expired(connector, &message);
        let dlr = self.report_for(&message, DlrStatus::Expired, 0);
        let mut writes = vec![Write::finish(
            message,
            MessageState::Failed,
            DlrStatus::Expired.stat_word(),
            Some("expired in queue".into()),
        )];
        writes.extend(dlr.iter().map(Write::enqueue));
        self.commit_logged(writes).await;
        connector.queue.finished();
        if let Some(d) = dlr {
            self.queue_report(d);
        }
    }

    /// Fail every queued message whose validity has ended, in every connector's queue, so
    /// a message behind a connector that is down or held does not wait past its validity.
    pub async fn sweep_expired(&self) {
        let now = now_us();
        for c in self.connectors.values() {
            let (in_memory, in_store) = c.queue.take_expired(now);
            for m in in_memory {
                self.expired(c, m).await;
            }
            if in_store.is_empty() {
                continue;
            }
            let wanted = in_store.len();
            match self.store.load_queued(in_store.clone()).await {
                Ok(messages) => {
                    // Any not loaded left the queue meanwhile: they no longer count.
                    for _ in messages.len()..wanted {
                        c.queue.finished();
                    }
                    for m in messages {
                        self.expired(c, m).await;
                    }
                }
                Err(e) => {
                    tracing::error!("cannot load expired messages of {}: {e}", c.name);
                    // Back in the queue, due, for the next sweep.
                    for id in in_store {
                        c.queue.finished();
                        c.queue.push_spilled(crate::queue::Spilled {
                            id,
                            expires_us: Some(now),
                        });
                    }
                }
            }
        }
    }

    fn gw_log_expired(&self, connector: &ConnectorHandle, message: &Message) {
        self.logs.connector(
            &connector.name,
            0,
            format!(
                "EXPIRED (info=\"message {} expired in queue after {} attempts\")",
                message.id, message.attempts
            ),
        );
    }

    /// The id format a connector's next hop uses.
    fn id_format(&self, connector: &str) -> IdFormat {
        match self
            .connectors
            .get(connector)
            .map(|c| c.config().dlr_id_format)
        {
            Some(config::DlrIdFormat::Hex) => IdFormat::Hex,
            Some(config::DlrIdFormat::Decimal) => IdFormat::Decimal,
            Some(config::DlrIdFormat::String) => IdFormat::String,
            _ => IdFormat::Auto,
        }
    }

    fn lock_parked(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), ParkedReceipt>> {
        self.parked.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next hop refused `message` with protocol `error` for `command`. The connector's
    /// retry scheme decides: requeue after the rule's hold delay, or fail the message (and
    /// report the failure to its sender).
    pub async fn failed(
        &self,
        connector: &Arc<ConnectorHandle>,
        mut message: Message,
        command: u32,
        error: u32,
    ) {
        Counters::add(&connector.counters.failed);
        let rule = connector
            .config()
            .retryscheme
            .message_rule(command, error)
            .cloned();
        let expired = message.expires_us.is_some_and(|t| t <= now_us());
        if let (Some(rule), false, false) = (rule, expired, self.is_shutting_down()) {
            message.attempts += 1;
            self.commit_logged(vec![Write::requeue(&message)]).await;
            let queue = connector.queue.clone();
            let delay = Duration::from_secs(rule.holddelay);
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                queue.put_back(message);
            });
            return;
        }
        let status = if expired {
            DlrStatus::Expired
        } else {
            DlrStatus::Rejected
        };
        let dlr = self.report_for(&message, status, error);
        let mut writes = vec![Write::finish(
            message,
            MessageState::Failed,
            status.stat_word(),
            Some(format!("0x{error:08x}")),
        )];
        writes.extend(dlr.iter().map(Write::enqueue));
        self.commit_logged(writes).await;
        connector.queue.finished();
        if let Some(d) = dlr {
            self.queue_report(d);
        }
    }

    /// A session gave up on `message` without an answer (connection lost, shutdown): it goes
    /// back to the head of its queue, unchanged.
    pub fn unsent(&self, connector: &ConnectorHandle, message: Message) {
        connector.queue.put_back(message);
    }

    /// A delivery receipt for `remote_id` arrived on `connector`.
    /// Returns false when no open entry matches.
    pub async fn receipt(
        &self,
        connector: &str,
        remote_id: &str,
        status: DlrStatus,
        error: u32,
    ) -> bool {
        let format = self.id_format(connector);
        let canon = dlrid::normalise(remote_id, format);
        let window = self
            .connectors
            .get(connector)
            .map_or(0, |c| c.config().dlr_park_seconds);
        let found = {
            let mut parked = self.lock_parked();
            let dlrs = self.lock_dlrs();
            let found = std::iter::once(canon.clone())
                .chain(dlrid::receipt_candidates(&canon, format))
                .find_map(|k| {
                    dlrs.get(&(connector.to_string(), k.clone()))
                        .cloned()
                        .map(|e| (k, e))
                });
            if found.is_none() && window > 0 {
                tracing::debug!(
                    "connector {connector}: receipt for {remote_id} parked for {window} s"
                );
                parked.insert(
                    (connector.to_string(), canon.clone()),
                    ParkedReceipt {
                        status,
                        error,
                        until: std::time::Instant::now() + Duration::from_secs(window),
                    },
                );
            }
            found
        };
        let Some((matched, entry)) = found else {
            return false;
        };
        self.settle((connector.to_string(), matched), entry, status, error)
            .await
    }

    /// The receipt for the open entry `key` says `status`: pass it on, and close the entry
    /// when it is final.
    async fn settle(
        &self,
        key: (String, String),
        entry: OpenEntry,
        status: DlrStatus,
        error: u32,
    ) -> bool {
        let connector = key.0.as_str();
        let remote_id = key.1.as_str();
        let original = match entry {
            OpenEntry::Loaded(m, _) => *m,
            OpenEntry::OnlyId(id, _) => match self.store.message(id).await {
                Ok(Some(stored)) => stored.message,
                Ok(None) => {
                    tracing::warn!("open DLR entry {connector}/{remote_id} names message {id}, which the store does not have");
                    self.lock_dlrs().remove(&key);
                    return false;
                }
                Err(e) => {
                    tracing::error!("cannot read message {id} for its receipt: {e}");
                    return false;
                }
            },
        };
        if self.is_multipart(original.id) {
            return self.part_receipt(key, original, status, error).await;
        }
        if !status.is_final() {
            // ENROUTE / ACCEPTD: pass it on, keep waiting for the final state.
            if let Some(report) = self.report_for(&original, status, error) {
                if self.commit_logged(vec![Write::enqueue(&report)]).await {
                    self.queue_report(report);
                }
            }
            return true;
        }
        if self.lock_dlrs().remove(&key).is_none() {
            // Another receipt for it (or its expiry) settled it meanwhile.
            return true;
        }
        let state = if status == DlrStatus::Delivered {
            MessageState::Done
        } else {
            MessageState::Failed
        };
        let report = self.report_for(&original, status, error);
        let mut writes = vec![
            Write::CloseDlr {
                connector: key.0,
                remote_id: key.1,
            },
            Write::finish(
                original,
                state,
                status.stat_word(),
                (error != 0).then(|| format!("{error}")),
            ),
        ];
        writes.extend(report.iter().map(Write::enqueue));
        if self.commit_logged(writes).await {
            if let Some(r) = report {
                self.queue_report(r);
            }
        }
        true
    }

    /// Open DLR entries a connector is waiting on, as (remote id, message id). The simulated
    /// SMSC uses this at start to finish the receipts a crash interrupted.
    pub fn open_dlrs_of(&self, connector: &str) -> Vec<String> {
        self.lock_dlrs()
            .keys()
            .filter(|(c, _)| c == connector)
            .map(|(_, r)| r.clone())
            .collect()
    }

    fn lock_dlrs(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), OpenEntry>> {
        self.open_dlrs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The DLR message that tells `original`'s sender its fate, when the sender asked for one
    /// and its connector is still configured.
    /// Plugins' `on_dlr` hooks see every report (asked for or not) and may change or hold it.
    fn report_for(&self, original: &Message, status: DlrStatus, error: u32) -> Option<Message> {
        let wanted =
            original.dlr_requested && self.connectors.contains_key(&original.origin.connector);
        if original.msgtype == MsgType::Dlr || (!wanted && self.plugins().is_empty()) {
            return None;
        }
        let now = now_us();
        let report = Message {
            msgtype: MsgType::Dlr,
            source: original.dest.clone(),
            dest: original.source.clone(),
            esm_class: 0x04,
            target: original.origin.connector.clone(),
            target_user: original.origin.user.clone(),
            origin: original.origin.clone(),
            dlr: Some(DlrInfo {
                message_id: original.id,
                reported_id: original
                    .origin
                    .client_ref
                    .clone()
                    .unwrap_or_else(|| original.id.to_string()),
                status,
                error,
                submit_us: original.received_us,
                done_us: now,
                text: text_excerpt(original),
            }),
            received_us: now,
            ..Default::default()
        };
        let mut report = self.plugins_on_dlr(original, report)?;
        if !wanted {
            return None;
        }
        report.id = self.allocate_id();
        Some(report)
    }

    fn queue_report(&self, report: Message) {
        if let Some(c) = self.connectors.get(&report.target) {
            c.queue.push(report);
        }
    }

    /// Commit writes that record an outcome. A store failure here cannot be reported to anyone
    /// useful; the message stays queued in the store and is sent again after a restart.
    async fn commit_logged(&self, writes: Vec<Write>) -> bool {
        match self.store.commit(writes).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!("store commit failed: {e}");
                false
            }
        }
    }
}

/// `message`, just accepted, is durable: record how long that took.
fn accepted_durably(message: &Message) {
    let us = (now_us() - message.received_us).max(0) as u64;
    crate::metrics::global()
        .accept_histogram(&message.origin.connector)
        .observe(Duration::from_micros(us));
}

/// The first 20 characters of a text message, for the receipt's `text:` field.
fn text_excerpt(m: &Message) -> String {
    match m.data_coding {
        0 | 1 | 3 => m
            .body
            .iter()
            .take(20)
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect(),
        _ => String::new(),
    }
}

/// Take a parked receipt for the entry just stored under `canon`, if one waits, and drop the
/// ones whose window has passed.
fn unpark(
    parked: &mut HashMap<(String, String), ParkedReceipt>,
    connector: &str,
    canon: &str,
    format: IdFormat,
) -> Option<ParkedReceipt> {
    if parked.is_empty() {
        return None;
    }
    let now = std::time::Instant::now();
    parked.retain(|(c, id), p| {
        let keep = p.until > now;
        if !keep {
            tracing::warn!("connector {c}: receipt for {id} matched no message within its parking window; dropped");
        }
        keep
    });
    std::iter::once(canon.to_string())
        .chain(dlrid::stored_aliases(canon, format))
        .find_map(|k| parked.remove(&(connector.to_string(), k)))
}

/// Resolves once shutdown has begun (for `select!` arms: it holds no borrow when done).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

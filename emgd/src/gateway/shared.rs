//! The gateway's state, shared by every session: configuration, store, connectors, router,
//! the DLR book, id allocation and the shutdown signal; built at start from what the store
//! recovered, and changed by reload.

use super::cmr::Cmr;
use super::dlr_book::DlrBook;
use super::limits::UserLimits;
use crate::connector::runtime::state::ConnectorHandle;
use crate::logs::Logs;
use crate::queue::Totals;
use crate::router::Router;
use crate::store::{Recovered, Store, Write};
use common::dlrid::IdFormat;
use common::message::{MessageId, NODE_ID_FACTOR};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, Weak};
use tokio::sync::watch;

/// The connectors by name.
pub type Connectors = BTreeMap<String, Arc<ConnectorHandle>>;

pub struct Gateway {
    pub(super) config: RwLock<Arc<config::Config>>,
    pub store: Arc<dyn Store>,
    /// Swapped whole when a reload adds a connector (a removed one stays, flagged, until
    /// restart: it drains or hands its queue back, then shows DEAD).
    pub(super) connectors: RwLock<Arc<Connectors>>,
    /// What a reload asks of the connector supervisor (`crate::connector::supervise`).
    pub(super) changes: super::changes::ChangeQueue,
    pub(super) router: RwLock<Arc<Router>>,
    /// Open DLR entries, parked receipts, long messages' tallies.
    pub(super) book: DlrBook,
    /// Receipts the book misses, looked up in a shared store.
    pub(super) dlr_lookup: super::dlr_lookup::StoreLookup,
    /// Where the parts of long messages that clients send part by part were routed.
    pub(super) cmr: Cmr,
    /// Parts of long messages held until they can be joined (`reassemble`).
    pub(super) reassembly: super::held_parts::Reassembly,
    /// Per-user `throughput` limits.
    pub(super) user_limits: UserLimits,
    /// When the open DLR entries are next searched for expired ones (Unix µs, `dlr_expiry`).
    pub(super) next_dlr_expiry: AtomicI64,
    next_id: AtomicU64,
    pub(super) totals: Arc<Totals>,
    pub logs: Logs,
    shutdown: watch::Sender<bool>,
    /// Mapping, rewriting, masquerading, SAT and blacklist state (`crate::process`).
    pub(super) process: crate::process::Processing,
    /// The compiled plugins (`crate::plugin`), swapped whole on reload.
    pub(super) plugins: RwLock<Arc<crate::plugin::Plugins>>,
    /// The gateway itself, for work a synchronous call hands to a task of its own (the
    /// delivery reports `before_send` and `on_dlr` inject, `super::plugins`).
    pub(super) me: Weak<Gateway>,
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
                c.set_forceclose_stored(*fc);
            }
        }
        let node_base = u64::from(cfg.general.nodeid) * NODE_ID_FACTOR;
        let next = recovered.max_id.max(node_base) + 1;
        let gw = Arc::new_cyclic(|me| Gateway {
            router: RwLock::new(Arc::new(Router::new(&cfg))),
            config: RwLock::new(Arc::new(cfg)),
            store,
            connectors: RwLock::new(Arc::new(connectors)),
            changes: Default::default(),
            book: DlrBook::recover(&recovered.open_dlrs),
            dlr_lookup: Default::default(),
            cmr: Cmr::default(),
            reassembly: super::held_parts::Reassembly::recover(&recovered.held_parts),
            user_limits: UserLimits::default(),
            next_dlr_expiry: AtomicI64::new(0),
            next_id: AtomicU64::new(next),
            totals,
            logs,
            shutdown: watch::channel(false).0,
            process: crate::process::Processing::new(&recovered.sat_entries),
            plugins: RwLock::default(),
            me: me.clone(),
        });
        for m in &recovered.queued {
            match gw.connector(&m.target) {
                Some(c) => c.queue.push_or_schedule(m.clone()),
                None => tracing::warn!(
                    "message {} is queued for connector {}, which the configuration no longer has; it stays in the store",
                    m.id,
                    m.target
                ),
            }
        }
        for (target, spilled) in &recovered.spilled {
            match gw.connector(target) {
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

    pub fn connector(&self, name: &str) -> Option<Arc<ConnectorHandle>> {
        self.snapshot().get(name).cloned()
    }

    /// Every connector, removed ones (DEAD, or draining) included.
    pub fn connectors(&self) -> Vec<Arc<ConnectorHandle>> {
        self.snapshot().values().cloned().collect()
    }

    /// The connectors as they are now (a reload may swap the map under you).
    pub(super) fn snapshot(&self) -> Arc<Connectors> {
        self.connectors
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(super) fn has_connector(&self, name: &str) -> bool {
        self.snapshot().contains_key(name)
    }

    /// A connector the configuration has (not one removed by a reload).
    pub(super) fn configured(&self, name: &str) -> Option<Arc<ConnectorHandle>> {
        self.connector(name).filter(|c| !c.removed())
    }

    /// Messages queued or in flight, server-wide.
    pub fn total_queued(&self) -> usize {
        self.totals.get()
    }

    /// Whether this node may send and accept now (a shared store's lease holds).
    pub fn fence(&self) -> &crate::queue::Fence {
        &self.totals.fence
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

    /// Whether the gateway takes traffic (`/health`): not shutting down, the store's commits
    /// succeed (since the last failed one, one has succeeded) and the store answers within
    /// 2 s. The error is the line to answer with.
    pub async fn health(&self) -> Result<(), String> {
        if self.is_shutting_down() {
            return Err("shutting down\n".into());
        }
        if let Some(why) = crate::metrics::global().store_failing() {
            return Err(format!("store commits failing: {why}\n"));
        }
        if !self.totals.fence.is_open(crate::clock::now_us()) {
            return Err("this node's lease on the shared store has lapsed\n".into());
        }
        let timeout = std::time::Duration::from_secs(2);
        match tokio::time::timeout(timeout, self.store.ping()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err("store error\n".into()),
            Err(_) => Err("store not answering\n".into()),
        }
    }

    /// The routing table in force.
    pub(super) fn router(&self) -> Arc<Router> {
        self.router
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The id format a connector's next hop uses.
    /// Whose open DLR entries a receipt on `connector` matches, and under which name the
    /// entries of messages sent on it are kept: its `dlr_group`, else the connector itself.
    pub(super) fn dlr_scope(&self, connector: &str) -> String {
        self.connector(connector)
            .and_then(|c| c.config().dlr_group.clone())
            .unwrap_or_else(|| connector.to_string())
    }

    /// The connector whose log tells of an entry kept under `scope`: the connector of that
    /// name, else the first member of that DLR group.
    pub(super) fn scope_connector(&self, scope: &str) -> String {
        if self.has_connector(scope) {
            return scope.to_string();
        }
        self.snapshot()
            .values()
            .find(|c| c.config().dlr_group.as_deref() == Some(scope))
            .map_or_else(|| scope.to_string(), |c| c.name.clone())
    }

    pub(super) fn id_format(&self, connector: &str) -> IdFormat {
        match self.connector(connector).map(|c| c.config().dlr_id_format) {
            Some(config::DlrIdFormat::Hex) => IdFormat::Hex,
            Some(config::DlrIdFormat::Decimal) => IdFormat::Decimal,
            Some(config::DlrIdFormat::String) => IdFormat::String,
            _ => IdFormat::Auto,
        }
    }

    /// Commit writes that record an outcome. A store failure here cannot be reported to anyone
    /// useful; the message stays queued in the store and is sent again after a restart.
    pub(super) async fn commit_logged(&self, writes: Vec<Write>) -> bool {
        match self.store.commit(writes).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!("store commit failed: {e}");
                false
            }
        }
    }
}

/// Resolves once shutdown has begun (for `select!` arms: it holds no borrow when done).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

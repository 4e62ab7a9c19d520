//! Putting a reloaded configuration in force on the gateway's side: routes, users, limits and
//! connector settings at once; connectors added, removed, or changed in what their sessions
//! were started with (type, protocol, address, instances, dlr_address) are handed to the
//! connector supervisor as [`Change`]s, since starting and stopping sessions is its job, not
//! the gateway's ([`super::changes`]). Also what the supervisor needs from the gateway to retire a connector:
//! [`Gateway::reroute_queue`].

use super::changes::Change;
use super::shared::Gateway;
use crate::connector::runtime::state::ConnectorHandle;
use crate::router::Router;
use crate::store::Write;
use std::sync::Arc;
use tokio::sync::mpsc;

/// What [`Gateway::reroute_queue`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rerouted {
    pub moved: usize,
    /// No route took them (or the store failed): still queued on the connector.
    pub kept: usize,
}

/// Messages rerouted per store commit.
const BATCH: usize = 500;

impl Gateway {
    /// The supervisor's end of the reload changes (`None` once taken).
    pub fn take_changes(&self) -> Option<mpsc::UnboundedReceiver<Change>> {
        self.changes.take()
    }

    fn ask(&self, change: Change) {
        self.changes.send(change);
    }

    /// Apply a reloaded configuration. Settings take effect at once, except those the
    /// sessions were started with: those the supervisor applies when it restarts them, so
    /// MGP shows the running values until then.
    pub fn reload(&self, mut cfg: config::Config) {
        keep_store_settings(&self.config().prices, &mut cfg.prices);
        self.user_limits.clear();
        let mut map = (*self.snapshot()).clone();
        let mut changes = Vec::new();
        for c in cfg.connectors.values() {
            match map.get(&c.name) {
                Some(handle) if handle.removed() => {
                    handle.set_config(c.clone());
                    handle.set_removed(false);
                    changes.push(Change::Start(handle.clone()));
                }
                Some(handle) => {
                    let mut now = c.clone();
                    let held = keep_until_restart(&handle.config(), &mut now);
                    handle.set_config(now);
                    if !held.is_empty() {
                        tracing::info!(
                            "reload: connector {}: {} changed; its sessions restart to take it",
                            c.name,
                            held.join(", ")
                        );
                        changes.push(Change::Restart(handle.clone(), Box::new(c.clone())));
                    }
                }
                None => {
                    let handle = Arc::new(ConnectorHandle::new(
                        c.clone(),
                        self.totals.clone(),
                        Some(self.store.clone()),
                    ));
                    tracing::info!("reload: new connector {} starts", c.name);
                    map.insert(c.name.clone(), handle.clone());
                    changes.push(Change::Start(handle));
                }
            }
        }
        for (name, handle) in &map {
            if !cfg.connectors.contains_key(name) && !handle.removed() {
                handle.set_removed(true);
                tracing::info!(
                    "reload: connector {name} was removed from the configuration; it stops ({:?} its {} queued messages)",
                    cfg.general.removed_queue,
                    handle.queue.len()
                );
                changes.push(Change::Remove(handle.clone()));
            }
        }
        *self.connectors.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(map);
        *self.router.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Router::new(&cfg));
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(cfg);
        changes.into_iter().for_each(|c| self.ask(c));
    }

    /// Route every message queued on `from` again by the routing table in force, and move
    /// it to the connector that takes it (durably, as `queue move` does). A message no route
    /// takes stays on `from`, as does a batch the store cannot commit: nothing is dropped.
    pub async fn reroute_queue(&self, from: &ConnectorHandle) -> Rerouted {
        let router = self.router();
        let mut done = Rerouted::default();
        let mut unroutable = Vec::new();
        loop {
            let taken = from.queue.take_matching(|_| true, BATCH).await;
            if taken.is_empty() {
                break;
            }
            let mut moving = Vec::new();
            for mut m in taken {
                let target = router
                    .route(&m, |name| self.configured(name).is_some_and(|c| c.is_up()))
                    .ok()
                    .and_then(|t| self.configured(&t));
                match target {
                    Some(t) if t.name != from.name => {
                        m.target = t.name.clone();
                        moving.push((m, t));
                    }
                    _ => unroutable.push(m),
                }
            }
            let writes = moving.iter().map(|(m, _)| Write::requeue(m)).collect();
            if let Err(e) = self.store.commit(writes).await {
                tracing::error!(
                    "connector {}: rerouting its queue stopped, the store failed: {e}",
                    from.name
                );
                unroutable.extend(moving.into_iter().map(|(mut m, _)| {
                    m.target = from.name.clone();
                    m
                }));
                break;
            }
            done.moved += moving.len();
            for (m, t) in moving {
                t.queue.push(m);
            }
        }
        done.kept = unroutable.len();
        for m in unroutable {
            from.queue.push(m);
        }
        done
    }
}

/// `refund_policy` and `summary_prefix_length` are the store writer's, fixed when it opened:
/// a reload that changes them is refused for them (logged), and `next` keeps the running
/// values, so what MGP and the metrics show is what is in force until the restart.
fn keep_store_settings(running: &config::PriceTable, next: &mut config::PriceTable) {
    if next.refund != running.refund {
        tracing::warn!(
            "reload: refund_policy stays {} until emgd restarts (the file now says {}); the store applies it from its start",
            refund_word(running.refund),
            refund_word(next.refund)
        );
        next.refund = running.refund;
    }
    if next.summary_prefix_length != running.summary_prefix_length {
        tracing::warn!(
            "reload: summary_prefix_length stays {} until emgd restarts (the file now says {}); an hour of the summary keeps one prefix length",
            running.summary_prefix_length,
            next.summary_prefix_length
        );
        next.summary_prefix_length = running.summary_prefix_length;
    }
}

/// The keyword's value for `policy`.
fn refund_word(policy: config::RefundPolicy) -> &'static str {
    match policy {
        config::RefundPolicy::None => "none",
        config::RefundPolicy::Rejected => "rejected",
        config::RefundPolicy::Failed => "failed",
    }
}

/// The settings a running connector's sessions were started with (its listener or its set
/// of instances has to start again to take them): `next` keeps the running values until the
/// restart. Returns the keywords that changed.
fn keep_until_restart(
    running: &config::Connector,
    next: &mut config::Connector,
) -> Vec<&'static str> {
    let mut held = Vec::new();
    if next.direction != running.direction {
        next.direction = running.direction;
        held.push("type");
    }
    if next.protocol != running.protocol {
        next.protocol = running.protocol;
        held.push("protocol");
    }
    if next.address != running.address {
        next.address = running.address.clone();
        held.push("address");
    }
    if next.instances != running.instances {
        next.instances = running.instances;
        held.push("instances");
    }
    if next.http.dlr_address != running.http.dlr_address {
        next.http.dlr_address = running.http.dlr_address.clone();
        held.push("dlr_address");
    }
    held
}

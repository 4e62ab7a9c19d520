//! `status`, `connectors`, `connector`, and the operations on a connector's flags: `hold`,
//! `release`, `bounce`, `forceclose`, `forceclose_clear`.

use super::server::{ok, OpResult, Server};
use crate::connector::runtime::state::{ConnState, ConnectorHandle};
use crate::store::{NodeSession, Write};
use common::mgp::{
    ConnectorDetail, ConnectorInfo, ConnectorList, ErrorBody, Flags, NodeSessions, Session, Status,
};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// How long `bounce` waits for the sessions to close before it lets them reconnect.
const BOUNCE_WAIT: Duration = Duration::from_secs(5);

pub fn find(s: &Server, name: &str) -> Result<Arc<ConnectorHandle>, ErrorBody> {
    s.gw.connector(name).ok_or_else(|| {
        let all = s.gw.connectors();
        let known: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
        ErrorBody::not_found(format!(
            "connector {name} does not exist (connectors: {})",
            known.join(", ")
        ))
    })
}

pub fn info(s: &Server, c: &ConnectorHandle) -> ConnectorInfo {
    let cfg = c.config();
    let states = c.shown_states();
    let counts = super::rates::counts(c);
    let [rate_sent, rate_received, rate_failed] = s.rates.rates(&c.name, counts);
    ConnectorInfo {
        name: c.name.clone(),
        direction: format!("{:?}", cfg.direction).to_lowercase(),
        protocol: format!("{:?}", cfg.protocol).to_lowercase(),
        bound: states.iter().filter(|s| **s == ConnState::Bound).count(),
        states: states.iter().map(ToString::to_string).collect(),
        instances: cfg.instances,
        hold: c.held(),
        forceclose: c.forceclosed(),
        queued: c.queue.len(),
        sent: counts[0],
        received: counts[1],
        failed: counts[2],
        rate_sent,
        rate_received,
        rate_failed,
        inflight: c.inflight(),
        nodes: Vec::new(),
    }
}

pub fn status(s: &Server) -> OpResult {
    let (mut sent, mut received, mut failed) = (0, 0, 0);
    for c in s.gw.connectors() {
        let [a, b, f] = super::rates::counts(&c);
        sent += a;
        received += b;
        failed += f;
    }
    ok(Status {
        version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_s: s.started.elapsed().as_secs(),
        node_id: s.gw.config().general.nodeid,
        connectors: s.gw.connectors().len(),
        total_queued: s.gw.total_queued(),
        sent,
        received,
        failed,
    })
}

pub fn all(s: &Server) -> Vec<ConnectorInfo> {
    s.gw.connectors().iter().map(|c| info(s, c)).collect()
}

/// Every connector; on a store other nodes share, with each live node's sessions of it.
pub async fn list(s: &Server) -> OpResult {
    let mut connectors = all(s);
    if s.gw.store.shared() {
        match s.gw.store.node_sessions().await {
            Ok(rows) => per_node(s, &mut connectors, &rows),
            // The list still answers, with this node's view alone.
            Err(e) => tracing::warn!("connectors: cannot read the other nodes' sessions: {e}"),
        }
    }
    ok(ConnectorList { connectors })
}

/// Fill in each connector's sessions per live node: this node's as they are now, the others'
/// as they last published them.
fn per_node(s: &Server, list: &mut [ConnectorInfo], rows: &[NodeSession]) {
    let this = s.gw.config().general.nodeid;
    let mut live: BTreeSet<u16> = rows
        .iter()
        .filter_map(|r| u16::try_from(r.nodeid).ok())
        .collect();
    live.insert(this);
    if live.len() < 2 {
        // A node alone on its store answers as on SQLite.
        return;
    }
    for info in list {
        info.nodes = live
            .iter()
            .map(|&node| {
                let users: Vec<Option<String>> = if node == this {
                    s.gw.connector(&info.name)
                        .map(|c| c.sessions().into_iter().map(|s| s.user).collect())
                        .unwrap_or_default()
                } else {
                    rows.iter()
                        .filter(|r| {
                            r.nodeid == i32::from(node)
                                && r.connector.as_deref() == Some(info.name.as_str())
                        })
                        .map(|r| r.user.clone())
                        .collect()
                };
                let bound = users.len();
                let mut users: Vec<String> = users.into_iter().flatten().collect();
                users.sort();
                users.dedup();
                NodeSessions {
                    node_id: node,
                    bound,
                    users,
                }
            })
            .collect();
    }
}

pub fn detail(s: &Server, name: &str) -> OpResult {
    let c = find(s, name)?;
    let cfg = c.config();
    let inflight = c.inflight();
    ok(ConnectorDetail {
        info: info(s, &c),
        address: cfg.address.clone(),
        mode: match cfg.mode {
            config::Mode::Both => "both",
            config::Mode::TransmitOnly => "transmit_only",
            config::Mode::ReceiveOnly => "receive_only",
        }
        .to_string(),
        windowsize: cfg.windowsize,
        throughput: cfg.throughput,
        maxqueuesize: cfg.maxqueuesize,
        users: cfg.users.clone(),
        route: cfg.route.clone(),
        sessions: c
            .sessions()
            .into_iter()
            .map(|s| Session {
                instance: s.instance,
                peer: s.peer,
                bind: s.bind,
                user: s.user,
                since_us: s.since_us,
                inflight: inflight.get(s.instance as usize).copied().unwrap_or(0),
            })
            .collect(),
    })
}

fn flags(c: &ConnectorHandle) -> OpResult {
    ok(Flags {
        connector: c.name.clone(),
        hold: c.held(),
        forceclose: c.forceclosed(),
        persisted: c.forceclose_stored(),
    })
}

/// `hold` (on) and `release` (off): sessions stay up, nothing is sent while held. Stored, so
/// a restart keeps it (a stored force-close stays as it is).
pub async fn hold(s: &Server, user: &str, name: &str, on: bool) -> OpResult {
    let c = find(s, name)?;
    s.gw.store
        .commit(vec![Write::ConnectorFlags {
            connector: name.to_string(),
            hold: on,
            forceclose: c.forceclose_stored(),
        }])
        .await
        .map_err(|e| ErrorBody::internal(format!("cannot store the flag: {e}")))?;
    c.set_hold(on);
    let what = if on { "HOLD" } else { "RELEASE" };
    s.gw.logs
        .connector(name, 0, format!("{what} (by operator {user})"));
    tracing::info!(operator = user, connector = name, "{}", what.to_lowercase());
    flags(&c)
}

/// Close every session now, wait (briefly) until they are down, then let them reconnect.
pub async fn bounce(s: &Server, user: &str, name: &str) -> OpResult {
    let c = find(s, name)?;
    if c.forceclosed() {
        return Err(ErrorBody::refused(format!(
            "connector {name} is force-closed; clear that with forceclose --clear {name}"
        )));
    }
    s.gw.logs
        .connector(name, 0, format!("BOUNCE (by operator {user})"));
    tracing::info!(operator = user, connector = name, "bounce");
    c.bounce(BOUNCE_WAIT).await;
    flags(&c)
}

/// Close every session and keep them closed; with `persist` (always on a shared store),
/// also after a restart.
pub async fn forceclose(s: &Server, user: &str, name: &str, persist: bool) -> OpResult {
    let c = find(s, name)?;
    // On a store other nodes share, the flag is stored either way: every node follows the
    // stored flags (gateway::cluster_flags), and the cluster has no one restart to end it.
    let persist = persist || s.gw.store.shared();
    if persist {
        s.gw.store
            .commit(vec![Write::ConnectorFlags {
                connector: name.to_string(),
                hold: c.held(),
                forceclose: true,
            }])
            .await
            .map_err(|e| ErrorBody::internal(format!("cannot store the flag: {e}")))?;
        c.set_forceclose_stored(true);
    }
    c.set_forceclose(true);
    let how = if persist { " persistent" } else { "" };
    s.gw.logs
        .connector(name, 0, format!("FORCE CLOSE{how} (by operator {user})"));
    tracing::info!(operator = user, connector = name, persist, "force close");
    flags(&c)
}

/// Clear force-close, stored or not.
pub async fn forceclose_clear(s: &Server, user: &str, name: &str) -> OpResult {
    let c = find(s, name)?;
    s.gw.store
        .commit(vec![Write::ConnectorFlags {
            connector: name.to_string(),
            hold: c.held(),
            forceclose: false,
        }])
        .await
        .map_err(|e| ErrorBody::internal(format!("cannot clear the stored flag: {e}")))?;
    c.set_forceclose_stored(false);
    c.set_forceclose(false);
    s.gw.logs
        .connector(name, 0, format!("FORCE CLOSE cleared (by operator {user})"));
    tracing::info!(operator = user, connector = name, "force close cleared");
    flags(&c)
}

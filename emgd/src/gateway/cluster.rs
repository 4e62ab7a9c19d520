//! A node of a cluster on a shared PostgreSQL store: renew this node's lease, and take over
//! the queues of nodes whose lease ran out, for the connectors this node has sessions on.
//!
//! What a node accepts is stored claimed by it and goes into its own queue; nothing else is
//! sent by it until its claimant is dead. A node whose lease could not be renewed takes
//! nothing over (another node may be taking its rows). Taken-over rows enter the connector's
//! queue like a restart's spilled ones (loaded from the store in batches as sessions need
//! them); rows the dead node was submitting are sent again: their peer may get them twice
//! (SMPP allows it), and they are counted. Each tick also hands reports and MO to the node
//! where their user is bound ([`super::cluster_lanes`]) and applies connector flags other
//! nodes set ([`super::cluster_flags`]), and publishes this node's bound sessions when they
//! changed (for `connectors` on every node).

use super::shared::Gateway;
use crate::store::postgres::lease::{Claimed, Leases, TAKEOVER_BATCH};
use crate::store::postgres::sessions::Published;
use crate::store::postgres::PostgresStore;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Most takeover statements one tick runs (a dead node's long queue is taken over across
/// ticks; what one tick claims is loaded as sessions need it).
const BATCHES_PER_TICK: usize = 25;

/// What this node took over since it started.
#[derive(Debug, Default)]
pub struct TakeoverCounts {
    /// Queued rows claimed from dead nodes.
    pub taken: AtomicU64,
    /// Of those, rows the dead node was submitting: sent again, maybe delivered twice.
    pub resent: AtomicU64,
}

/// Renew the lease every fifth of it and take over dead nodes' queues, until shutdown.
pub async fn run(gw: Arc<Gateway>, store: Arc<PostgresStore>, counts: Arc<TakeoverCounts>) {
    let leases = store.leases();
    let every = Duration::from_micros((leases.lease_us() / 5).max(100_000) as u64);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut renewed_until: Option<i64> = None;
    let mut renewing = false;
    let mut flags = super::cluster_flags::SeenFlags::default();
    let mut published: Option<Vec<Published>> = None;
    let mut shutdown = gw.shutdown_signal();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        if gw.is_shutting_down() {
            return;
        }
        match leases.renew(gw.total_queued() as u64).await {
            Ok(until) => {
                if !renewing {
                    tracing::info!(
                        "node {}: lease renewed, taking over dead nodes' queues",
                        store.node().id
                    );
                    renewing = true;
                }
                renewed_until = Some(until);
            }
            Err(e) => {
                let lapsed = renewed_until.is_none_or(|u| u <= crate::clock::now_us());
                tracing::error!(
                    "node {}: cannot renew its lease{}: {e}",
                    store.node().id,
                    if lapsed {
                        " (lapsed: other nodes may take its queue over)"
                    } else {
                        ""
                    }
                );
                renewing = false;
                continue;
            }
        }
        take_over(&gw, leases, &counts).await;
        super::cluster_lanes::exchange(&gw, leases).await;
        flags.follow(&gw, leases).await;
        publish_sessions(&gw, leases, &mut published).await;
    }
}

/// Publish this node's bound sessions when they changed since the last publication.
async fn publish_sessions(gw: &Gateway, leases: &Leases, published: &mut Option<Vec<Published>>) {
    let now: Vec<Published> = gw
        .connectors()
        .iter()
        .flat_map(|c| {
            c.sessions()
                .into_iter()
                .map(|s| (c.name.clone(), s.instance, s.user, s.since_us))
                .collect::<Vec<_>>()
        })
        .collect();
    if published.as_ref() == Some(&now) {
        return;
    }
    match leases.publish_sessions(&now).await {
        Ok(()) => *published = Some(now),
        Err(e) => tracing::error!("cannot publish this node's sessions for the other nodes: {e}"),
    }
}

/// The connectors this node may send through now: in the configuration, not held, with a
/// bound session, or sending without one (an incoming HTTP connector's callbacks, an
/// incoming SMTP connector's reports). A node without a session for one leaves its queue to
/// the others.
fn sending_connectors(gw: &Gateway) -> Vec<String> {
    gw.connectors()
        .into_iter()
        .filter(|c| {
            !c.removed()
                && !c.held()
                && (super::cluster_lanes::sends_without_session(c)
                    || (c.is_up() && !c.sessions().is_empty()))
        })
        .map(|c| c.name.clone())
        .collect()
}

async fn take_over(gw: &Gateway, leases: &Leases, counts: &TakeoverCounts) {
    let targets = sending_connectors(gw);
    for _ in 0..BATCHES_PER_TICK {
        let claimed = match leases.take_over(&targets).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("cannot take over the queues of dead nodes: {e}");
                return;
            }
        };
        let n = claimed.len();
        if n == 0 {
            return;
        }
        enqueue(gw, claimed, counts);
        if (n as i64) < TAKEOVER_BATCH {
            return;
        }
    }
}

/// Put taken-over rows into their connectors' queues.
fn enqueue(gw: &Gateway, claimed: Vec<Claimed>, counts: &TakeoverCounts) {
    let mut per_node: HashMap<i32, (u64, u64)> = HashMap::new();
    let mut woken = Vec::new();
    for c in claimed {
        let Some(handle) = gw.connector(&c.target) else {
            // Reloaded away between the choice and the claim: it stays claimed and queued
            // here, as after a restart without the connector.
            tracing::warn!(
                "message {} of node {} was taken over for connector {}, which is gone",
                c.spilled.id,
                c.from_node,
                c.target
            );
            continue;
        };
        let e = per_node.entry(c.from_node).or_default();
        e.0 += 1;
        if c.was_submitting {
            e.1 += 1;
        }
        handle.queue.push_spilled(c.spilled);
        if !woken.iter().any(|w: &String| w == &c.target) {
            woken.push(c.target.clone());
        }
    }
    for name in woken {
        if let Some(h) = gw.connector(&name) {
            h.queue.wake_all();
        }
    }
    for (node, (taken, resent)) in per_node {
        counts.taken.fetch_add(taken, Ordering::Relaxed);
        counts.resent.fetch_add(resent, Ordering::Relaxed);
        tracing::warn!(
            "took over {taken} queued messages of node {node}, whose lease ran out{}",
            if resent > 0 {
                format!(
                    "; {resent} were being submitted by it and are sent again (they may arrive twice)"
                )
            } else {
                String::new()
            }
        );
    }
}

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
//!
//! A node that is alive but could not renew (it stalled, or was cut from the database) stops
//! sending and accepting one renewal interval before its lease ends, by the fence every queue
//! checks ([`crate::queue::Fence`]); once its lease has lapsed it drops its in-memory queues
//! (the store keeps them: other nodes take them over). When it renews again it reloads only
//! the rows still claimed by it, then opens the fence.

use super::shared::Gateway;
use crate::store::postgres::lease::{Claimed, Leases, TAKEOVER_BATCH};
use crate::store::postgres::sessions::Published;
use crate::store::postgres::PostgresStore;
use crate::store::StoreError;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Most takeover statements one tick runs (a dead node's long queue is taken over across
/// ticks; what one tick claims is loaded as sessions need it).
const BATCHES_PER_TICK: usize = 25;

/// The renewal interval: a fifth of the lease (at least 100 ms).
fn interval(leases: &Leases) -> Duration {
    Duration::from_micros((leases.lease_us() / 5).max(100_000) as u64)
}

/// Renew the lease once, before the node's connectors start (they send only while it holds),
/// then every fifth of it, taking over dead nodes' queues, until shutdown.
pub async fn start(gw: Arc<Gateway>, store: Arc<PostgresStore>) -> Result<(), StoreError> {
    let until = store.leases().renew(gw.total_queued() as u64).await?;
    gw.fence().open_until(fence_end(store.leases(), until));
    tokio::spawn(run(gw, store, until));
    Ok(())
}

/// When the fence closes for a lease renewed until `until`: one renewal interval before
/// the lease ends, so this node has stopped sending before any other may take its queue.
fn fence_end(leases: &Leases, until: i64) -> i64 {
    until - interval(leases).as_micros() as i64
}

/// `until`: when the lease renewed last runs out.
async fn run(gw: Arc<Gateway>, store: Arc<PostgresStore>, mut until: i64) {
    let leases = store.leases();
    let every = interval(leases);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut lapsed = false;
    let mut flags = super::cluster_flags::SeenFlags::default();
    let mut published: Option<Vec<Published>> = None;
    let mut shutdown = gw.shutdown_signal();
    let node = store.node().id;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        if gw.is_shutting_down() {
            return;
        }
        if !lapsed && !gw.fence().is_open(crate::clock::now_us()) {
            lapsed = true;
            drop_queues(&gw, node);
        }
        // A renewal slower than half the lease counts as failed: the fence closes meanwhile.
        let renewed = tokio::time::timeout(
            Duration::from_micros((leases.lease_us() / 2) as u64),
            leases.renew(gw.total_queued() as u64),
        )
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Database(
                "PostgreSQL did not answer the lease renewal in time".into(),
            ))
        });
        let renewed_until = match renewed {
            Ok(u) => u,
            Err(e) => {
                tracing::error!(
                    "node {node}: cannot renew its lease{}: {e}",
                    if lapsed {
                        " (lapsed: it sends and accepts nothing, other nodes take its queue over)"
                    } else {
                        ""
                    }
                );
                continue;
            }
        };
        // Renewed only after the lease ran out (a slow statement, waiting for a takeover's
        // lock): another node may have taken the queue meanwhile.
        if !lapsed && crate::clock::now_us() >= until {
            lapsed = true;
            drop_queues(&gw, node);
        }
        until = renewed_until;
        if lapsed {
            match reload_own(&gw, leases).await {
                Ok(n) => {
                    tracing::warn!(
                        "node {node}: lease renewed after it lapsed; reloaded the {n} queued messages still claimed by it, sending and accepting again"
                    );
                    lapsed = false;
                }
                Err(e) => {
                    tracing::error!(
                        "node {node}: lease renewed, but its queue cannot be reloaded: {e}"
                    );
                    continue;
                }
            }
        }
        gw.fence().open_until(fence_end(leases, until));
        take_over(&gw, leases).await;
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

/// The lease lapsed: forget what waits in memory (the store keeps it, claimed by this node
/// until another takes it over). Commits under way may still put messages in memory; the
/// fence keeps them there until the reload drops them again.
fn drop_queues(gw: &Gateway, node: u16) {
    crate::metrics::global().lease_lapsed();
    let dropped: usize = gw.connectors().iter().map(|c| c.queue.drop_waiting()).sum();
    tracing::error!(
        "node {node}: its lease lapsed (not renewed in time): it stopped sending and refuses new messages (temporary error); dropped {dropped} queued messages from memory, left in the store for the node that takes them over"
    );
}

/// After a lapse: drop what waits in memory again (messages committed meanwhile were put
/// there) and load the rows still claimed by this node. How many.
async fn reload_own(gw: &Gateway, leases: &Leases) -> Result<usize, StoreError> {
    let _reloading = gw.fence().reloading().await;
    let rows = leases.own_queue().await?;
    for c in gw.connectors() {
        c.queue.drop_waiting();
    }
    let mut n = 0;
    for (target, spilled) in rows {
        // A connector gone by a reload keeps its rows in the store, as after a restart.
        if let Some(c) = gw.connector(&target) {
            c.queue.push_spilled(spilled);
            n += 1;
        }
    }
    for c in gw.connectors() {
        c.queue.wake_all();
    }
    Ok(n)
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

async fn take_over(gw: &Gateway, leases: &Leases) {
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
        enqueue(gw, claimed);
        if (n as i64) < TAKEOVER_BATCH {
            return;
        }
    }
}

/// Put taken-over rows into their connectors' queues.
fn enqueue(gw: &Gateway, claimed: Vec<Claimed>) {
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
        crate::metrics::global().took_over(taken, resent);
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

//! Reports and MO go back through whichever node holds the user's session: each tick of
//! [`super::cluster`], a node releases to the store the waiting messages of users with no
//! receiving session on it (when another node lives), and claims the released rows of users
//! bound on it (`store::postgres::lanes`).
//!
//! Only connectors whose sessions take messages per user do this; an incoming HTTP or SMTP
//! connector sends every user's reports from one sender, on whichever node queued them.

use super::shared::Gateway;
use crate::connector::runtime::state::ConnectorHandle;
use crate::store::postgres::lease::Leases;
use std::collections::HashMap;
use std::sync::Arc;

/// Whether `c`'s queue is sent with no session (one sender for every user: the callbacks
/// of an incoming HTTP connector, the reports of an incoming SMTP one).
pub fn sends_without_session(c: &ConnectorHandle) -> bool {
    let cfg = c.config();
    cfg.direction == config::Direction::Incoming
        && matches!(
            cfg.protocol,
            config::Protocol::Http | config::Protocol::Smtp
        )
        && cfg.mode != config::Mode::ReceiveOnly
}

/// The users with a session on `c` that takes messages (not an SMPP transmitter).
fn receiving_users(c: &ConnectorHandle) -> Vec<String> {
    let mut users: Vec<String> = c
        .sessions()
        .into_iter()
        .filter(|s| s.receives())
        .filter_map(|s| s.user)
        .collect();
    users.sort();
    users.dedup();
    users
}

/// One tick: release what waits here for users bound elsewhere, claim what waits for users
/// bound here.
pub async fn exchange(gw: &Gateway, leases: &Leases) {
    let connectors: Vec<_> = gw
        .connectors()
        .into_iter()
        .filter(|c| !c.removed() && !sends_without_session(c))
        .collect();
    release(leases, &connectors).await;
    claim(gw, leases, &connectors).await;
}

async fn release(leases: &Leases, connectors: &[Arc<ConnectorHandle>]) {
    let now = crate::clock::now_us();
    let mut lanes = Vec::new();
    for c in connectors {
        let bound = receiving_users(c);
        for user in c.queue.waiting_users() {
            if bound.contains(&user) {
                continue;
            }
            lanes.push((c.clone(), user));
        }
    }
    if lanes.is_empty() {
        return;
    }
    match leases.others_live().await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::error!("cannot read the nodes' leases: {e}");
            return;
        }
    }
    for (c, user) in lanes {
        let Some(lane) = c.queue.take_lane(&user, now) else {
            continue;
        };
        let rows: Vec<_> = lane
            .loaded
            .iter()
            .map(|m| m.id)
            .chain(lane.spilled.iter().map(|s| s.id))
            .map(|id| (id, user.clone()))
            .collect();
        if rows.is_empty() {
            continue;
        }
        match leases.release(&rows).await {
            Ok(released) => {
                tracing::info!(
                    connector = c.name.as_str(),
                    user = user.as_str(),
                    "connector {}: released {} messages waiting for user {user} (no session of it here) to the node where it binds",
                    c.name,
                    released.len()
                );
            }
            Err(e) => {
                tracing::error!(
                    "connector {}: cannot release user {user}'s waiting messages for another node: {e}",
                    c.name
                );
                for m in lane.loaded {
                    c.queue.push(m);
                }
                for s in lane.spilled {
                    c.queue.push_spilled_to(Some(user.clone()), s);
                }
            }
        }
    }
}

async fn claim(gw: &Gateway, leases: &Leases, connectors: &[Arc<ConnectorHandle>]) {
    let bound: Vec<(String, String)> = connectors
        .iter()
        .flat_map(|c| {
            receiving_users(c)
                .into_iter()
                .map(|u| (c.name.clone(), u))
                .collect::<Vec<_>>()
        })
        .collect();
    let configured: Vec<String> = connectors.iter().map(|c| c.name.clone()).collect();
    loop {
        let claimed = match leases.claim_released(&bound, &configured).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("cannot claim messages released by other nodes: {e}");
                return;
            }
        };
        let n = claimed.len();
        let mut per: HashMap<(String, Option<String>), usize> = HashMap::new();
        for c in claimed {
            let Some(handle) = gw.connector(&c.target) else {
                continue;
            };
            *per.entry((c.target.clone(), c.user.clone())).or_default() += 1;
            handle.queue.push_spilled_to(c.user, c.spilled);
        }
        for ((connector, user), count) in per {
            match user {
                Some(user) => tracing::info!(
                    connector = connector.as_str(),
                    user = user.as_str(),
                    "connector {connector}: claimed {count} messages waiting for user {user}, released by other nodes"
                ),
                None => tracing::info!(
                    connector = connector.as_str(),
                    "connector {connector}: claimed {count} expired messages released by other nodes, to expire them"
                ),
            }
        }
        if (n as i64) < crate::store::postgres::lanes::CLAIM_BATCH {
            return;
        }
    }
}

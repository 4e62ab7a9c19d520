//! `queue_list`, `queue_move`, `queue_clear`. Only waiting messages move or clear; those in
//! flight finish where they are.

use super::connectors::find;
use super::server::{ok, OpResult, Server};
use crate::clock::now_us;
use crate::store::{MessageState, Write};
use common::mgp::{ErrorBody, QueueCleared, QueueList, QueueMoved, QueueSize, QueuedMessage};

/// Messages `queue_list NAME` shows when the client gives no limit.
pub const DEFAULT_LIST_LIMIT: usize = 20;

pub fn list(s: &Server, name: Option<&str>, limit: Option<usize>) -> OpResult {
    let size = |c: &crate::connector::runtime::state::ConnectorHandle| QueueSize {
        connector: c.name.clone(),
        queued: c.queue.len(),
        waiting: c.queue.waiting(),
    };
    let Some(name) = name else {
        return ok(QueueList {
            queues: s.gw.connectors().iter().map(|c| size(c)).collect(),
            messages: Vec::new(),
        });
    };
    let c = find(s, name)?;
    let now = now_us();
    let messages = c
        .queue
        .peek(limit.unwrap_or(DEFAULT_LIST_LIMIT))
        .into_iter()
        .map(|m| QueuedMessage {
            id: m.id,
            source: m.source.addr,
            dest: m.dest.addr,
            attempts: m.attempts,
            age_s: (now.saturating_sub(m.received_us).max(0) / 1_000_000) as u64,
        })
        .collect();
    ok(QueueList {
        queues: vec![size(&c)],
        messages,
    })
}

/// Messages moved or cleared per store transaction, so a queue of millions never sits in
/// memory at once.
const BATCH: usize = 10_000;

/// Move the waiting messages of `from` (all, or those whose destination starts with
/// `dest_prefix`) to the end of `to`'s queue; the store records the new target first.
pub async fn move_queue(
    s: &Server,
    user: &str,
    from: &str,
    to: &str,
    dest_prefix: Option<&str>,
) -> OpResult {
    let source = find(s, from)?;
    let target = find(s, to)?;
    if from == to {
        return Err(ErrorBody::refused(format!(
            "cannot move queue {from} onto itself"
        )));
    }
    let mut moved = 0;
    loop {
        let mut taken = source
            .queue
            .take_matching(
                |m| dest_prefix.is_none_or(|p| m.dest.addr.starts_with(p)),
                BATCH,
            )
            .await;
        if taken.is_empty() {
            break;
        }
        for m in &mut taken {
            m.target = to.to_string();
        }
        let writes = taken.iter().map(Write::requeue).collect();
        if let Err(e) = s.gw.store.commit(writes).await {
            for mut m in taken {
                m.target = from.to_string();
                source.queue.push(m);
            }
            return Err(ErrorBody::internal(format!(
                "queue move stopped after {moved} messages, the store failed: {e}"
            )));
        }
        moved += taken.len();
        for m in taken {
            target.queue.push(m);
        }
    }
    s.gw.logs.connector(
        from,
        0,
        format!("QUEUE MOVE {moved} messages to {to} (by operator {user})"),
    );
    tracing::info!(operator = user, from, to, moved, "queue moved");
    ok(QueueMoved {
        from: from.to_string(),
        to: to.to_string(),
        moved,
    })
}

/// Cancel every waiting message of `name`.
pub async fn clear(s: &Server, user: &str, name: &str) -> OpResult {
    let c = find(s, name)?;
    let mut cleared = 0;
    loop {
        let taken = c.queue.take_matching(|_| true, BATCH).await;
        if taken.is_empty() {
            break;
        }
        let writes = taken
            .iter()
            .map(|m| {
                Write::finish(
                    m.clone(),
                    MessageState::Cancelled,
                    "CANCELLED",
                    Some(format!("queue cleared by operator {user}")),
                )
            })
            .collect();
        if let Err(e) = s.gw.store.commit(writes).await {
            for m in taken {
                c.queue.push(m);
            }
            return Err(ErrorBody::internal(format!(
                "queue clear stopped after {cleared} messages, the store failed: {e}"
            )));
        }
        cleared += taken.len();
    }
    s.gw.logs.connector(
        name,
        0,
        format!("QUEUE CLEAR {cleared} messages (by operator {user})"),
    );
    tracing::info!(operator = user, connector = name, cleared, "queue cleared");
    ok(QueueCleared {
        connector: name.to_string(),
        cleared,
    })
}

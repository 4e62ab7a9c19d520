//! Messages whose validity ended while they waited: every connector's queue is searched (once
//! a second, by the daemon's sweep task), so a message behind a connector that is down or
//! held does not wait past its validity.

use super::shared::Gateway;
use crate::clock::now_us;
use crate::connector::runtime::state::ConnectorHandle;
use crate::queue::Spilled;
use common::message::Message;

/// Expired messages loaded from the store at once.
const EXPIRE_BATCH: usize = 1_000;

impl Gateway {
    /// Fail every queued message whose validity has ended, in every connector's queue.
    pub async fn sweep_expired(&self) {
        let now = now_us();
        for c in self.connectors() {
            let (in_memory, in_store) = c.queue.take_expired(now);
            self.expire_all(&c, in_memory).await;
            if in_store.is_empty() {
                continue;
            }
            // In batches: a long backlog expiring at once (reports for a client that never
            // came back) is never all in memory.
            for batch in in_store.chunks(EXPIRE_BATCH) {
                match self.store.load_queued(batch.to_vec()).await {
                    Ok(messages) => {
                        // Any not loaded left the queue meanwhile: they no longer count.
                        for _ in messages.len()..batch.len() {
                            c.queue.finished();
                        }
                        self.expire_all(&c, messages).await;
                    }
                    Err(e) => {
                        tracing::error!("cannot load expired messages of {}: {e}", c.name);
                        // Back in the queue, due, for the next sweep.
                        for &id in batch {
                            c.queue.finished();
                            c.queue.push_spilled(Spilled {
                                id,
                                expires_us: Some(now),
                            });
                        }
                    }
                }
            }
        }
    }

    /// Fail `messages` as expired, a batch of commits at a time (the store groups them).
    async fn expire_all(&self, c: &ConnectorHandle, messages: Vec<Message>) {
        let mut messages = messages.into_iter().peekable();
        while messages.peek().is_some() {
            let batch = messages
                .by_ref()
                .take(EXPIRE_BATCH)
                .map(|m| self.expired(c, m));
            futures_util::future::join_all(batch).await;
        }
    }
}

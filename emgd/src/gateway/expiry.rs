//! Messages whose validity ended while they waited: every connector's queue is searched (once
//! a second, by the daemon's sweep task), so a message behind a connector that is down or
//! held does not wait past its validity.

use super::shared::Gateway;
use crate::clock::now_us;
use crate::queue::Spilled;

impl Gateway {
    /// Fail every queued message whose validity has ended, in every connector's queue.
    pub async fn sweep_expired(&self) {
        let now = now_us();
        for c in self.connectors() {
            let (in_memory, in_store) = c.queue.take_expired(now);
            for m in in_memory {
                self.expired(&c, m).await;
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
                        self.expired(&c, m).await;
                    }
                }
                Err(e) => {
                    tracing::error!("cannot load expired messages of {}: {e}", c.name);
                    // Back in the queue, due, for the next sweep.
                    for id in in_store {
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

//! Operations on a message still waiting in its queue, for MGP (`msg cancel`) and for the
//! SMPP client that sent it (cancel_sm, replace_sm).

use super::shared::Gateway;
use crate::store::{MessageState, StoreError, Write};
use common::message::{Message, MessageId};

/// Why a queued-message operation did nothing.
#[derive(Debug, thiserror::Error)]
pub enum QueuedError {
    #[error("message {0} does not exist")]
    NotFound(MessageId),
    #[error("message {0} is {1}; only queued messages can be changed")]
    NotQueued(MessageId, &'static str),
    #[error("message {0} is being sent on {1} right now")]
    InFlight(MessageId, String),
    #[error("message {0} is not yours")]
    NotOwner(MessageId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Gateway {
    /// Take message `id` out of its queue, if it is waiting there and `may` allows it.
    async fn take_queued(
        &self,
        id: MessageId,
        may: impl Fn(&Message) -> bool,
    ) -> Result<(Message, String), QueuedError> {
        let stored = self
            .store
            .message(id)
            .await?
            .ok_or(QueuedError::NotFound(id))?;
        if !may(&stored.message) {
            return Err(QueuedError::NotOwner(id));
        }
        if stored.state != MessageState::Queued {
            return Err(QueuedError::NotQueued(id, stored.state.name()));
        }
        let target = stored.message.target.clone();
        let connector = self
            .connector(&target)
            .ok_or_else(|| QueuedError::InFlight(id, target.clone()))?;
        match connector.queue.take_id(id).await {
            Some(m) => Ok((m, target)),
            None => Err(QueuedError::InFlight(id, target)),
        }
    }

    /// Cancel message `id` while it waits in its queue; `why` goes into the routelog. Returns
    /// the connector it was queued on.
    pub async fn cancel_queued(
        &self,
        id: MessageId,
        why: String,
        may: impl Fn(&Message) -> bool,
    ) -> Result<String, QueuedError> {
        let (m, target) = self.take_queued(id, may).await?;
        let commit = self
            .store
            .commit(vec![Write::finish(
                m.clone(),
                MessageState::Cancelled,
                "CANCELLED",
                Some(why),
            )])
            .await;
        if let Err(e) = commit {
            self.put_back_queued(&target, m);
            return Err(e.into());
        }
        Ok(target)
    }

    /// Change message `id` with `edit` while it waits in its queue (replace_sm).
    pub async fn replace_queued(
        &self,
        id: MessageId,
        may: impl Fn(&Message) -> bool,
        edit: impl FnOnce(&mut Message),
    ) -> Result<(), QueuedError> {
        let (mut m, target) = self.take_queued(id, may).await?;
        let original = m.clone();
        edit(&mut m);
        let commit = self.store.commit(vec![Write::requeue(&m)]).await;
        match commit {
            Ok(()) => {
                self.put_back_queued(&target, m);
                Ok(())
            }
            Err(e) => {
                self.put_back_queued(&target, original);
                Err(e.into())
            }
        }
    }

    /// Return a message taken by `take_queued` (it stopped counting when taken).
    fn put_back_queued(&self, target: &str, m: Message) {
        if let Some(c) = self.connector(target) {
            c.queue.push(m);
        }
    }
}

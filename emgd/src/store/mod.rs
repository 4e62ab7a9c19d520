//! Durable storage of messages, queue state, open delivery-report entries, the routelog and
//! persisted connector flags.
//!
//! The rest of the daemon talks to the store through [`Store`]: it sends a batch of writes and
//! awaits their commit. Batches from every session are committed together (group commit), so a
//! submit is acknowledged only after it is on disk, without one fsync per message.

pub mod schema;
pub mod sqlite;

use common::message::{Message, MessageId};
use std::future::Future;
use std::pin::Pin;

/// The message's life as the store records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageState {
    /// Waiting in its target connector's queue (or being sent).
    Queued = 0,
    /// Handed to the next hop; a delivery report is awaited.
    Sent = 1,
    /// Final: delivered, or handed over with no report expected.
    Done = 2,
    /// Final: failed.
    Failed = 3,
    /// Final: cancelled by an operator.
    Cancelled = 4,
}

impl MessageState {
    pub fn from_code(code: i64) -> Option<MessageState> {
        Some(match code {
            0 => MessageState::Queued,
            1 => MessageState::Sent,
            2 => MessageState::Done,
            3 => MessageState::Failed,
            4 => MessageState::Cancelled,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::Sent => "sent",
            MessageState::Done => "done",
            MessageState::Failed => "failed",
            MessageState::Cancelled => "cancelled",
        }
    }
}

/// One durable change. A batch of them commits atomically.
#[derive(Debug, Clone)]
pub enum Write {
    /// A newly accepted message, queued for `message.target`, with its routelog row.
    Enqueue {
        message: Box<Message>,
        route: String,
    },
    /// A message rejected before queueing (no route, full queue ...), kept in the routelog only.
    Rejected {
        message: Box<Message>,
        reason: String,
    },
    /// Replace the stored copy of a queued message (attempt count, target after a move).
    Requeue { message: Box<Message> },
    /// Sent to the next hop. With `remote_id`, an open DLR entry keyed by (connector, remote id).
    Sent {
        id: MessageId,
        connector: String,
        remote_id: Option<String>,
        awaiting_dlr: bool,
    },
    /// Final state, with the routelog status word and error text.
    Finish {
        id: MessageId,
        state: MessageState,
        status: String,
        error: Option<String>,
    },
    /// The open DLR entry was matched (or expired): remove it.
    CloseDlr {
        connector: String,
        remote_id: String,
    },
    /// Persisted connector flags (operator hold and force-close).
    ConnectorFlags {
        connector: String,
        hold: bool,
        forceclose: bool,
    },
}

/// An open delivery-report entry as loaded at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDlr {
    pub connector: String,
    pub remote_id: String,
    pub message_id: MessageId,
}

/// What the store holds about one message, for lookups.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub message: Message,
    pub state: MessageState,
    pub remote_id: Option<String>,
    pub status: Option<String>,
    pub updated_us: i64,
}

/// Everything a restarted daemon needs to carry on where the last one stopped.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Messages not yet handed on, oldest first.
    pub queued: Vec<Message>,
    pub open_dlrs: Vec<OpenDlr>,
    /// Connector name, hold, force-close.
    pub flags: Vec<(String, bool, bool)>,
    /// Highest message id ever stored (0 if none).
    pub max_id: MessageId,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store database error: {0}")]
    Database(String),
    #[error("store is shut down")]
    Closed,
    #[error("stored message {0} cannot be decoded: {1}")]
    Corrupt(MessageId, String),
}

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A durable store. SQLite is the embedded default; PostgreSQL will implement the same trait.
pub trait Store: Send + Sync {
    /// Commit `writes` atomically; resolves once they are durable.
    fn commit(&self, writes: Vec<Write>) -> StoreFuture<'_, ()>;
    /// Load the state a restart resumes from.
    fn recover(&self) -> StoreFuture<'_, Recovered>;
    /// Look a message up by id.
    fn message(&self, id: MessageId) -> StoreFuture<'_, Option<StoredMessage>>;
    /// Message ids waiting in a connector's queue that the store holds (for checks and tools).
    fn queued_count(&self, connector: &str) -> StoreFuture<'_, u64>;
    /// Flush and stop; later calls fail with [`StoreError::Closed`].
    fn close(&self) -> StoreFuture<'_, ()>;
}

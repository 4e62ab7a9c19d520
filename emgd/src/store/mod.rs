//! Durable storage of messages, queue state, open delivery-report entries, the routelog and
//! persisted connector flags.
//!
//! The rest of the daemon talks to the store through [`Store`]: it sends a batch of writes and
//! awaits their commit. Batches from every session are committed together (group commit), so a
//! submit is acknowledged only after it is on disk, without one fsync per message.

pub mod schema;
pub mod sqlite;

use common::message::{Message, MessageId};
use std::collections::HashMap;
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
    /// Taken by an outgoing session, which records this before the submit leaves. A message
    /// found in this state after a crash may or may not have reached the next hop; it is
    /// queued again (the possible duplicate is logged).
    Submitting = 5,
}

impl MessageState {
    pub fn from_code(code: i64) -> Option<MessageState> {
        Some(match code {
            0 => MessageState::Queued,
            1 => MessageState::Sent,
            2 => MessageState::Done,
            3 => MessageState::Failed,
            4 => MessageState::Cancelled,
            5 => MessageState::Submitting,
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
            MessageState::Submitting => "submitting",
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
    /// An outgoing session is about to submit these messages on `connector`.
    Submitting {
        ids: Vec<MessageId>,
        connector: String,
    },
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
    /// A long message went out in parts: one open DLR entry per part's remote id.
    SentParts {
        id: MessageId,
        connector: String,
        remote_ids: Vec<String>,
        awaiting_dlr: bool,
    },
    /// The open DLR entry was matched (or expired): remove it.
    CloseDlr {
        connector: String,
        remote_id: String,
    },
    /// One part of a long message got its final receipt while other parts still wait: the
    /// entry stays, remembering the part's state.
    PartDone {
        connector: String,
        remote_id: String,
        status: String,
        error: u32,
    },
    /// Every part of a long message is final: remove all its entries.
    CloseDlrsOf { message_id: MessageId },
    /// Persisted connector flags (operator hold and force-close).
    ConnectorFlags {
        connector: String,
        hold: bool,
        forceclose: bool,
    },
    /// A SAT pool entry created or refreshed (replaces the one for the same pool, recipient
    /// and pool address).
    SatEntry { entry: SatEntry },
    /// Drop the SAT entries that expired before `before_us`.
    SatPurge { before_us: i64 },
}

/// A SAT (source address translation) entry: in `pool`, messages to `dest` carried `sat_addr`
/// in place of `original` until `expires_us`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SatEntry {
    pub pool: String,
    pub dest: String,
    pub sat_addr: String,
    pub original: common::message::Address,
    pub expires_us: i64,
}

/// An open delivery-report entry as loaded at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDlr {
    pub connector: String,
    pub remote_id: String,
    pub message_id: MessageId,
    /// For a part of a long message whose final receipt already came: its state word and
    /// error.
    pub part_done: Option<(String, u32)>,
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

/// Queued messages per connector that recovery loads into memory; the rest of a queue stays
/// in the store as [`Spilled`] ids (the in-memory queue keeps this many too).
pub const LOADED_MAX: usize = 10_000;

/// A queued message left in the store: what a queue needs to know without loading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spilled {
    pub id: MessageId,
    pub expires_us: Option<i64>,
}

/// Everything a restarted daemon needs to carry on where the last one stopped.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Messages not yet handed on, oldest first: the first [`LOADED_MAX`] of
    /// each connector's queue.
    pub queued: Vec<Message>,
    /// The rest of each connector's queue, left in the store, oldest first.
    pub spilled: HashMap<String, Vec<Spilled>>,
    /// How many of `queued` were being submitted when the last run stopped (maybe sent).
    pub were_submitting: usize,
    pub open_dlrs: Vec<OpenDlr>,
    /// Connector name, hold, force-close.
    pub flags: Vec<(String, bool, bool)>,
    /// Highest message id ever stored (0 if none).
    pub max_id: MessageId,
    /// SAT entries that have not expired.
    pub sat_entries: Vec<SatEntry>,
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
    /// The messages among `ids` that are still queued (or were being submitted), in the
    /// order of `ids`.
    fn load_queued(&self, ids: Vec<MessageId>) -> StoreFuture<'_, Vec<Message>>;
    /// Message ids waiting in a connector's queue that the store holds (for checks and tools).
    fn queued_count(&self, connector: &str) -> StoreFuture<'_, u64>;
    /// Flush and stop; later calls fail with [`StoreError::Closed`].
    fn close(&self) -> StoreFuture<'_, ()>;
}

//! Durable storage of messages, queue state, open delivery-report entries, the routelog and
//! persisted connector flags.
//!
//! The rest of the daemon talks to the store through [`Store`]: it sends a batch of writes and
//! awaits their commit. Batches from every session are committed together (group commit), so a
//! submit is acknowledged only after it is on disk, without one fsync per message.
//!
//! What a message costs the store: its row written once at acceptance (a compact binary record,
//! [`codec`], encoded by the caller), a few small state changes (submitting, sent with its open
//! DLR entry, final), one routelog row at the final state, and one small history row
//! ([`Event`]) per submit attempt, receipt and report called back, each in a batch that is
//! committed anyway. A delivery report going back is a message of its own with a short record. Nothing is rewritten in place but the state, and
//! finished rows are purged after their retention, so the store stays bounded.
//!
//! (About 600 lines: the [`Store`] trait and the types of its writes, which both backends
//! implement; the backends themselves are in `sqlite/` and `postgres/`.)

pub mod accounts;
pub mod codec;
pub mod migrate;
pub mod postgres;
pub mod schema;
pub mod sqlite;
#[cfg(test)]
mod test_backends;

use common::message::{Message, MessageId};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

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
///
/// Every variant is one row operation (or a few, for long messages), so a backend can run a
/// whole group of batches as one statement per kind: SQLite with cached statements in one
/// transaction, PostgreSQL with `UNNEST` arrays. No variant needs a read first.
#[derive(Debug, Clone)]
pub enum Write {
    /// A newly accepted message, queued for its target ([`Write::enqueue`]).
    Enqueue { record: Record },
    /// A message rejected before queueing (no route, blacklisted ...): its routelog row only.
    Rejected {
        message: Box<Message>,
        reason: String,
    },
    /// Replace the stored copy of a queued message (attempt count, target after a move), queued
    /// again ([`Write::requeue`]).
    Requeue { record: Record },
    /// An outgoing session is about to submit these messages on `connector`. (With a store
    /// shared by several nodes this is the claim: the rows a node marks as its own.)
    Submitting {
        ids: Vec<MessageId>,
        connector: String,
    },
    /// Sent to the next hop, which knows it as `remote_id`; its receipt is awaited under the
    /// open DLR entry (connector, remote id).
    Sent {
        id: MessageId,
        connector: String,
        remote_id: String,
    },
    /// A long message went out in parts whose receipts are awaited: one open DLR entry per
    /// part's remote id.
    SentParts {
        id: MessageId,
        connector: String,
        remote_ids: Vec<String>,
    },
    /// Handed to the next hop with no receipt to wait for: final (done, `SENT`), with its
    /// routelog row. `remote_id` is what the next hop called it, if anything.
    Handed {
        message: Box<Message>,
        remote_id: Option<String>,
    },
    /// Final state, with the routelog status word and error text; the routelog row is written
    /// now (delivery reports going back have none).
    Finish {
        message: Box<Message>,
        state: MessageState,
        status: String,
        error: Option<String>,
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
    /// Every part of a long message is final: remove the entries of all its parts.
    CloseDlrs {
        connector: String,
        remote_ids: Vec<String>,
    },
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
    /// Charge `amount` to `account`'s balance, if the account has one (others are not
    /// balance-controlled). A prepaid balance that does not cover it, or a postpaid one that
    /// would pass its limit, refuses the whole batch with [`StoreError::NoBalance`]; so it
    /// must be the batch's first write (the message's enqueue follows it). `via` is the
    /// receiving connector, named by the history row the commit's charges get.
    Charge {
        account: String,
        via: String,
        amount: Decimal,
    },
    /// An operator changed `account`'s balance; recorded in its history as done `by`.
    Balance {
        account: String,
        change: accounts::BalanceChange,
        by: String,
    },
    /// One step of a message's history (a submit attempt and its answer, a receipt, a report
    /// called back): appended in the batch that records the step's effect, so it costs one row
    /// in a transaction the writer runs anyway.
    Event { event: Box<Event> },
    /// One part of a long message, held until its last part arrives (`reassemble`); the
    /// same part again replaces it.
    HoldPart { key: String, seq: u8, part: Record },
    /// The held parts of `key` are done with (joined, or given up on and queued one by one).
    DropParts { key: String },
}

/// What kind of step an [`Event`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A submit to the next hop and its answer.
    Attempt = 0,
    /// A delivery receipt from the next hop.
    Receipt = 1,
    /// A delivery report handed back to the message's sender (callback, SMPP deliver_sm ...).
    Callback = 2,
}

impl EventKind {
    pub fn from_code(code: i64) -> Option<EventKind> {
        Some(match code {
            0 => EventKind::Attempt,
            1 => EventKind::Receipt,
            2 => EventKind::Callback,
            _ => return None,
        })
    }

    /// The word `msg_history` shows.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Attempt => "attempt",
            EventKind::Receipt => "receipt",
            EventKind::Callback => "callback",
        }
    }
}

/// One recorded step of a message's life; kept as long as its routelog row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub message_id: MessageId,
    /// When it happened (Unix µs).
    pub at_us: i64,
    pub kind: EventKind,
    pub connector: String,
    /// The instance (session) it happened on, where one did.
    pub instance: Option<u32>,
    /// The answer: `OK`, `RETRY`, `FAILED` for attempts, the status word for receipts.
    pub status: String,
    /// The protocol's error code (0 when none).
    pub code: u32,
    pub remote_id: Option<String>,
}

impl Event {
    pub fn write(self) -> Write {
        Write::Event {
            event: Box::new(self),
        }
    }
}

impl Write {
    /// Store `message`, newly accepted, in its target's queue.
    pub fn enqueue(message: &Message) -> Write {
        Write::Enqueue {
            record: Record::of(message),
        }
    }

    /// Replace the stored copy of `message`, queued again.
    pub fn requeue(message: &Message) -> Write {
        Write::Requeue {
            record: Record::of(message),
        }
    }

    /// The final state of `message` with its routelog status word and error.
    pub fn finish(
        message: Message,
        state: MessageState,
        status: impl Into<String>,
        error: Option<String>,
    ) -> Write {
        Write::Finish {
            message: Box::new(message),
            state,
            status: status.into(),
            error,
        }
    }
}

/// A queued message as the store keeps it: its record ([`codec`]) and the columns beside it.
/// The caller makes it and keeps the message (no copy of it travels to the store).
#[derive(Debug, Clone)]
pub struct Record {
    pub id: MessageId,
    /// The connector whose queue holds it.
    pub target: String,
    pub expires_us: Option<i64>,
    pub data: Vec<u8>,
}

impl Record {
    pub fn of(m: &Message) -> Record {
        Record {
            id: m.id,
            target: m.target.clone(),
            expires_us: m.expires_us,
            data: codec::encode(m),
        }
    }
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
    /// When the entry was made (Unix µs): it expires `dlr_expire` later.
    pub created_us: i64,
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

/// What the console searches by (every criterion given must match); see MGP `msg_search`.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub id: Option<MessageId>,
    /// Address prefixes.
    pub source: Option<String>,
    pub dest: Option<String>,
    pub account: Option<String>,
    /// Received on or routed to.
    pub connector: Option<String>,
    /// Received in `[since_us, until_us)`.
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    /// Only ids below this (the next page of a newest-first list).
    pub before_id: Option<MessageId>,
    pub limit: usize,
    /// The search stops with what it found after this long.
    pub budget: Duration,
}

/// One message a search or a queue page found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub id: MessageId,
    /// [`MessageState::name`], or `rejected` (never routed).
    pub state: String,
    pub source: String,
    pub dest: String,
    pub origin: String,
    pub account: Option<String>,
    pub target: Option<String>,
    /// The routing-table entry that chose `target`.
    pub route_entry: Option<String>,
    pub status: Option<String>,
    pub received_us: i64,
    pub updated_us: i64,
}

/// A page of [`Found`] rows; `stopped` says why it ended early, if it did.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub found: Vec<Found>,
    pub more: bool,
    pub stopped: Option<String>,
}

/// A message's routelog row.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub received_us: i64,
    pub in_connector: String,
    pub account: Option<String>,
    pub source: String,
    pub dest: String,
    pub route: Option<String>,
    /// The routing-table entry that chose `route`.
    pub route_entry: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub updated_us: i64,
    pub price: Option<String>,
    pub cost: Option<String>,
}

/// How often a connector's messages ended with one status word and error.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorCount {
    pub status: String,
    pub error: Option<String>,
    pub count: u64,
    /// When the latest of them ended (Unix µs).
    pub last_us: i64,
}

/// Everything the store holds about one message: for `msg_history`.
#[derive(Debug, Clone)]
pub struct Trail {
    pub stored: Option<StoredMessage>,
    pub log: Option<LogEntry>,
    pub dlrs: Vec<OpenDlr>,
    /// Its recorded steps ([`Event`]), oldest first.
    pub events: Vec<Event>,
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

/// A node sharing the store (PostgreSQL `nodes`), as `emgclient nodes` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub nodeid: i32,
    pub hostname: String,
    pub started_us: i64,
    pub lease_until_us: i64,
    /// Queued rows (and rows being submitted) it has claimed.
    pub claimed: i64,
    /// Messages in its in-memory queues at its last renewal.
    pub queued: i64,
}

/// A session bound on a live node sharing the store, as that node published it (PostgreSQL
/// `node_sessions`); `connector` is `None` for a live node with no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSession {
    pub nodeid: i32,
    pub connector: Option<String>,
    pub user: Option<String>,
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
    /// Parts of long messages held for reassembly: (key, part number, the part).
    pub held_parts: Vec<(String, u8, Message)>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store database error: {0}")]
    Database(String),
    #[error("store is shut down")]
    Closed,
    #[error("stored message {0} cannot be decoded: {1}")]
    Corrupt(MessageId, String),
    /// The store's file fails SQLite's `quick_check` at start, or SQLite calls it malformed:
    /// the message says which file, what is wrong and how to recover (emgd(8)).
    #[error("{0}")]
    CorruptFile(String),
    /// [`Write::Charge`] refused: the account's balance does not cover the price.
    #[error("the balance of account {account} does not cover the price")]
    NoBalance { account: String },
    /// This node's lease on the shared store lapsed: it accepts nothing until it renews it
    /// (another node may be taking its queue over).
    #[error("this node's lease on the shared store has lapsed; try again later")]
    LeaseLapsed,
}

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// How long finished messages and routelog rows stay, and how big a group commit may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Most callers' batches that share one transaction.
    pub group_commit_max: usize,
    /// A small group waits this long after the previous commit for more to join it.
    pub group_commit_delay: Duration,
    /// A final message is purged this long after its final state (`retention`).
    pub retention: Duration,
    /// A routelog row is purged this long after its message's final state
    /// (`routelog_retention`).
    pub routelog_retention: Duration,
    /// Which failed messages give their charge back (`refund_policy`).
    pub refund: config::RefundPolicy,
    /// Destination digits the hourly summary groups by (`summary_prefix_length`).
    pub summary_prefix_length: usize,
    /// When the SQLite file is checked at start (`store_check`).
    pub check: config::StoreCheck,
    /// How long a node's lease on a shared store lasts (`node_lease`, PostgreSQL only).
    pub node_lease: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            group_commit_max: 4096,
            group_commit_delay: Duration::from_micros(config::DEFAULT_GROUP_COMMIT_DELAY_US),
            retention: Duration::from_secs(config::DEFAULT_RETENTION),
            routelog_retention: Duration::from_secs(config::DEFAULT_ROUTELOG_RETENTION),
            refund: config::RefundPolicy::Rejected,
            summary_prefix_length: config::DEFAULT_SUMMARY_PREFIX_LENGTH,
            check: config::StoreCheck::Auto,
            node_lease: Duration::from_secs(config::DEFAULT_NODE_LEASE),
        }
    }
}

impl Options {
    /// The options `cfg` gives.
    pub fn of_config(cfg: &config::Config) -> Options {
        Options {
            refund: cfg.prices.refund,
            summary_prefix_length: cfg.prices.summary_prefix_length,
            ..Options::of(&cfg.general)
        }
    }

    pub fn of(general: &config::General) -> Options {
        Options {
            group_commit_max: general.group_commit_max,
            group_commit_delay: Duration::from_micros(general.group_commit_delay_us),
            retention: Duration::from_secs(general.retention),
            routelog_retention: Duration::from_secs(general.routelog_retention),
            check: general.store_check,
            node_lease: Duration::from_secs(general.node_lease),
            ..Options::default()
        }
    }
}

/// A durable store. SQLite is the embedded default; PostgreSQL implements the same trait.
///
/// The hot path is `commit`: callers hand over small batches and await their durability, and
/// the backend commits every batch that arrived meanwhile in one transaction (group commit).
/// Reads are for restarts (`recover`), for queues longer than memory (`load_queued`) and for
/// lookups. Housekeeping (purging finished messages after [`Options::retention`], routelog
/// rows after [`Options::routelog_retention`]) is the backend's own business, done in small
/// steps beside the commits.
///
/// For a backend shared by several nodes (PostgreSQL): each `Write` kind of a group is one
/// statement over arrays (`INSERT ... SELECT * FROM UNNEST($1, $2, ...)`, `UPDATE ... WHERE id
/// = ANY($1)`); `Submitting` is a node's claim on rows it took with `SELECT ... FOR UPDATE
/// SKIP LOCKED`; the routelog row is inserted with the final state, so an hourly aggregate can
/// be updated in the same transaction.
pub trait Store: Send + Sync {
    /// Commit `writes` atomically; resolves once they are durable.
    fn commit(&self, writes: Vec<Write>) -> StoreFuture<'_, ()>;
    /// Load the state a restart resumes from.
    fn recover(&self) -> StoreFuture<'_, Recovered>;
    /// Look a message up by id (until it is purged).
    fn message(&self, id: MessageId) -> StoreFuture<'_, Option<StoredMessage>>;
    /// The messages among `ids` that are still queued (or were being submitted), in the
    /// order of `ids`.
    fn load_queued(&self, ids: Vec<MessageId>) -> StoreFuture<'_, Vec<Message>>;
    /// Messages waiting in a connector's queue that the store holds (for checks and tools).
    fn queued_count(&self, connector: &str) -> StoreFuture<'_, u64>;
    /// A page of `connector`'s queue, oldest first, ids above `after` (operator reads: they
    /// never hold the writer up).
    fn browse_queue(
        &self,
        connector: &str,
        after: MessageId,
        limit: usize,
        budget: Duration,
    ) -> StoreFuture<'_, Page>;
    /// Messages under way and finished ones matching `query`, newest first.
    fn search(&self, query: Query) -> StoreFuture<'_, Page>;
    /// The routelog's failures of messages routed to `connector` since `since_us`, by status
    /// word and error, most frequent first.
    fn error_counts(
        &self,
        connector: &str,
        since_us: i64,
        budget: Duration,
    ) -> StoreFuture<'_, Vec<ErrorCount>>;
    /// Message `id`'s row, routelog row and open DLR entries.
    fn trail(&self, id: MessageId, budget: Duration) -> StoreFuture<'_, Trail>;
    /// Balances: `account`'s, or every account's (by name).
    fn balances(&self, account: Option<String>) -> StoreFuture<'_, Vec<accounts::Balance>>;
    /// `account`'s balance history, newest first, at most `limit` entries.
    fn balance_history(
        &self,
        account: String,
        limit: usize,
    ) -> StoreFuture<'_, Vec<accounts::HistoryEntry>>;
    /// The hourly summary rows `query` selects, by account, hour, prefix, connector, status.
    fn summary(&self, query: accounts::SummaryQuery) -> StoreFuture<'_, Vec<accounts::SummaryRow>>;
    /// Whether other nodes write to this store too (PostgreSQL): then the DLR book in memory
    /// holds only the entries this node opened or found at start, and a receipt it misses is
    /// looked up with [`Store::open_dlrs`].
    fn shared(&self) -> bool {
        false
    }
    /// Every open DLR entry of the messages that have one among `keys` (DLR scope, remote id
    /// as normalised when sent), so the parts of a long message come together. One query for
    /// all the keys. A store only one node writes has no entry its book lacks: none.
    fn open_dlrs(&self, keys: Vec<(String, String)>) -> StoreFuture<'_, Vec<OpenDlr>> {
        drop(keys);
        Box::pin(async { Ok(Vec::new()) })
    }
    /// Resolves when the store answers (for `/health`).
    fn ping(&self) -> StoreFuture<'_, ()>;
    /// The nodes sharing this store with their leases; empty for a store of one node.
    fn nodes(&self) -> StoreFuture<'_, Vec<NodeRow>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    /// The live nodes sharing this store with the sessions each published; empty for a
    /// store of one node.
    fn node_sessions(&self) -> StoreFuture<'_, Vec<NodeSession>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    /// Flush and stop; later calls fail with [`StoreError::Closed`].
    fn close(&self) -> StoreFuture<'_, ()>;
}

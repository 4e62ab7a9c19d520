//! The shapes of MGP answers and events, shared by the server and every client.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Error codes; stable, clients branch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is not valid JSON or not a valid operation.
    BadRequest,
    /// The first request of a session must be `login`.
    NotAuthenticated,
    /// Wrong user or password, or too many failures from this address.
    AuthFailed,
    /// The user's role does not allow the operation.
    Forbidden,
    /// The connector, message or stream named does not exist.
    NotFound,
    /// The operation is valid but not possible now (message already sent, broken config...).
    Refused,
    /// The server failed (store error); the operation may be retried.
    Internal,
    /// A message was refused: its account's balance does not cover the price.
    NoBalance,
    /// A line over the size limit; the server closes the connection.
    FrameTooLarge,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::NotAuthenticated => "not_authenticated",
            ErrorCode::AuthFailed => "auth_failed",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Refused => "refused",
            ErrorCode::Internal => "internal",
            ErrorCode::NoBalance => "no_balance",
            ErrorCode::FrameTooLarge => "frame_too_large",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"code": "...", "message": "..."}`: the message is for people, the code for programs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> ErrorBody {
        ErrorBody::new(ErrorCode::NotFound, message)
    }
    pub fn refused(message: impl Into<String>) -> ErrorBody {
        ErrorBody::new(ErrorCode::Refused, message)
    }
    pub fn internal(message: impl Into<String>) -> ErrorBody {
        ErrorBody::new(ErrorCode::Internal, message)
    }
    pub fn bad_request(message: impl Into<String>) -> ErrorBody {
        ErrorBody::new(ErrorCode::BadRequest, message)
    }
}

/// Operator roles, weakest first: each may do everything the previous may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Look only: status, connectors, queue list, msg show, tail, watch.
    Readonly,
    /// Also act on connectors, queues and messages.
    Operator,
    /// Also reload the configuration, change the log level, start and stop the server.
    Admin,
}

/// `login`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginOk {
    pub user: String,
    pub role: Role,
    /// emgd's version.
    pub version: String,
}

/// `status`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub uptime_s: u64,
    pub node_id: u16,
    pub connectors: usize,
    /// Messages queued or in flight, server-wide.
    pub total_queued: usize,
    pub sent: u64,
    pub received: u64,
    pub failed: u64,
}

/// `nodes`' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeList {
    /// The node answering.
    pub this_node: u16,
    /// Whether the store is shared (PostgreSQL); a SQLite store has this node alone.
    pub shared: bool,
    pub nodes: Vec<NodeInfo>,
    /// What the answering node took over from dead nodes since it started.
    #[serde(default)]
    pub takeovers: Takeovers,
}

/// The answering node's fail-over counts since it started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Takeovers {
    /// Queued messages it claimed from nodes whose lease ran out.
    pub taken: u64,
    /// Of those, messages the dead node was submitting (sent, not answered): sent again, so
    /// they may arrive twice.
    pub resent: u64,
    /// Times its own lease lapsed (it stopped sending and accepting until it renewed it).
    pub lease_lapses: u64,
}

/// One node of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub node_id: u16,
    pub hostname: String,
    pub started_us: i64,
    /// When its lease runs out, µs since the epoch (0: a SQLite node, no lease).
    pub lease_until_us: i64,
    /// `live` (lease running) or `dead` (lease ran out: live nodes take its queue over).
    pub state: String,
    /// Queued messages (and ones being submitted) it has claimed in the store.
    pub claimed: u64,
    /// Its load: messages in its in-memory queues at its last lease renewal.
    pub queued: u64,
}

/// One connector as `connectors` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    pub name: String,
    /// `incoming` or `outgoing`.
    pub direction: String,
    /// `smpp`, `sim`, ...
    pub protocol: String,
    /// State of each instance: IDLE, CONNECTED, BOUND, TERMINATING, DEAD, ERROR.
    pub states: Vec<String>,
    /// Instances in BOUND.
    pub bound: usize,
    pub instances: u32,
    pub hold: bool,
    pub forceclose: bool,
    /// Messages queued or in flight.
    pub queued: usize,
    pub sent: u64,
    pub received: u64,
    pub failed: u64,
    /// Messages per second over the last 10 seconds.
    pub rate_sent: f64,
    pub rate_received: f64,
    pub rate_failed: f64,
    /// Per instance, the messages its session has taken and not had answered yet: the window
    /// in use (at most `windowsize` on a windowed protocol).
    #[serde(default)]
    pub inflight: Vec<u32>,
    /// On a store several nodes share: each live node's sessions of this connector, by node
    /// id (this node's as it is now, the others' as they last published them, within a
    /// second). Empty on a node of its own (no other node live).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeSessions>,
}

/// One node's sessions of a connector (`connectors` on a shared store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSessions {
    pub node_id: u16,
    /// Sessions bound there.
    pub bound: usize,
    /// The users (incoming) or system ids (outgoing) they bound as, sorted, once each.
    #[serde(default)]
    pub users: Vec<String>,
}

/// `connectors`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorList {
    pub connectors: Vec<ConnectorInfo>,
}

/// `connector`'s answer: the list entry and a summary of its configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorDetail {
    #[serde(flatten)]
    pub info: ConnectorInfo,
    pub address: Option<String>,
    /// `both`, `transmit_only` or `receive_only`.
    pub mode: String,
    pub windowsize: u32,
    pub throughput: Option<f64>,
    pub maxqueuesize: Option<u64>,
    pub users: Vec<String>,
    pub route: Option<String>,
    /// The sessions bound now, one per bound instance.
    #[serde(default)]
    pub sessions: Vec<Session>,
}

/// One bound session of a connector, as `connector` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub instance: u32,
    /// `IP:PORT` of the client (incoming), the SMSC address (outgoing), `in-process` (sim).
    pub peer: Option<String>,
    /// `transceiver`, `transmitter`, `receiver` or `sim`.
    pub bind: Option<String>,
    /// The user that bound (incoming) or the system id we bound as (outgoing).
    pub user: Option<String>,
    /// Unix time in microseconds of the bind.
    pub since_us: i64,
    /// Messages awaiting their answer on this session: the window in use.
    #[serde(default)]
    pub inflight: u32,
}

/// Answer of `hold`, `release`, `bounce`, `forceclose` and `forceclose_clear`: the flags now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flags {
    pub connector: String,
    pub hold: bool,
    pub forceclose: bool,
    /// The force-close flag is stored and survives a restart.
    pub persisted: bool,
}

/// Size of one queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueSize {
    pub connector: String,
    /// Waiting plus in flight.
    pub queued: usize,
    /// Waiting to be taken.
    pub waiting: usize,
}

/// A waiting message as `queue_list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedMessage {
    pub id: u64,
    pub source: String,
    pub dest: String,
    pub attempts: u32,
    /// Seconds since the gateway accepted it.
    pub age_s: u64,
}

/// `queue_list`'s answer; `messages` only when one connector was named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueList {
    pub queues: Vec<QueueSize>,
    #[serde(default)]
    pub messages: Vec<QueuedMessage>,
}

/// `queue_move`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueMoved {
    pub from: String,
    pub to: String,
    pub moved: usize,
}

/// `queue_clear`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueCleared {
    pub connector: String,
    pub cleared: usize,
}

/// `msg_show`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageInfo {
    pub id: u64,
    /// `queued`, `sent`, `done`, `failed`, `cancelled`.
    pub state: String,
    /// `sms`, `dlr`, ...
    pub msgtype: String,
    pub source: String,
    pub dest: String,
    /// Connector it was received on ("mgp" for `send`).
    pub origin: String,
    pub origin_user: Option<String>,
    /// Connector it was routed to.
    pub target: String,
    /// The routing-table entry that chose `target`: its `name`, else `FILE:LINE` of its
    /// `[[route]]`; `connector.NAME.route`, `plugin` or `via` when something else chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_entry: Option<String>,
    /// Unix time in microseconds it was accepted, and of its last change.
    pub received_us: i64,
    pub updated_us: i64,
    /// The next hop's id for it, once sent.
    pub remote_id: Option<String>,
    /// Last status word: DELIVRD, UNDELIV, EXPIRED, CANCELLED ... (delivery report status).
    pub status: Option<String>,
    pub dlr_requested: bool,
    pub attempts: u32,
    /// The text, when it is text (data coding 0, 1, 3 or 8).
    pub text: Option<String>,
    /// What the sender is charged (EMG's CHARGE), a decimal as a string, when a plugin set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    /// What sending it costs (EMG's CHARGE_COST), when a plugin set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<String>,
    /// The SMPP parameters carried through to the next hop, as `name=hex`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlvs: Vec<String>,
}

/// One message in a `msg_search` or `queue_browse` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: u64,
    /// `queued`, `submitting`, `sent`, `done`, `failed`, `cancelled`, `rejected`.
    pub state: String,
    pub source: String,
    pub dest: String,
    /// Connector it was received on.
    pub origin: String,
    pub account: Option<String>,
    /// Connector it was routed to (none when it was rejected before routing).
    pub target: Option<String>,
    /// The routing-table entry that chose `target` (as in [`MessageInfo`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_entry: Option<String>,
    /// The routelog's status word once final (DELIVRD, UNDELIV, CANCELLED ...).
    pub status: Option<String>,
    pub received_us: i64,
    pub updated_us: i64,
}

/// Answer of `msg_search` and `queue_browse`: one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageList {
    pub messages: Vec<MessageRow>,
    /// More match beyond this page (ask again from the last id).
    pub more: bool,
    /// Why the search stopped short of the whole store (its time budget), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// One step of a message's life, as `msg_history` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// Unix time in microseconds.
    pub at_us: i64,
    /// `received`, `routed`, `submitted`, `receipt`, `final`, `report` ...
    pub what: String,
    pub detail: String,
}

/// `msg_history`'s answer: the message as stored (while it is), and its steps oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageHistory {
    pub id: u64,
    pub message: Option<MessageInfo>,
    pub events: Vec<HistoryEvent>,
}

/// How many of a connector's messages failed with one status word and error code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorCount {
    /// UNDELIV, REJECTD, EXPIRED ...
    pub status: String,
    /// The protocol error, as the routelog keeps it (`0x00000058`).
    pub error: Option<String>,
    pub count: u64,
    /// Unix time in microseconds of the latest.
    pub last_us: i64,
}

/// A latency histogram: `buckets` are (upper bound in seconds, observations in that bucket
/// alone); `count` includes those above the last bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_s: f64,
}

/// `connector_stats`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorStats {
    pub connector: String,
    /// Failures counted from this time on (Unix µs).
    pub since_us: i64,
    pub errors: Vec<ErrorCount>,
    /// Submit sent -> its response (outgoing connectors).
    pub submit_response: Option<Latency>,
    /// Message accepted -> durably committed (incoming connectors).
    pub accept_commit: Option<Latency>,
}

/// A configured user as `users` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    /// The account charged (the user's name when the configuration names none).
    pub account: String,
    /// Client addresses (IP or CIDR) it may bind from; empty: any.
    pub access: Vec<String>,
    /// Bind types it may use.
    pub binds: Vec<String>,
    /// Its cap in message parts per second.
    pub throughput: Option<f64>,
    /// Incoming connectors whose `users` name it.
    pub connectors: Vec<String>,
}

/// `users`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserInfo>,
}

/// One routing rule, as `routes` lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteInfo {
    /// Its place in the table, from 1: the first match wins.
    pub order: usize,
    /// The name the routelog gives it: `name`, else `FILE:LINE` of its `[[route]]`.
    #[serde(default)]
    pub name: String,
    pub prefix: Option<String>,
    pub account: Option<String>,
    /// Only messages received on this connector.
    pub from: Option<String>,
    pub to: String,
}

/// `routes`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteList {
    pub routes: Vec<RouteInfo>,
}

/// Answer of `msg_cancel`, `send` and `dlr_inject`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRef {
    pub id: u64,
    /// The connector it is (or was) queued on.
    pub target: String,
    pub state: String,
}

/// `reload`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reloaded {
    pub config: String,
    pub connectors: usize,
}

/// Answer of `tail` and `watch` (the new stream) and of `stop` (the stopped one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamRef {
    pub stream: u64,
}

/// Which log a tailed line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    Connector,
    Pdu,
}

/// What a stream pushes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// `tail`: one line as written to `connector.NAME` or `pdu.NAME`.
    Log {
        kind: LogKind,
        connector: String,
        instance: u32,
        line: String,
    },
    /// `watch`: a connector's instance states changed.
    State {
        connector: String,
        states: Vec<String>,
    },
    /// `watch`: every connector's counters, each second.
    Counters {
        total_queued: usize,
        connectors: Vec<ConnectorInfo>,
    },
    /// The client read too slowly: this many events of the stream were dropped.
    Lost { count: u64 },
    /// `logs`: one line of the file, as written.
    Line { line: String },
    /// `logs`: the history is complete; `lines` were sent, `truncated` when `limit` cut it.
    End { lines: u64, truncated: bool },
}

/// `loglevel`'s answer: the level in force now, and before this request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loglevel {
    pub level: String,
    pub previous: String,
}

/// `server_status`'s answer (and of `server_start`, `server_stop`, `server_restart`: the
/// status after the operation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// `running`, `stopped`, `starting`, `stopping` or `crashed` (waiting to be restarted).
    pub state: String,
    pub pid: Option<u32>,
    /// Unix time in microseconds emgd was started, while it runs.
    pub since_us: Option<i64>,
    /// Times the watchdog restarted emgd after it died.
    pub restarts: u64,
    /// How the last run ended, e.g. `exit status 1` or `killed by signal 9`.
    pub last_exit: Option<String>,
    /// Usage of the file systems holding the data and log directories.
    pub disks: Vec<DiskUsage>,
}

/// One file system the watchdog checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskUsage {
    /// The directory checked (datadir or logdir).
    pub path: String,
    /// Percent used, as `df` shows it.
    pub used_percent: f64,
    /// The alert threshold in percent.
    pub limit_percent: f64,
}

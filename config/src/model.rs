//! The validated configuration handed to emgd.
//!
//! Everything here is already checked: names referenced by routes, groups and connectors exist,
//! inheritance is resolved and defaults are filled in, so consumers never re-validate.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::retry::RetryScheme;

pub use crate::kind::{Direction, Protocol};

/// A whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from (as given by the caller).
    pub path: PathBuf,
    /// Server-wide options (top-level keys of the file).
    pub general: General,
    /// Real connectors by name, inheritance resolved; virtual (template) connectors are left out
    /// because they are never instantiated.
    pub connectors: BTreeMap<String, Connector>,
    /// Users allowed to bind to incoming connectors, by name.
    pub users: BTreeMap<String, User>,
    /// Connector groups by name.
    pub groups: BTreeMap<String, Group>,
    /// Routing table in file order; the first matching route wins.
    pub routes: Vec<Route>,
    /// Accounts that may log in over MGP, by name.
    pub operators: BTreeMap<String, Operator>,
    /// SAT (source address translation) pools by name (`[satpool.NAME]`).
    pub satpools: BTreeMap<String, crate::satpool::SatPool>,
    /// Plugins by name (`[plugin.NAME]`), their scripts read but not yet compiled.
    pub plugins: BTreeMap<String, crate::plugin::Plugin>,
    /// The price table (`[[price]]`, `currency`).
    pub prices: crate::price::PriceTable,
}

/// Server-wide options.
#[derive(Debug, Clone)]
pub struct General {
    /// Persistent state (queues, store); relative paths are resolved against the config's
    /// directory so the server does not depend on its working directory.
    pub datadir: PathBuf,
    /// Log directory, resolved like `datadir`.
    pub logdir: PathBuf,
    /// Admin/MGP listener; `None` when disabled with `mgp_address = ""`.
    pub mgp_address: Option<String>,
    /// TLS for the MGP listener (`mgp_tls_cert` and `mgp_tls_key`); `None` = plain TCP.
    pub mgp_tls: Option<crate::tls::ListenerTls>,
    /// Seconds an MGP client on `mgp_address` may take to log in before it is closed.
    pub mgp_login_timeout: u64,
    /// MGP connections open on `mgp_address` at a time, logged in or not.
    pub mgp_max_connections: u32,
    /// MGP connections open on `mgp_address` at a time from one source address.
    pub mgp_max_connections_per_ip: u32,
    /// Message store implementation.
    pub backend: Backend,
    /// Connection string, required for [`Backend::Postgres`].
    pub database_url: Option<String>,
    /// Top digits of message ids; must be unique per node sharing a database.
    pub nodeid: u16,
    /// `node_lease`: seconds a node's lease on PostgreSQL lasts; renewed every fifth of it.
    pub node_lease: u64,
    /// Server-wide cap on queued messages; above it submits get a temporary error.
    pub maxtotalqueuesize: Option<u64>,
    /// Above this, each received message is slowed down (soft throttle).
    pub maxtotalqueuesize_soft: Option<u64>,
    /// Write PDU logs.
    pub pdulog: bool,
    /// One of `error`, `warn`, `info`, `debug`, `trace` (lower case).
    pub loglevel: String,
    /// Seconds routing decisions of concatenated message parts are remembered.
    pub cmrexpire: u64,
    /// Default retry scheme for connectors that do not name their own.
    pub retryscheme: RetryScheme,
    /// Most messages written per store transaction.
    pub group_commit_max: usize,
    /// Microseconds a small group commit waits after the previous one for more writes.
    pub group_commit_delay_us: u64,
    /// Seconds a message stays in the store after its final state (`retention`).
    pub retention: u64,
    /// Seconds a routelog row stays after its message's final state (`routelog_retention`).
    pub routelog_retention: u64,
    /// Seconds an open delivery-report entry waits for its receipt (`dlr_expire`); then the
    /// message ends as UNKNOWN and its sender is told so.
    pub dlr_expire: u64,
    /// The system-wide blacklist (`blacklist` file), checked on every message received.
    pub blacklist: Option<std::sync::Arc<crate::blacklist::Blacklist>>,
    /// Secret keying the reversible address masquerading (`masquerade_key`).
    pub masquerade_key: Option<String>,
    /// Listener for Prometheus `/metrics` and `/health`; `None` (default) = off.
    pub metrics_address: Option<String>,
    /// HTTPS for the metrics listener (`metrics_tls_cert` and `metrics_tls_key`); `None` =
    /// plain HTTP.
    pub metrics_tls: Option<crate::tls::ListenerTls>,
    /// Listener for EMG's HTTP admin verbs (`/admin/...`) and Kannel's status page
    /// (`/status`), for operators; `None` (default) = off.
    pub admin_address: Option<String>,
    /// What becomes of the queue of a connector that a reload removes (`removed_queue`).
    pub removed_queue: RemovedQueue,
    /// Seconds a removed connector drains (`drain_timeout`); what is still queued then is
    /// routed again, as with `removed_queue = "reroute"`.
    pub drain_timeout: u64,
    /// When the SQLite store's file is checked at start (`store_check`).
    pub store_check: StoreCheck,
    /// The local MGP socket, the general log's format, the watchdog.
    pub daemon: Daemon,
}

/// The queue of a connector removed from the configuration by a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovedQueue {
    /// Send what is queued on the connector, take nothing new, then stop (default: what was
    /// accepted for a connector leaves by it, as if it had been stopped gracefully).
    Drain,
    /// Stop the connector now and route its queue again by the routing table in force; what
    /// no route takes stays queued on the stopped connector (logged).
    Reroute,
}

/// When emgd runs SQLite's `quick_check` on its store at start (`store_check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreCheck {
    /// Only when the last run did not shut down cleanly (no clean-shutdown marker), default.
    Auto,
    /// At every start.
    Always,
    /// Never (a corrupt file then shows as errors later, not at start).
    Never,
}

/// Message store implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite database under `datadir` (default).
    Sqlite,
    /// External PostgreSQL server at `database_url`.
    Postgres,
}

/// Which operations a connector allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Send and receive.
    #[default]
    Both,
    /// Only send; messages arriving are rejected.
    TransmitOnly,
    /// Only receive.
    ReceiveOnly,
}

/// A real (non-virtual) connector with inheritance resolved and defaults applied.
#[derive(Debug, Clone)]
pub struct Connector {
    /// Name from `[connector.NAME]`.
    pub name: String,
    /// Key `type`.
    pub direction: Direction,
    /// Key `protocol`.
    pub protocol: Protocol,
    /// Listen/connect address; `host:port` for socket protocols, a URL for outgoing HTTP, a
    /// program path for EBE, a tty for GSM, absent for the simulator.
    pub address: Option<String>,
    /// Parallel sessions; 0 disables the connector.
    pub instances: u32,
    /// Allowed operations.
    pub mode: Mode,
    /// Key `static`: connect at startup even with an empty queue.
    pub is_static: bool,
    /// Disconnect after this many idle seconds; `None` = never. Outgoing SMPP defaults to 30,
    /// incoming SMPP to 3600.
    pub idletimeout: Option<u64>,
    /// Send a keepalive after this many idle seconds; `None` (or 0) = never. Incoming SMPP
    /// defaults to 60, so a dead client does not hold its instance.
    pub keepalive: Option<u64>,
    /// Incoming: seconds a connection may take to log in (bind) before it is closed.
    pub bind_timeout: u64,
    /// Sessions of frames: seconds a frame (or line) begun may take to arrive whole before
    /// the session is closed, so a half-written frame followed by silence frees its place.
    pub frame_timeout: u64,
    /// Incoming: connections open at a time, logged in or not; `None` = `instances` + 64.
    pub max_connections: Option<u32>,
    /// Incoming: connections open at a time from one source address.
    pub max_connections_per_ip: u32,
    /// Incoming: failed logins from one address within `login_block` seconds before its
    /// logins are refused for `login_block` seconds (five times as many for one user).
    pub max_login_failures: u32,
    /// Incoming: the window and the refusal period of `max_login_failures`, in seconds.
    pub login_block: u64,
    /// Credentials for outgoing binds.
    pub username: Option<String>,
    /// Credentials for outgoing binds.
    pub password: Option<String>,
    /// Users allowed to bind to this incoming connector; empty = every user.
    pub users: Vec<String>,
    /// Allowed client addresses (IP or CIDR); empty = everyone.
    pub access: Vec<String>,
    /// Forced target (connector or group) for everything received here.
    pub route: Option<String>,
    /// Parent connector this one inherited from.
    pub inherit: Option<String>,
    /// Accept messages even above `maxtotalqueuesize`.
    pub ignoremaxtotalqueuesize: bool,
    /// Per-connector queue cap; when full the connector counts as unavailable.
    pub maxqueuesize: Option<u64>,
    /// Most unacknowledged operations in flight (>= 1).
    pub windowsize: u32,
    /// Rate cap in message parts per second.
    pub throughput: Option<f64>,
    /// Retry rules; the general scheme unless the connector names its own file.
    pub retryscheme: RetryScheme,
    /// Simulator behaviour (only used when `protocol = "sim"`).
    pub sim: SimOptions,
    /// Outgoing SMPP: which bind to send (`bindmode`).
    pub bindmode: BindMode,
    /// Outgoing SMPP: interface_version in the bind, 0x33, 0x34 (default) or 0x50.
    pub interface_version: u8,
    /// Outgoing SMPP: system_type in the bind (empty by default).
    pub system_type: String,
    /// How the next hop spells message ids, for delivery-report matching (`dlr_id_format`).
    pub dlr_id_format: DlrIdFormat,
    /// Seconds a receipt that matched nothing yet waits for its submit response.
    pub dlr_park_seconds: u64,
    /// Connectors facing one SMSC that share delivery-report matching (`dlr_group`): a
    /// receipt arriving on any of them matches messages sent on any of them (an SMPP 3.3
    /// transmitter and receiver pair, split 3.4 binds). Empty: the connector alone.
    pub dlr_group: Option<String>,
    /// Seconds this connector's open DLR entries wait for their receipt (`dlr_expire`);
    /// None: the general `dlr_expire`.
    pub dlr_expire: Option<u64>,
    /// Mapping, address rewriting, masquerading and SAT pools for this connector's messages.
    pub process: crate::process::Processing,
    /// How long messages are cut into parts on send (`split`).
    pub split: SplitMethod,
    /// Whether long messages received in parts are joined before routing on (`reassemble`).
    pub reassemble: Reassemble,
    /// Incoming connectors: which of a user's sessions its receipts go back on
    /// (`dlr_session`).
    pub dlr_session: DlrSession,
    /// Per-part receipts of a long message: combined into one, or passed on each (`dlr_parts`).
    pub dlr_parts: DlrParts,
    /// Outgoing UCP/EMI: OTON and ONPI of the operation 60 login (`oton`, `onpi`; 6 and 5).
    pub oton: u8,
    pub onpi: u8,
    /// HTTP connectors: callbacks (incoming), request template and DLR listener (outgoing).
    pub http: crate::http::HttpOptions,
    /// SMTP keywords (`crate::smtp`).
    pub smtp: crate::smtp::SmtpOptions,
    /// TLS of the connector's sessions (`tls = true`; `crate::tls_keywords`); `None` = plain
    /// TCP. An outgoing HTTP connector's is what it trusts and shows on https:// URLs.
    pub tls: Option<crate::tls_keywords::ConnectorTls>,
    /// GSM modem keywords (`crate::gsm`).
    pub gsm: crate::gsm::GsmOptions,
    /// Set when an outgoing UCP connector dials its SMSC over a modem (`crate::dialup`).
    pub dialup: Option<crate::dialup::DialupOptions>,
    /// `dlr_support` (EMG's DLR_SUPPORT): the next hop's fate of a message comes later, as a
    /// receipt from the peer or one injected (MSGTYPE=5); false: the sender's report is made
    /// right after the send, DELIVRD when it was taken. Outgoing `ebe` and `http` only.
    pub dlr_support: bool,
    /// `nodlr` (EMG's NODLR): no report is made at the send for a connector without
    /// `dlr_support`; the message is final once handed on.
    pub nodlr: bool,
    /// `ebe_timeout`: seconds an EBE program may run before its process group is killed.
    pub ebe_timeout: u64,
    /// `ebe_args`: the EBE program's arguments, `%NAME%` placeholders (see
    /// [`crate::EBE_FIELDS`]) expanded for each message by [`crate::expand_ebe_arg`].
    pub ebe_args: Vec<String>,
    /// `plugins`: the plugins attached here, in the order they run (after the global ones).
    pub plugins: Vec<String>,
    /// EMG's `PLUGIN=name:string`: the string after the colon of an entry of `plugins`, by
    /// plugin name, handed to its hooks on this connector.
    pub plugin_args: BTreeMap<String, String>,
}

/// How an outgoing connector sends a message too long for one short message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SplitMethod {
    /// Parts with a UDH concatenation element, 8-bit reference (153 GSM septets per part).
    #[default]
    Udh8,
    /// UDH with a 16-bit reference (152 septets per part).
    Udh16,
    /// Parts tied by the sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs.
    Sar,
    /// One submit_sm carrying the whole text in message_payload.
    Payload,
}

/// Whether the parts of a long message that comes in on a connector are joined before they
/// travel on (`reassemble`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reassemble {
    /// Joined when their route leads to a connector that wants whole messages (HTTP, MGP,
    /// SMTP); routed part by part, UDH and all, to the others (SMPP, UCP, CIMD2, GSM).
    #[default]
    Auto,
    /// Always joined.
    Always,
    /// Never: every part travels on by itself.
    Never,
}

/// Which of a client's sessions a receipt (or MO message) for it goes back on, when the
/// client binds several (`dlr_session`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DlrSession {
    /// Any session of the user that receives.
    Any,
    /// The session the message was submitted on while it is bound (and receives), else any
    /// (MO, which no session submitted, goes to any).
    #[default]
    Submitting,
    /// A session from the IP address the message was submitted from, else any (EMG's
    /// DLR_TO_SAME_IP).
    SameIp,
}

/// What the sender of a long message hears about its parts' receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DlrParts {
    /// One receipt for the whole message, once every part is final: delivered only when every
    /// part was.
    #[default]
    Combine,
    /// Every part's receipt is passed on as it comes.
    Each,
}

/// Which bind an outgoing SMPP connector sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BindMode {
    /// bind_transceiver: submit and receive on one session.
    #[default]
    Transceiver,
    /// bind_transmitter: submit only.
    Transmitter,
    /// bind_receiver: receive (receipts, MO) only.
    Receiver,
}

/// How a next hop spells its message ids (see `common::dlrid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DlrIdFormat {
    /// Case and zero padding ignored; hex/decimal tried both ways on a miss.
    #[default]
    Auto,
    /// Hex ids; receipts may spell them in decimal.
    Hex,
    /// Decimal ids; receipts may spell them in hex.
    Decimal,
    /// Opaque strings, matched exactly.
    String,
}

/// Behaviour of the built-in SMSC simulator.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// Delay before a delivery report is generated.
    pub dlr_delay_ms: u64,
    /// Share (0.0..=1.0) of submits rejected with `fail_error`.
    pub fail_share: f64,
    /// SMPP command status used for rejected submits (default ESME_RTHROTTLED, temporary).
    pub fail_error: u32,
    /// Final state reported in delivery reports.
    pub dlr_status: String,
    /// Delay before each submit response.
    pub latency_ms: u64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            dlr_delay_ms: 1000,
            fail_share: 0.0,
            fail_error: 0x58,
            dlr_status: "DELIVRD".to_string(),
            latency_ms: 0,
        }
    }
}

/// Delivery report states the simulator may report (SMPP message_state names).
pub const DLR_STATUSES: [&str; 9] = [
    "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD",
    "SKIPPED",
];

/// A user that may bind to incoming connectors.
#[derive(Debug, Clone)]
pub struct User {
    /// Name from `[user.NAME]`; the bind system_id.
    pub name: String,
    /// Bind password in plain text (`password`); empty when `password_hash` is given.
    pub password: String,
    /// Argon2 PHC string of the password (`password_hash`, from `emgclient passwd`).
    pub password_hash: Option<String>,
    /// Account charged; `None` means the user name.
    pub account: Option<String>,
    /// Allowed client addresses (IP or CIDR); empty = everyone.
    pub access: Vec<String>,
    /// Allowed bind types: `transmitter`, `receiver`, `transceiver`.
    pub binds: Vec<String>,
    /// Rate cap in message parts per second.
    pub throughput: Option<f64>,
    /// Where MO messages routed to this user (a route's `user`) on an incoming HTTP
    /// connector are pushed, instead of the connector's `mo_url`.
    pub mo_url: Option<String>,
    /// GET or POST for `mo_url`; `None`: the connector's `mo_method`.
    pub mo_method: Option<crate::http::HttpMethod>,
    /// EMG's `ALLOWROUTE`: this user may hard-route its messages with the `ROUTE` option
    /// (MGP); off, such a submission is refused.
    pub allowroute: bool,
}

/// Bind types a user may use; the default for `binds`.
pub const BIND_TYPES: [&str; 3] = ["transmitter", "receiver", "transceiver"];

/// A named set of connectors a route can target.
#[derive(Debug, Clone)]
pub struct Group {
    /// Name from `[group.NAME]`.
    pub name: String,
    /// Real connectors, in file order.
    pub members: Vec<String>,
}

/// One routing-table entry; absent criteria match everything.
#[derive(Debug, Clone)]
pub struct Route {
    /// The entry's name in the routelog: `name` when given, else `FILE:LINE` of its
    /// `[[route]]` (`emg.toml:42`).
    pub name: String,
    /// Destination address prefix (digits, optionally starting with `+`).
    pub prefix: Option<String>,
    /// Sending account / user.
    pub account: Option<String>,
    /// Connector the message was received on.
    pub from: Option<String>,
    /// Target connector or group.
    pub to: String,
    /// The user the message is for: only its sessions take it, and on an incoming HTTP
    /// connector it is pushed to the user's `mo_url`.
    pub user: Option<String>,
}

/// An MGP (emgclient) account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// Name from `[operator.NAME]`; the login name.
    pub name: String,
    pub secret: OperatorSecret,
    pub role: OperatorRole,
}

/// How an operator's password is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorSecret {
    /// `password_hash`: an Argon2 PHC string.
    Hash(String),
    /// `password`: plain text, for tests and first steps only.
    Plain(String),
}

/// What an operator may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum OperatorRole {
    /// Look only (the default).
    #[default]
    Readonly,
    /// Also hold, release, force-close, move and clear queues, cancel and send messages.
    Operator,
    /// Also reload the configuration.
    Admin,
}

/// Format of the general log (on standard error and in `logdir/general`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `2026-11-23 09:31:18.520766 INFO  message key=value`, as EMG's logs.
    #[default]
    Text,
    /// One JSON object a line, for log shippers.
    Json,
}

/// How emgd lives on its host (`config::daemon`): the local MGP socket and its groups, the
/// general log's format, the watchdog; defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Daemon {
    /// Unix socket for local MGP clients, authenticated by peer credentials.
    pub mgp_socket: Option<PathBuf>,
    /// Local groups whose members may log in on the socket, with their role. Root and the
    /// user emgd runs as are always let in as admin.
    pub local_groups: BTreeMap<String, OperatorRole>,
    pub logformat: LogFormat,
    pub watchdog: Watchdog,
}

/// `emgd watchdog`'s options.
#[derive(Debug, Clone, PartialEq)]
pub struct Watchdog {
    /// TCP listener of the watchdog's MGP API; `None` = none.
    pub address: Option<String>,
    /// Unix socket of the watchdog's MGP API; `None` = none.
    pub socket: Option<PathBuf>,
    /// Alert when a file system holding the data or log directory is fuller than this (%).
    pub disk_limit: f64,
    /// Seconds between disk checks.
    pub check_interval: u64,
    /// Seconds before a disk alert that still holds is sent again.
    pub notify_interval: u64,
    /// URL every alert is POSTed to as JSON.
    pub webhook: Option<String>,
    /// Seconds `server stop` waits after SIGTERM before SIGKILL.
    pub stop_timeout: u64,
}

//! MGP, emg's control protocol: newline-delimited JSON over TCP (specified in `man/mgp.7`).
//!
//! One JSON object per line, UTF-8, at most [`MAX_LINE`] bytes. A client sends requests
//! `{"id":N,"op":"...",...}`; the server answers each with `{"id":N,"ok":{...}}` or
//! `{"id":N,"error":{"code":"...","message":"..."}}`, and pushes stream events as
//! `{"stream":S,"event":{...}}`. JSON lines were chosen so that any language, or `nc`, can
//! speak the protocol.
//!
//! Sans-io like the SMPP codec: [`decode_line`] takes bytes from a read buffer only once a
//! whole line is there, [`encode`] turns a frame into a line. Sockets live in `emgd` and
//! `emgclient`.

mod accounting;
mod types;

pub use accounting::*;
pub use types::*;

use bytes::BytesMut;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The port EMG's sample configuration uses for MGP.
pub const DEFAULT_PORT: u16 = 7185;
/// Longest line either side accepts (without its newline).
pub const MAX_LINE: usize = 1 << 20;

/// One operation with its arguments; the `op` field of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// Must be the first request of a session (or `login_peer`).
    Login {
        user: String,
        password: String,
    },
    /// Log in as the local user at the other end of a Unix socket (peer credentials): no
    /// password; the role comes from the user's groups (`mgp_local_groups`).
    LoginPeer,
    Status,
    Connectors,
    Connector {
        name: String,
    },
    Hold {
        name: String,
    },
    Release {
        name: String,
    },
    /// Close every session of the connector now, then let it reconnect at once.
    Bounce {
        name: String,
    },
    Forceclose {
        name: String,
        /// Also store the flag so that it survives a restart.
        #[serde(default)]
        persist: bool,
    },
    ForcecloseClear {
        name: String,
    },
    QueueList {
        /// One connector with its first `limit` waiting messages; absent: every queue's size.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    QueueMove {
        from: String,
        to: String,
        /// Only messages whose destination starts with this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dest_prefix: Option<String>,
    },
    QueueClear {
        name: String,
    },
    /// `message_id` on the wire: `id` is the request's.
    MsgShow {
        #[serde(rename = "message_id")]
        id: u64,
    },
    MsgCancel {
        #[serde(rename = "message_id")]
        id: u64,
    },
    /// Move one waiting message to the end of another connector's queue.
    MsgMove {
        #[serde(rename = "message_id")]
        id: u64,
        to: String,
    },
    /// Accept a copy of a stored message again (a new id), routed, or queued on `via`.
    MsgResend {
        #[serde(rename = "message_id")]
        id: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via: Option<String>,
    },
    /// One message's whole life as the store and the routelog know it.
    MsgHistory {
        #[serde(rename = "message_id")]
        id: u64,
    },
    /// Messages by id, address, account, connector and time: those under way from the store,
    /// finished ones from the routelog; newest first, `limit` a page (`before_id` the next).
    MsgSearch {
        /// This one message (the other criteria must match it too).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<u64>,
        /// Sender address starting with this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
        /// Destination address starting with this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dest: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account: Option<String>,
        /// Received on, or routed to, this connector.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        connector: Option<String>,
        /// Received at or after (Unix µs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since_us: Option<i64>,
        /// Received before (Unix µs).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until_us: Option<i64>,
        /// Only ids below this: the next page.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before_id: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    /// One connector's queue from the store, oldest first, a page of `limit` after `after_id`.
    QueueBrowse {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_id: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    /// A connector's failures by status and error code (from the routelog, last `since_s`
    /// seconds, default an hour) and its latency histograms.
    ConnectorStats {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since_s: Option<u64>,
    },
    /// The configured users (SMPP/HTTP accounts) with the connectors that name them.
    Users,
    /// The routing table, in the order it is tried.
    Routes,
    /// The nodes sharing this node's store (PostgreSQL): lease, state, claimed queue, load.
    Nodes,
    Send {
        to: String,
        from: String,
        text: String,
        /// Queue on this connector instead of routing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via: Option<String>,
        #[serde(default)]
        dlr: bool,
        /// The account it is sent for: priced, charged to its balance and refused when that
        /// does not cover it, as a message from one of the account's users would be.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account: Option<String>,
        /// More of EMG's MGP options by name (`emgclient send -o NAME=value`): `UDH`, `VP`,
        /// `CHARCODE`, `DLR`, `ROUTE`, `MSGTYPE`=5 with `ORIGID` and `MESSAGESTATE` (a
        /// delivery report injected), ...
        #[serde(default, skip_serializing_if = "Map::is_empty")]
        options: Map<String, Value>,
    },
    /// An application's message on an incoming `mgp` connector, as EMG's MGP options by name
    /// (`DESTADDR`, `MESSAGE`, ...); answered with its id once stored. `MSGTYPE`=5 with
    /// `ORIGID` and `MESSAGESTATE` injects a delivery report instead.
    Submit {
        options: Map<String, Value>,
    },
    /// Pushed by emgd to an application on an incoming `mgp` connector: a delivery report or
    /// an MO message, as MGP options; deleted from the store once the client answers `ok`.
    Deliver {
        options: Map<String, Value>,
    },
    /// Keepalive, either way on an incoming `mgp` connector; answered `ok` with `{}`.
    Ping,
    DlrInject {
        #[serde(rename = "message_id")]
        id: u64,
        status: String,
    },
    Reload,
    Tail {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default)]
        pdu: bool,
        /// First send up to this many of the latest lines already written (connector log
        /// only), then follow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backlog: Option<usize>,
    },
    Watch,
    Stop {
        stream: u64,
    },
    /// Show the general log's level, or with `level` set it (until the next reload or restart).
    Loglevel {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<String>,
    },
    /// Stream a log file's history: `general`, `watchdog`, `connector.NAME`, `pdu.NAME` (or a
    /// connector's name for its connector log), lines from `since_us` on, at most `limit`.
    Logs {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since_us: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<usize>,
    },
    /// Balances: one account's, or every balance-controlled account's.
    BalanceShow {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account: Option<String>,
        /// How many of one account's latest changes to list (default 20, at most 1000).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        history: Option<usize>,
    },
    /// Add `amount` (a decimal string; negative takes away) to an account's balance; an
    /// account without one gets a prepaid balance.
    BalanceAdd {
        account: String,
        amount: String,
    },
    /// Set an account's balance; with `postpaid_limit` it is postpaid (may go down to minus
    /// the limit), without prepaid.
    BalanceSet {
        account: String,
        amount: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        postpaid_limit: Option<String>,
    },
    /// The hourly summary of the routelog, summed by `by` (`hour`, the default, `day`,
    /// `account`, `connector` or `prefix`), for messages received in `[from_us, to_us)`.
    Report {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_us: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to_us: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// Watchdog only: is emgd running, since when, how often restarted, disk usage.
    ServerStatus,
    /// Watchdog only: start emgd (refused when it runs).
    ServerStart,
    /// Watchdog only: stop emgd gracefully (SIGTERM, then SIGKILL after a grace period).
    ServerStop,
    /// Watchdog only: stop, then start.
    ServerRestart,
}

impl Op {
    /// The wire name, as in `"op":"queue_list"`.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Login { .. } => "login",
            Op::LoginPeer => "login_peer",
            Op::Status => "status",
            Op::Connectors => "connectors",
            Op::Connector { .. } => "connector",
            Op::Hold { .. } => "hold",
            Op::Release { .. } => "release",
            Op::Bounce { .. } => "bounce",
            Op::Forceclose { .. } => "forceclose",
            Op::ForcecloseClear { .. } => "forceclose_clear",
            Op::QueueList { .. } => "queue_list",
            Op::QueueMove { .. } => "queue_move",
            Op::QueueClear { .. } => "queue_clear",
            Op::MsgShow { .. } => "msg_show",
            Op::MsgCancel { .. } => "msg_cancel",
            Op::MsgMove { .. } => "msg_move",
            Op::MsgResend { .. } => "msg_resend",
            Op::MsgHistory { .. } => "msg_history",
            Op::MsgSearch { .. } => "msg_search",
            Op::QueueBrowse { .. } => "queue_browse",
            Op::ConnectorStats { .. } => "connector_stats",
            Op::Users => "users",
            Op::Routes => "routes",
            Op::Nodes => "nodes",
            Op::Send { .. } => "send",
            Op::Submit { .. } => "submit",
            Op::Deliver { .. } => "deliver",
            Op::Ping => "ping",
            Op::DlrInject { .. } => "dlr_inject",
            Op::Reload => "reload",
            Op::Tail { .. } => "tail",
            Op::Watch => "watch",
            Op::Stop { .. } => "stop",
            Op::Loglevel { .. } => "loglevel",
            Op::Logs { .. } => "logs",
            Op::BalanceShow { .. } => "balance_show",
            Op::BalanceAdd { .. } => "balance_add",
            Op::BalanceSet { .. } => "balance_set",
            Op::Report { .. } => "report",
            Op::ServerStatus => "server_status",
            Op::ServerStart => "server_start",
            Op::ServerStop => "server_stop",
            Op::ServerRestart => "server_restart",
        }
    }
}

/// A client request: an id the answer repeats, and the operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub id: u64,
    pub op: Op,
}

impl Serialize for Request {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            id: u64,
            #[serde(flatten)]
            op: &'a Op,
        }
        Flat {
            id: self.id,
            op: &self.op,
        }
        .serialize(s)
    }
}

/// The answer to one request. `id` is null only when the request had no readable id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub id: Option<u64>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The operation's result object (see [`types`](self) for each op's shape).
    Ok(Value),
    Error(ErrorBody),
}

/// A server push on an open stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventFrame {
    pub stream: u64,
    pub event: Event,
}

/// Anything that travels on an MGP connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Request(Request),
    Response(Response),
    Event(EventFrame),
}

/// Why a line could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MgpError {
    /// A line longer than the limit: the connection cannot be resynchronised and is closed.
    #[error("line longer than {max} bytes")]
    FrameTooLarge { max: usize },
    /// A complete line that is not a valid frame; it was consumed, the connection goes on.
    #[error("{message}")]
    BadRequest { id: Option<u64>, message: String },
}

impl MgpError {
    /// Must the connection be closed after reporting it?
    pub fn is_fatal(&self) -> bool {
        matches!(self, MgpError::FrameTooLarge { .. })
    }

    /// The error answer to send back.
    pub fn response(&self) -> Response {
        let (id, code) = match self {
            MgpError::FrameTooLarge { .. } => (None, ErrorCode::FrameTooLarge),
            MgpError::BadRequest { id, .. } => (*id, ErrorCode::BadRequest),
        };
        Response {
            id,
            outcome: Outcome::Error(ErrorBody::new(code, self.to_string())),
        }
    }
}

/// Take one complete line from `buf` and decode it. `Ok(None)`: no complete line yet (nothing
/// is consumed). Blank lines are skipped. A line over `max` bytes is an error even before its
/// newline arrives, so a peer cannot make us buffer without bound.
pub fn decode_line(buf: &mut BytesMut, max: usize) -> Result<Option<Frame>, MgpError> {
    loop {
        // `max` may be `usize::MAX` (no limit): `max + 1` would overflow.
        let window = &buf[..buf.len().min(max.saturating_add(1))];
        let Some(pos) = window.iter().position(|&b| b == b'\n') else {
            if buf.len() > max {
                return Err(MgpError::FrameTooLarge { max });
            }
            return Ok(None);
        };
        let line = buf.split_to(pos + 1);
        let mut text = &line[..pos];
        if text.last() == Some(&b'\r') {
            text = &text[..text.len() - 1];
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return parse(text).map(Some);
    }
}

/// Serialise a frame as one line, newline included.
pub fn encode<T: Serialize>(frame: &T) -> Vec<u8> {
    // Our frame types only hold strings, numbers and maps with string keys: cannot fail.
    let mut line = serde_json::to_vec(frame).expect("MGP frames serialise to JSON");
    line.push(b'\n');
    line
}

fn bad(id: Option<u64>, message: impl Into<String>) -> MgpError {
    MgpError::BadRequest {
        id,
        message: message.into(),
    }
}

fn parse(text: &[u8]) -> Result<Frame, MgpError> {
    let value: Value =
        serde_json::from_slice(text).map_err(|e| bad(None, format!("not JSON: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(bad(None, "a frame must be a JSON object"));
    };
    if obj.contains_key("op") {
        let id = match obj.remove("id") {
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .ok_or_else(|| bad(None, "a request needs \"id\": a non-negative integer"))?;
        let op = Op::deserialize(Value::Object(obj))
            .map_err(|e| bad(Some(id), format!("bad request: {e}")))?;
        return Ok(Frame::Request(Request { id, op }));
    }
    if obj.contains_key("stream") && obj.contains_key("event") {
        return from_obj(obj).map(Frame::Event);
    }
    if obj.contains_key("ok") || obj.contains_key("error") {
        return from_obj(obj).map(Frame::Response);
    }
    Err(bad(
        None,
        "not an MGP frame: expected \"op\", \"ok\", \"error\" or \"stream\"",
    ))
}

fn from_obj<T: serde::de::DeserializeOwned>(obj: Map<String, Value>) -> Result<T, MgpError> {
    serde_json::from_value(Value::Object(obj)).map_err(|e| bad(None, format!("bad frame: {e}")))
}

#[cfg(test)]
mod tests;

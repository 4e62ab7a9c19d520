//! The server's configuration and what it hands to the session.

use super::super::auth::Credentials;
use super::super::command::MailParams;
use super::super::data::BareLf;

/// The server's limits and offers.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Our name in the greeting and EHLO reply.
    pub hostname: String,
    /// Longest line, CRLF included (RFC 5321: 1000 for text; commands are held to it too).
    pub max_line_len: usize,
    /// Largest message content in octets, advertised as SIZE.
    pub max_message_size: u64,
    /// Recipients one message may have.
    pub max_recipients: usize,
    /// Commands accepted between two messages (and before the first).
    pub max_commands: usize,
    /// Refused commands per session before it is closed.
    pub max_errors: usize,
    /// Failed AUTH exchanges per session before it is closed.
    pub max_auth_failures: usize,
    pub bare_lf: BareLf,
    /// Accept 8-bit content without BODY=8BITMIME (RFC 6152 says the client must declare it).
    pub lenient_8bit: bool,
    /// STARTTLS can be offered (the session has a TLS acceptor).
    pub tls_available: bool,
    /// Only EHLO, STARTTLS, NOOP, RSET and QUIT before TLS is up.
    pub tls_required: bool,
    /// AUTH is offered (the connector has users).
    pub auth_available: bool,
    /// MAIL needs a successful AUTH first.
    pub auth_required: bool,
    /// AUTH is offered over a connection that is not encrypted.
    pub auth_without_tls: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: "localhost".into(),
            max_line_len: 1000,
            max_message_size: 10 * 1024 * 1024,
            max_recipients: 100,
            max_commands: 100,
            max_errors: 10,
            max_auth_failures: 3,
            bare_lf: BareLf::Normalize,
            lenient_8bit: false,
            tls_available: false,
            tls_required: false,
            auth_available: false,
            auth_required: false,
            auth_without_tls: false,
        }
    }
}

/// The envelope of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// EHLO/HELO argument.
    pub helo: String,
    /// Reverse path, empty for `<>`.
    pub from: String,
    pub params: MailParams,
    /// Accepted forward paths, in order.
    pub recipients: Vec<String>,
    /// The user AUTH accepted, if any.
    pub user: Option<String>,
    /// The session is encrypted.
    pub tls: bool,
}

/// What the session must decide or do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Check these credentials: accept gives 235, reject the reply given (535 usually).
    Auth(Credentials),
    /// May this sender send? Accept gives 250.
    Mail { from: String, params: MailParams },
    /// May this recipient get the message (address mapping, routing)? Accept gives 250;
    /// reject per recipient (550/553 permanent, 450/451/452 temporary).
    Rcpt { to: String },
    /// A complete message: accept (250, with the text given) only once it is stored.
    Message {
        envelope: Envelope,
        content: Vec<u8>,
    },
    /// Write the output (its 220), start TLS on the transport, then call
    /// [`Server::tls_started`].
    StartTls,
    /// Write the output and close the connection.
    Close,
}

/// Which timeout applies now (RFC 5321 §4.5.3.2 suggests 5 minutes for commands, 3 for a
/// DATA block, 10 for the end of DATA; the session chooses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Command,
    Data,
    /// Waiting for the session's own answer: no read timeout.
    Deciding,
    Closed,
}

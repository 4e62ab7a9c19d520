//! Sans-io SMTP (RFC 5321) for the SMTP connectors: the server side we run for applications
//! and users that send mail to SMS, and the client side we use to relay SMS as mail.
//!
//! Bytes in, replies and events out; sockets, TLS and timers belong to the session task.
//! Extensions: PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, STARTTLS, AUTH PLAIN/LOGIN.
//! Not offered: CHUNKING/BDAT, SMTPUTF8, DSN (their commands and parameters get 502/555).
//!
//! Hand-written rather than taken from a crate: the parser is a few hundred lines, and the
//! parts that matter here (the limits with their reply codes, the smuggling-safe end of DATA,
//! the order of pipelined replies, the decision points where the store must commit first) are
//! the state machine itself, which a command-parser crate would leave to us anyway.
//!
//! - [`server::Server`]: one incoming session; [`client::Client`]: one outgoing session.
//! - [`command`]: command lines; [`reply`]: replies both ways; [`data`]: DATA content
//!   (unstuffing with limits, stuffing); [`auth`]: PLAIN and LOGIN payloads.

pub mod auth;
pub mod client;
pub mod command;
pub mod data;
pub mod reply;
pub mod server;

pub use auth::{Credentials, Mechanism};
pub use client::{Client, ClientConfig, ClientError, ClientEvent, Outgoing, SendOutcome, TlsMode};
pub use command::{parse_command, Body, Command, CommandError, MailParams};
pub use data::{stuff, BareLf, ContentError, DataReader, DataStep};
pub use reply::{parse_reply, Enhanced, Reply, ReplyError};
pub use server::{Envelope, Event, Phase, Server, ServerConfig};

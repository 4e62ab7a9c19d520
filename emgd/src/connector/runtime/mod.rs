//! The connector runtime: what EMG defines once for every connector, and the contract each
//! protocol driver (`connector/<protocol>/`) fulfils to get it. Kannel's `gw/smscconn_p.h`
//! is the model: one contract, one driver per protocol.
//!
//! # What the runtime does, for every connector
//!
//! - **States**: IDLE, CONNECTED, BOUND, TERMINATING, DEAD, ERROR, one per instance, published
//!   with who is bound on the connector's `watch` channel ([`state`]); MGP, `/metrics` and the
//!   dashboard read them there. A driver never sets a state; the runtime does, from what the
//!   driver reports.
//! - **Instances**: an outgoing connector runs `instances` sessions, a task each
//!   ([`outgoing`], [`calls`]); an incoming one runs at most `instances` logged-in sessions
//!   at a time, each taking the lowest free instance slot when its peer logs in (the driver
//!   asks [`driver::Ctl::claim_instance`] before answering a login); a connection that does
//!   not log in within `bind_timeout` is closed ([`incoming`], [`slots`]).
//! - **`static`**: an outgoing session connects at start; otherwise when the first message
//!   for it is queued.
//! - **`idletimeout`** and **`keepalive`**: after `keepalive` seconds without a frame the
//!   driver's keepalive request goes out (and an unanswered one ends the session); after
//!   `idletimeout` seconds without message traffic the session logs out ([`framed`]).
//! - **Connect retries**: a failed connect or login is retried as the retry scheme's connector
//!   rule (C) says, falling into ERROR for `maxsleep` after `connects` failures ([`retry`]).
//! - **hold**, **force-close**, **bounce**: held, sessions stay up and take nothing from the
//!   queue; force-closed, they close gracefully and stay closed until released; a bounce is a
//!   force-close cleared once every session is down ([`state::ConnectorHandle::bounce`]).
//! - **`throughput`**: outgoing parts leave no faster; received messages are answered no
//!   faster ([`link::Link::receive`]).
//! - **`mode`**: a receive-only connector sends nothing out; a transmit-only one takes
//!   nothing in ([`link::Link::receive`] refuses, with [`crate::gateway::Reject::NotReceiving`]).
//! - **Logs**: `CONNECT OK`/`CONNECT ERR`, `LOGIN OK`/`LOGIN ERR`, `DISCONNECT`, `ERROR` in
//!   the connector log, every frame in the PDU log, built only when someone reads it
//!   ([`link`]).
//! - **Pipelines**: a received message goes through the IN pipeline (in `Gateway::accept`);
//!   a driver only ever sees the OUT pipeline's copy of what it sends ([`outbox`], [`calls`]).
//! - **Sending**: taking from the queue (a long message's parts on one session, reports on
//!   the session of the user they are for), failing expired messages, recording `Submitting`
//!   before an outgoing connector's first byte leaves, and recording every outcome: sent
//!   (with remote ids), refused (the retry scheme's message rules), back to the queue when a
//!   session ends without an answer ([`outbox`]).
//! - **Windowed protocols** (SMPP, UCP/EMI, CIMD2): the window of outstanding requests,
//!   their sequence numbers from the protocol's space, response and login timeouts, the
//!   logout when closing ([`window`], [`framed`]).
//!
//! # What a driver supplies
//!
//! - Its codec, sans-io, in `common` (`common::smpp`), wrapped as a [`driver::Codec`]:
//!   decode one frame from a buffer, encode one, and a PDU log line.
//! - For a session protocol, a [`driver::Driver`]: what a frame is (response to which
//!   sequence number, or a request; a protocol without numbers answers in order), the login
//!   request and what its answer means, the keepalive and logout requests, a polling request
//!   for a peer that must be asked (GSM modem), the requests that carry a message (its parts)
//!   and what a response says about it ([`outbox::Answer`]), and how to answer each request of
//!   the peer, through [`driver::Ctl`] (reply now, or when work that needs the gateway is
//!   done; switch the codec's mode). Plus how a session starts: [`outgoing::Outgoing`] (a
//!   [`outgoing::Dialer`] that yields any `AsyncRead + AsyncWrite`: TCP, a serial line, a
//!   program's stdin and stdout) or [`incoming::Incoming`].
//! - For a protocol that sends each message with a call of its own (HTTP, EBE, the
//!   simulator), a [`calls::Caller`]: the call, and what became of it
//!   ([`calls::CallOutcome`]).
//! - A driver never touches the queue, the store or a state; and a keyword it cannot honour
//!   is refused by `--check-config`, never ignored.
//!
//! # What a driver reports back (Kannel's callbacks)
//!
//! Through [`link::Link`]: `receive` (a message from the peer: answer only once it resolves,
//! so nothing is acknowledged before it is stored), `receipt` (a delivery receipt), `log`
//! (a connector log line). Through its return values: [`driver::Login`] or
//! [`driver::LoginRefused`] (connected and authenticated, or not), [`outbox::Answer`] and
//! [`calls::CallOutcome`] (sent, refused, temporary), [`driver::Flow::Close`] (the peer
//! logged out).

pub mod calls;
pub mod driver;
pub mod framed;
pub mod incoming;
pub mod link;
pub mod outbox;
pub mod outgoing;
pub mod retry;
pub mod slots;
pub mod state;
pub mod timer;
pub mod tracker;
pub mod window;

#[cfg(test)]
mod tests;

//! SMTP, both ways, on the connector runtime: e-mail to SMS and SMS to e-mail. The protocol
//! itself is `common::smtp` (sans-io server and client) and `common::mime` (reading and
//! building mail); this folder puts them on sockets and between mail and `Message`.
//!
//! | file | what |
//! |---|---|
//! | [`incoming`] | the mail server for applications and users: sessions, AUTH, recipients -> numbers, a message per recipient, `250` once stored |
//! | [`session`] | one incoming session on its socket: STARTTLS, timeouts, shutdown |
//! | [`reports`] | incoming SMTP's outgoing side: DLRs (and replies routed to it) mailed back through `smtp_dlr_relay` |
//! | [`outgoing`] | messages handed to a relay as mail, 4xx retried, 5xx failed |
//! | [`relay`] | a client session to a relay: STARTTLS, AUTH, one mail after another |
//! | [`convert`] | mail <-> `Message`: SMS text or EMAIL, addresses, `X-EMG-Option-<name>` headers, report mails |
//! | [`tls`] | the rustls acceptor and connector |
//!
//! See `man/emg.toml.5` (SMTP CONNECTORS) for the keywords.

pub mod convert;
pub mod incoming;
pub mod outgoing;
pub mod relay;
pub mod reports;
pub mod session;
pub mod tls;

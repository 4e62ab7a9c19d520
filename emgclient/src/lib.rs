//! emgclient: the operator's command line over MGP, emgd's control protocol.
//!
//! [`client`] is one MGP connection (request/answer matched by id, stream events queued);
//! [`cli`] has one module per family of commands, mirroring `emgd::control`; [`tui`] is the
//! live dashboard (no command, or `tui`), fed by the `watch` and `tail` streams; [`exit`] maps
//! failures to the documented exit codes; [`tls`] is `--tls`.

pub mod cli;
pub mod client;
pub mod exit;
pub mod settings;
pub mod tls;
pub mod tui;

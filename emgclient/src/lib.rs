//! emgclient: the operator's command line over MGP, emgd's control protocol.
//!
//! The layers, top to bottom (each uses only those below it): [`cli`] (one module per family
//! of commands, mirroring `emgd::control`) and [`tui`] (the live dashboard, fed by the `watch`
//! and `tail` streams; `cli` starts it); [`login`] (where to connect and as whom, from
//! options, [`emg_args`], [`settings`] and [`client_cfg`]); [`client`] (one MGP connection,
//! over [`tls`] or a Unix socket); [`exit`] (failures and their exit codes) and [`format`].

pub mod cli;
pub mod client;
pub mod client_cfg;
pub mod emg_args;
pub mod exit;
pub mod format;
pub mod login;
pub mod settings;
pub mod tls;
pub mod tui;

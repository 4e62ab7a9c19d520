//! emgd's command line, kept in the library so the man page can be generated from it.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// emg messaging gateway daemon.
///
/// Receives messages on incoming connectors, routes and stores them durably, and sends them
/// out on outgoing connectors; delivery reports travel back to the sender. A message is
/// acknowledged to its sender only once it is committed to the store.
///
/// Signals: SIGTERM and SIGINT shut down gracefully (stop accepting, finish in-flight work,
/// unbind sessions, flush the store); SIGHUP reloads the configuration (a broken file is
/// reported and the running one kept) and reopens the log files.
#[derive(Parser, Debug)]
#[command(
    name = "emgd",
    version,
    after_help = "Exit status: 0 after a clean shutdown or a valid --check-config; 1 on an invalid \
configuration or a fatal error.\n\nEnvironment: EMG_CONFIG (default for --config), EMG_LOG (log \
filter for the general log on standard error, e.g. info or emgd=debug).\n\nSee emg.toml(5) for the \
configuration file."
)]
pub struct Args {
    /// Configuration file (TOML, see emg.toml(5)).
    #[arg(
        short,
        long,
        global = true,
        value_name = "FILE",
        default_value = "/etc/emg/emg.toml",
        env = "EMG_CONFIG"
    )]
    pub config: PathBuf,

    /// Validate the configuration and exit: 0 when valid, 1 listing every problem as
    /// FILE:LINE:COL: keyword: what is wrong.
    #[arg(long)]
    pub check_config: bool,

    /// Convert an EMG configuration (EMG's directory, whose server.cfg is read with the users
    /// files and routing table it names, or server.cfg itself) into the file --config names,
    /// which must not exist yet; mapping, retry-scheme and blacklist files are copied beside
    /// it. Every keyword that cannot be carried is listed as FILE:LINE: KEYWORD: why, and the
    /// result passes --check-config. Exit 0 when written, 1 when nothing could be.
    #[arg(long, value_name = "DIR_OR_FILE", conflicts_with = "check_config")]
    pub import_emg: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run emgd and watch over it, as EMG's watchdog does: restart it when it dies, alert on
    /// start, stop, crash and disk pressure (log line, optional webhook), and serve an MGP API
    /// (watchdog_address, watchdog_socket) for `emgclient server start|stop|restart|status`
    /// and `emgclient logs`. For hosts without systemd: under systemd, systemd is the
    /// watchdog, and this refuses to run unless given --force.
    Watchdog {
        /// Run even under systemd.
        #[arg(long)]
        force: bool,
    },
}

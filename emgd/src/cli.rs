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
///
/// A reload (SIGHUP or `emgclient reload`) starts the connectors added to the file and stops
/// the removed ones: a removed connector takes nothing new, shows TERMINATING, drains its
/// queue (default) or, with `removed_queue = "reroute"`, hands it back to the routing table
/// (what no route takes stays queued on it), then shows DEAD. A connector whose type,
/// protocol, address, instances or dlr_address changed has its sessions closed gracefully
/// (as by force-close: clients are unbound, and reconnect to the new address) and started
/// again with the new values; every other setting applies at once. See emg.toml(5).
///
/// TLS certificates: a reload reads the TLS files of the incoming connectors (`tls_cert`,
/// `tls_key`, `tls_client_ca`) and of the metrics listener again, so a renewed certificate
/// is shown from the next handshake on, while the sessions already up stay up; outgoing
/// connectors read theirs at each connect. A file that became unreadable or wrong refuses the
/// whole reload (the running configuration and certificates stay). The MGP listener's
/// `mgp_tls_cert` and `mgp_tls_key` are read at start only.
///
/// The store is SQLite in datadir (default) or PostgreSQL (`backend = "postgres"`,
/// `database_url`). On PostgreSQL, emgd applies its schema migrations at start under an
/// advisory lock (table schema_version; a database of a newer schema is refused) and claims
/// its nodeid for its host in table nodes (a nodeid another host holds is refused); a commit
/// is acknowledged once PostgreSQL has it on disk (synchronous_commit on).
#[derive(Parser, Debug)]
#[command(
    name = "emgd",
    version,
    after_help = "Exit status: 0 after a clean shutdown or a valid --check-config; 1 on an invalid \
configuration or a fatal error.\n\nEnvironment: EMG_CONFIG (default for --config), EMG_LOG (level \
or filter of the general log, standard error and logdir/general, e.g. debug or emgd::control=debug; \
overrides loglevel), NOTIFY_SOCKET and WATCHDOG_USEC (set by systemd: readiness and keep-alives, \
Type=notify). Files: /etc/emg/emg.toml; under /etc the store is in /var/lib/emg, the logs in \
/var/log/emg, the local MGP socket /run/emg/mgp.sock.\n\nSee emg.toml(5) for the configuration file, \
emgd-watchdog(8) for the watchdog, emgclient(1) and mgp(7) for control."
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

    /// Copy a stopped node's SQLite store (its data directory, or emg.sqlite) into the
    /// empty PostgreSQL database at the URL TO, nothing left behind: queued messages, open
    /// delivery reports, connector flags, SAT entries, balances and their history, the
    /// routelog, the hourly summary, message history. All or nothing (one transaction); a
    /// database that already holds a store is refused. Stop emgd first; then set backend =
    /// "postgres" and database_url = TO and start it. Exit 0 when copied, 1 otherwise.
    #[arg(
        long,
        num_args = 2,
        value_names = ["FROM", "TO"],
        conflicts_with_all = ["check_config", "import_emg"]
    )]
    pub migrate_store: Option<Vec<String>>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run emgd and watch over it, as EMG's watchdog does (hosts without systemd).
    ///
    /// Restarts emgd when it dies (after 1 s, doubling up to a minute while it keeps dying
    /// soon after its start); alerts on start, stop, crash and disk pressure (a line in
    /// logdir/watchdog, and a JSON POST to watchdog_webhook); serves an MGP API on
    /// watchdog_address and watchdog_socket for `emgclient server start|stop|restart|status`
    /// and `emgclient logs NAME --since` (also while emgd is down). SIGTERM stops emgd, then
    /// the watchdog; SIGHUP rereads the configuration.
    ///
    /// Which to use when: under systemd, systemd is the watchdog (emgd.service restarts emgd
    /// when it dies or hangs; systemctl and journalctl are the API), and this refuses to run
    /// unless given --force, so that two supervisors do not fight over one emgd. Without
    /// systemd (containers, other init systems), or where an outside system must start and stop
    /// emgd over the network, run `emgd watchdog` instead of emgd.
    Watchdog {
        /// Run even under systemd.
        #[arg(long)]
        force: bool,
    },
}

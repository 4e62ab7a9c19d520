//! The command line: global options and one subcommand per operation (the man pages are
//! generated from these definitions).

use crate::exit::EXIT_CODES_HELP;
use crate::login::ConnectArgs;
use clap::{Args, Parser, Subcommand};

/// emg operator tool: look at and steer a running emgd over MGP.
///
/// Without a command, opens the operator console (as `emgclient tui` does; see THE CONSOLE
/// below). EMG's own options (-host, -port, -username, -password, -help) and its
/// EMGDIR/client.cfg work as in EMG.
#[derive(Parser, Debug)]
#[command(
    name = "emgclient",
    version,
    after_help = EXIT_CODES_HELP,
    after_long_help = crate::tui::manual::root_after_long_help()
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Print emgd's answer as JSON (one object; stream events one per line); a failure as
    /// {"error":{"code","message","exit_code"}}.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The operator console: connectors, queues, messages, users, routes, logs, and keys to act on them.
    #[command(after_long_help = crate::tui::manual::text())]
    Tui,
    /// Version, uptime, node id, queued and total counters.
    Status,
    /// Every connector: states, flags, queue size, counters and rates.
    ///
    /// On a node sharing its PostgreSQL store with others, a NODES column shows the sessions
    /// bound on each live node (`1:4 2:4 3:0`: node id and sessions); the other nodes' as
    /// they last published them, within a second.
    Connectors,
    /// The nodes sharing the store (PostgreSQL): lease expiry, state, claimed queue, load; and what this node took over and resent.
    Nodes,
    /// One connector in detail, with its configuration summary.
    Connector { name: String },
    /// Stop sending on a connector; its sessions stay up and its queue grows.
    ///
    /// The hold is stored: it survives an emgd restart, until `emgclient release NAME`. On
    /// a store nodes share, every node holds the connector within a second.
    Hold { name: String },
    /// Resume sending on a held connector.
    Release { name: String },
    /// Close the connector's sessions now and let them reconnect at once.
    Bounce { name: String },
    /// Close the connector's sessions and keep them closed (--clear reverses it).
    ///
    /// On a store nodes share, the flag is always stored and every node closes the
    /// connector's sessions within a second (and clears them with --clear).
    Forceclose {
        name: String,
        /// Store the flag so that it survives an emgd restart.
        #[arg(long, conflicts_with = "clear")]
        persist: bool,
        /// Clear force-close (stored or not); the connector reconnects.
        #[arg(long)]
        clear: bool,
    },
    /// Queues: list, move, clear.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Messages: show, cancel.
    #[command(subcommand)]
    Msg(MsgCommand),
    /// Account balances: show, history, add, set (add and set: admin).
    #[command(subcommand)]
    Balance(BalanceCommand),
    /// Messages, parts, price and cost from the routelog's hourly summary, summed by hour,
    /// day, account, connector or destination prefix.
    Report {
        #[arg(long)]
        account: Option<String>,
        /// Received at or after: 10m, 2h, 1d (ago) or 2026-05-04T10:00 (local time).
        #[arg(long, value_name = "TIME")]
        from: Option<String>,
        /// Received before (as --from).
        #[arg(long, value_name = "TIME")]
        to: Option<String>,
        #[arg(long, default_value = "hour", value_parser = ["hour", "day", "account", "connector", "prefix"])]
        by: String,
        /// Print comma-separated values with a header line (--json wins over it).
        #[arg(long)]
        csv: bool,
    },
    /// Send a message through routing, or on one connector with --via; with -o, any of EMG's
    /// MGP options (as emgsend -o), e.g. -o VP=60 -o UDH=0605040B8423F0, or a delivery report
    /// injected: -o MSGTYPE=5 -o ORIGID=ID -o MESSAGESTATE=DELIVERED.
    Send {
        /// The recipient (the option DESTADDR).
        #[arg(long, required_unless_present = "options")]
        to: Option<String>,
        /// The sender (the option SOURCEADDR).
        #[arg(long, required_unless_present = "options")]
        from: Option<String>,
        /// The text (the option MESSAGE).
        #[arg(long, required_unless_present = "options")]
        text: Option<String>,
        /// Queue on this connector instead of routing.
        #[arg(long, value_name = "CONNECTOR")]
        via: Option<String>,
        /// Request a delivery report (its status shows in `msg show`).
        #[arg(long)]
        dlr: bool,
        /// Send it for this account: priced, charged to its balance, refused (exit 4) when
        /// the balance does not cover it.
        #[arg(long)]
        account: Option<String>,
        /// An MGP option by name, repeatable: DESTADDR, SOURCEADDR, MESSAGE, UDH, CHARCODE,
        /// DCS, VP (minutes), DLR, PRIORITY, PID, ROUTE, SOURCEADDRTON, DESTADDRNPI, ...,
        /// MSGTYPE (5 with ORIGID and MESSAGESTATE injects a delivery report); see mgp(7).
        #[arg(short = 'o', long = "option", value_name = "OPTION=value", value_parser = option_pair)]
        options: Vec<(String, String)>,
    },
    /// Delivery reports.
    #[command(subcommand)]
    Dlr(DlrCommand),
    /// Reload emgd's configuration file (admin).
    Reload,
    /// Show the general log's level, or set it until the next reload or restart (admin).
    Loglevel {
        /// error, warn, info, debug or trace; or a filter such as `info,emgd::control=debug`.
        level: Option<String>,
    },
    /// Follow the connector log (or with --pdu the PDU log) of one connector or all.
    Tail {
        name: Option<String>,
        #[arg(long)]
        pdu: bool,
        /// Stop after this many lines.
        #[arg(short = 'n', long, value_name = "N")]
        count: Option<u64>,
    },
    /// Follow state changes and every connector's counters (each second).
    Watch {
        /// Stop after this many events.
        #[arg(short = 'n', long, value_name = "N")]
        count: Option<u64>,
    },
    /// Print a log file's history, through the watchdog (so also while emgd is down).
    Logs {
        /// `general`, `watchdog`, a connector's name (its connector log), `connector.NAME` or
        /// `pdu.NAME`.
        name: String,
        /// Only lines from this time on: `2026-11-23 09:30`, `2026-11-23`, `09:30` (today),
        /// or an age such as `90s`, `15m`, `2h`, `3d`.
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
        /// At most this many lines (the latest ones).
        #[arg(short = 'n', long, value_name = "N", default_value_t = 10_000)]
        lines: usize,
        /// Ask emgd's own MGP listener instead of the watchdog (where no watchdog runs, as
        /// under systemd).
        #[arg(long)]
        emgd: bool,
    },
    /// Start, stop or restart emgd, or show whether it runs: through the watchdog.
    #[command(subcommand)]
    Server(ServerCommand),
    /// Print an Argon2 hash of a password for `password_hash` in [operator.NAME] or [user.NAME].
    Passwd,
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand, Debug)]
pub enum QueueCommand {
    /// Queue sizes of every connector, or one connector's first waiting messages.
    List {
        name: Option<String>,
        /// How many waiting messages to show for one connector.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Move the waiting messages of FROM to TO.
    Move {
        from: String,
        to: String,
        /// Only messages whose destination starts with this.
        #[arg(long, value_name = "PREFIX")]
        dest_prefix: Option<String>,
    },
    /// Cancel every waiting message of a connector.
    Clear { name: String },
}

#[derive(Subcommand, Debug)]
pub enum MsgCommand {
    /// State, route, timestamps, remote id and delivery status of a message.
    Show { id: u64 },
    /// Cancel a message still waiting in its queue.
    Cancel { id: u64 },
    /// A message's steps: received, routed, submitted, receipts, final state, price.
    History { id: u64 },
    /// Move a waiting message to the end of another connector's queue.
    Move { id: u64, to: String },
    /// Accept a copy of a finished message again (a new id), routed or on --via.
    Resend {
        id: u64,
        #[arg(long, value_name = "CONNECTOR")]
        via: Option<String>,
    },
    /// Find messages (under way from the store, finished from the routelog), newest first.
    #[command(visible_alias = "find")]
    Search {
        /// Destination address starting with this.
        #[arg(long, visible_alias = "to", value_name = "PREFIX")]
        dest: Option<String>,
        /// Sender address starting with this.
        #[arg(long, value_name = "PREFIX")]
        from: Option<String>,
        #[arg(long)]
        account: Option<String>,
        /// Received on or routed to this connector.
        #[arg(long)]
        connector: Option<String>,
        /// Received at or after: 10m, 2h, 1d (ago) or 2026-05-04T10:00 (local time).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Received before (as --since).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// Only ids below this (the next page).
        #[arg(long, value_name = "ID")]
        before: Option<u64>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Subcommand, Debug)]
pub enum BalanceCommand {
    /// One account's balance, or every balance-controlled account's.
    Show { account: Option<String> },
    /// ACCOUNT's latest balance changes, newest first: operators' changes by name, charges
    /// and refunds summed per store commit as charge:CONNECTOR and refund:CONNECTOR.
    History {
        account: String,
        /// How many changes to list (at most 1000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Add AMOUNT (a decimal such as 12.50; negative takes away) to ACCOUNT's balance (admin).
    Add {
        account: String,
        #[arg(allow_hyphen_values = true)]
        amount: String,
    },
    /// Set ACCOUNT's balance to AMOUNT: prepaid, or with --postpaid-limit postpaid (admin).
    Set {
        account: String,
        #[arg(allow_hyphen_values = true)]
        amount: String,
        /// The balance may go down to minus this (EMG's charge_balance_postpaid_limit).
        #[arg(long, value_name = "AMOUNT")]
        postpaid_limit: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum DlrCommand {
    /// Act as if the next hop reported STATUS (DELIVRD, UNDELIV, EXPIRED ...) for message ID.
    Inject { id: u64, status: String },
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum ServerCommand {
    /// Is emgd running, since when, how often restarted; disk usage.
    Status,
    /// Start emgd (admin).
    Start,
    /// Stop emgd gracefully (admin).
    Stop,
    /// Stop emgd, then start it again (admin).
    Restart,
}

/// `NAME=value` of `send -o`.
fn option_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not OPTION=value (e.g. VP=60)")),
    }
}

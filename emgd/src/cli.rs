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
emgd-watchdog(8) for the watchdog, emgclient(1) and mgp(7) for control.",
    after_long_help = "Exit status: 0 after a clean shutdown or a valid --check-config; 1 on an invalid \
configuration or a fatal error.\n\nEnvironment: EMG_CONFIG (default for --config), EMG_LOG (level \
or filter of the general log, standard error and logdir/general, e.g. debug or emgd::control=debug; \
overrides loglevel), NOTIFY_SOCKET and WATCHDOG_USEC (set by systemd: readiness and keep-alives, \
Type=notify). Files: /etc/emg/emg.toml; under /etc the store is in /var/lib/emg, the logs in \
/var/log/emg, the local MGP socket /run/emg/mgp.sock.\n\n\
STORE FAULTS: when the store cannot commit (disk full, data directory read-only, I/O error) the \
transaction is rolled back and nothing in it is acknowledged: submits get their protocol's \
temporary error (SMPP ESME_RMSGQFUL 0x14, HTTP 503 unavailable with Retry-After: 5, SMTP 452 4.3.1, \
UCP NACK 04 operation not allowed, CIMD2 error 10 temporary congestion, MGP error internal), \
/health answers 503 (store commits failing: ...), emg_store_commit_failures_total counts the failed \
transactions and emg_store_healthy is 0 (see emg-http(7)). Messages already acknowledged stay in \
the store and are sent once it commits again. emgd retries by itself (a small write every second \
while idle): once space returns it commits again without a restart. A data directory that turns \
read-only (ext4 mounted errors=remount-ro after a disk error: findmnt shows emergency_ro, and mount \
-o remount,rw is refused) gets the same answers but does not come back by itself. To recover: stop \
emgd (SIGTERM: it exits 1 with cannot close the store cleanly, leaving no emg.clean, so the next \
start runs the check of STORE RECOVERY; what it acknowledged is in emg.sqlite and \
emg.sqlite-wal), umount the file system, \
e2fsck -fy its device, mount it again and start emgd, which replays the -wal and sends every \
message it acknowledged.\n\n\
STORE RECOVERY: at start emgd runs SQLite's PRAGMA quick_check on datadir/emg.sqlite (a full read \
of the file: 7 s warm, 20 s cold for a 300 MB store of 1,000,000 messages and routelog rows on a \
loaded 2-core machine, 0.4-0.5 s of it CPU) when the last run did not shut down cleanly: a clean \
stop writes datadir/emg.clean after the store's last checkpoint, each start removes it, so after \
SIGKILL, a crash or a power cut there is none and the check runs. store_check in emg.toml(5) \
makes it run at every start (always) or never (never); each start logs which. A file that fails it, or that SQLite calls malformed, \
stops emgd with FILE: store is corrupt (what is wrong) instead of starting on an empty or partial \
queue. To recover, stop emgd and in the data directory: mv emg.sqlite emg.sqlite.corrupt; rm -f \
emg.sqlite-wal emg.sqlite-shm; v=$(sqlite3 emg.sqlite.corrupt 'PRAGMA user_version'); sqlite3 \
emg.sqlite.corrupt .dump | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/' | sqlite3 emg.sqlite; \
sqlite3 emg.sqlite \"PRAGMA user_version = $v\" (a sqlite3 built with .recover may use \
sqlite3 emg.sqlite.corrupt .recover instead of .dump). Rows on the damaged pages are lost; \
restoring a backup loses what came after it. Then start emgd.\n\n\
REPORTS ACROSS NODES: with backend = \"postgres\" several nodes share one store, and a next hop may \
send a receipt on any node's session. A node keeps the open DLR entries it made (and those in the \
store when it started) in memory; a receipt that matches none of them is looked up in the store's \
dlr_open table, batched (one query for every receipt that missed while the previous query ran), \
and the entry another node opened is taken over: the message is finished, the entry closed and \
the sender's report queued in one transaction before the receipt is answered. When that lookup \
fails the receipt gets a temporary error, so the next hop sends it again. Before a node settles its \
expired entries as UNKNOWN (dlr_expire) it checks them in the store and drops those another node \
has settled. Not shared yet: the tallies of a long message whose parts' receipts arrive on \
different nodes, and a duplicate receipt arriving on the node that sent the message after another \
node settled it.\n\n\
CLUSTER: any number of emgd nodes with backend = \"postgres\" and one database_url share one store, \
each with its own nodeid and the same connectors. Each node holds a lease in table nodes \
(node_lease, default 4 s, renewed every fifth of it) and sends only the queued messages it has \
claimed: what it accepted itself is stored claimed by it, so nodes never send a message twice and \
never coordinate per message. When a node stops renewing (SIGKILL, power loss, cut from the \
database) its lease runs out and a live node with a bound session for the connector claims its \
queue, 2,000 rows per statement (FOR UPDATE SKIP LOCKED), including messages it was submitting \
when it died: those are sent again and may arrive twice, as SMPP allows; the taking node logs how \
many it took and resent. Fail-over takes the lease plus at most one renewal interval (3.7 s \
measured with the default lease of 4 s; 5.0-5.1 s with node_lease = 5). A node restarted on its nodeid resumes only what is still \
claimed by it. A node whose lease cannot be renewed takes nothing over, and a node that is alive but cannot \
renew it (stalled, or cut from PostgreSQL) stops sending one renewal interval before its lease \
ends and refuses new messages with a temporary error (SMPP ESME_RMSGQFUL, HTTP 503 with \
Retry-After, SMTP 452) until it renews; once the lease has lapsed it drops its in-memory queues \
(the store keeps them for the node that takes them over), and when it renews again it reloads \
only the queued messages still claimed by it and takes traffic again by itself. Its \
connections carry application_name emgd-node-N (unless database_url names one), as \
pg_stat_activity shows them. emgclient nodes lists \
the nodes, their lease, state (live, dead), claimed queue and load, and how many messages the \
answering node took over, how many of those it resent and how often its own lease lapsed \
(metrics: emg_takeover_taken_total, emg_takeover_resent_total, emg_node_lease_lapses_total). While a node lives its queue \
stays its own: a live node whose connector is down or held keeps its queue until it dies or the \
connector comes back (operators may move it: emgclient queue move). An incoming HTTP or SMTP \
connector sends its DLR callbacks, MO pushes and report mails without a session, so any live node \
takes a dead node's over; each callback attempt is made by the one node that holds the row, so \
a callback is made once per attempt (one the dead node had in flight is made again).\n\n\
REPORTS AND MO TO CLIENTS ACROSS NODES: a report or MO message for a user (an SMPP or MGP client) \
leaves only through a session of that user. A node that holds such messages for a user with no \
receiving session on it (while another node lives) releases them in the store at its next lease \
renewal (every fifth of node_lease: 0.8 s by default): claim_node -1 and wait_user the user, one \
statement per renewal. A node where the user is bound \
claims them (FOR UPDATE SKIP LOCKED, 2,000 rows per statement), so one node delivers each, and \
a client that submitted on node A and binds only on node C gets its receipts and MO on C. Both \
steps are logged (released N waiting messages ..., claimed N messages waiting for user U ...). \
Released messages whose validity ended are claimed by any node, whose queue expires them. \
Until the user binds somewhere they wait in the store; emgclient queue list on a node shows only \
what that node holds.\n\n\
SHARED CONNECTOR FLAGS: hold, release, forceclose and forceclose --clear on any node's MGP are \
stored (forceclose always, persist or not) and every node applies the stored flags at its next \
lease renewal (it reads connector_flags; a change is logged in the connector's log as HOLD (set \
on another node) and so on). bounce acts on the node it is sent to. Each node publishes its bound \
sessions (table node_sessions) when they change; emgclient connectors on any node shows them per \
live node (NODES column, MGP connectors' nodes).\n\n\
See emg.toml(5) for the configuration file, \
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
    /// result passes --check-config. Exit 0 when written; 1, writing nothing, on a line
    /// EMG's syntax does not allow or when the target exists already.
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

//! The command line: global options, one subcommand per operation, one module per family
//! (named like the `emgd::control` handler it talks to).

mod admin;
mod connectors;
mod msg;
mod queue;
mod stream;
pub mod table;

pub use connectors::duration;

use crate::client::Client;
use crate::exit::{Failure, EXIT_CODES_HELP};
use crate::settings;
use crate::tls::TlsOptions;
use clap::{Args, Parser, Subcommand};
use common::mgp::{LoginOk, Op};
use serde_json::Value;

/// How long the login may take (Argon2 on emgd's side included).
const LOGIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// emg operator tool: look at and steer a running emgd over MGP.
///
/// Without a command, opens the dashboard (as `emgclient tui` does).
#[derive(Parser, Debug)]
#[command(name = "emgclient", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// emgd's MGP address [default: from the settings file, else 127.0.0.1:7185].
    #[arg(long, global = true, value_name = "HOST:PORT", env = "EMG_HOST")]
    pub host: Option<String>,
    /// Operator name [default: from the settings file, else admin]. The password comes from
    /// EMG_PASSWORD, the settings file (~/.config/emgclient/config.toml), or a prompt.
    #[arg(long, global = true, env = "EMG_USER")]
    pub user: Option<String>,
    /// Print emgd's answer as JSON (one object; stream events one per line).
    #[arg(long, global = true)]
    pub json: bool,
    /// Connect over TLS (emgd with mgp_tls_cert and mgp_tls_key) [default: `tls` in the
    /// settings file, else plain TCP]. emgd's certificate must chain to the system's trusted
    /// roots (SSL_CERT_FILE or SSL_CERT_DIR say where they are, if not in the usual place), or
    /// to --ca.
    #[arg(long, global = true)]
    pub tls: bool,
    /// Trust the certificates in this PEM file (a private CA, or emgd's self-signed
    /// certificate) instead of the system roots; implies --tls.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<std::path::PathBuf>,
    /// The name emgd's certificate must be valid for, when it is not the host of --host (e.g.
    /// when connecting by IP address); implies --tls.
    #[arg(long, global = true, value_name = "NAME")]
    pub tls_server_name: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The live dashboard: connectors, rates, queues, logs, and keys to act on them.
    Tui,
    /// Version, uptime, node id, queued and total counters.
    Status,
    /// Every connector: states, flags, queue size, counters and rates.
    Connectors,
    /// One connector in detail, with its configuration summary.
    Connector { name: String },
    /// Stop sending on a connector; its sessions stay up and its queue grows.
    Hold { name: String },
    /// Resume sending on a held connector.
    Release { name: String },
    /// Close the connector's sessions now and let them reconnect at once.
    Bounce { name: String },
    /// Close the connector's sessions and keep them closed (--clear reverses it).
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
    /// Send a message through routing, or on one connector with --via.
    Send {
        #[arg(long)]
        to: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        text: String,
        /// Queue on this connector instead of routing.
        #[arg(long, value_name = "CONNECTOR")]
        via: Option<String>,
        /// Request a delivery report (its status shows in `msg show`).
        #[arg(long)]
        dlr: bool,
    },
    /// Delivery reports.
    #[command(subcommand)]
    Dlr(DlrCommand),
    /// Reload emgd's configuration file (admin).
    Reload,
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
    /// Print an Argon2 hash of a password for `password_hash` in [operator.NAME].
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
}

#[derive(Subcommand, Debug)]
pub enum DlrCommand {
    /// Act as if the next hop reported STATUS (DELIVRD, UNDELIV, EXPIRED ...) for message ID.
    Inject { id: u64, status: String },
}

/// Run one command.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let g = cli.global;
    match cli.command.unwrap_or(Command::Tui) {
        Command::Tui => crate::tui::run(&g).await,
        Command::Passwd => admin::passwd(),
        Command::Completions { shell } => admin::completions(shell),
        command => {
            let mut client = login(&g).await?;
            let out = Out { json: g.json };
            dispatch(&mut client, &out, command).await
        }
    }
}

async fn dispatch(c: &mut Client, out: &Out, command: Command) -> Result<(), Failure> {
    match command {
        Command::Status => connectors::status(c, out).await,
        Command::Connectors => connectors::list(c, out).await,
        Command::Connector { name } => connectors::detail(c, out, name).await,
        Command::Hold { name } => connectors::flags(c, out, Op::Hold { name }).await,
        Command::Release { name } => connectors::flags(c, out, Op::Release { name }).await,
        Command::Bounce { name } => connectors::flags(c, out, Op::Bounce { name }).await,
        Command::Forceclose {
            name, clear: true, ..
        } => connectors::flags(c, out, Op::ForcecloseClear { name }).await,
        Command::Forceclose { name, persist, .. } => {
            connectors::flags(c, out, Op::Forceclose { name, persist }).await
        }
        Command::Queue(q) => queue::run(c, out, q).await,
        Command::Msg(m) => msg::run(c, out, m).await,
        Command::Send {
            to,
            from,
            text,
            via,
            dlr,
        } => {
            msg::send(
                c,
                out,
                Op::Send {
                    to,
                    from,
                    text,
                    via,
                    dlr,
                },
            )
            .await
        }
        Command::Dlr(DlrCommand::Inject { id, status }) => {
            msg::dlr_inject(c, out, id, status).await
        }
        Command::Reload => admin::reload(c, out).await,
        Command::Tail { name, pdu, count } => stream::tail(c, out, name, pdu, count).await,
        Command::Watch { count } => stream::watch(c, out, count).await,
        Command::Tui | Command::Passwd | Command::Completions { .. } => {
            unreachable!("handled without a session")
        }
    }
}

/// Connect and log in with the resolved host, user and password.
pub async fn login(g: &Global) -> Result<Client, Failure> {
    connect(&credentials(g)?).await
}

/// Where to connect and as whom; resolved once, so that the dashboard can reconnect.
#[derive(Clone)]
pub struct Creds {
    pub host: String,
    pub user: String,
    password: String,
    /// `None`: plain TCP.
    pub tls: Option<TlsOptions>,
}

/// Host, user and password from options, environment, the settings file or a prompt.
pub fn credentials(g: &Global) -> Result<Creds, Failure> {
    let file = settings::load_file()?;
    let host = g
        .host
        .clone()
        .or(file.host.clone())
        .unwrap_or_else(|| settings::DEFAULT_HOST.to_string());
    let user = g
        .user
        .clone()
        .or(file.user.clone())
        .unwrap_or_else(|| settings::DEFAULT_USER.to_string());
    let password = settings::password(&file, &user, &host)?;
    let file_tls = file
        .tls
        .unwrap_or(file.ca.is_some() || file.tls_server_name.is_some());
    let tls =
        (g.tls || g.ca.is_some() || g.tls_server_name.is_some() || file_tls).then(|| TlsOptions {
            ca: g.ca.clone().or_else(|| file.ca_path()),
            server_name: g.tls_server_name.clone().or(file.tls_server_name.clone()),
        });
    Ok(Creds {
        host,
        user,
        password,
        tls,
    })
}

/// Connect to `c.host` and log in.
pub async fn connect(c: &Creds) -> Result<Client, Failure> {
    let mut client = Client::connect(&c.host, c.tls.as_ref()).await?;
    let login = client.call_as::<LoginOk>(Op::Login {
        user: c.user.clone(),
        password: c.password.clone(),
    });
    // A server that is not emgd, or speaks TLS and neither answers nor closes, would hang here.
    tokio::time::timeout(LOGIN_TIMEOUT, login)
        .await
        .map_err(|_| Failure::Connect {
            host: c.host.clone(),
            reason: format!(
                "no answer to login within {} s (is it emgd's MGP port? with or without --tls?)",
                LOGIN_TIMEOUT.as_secs()
            ),
        })??;
    Ok(client)
}

/// How to print answers.
pub struct Out {
    pub json: bool,
}

impl Out {
    /// With --json print the raw answer and return true; the caller prints its table otherwise.
    pub fn raw(&self, v: &Value) -> bool {
        if self.json {
            println!("{v}");
        }
        self.json
    }
}

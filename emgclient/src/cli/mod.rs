//! The command line: [`args`] defines it, this module runs one command, one module per family
//! of commands (named like the `emgd::control` handler it talks to) prints the answer.

mod accounting;
mod admin;
pub mod args;
mod connectors;
mod logs;
mod msg;
mod nodes;
pub mod out;
mod queue;
mod server;
mod stream;
pub mod table;

pub use args::{Cli, Command, Global};

use crate::client::Client;
use crate::exit::Failure;
use crate::login::{self, Endpoint};
use args::DlrCommand;
use common::mgp::Op;
use out::Out;

/// Run one command.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let g = cli.global;
    let out = Out { json: g.json };
    match cli.command.unwrap_or(Command::Tui) {
        Command::Tui => {
            let creds = login::credentials(&g.connect, Endpoint::Emgd)?;
            crate::tui::run(creds).await
        }
        Command::Passwd => admin::passwd(),
        Command::Completions { shell } => admin::completions(shell),
        Command::Server(cmd) => {
            let mut client = session(&g, Endpoint::Watchdog).await?;
            server::run(&mut client, &out, cmd).await
        }
        Command::Logs {
            name,
            since,
            lines,
            emgd,
        } => {
            let since_us = since.as_deref().map(logs::parse_since).transpose()?;
            let endpoint = if emgd {
                Endpoint::Emgd
            } else {
                Endpoint::Watchdog
            };
            let mut client = session(&g, endpoint).await?;
            logs::history(&mut client, &out, name, since_us, lines).await
        }
        command => {
            let mut client = session(&g, Endpoint::Emgd).await?;
            dispatch(&mut client, &out, command).await
        }
    }
}

/// Resolve the credentials for `endpoint`, connect and log in.
async fn session(g: &Global, endpoint: Endpoint) -> Result<Client, Failure> {
    let creds = login::credentials(&g.connect, endpoint)?;
    Ok(login::connect(&creds).await?.0)
}

async fn dispatch(c: &mut Client, out: &Out, command: Command) -> Result<(), Failure> {
    match command {
        Command::Status => connectors::status(c, out).await,
        Command::Connectors => connectors::list(c, out).await,
        Command::Nodes => nodes::list(c, out).await,
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
        Command::Balance(b) => accounting::balance(c, out, b).await,
        Command::Report {
            account,
            from,
            to,
            by,
            csv,
        } => {
            let now = msg::now_us();
            let time = |t: Option<String>| -> Result<Option<i64>, Failure> {
                t.map(|t| crate::tui::state::command::parse_time(&t, now).map_err(Failure::Usage))
                    .transpose()
            };
            let op = Op::Report {
                account,
                from_us: time(from)?,
                to_us: time(to)?,
                by: Some(by),
            };
            accounting::report(c, out, op, csv).await
        }
        Command::Send {
            to,
            from,
            text,
            via,
            dlr,
            account,
            options,
        } => {
            let options = options
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            msg::send(
                c,
                out,
                Op::Send {
                    to: to.unwrap_or_default(),
                    from: from.unwrap_or_default(),
                    text: text.unwrap_or_default(),
                    via,
                    dlr,
                    account,
                    options,
                },
            )
            .await
        }
        Command::Dlr(DlrCommand::Inject { id, status }) => {
            msg::dlr_inject(c, out, id, status).await
        }
        Command::Reload => admin::reload(c, out).await,
        Command::Loglevel { level } => logs::loglevel(c, out, level).await,
        Command::Tail { name, pdu, count } => stream::tail(c, out, name, pdu, count).await,
        Command::Watch { count } => stream::watch(c, out, count).await,
        Command::Tui
        | Command::Passwd
        | Command::Completions { .. }
        | Command::Server(_)
        | Command::Logs { .. } => {
            unreachable!("run handles these itself")
        }
    }
}

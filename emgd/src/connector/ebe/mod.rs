//! EBE (`protocol = "ebe"`, outgoing): each message is handed to a program, EMG's way of
//! custom delivery. `address` is the program; it runs once per message, `instances` x
//! `windowsize` at a time on the call runtime ([`crate::connector::runtime::calls`]), with
//! the message's MGP options in its environment (`EMG_DESTADDR`, ...) and its text on stdin.
//!
//! | file | what |
//! |---|---|
//! | [`program`] | one run: environment, stdin, `ebe_timeout` (its process group killed), exit status and stdout read |
//!
//! What the run says: exit 0, sent (stdout's one line, if any, is the id an injected report
//! may name later); exit 75 (`EX_TEMPFAIL`), killed at its timeout, or not startable: a
//! temporary error (the message waits, the instance backs off, as the retry scheme says);
//! any other exit: refused (the retry scheme's message rules decide, by default it fails);
//! garbage on stdout: refused, with a log line that says what was wrong.

pub mod program;

use crate::connector::runtime::calls::{self, CallOutcome, Caller};
use crate::connector::runtime::link::Link;
use crate::connector::runtime::state::{ConnectorHandle, SessionInfo};
use crate::gateway::Gateway;
use common::message::Message;
use program::Ran;
use std::sync::Arc;
use std::time::Duration;

/// The command number an EBE run's failures are matched with in retry schemes; the error is
/// the exit status (a timeout or a program that cannot start: [`program::NO_EXIT`]).
pub const EBE_COMMAND: u32 = 0;

/// Run every instance of an EBE connector until shutdown.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>) {
    calls::run(gw, connector, Arc::new(Ebe)).await;
}

struct Ebe;

impl Caller for Ebe {
    /// The program may have delivered it when emgd dies: the store says it was submitting.
    const RECORDS_SUBMITTING: bool = true;

    fn open(&self, link: &Link) -> SessionInfo {
        let cfg = link.config();
        link.log(format!(
            "CONNECT OK (info=\"program {}\")",
            cfg.address.as_deref().unwrap_or_default()
        ));
        SessionInfo {
            instance: link.instance,
            peer: cfg.address.clone(),
            bind: Some("ebe".into()),
            user: None,
            since_us: crate::clock::now_us(),
        }
    }

    async fn call(self: Arc<Self>, link: Link, wire: Message) -> CallOutcome {
        let cfg = link.config();
        let program = cfg.address.clone().unwrap_or_default();
        let timeout = Duration::from_secs(cfg.ebe_timeout);
        let ran = program::run(&program, &cfg.ebe_args, link.name(), &wire, timeout).await;
        link.log_pdu(|| format!("Write {program} id:{} -> {ran}", wire.id));
        match ran {
            Ran::Sent { remote_id } => calls::taken(&cfg, &wire, remote_id),
            Ran::Temporary { error, why } => {
                link.log(format!(
                    "SUBMIT ERR (info=\"message {}: {why}; tried again later\")",
                    wire.id
                ));
                CallOutcome::Temporary {
                    command: EBE_COMMAND,
                    error,
                }
            }
            Ran::Refused { error, why } => {
                link.log(format!("SUBMIT ERR (info=\"message {}: {why}\")", wire.id));
                CallOutcome::Refused {
                    command: EBE_COMMAND,
                    error,
                }
            }
        }
    }
}

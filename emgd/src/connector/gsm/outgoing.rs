//! The GSM connector on the connector runtime: a call-per-message connector ([`calls`])
//! whose call hands the message to the one task that owns the modem ([`super::session`]) and
//! waits for what became of it. The runtime does the rest: hold, expiry, `Submitting`, the
//! OUT pipeline, backing off (IDLE, ERROR) as the retry scheme says while the modem fails.

use super::session::{self, Send, GSM_COMMAND};
use crate::connector::runtime::calls::{self, CallOutcome, Caller, Line};
use crate::connector::runtime::link::Link;
use crate::connector::runtime::state::{ConnState, ConnectorHandle, SessionInfo};
use crate::gateway::Gateway;
use common::message::Message;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, watch};

/// Run the connector until shutdown.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>) {
    let (tx, rx) = mpsc::channel(1);
    let (line_tx, line) = watch::channel(Line::Down {
        state: ConnState::Idle,
    });
    let link = Link::new(gw.clone(), connector.clone(), 0);
    let caller = Arc::new(GsmOut { sends: tx, line });
    tokio::join!(
        session::run(link, rx, line_tx),
        calls::run(gw, connector, caller)
    );
}

pub struct GsmOut {
    sends: mpsc::Sender<Send>,
    /// Whether the session has the modem open and set up.
    line: watch::Receiver<Line>,
}

impl Caller for GsmOut {
    const RECORDS_SUBMITTING: bool = true;

    fn open(&self, link: &Link) -> SessionInfo {
        let cfg = link.config();
        SessionInfo {
            instance: link.instance,
            peer: cfg.address.clone(),
            bind: Some("gsm".into()),
            user: None,
            since_us: crate::clock::now_us(),
        }
    }

    async fn call(self: Arc<Self>, _link: Link, wire: Message) -> CallOutcome {
        let (outcome, answer) = oneshot::channel();
        let lost = CallOutcome::Temporary {
            command: GSM_COMMAND,
            error: 104,
        };
        if self.sends.send(Send { wire, outcome }).await.is_err() {
            return lost;
        }
        answer.await.unwrap_or(lost)
    }

    fn line(&self) -> Option<watch::Receiver<Line>> {
        Some(self.line.clone())
    }
}

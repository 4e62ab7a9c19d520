//! One instance of a connector as its session sees it: the gateway, the connector's record and
//! the instance number. Everything a driver reports goes through here, so the connector log
//! lines, PDU log lines, states and mode checks look the same for every protocol.

use super::state::logins::Blocked;
use super::state::{ConnState, ConnectorHandle, SessionInfo};
use crate::gateway::{Gateway, ReceiptOutcome, Reject};
use common::dlr::DlrStatus;
use common::message::{Message, MessageId};
use config::Mode;
use std::sync::Arc;
use tokio::sync::watch;

/// Why [`Link::authenticate`] refused a login.
#[derive(Debug)]
pub enum Refused {
    /// Wrong password, unknown user, or not allowed here (EMG does not say which).
    Wrong,
    /// Not checked: too many failures ([`Logins`]).
    Blocked(Blocked),
}

#[derive(Clone)]
pub struct Link {
    pub gw: Arc<Gateway>,
    pub connector: Arc<ConnectorHandle>,
    pub instance: u32,
}

impl Link {
    /// [`crate::users::authenticate`] behind the brake of this connector: a refusal while
    /// blocked is logged (`LOGIN ERR (info="ADDRESS: too many failed logins ...")`) and not
    /// checked; a failed check is counted.
    pub fn authenticate<'a>(
        &self,
        gcfg: &'a config::Config,
        name: &str,
        password: &str,
        ip: std::net::IpAddr,
    ) -> Result<&'a config::User, Refused> {
        let link = self;
        let cfg = link.config();
        if let Err(b) = link.connector.logins.check(&cfg, ip, name) {
            link.log(format!("LOGIN ERR (info=\"{ip}: {b}\")"));
            tracing::warn!(connector = %link.name(), user = name, %ip, "login refused: {b}");
            return Err(Refused::Blocked(b));
        }
        match crate::users::authenticate(gcfg, &cfg, name, password, ip) {
            Some(user) => Ok(user),
            None => {
                link.connector.logins.failed(&cfg, ip, name);
                Err(Refused::Wrong)
            }
        }
    }

    pub fn new(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, instance: u32) -> Link {
        Link {
            gw,
            connector,
            instance,
        }
    }

    pub fn name(&self) -> &str {
        &self.connector.name
    }

    /// The connector's settings in force (a reload changes them under running sessions).
    pub fn config(&self) -> Arc<config::Connector> {
        self.connector.config()
    }

    /// A line in the connector log: `(instance) text`.
    pub fn log(&self, text: impl AsRef<str>) {
        self.gw
            .logs
            .connector(&self.connector.name, self.instance, text);
    }

    /// Whether a PDU log line would be read by anyone (file or live tail).
    pub fn wants_pdu(&self) -> bool {
        self.gw.logs.wants_pdu()
    }

    /// A line in the PDU log, built only when someone reads it.
    pub fn log_pdu(&self, line: impl FnOnce() -> String) {
        if self.gw.logs.wants_pdu() {
            self.gw
                .logs
                .pdu(&self.connector.name, self.instance, line());
        }
    }

    pub fn set_state(&self, state: ConnState) {
        self.connector.set_state(self.instance, state);
    }

    /// The instance is authenticated: who is there, then BOUND (in that order, so whoever
    /// reacts to the state sees the session).
    pub fn bound(&self, session: SessionInfo) {
        self.connector.set_session(self.instance, Some(session));
        self.set_state(ConnState::Bound);
    }

    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.gw.shutdown_signal()
    }

    /// `mode` lets this connector send messages out (anything but receive-only).
    pub fn may_transmit(&self) -> bool {
        self.config().mode != Mode::ReceiveOnly
    }

    /// `mode` lets this connector take messages in (anything but transmit-only).
    pub fn may_receive(&self) -> bool {
        self.config().mode != Mode::TransmitOnly
    }

    /// A message the peer sent us: refused on a transmit-only connector, else (on an incoming
    /// connector) paced by its `throughput`, since incoming traffic is slowed by answering
    /// later, as EMG does, and accepted (IN pipeline, routing, durable enqueue). Answer the peer only once this
    /// resolves.
    pub async fn receive(&self, message: Message) -> Result<MessageId, Reject> {
        let cfg = self.config();
        if cfg.mode == Mode::TransmitOnly {
            return Err(Reject::NotReceiving(self.connector.name.clone()));
        }
        if cfg.direction == config::Direction::Incoming {
            self.connector.pace().await;
        }
        self.gw.accept(message).await
    }

    /// A delivery receipt for `remote_id` came on this connector; resolves once it is
    /// recorded (true) or matched no message, even after waiting `dlr_park_seconds` for its
    /// entry (false). Answer the peer only then.
    pub async fn receipt(&self, remote_id: &str, status: DlrStatus, error: u32) -> bool {
        self.gw
            .receipt(&self.connector.name, remote_id, status, error)
            .await
    }

    /// As [`Link::receipt`], telling an unmatched receipt from one the store failed to record
    /// (which the peer should send again).
    pub async fn record_receipt(
        &self,
        remote_id: &str,
        status: DlrStatus,
        error: u32,
    ) -> ReceiptOutcome {
        self.gw
            .record_receipt(&self.connector.name, remote_id, status, error)
            .await
    }
}

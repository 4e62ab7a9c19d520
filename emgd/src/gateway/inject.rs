//! Delivery reports injected by an application (EMG's DLR injection: `MSGTYPE=5` with
//! `ORIGID` and `MESSAGESTATE`, over MGP or HTTP) for a message that left on a connector whose
//! next hop sends no receipts of its own (`ebe`, `http`) and that has `dlr_support`: the report
//! settles the message's open DLR entry as a receipt from the next hop would, and travels back
//! to the original sender.
//!
//! `ORIGID` names the message by its emg id, or by the id the next hop gave it (an EBE
//! program's stdout, a provider's answer).

use super::dlr_book::{Lookup, OpenEntry};
use super::shared::Gateway;
use super::ReceiptOutcome;
use crate::store::MessageState;
use common::dlr::DlrStatus;
use common::dlrid;
use common::message::MessageId;
use config::{Direction, Protocol};

/// Why an injected report was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InjectError {
    #[error("no message awaits a delivery report under ORIGID {0}")]
    NotFound(String),
    #[error("message {id} went out on {connector}, which gets its receipts from its peer (only outgoing ebe and http connectors with dlr_support take injected reports)")]
    NotInjectable { id: u64, connector: String },
    #[error("the report for ORIGID {0} could not be stored; send it again")]
    NotStored(String),
}

impl Gateway {
    /// Whether `connector` takes injected reports: outgoing `ebe` or `http` with `dlr_support`.
    fn takes_injected(&self, connector: &str) -> bool {
        self.connector(connector).is_some_and(|c| {
            let cfg = c.config();
            cfg.dlr_support
                && cfg.direction == Direction::Outgoing
                && matches!(cfg.protocol, Protocol::Ebe | Protocol::Http)
        })
    }

    /// The report `status` for the message `origid` names; resolves once it is recorded, with
    /// the emg id of the message it settled (also when `origid` was the next hop's id).
    pub async fn inject_report(
        &self,
        origid: &str,
        status: DlrStatus,
    ) -> Result<MessageId, InjectError> {
        let origid = origid.trim();
        if let Ok(id) = origid.parse::<u64>() {
            if let Ok(Some(st)) = self.store.message(id).await {
                if let (MessageState::Sent, Some(remote)) = (st.state, st.remote_id.as_deref()) {
                    let connector = st.message.target.clone();
                    if !self.takes_injected(&connector) {
                        return Err(InjectError::NotInjectable { id, connector });
                    }
                    return self.injected(&connector, remote, origid, status).await;
                }
            }
        }
        // The next hop's own id for it, on any connector that takes injected reports.
        for c in self.connectors() {
            if !self.takes_injected(&c.name) {
                continue;
            }
            match self.injected(&c.name, origid, origid, status).await {
                Err(InjectError::NotFound(_)) => continue,
                done => return done,
            }
        }
        Err(InjectError::NotFound(origid.to_string()))
    }

    async fn injected(
        &self,
        connector: &str,
        remote: &str,
        origid: &str,
        status: DlrStatus,
    ) -> Result<MessageId, InjectError> {
        let format = self.id_format(connector);
        let canon = dlrid::normalise(remote, format);
        let (key, entry) =
            match self
                .book
                .find_or_park(&self.dlr_scope(connector), &canon, format, 0)
            {
                Lookup::Found(key, entry) => (key, entry),
                Lookup::Parked(_) | Lookup::Unmatched => {
                    return Err(InjectError::NotFound(origid.to_string()))
                }
            };
        let id = match &entry {
            OpenEntry::Loaded(m, _) => m.id,
            OpenEntry::OnlyId(id, _) => *id,
        };
        match self.settle(key, entry, status, 0).await {
            ReceiptOutcome::Recorded => {
                tracing::info!(
                    connector,
                    origid,
                    status = status.stat_word(),
                    "delivery report injected"
                );
                self.logs.connector(
                    connector,
                    crate::logs::NO_INSTANCE,
                    format!("DLR INJECTED (info=\"{origid} {}\")", status.stat_word()),
                );
                Ok(id)
            }
            ReceiptOutcome::Unmatched => Err(InjectError::NotFound(origid.to_string())),
            ReceiptOutcome::NotStored => Err(InjectError::NotStored(origid.to_string())),
        }
    }
}

//! The IN and OUT pipelines of [`crate::process`] as the gateway runs them: SAT entries they
//! create are committed, what they did is logged, and a blacklisted message is refused and
//! written to the routelog.

use super::reject::Reject;
use super::shared::Gateway;
use crate::clock::now_us;
use crate::connector::runtime::state::ConnectorHandle;
use crate::process::msgtype;
use crate::process::pipeline::{self, Context, Note, Processed};
use crate::store::Write;
use common::message::{Message, MsgType};

impl Gateway {
    /// The IN pipeline for a message received on `message.origin.connector`, before it is
    /// routed. SAT entries it creates are committed before it returns (so before the message
    /// is acknowledged). A blacklisted address refuses the message: it is written to the
    /// routelog as REJECTED and the sender gets a permanent error.
    pub async fn inbound(&self, message: Message) -> Result<Message, Reject> {
        let cfg = self.config();
        let name = message.origin.connector.clone();
        let connector = self.connector(&name).map(|c| c.config());
        let masquerade = self
            .process
            .masquerade(cfg.general.masquerade_key.as_deref());
        let ctx = Context {
            config: &cfg,
            connector: connector.as_deref(),
            masquerade: masquerade.as_deref(),
            now_us: now_us(),
        };
        let processed = pipeline::inbound(&ctx, &mut self.process.sat(), message);
        let Processed {
            mut message,
            writes,
            notes,
            refused,
        } = processed;
        self.note(&name, "IN", &notes);
        if let Some(refused) = refused {
            self.logs.connector(
                &name,
                0,
                format!(
                    "BLACKLIST REJECT (info=\"{} {}\")",
                    refused.field.keyword(),
                    refused.address
                ),
            );
            tracing::info!(connector = %name, "message refused: {refused}");
            message.id = self.allocate_id();
            message.received_us = now_us();
            self.store
                .commit(vec![Write::Rejected {
                    message: Box::new(message),
                    reason: refused.to_string(),
                }])
                .await?;
            return Err(Reject::Refused(refused));
        }
        if !writes.is_empty() {
            self.store.commit(writes).await?;
        }
        Ok(message)
    }

    /// The OUT pipeline, then the plugins' `before_send`: the copy of `message` that
    /// `connector` puts on the wire. The queued message is left as it is. SAT entries it
    /// creates are handed to the store at once (ahead of the send's own outcome). A plugin's
    /// refusal means the message must not leave: the session hands it to
    /// [`Gateway::refused_on_send`] instead of sending it.
    pub fn outbound(
        &self,
        connector: &ConnectorHandle,
        message: &Message,
    ) -> Result<Message, crate::plugin::Refusal> {
        // What the connector can send of the message's type (EMAIL read into SMS text on a
        // connector that is not SMTP; MMS and WAPPUSH refused).
        let typed;
        let message = match message.msgtype {
            MsgType::Sms | MsgType::Dlr => message,
            _ => {
                let conn = connector.config();
                typed = msgtype::for_connector(&self.config(), &conn, message)?.into_owned();
                &typed
            }
        };
        let wire = self.out_pipeline(connector, message);
        self.plugins_before_send(connector, wire)
    }

    fn out_pipeline(&self, connector: &ConnectorHandle, message: &Message) -> Message {
        let conn = connector.config();
        if pipeline::outbound_is_noop(&conn) {
            return message.clone();
        }
        let cfg = self.config();
        let masquerade = self
            .process
            .masquerade(cfg.general.masquerade_key.as_deref());
        let ctx = Context {
            config: &cfg,
            connector: Some(&conn),
            masquerade: masquerade.as_deref(),
            now_us: now_us(),
        };
        let processed = pipeline::outbound(&ctx, &mut self.process.sat(), message);
        self.note(&connector.name, "OUT", &processed.notes);
        if !processed.writes.is_empty() {
            let store = self.store.clone();
            let writes = processed.writes;
            let name = connector.name.clone();
            tokio::spawn(async move {
                if let Err(e) = store.commit(writes).await {
                    tracing::error!(connector = %name, "SAT entry not stored: {e}");
                }
            });
        }
        processed.message
    }

    /// Logs what a pipeline did: address changes at debug level, blacklist LOG hits in the
    /// connector log, SAT pool trouble as warnings.
    fn note(&self, connector: &str, direction: &str, notes: &[Note]) {
        for n in notes {
            match n {
                Note::Rewritten { .. } | Note::Mapped { .. } => {
                    tracing::debug!(connector, "{direction}: {n}");
                }
                Note::Listed { field, address } => {
                    self.logs.connector(
                        connector,
                        0,
                        format!("BLACKLIST LOG (info=\"{} {address}\")", field.keyword()),
                    );
                    tracing::info!(connector, "{direction}: {n}");
                }
                Note::SatEvicted { .. } | Note::UnknownPool(_) => {
                    tracing::warn!(connector, "{direction}: {n}");
                }
            }
        }
    }
}

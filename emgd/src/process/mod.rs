//! Message processing: what each connector does to the messages it receives and sends —
//! mappings, address rewriting, masquerading, SAT pools — and the system-wide blacklist.
//!
//! The transformations are pure functions over the configuration ([`pipeline`]); this module
//! holds the little state they need (the SAT index, the masquerading key) and ties them into
//! the gateway: [`Gateway::inbound`] runs before routing, [`Gateway::outbound`] just before a
//! session encodes a message, on a copy, so a retry never transforms twice. Both read the
//! configuration per message, so a reload takes effect on the next message without touching
//! sessions.

pub mod blacklist;
pub mod mapping;
pub mod masquerade;
pub mod pipeline;
pub mod prefix;
pub mod regexp;
pub mod satpool;

#[cfg(test)]
mod tests;

use crate::clock::now_us;
use crate::connector::ConnectorHandle;
use crate::gateway::{Gateway, Reject};
use crate::store::{SatEntry, Write};
use common::message::Message;
use masquerade::Masquerade;
use pipeline::{Context, Note, Processed};
use satpool::SatIndex;
use std::sync::{Arc, Mutex, MutexGuard};

pub use pipeline::Refused;

/// The processing state the gateway keeps.
#[derive(Debug, Default)]
pub struct Processing {
    sat: Mutex<SatIndex>,
    /// The masquerading key in use and what it was built from (rebuilt when a reload changes
    /// `masquerade_key`).
    masquerade: Mutex<Option<(String, Arc<Masquerade>)>>,
}

impl Processing {
    /// State over the SAT entries the store recovered.
    pub fn new(sat_entries: &[SatEntry]) -> Processing {
        Processing {
            sat: Mutex::new(SatIndex::new(sat_entries)),
            masquerade: Mutex::new(None),
        }
    }

    fn sat(&self) -> MutexGuard<'_, SatIndex> {
        self.sat.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Live SAT entries now.
    pub fn sat_entries(&self) -> usize {
        self.sat().len(now_us())
    }

    fn masquerade(&self, key: Option<&str>) -> Option<Arc<Masquerade>> {
        let key = key?;
        let mut cur = self.masquerade.lock().unwrap_or_else(|p| p.into_inner());
        match &*cur {
            Some((k, m)) if k == key => Some(m.clone()),
            _ => {
                let m = Arc::new(Masquerade::new(key));
                *cur = Some((key.to_string(), m.clone()));
                Some(m)
            }
        }
    }
}

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

//! Joining the parts of a long message received in parts (UDH concatenation) before it
//! travels on, for targets that want whole messages: HTTP (a web application), MGP and SMTP
//! (a person reading it). The receiving connector's `reassemble` says when: `auto` (those
//! targets), `always` or `never`. Every incoming protocol comes through here, since every
//! message received goes through [`Gateway::accept`] once routed.
//!
//! Durable: each part is stored as it arrives (`concat_parts`) and answered only once the
//! store has it; the last part's commit enqueues the whole message and deletes the parts in
//! one transaction; a restart loads the held parts again.
//!
//! Charged once, whole: a held part is not priced; the joined message is priced by the price
//! table as any message of its text is (a `per_part` entry times the parts that text makes,
//! usually the parts it came in; another once) and charged in the commit that enqueues it. When the account's balance does not cover that,
//! the last part is refused with the no-balance error and the whole message is written to the
//! routelog as REJECTED, its held parts dropped in the same commit. Parts passed on after
//! `cmrexpire` are priced and charged each, in the commit that queues them (refused together,
//! as REJECTED rows, when the balance does not cover them). A part arriving twice replaces the
//! first copy. A message whose parts have not all arrived within `cmrexpire` seconds of its
//! first part is not lost: its parts are queued as they are, each with its UDH, as `never`
//! would have, with a connector log line naming what was missing.

use super::held_parts::{joined, key_of, Held};
use super::reject::Reject;
use super::shared::Gateway;
use crate::connector::runtime::state::ConnectorHandle;
use crate::store::{Record, Write};
use common::message::{Message, MessageId};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Gateway {
    /// `part` (routed to `target`, id and times set) is held; when it was the last one
    /// missing, the whole message is queued instead. Resolves once the store has it.
    pub(super) async fn hold_part(
        &self,
        part: Message,
        target: &Arc<ConnectorHandle>,
    ) -> Result<MessageId, Reject> {
        let Some(c) = part.concat() else {
            unreachable!("only parts are held")
        };
        let key = key_of(&part, c.reference, c.total);
        let id = part.id;
        let mut pending = self.reassembly.pending.lock().await;
        let held = pending.entry(key.clone()).or_insert_with(|| Held {
            total: c.total,
            first_us: part.received_us,
            parts: BTreeMap::new(),
        });
        held.parts.insert(c.seq, part.clone());
        let complete = (1..=held.total).all(|n| held.parts.contains_key(&n));
        if !complete {
            let write = Write::HoldPart {
                key: key.clone(),
                seq: c.seq,
                part: Record::of(&part),
            };
            if let Err(e) = self.store.commit(vec![write]).await {
                if let Some(h) = pending.get_mut(&key) {
                    h.parts.remove(&c.seq);
                }
                return Err(e.into());
            }
            return Ok(id);
        }
        let held = pending.remove(&key).expect("just filled");
        let mut whole = joined(&held.parts);
        whole.id = id;
        crate::accounting::price::tag(&self.config().prices, &mut whole);
        let drop_parts = vec![Write::DropParts { key: key.clone() }];
        match self
            .store_charged(std::slice::from_ref(&whole), drop_parts)
            .await
        {
            Ok(()) => {}
            Err(refused @ Reject::NoBalance(_)) => return Err(refused),
            Err(e) => {
                let mut held = held;
                held.parts.remove(&c.seq);
                pending.insert(key, held);
                return Err(e);
            }
        }
        drop(pending);
        self.logs.connector(
            &whole.origin.connector,
            0,
            format!(
                "REASSEMBLED (info=\"{} parts from {} as message {id} for {}\")",
                held.total, whole.source.addr, whole.target
            ),
        );
        target.queue.push(whole);
        Ok(id)
    }

    /// Long messages whose parts did not all come within `cmrexpire` seconds: their parts
    /// are queued as they are.
    pub async fn expire_parts(&self) {
        let ttl_us = (self.config().general.cmrexpire as i64).saturating_mul(1_000_000);
        let cutoff = crate::clock::now_us().saturating_sub(ttl_us);
        let mut pending = self.reassembly.pending.lock().await;
        let late: Vec<String> = pending
            .iter()
            .filter(|(_, h)| h.first_us <= cutoff)
            .map(|(k, _)| k.clone())
            .collect();
        for key in late {
            let Some(mut held) = pending.remove(&key) else {
                continue;
            };
            // Priced and charged now, each as a part, as `never` would have.
            for part in held.parts.values_mut() {
                crate::accounting::price::tag(&self.config().prices, part);
            }
            let parts: Vec<Message> = held.parts.values().cloned().collect();
            let drop_parts = vec![Write::DropParts { key: key.clone() }];
            let refused = match self.store_charged(&parts, drop_parts).await {
                Ok(()) => None,
                Err(refused @ Reject::NoBalance(_)) => Some(refused),
                Err(e) => {
                    tracing::warn!("held parts of {key} not queued yet: {e}");
                    pending.insert(key, held);
                    continue;
                }
            };
            let missing: Vec<String> = (1..=held.total)
                .filter(|n| !held.parts.contains_key(n))
                .map(|n| n.to_string())
                .collect();
            if let Some(first) = held.parts.values().next() {
                let outcome = match &refused {
                    None => "queued as they are".to_string(),
                    Some(r) => format!("refused: {r}"),
                };
                self.logs.connector(
                    &first.origin.connector,
                    0,
                    format!(
                        "REASSEMBLY TIMEOUT (info=\"{} of {} parts from {} in {} s, part {} missing: {outcome}\")",
                        held.parts.len(),
                        held.total,
                        first.source.addr,
                        ttl_us / 1_000_000,
                        missing.join(", ")
                    ),
                );
            }
            if refused.is_some() {
                continue;
            }
            for part in held.parts.into_values() {
                match self.connector(&part.target) {
                    Some(c) => c.queue.push(part),
                    None => tracing::warn!(
                        "part {} is queued for connector {}, which the configuration no longer has; it stays in the store",
                        part.id,
                        part.target
                    ),
                }
            }
        }
    }
}

//! Open DLR entries whose receipt never comes: after `dlr_expire` seconds (the connector's,
//! else the general one; a DLR group's entries follow its first member) the message ends as
//! UNKNOWN (it was handed over; nobody knows its fate), its sender gets that report, and the
//! entry leaves memory and the store. Without this the entries of lost receipts, which SMSCs
//! do not guarantee, would pile up for ever.
//!
//! Entries carry the time they were opened (kept in the store, so a restart expires them on
//! time too). The whole map is searched now and then, not at every tick: a tenth of
//! `dlr_expire` apart, at most a minute, so a large map costs a scan a minute.

use super::dlr_book::{DlrKey, OpenEntry};
use super::shared::Gateway;
use common::dlr::DlrStatus;
use std::collections::HashSet;
use std::sync::atomic::Ordering;

/// Expired entries settled at once.
const SETTLE_BATCH: usize = 1_000;

/// Longest time between two searches for expired entries (µs).
const MAX_EVERY_US: i64 = 60_000_000;

impl Gateway {
    /// Expire the open DLR entries older than `dlr_expire`, if a search is due.
    pub async fn expire_dlrs(&self) {
        let general = self.config().general.dlr_expire;
        let expire_of = |scope: &str| {
            self.connector(&self.scope_connector(scope))
                .and_then(|c| c.config().dlr_expire)
                .unwrap_or(general)
        };
        let shortest = self
            .snapshot()
            .values()
            .filter_map(|c| c.config().dlr_expire)
            .fold(general, u64::min);
        let now = crate::clock::now_us();
        let every = (seconds_us(shortest) / 10).clamp(1_000_000, MAX_EVERY_US);
        let due = self.next_dlr_expiry.load(Ordering::Relaxed);
        if now < due
            || self
                .next_dlr_expiry
                .compare_exchange(due, now + every, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let expired = self
            .book
            .opened_before(|scope| now.saturating_sub(seconds_us(expire_of(scope))));
        let mut expired = expired.into_iter().peekable();
        while expired.peek().is_some() {
            let chunk: Vec<_> = expired.by_ref().take(SETTLE_BATCH).collect();
            let Some(chunk) = self.still_open(chunk).await else {
                continue;
            };
            // A batch of commits at a time: the store groups them.
            let batch = chunk.into_iter().map(|((scope, remote_id), entry)| {
                let connector = self.scope_connector(&scope);
                self.logs.connector(
                    &connector,
                    0,
                    format!(
                        "DLR EXPIRED (info=\"no receipt for {remote_id} within dlr_expire {} s; reported as UNKNOWN\")",
                        expire_of(&scope)
                    ),
                );
                crate::metrics::global().dlr_expired(&connector);
                // As if the next hop had reported UNKNOWN: the same path closes the entry (or
                // the part), finishes the message and tells the sender.
                self.settle((scope, remote_id), entry, DlrStatus::Unknown, 0)
            });
            futures_util::future::join_all(batch).await;
        }
    }
}

impl Gateway {
    /// Of the expired entries `chunk`, the ones still open in the store. With a store other
    /// nodes share, a receipt that came on another node may have closed an entry this node
    /// opened: that entry leaves the book instead of being settled as UNKNOWN over the real
    /// outcome. None when the store cannot tell (they are tried again at the next search).
    async fn still_open(
        &self,
        chunk: Vec<(DlrKey, OpenEntry)>,
    ) -> Option<Vec<(DlrKey, OpenEntry)>> {
        if !self.store.shared() {
            return Some(chunk);
        }
        let keys = chunk.iter().map(|(k, _)| k.clone()).collect();
        let open: HashSet<DlrKey> = match self.store.open_dlrs(keys).await {
            Ok(rows) => rows
                .into_iter()
                .map(|d| (d.connector, d.remote_id))
                .collect(),
            Err(e) => {
                tracing::error!("cannot check expired DLR entries in the store: {e}");
                return None;
            }
        };
        let (open, gone): (Vec<_>, Vec<_>) = chunk.into_iter().partition(|(k, _)| open.contains(k));
        for (key, _) in gone {
            tracing::debug!(
                "DLR scope {}: entry {} was settled by another node",
                key.0,
                key.1
            );
            self.book.close(&key);
        }
        Some(open)
    }
}

fn seconds_us(s: u64) -> i64 {
    i64::try_from(s)
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000)
}

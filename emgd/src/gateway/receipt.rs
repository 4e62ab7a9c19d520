//! Delivery receipts from the next hop: matched to the open DLR entry of the message they are
//! for (a receipt that comes before its entry is parked until the entry opens), the message
//! finished, and a report sent to its sender. Resolves only once that is committed, so a
//! session answers the next hop after the receipt is durable, never while it only waits in
//! memory: if emgd dies first, the next hop sends it again. Receipts for the parts of a long message are combined as the
//! connector's `dlr_parts` says. [`Gateway::settle`] is shared with `dlr_expiry`, which
//! settles an entry whose receipt never came as UNKNOWN.

use super::dlr_book::{DlrKey, Lookup, OpenEntry, PartsSoFar};
use super::history;
use super::shared::Gateway;
use crate::store::{MessageState, Write};
use common::dlr::DlrStatus;
use common::dlrid;
use common::message::Message;
use std::time::Duration;

/// What became of a delivery receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// Matched, and what it says is committed: answer it.
    Recorded,
    /// No message is waiting for it (not even after its parking window): answer it, nothing
    /// can ever match it.
    Unmatched,
    /// The store could not record it: answer with a temporary error, so it comes again.
    NotStored,
}

impl Gateway {
    /// A delivery receipt for `remote_id` arrived on `connector`; true once it is recorded,
    /// false when no open entry matches (see [`Gateway::record_receipt`]).
    pub async fn receipt(
        &self,
        connector: &str,
        remote_id: &str,
        status: DlrStatus,
        error: u32,
    ) -> bool {
        self.record_receipt(connector, remote_id, status, error)
            .await
            == ReceiptOutcome::Recorded
    }

    /// A delivery receipt for `remote_id` arrived on `connector`: match it and commit what it
    /// says. One that matches no open entry yet waits up to the connector's
    /// `dlr_park_seconds` for it (its submit response may still be on its way); at the end
    /// of that window it may still match another spelling of its id.
    pub async fn record_receipt(
        &self,
        connector: &str,
        remote_id: &str,
        status: DlrStatus,
        error: u32,
    ) -> ReceiptOutcome {
        let window = self
            .connector(connector)
            .map_or(0, |c| c.config().dlr_park_seconds);
        self.record_receipt_within(connector, remote_id, status, error, window)
            .await
    }

    /// As [`Gateway::record_receipt`], parking an unmatched receipt for `window` seconds (0:
    /// an injected report, whose message was sent long before, is not parked).
    pub(super) async fn record_receipt_within(
        &self,
        connector: &str,
        remote_id: &str,
        status: DlrStatus,
        error: u32,
        window: u64,
    ) -> ReceiptOutcome {
        let format = self.id_format(connector);
        let canon = dlrid::normalise(remote_id, format);
        let scope = self.dlr_scope(connector);
        let (key, entry) = match self.book.find_or_park(&scope, &canon, format, window) {
            Lookup::Found(key, entry) => (key, entry),
            Lookup::Unmatched => {
                if let Err(outcome) = self.adopt_from_store(&scope, &canon).await {
                    return outcome;
                }
                match self.book.find_or_park(&scope, &canon, format, 0) {
                    Lookup::Found(key, entry) => (key, entry),
                    _ => return ReceiptOutcome::Unmatched,
                }
            }
            Lookup::Parked(mut parked) => {
                // Another node may have sent it: adopting its entry hands it to this receipt.
                let looked = self.adopt_from_store(&scope, &canon).await;
                let waited =
                    tokio::time::timeout(Duration::from_secs(window), &mut parked.entry).await;
                match waited {
                    Ok(Ok(found)) => found,
                    _ => match self.book.unpark_late(&scope, &canon, format, parked) {
                        Some(found) => found,
                        None => {
                            if let Err(outcome) = looked {
                                // The store may hold its entry: have it sent again.
                                return outcome;
                            }
                            tracing::warn!("connector {connector}: receipt for {canon} matched no message within its parking window of {window} s; dropped");
                            return ReceiptOutcome::Unmatched;
                        }
                    },
                }
            }
        };
        self.settle(key, entry, status, error).await
    }

    /// A receipt for `canon` missed the book: with a store other nodes share, take in the
    /// entry (and its message's other parts) another node opened. Err(NotStored) when the
    /// store cannot be read, so the receipt is answered with a temporary error and comes again.
    async fn adopt_from_store(&self, scope: &str, canon: &str) -> Result<(), ReceiptOutcome> {
        if !self.store.shared() {
            return Ok(());
        }
        let key = (scope.to_string(), canon.to_string());
        match self.dlr_lookup.find(&self.store, key).await {
            Ok(rows) => {
                if !rows.is_empty() {
                    tracing::debug!(
                        "DLR scope {scope}: receipt for {canon} matches an entry another node opened"
                    );
                    self.book.adopt(&rows);
                }
                Ok(())
            }
            Err(e) => {
                tracing::error!(
                    "DLR scope {scope}: cannot look up the receipt for {canon} in the store: {e}"
                );
                Err(ReceiptOutcome::NotStored)
            }
        }
    }

    /// The receipt for the open entry `key` says `status`: pass it on, and close the entry
    /// (finishing its message) when it is final.
    pub(super) async fn settle(
        &self,
        key: DlrKey,
        entry: OpenEntry,
        status: DlrStatus,
        error: u32,
    ) -> ReceiptOutcome {
        let original = match entry {
            OpenEntry::Loaded(m, _) => *m,
            OpenEntry::OnlyId(id, _) => match self.store.message(id).await {
                Ok(Some(stored)) => stored.message,
                Ok(None) => {
                    let (connector, remote_id) = &key;
                    tracing::warn!("open DLR entry {connector}/{remote_id} names message {id}, which the store does not have");
                    self.book.close(&key);
                    return ReceiptOutcome::Unmatched;
                }
                Err(e) => {
                    tracing::error!("cannot read message {id} for its receipt: {e}");
                    return ReceiptOutcome::NotStored;
                }
            },
        };
        let step = history::receipt(original.id, &key.0, &key.1, status.stat_word(), error);
        if self.book.is_multipart(original.id) {
            return self.part_receipt(key, original, status, error, step).await;
        }
        if !status.is_final() {
            // ENROUTE / ACCEPTD: pass it on, keep waiting for the final state.
            return stored(
                self.report_and_commit(vec![step], &original, status, error)
                    .await,
            );
        }
        if !self.book.close(&key) {
            // Another receipt for it (or its expiry) settled it meanwhile.
            return ReceiptOutcome::Recorded;
        }
        let report = self.report_for(&original, status, error);
        let writes = vec![
            step,
            Write::CloseDlr {
                connector: key.0,
                remote_id: key.1,
            },
            Write::finish(
                original,
                final_state(status),
                status.stat_word(),
                (error != 0).then(|| format!("{error}")),
            ),
        ];
        stored(self.commit_with_report(writes, report).await)
    }

    /// Open DLR entries a connector is waiting on, by remote id. The simulated SMSC uses this
    /// at start to finish the receipts a crash interrupted.
    pub fn open_dlrs_of(&self, connector: &str) -> Vec<String> {
        self.book.open_of(&self.dlr_scope(connector))
    }

    /// A receipt for one part (`key`) of the long message `original`.
    async fn part_receipt(
        &self,
        key: DlrKey,
        original: Message,
        status: DlrStatus,
        error: u32,
        step: Write,
    ) -> ReceiptOutcome {
        let each = self
            .connector(&original.target)
            .is_some_and(|c| c.config().dlr_parts == config::DlrParts::Each);
        if !status.is_final() {
            return stored(if each {
                self.report_and_commit(vec![step], &original, status, error)
                    .await
            } else {
                self.commit_logged(vec![step]).await
            });
        }
        if !self.book.close(&key) {
            // Another receipt for it (or its expiry) settled it meanwhile.
            return ReceiptOutcome::Recorded;
        }
        let (whole_status, whole_error, parts) =
            match self.book.part_final(original.id, status, error) {
                PartsSoFar::Unknown => return ReceiptOutcome::Unmatched,
                PartsSoFar::Waiting => {
                    let writes = vec![
                        step,
                        Write::PartDone {
                            connector: key.0,
                            remote_id: key.1,
                            status: status.stat_word().into(),
                            error,
                        },
                    ];
                    return stored(if each {
                        self.report_and_commit(writes, &original, status, error)
                            .await
                    } else {
                        self.commit_logged(writes).await
                    });
                }
                PartsSoFar::Whole(s, e, parts) => (s, e, parts),
            };
        let (reported, reported_error) = if each {
            (status, error)
        } else {
            (whole_status, whole_error)
        };
        let report = self.report_for(&original, reported, reported_error);
        let writes = vec![
            step,
            Write::CloseDlrs {
                connector: key.0,
                remote_ids: parts,
            },
            Write::finish(
                original,
                final_state(whole_status),
                whole_status.stat_word(),
                (whole_error != 0).then(|| format!("{whole_error}")),
            ),
        ];
        stored(self.commit_with_report(writes, report).await)
    }
}

fn stored(committed: bool) -> ReceiptOutcome {
    if committed {
        ReceiptOutcome::Recorded
    } else {
        ReceiptOutcome::NotStored
    }
}

fn final_state(status: DlrStatus) -> MessageState {
    if status == DlrStatus::Delivered {
        MessageState::Done
    } else {
        MessageState::Failed
    }
}

//! Delivery receipts from the next hop: matched to the open DLR entry of the message they are
//! for (a receipt that comes before its entry is parked), the message finished, and a report
//! sent to its sender. Receipts for the parts of a long message are combined as the
//! connector's `dlr_parts` says. [`Gateway::settle`] is shared with `dlr_expiry`, which
//! settles an entry whose receipt never came as UNKNOWN.

use super::dlr_book::{DlrKey, OpenEntry, PartsSoFar};
use super::shared::Gateway;
use crate::store::{MessageState, Write};
use common::dlr::DlrStatus;
use common::dlrid;
use common::message::Message;

impl Gateway {
    /// A delivery receipt for `remote_id` arrived on `connector`.
    /// Returns false when no open entry matches.
    pub async fn receipt(
        &self,
        connector: &str,
        remote_id: &str,
        status: DlrStatus,
        error: u32,
    ) -> bool {
        let format = self.id_format(connector);
        let canon = dlrid::normalise(remote_id, format);
        let window = self
            .connector(connector)
            .map_or(0, |c| c.config().dlr_park_seconds);
        let found = self
            .book
            .find_or_park(connector, &canon, format, status, error, window);
        let Some((key, entry)) = found else {
            return false;
        };
        self.settle(key, entry, status, error).await
    }

    /// The receipt for the open entry `key` says `status`: pass it on, and close the entry
    /// (finishing its message) when it is final.
    pub(super) async fn settle(
        &self,
        key: DlrKey,
        entry: OpenEntry,
        status: DlrStatus,
        error: u32,
    ) -> bool {
        let original = match entry {
            OpenEntry::Loaded(m, _) => *m,
            OpenEntry::OnlyId(id, _) => match self.store.message(id).await {
                Ok(Some(stored)) => stored.message,
                Ok(None) => {
                    let (connector, remote_id) = &key;
                    tracing::warn!("open DLR entry {connector}/{remote_id} names message {id}, which the store does not have");
                    self.book.close(&key);
                    return false;
                }
                Err(e) => {
                    tracing::error!("cannot read message {id} for its receipt: {e}");
                    return false;
                }
            },
        };
        if self.book.is_multipart(original.id) {
            return self.part_receipt(key, original, status, error).await;
        }
        if !status.is_final() {
            // ENROUTE / ACCEPTD: pass it on, keep waiting for the final state.
            self.report_and_commit(Vec::new(), &original, status, error)
                .await;
            return true;
        }
        if !self.book.close(&key) {
            // Another receipt for it (or its expiry) settled it meanwhile.
            return true;
        }
        let report = self.report_for(&original, status, error);
        let writes = vec![
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
        self.commit_with_report(writes, report).await;
        true
    }

    /// Open DLR entries a connector is waiting on, by remote id. The simulated SMSC uses this
    /// at start to finish the receipts a crash interrupted.
    pub fn open_dlrs_of(&self, connector: &str) -> Vec<String> {
        self.book.open_of(connector)
    }

    /// A receipt for one part (`key`) of the long message `original`.
    async fn part_receipt(
        &self,
        key: DlrKey,
        original: Message,
        status: DlrStatus,
        error: u32,
    ) -> bool {
        let each = self
            .connector(&key.0)
            .is_some_and(|c| c.config().dlr_parts == config::DlrParts::Each);
        if !status.is_final() {
            if each {
                self.report_and_commit(Vec::new(), &original, status, error)
                    .await;
            }
            return true;
        }
        if !self.book.close(&key) {
            // Another receipt for it (or its expiry) settled it meanwhile.
            return true;
        }
        let (whole_status, whole_error, parts) =
            match self.book.part_final(original.id, status, error) {
                PartsSoFar::Unknown => return false,
                PartsSoFar::Waiting => {
                    let writes = vec![Write::PartDone {
                        connector: key.0,
                        remote_id: key.1,
                        status: status.stat_word().into(),
                        error,
                    }];
                    if each {
                        self.report_and_commit(writes, &original, status, error)
                            .await;
                    } else {
                        self.commit_logged(writes).await;
                    }
                    return true;
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
        self.commit_with_report(writes, report).await;
        true
    }
}

fn final_state(status: DlrStatus) -> MessageState {
    if status == DlrStatus::Delivered {
        MessageState::Done
    } else {
        MessageState::Failed
    }
}

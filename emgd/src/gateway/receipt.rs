//! Delivery receipts from the next hop: matched to the open DLR entry of the message they are
//! for (a receipt that comes before its entry is parked), the message finished, and a report
//! sent to its sender. Receipts for the parts of a long message are combined as the
//! connector's `dlr_parts` says.

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
            .connectors
            .get(connector)
            .map_or(0, |c| c.config().dlr_park_seconds);
        let found = self
            .book
            .find_or_park(connector, &canon, format, status, error, window);
        let Some((key, entry)) = found else {
            return false;
        };
        let original = match entry {
            OpenEntry::Loaded(m) => *m,
            OpenEntry::OnlyId(id) => match self.store.message(id).await {
                Ok(Some(stored)) => stored.message,
                Ok(None) => {
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
        self.book.close(&key);
        let writes = vec![
            Write::CloseDlr {
                connector: key.0,
                remote_id: key.1,
            },
            Write::Finish {
                id: original.id,
                state: final_state(status),
                status: status.stat_word().into(),
                error: (error != 0).then(|| format!("{error}")),
            },
        ];
        self.report_and_commit(writes, &original, status, error)
            .await;
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
            .connectors
            .get(&key.0)
            .is_some_and(|c| c.config().dlr_parts == config::DlrParts::Each);
        if !status.is_final() {
            if each {
                self.report_and_commit(Vec::new(), &original, status, error)
                    .await;
            }
            return true;
        }
        self.book.close(&key);
        let (whole_status, whole_error) = match self.book.part_final(original.id, status, error) {
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
            PartsSoFar::Whole(s, e) => (s, e),
        };
        let writes = vec![
            Write::CloseDlrsOf {
                message_id: original.id,
            },
            Write::Finish {
                id: original.id,
                state: final_state(whole_status),
                status: whole_status.stat_word().into(),
                error: (whole_error != 0).then(|| format!("{whole_error}")),
            },
        ];
        let (reported, reported_error) = if each {
            (status, error)
        } else {
            (whole_status, whole_error)
        };
        self.report_and_commit(writes, &original, reported, reported_error)
            .await;
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

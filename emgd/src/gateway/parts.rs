//! Long messages sent in parts: one open DLR entry per part, and the connector's `dlr_parts`
//! policy that turns the parts' receipts into what the sender hears.
//!
//! While parts are outstanding, a [`Tally`] counts the ones still open and remembers the final
//! states of the others. Each part's final state is also written to its `dlr_open` row, so a
//! restart rebuilds the tally from the store and the combined state is still right.

use super::{unpark, Gateway, OpenEntry};
use crate::connector::{ConnectorHandle, Counters};
use crate::store::{MessageState, OpenDlr, Write};
use common::dlr::DlrStatus;
use common::dlrid;
use common::message::{Message, MessageId, MsgType};
use std::collections::HashMap;

/// Receipts of one long message so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Tally {
    /// Parts still waiting for a final receipt.
    open: usize,
    /// Final (state, error) of the parts already done, in arrival order.
    finals: Vec<(DlrStatus, u32)>,
    /// The remote ids of every part's entry, to close them all at the end.
    remote_ids: Vec<String>,
}

/// The state reported for the whole message: delivered only when every part was; otherwise
/// the first part's failure, with its error.
pub(super) fn combined(finals: &[(DlrStatus, u32)]) -> (DlrStatus, u32) {
    finals
        .iter()
        .copied()
        .find(|(s, _)| *s != DlrStatus::Delivered)
        .unwrap_or((DlrStatus::Delivered, 0))
}

/// Splits recovered entries into the ones still open and the tallies of long messages (those
/// with more than one entry), which remember the parts already done.
pub(super) fn recover(open: &[OpenDlr]) -> (Vec<&OpenDlr>, HashMap<MessageId, Tally>) {
    let mut per_message: HashMap<MessageId, Vec<&OpenDlr>> = HashMap::new();
    for d in open {
        per_message.entry(d.message_id).or_default().push(d);
    }
    let mut tallies = HashMap::new();
    let mut still_open = Vec::new();
    for (id, entries) in per_message {
        let mut tally = Tally::default();
        let many = entries.len() > 1;
        for d in entries {
            tally.remote_ids.push(d.remote_id.clone());
            match &d.part_done {
                Some((word, error)) => tally.finals.push((status_of_word(word), *error)),
                None => {
                    tally.open += 1;
                    still_open.push(d);
                }
            }
        }
        if many && tally.open > 0 {
            tallies.insert(id, tally);
        }
    }
    (still_open, tallies)
}

fn status_of_word(word: &str) -> DlrStatus {
    DlrStatus::ALL
        .into_iter()
        .find(|s| s.stat_word() == word)
        .unwrap_or(DlrStatus::Unknown)
}

impl Gateway {
    fn lock_tallies(&self) -> std::sync::MutexGuard<'_, HashMap<MessageId, Tally>> {
        self.tallies.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An outgoing session sent `message` as several parts, which the next hop knows by
    /// `remote_ids` (one per part that got an id). With a DLR requested, each part gets an
    /// open entry.
    pub async fn sent_parts(
        &self,
        connector: &ConnectorHandle,
        message: Message,
        remote_ids: Vec<String>,
    ) {
        if remote_ids.len() <= 1 {
            return self
                .sent(connector, message, remote_ids.into_iter().next())
                .await;
        }
        let format = self.id_format(&connector.name);
        let remote_ids: Vec<String> = remote_ids
            .iter()
            .map(|r| dlrid::normalise(r, format))
            .collect();
        let awaiting = message.dlr_requested && message.msgtype != MsgType::Dlr;
        if !awaiting {
            self.commit_logged(vec![Write::Handed {
                message: Box::new(message),
                remote_id: Some(remote_ids.join(",")),
            }])
            .await;
            Counters::add(&connector.counters.sent);
            connector.queue.finished();
            return;
        }
        self.commit_logged(vec![Write::SentParts {
            id: message.id,
            connector: connector.name.clone(),
            remote_ids: remote_ids.clone(),
        }])
        .await;
        let mut early = Vec::new();
        {
            self.lock_tallies().insert(
                message.id,
                Tally {
                    open: remote_ids.len(),
                    finals: Vec::new(),
                    remote_ids: remote_ids.clone(),
                },
            );
            let since = crate::clock::now_us();
            let mut parked = self.lock_parked();
            let mut dlrs = self.lock_dlrs();
            for remote in &remote_ids {
                dlrs.insert(
                    (connector.name.clone(), remote.clone()),
                    OpenEntry::Loaded(Box::new(message.clone()), since),
                );
                if let Some(p) = unpark(&mut parked, &connector.name, remote, format) {
                    early.push((remote.clone(), p));
                }
            }
        }
        Counters::add(&connector.counters.sent);
        connector.queue.finished();
        for (remote, parked) in early {
            self.receipt(&connector.name, &remote, parked.status, parked.error)
                .await;
        }
    }

    /// Whether `message_id` is a long message with parts still open.
    pub(super) fn is_multipart(&self, message_id: MessageId) -> bool {
        self.lock_tallies().contains_key(&message_id)
    }

    /// A receipt for one part (`key`) of the long message `original`.
    pub(super) async fn part_receipt(
        &self,
        key: (String, String),
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
        if self.lock_dlrs().remove(&key).is_none() {
            // Another receipt for it (or its expiry) settled it meanwhile.
            return true;
        }
        let whole = {
            let mut tallies = self.lock_tallies();
            let Some(tally) = tallies.get_mut(&original.id) else {
                return false;
            };
            tally.open = tally.open.saturating_sub(1);
            tally.finals.push((status, error));
            if tally.open == 0 {
                let c = combined(&tally.finals);
                let parts = std::mem::take(&mut tally.remote_ids);
                tallies.remove(&original.id);
                Some((c, parts))
            } else {
                None
            }
        };
        let Some(((whole_status, whole_error), parts)) = whole else {
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
        };
        let state = if whole_status == DlrStatus::Delivered {
            MessageState::Done
        } else {
            MessageState::Failed
        };
        let writes = vec![
            Write::CloseDlrs {
                connector: key.0,
                remote_ids: parts,
            },
            Write::finish(
                original.clone(),
                state,
                whole_status.stat_word(),
                (whole_error != 0).then(|| format!("{whole_error}")),
            ),
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

    /// Commit `writes` together with the report to `original`'s sender (if it wants one),
    /// then queue the report.
    async fn report_and_commit(
        &self,
        mut writes: Vec<Write>,
        original: &Message,
        status: DlrStatus,
        error: u32,
    ) {
        let report = self.report_for(original, status, error);
        writes.extend(report.iter().map(Write::enqueue));
        if self.commit_logged(writes).await {
            if let Some(r) = report {
                self.queue_report(r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DlrStatus::*;

    /// Parts' final (state, error) and what the whole message reports.
    type Case<'a> = (&'a [(DlrStatus, u32)], (DlrStatus, u32));

    #[test]
    fn the_whole_is_delivered_only_when_every_part_is() {
        let cases: &[Case] = &[
            (&[(Delivered, 0), (Delivered, 0)], (Delivered, 0)),
            (&[(Delivered, 0), (Undeliverable, 34)], (Undeliverable, 34)),
            (&[(Expired, 0), (Undeliverable, 34)], (Expired, 0)),
            (
                &[(Delivered, 0), (Rejected, 1), (Deleted, 2)],
                (Rejected, 1),
            ),
        ];
        for (finals, want) in cases {
            assert_eq!(combined(finals), *want, "{finals:?}");
        }
    }

    fn row(id: MessageId, remote: &str, done: Option<&str>) -> OpenDlr {
        OpenDlr {
            connector: "smsc".into(),
            remote_id: remote.into(),
            message_id: id,
            part_done: done.map(|w| (w.to_string(), 7)),
            created_us: 0,
        }
    }

    #[test]
    fn recovery_rebuilds_the_tallies_of_long_messages() {
        let rows = vec![
            row(1, "a", None),
            row(2, "b1", Some("UNDELIV")),
            row(2, "b2", None),
            row(2, "b3", None),
            row(3, "c1", None),
            row(3, "c2", None),
        ];
        let (open, tallies) = recover(&rows);
        let mut open: Vec<&str> = open.iter().map(|d| d.remote_id.as_str()).collect();
        open.sort();
        assert_eq!(open, ["a", "b2", "b3", "c1", "c2"]);
        assert!(!tallies.contains_key(&1), "a single entry needs no tally");
        assert_eq!(
            tallies[&2],
            Tally {
                open: 2,
                finals: vec![(Undeliverable, 7)],
                remote_ids: vec!["b1".into(), "b2".into(), "b3".into()],
            }
        );
        assert_eq!(tallies[&3].open, 2);
    }
}

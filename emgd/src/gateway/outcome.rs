//! What an outgoing session reports about a message it took from its queue: that it is about
//! to submit it, that the next hop took it (sent, with the remote ids its receipts will
//! name), refused it (the retry scheme decides between a later retry and failure), that its
//! validity ended in the queue, or that the session ended without an answer (unsent).

use super::history;
use super::shared::Gateway;
use crate::clock::now_us;
use crate::connector::runtime::state::{ConnectorHandle, Counters};
use crate::store::{MessageState, Write};
use common::dlr::DlrStatus;
use common::dlrid;
use common::message::{Message, MsgType};
use std::sync::Arc;
use std::time::Duration;

impl Gateway {
    /// An outgoing session took `messages` and is about to submit them: record it before
    /// anything leaves, so a crash in between is known for what it is. False when the store
    /// failed (the caller puts the messages back).
    pub async fn submitting(&self, connector: &ConnectorHandle, messages: &[Message]) -> bool {
        self.commit_logged(vec![Write::Submitting {
            ids: messages.iter().map(|m| m.id).collect(),
            connector: connector.name.clone(),
        }])
        .await
    }

    /// An outgoing session handed `message` to the next hop. With a remote id and a DLR
    /// requested, an open DLR entry now waits for the receipt; otherwise the message is final
    /// now (`Write::Handed`).
    pub async fn sent(
        &self,
        connector: &ConnectorHandle,
        instance: Option<u32>,
        message: Message,
        remote_id: Option<String>,
    ) {
        let format = self.id_format(&connector.name);
        let remote_id = remote_id.map(|r| dlrid::normalise(&r, format));
        let step = history::attempt(
            &connector.name,
            instance,
            &message,
            history::OK,
            0,
            remote_id.as_deref(),
        );
        let scope = self.dlr_scope(&connector.name);
        let awaiting = message.dlr_requested && message.msgtype != MsgType::Dlr;
        let (write, waiting) = match (&remote_id, awaiting) {
            // A delivery report handed on is simply done: one write instead of sent-then-done.
            _ if message.msgtype == MsgType::Dlr => (
                Write::finish(message, MessageState::Done, "DELIVERED", None),
                None,
            ),
            (Some(remote), true) => (
                Write::Sent {
                    id: message.id,
                    connector: scope.clone(),
                    remote_id: remote.clone(),
                },
                Some(message),
            ),
            // Nothing to wait for: final now, with its routelog row.
            _ => (
                Write::Handed {
                    message: Box::new(message),
                    remote_id: remote_id.clone(),
                },
                None,
            ),
        };
        // The entry becomes matchable only once its row is committed, so a receipt's CloseDlr
        // can never be committed before the row it closes; one arriving earlier is parked,
        // unanswered, until the entry is handed to it here.
        self.commit_logged(vec![write, step]).await;
        if let (Some(message), Some(remote)) = (waiting, &remote_id) {
            self.book.open(&scope, remote, message);
        }
        Counters::add(&connector.counters.sent);
        connector.queue.finished();
    }

    /// An outgoing session sent `message` as several parts, which the next hop knows by
    /// `remote_ids` (one per part that got an id). With a DLR requested, each part gets an
    /// open entry.
    pub async fn sent_parts(
        &self,
        connector: &ConnectorHandle,
        instance: Option<u32>,
        message: Message,
        remote_ids: Vec<String>,
    ) {
        if remote_ids.len() <= 1 {
            return self
                .sent(connector, instance, message, remote_ids.into_iter().next())
                .await;
        }
        let format = self.id_format(&connector.name);
        let remote_ids: Vec<String> = remote_ids
            .iter()
            .map(|r| dlrid::normalise(r, format))
            .collect();
        let step = history::attempt(
            &connector.name,
            instance,
            &message,
            history::OK,
            0,
            Some(&remote_ids.join(",")),
        );
        let awaiting = message.dlr_requested && message.msgtype != MsgType::Dlr;
        if !awaiting {
            self.commit_logged(vec![
                Write::Handed {
                    message: Box::new(message),
                    remote_id: Some(remote_ids.join(",")),
                },
                step,
            ])
            .await;
            Counters::add(&connector.counters.sent);
            connector.queue.finished();
            return;
        }
        let scope = self.dlr_scope(&connector.name);
        self.commit_logged(vec![
            Write::SentParts {
                id: message.id,
                connector: scope.clone(),
                remote_ids: remote_ids.clone(),
            },
            step,
        ])
        .await;
        self.book.open_parts(&scope, &remote_ids, &message);
        Counters::add(&connector.counters.sent);
        connector.queue.finished();
    }

    /// `message` was taken from `connector`'s queue after its validity ended: it fails as
    /// EXPIRED without being sent, and its sender hears so.
    pub async fn expired(&self, connector: &ConnectorHandle, message: Message) {
        Counters::add(&connector.counters.failed);
        self.logs.connector(
            &connector.name,
            0,
            format!(
                "EXPIRED (info=\"message {} expired in queue after {} attempts\")",
                message.id, message.attempts
            ),
        );
        let report = self.report_for(&message, DlrStatus::Expired, 0);
        let writes = vec![Write::finish(
            message,
            MessageState::Failed,
            DlrStatus::Expired.stat_word(),
            Some("expired in queue".into()),
        )];
        self.commit_with_report(writes, report).await;
        connector.queue.finished();
    }

    /// The next hop refused `message` with protocol `error` for `command`. The connector's
    /// retry scheme decides: requeue after the rule's hold delay, or fail the message (and
    /// report the failure to its sender).
    pub async fn failed(
        &self,
        connector: &Arc<ConnectorHandle>,
        instance: Option<u32>,
        mut message: Message,
        command: u32,
        error: u32,
    ) {
        Counters::add(&connector.counters.failed);
        let rule = connector
            .config()
            .retryscheme
            .message_rule(command, error)
            .cloned();
        let expired = message.expires_us.is_some_and(|t| t <= now_us());
        if let (Some(rule), false, false) = (rule, expired, self.is_shutting_down()) {
            message.attempts += 1;
            let step = history::attempt(
                &connector.name,
                instance,
                &message,
                history::RETRY,
                error,
                None,
            );
            self.commit_logged(vec![Write::requeue(&message), step])
                .await;
            // Waits in the queue, in view of queue list, move, clear and msg cancel.
            connector
                .queue
                .defer(message, Duration::from_secs(rule.holddelay));
            return;
        }
        let status = if expired {
            DlrStatus::Expired
        } else {
            DlrStatus::Rejected
        };
        let report = self.report_for(&message, status, error);
        let step = history::attempt(
            &connector.name,
            instance,
            &message,
            history::FAILED,
            error,
            None,
        );
        let writes = vec![
            Write::finish(
                message,
                MessageState::Failed,
                status.stat_word(),
                Some(format!("0x{error:08x}")),
            ),
            step,
        ];
        self.commit_with_report(writes, report).await;
        connector.queue.finished();
    }

    /// A session gave up on `message` without an answer (connection lost, shutdown): it goes
    /// back to the head of its queue, unchanged.
    pub fn unsent(&self, connector: &ConnectorHandle, message: Message) {
        connector.queue.put_back(message);
    }
}

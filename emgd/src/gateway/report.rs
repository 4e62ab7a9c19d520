//! Delivery reports to a message's sender: the DLR message that says what became of it,
//! queued for the connector (and user) it came from.

use super::shared::Gateway;
use crate::clock::now_us;
use crate::store::Write;
use common::dlr::DlrStatus;
use common::message::{DlrInfo, Message, MsgType};

impl Gateway {
    /// The DLR message that tells `original`'s sender its fate, when the sender asked for one
    /// of this state (its report mask: an SMPP sender's registered_delivery 2 wants failures
    /// only) and its connector is still configured. Plugins' `on_dlr` hooks see every report
    /// (asked for or not) and may change or hold it.
    pub(super) fn report_for(
        &self,
        original: &Message,
        status: DlrStatus,
        error: u32,
    ) -> Option<Message> {
        let mask = original.origin.callback_mask;
        let wanted = original.dlr_requested
            && (mask == 0 || mask & status.mask_bit() != 0)
            && self.has_connector(&original.origin.connector);
        if original.msgtype == MsgType::Dlr || (!wanted && self.plugins().is_empty()) {
            return None;
        }
        let now = now_us();
        let report = Message {
            msgtype: MsgType::Dlr,
            source: original.dest.clone(),
            dest: original.source.clone(),
            esm_class: 0x04,
            target: original.origin.connector.clone(),
            target_user: original.origin.user.clone(),
            origin: original.origin.clone(),
            dlr: Some(DlrInfo {
                message_id: original.id,
                reported_id: original
                    .origin
                    .client_ref
                    .clone()
                    .unwrap_or_else(|| original.id.to_string()),
                status,
                error,
                submit_us: original.received_us,
                done_us: now,
                text: text_excerpt(original),
            }),
            received_us: now,
            // A report for a client that never comes back (an SMPP user who does not bind
            // again) does not wait for ever: it expires from its queue after dlr_expire.
            expires_us: Some(self.client_wait_ends(now)),
            ..Default::default()
        };
        let mut report = self.plugins_on_dlr(original, report)?;
        if !wanted {
            return None;
        }
        report.id = self.allocate_id();
        Some(report)
    }

    /// When a message queued at `queued_us` for an incoming connector's client (a report, or
    /// an MO message without a validity of its own) expires if the client has not taken it:
    /// the general `dlr_expire` later.
    pub(super) fn client_wait_ends(&self, queued_us: i64) -> i64 {
        let wait = i64::try_from(self.config().general.dlr_expire).unwrap_or(i64::MAX);
        queued_us.saturating_add(wait.saturating_mul(1_000_000))
    }

    /// Queue a report whose enqueue has committed.
    pub(super) fn queue_report(&self, report: Message) {
        if let Some(c) = self.connector(&report.target) {
            c.queue.push(report);
        }
    }

    /// Commit `writes` together with the report to `original`'s sender (if it wants one),
    /// then queue the report.
    pub(super) async fn report_and_commit(
        &self,
        writes: Vec<Write>,
        original: &Message,
        status: DlrStatus,
        error: u32,
    ) -> bool {
        let report = self.report_for(original, status, error);
        self.commit_with_report(writes, report).await
    }

    /// Commit `writes` with the enqueue of `report` (made by [`Gateway::report_for`] before
    /// `writes` took the original message), then queue the report.
    pub(super) async fn commit_with_report(
        &self,
        mut writes: Vec<Write>,
        report: Option<Message>,
    ) -> bool {
        writes.extend(report.iter().map(Write::enqueue));
        let _queueing = self.totals.fence.queueing().await;
        let committed = self.commit_logged(writes).await;
        if committed {
            if let Some(r) = report {
                self.queue_report(r);
            }
        }
        committed
    }
}

/// The first 20 characters of a text message, for the receipt's `text:` field.
fn text_excerpt(m: &Message) -> String {
    match m.data_coding {
        0 | 1 | 3 => m
            .body
            .iter()
            .take(20)
            .map(|&b| {
                if b.is_ascii_graphic() || b == b' ' {
                    b as char
                } else {
                    '.'
                }
            })
            .collect(),
        _ => String::new(),
    }
}

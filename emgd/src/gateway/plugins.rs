//! The gateway's side of the plugins (`crate::plugin`): which connectors' plugins a hook
//! runs, what their verdicts do to a message, and the logs of plugins that failed.
//!
//! Each hook is one call from the message flow: [`Gateway::plugins_on_receive`] in
//! `accept` (before_receive, then route; `accept_via` runs only before_receive),
//! [`Gateway::plugins_before_send`] in the OUT pipeline, [`Gateway::plugins_on_dlr`] where a
//! delivery report is made.

use super::reject::Reject;
use super::shared::Gateway;
use crate::clock::now_us;
use crate::connector::runtime::state::{ConnectorHandle, Counters};
use crate::plugin::{Fault, Hook, Plugins, Refusal, RefusalKind, Verdict};
use crate::store::{MessageState, Write};
use common::dlr::DlrStatus;
use common::message::Message;
use config::FailMode;
use std::sync::Arc;

impl Gateway {
    /// The plugins running now.
    pub fn plugins(&self) -> Arc<Plugins> {
        self.plugins
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Swap in newly compiled plugins; calls under way finish on the ones they started with.
    pub fn set_plugins(&self, plugins: Plugins) {
        *self.plugins.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(plugins);
    }

    /// `before_receive`, then `route`, for a message received on its origin connector: the
    /// message as the plugins left it and the target a plugin forced, if one did. A refusal
    /// is written to the routelog like any other.
    pub(crate) async fn plugins_on_receive(
        &self,
        message: Message,
    ) -> Result<(Message, Option<String>), Reject> {
        let plugins = self.plugins();
        if plugins.is_empty() {
            return Ok((message, None));
        }
        let mut message = self.plugins_before_receive(message).await?;
        let at = message.origin.connector.clone();
        let o = plugins.run(Hook::Route, &[&at], &mut message);
        self.plugin_faults(&at, &o.faults);
        self.plugin_reports(&at, o.reports).await;
        match o.verdict {
            Verdict::Go => Ok((message, None)),
            Verdict::Refused(r) => Err(self.refuse_received(message, r).await),
            Verdict::Route {
                plugin,
                target,
                on_error,
            } => match self.forced_target(&target) {
                Some(t) => Ok((message, Some(t))),
                None => {
                    let why = format!("route returned `{target}`, which is no connector or group");
                    tracing::error!(connector = %at, "plugin {plugin}: {why}");
                    self.logs.connector(
                        &at,
                        0,
                        format!("PLUGIN ERR (info=\"{plugin} route: {why}\")"),
                    );
                    match on_error {
                        FailMode::Open => Ok((message, None)),
                        FailMode::Closed => {
                            let r = Refusal {
                                plugin,
                                reason: format!("plugin failed: {why}"),
                                kind: RefusalKind::Temporary,
                            };
                            Err(self.refuse_received(message, r).await)
                        }
                    }
                }
            },
        }
    }

    /// `before_receive` alone (a message whose connector the sender named: MGP `send --via`).
    pub(crate) async fn plugins_before_receive(
        &self,
        mut message: Message,
    ) -> Result<Message, Reject> {
        let plugins = self.plugins();
        if plugins.is_empty() {
            return Ok(message);
        }
        let at = message.origin.connector.clone();
        let o = plugins.run(Hook::BeforeReceive, &[&at], &mut message);
        self.plugin_faults(&at, &o.faults);
        self.plugin_reports(&at, o.reports).await;
        match o.verdict {
            Verdict::Refused(r) => Err(self.refuse_received(message, r).await),
            _ => Ok(message),
        }
    }

    /// A connector, or a group's next member that is up.
    fn forced_target(&self, target: &str) -> Option<String> {
        if self.has_connector(target) {
            return Some(target.to_string());
        }
        self.router().group_member(target, |name| {
            self.connector(name).is_some_and(|c| c.is_up())
        })
    }

    async fn refuse_received(&self, mut message: Message, refusal: Refusal) -> Reject {
        let at = message.origin.connector.clone();
        self.logs.connector(
            &at,
            0,
            format!(
                "PLUGIN REJECT (info=\"{} {}\")",
                refusal.plugin, refusal.reason
            ),
        );
        tracing::info!(connector = %at, "message {refusal}");
        message.id = self.allocate_id();
        message.received_us = now_us();
        let write = Write::Rejected {
            message: Box::new(message),
            reason: refusal.to_string(),
        };
        match self.store.commit(vec![write]).await {
            Ok(()) => Reject::Plugin(refusal),
            Err(e) => Reject::Store(e),
        }
    }

    /// `before_send` for the copy of a message `connector` is about to send. A refusal means
    /// it must not leave: the caller hands it to [`Gateway::refused_on_send`].
    pub(crate) fn plugins_before_send(
        &self,
        connector: &ConnectorHandle,
        mut message: Message,
    ) -> Result<Message, Refusal> {
        let plugins = self.plugins();
        if plugins.is_empty() {
            return Ok(message);
        }
        let o = plugins.run(Hook::BeforeSend, &[&connector.name], &mut message);
        self.plugin_faults(&connector.name, &o.faults);
        self.plugin_reports_later(&connector.name, Hook::BeforeSend, o.reports);
        match o.verdict {
            Verdict::Refused(r) => Err(r),
            _ => Ok(message),
        }
    }

    /// A plugin's `before_send` refused `message` on `connector`: it fails for good (REJECTD)
    /// and its sender hears so, as after a permanent error from the next hop.
    pub async fn refused_on_send(
        &self,
        connector: &ConnectorHandle,
        message: Message,
        refusal: Refusal,
    ) {
        Counters::add(&connector.counters.failed);
        self.logs.connector(
            &connector.name,
            0,
            format!(
                "PLUGIN REJECT (info=\"{} message {}: {}\")",
                refusal.plugin, message.id, refusal.reason
            ),
        );
        let status = DlrStatus::Rejected;
        let report = self.report_for(&message, status, 0);
        let writes = vec![Write::finish(
            message,
            MessageState::Failed,
            status.stat_word(),
            Some(refusal.to_string()),
        )];
        self.commit_with_report(writes, report).await;
        connector.queue.finished();
    }

    /// `on_dlr` for a delivery report about `original`, run by the plugins of the connectors
    /// the original passed through (where it came in, where it left). `None`: a plugin held
    /// the report back.
    pub(crate) fn plugins_on_dlr(
        &self,
        original: &Message,
        mut report: Message,
    ) -> Option<Message> {
        let plugins = self.plugins();
        if plugins.is_empty() {
            return Some(report);
        }
        let at = [original.origin.connector.as_str(), original.target.as_str()];
        let o = plugins.run(Hook::OnDlr, &at, &mut report);
        self.plugin_faults(at[0], &o.faults);
        self.plugin_reports_later(at[0], Hook::OnDlr, o.reports);
        match o.verdict {
            Verdict::Refused(r) => {
                tracing::info!(
                    connector = at[0],
                    "delivery report for message {} held back by plugin {}: {}",
                    original.id,
                    r.plugin,
                    r.reason
                );
                None
            }
            _ => Some(report),
        }
    }

    /// The delivery reports hooks injected with `emg.report`, each as an application's
    /// MSGTYPE=5 would be; one that matches nothing is logged, never fatal.
    async fn plugin_reports(&self, connector: &str, reports: Vec<(String, DlrStatus)>) {
        for (origid, status) in reports {
            match self.inject_report(&origid, status).await {
                Ok(id) => tracing::info!(
                    connector,
                    "plugin report for ORIGID {origid} ({}) settled message {id}",
                    status.stat_word()
                ),
                Err(e) => {
                    tracing::warn!(connector, "plugin report not taken: {e}");
                    self.logs.connector(
                        connector,
                        0,
                        format!("PLUGIN ERR (info=\"emg.report: {e}\")"),
                    );
                }
            }
        }
    }

    /// The reports of the hooks on the send path (`before_send`, `on_dlr`), which are
    /// synchronous and may run while the DLR book or a session's window is in use: each is
    /// injected in a task of its own, as an application's MSGTYPE=5 sent right after the
    /// hook returned would be, so the hook never waits for the store and never takes the
    /// book again from inside it. The report is durable once that task's commit is done
    /// (logged `settled message N`); emgd stopping before then loses it, and the message it
    /// names still awaits its report.
    fn plugin_reports_later(&self, connector: &str, hook: Hook, reports: Vec<(String, DlrStatus)>) {
        if reports.is_empty() {
            return;
        }
        let (Some(gw), Ok(runtime)) = (self.me.upgrade(), tokio::runtime::Handle::try_current())
        else {
            for (origid, _) in &reports {
                tracing::error!(
                    connector,
                    "plugin report for ORIGID {origid} from {} dropped: the gateway is stopping",
                    hook.name()
                );
            }
            return;
        };
        let connector = connector.to_string();
        runtime.spawn(async move { gw.plugin_reports(&connector, reports).await });
    }

    /// Every plugin failure, in the daemon log and the connector log, with the script's
    /// FILE:LINE.
    fn plugin_faults(&self, connector: &str, faults: &[Fault]) {
        for f in faults {
            tracing::error!(connector, "{f}");
            self.logs.connector(
                connector,
                0,
                format!(
                    "PLUGIN ERR (info=\"{} {}: {}\")",
                    f.plugin,
                    f.hook.name(),
                    f.error
                ),
            );
        }
    }
}

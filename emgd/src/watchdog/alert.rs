//! The watchdog's alerts: a line in its log (`logdir/watchdog`) for every event, and with
//! `watchdog_webhook` the same as a JSON POST, for paging or chat systems:
//! `{"event":"crashed","message":"...","host":"gw1","time":"2026-11-23 09:31:18.520766",
//! "pid":4242}`. Events: `started`, `stopped`, `crashed`, `disk`, `disk_ok`.
//!
//! A webhook that fails is logged and not retried: the next event tries again.

use crate::connector::http::client::{Call, Client};
use std::time::Duration;

/// How long a webhook call may take.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Alerts {
    webhook: Option<String>,
    client: Client,
    host: String,
}

impl Alerts {
    pub fn new(webhook: Option<String>) -> Alerts {
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_default();
        Alerts {
            webhook,
            client: Client::new(),
            host,
        }
    }

    /// Log `message` (a warning for trouble) and send it to the webhook, if any.
    pub fn send(&self, event: &'static str, message: String, pid: Option<u32>) {
        match event {
            "crashed" | "disk" => tracing::warn!(event, "{message}"),
            _ => tracing::info!(event, "{message}"),
        }
        let Some(url) = self.webhook.clone() else {
            return;
        };
        let body = serde_json::json!({
            "event": event,
            "message": message,
            "host": self.host,
            "time": crate::logs::timestamp(),
            "pid": pid,
        });
        let client = self.client.clone();
        tokio::spawn(async move {
            let call = Call {
                method: hyper::Method::POST,
                url: url.clone(),
                headers: Vec::new(),
                body: Some(("application/json", body.to_string().into_bytes())),
            };
            match client.call(&call, WEBHOOK_TIMEOUT).await {
                Ok(a) if (200..300).contains(&a.status) => {}
                Ok(a) => tracing::warn!("watchdog_webhook {url} answered {}", a.status),
                Err(e) => tracing::warn!("watchdog_webhook {url} failed: {e}"),
            }
        });
    }
}

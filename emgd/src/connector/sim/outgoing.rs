//! The simulated SMSC: it accepts every message (or rejects a configured share with a
//! configured error, after a configured latency) and sends a delivery receipt after a
//! configured delay. Its remote ids are our ids in hex, and at start it answers the open DLR
//! entries a crash left behind, as a real SMSC would remember them.

use crate::connector::runtime::calls::{self, CallOutcome, Caller};
use crate::connector::runtime::link::Link;
use crate::connector::runtime::state::{ConnectorHandle, SessionInfo};
use crate::gateway::Gateway;
use common::dlr::DlrStatus;
use common::message::Message;
use common::smpp::command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Run every instance of a sim connector until shutdown.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>) {
    let cfg = connector.config();
    let status: DlrStatus = cfg.sim.dlr_status.parse().unwrap_or(DlrStatus::Delivered);
    let link = Link::new(gw.clone(), connector.clone(), 0);
    for remote_id in gw.open_dlrs_of(&connector.name) {
        schedule_receipt(&link, remote_id, status, cfg.sim.dlr_delay_ms);
    }
    let sim = Arc::new(Sim {
        submitted: AtomicU64::new(0),
    });
    calls::run(gw, connector, sim).await;
}

struct Sim {
    /// Submits so far, over every instance: `fail_share` is exact over them.
    submitted: AtomicU64,
}

impl Caller for Sim {
    /// Nothing leaves the process: a crash loses nothing a `Submitting` record would tell.
    const RECORDS_SUBMITTING: bool = false;

    fn open(&self, link: &Link) -> SessionInfo {
        link.log("CONNECT OK");
        link.log("LOGIN OK (info=\"0 sim\")");
        SessionInfo {
            instance: link.instance,
            peer: Some("in-process".into()),
            bind: Some("sim".into()),
            user: None,
            since_us: crate::clock::now_us(),
        }
    }

    async fn call(self: Arc<Self>, link: Link, wire: Message) -> CallOutcome {
        let cfg = link.config();
        if cfg.sim.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(cfg.sim.latency_ms)).await;
        }
        let n = self.submitted.fetch_add(1, Ordering::Relaxed);
        if fails(n, cfg.sim.fail_share) {
            return CallOutcome::Refused {
                command: command::SUBMIT_SM,
                error: cfg.sim.fail_error,
            };
        }
        tracing::trace!(connector = %link.name(), id = wire.id, source = %wire.source.addr, dest = %wire.dest.addr, "sim: submit accepted");
        CallOutcome::Sent {
            remote_id: Some(format!("{:X}", wire.id)),
            delivered: false,
        }
    }

    fn recorded(&self, link: &Link, remote_id: &str, dlr_requested: bool) {
        if dlr_requested {
            let cfg = link.config();
            let status = cfg.sim.dlr_status.parse().unwrap_or(DlrStatus::Delivered);
            schedule_receipt(link, remote_id.to_string(), status, cfg.sim.dlr_delay_ms);
        }
    }
}

/// Exactly `share` of all submits fail, spread evenly: submit n fails when the running total
/// `floor((n+1)·share)` steps up.
fn fails(n: u64, share: f64) -> bool {
    share > 0.0 && ((n + 1) as f64 * share).floor() > (n as f64 * share).floor()
}

/// The receipt for `remote_id`, `delay_ms` from now. One that comes before its send is
/// recorded waits (parked) for `dlr_park_seconds`, as from any SMSC.
fn schedule_receipt(link: &Link, remote_id: String, status: DlrStatus, delay_ms: u64) {
    let link = link.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        if !link.receipt(&remote_id, status, 0).await {
            tracing::warn!(
                "sim {}: receipt for {remote_id} matched no open DLR entry",
                link.name()
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use super::fails;

    #[test]
    fn fail_share_is_exact() {
        let n = (0..1000).filter(|&i| fails(i, 0.1)).count();
        assert_eq!(n, 100);
        assert_eq!((0..1000).filter(|&i| fails(i, 0.0)).count(), 0);
        assert_eq!((0..1000).filter(|&i| fails(i, 1.0)).count(), 1000);
    }
}

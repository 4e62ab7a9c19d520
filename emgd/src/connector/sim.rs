//! `sim`: an SMSC inside the daemon. It accepts every message (or rejects a configured share
//! with a configured error) and sends a delivery receipt after a configured delay.
//!
//! It lets the sample configuration deliver end to end with nothing else installed, and gives
//! benchmarks a next hop that costs nothing. Its remote ids are our ids in hex, and at start it
//! answers the open DLR entries a crash left behind, as a real SMSC would remember them.

use super::{ConnState, ConnectorHandle, SessionInfo};
use crate::gateway::stopped;
use crate::gateway::Gateway;
use common::dlr::DlrStatus;
use common::message::Message;
use common::smpp::command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Run every instance of a sim connector until shutdown.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>) {
    let cfg = connector.config();
    let status: DlrStatus = cfg.sim.dlr_status.parse().unwrap_or(DlrStatus::Delivered);
    for remote_id in gw.open_dlrs_of(&connector.name) {
        schedule_receipt(&gw, &connector, remote_id, status, cfg.sim.dlr_delay_ms);
    }
    let submitted = Arc::new(AtomicU64::new(0));
    let mut instances = Vec::new();
    for instance in 0..cfg.instances {
        let (gw, connector, submitted) = (gw.clone(), connector.clone(), submitted.clone());
        instances.push(tokio::spawn(run_instance(
            gw, connector, instance, submitted,
        )));
    }
    for i in instances {
        let _ = i.await;
    }
}

async fn run_instance(
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    instance: u32,
    submitted: Arc<AtomicU64>,
) {
    let mut shutdown = gw.shutdown_signal();
    let window = Arc::new(Semaphore::new(connector.config().windowsize.max(1) as usize));
    let name = connector.name.clone();
    'session: loop {
        if connector.forceclosed() {
            connector.set_state(instance, ConnState::Idle);
        }
        tokio::select! {
            _ = connector.wait_released_or_hold_only() => {}
            _ = stopped(&mut shutdown) => break 'session,
        }
        gw.logs.connector(&name, instance, "CONNECT OK");
        connector.set_state(instance, ConnState::Connected);
        gw.logs
            .connector(&name, instance, "LOGIN OK (info=\"0 sim\")");
        connector.set_session(
            instance,
            Some(SessionInfo {
                instance,
                peer: Some("in-process".into()),
                bind: Some("sim".into()),
                user: None,
                since_us: crate::clock::now_us(),
            }),
        );
        connector.set_state(instance, ConnState::Bound);
        loop {
            let permit = tokio::select! {
                p = window.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break 'session },
                _ = stopped(&mut shutdown) => break 'session,
            };
            if connector.forceclosed() {
                gw.logs
                    .connector(&name, instance, "DISCONNECT (force close)");
                drop(permit);
                continue 'session;
            }
            tokio::select! {
                _ = connector.pace() => {}
                _ = stopped(&mut shutdown) => break 'session,
            }
            let message = tokio::select! {
                m = connector.next_unheld(None) => m,
                _ = stopped(&mut shutdown) => break 'session,
                _ = connector.forceclose_set() => { drop(permit); continue 'session; }
            };
            let (gw, connector, submitted) = (gw.clone(), connector.clone(), submitted.clone());
            tokio::spawn(async move {
                submit(&gw, &connector, message, &submitted).await;
                drop(permit);
            });
        }
    }
    connector.set_state(instance, ConnState::Terminating);
    // Wait for the window to drain: every in-flight submit gets its outcome recorded.
    let size = connector.config().windowsize.max(1);
    let _ = window.acquire_many(size).await;
    connector.set_state(instance, ConnState::Dead);
}

async fn submit(
    gw: &Arc<Gateway>,
    connector: &Arc<ConnectorHandle>,
    message: Message,
    submitted: &AtomicU64,
) {
    let cfg = connector.config();
    if cfg.sim.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(cfg.sim.latency_ms)).await;
    }
    let n = submitted.fetch_add(1, Ordering::Relaxed);
    if fails(n, cfg.sim.fail_share) {
        gw.failed(connector, message, command::SUBMIT_SM, cfg.sim.fail_error)
            .await;
        return;
    }
    // What the simulated SMSC receives: the OUT pipeline's copy (the queued message stays).
    let received = match gw.outbound(connector, &message) {
        Ok(wire) => wire,
        Err(refusal) => return gw.refused_on_send(connector, message, refusal).await,
    };
    tracing::trace!(connector = %connector.name, id = message.id, source = %received.source.addr, dest = %received.dest.addr, "sim: submit accepted");
    let remote_id = format!("{:X}", message.id);
    let wants_receipt = message.dlr_requested;
    gw.sent(connector, message, Some(remote_id.clone())).await;
    if wants_receipt {
        let status = cfg.sim.dlr_status.parse().unwrap_or(DlrStatus::Delivered);
        schedule_receipt(gw, connector, remote_id, status, cfg.sim.dlr_delay_ms);
    }
}

/// Exactly `share` of all submits fail, spread evenly: submit n fails when the running total
/// `floor((n+1)·share)` steps up.
fn fails(n: u64, share: f64) -> bool {
    share > 0.0 && ((n + 1) as f64 * share).floor() > (n as f64 * share).floor()
}

fn schedule_receipt(
    gw: &Arc<Gateway>,
    connector: &Arc<ConnectorHandle>,
    remote_id: String,
    status: DlrStatus,
    delay_ms: u64,
) {
    let gw = gw.clone();
    let name = connector.name.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        if !gw.receipt(&name, &remote_id, status, 0).await {
            tracing::warn!("sim {name}: receipt for {remote_id} matched no open DLR entry");
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

//! Durable before acknowledged: kill emgd in the middle of a load and check, after a restart,
//! that every message it had acknowledged is delivered (its delivery receipt comes back).

mod support;

use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;
use support::Setup;
use tests::smpp_client::Client;

const LOAD: usize = 20_000;
const STOP_AFTER_ACKS: usize = 3_000;

async fn load_stop_restart(signal: &str) {
    let setup = Setup::new("", "dlr_delay_ms = 100\nwindowsize = 16", "");
    let mut daemon = setup.start();
    let pid = daemon.pid().to_string();
    let mut first = Client::bind(setup.smpp_port, "demo", "demo")
        .await
        .unwrap()
        .expect("bind");
    let mut stopped = false;
    let result = first
        .submit(LOAD, 64, "46701234", true, |acked| {
            if acked >= STOP_AFTER_ACKS && !stopped {
                stopped = true;
                Command::new("kill")
                    .arg(signal)
                    .arg(&pid)
                    .status()
                    .expect("kill runs");
                return false;
            }
            true
        })
        .await;
    assert!(result.is_ok(), "load ran until the stop: {result:?}");
    assert!(stopped, "the stop happened in the middle of the load");
    if signal == "-TERM" {
        // Graceful: in-flight submits are answered or not, but the process exits cleanly.
        let status = daemon.terminate(Duration::from_secs(40)).unwrap();
        assert!(
            status.success(),
            "SIGTERM exits 0: {}",
            daemon.stderr_text()
        );
    } else {
        daemon.kill9();
    }
    let acknowledged: HashSet<String> = first.accepted.iter().cloned().collect();
    assert!(acknowledged.len() >= STOP_AFTER_ACKS);
    let before = first.receipts.clone();
    drop(first);

    let _daemon = setup.start();
    let mut second = Client::bind(setup.smpp_port, "demo", "demo")
        .await
        .unwrap()
        .expect("rebind");
    let still_wanted: HashSet<String> = acknowledged.difference(&before).cloned().collect();
    second
        .await_receipts(&still_wanted, Duration::from_secs(120))
        .await
        .unwrap();
    let seen: HashSet<String> = before.union(&second.receipts).cloned().collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !seen.contains(*id))
        .collect();
    println!(
        "{signal}: {} acknowledged, {} receipts before the stop, {} after restart, {} missing",
        acknowledged.len(),
        before.len(),
        second.receipts.len(),
        missing.len()
    );
    assert!(
        missing.is_empty(),
        "{} acknowledged messages lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    second.unbind().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_load_loses_no_acknowledged_message() {
    load_stop_restart("-KILL").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_load_shuts_down_cleanly_and_loses_nothing() {
    load_stop_restart("-TERM").await;
}

//! Durable before acknowledged, for delivery receipts: a receipt is answered deliver_sm_resp
//! only once it is recorded. The npm `smpp` SMSC (tests/peers/smsc/smsc.js) sends each
//! receipt BEFORE its submit_sm_resp, so every receipt arrives while its message has no open
//! DLR entry yet and must wait for it; emgd is SIGKILLed in the middle of the load. The SMSC
//! sends again every receipt that was not answered (as SMSCs do), so after the restart every
//! message must end DELIVRD and every client must get its receipt: none was answered while it
//! only lived in memory.
//!
//! Needs node and `npm ci --prefix tests/peers/smsc` (scripts/test does it).

mod support;

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};
use support::smsc::{acked, count, Smsc};
use support::Setup;
use tests::daemon::free_port;
use tests::smpp_client::Client;

const LOAD: usize = 4_000;
const KILL_AFTER_ACKS: usize = 1_500;

fn setup(smsc_port: u16) -> Setup {
    let extra = format!(
        r#"
[[route]]
prefix = "5"
to = "smsc"

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"
instances = 2
windowsize = 50
static = true
dlr_park_seconds = 5
"#
    );
    Setup::new("", "", &extra)
}

fn store_count(setup: &Setup, sql: &str) -> i64 {
    setup.db().number(sql)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_receipts_before_submit_responses_loses_no_receipt() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(
        port,
        dir.path().join("smsc.json"),
        &["--receipt-first", "--resend-unacked"],
    );
    let setup = setup(port);
    let mut daemon = setup.start();
    let pid = daemon.pid().to_string();
    let mut first = Client::bind(setup.smpp_port, "demo", "demo")
        .await
        .unwrap()
        .expect("bind");
    let mut killed = false;
    let result = first
        .submit(LOAD, 64, "5551234", true, |acked| {
            if acked >= KILL_AFTER_ACKS && !killed {
                killed = true;
                Command::new("kill")
                    .arg("-KILL")
                    .arg(&pid)
                    .status()
                    .expect("kill runs");
                return false;
            }
            true
        })
        .await;
    assert!(result.is_ok(), "load ran until the kill: {result:?}");
    assert!(killed, "the kill happened in the middle of the load");
    daemon.kill9();
    let before_kill = smsc.state();
    // Every receipt emgd answered before it died is in its store: its message is done.
    let answered = acked(&before_kill).len() as i64;
    let done = store_count(
        &setup,
        "SELECT COUNT(*) FROM messages WHERE target = 'smsc' AND state = 2",
    );
    assert!(
        answered <= done,
        "{answered} receipts were answered, but only {done} messages were recorded done"
    );
    let acknowledged: HashSet<String> = first.accepted.iter().cloned().collect();
    let before = first.receipts.clone();
    drop(first);

    let daemon = setup.start();
    let mut second = Client::bind(setup.smpp_port, "demo", "demo")
        .await
        .unwrap()
        .expect("rebind");
    let still_wanted: HashSet<String> = acknowledged.difference(&before).cloned().collect();
    let waited = second
        .await_receipts(&still_wanted, Duration::from_secs(180))
        .await;
    let seen: HashSet<String> = before.union(&second.receipts).cloned().collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !seen.contains(*id))
        .collect();
    let after = smsc.state();
    println!(
        "{} acknowledged; {answered} receipts answered and {done} messages done at the kill; at the kill the SMSC had sent {} receipts, {} answered; \
         {} receipts before the kill, {} after restart, {} resent by the SMSC, {} missing",
        acknowledged.len(),
        count(&before_kill, "receipts_sent"),
        count(&before_kill, "receipts_acked"),
        before.len(),
        second.receipts.len(),
        count(&after, "receipts_resent"),
        missing.len()
    );
    assert!(
        missing.is_empty() && waited.is_ok(),
        "{} acknowledged messages never got their receipt, e.g. {:?}\n{}",
        missing.len(),
        &missing[..missing.len().min(5)],
        setup.log("connector.smsc")
    );
    // Every message the SMSC took ends delivered; no DLR entry is left open.
    let deadline = Instant::now() + Duration::from_secs(30);
    let not_done = "SELECT COUNT(*) FROM messages WHERE target = 'smsc' AND state <> 2";
    while store_count(&setup, not_done) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        store_count(&setup, not_done),
        0,
        "every message ends DELIVRD"
    );
    assert_eq!(
        store_count(&setup, "SELECT COUNT(*) FROM dlr_open"),
        0,
        "no open DLR entry is left behind"
    );
    second.unbind().await;
    drop(daemon);
}

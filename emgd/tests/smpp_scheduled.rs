//! schedule_delivery_time (EMG's DELTIME) is honoured: python smpplib submits messages
//! scheduled a few seconds ahead (relative time); they wait in the store and their queue and
//! reach the npm `smpp` SMSC (tests/peers/smsc/smsc.js) within a second of their time, also
//! when emgd is killed and restarted while they wait.
//!
//! Needs node, `npm ci --prefix tests/peers/smsc` and smpplib (scripts/test installs them).

mod support;

use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::smsc::Smsc;
use support::Setup;
use tests::daemon::free_port;

const COUNT: usize = 20;

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

fn arrivals(smsc: &Smsc) -> Vec<i64> {
    let state = smsc.state();
    let path = format!("{}.submits", state["out"].as_str().unwrap_or_default());
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["at_us"].as_i64())
        .collect()
}

fn setup(port: u16) -> Setup {
    let extra = format!(
        r#"
[[route]]
prefix = "5"
to = "smsc"

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{port}"
username = "emg"
password = "secret"
"#
    );
    Setup::new("", "", &extra)
}

/// Submit COUNT messages scheduled `seconds` ahead; (time before, time after) in Unix µs.
fn submit(setup: &Setup, seconds: u32) -> (i64, i64) {
    let before = now_us();
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--count",
            &COUNT.to_string(),
            "--dest",
            "5551234",
            "--no-dlr",
            "--schedule-in",
            &seconds.to_string(),
        ],
    );
    assert_eq!(
        report["accepted"].as_array().unwrap().len(),
        COUNT,
        "{report}"
    );
    (before, now_us())
}

fn queued(setup: &Setup) -> i64 {
    setup
        .db()
        .number("SELECT COUNT(*) FROM messages WHERE target = 'smsc' AND state = 0")
}

/// Every arrival within [before + delay, after + delay + 1 s].
fn check_times(smsc: &Smsc, before: i64, after: i64, delay_s: i64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(delay_s as u64 + 30);
    while arrivals(smsc).len() < COUNT {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {COUNT} arrived",
            arrivals(smsc).len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (earliest, latest) = (
        before + delay_s * 1_000_000,
        after + (delay_s + 1) * 1_000_000,
    );
    for at in arrivals(smsc) {
        assert!(
            at >= earliest,
            "left {} ms before its time",
            (earliest - at) / 1000
        );
        assert!(
            at <= latest,
            "left {} ms after its time and a second",
            (at - latest) / 1000
        );
    }
}

#[test]
fn scheduled_messages_wait_in_their_queue_and_leave_on_time() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &[]);
    let setup = setup(port);
    let _daemon = setup.start();
    let (before, after) = submit(&setup, 4);
    std::thread::sleep(Duration::from_secs(1));
    assert!(arrivals(&smsc).is_empty(), "nothing leaves early");
    assert_eq!(
        queued(&setup),
        COUNT as i64,
        "they wait in the store, queued"
    );
    check_times(&smsc, before, after, 4);
}

#[test]
fn scheduled_messages_leave_on_time_across_a_restart() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &[]);
    let setup = setup(port);
    let mut daemon = setup.start();
    let (before, after) = submit(&setup, 6);
    daemon.kill9();
    drop(daemon);
    assert_eq!(
        queued(&setup),
        COUNT as i64,
        "stored before they were acknowledged"
    );
    let _daemon = setup.start();
    check_times(&smsc, before, after, 6);
}

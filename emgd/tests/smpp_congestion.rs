//! SMPP 5.0 congestion_state slows an outgoing session down: the npm `smpp` SMSC
//! (tests/peers/smsc/smsc.js `--congestion STATE:FROM:TO`) answers some submits with it, and
//! the arrival times it records show emgd's rate drop while it says so, and recover after.
//! python smpplib is the client that fills the queue.
//!
//! Needs node, `npm ci --prefix tests/peers/smsc` and smpplib (scripts/test installs them).

mod support;

use std::time::{Duration, Instant};
use support::smsc::{submits, Smsc};
use support::Setup;
use tests::daemon::free_port;

const COUNT: usize = 300;

/// Arrival times (Unix µs) at the SMSC of `COUNT` messages sent through a connector with a
/// window of 10, the SMSC answering with `congestion` (`STATE:FROM:TO`); and the connector
/// log.
fn run(congestion: &str) -> (Vec<i64>, String) {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(
        port,
        dir.path().join("smsc.json"),
        &["--congestion", congestion],
    );
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
interface_version = "5.0"
windowsize = 10
static = true
"#
    );
    let setup = Setup::new("", "", &extra);
    let _daemon = setup.start();
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--count",
            &COUNT.to_string(),
            "--dest",
            "5551234",
            "--no-dlr",
            "--timeout",
            "60",
        ],
    );
    assert_eq!(report["accepted"].as_array().unwrap().len(), COUNT);
    let deadline = Instant::now() + Duration::from_secs(60);
    while submits(&smsc.state()).len() < COUNT && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let at: Vec<i64> = submits(&smsc.state())
        .iter()
        .map(|s| s["at_us"].as_i64().unwrap())
        .collect();
    assert_eq!(at.len(), COUNT);
    (at, setup.log("connector.smsc"))
}

/// Messages a second between arrivals `from` and `to` (indices).
fn rate(at: &[i64], from: usize, to: usize) -> f64 {
    (to - from) as f64 * 1e6 / (at[to] - at[from]).max(1) as f64
}

/// congestion_state 85 on submits 100-159: new submits are spaced 60 ms apart (at most about
/// 16 a second) once the window in flight has drained, then full speed again.
#[test]
fn congestion_state_85_throttles_then_sending_recovers() {
    let (at, log) = run("85:100:160");
    let before = rate(&at, 0, 99);
    // The 10 in the window when the first congested answer came go at once.
    let congested = rate(&at, 115, 160);
    let after = rate(&at, 175, COUNT - 1);
    eprintln!(
        "congestion_state 85: {before:.0} msg/s before, {congested:.1} msg/s while congested, \
         {after:.0} msg/s after"
    );
    assert!(congested < 20.0, "throttled to {congested:.1} msg/s");
    assert!(
        before > congested * 3.0,
        "{before:.0} before vs {congested:.1}"
    );
    assert!(
        after > congested * 3.0,
        "recovered: {after:.0} vs {congested:.1}"
    );
    assert!(
        log.contains("CONGESTION (info=\"congestion_state 85: submits spaced 60 ms\")"),
        "{log}"
    );
    assert!(
        log.contains("congestion_state 0: sending at full speed again"),
        "{log}"
    );
}

/// congestion_state 95 on one answer: no new submit for a second, then full speed.
#[test]
fn congestion_state_95_pauses_new_submits_for_a_second() {
    let (at, log) = run("95:50:51");
    let gaps: Vec<i64> = at.windows(2).map(|w| w[1] - w[0]).collect();
    let (longest_at, longest) = gaps
        .iter()
        .enumerate()
        .max_by_key(|(_, g)| **g)
        .map(|(i, g)| (i, *g))
        .unwrap();
    eprintln!("congestion_state 95: longest gap {longest} µs after submit {longest_at}");
    assert!(longest >= 900_000, "paused: longest gap {longest} µs");
    assert!(
        (50..=62).contains(&longest_at),
        "the pause follows submit 50: {longest_at}"
    );
    let after = rate(&at, longest_at + 1, COUNT - 1);
    assert!(after > 20.0, "recovered to {after:.0} msg/s");
    assert!(
        log.contains("congestion_state 95: new submits paused 1 s"),
        "{log}"
    );
}

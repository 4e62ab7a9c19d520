//! The harness for Kannel's CIMD2 SMSC simulator (`test_cimd2`, Debian kannel-extras),
//! proven with Kannel's own CIMD2 client (`smsc = cimd2`): login, submits answered, a refused
//! password, and the MO flood of `--activity 3` reaching Kannel's sms-service.

use std::time::Duration;
use tests::http_sink::HttpSink;
use tests::kannel::{Cimd2SimOptions, Kannel, TestCimd2};

const WAIT: Duration = Duration::from_secs(60);

fn cimd2_group(id: &str, port: u16, password: &str) -> String {
    format!(
        "smsc = cimd2\nsmsc-id = {id}\nhost = 127.0.0.1\nport = {port}\n\
         smsc-username = foo\nsmsc-password = {password}\nkeepalive = 5\nreconnect-delay = 60"
    )
}

#[test]
fn kannel_logs_in_and_submits_to_test_cimd2() {
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start(dir.path()).unwrap();
    let sim = TestCimd2::start(dir.path(), &Cimd2SimOptions::default()).unwrap();
    let kannel = Kannel::start(
        dir.path(),
        &[cimd2_group("cimd", sim.port, "bar")],
        &sink.url("/mo?text=%a"),
    )
    .unwrap();
    kannel.wait_online("cimd", WAIT).unwrap();
    for i in 0..3 {
        kannel
            .send(
                Some("cimd"),
                "1234",
                &format!("467012{i:04}"),
                "via cimd2",
                None,
            )
            .unwrap();
    }
    let out = sim
        .wait_for("three submits", WAIT, |o| {
            o.matches("SND: Submit OK").count() >= 3
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", kannel.logs()));
    assert!(
        out.contains("RCV: Login user 'foo', password 'bar'"),
        "{out}"
    );
    for i in 0..3 {
        assert!(
            out.contains(&format!("RCV: Submit to 467012{i:04}")),
            "{out}"
        );
    }
    assert!(out.contains("Text: via cimd2"), "{out}");
}

#[test]
fn a_wrong_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start(dir.path()).unwrap();
    let sim = TestCimd2::start(dir.path(), &Cimd2SimOptions::default()).unwrap();
    let kannel = Kannel::start(
        dir.path(),
        &[cimd2_group("cimd", sim.port, "wrong")],
        &sink.url("/mo"),
    )
    .unwrap();
    let out = sim
        .wait_for("a refused login", WAIT, |o| {
            o.contains("SND: ERROR, invalid login")
        })
        .unwrap();
    assert!(out.contains("password 'wrong'"), "{out}");
    let status = kannel.status().unwrap();
    let line = status
        .lines()
        .find(|l| l.contains("cimd["))
        .unwrap_or_default();
    assert!(!line.contains("(online"), "{status}");
}

#[test]
fn the_mo_flood_of_activity_3_reaches_kannel() {
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start(dir.path()).unwrap();
    let opts = Cimd2SimOptions {
        activity: 3,
        max: Some(50),
        ..Cimd2SimOptions::default()
    };
    let sim = TestCimd2::start(dir.path(), &opts).unwrap();
    let kannel = Kannel::start(
        dir.path(),
        &[cimd2_group("cimd", sim.port, "bar")],
        &sink.url("/mo?from=%p&to=%P"),
    )
    .unwrap();
    kannel.wait_online("cimd", WAIT).unwrap();
    // Every delivery was answered (test_cimd2 waits for each response before the next).
    let out = sim
        .wait_for("50 answered deliveries", WAIT, |o| {
            o.contains("LOG: 50 deliveries in")
        })
        .unwrap();
    assert_eq!(
        out.matches("SND: Deliver message (random)").count(),
        50,
        "{out}"
    );
    // Its random messages include some without sender or receiver, which Kannel drops; the
    // rest reach the sms-service.
    let mo = sink.wait_for("/mo", 1, WAIT).unwrap();
    assert!(
        mo.iter()
            .all(|r| !r.query["from"].is_empty() && !r.query["to"].is_empty()),
        "{mo:?}"
    );
}

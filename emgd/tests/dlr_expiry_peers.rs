//! What never comes back expires: open DLR entries whose receipt the SMSC never sends end
//! as UNKNOWN after the connector's `dlr_expire`, and reports for a client that never binds
//! again expire from its queue, as do MO messages for a user who never binds a receiver. The
//! SMSC is the npm `smpp` package (tests/peers/smsc/smsc.js --no-receipts, --mo-reply), the
//! client python smpplib.
//!
//! Needs node, `npm ci --prefix tests/peers/smsc` and smpplib (scripts/test installs them).

mod support;

use std::time::{Duration, Instant};
use support::smsc::{count, records, Smsc};
use support::Setup;
use tests::daemon::free_port;

const COUNT: usize = 200;

fn store_count(setup: &Setup, sql: &str) -> i64 {
    setup.db().number(sql)
}

fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    f()
}

/// The connector's own `dlr_expire` (2 s; the general one stays at two days): every client
/// gets its final UNKNOWN receipt and the dlr_open table empties.
#[test]
fn receipts_that_never_come_expire_per_connector_with_a_final_unknown_receipt() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &["--no-receipts"]);
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
windowsize = 20
dlr_expire = 2
"#
    );
    let setup = Setup::new("", "", &extra);
    let _daemon = setup.start();
    let started = Instant::now();
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--count",
            &COUNT.to_string(),
            "--dest",
            "5551234",
            "--timeout",
            "90",
        ],
    );
    let accepted: Vec<String> = report["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(accepted.len(), COUNT, "{report}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "not before dlr_expire"
    );
    let receipts = &report["receipts"];
    for id in &accepted {
        let text = receipts[id.as_str()]["text"].as_str().unwrap_or_default();
        assert!(text.contains("stat:UNKNOWN"), "{id}: {text:?}");
    }
    assert_eq!(
        count(&smsc.state(), "receipts_sent"),
        0,
        "the SMSC sent none"
    );
    assert!(
        wait_for(Duration::from_secs(10), || store_count(
            &setup,
            "SELECT COUNT(*) FROM dlr_open"
        ) == 0),
        "no open DLR entry is left"
    );
    assert!(setup
        .log("connector.smsc")
        .contains("within dlr_expire 2 s"));
}

/// A client that submits with receipts and never binds again: its reports (UNKNOWN, after
/// the entries' dlr_expire) wait in the incoming connector's queue, then expire there too.
#[test]
fn reports_for_a_client_that_never_binds_again_expire() {
    let setup = Setup::new("dlr_expire = 2", "dlr_delay_ms = 3600000", "");
    let _daemon = setup.start();
    // smpplib gives up waiting for receipts after a second and unbinds for good.
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--count",
            &COUNT.to_string(),
            "--dest",
            "4671234",
            "--timeout",
            "1",
        ],
    );
    assert_eq!(report["accepted"].as_array().unwrap().len(), COUNT);
    let expired_reports = "SELECT COUNT(*) FROM messages WHERE target = 'smpp-in' AND state = 3";
    assert!(
        wait_for(Duration::from_secs(60), || store_count(
            &setup,
            expired_reports
        ) == COUNT as i64),
        "{} of {COUNT} reports expired; {} messages still open",
        store_count(&setup, expired_reports),
        store_count(&setup, "SELECT COUNT(*) FROM dlr_open")
    );
    assert_eq!(
        store_count(
            &setup,
            "SELECT COUNT(*) FROM messages WHERE target = 'smpp-in' AND state = 0"
        ),
        0,
        "nothing is left queued for the client"
    );
    assert!(setup
        .log("connector.smpp-in")
        .contains("EXPIRED (info=\"message"));
}

/// MO messages routed to a user (`user = "demo"`) who only ever binds as a transmitter wait
/// in the incoming connector's queue (answered to the SMSC once stored), then, having no
/// validity of their own, expire there after the general `dlr_expire` like its reports.
#[test]
fn mo_for_a_user_that_never_binds_a_receiver_expires() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &["--mo-reply"]);
    let extra = format!(
        r#"
[[route]]
prefix = "5"
to = "smsc"

[[route]]
prefix = "4610000"
to = "smpp-in"
user = "demo"

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{port}"
username = "emg"
password = "secret"
windowsize = 20
"#
    );
    let setup = Setup::new("dlr_expire = 3", "", &extra);
    let _daemon = setup.start();
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--bind",
            "transmitter",
            "--count",
            &COUNT.to_string(),
            "--dest",
            "5551234",
            "--no-dlr",
            "--timeout",
            "30",
        ],
    );
    assert_eq!(report["accepted"].as_array().unwrap().len(), COUNT);
    assert!(
        wait_for(Duration::from_secs(30), || records(&smsc.state(), "mo")
            .len()
            == COUNT),
        "the SMSC sent an MO for every message: {}",
        records(&smsc.state(), "mo").len()
    );
    assert!(
        records(&smsc.state(), "mo")
            .iter()
            .all(|m| m["status"] == 0),
        "every MO answered ESME_ROK once stored: {:?}",
        records(&smsc.state(), "mo")
    );
    let expired = "SELECT COUNT(*) FROM messages WHERE target = 'smpp-in' AND state = 3";
    assert!(
        wait_for(Duration::from_secs(60), || store_count(&setup, expired)
            == COUNT as i64),
        "{} of {COUNT} MO messages expired",
        store_count(&setup, expired)
    );
    assert_eq!(
        store_count(
            &setup,
            "SELECT COUNT(*) FROM messages WHERE target = 'smpp-in' AND state = 0"
        ),
        0,
        "nothing is left queued for the user"
    );
    assert!(setup
        .log("connector.smpp-in")
        .contains("EXPIRED (info=\"message"));
}

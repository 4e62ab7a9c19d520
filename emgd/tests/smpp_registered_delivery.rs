//! registered_delivery as SMPP 3.4 §5.2.17 defines it, seen from a python smpplib client
//! (a third-party SMPP implementation): 1 asks for the final receipt whatever the outcome,
//! 2 only for a failure, and bit 0x10 adds the intermediate notifications (ENROUTE). The
//! next hops are simulated SMSCs whose receipts say DELIVRD, UNDELIV or ENROUTE.
//!
//! Needs python3 and smpplib (scripts/test installs them).

mod support;

use serde_json::Value;
use support::Setup;

const COUNT: usize = 20;

/// sim1 (prefix 4) reports DELIVRD; `sim-undeliv` (6) UNDELIV; `sim-enroute` (7) ENROUTE.
fn setup() -> Setup {
    let extra = r#"
[[route]]
prefix = "6"
to = "sim-undeliv"

[[route]]
prefix = "7"
to = "sim-enroute"

[connector.sim-undeliv]
type = "outgoing"
protocol = "sim"
dlr_delay_ms = 50
dlr_status = "UNDELIV"

[connector.sim-enroute]
type = "outgoing"
protocol = "sim"
dlr_delay_ms = 50
dlr_status = "ENROUTE"
"#;
    Setup::new("", "dlr_delay_ms = 50", extra)
}

/// smpplib submits COUNT messages to `dest` with `registered_delivery`; waits `timeout` s
/// for receipts. Returns (accepted ids, receipts by id).
fn submit(
    setup: &Setup,
    dest: &str,
    registered_delivery: u8,
    timeout: u32,
) -> (Vec<String>, Value) {
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--count",
            &COUNT.to_string(),
            "--dest",
            dest,
            "--registered-delivery",
            &registered_delivery.to_string(),
            "--timeout",
            &timeout.to_string(),
        ],
    );
    let accepted: Vec<String> = report["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(accepted.len(), COUNT, "every submit acknowledged: {report}");
    (accepted, report["receipts"].clone())
}

/// How many of `accepted` got a receipt whose text says `stat`.
fn with_stat(accepted: &[String], receipts: &Value, stat: &str) -> usize {
    accepted
        .iter()
        .filter(|id| {
            receipts[id.as_str()]["text"]
                .as_str()
                .is_some_and(|t| t.contains(&format!("stat:{stat}")))
        })
        .count()
}

fn receipt_count(receipts: &Value) -> usize {
    receipts.as_object().map_or(0, |o| o.len())
}

#[test]
fn registered_delivery_2_delivrd_not_sent_undeliv_sent() {
    let setup = setup();
    let _daemon = setup.start();
    // Delivered messages: no receipt. Waits long enough for the sim's receipts (50 ms) and
    // the reports they would make.
    let (_, receipts) = submit(&setup, "4670001", 2, 8);
    assert_eq!(
        receipt_count(&receipts),
        0,
        "registered_delivery 2 wants failures only: {receipts}"
    );
    // Failed messages: every one gets its UNDELIV receipt.
    let (accepted, receipts) = submit(&setup, "6670001", 2, 60);
    assert_eq!(
        with_stat(&accepted, &receipts, "UNDELIV"),
        COUNT,
        "{receipts}"
    );
    // The messages ended as they should whatever was reported.
    let done: i64 = setup
        .db()
        .number("SELECT COUNT(*) FROM messages WHERE target = 'sim1' AND state = 2");
    assert_eq!(done, COUNT as i64, "the delivered ones are done");
}

#[test]
fn intermediate_notifications_only_when_asked_for() {
    let setup = setup();
    let _daemon = setup.start();
    let (_, receipts) = submit(&setup, "7670001", 1, 8);
    assert_eq!(
        receipt_count(&receipts),
        0,
        "registered_delivery 1 wants the final receipt only: {receipts}"
    );
    let (accepted, receipts) = submit(&setup, "7670002", 0x11, 60);
    assert_eq!(
        with_stat(&accepted, &receipts, "ENROUTE"),
        COUNT,
        "registered_delivery 0x11 adds the intermediate ones: {receipts}"
    );
}

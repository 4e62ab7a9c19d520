//! TLVs a client sends that emgd does not act on travel with the message: python smpplib
//! submits with user_message_reference, source_port, destination_port, privacy_indicator,
//! language_indicator and callback_num; emgd stores them
//! with the message and the npm `smpp` SMSC (tests/peers/smsc/smsc.js) receives them on the
//! outgoing submit_sm. Through an SMPP 3.3 connector they are left out (3.3 has no TLVs).
//! The validity_period a client gives goes on too, as what is left of it.
//!
//! Needs node, `npm ci --prefix tests/peers/smsc` and smpplib (scripts/test installs them).

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::smsc::{submits, Smsc};
use support::Setup;
use tests::daemon::free_port;

const COUNT: usize = 50;

/// smpplib sends COUNT messages with TLVs (and `registered_delivery`, 0: none) through an
/// SMPP connector with `more`; what the SMSC got.
fn run(more: &str, registered_delivery: &str) -> Vec<Value> {
    run_with(&[], &[], more, registered_delivery).0
}

/// What a run leaves for its test to look at: smpplib's report, the SMSC and its files, the
/// gateway.
struct Ran {
    report: Value,
    smsc: Smsc,
    _smsc_dir: tempfile::TempDir,
    setup: Setup,
    _daemon: tests::daemon::Daemon,
}

/// The same with the SMSC started with `smsc_args` and the smpplib client also given
/// `client_args`; also what the test may look at next.
fn run_with(
    smsc_args: &[&str],
    client_args: &[&str],
    more: &str,
    registered_delivery: &str,
) -> (Vec<Value>, Ran) {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), smsc_args);
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
{more}
"#
    );
    let setup = Setup::new("", "", &extra);
    let daemon = setup.start();
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--count",
            &COUNT.to_string(),
            "--dest",
            "5551234",
            "--tlvs",
            "--registered-delivery",
            registered_delivery,
            "--timeout",
            "30",
        ]
        .into_iter()
        .chain((registered_delivery == "0").then_some("--no-dlr"))
        .chain(client_args.iter().copied())
        .collect::<Vec<_>>(),
    );
    assert_eq!(report["accepted"].as_array().unwrap().len(), COUNT);
    let deadline = Instant::now() + Duration::from_secs(30);
    while submits(&smsc.state()).len() < COUNT {
        assert!(Instant::now() < deadline, "the SMSC got every message");
        std::thread::sleep(Duration::from_millis(100));
    }
    let got = submits(&smsc.state());
    let ran = Ran {
        report,
        smsc,
        _smsc_dir: dir,
        setup,
        _daemon: daemon,
    };
    (got, ran)
}

#[test]
fn user_message_reference_ports_privacy_language_and_callback_num_reach_the_smsc() {
    let got = run("", "0");
    for i in 0..COUNT {
        let s = got
            .iter()
            .find(|s| s["text"] == format!("message {i}"))
            .unwrap_or_else(|| panic!("message {i} missing"));
        assert_eq!(s["user_message_reference"], i, "{s}");
        assert_eq!(s["source_port"], 0x1234, "{s}");
        assert_eq!(s["destination_port"], 0x5678, "{s}");
        assert_eq!(s["privacy_indicator"], 2, "{s}");
        assert_eq!(s["language_indicator"], 1, "{s}");
        let callback = &s["callback_num"][0];
        assert_eq!(
            (&callback["ton"], &callback["npi"], &callback["number"]),
            (&1.into(), &1.into(), &"4670001".into()),
            "{s}"
        );
        assert_eq!(
            s["validity_us"],
            Value::Null,
            "no validity given, none sent: {s}"
        );
    }
}

const SECOND: i64 = 1_000_000;

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// The instant the SMSC read from each submit's validity_period.
fn validities(got: &[Value]) -> Vec<i64> {
    assert_eq!(got.len(), COUNT);
    got.iter()
        .map(|s| {
            s["validity_us"]
                .as_i64()
                .unwrap_or_else(|| panic!("the SMSC got no validity: {s}"))
        })
        .collect()
}

/// smpplib gives a relative validity (1 day 2 hours); the SMSC reads an instant that far
/// from when emgd took the message: after the client started, before the SMSC had it, less
/// the second emgd rounds down.
#[test]
fn a_relative_validity_reaches_the_smsc() {
    let period = (24 + 2) * 3600 * SECOND;
    let started = now_us();
    let got = run_with(&[], &["--validity", "000001020000000R"], "", "0").0;
    for (s, validity) in got.iter().zip(validities(&got)) {
        let arrived = s["at_us"].as_i64().unwrap();
        assert!(
            (started + period - 2 * SECOND..=arrived + period + SECOND).contains(&validity),
            "validity {validity} µs, client started {started}, SMSC had it at {arrived}: {s}"
        );
    }
}

/// smpplib gives an absolute validity three hours ahead, written in a time zone two hours
/// (8 quarter hours) ahead of UTC; the SMSC reads the same instant, less up to the second
/// emgd rounds down (plus the moment the submit_sm took to reach it).
#[test]
fn an_absolute_validity_reaches_the_smsc() {
    let until = (now_us() / SECOND + 3 * 3600) * SECOND;
    let local = chrono::DateTime::from_timestamp_micros(until + 2 * 3600 * SECOND).unwrap();
    let field = format!("{}008+", local.format("%y%m%d%H%M%S"));
    let got = run_with(&[], &["--validity", &field], "", "0").0;
    for (s, validity) in got.iter().zip(validities(&got)) {
        assert!(
            (until - 2 * SECOND..=until + SECOND).contains(&validity),
            "{field:?} is {until} µs, the SMSC read {validity}: {s}"
        );
    }
}

#[test]
fn an_smpp_3_3_connector_sends_no_tlvs() {
    let got = run(
        "interface_version = \"3.3\"\nbindmode = \"transmitter\"",
        "0",
    );
    assert_eq!(got.len(), COUNT);
    for s in &got {
        assert_eq!(s["user_message_reference"], Value::Null, "{s}");
        assert_eq!(s["source_port"], Value::Null, "{s}");
        assert_eq!(s["callback_num"], Value::Null, "{s}");
    }
}

/// The SME acknowledgement bits of registered_delivery (0x04 delivery, 0x08 user ack) ask
/// the handset's application: emgd passes them to the SMPP next hop as the client set them,
/// beside the receipt bit it asks for itself.
#[test]
fn sme_acknowledgement_bits_of_registered_delivery_reach_the_smsc() {
    let got = run("", "13");
    assert_eq!(got.len(), COUNT);
    for s in &got {
        assert_eq!(
            s["registered_delivery"], 13,
            "receipt 1 and SME bits 0x0c: {s}"
        );
    }
}

/// An SME delivery acknowledgement from the SMSC (deliver_sm, esm_class 0x08, sent before
/// the receipt) is answered and logged as SME ACK: it does not finish the message (each
/// client still gets its DELIVRD receipt, once) and is not taken as an MO message (nothing
/// is routed to `sim1`, where an MO for 461... would go).
#[test]
fn an_sme_acknowledgement_from_the_smsc_is_neither_a_receipt_nor_mo() {
    let (_, ran) = run_with(&["--sme-ack", "--dlr-delay", "300"], &[], "", "5");
    let Ran {
        report,
        smsc,
        setup,
        ..
    } = &ran;
    let state = smsc.state();
    let deadline = Instant::now() + Duration::from_secs(30);
    let acks = || support::smsc::records(&smsc.state(), "smeack");
    while acks().len() < COUNT {
        assert!(
            Instant::now() < deadline,
            "the SMSC sent every SME ack: {state}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        acks().iter().all(|a| a["status"] == 0),
        "each answered ESME_ROK: {:?}",
        acks()
    );
    let accepted = report["accepted"].as_array().unwrap();
    for id in accepted {
        let text = report["receipts"][id.as_str().unwrap()]["text"]
            .as_str()
            .unwrap_or_default();
        assert!(text.contains("stat:DELIVRD"), "{id}: {text:?} ({report})");
    }
    let counts = report["receipt_counts"].as_object().unwrap();
    assert!(
        counts.values().all(|n| n == 1),
        "one receipt each: {report}"
    );
    assert_eq!(
        setup
            .db()
            .number("SELECT COUNT(*) FROM messages WHERE target = 'sim1'"),
        0,
        "no SME ack was taken as an MO message"
    );
    let log = setup.log("connector.smsc");
    assert_eq!(log.matches("SME ACK (info=").count(), COUNT, "{log}");
}

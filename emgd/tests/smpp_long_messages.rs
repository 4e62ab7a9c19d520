//! Long messages end to end, with third-party peers at both edges: python smpplib submits one
//! long text in message_payload to emgd's incoming SMPP connector; the outgoing connector
//! splits it as configured (`split`) and the npm `smpp` SMSC records every part it got. The
//! parts must arrive whole, in order, on one session, with the right UDH or sar_* TLVs; the
//! receipts of the parts come back combined or one by one (`dlr_parts`).

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::smsc::{count, parts, Smsc};
use support::Setup;
use tests::daemon::free_port;

/// A UCS-2 text of 3 parts: Cyrillic, with a character outside the BMP (a surrogate pair)
/// placed where a naive 67-character cut would split it.
fn ucs2_text() -> String {
    let mut t = "Ж".repeat(66);
    t.push('😀');
    t.push_str(&"я".repeat(80));
    t
}

struct Run {
    report: Value,
    parts: Vec<Value>,
    receipts_sent: u64,
}

/// emgd between smpplib and the npm SMSC, with `connector` added to the outgoing connector;
/// smpplib sends `count` copies of `text` (data_coding `coding`) in message_payload.
fn run(connector: &str, text: &str, coding: u8, count_msgs: usize) -> Run {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &[]);
    let setup = Setup::new(
        "",
        "",
        &format!(
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
static = true
instances = 2
windowsize = 5
{connector}
"#
        ),
    );
    let _daemon = setup.start();
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--count",
            &count_msgs.to_string(),
            "--dest",
            "5551234",
            "--text",
            text,
            "--coding",
            &coding.to_string(),
            "--payload",
            "--timeout",
            "30",
            "--settle",
            "1.5",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut state = smsc.state();
    while count(&state, "receipts_acked") < count(&state, "receipts_sent")
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
        state = smsc.state();
    }
    Run {
        parts: parts(&state),
        receipts_sent: count(&state, "receipts_sent"),
        report,
    }
}

fn accepted(report: &Value) -> Vec<String> {
    report["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The concatenation element of a part: (reference, total, seq, 16-bit reference).
fn concat_ie(part: &Value) -> Option<(u32, u32, u32, bool)> {
    part["udh"].as_array()?.iter().find_map(|ie| {
        let b = hex(ie.as_str()?);
        match b.as_slice() {
            [0x00, 3, r, t, s] => Some((u32::from(*r), u32::from(*t), u32::from(*s), false)),
            [0x08, 4, r1, r2, t, s] => Some((
                u32::from(*r1) << 8 | u32::from(*r2),
                u32::from(*t),
                u32::from(*s),
                true,
            )),
            _ => None,
        }
    })
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// How the parts tie together, per `split`.
#[derive(Clone, Copy, Debug)]
enum Tie {
    Udh8,
    Udh16,
    Sar,
}

/// Group the SMSC's parts into messages and check each: one session, in order, all there,
/// joined text equal to `text`.
fn check_messages(parts: &[Value], tie: Tie, text: &str, messages: usize, per_message: u32) {
    let mut groups: std::collections::BTreeMap<u32, Vec<&Value>> = Default::default();
    for p in parts {
        let (reference, total, _, wide) = match tie {
            Tie::Sar => {
                let sar = p["sar"].as_array().expect("sar_* TLVs on every part");
                assert_eq!(p["esm_class"].as_u64(), Some(0), "no UDHI with SAR");
                (
                    sar[0].as_u64().unwrap() as u32,
                    sar[1].as_u64().unwrap() as u32,
                    0,
                    false,
                )
            }
            _ => {
                assert_eq!(p["esm_class"].as_u64().unwrap() & 0x40, 0x40, "UDHI set");
                concat_ie(p).expect("a concatenation element in every part")
            }
        };
        assert_eq!(wide, matches!(tie, Tie::Udh16), "reference width: {p}");
        assert_eq!(total, per_message, "{p}");
        groups.entry(reference).or_default().push(p);
    }
    assert_eq!(groups.len(), messages, "one reference per message");
    for (reference, group) in groups {
        let seqs: Vec<u32> = group
            .iter()
            .map(|p| match tie {
                Tie::Sar => p["sar"][2].as_u64().unwrap() as u32,
                _ => concat_ie(p).unwrap().2,
            })
            .collect();
        assert_eq!(
            seqs,
            (1..=per_message).collect::<Vec<_>>(),
            "message {reference}: parts in order"
        );
        let sessions: std::collections::HashSet<u64> = group
            .iter()
            .map(|p| p["session"].as_u64().unwrap())
            .collect();
        assert_eq!(sessions.len(), 1, "message {reference}: one session (CMR)");
        let joined: String = group.iter().map(|p| p["text"].as_str().unwrap()).collect();
        assert_eq!(joined, text, "message {reference}: whole again");
    }
}

#[test]
fn a_long_ucs2_message_arrives_whole_in_order_with_udh_and_one_combined_receipt() {
    let text = ucs2_text();
    let r = run("", &text, 8, 4);
    let ids = accepted(&r.report);
    assert_eq!(ids.len(), 4);
    assert_eq!(r.parts.len(), 12, "4 messages of 3 parts");
    for p in &r.parts {
        assert_eq!(p["data_coding"].as_u64(), Some(8));
        assert_eq!(p["payload"].as_bool(), Some(false));
    }
    check_messages(&r.parts, Tie::Udh8, &text, 4, 3);
    assert_eq!(r.receipts_sent, 12, "the SMSC reported each part");
    for id in &ids {
        assert_eq!(
            r.report["receipt_counts"][id].as_u64(),
            Some(1),
            "one combined receipt for {id}: {}",
            r.report
        );
        let receipt = r.report["receipts"][id]["text"].as_str().unwrap();
        assert!(receipt.contains("stat:DELIVRD"), "{receipt}");
    }
}

#[test]
fn sixteen_bit_references_and_sar_tlvs_as_configured() {
    let text = "long message ".repeat(30);
    let r = run("split = \"udh16\"", &text, 0, 2);
    check_messages(&r.parts, Tie::Udh16, &text, 2, 3);
    let r = run("split = \"sar\"", &text, 0, 2);
    check_messages(&r.parts, Tie::Sar, &text, 2, 3);
}

#[test]
fn payload_keeps_the_message_whole() {
    let text = "long message ".repeat(30);
    let r = run("split = \"payload\"", &text, 0, 1);
    assert_eq!(r.parts.len(), 1, "{:?}", r.parts);
    assert_eq!(r.parts[0]["payload"].as_bool(), Some(true));
    assert_eq!(r.parts[0]["text"].as_str(), Some(text.as_str()));
}

#[test]
fn each_part_receipt_is_passed_on_when_configured() {
    let text = ucs2_text();
    let r = run("dlr_parts = \"each\"", &text, 8, 2);
    let ids = accepted(&r.report);
    for id in &ids {
        assert_eq!(
            r.report["receipt_counts"][id].as_u64(),
            Some(3),
            "one receipt per part for {id}: {}",
            r.report
        );
    }
}

/// A client that splits its own long messages: python smpplib sends each as 3 submit_sm with
/// UDH. emgd routes them to a round-robin group of two outgoing connectors with two sessions
/// each; CMR keeps every message's parts on one connector and one session, in order.
#[test]
fn parts_sent_by_the_client_stay_on_one_connector_and_session() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &[]);
    let connector = |name: &str| {
        format!(
            r#"
[connector.{name}]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{port}"
username = "emg"
password = "secret"
static = true
instances = 2
windowsize = 2
"#
        )
    };
    let setup = Setup::new(
        "",
        "",
        &format!(
            r#"
[group.smscs]
members = ["smsc-a", "smsc-b"]

[[route]]
prefix = "5"
to = "smscs"
{}{}"#,
            connector("smsc-a"),
            connector("smsc-b")
        ),
    );
    let _daemon = setup.start();
    let text = "part of a long message sent by the client in pieces ".repeat(3);
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--count",
            "8",
            "--parts",
            "3",
            "--dest",
            "5551234",
            "--text",
            &text,
            "--timeout",
            "30",
        ],
    );
    assert_eq!(accepted(&report).len(), 24, "{report}");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = parts(&smsc.state());
    while got.len() < 24 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        got = parts(&smsc.state());
    }
    assert_eq!(got.len(), 24);
    check_messages(&got, Tie::Udh8, &text, 8, 3);
    let sessions: std::collections::HashSet<u64> =
        got.iter().map(|p| p["session"].as_u64().unwrap()).collect();
    assert!(
        sessions.len() > 1,
        "the load was spread over several sessions: {sessions:?}"
    );
}

//! Receipts that come back on another connector than the one the message left on: a
//! transmitter and a receiver connector facing one SMSC, grouped by `dlr_group`. The npm
//! `smpp` SMSC (tests/peers/smsc/smsc.js) sends the receipt of a submit on a transmitter bind
//! to a receiver bind of the same system_id. Python smpplib submits 1,000 messages to emgd
//! and must get 1,000 receipts back: over an SMPP 3.3 pair (receipts read from their text)
//! and over split SMPP 3.4 binds.
//!
//! Needs node, `npm ci --prefix tests/peers/smsc` and smpplib (scripts/test installs them).

mod support;

use std::time::{Duration, Instant};
use support::smsc::{count, texts, Smsc};
use support::Setup;
use tests::daemon::free_port;

const COUNT: usize = 1000;

/// emgd with a transmitter `smsc-tx` and a receiver `smsc-rx` connector to the SMSC at
/// `port`, both in DLR group `smsc`, messages for 5... routed to the transmitter.
fn setup(port: u16, version: &str) -> Setup {
    let connector = |name: &str, bindmode: &str| {
        format!(
            r#"
[connector.{name}]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{port}"
username = "emg"
password = "secret"
interface_version = "{version}"
bindmode = "{bindmode}"
dlr_group = "smsc"
static = true
windowsize = 20
"#
        )
    };
    let extra = format!(
        "\n[[route]]\nprefix = \"5\"\nto = \"smsc-tx\"\n{}{}",
        connector("smsc-tx", "transmitter"),
        connector("smsc-rx", "receiver")
    );
    Setup::new("", "", &extra)
}

fn run(version: &str, smsc_args: &[&str]) {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), smsc_args);
    let setup = setup(port, version);
    let daemon = setup.start();
    // Both binds up before the load: a receipt for a transmitter's submit needs the receiver.
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&smsc.state(), "binds") < 2 {
        assert!(
            Instant::now() < deadline,
            "both connectors bind: {}",
            smsc.state()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let report = support::smpplib(
        setup.smpp_port,
        &[
            "--count",
            &COUNT.to_string(),
            "--dest",
            "5551234",
            "--timeout",
            "120",
        ],
    );
    let accepted: Vec<String> = report["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(accepted.len(), COUNT, "every submit acknowledged");
    let receipts = report["receipts"].as_object().unwrap();
    let missing: Vec<&String> = accepted
        .iter()
        .filter(|id| !receipts.contains_key(*id))
        .collect();
    let state = smsc.state();
    println!(
        "SMPP {version}: {} accepted, {} receipts back; the SMSC sent {} receipts, {} on another bind",
        accepted.len(),
        receipts.len(),
        count(&state, "receipts_sent"),
        count(&state, "receipts_elsewhere")
    );
    assert!(
        missing.is_empty(),
        "{} of {COUNT} receipts missing, e.g. {:?}\n{}",
        missing.len(),
        &missing[..missing.len().min(3)],
        setup.log("connector.smsc-rx")
    );
    for id in &accepted {
        let text = receipts[id]["text"].as_str().unwrap();
        assert!(
            text.starts_with(&format!("id:{id} ")) && text.contains("stat:DELIVRD"),
            "{text}"
        );
    }
    assert_eq!(texts(&state).len(), COUNT, "the SMSC got every message");
    assert!(
        count(&state, "receipts_elsewhere") >= COUNT as u64,
        "the receipts came on the receiver bind: {state}"
    );
    assert_eq!(count(&state, "receipts_unsendable"), 0);
    let pdu = setup.log("pdu.smsc-tx");
    assert!(pdu.contains("(BIND_TRANSMITTER)"), "{pdu}");
    assert!(setup.log("pdu.smsc-rx").contains("(BIND_RECEIVER)"));
    drop(daemon);
    let open: i64 = setup.db().number("SELECT COUNT(*) FROM dlr_open");
    assert_eq!(open, 0, "no open DLR entry is left behind");
}

/// SMPP 3.3: receipts carry their id only in the text, as 3.3 SMSCs send them.
#[test]
fn smpp_3_3_transmitter_and_receiver_pair_gets_every_receipt() {
    run("3.3", &["--receipt", "text"]);
}

/// SMPP 3.4 split binds, receipts with receipted_message_id and message_state TLVs.
#[test]
fn smpp_3_4_split_binds_get_every_receipt() {
    run("3.4", &[]);
}

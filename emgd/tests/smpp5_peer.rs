//! SMPP 5.0 from a third-party client: the npm `smpp` package (tests/peers/smsc/smpp5_client.js)
//! binds to emgd's incoming connector. A 5.0 bind is answered as 5.0 (sc_interface_version
//! 0x50), a 3.4 one as 3.4; the cell broadcast operations, which emgd does not offer, get
//! their own response with ESME_RPROHIBITED (0x101) on a 5.0 session and ESME_RINVCMDID
//! before 5.0, where they do not exist. A 5.0 client's billing_identification reaches the npm
//! SMSC (tests/peers/smsc/smsc.js) as it was sent.
//!
//! Needs node and `npm ci --prefix tests/peers/smsc` (scripts/test does it).

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::smsc::{submits, Smsc};
use support::Setup;
use tests::daemon::free_port;

fn client(port: u16, version: u8) -> Value {
    client_with(port, version, &[])
}

/// The npm client bound with `version`, with `more` arguments (`--submit N`).
fn client_with(port: u16, version: u8, more: &[&str]) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/smsc");
    assert!(
        dir.join("node_modules/smpp/package.json").exists(),
        "the npm smpp package is missing: run `npm ci --prefix tests/peers/smsc` (scripts/test does)"
    );
    let out = Command::new("node")
        .arg(dir.join("smpp5_client.js"))
        .args([
            "--port",
            &port.to_string(),
            "--version",
            &version.to_string(),
        ])
        .args(more)
        .output()
        .expect("node runs (install nodejs and npm; scripts/test does)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the SMPP 5.0 client failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("no JSON ({e}): {text}"))
}

#[test]
fn a_5_0_bind_is_answered_as_5_0_and_cell_broadcast_is_refused_as_prohibited() {
    let setup = Setup::new("", "", "");
    let _daemon = setup.start();
    let r = client(setup.smpp_port, 0x50);
    assert_eq!(r["bind_status"], 0, "{r}");
    assert_eq!(r["sc_interface_version"], 0x50, "{r}");
    for (op, resp) in [
        ("broadcast_sm", "broadcast_sm_resp"),
        ("query_broadcast_sm", "query_broadcast_sm_resp"),
        ("cancel_broadcast_sm", "cancel_broadcast_sm_resp"),
    ] {
        assert_eq!(r[op]["command"], resp, "{r}");
        assert_eq!(r[op]["status"], 0x101, "ESME_RPROHIBITED: {r}");
    }

    let r = client(setup.smpp_port, 0x34);
    assert_eq!(
        r["sc_interface_version"], 0x34,
        "a 3.4 bind is answered as 3.4: {r}"
    );
    assert_eq!(
        r["broadcast_sm"]["status"], 0x03,
        "ESME_RINVCMDID before 5.0: {r}"
    );
}

/// SMPP 5.0's billing_identification is carried to the next SMPP hop as the client sent it
/// (format and data), beside the message.
#[test]
fn billing_identification_from_a_5_0_client_reaches_the_smsc() {
    const COUNT: usize = 20;
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &[]);
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
"#
    );
    let setup = Setup::new("", "", &extra);
    let _daemon = setup.start();
    let r = client_with(
        setup.smpp_port,
        0x50,
        &["--submit", &COUNT.to_string(), "--dest", "5551234"],
    );
    let answers = r["submits"].as_array().expect("submit answers");
    assert_eq!(answers.len(), COUNT, "{r}");
    assert!(
        answers.iter().all(|a| a["status"] == 0),
        "all accepted: {r}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while submits(&smsc.state()).len() < COUNT {
        assert!(Instant::now() < deadline, "the SMSC got every message");
        std::thread::sleep(Duration::from_millis(100));
    }
    for s in submits(&smsc.state()) {
        let i: usize = s["text"]
            .as_str()
            .and_then(|t| t.strip_prefix("message "))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a text the client sent: {s}"));
        assert_eq!(s["billing_identification"]["format"], 1, "{s}");
        assert_eq!(
            s["billing_identification"]["data"],
            format!("bill-{i}"),
            "{s}"
        );
    }
}

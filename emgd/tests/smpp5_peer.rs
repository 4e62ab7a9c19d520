//! SMPP 5.0 from a third-party client: the npm `smpp` package (tests/peers/smsc/smpp5_client.js)
//! binds to emgd's incoming connector. A 5.0 bind is answered as 5.0 (sc_interface_version
//! 0x50), a 3.4 one as 3.4; the cell broadcast operations, which emgd does not offer, get
//! their own response with ESME_RPROHIBITED (0x101) on a 5.0 session and ESME_RINVCMDID
//! before 5.0, where they do not exist.
//!
//! Needs node and `npm ci --prefix tests/peers/smsc` (scripts/test does it).

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::Setup;

fn client(port: u16, version: u8) -> Value {
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

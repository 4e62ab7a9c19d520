//! The npm `smpp` package (tests/peers/smsc/smsc.js) as a third-party SMSC for the outgoing
//! SMPP connector's tests. Needs node and `npm ci --prefix tests/peers/smsc` (scripts/test
//! does it); a missing piece fails loudly.

use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running node SMSC.
pub struct Smsc {
    child: Child,
    state: PathBuf,
}

fn smsc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/smsc")
}

impl Smsc {
    pub fn start(port: u16, state: PathBuf, args: &[&str]) -> Smsc {
        let dir = smsc_dir();
        assert!(
            dir.join("node_modules/smpp/package.json").exists(),
            "the npm smpp package is missing: run `npm ci --prefix tests/peers/smsc` (scripts/test does)"
        );
        let _ = std::fs::remove_file(&state);
        let child = Command::new("node")
            .arg(dir.join("smsc.js"))
            .arg("--port")
            .arg(port.to_string())
            .arg("--out")
            .arg(&state)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("node runs (install nodejs and npm; scripts/test does)");
        let s = Smsc { child, state };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !s.state.exists() {
            assert!(Instant::now() < deadline, "node SMSC did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    pub fn state(&self) -> Value {
        let text = std::fs::read_to_string(&self.state).unwrap_or_default();
        let mut v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        v["out"] = Value::String(self.state.display().to_string());
        v
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Smsc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Texts the SMSC acknowledged, from `<state>.texts` (written before each submit_sm_resp).
pub fn texts(state: &Value) -> HashSet<String> {
    lines(state, "texts")
}

/// Texts whose receipt emgd acknowledged, from `<state>.acked`.
pub fn acked(state: &Value) -> HashSet<String> {
    lines(state, "acked")
}

pub fn lines(state: &Value, ext: &str) -> HashSet<String> {
    let path = format!("{}.{ext}", state["out"].as_str().unwrap_or_default());
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<String>(l).ok())
        .collect()
}

pub fn count(state: &Value, key: &str) -> u64 {
    state[key].as_u64().unwrap_or(0)
}

/// Every submit_sm the SMSC accepted, in arrival order, from `<state>.parts`.
pub fn parts(state: &Value) -> Vec<Value> {
    records(state, "parts")
}

/// Every accepted submit_sm's addresses, text, TLVs and arrival time (`at_us`), in arrival
/// order, from `<state>.submits`.
pub fn submits(state: &Value) -> Vec<Value> {
    records(state, "submits")
}

/// The JSON records of `<state>.<ext>`, one a line (`mo`: each `--mo-reply` MO's text and
/// the status emgd answered it with; `smeack` the same for `--sme-ack`).
pub fn records(state: &Value, ext: &str) -> Vec<Value> {
    let path = format!("{}.{ext}", state["out"].as_str().unwrap_or_default());
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

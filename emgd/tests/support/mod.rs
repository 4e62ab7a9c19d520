//! Shared by emgd's end-to-end tests: a temporary gateway with an incoming SMPP connector and
//! a simulated SMSC, started as the real binary.

#![allow(dead_code)]

pub mod client;
pub mod kannel_in;
pub mod mgp;
pub mod modem;
pub mod peers;
pub mod smsc;
pub mod ucp_sim;
pub mod wire;

use std::path::{Path, PathBuf};
use std::process::Command;
use tests::daemon::{free_port, Daemon};

pub const EMGD: &str = env!("CARGO_BIN_EXE_emgd");

/// A temporary directory with a config for one test.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub smpp_port: u16,
    pub config: PathBuf,
}

impl Setup {
    /// `general` is added at the top, `extra` (connectors, users, routes) at the end of a base
    /// configuration: incoming SMPP `smpp-in` (users `demo`/`demo`, `other`/`pw`), sim `sim1`
    /// routed for every destination starting with 4.
    pub fn new(general: &str, sim: &str, extra: &str) -> Setup {
        let dir = tempfile::tempdir().expect("temp dir");
        let smpp_port = free_port();
        // MGP off unless the test asks for it: parallel tests must not share its port.
        let mgp = if general.contains("mgp_address") {
            ""
        } else {
            "mgp_address = \"\""
        };
        let text = format!(
            r#"datadir = "data"
logdir = "log"
{mgp}
{general}

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{smpp_port}"
instances = 4

[connector.sim1]
type = "outgoing"
protocol = "sim"
{sim}

[user.demo]
password = "demo"

[user.other]
password = "pw"

[[route]]
prefix = "4"
to = "sim1"
{extra}
"#
        );
        let config = dir.path().join("emg.toml");
        std::fs::write(&config, text).expect("write config");
        Setup {
            dir,
            smpp_port,
            config,
        }
    }

    pub fn start(&self) -> Daemon {
        Daemon::start(Path::new(EMGD), &self.config, self.smpp_port).expect("emgd starts")
    }

    pub fn store(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("data/emg.sqlite")).expect("open store")
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join("log").join(name)).unwrap_or_default()
    }
}

/// Run the python smpplib client (a third-party SMPP implementation) and parse its report.
/// Fails loudly when python or smpplib is missing: CI installs them, nothing is skipped.
pub fn smpplib(port: u16, args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/smpplib_client.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg("--port")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect(
            "python3 runs (install the test peers: pip install -r tests/peers/requirements.txt)",
        );
    assert!(
        out.status.success(),
        "smpplib client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "smpplib client printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

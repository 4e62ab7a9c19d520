//! The real `emgclient` binary as the operator's view of a running emgd: the state tests read
//! what it prints (`--json`), not MGP directly. Cargo builds it for the workspace's tests
//! (`scripts/test`); alone, `cargo build -p emgclient` first. A missing binary fails loudly.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// emgclient beside the emgd under test (same target directory and profile).
fn binary() -> PathBuf {
    let path = std::path::Path::new(super::EMGD).with_file_name("emgclient");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p emgclient` (cargo test --workspace does)",
        path.display()
    );
    path
}

/// emgclient logged in as operator `admin` (password `secret`) on MGP port `mgp`.
pub struct Operator {
    pub mgp: u16,
}

impl Operator {
    /// Run `emgclient --json ARGS`, succeed or not: its exit code, stdout and stderr.
    pub fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let out = self.command(args).output().expect("emgclient runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Run `emgclient ARGS` (its tables, not JSON); it must succeed; what it printed.
    pub fn text(&self, args: &[&str]) -> String {
        let out = Command::new(binary())
            .args([
                "--host",
                &format!("127.0.0.1:{}", self.mgp),
                "--user",
                "admin",
            ])
            .args(args)
            .env("EMG_PASSWORD", "secret")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .stdin(Stdio::null())
            .output()
            .expect("emgclient runs");
        assert!(
            out.status.success(),
            "emgclient {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(binary());
        c.args([
            "--host",
            &format!("127.0.0.1:{}", self.mgp),
            "--user",
            "admin",
            "--json",
        ])
        .args(args)
        .env("EMG_PASSWORD", "secret")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdin(Stdio::null());
        c
    }

    /// Run `emgclient --json ARGS`; it must succeed; what it printed.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = Command::new(binary())
            .args([
                "--host",
                &format!("127.0.0.1:{}", self.mgp),
                "--user",
                "admin",
                "--json",
            ])
            .args(args)
            .env("EMG_PASSWORD", "secret")
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .stdin(Stdio::null())
            .output()
            .expect("emgclient runs");
        assert!(
            out.status.success(),
            "emgclient {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "emgclient {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// `emgclient connectors --json`: the entry of connector `name` (`Null` when absent).
    pub fn connector(&self, name: &str) -> Value {
        let all = self.json(&["connectors"]);
        let list = all
            .as_array()
            .or_else(|| all["connectors"].as_array())
            .cloned()
            .unwrap_or_default();
        list.into_iter()
            .find(|c| c["name"] == name)
            .unwrap_or(Value::Null)
    }

    /// The states `emgclient connectors --json` shows for `name`.
    pub fn states(&self, name: &str) -> Vec<String> {
        self.connector(name)["states"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `emgclient reload`.
    pub fn reload(&self) -> Value {
        self.json(&["reload"])
    }
}

//! `emgd watchdog` end to end, with the real binaries: it starts emgd, restarts it after a
//! SIGKILL, stops, starts and restarts it for `emgclient server ...`, serves `emgclient logs`
//! while emgd is down, alerts (its log and a webhook, received by the python HTTP sink) on
//! start, stop, crash and disk pressure, and refuses to run under systemd.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tests::daemon::free_port;

const EMGCLIENT: &str = env!("CARGO_BIN_EXE_emgclient");

/// emgd is another package's binary: build it for this profile (a no-op when it is fresh),
/// beside emgclient.
fn emgd() -> PathBuf {
    let dir = Path::new(EMGCLIENT).parent().unwrap().to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "-p",
            "emgd",
            "--bin",
            "emgd",
            "--manifest-path",
        ])
        .arg(&manifest);
    if dir.ends_with("release") {
        build.arg("--release");
    }
    assert!(
        build.status().expect("cargo runs").success(),
        "cannot build emgd"
    );
    dir.join("emgd")
}

fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A whole request and its answer (a bare connect would make the sink log an error).
fn http_get(port: u16, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.")
}

fn listening(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
    mgp: u16,
    wd: u16,
}

impl Setup {
    fn new(extra: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (mgp, wd) = (free_port(), free_port());
        let config = dir.path().join("emg.toml");
        std::fs::write(
            &config,
            format!(
                r#"datadir = "data"
logdir = "log"
mgp_address = "127.0.0.1:{mgp}"
watchdog_address = "127.0.0.1:{wd}"
watchdog_stop_timeout = 30
{extra}

[connector.sim1]
type = "outgoing"
protocol = "sim"

[operator.admin]
password = "secret"
role = "admin"

[operator.viewer]
password = "look"
"#
            ),
        )
        .unwrap();
        Setup {
            dir,
            config,
            mgp,
            wd,
        }
    }

    fn client(&self, user: &str, password: &str, port: u16, args: &[&str]) -> Output {
        Command::new(EMGCLIENT)
            .args(["--host", &format!("127.0.0.1:{port}"), "--user", user])
            .args(args)
            .env_clear()
            .env("EMG_PASSWORD", password)
            .env("HOME", self.dir.path())
            .env("EMGDIR", self.dir.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn status(&self) -> serde_json::Value {
        let out = self.client("admin", "secret", self.wd, &["--json", "server", "status"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

#[test]
fn the_watchdog_runs_restarts_and_answers_for_emgd() {
    let emgd = emgd();
    let sink_port = free_port();
    let setup = Setup::new(&format!(
        "watchdog_check_interval = 1\nwatchdog_disk_limit = 0.001\n\
         watchdog_webhook = \"http://127.0.0.1:{sink_port}/alerts\""
    ));
    let calls = setup.dir.path().join("alerts.jsonl");
    let sink = Kill(
        Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/http_sink.py"))
            .args(["--port", &sink_port.to_string(), "--out"])
            .arg(&calls)
            .spawn()
            .expect("python3 runs the HTTP sink"),
    );
    eventually("the HTTP sink answers", || http_get(sink_port, "/ready"));
    let mut watchdog = Kill(
        Command::new(&emgd)
            .args(["watchdog", "--config"])
            .arg(&setup.config)
            .env_remove("INVOCATION_ID")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    eventually("emgd started by the watchdog", || listening(setup.mgp));
    eventually("the watchdog's API", || listening(setup.wd));
    let s = setup.status();
    assert_eq!(s["state"], "running", "{s}");
    assert_eq!(s["restarts"], 0);
    let first = s["pid"].as_u64().unwrap();
    assert!(s["disks"][0]["used_percent"].as_f64().unwrap() > 0.0, "{s}");

    // A SIGKILL: started again, and said so.
    assert!(Command::new("kill")
        .args(["-9", &first.to_string()])
        .status()
        .unwrap()
        .success());
    eventually("emgd restarted after SIGKILL", || {
        let s = setup.status();
        s["state"] == "running" && s["restarts"] == 1 && s["pid"].as_u64() != Some(first)
    });
    assert_eq!(setup.status()["last_exit"], "killed by signal 9");

    // Human output.
    let out = setup.client("viewer", "look", setup.wd, &["server", "status"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.starts_with("state         running\npid           "),
        "{text}"
    );
    assert!(
        text.contains("restarts      1\nlast exit     killed by signal 9\n"),
        "{text}"
    );

    // Roles and what the watchdog does not serve.
    let out = setup.client("viewer", "look", setup.wd, &["server", "stop"]);
    assert_eq!(out.status.code(), Some(10));
    let out = setup.client("admin", "secret", setup.wd, &["status"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "emgclient: status is an operation of emgd, not of the watchdog: connect to emgd's \
         mgp_address or socket\n"
    );

    // Stop: emgd is gone, its logs are still there through the watchdog.
    let out = setup.client("admin", "secret", setup.wd, &["--json", "server", "stop"]);
    let stopped: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stopped["state"], "stopped", "{stopped}");
    assert!(!listening(setup.mgp));
    let out = setup.client("admin", "secret", setup.wd, &["server", "stop"]);
    assert_eq!(out.status.code(), Some(4), "refused: not running");
    let out = setup.client(
        "viewer",
        "look",
        setup.wd,
        &["logs", "general", "--since", "1h"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(log.contains("SIGTERM: shutting down"), "{log}");
    assert_eq!(
        log.matches(" started with 1 connectors").count(),
        2,
        "{log}"
    );
    let out = setup.client("viewer", "look", setup.wd, &["logs", "general", "-n", "1"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "emgclient: only the last 1 lines are shown (-n)\n"
    );

    // Start and restart.
    let out = setup.client("admin", "secret", setup.wd, &["--json", "server", "start"]);
    let started: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(started["state"], "running", "{started}");
    assert!(listening(setup.mgp), "start answers once emgd listens");
    let out = setup.client("admin", "secret", setup.wd, &["server", "start"]);
    assert_eq!(out.status.code(), Some(4), "refused: running already");
    let before = setup.status()["pid"].clone();
    let out = setup.client(
        "admin",
        "secret",
        setup.wd,
        &["--json", "server", "restart"],
    );
    let restarted: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(restarted["state"], "running");
    assert_ne!(restarted["pid"], before);

    // emgd's general log level, at run time, through emgd's own listener.
    let level = |args: &[&str]| {
        let out = setup.client("admin", "secret", setup.mgp, args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(level(&["loglevel"]), "general log level info\n");
    assert_eq!(
        level(&["loglevel", "debug"]),
        "general log level debug (was info)\n"
    );
    assert_eq!(level(&["loglevel"]), "general log level debug\n");
    let out = setup.client("viewer", "look", setup.mgp, &["loglevel", "trace"]);
    assert_eq!(out.status.code(), Some(10), "setting it is for admins");
    let out = setup.client(
        "viewer",
        "look",
        setup.mgp,
        &["logs", "general", "--emgd", "--since", "10m"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("general log level debug (was info)"));

    // The alerts: in the watchdog's log and at the webhook.
    let events = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&calls)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|call| call["path"] == "/alerts")
            .map(|call| serde_json::from_str(call["body"].as_str().unwrap()).unwrap())
            .collect()
    };
    eventually("every kind of alert at the webhook", || {
        let e = events();
        ["started", "crashed", "stopped", "disk"]
            .iter()
            .all(|k| e.iter().any(|v| v["event"] == *k))
    });
    let crash = events()
        .into_iter()
        .find(|v| v["event"] == "crashed")
        .unwrap();
    assert_eq!(crash["pid"], first);
    assert_eq!(
        crash["message"],
        format!("emgd (pid {first}) died: killed by signal 9; starting it again in 1 s")
    );
    let log = std::fs::read_to_string(setup.dir.path().join("log/watchdog")).unwrap();
    assert!(
        log.lines().any(|l| l.ends_with(&format!(
            " WARN  emgd (pid {first}) died: killed by signal 9; starting it again in 1 s event=crashed"
        ))),
        "{log}"
    );
    assert!(log.contains("above watchdog_disk_limit 0%"), "{log}");

    // SIGTERM to the watchdog stops emgd first.
    assert!(Command::new("kill")
        .args(["-TERM", &watchdog.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = watchdog.0.wait().unwrap();
    assert!(status.success());
    assert!(!listening(setup.mgp), "emgd stopped with its watchdog");
    drop(sink);
}

#[test]
fn under_systemd_the_watchdog_defers() {
    let setup = Setup::new("");
    let out = Command::new(emgd())
        .args(["watchdog", "--config"])
        .arg(&setup.config)
        .env("INVOCATION_ID", "0123456789abcdef")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("emgd watchdog: this host runs emgd under systemd, which is its watchdog"),
        "{err}"
    );
    assert!(!listening(setup.wd) && !listening(setup.mgp));
}

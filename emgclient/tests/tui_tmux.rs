//! End to end: the real `emgclient` dashboard inside tmux, against an emgd running in this
//! process (as in `cli.rs`) with traffic flowing. Keys go in with `send-keys`, the screen
//! comes back with `capture-pane`: a bare pseudo-terminal cannot answer crossterm's
//! questions, tmux can.
//!
//! tmux must be installed (`scripts/test` installs it); without it this test fails.
//! `BLESS=1` also saves the loaded dashboard to `tests/dashboard-screen.txt`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::InProcess;
use tests::daemon::free_port;
use tests::smpp_client::Client;

const EMGCLIENT: &str = env!("CARGO_BIN_EXE_emgclient");

struct Gateway {
    dir: tempfile::TempDir,
    config: PathBuf,
    mgp: u16,
    smpp: u16,
    running: Option<InProcess>,
}

impl Gateway {
    /// smpp-in (user demo/demo) and four simulated SMSCs: sim1 fast, sim2 throttled (its
    /// queue grows), sim3 refusing a share of submits, sim4 idle.
    fn new() -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mgp, smpp) = (free_port(), free_port());
        let text = format!(
            r#"datadir = "data"
logdir = "log"
mgp_address = "127.0.0.1:{mgp}"

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{smpp}"
instances = 2

[connector.sim1]
type = "outgoing"
protocol = "sim"
dlr_delay_ms = 50

[connector.sim2]
type = "outgoing"
protocol = "sim"
throughput = 20

[connector.sim3]
type = "outgoing"
protocol = "sim"
fail_share = 0.2
latency_ms = 2

[connector.sim4]
type = "outgoing"
protocol = "sim"

[user.demo]
password = "demo"

[operator.admin]
password = "secret"
role = "admin"

[[route]]
prefix = "46"
to = "sim1"

[[route]]
prefix = "47"
to = "sim2"

[[route]]
prefix = "48"
to = "sim3"
"#
        );
        let config = dir.path().join("emg.toml");
        std::fs::write(&config, text).expect("write config");
        let mut g = Gateway {
            dir,
            config,
            mgp,
            smpp,
            running: None,
        };
        g.start();
        g
    }

    fn start(&mut self) {
        self.running = Some(InProcess::start(&self.config, self.mgp));
    }

    fn stop(&mut self) {
        self.running.take().expect("running").stop();
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.mgp)
    }

    fn emgclient(&self, args: &[&str]) -> Output {
        Command::new(EMGCLIENT)
            .args(["--host", &self.host(), "--user", "admin"])
            .args(args)
            .env("EMG_PASSWORD", "secret")
            .env("XDG_CONFIG_HOME", self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("emgclient runs")
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.emgclient(&all);
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).expect("JSON")
    }

    /// The console command for tmux, ending with a marker and its exit status.
    fn console(&self) -> String {
        format!(
            "env EMG_PASSWORD=secret XDG_CONFIG_HOME={} LANG=C.UTF-8 {EMGCLIENT} --host {} --user admin; echo EMGCLIENT-EXITED $?; sleep 60",
            self.dir.path().display(),
            self.host()
        )
    }

    fn connectors_json(&self) -> serde_json::Value {
        let out = self.emgclient(&["--json", "connectors"]);
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).expect("JSON")
    }

    /// Submit over SMPP in a loop (to all three routes) until `stop`, or 2 minutes.
    fn load(&self, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
        let port = self.smpp;
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(120);
            rt.block_on(async {
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let Ok(Ok(mut c)) = Client::bind(port, "demo", "demo").await else {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    };
                    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                        let mut ok = true;
                        for dest in ["4670000001", "4770000001", "4870000001"] {
                            let n = if dest.starts_with("47") { 8 } else { 40 };
                            ok &= c.submit(n, 10, dest, false, |_| true).await.is_ok();
                        }
                        if !ok {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            })
        })
    }
}

/// A tmux server of our own (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-u", "-f", "/dev/null", "-L", &self.socket])
            .args(args)
            .env("LANG", "C.UTF-8")
            .output()
            .unwrap_or_else(|e| panic!("tmux cannot run ({e}): install it (scripts/test does)"))
    }

    /// Start `command` in a detached `w`x`h` window.
    fn start(command: &str, w: u16, h: u16) -> Tmux {
        // One server per test: tests of this file run at once in one process.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let t = Tmux {
            socket: format!("emg-tui-test-{}-{n}", std::process::id()),
        };
        let out = t.tmux(&[
            "new-session",
            "-d",
            "-s",
            "emg",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
            command,
        ]);
        assert!(out.status.success(), "tmux new-session: {out:?}");
        t
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let out = self.tmux(&["send-keys", "-t", "emg", k]);
            assert!(out.status.success(), "send-keys {k}: {out:?}");
            // An Esc followed at once by a key reads as Alt+key: give it a moment alone.
            if *k == "Escape" {
                std::thread::sleep(Duration::from_millis(150));
            }
        }
    }

    fn screen(&self) -> String {
        let out = self.tmux(&["capture-pane", "-p", "-t", "emg"]);
        assert!(out.status.success(), "capture-pane: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait (at most 20 s) until the screen satisfies `cond`; the screen then.
    fn wait(&self, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if cond(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait(text, |s| s.contains(text))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// The table row of `name` on `screen`.
fn row<'a>(screen: &'a str, name: &str) -> &'a str {
    screen
        .lines()
        .find(|l| {
            l.strip_prefix('│')
                .map(|r| r.trim_start_matches(['▶', ' ']))
                .is_some_and(|r| r.starts_with(&format!("{name} ")))
        })
        .unwrap_or_else(|| panic!("no row for {name} on:\n{screen}"))
}

#[test]
fn dashboard_in_tmux_holds_a_connector_shows_help_survives_a_restart_and_quits() {
    Command::new("tmux")
        .arg("-V")
        .output()
        .expect("tmux is not installed: the TUI test needs it (scripts/test installs it)");
    let mut g = Gateway::new();
    let stop = Arc::new(AtomicBool::new(false));
    let load = g.load(stop.clone());

    let command = format!(
        "env EMG_PASSWORD=secret XDG_CONFIG_HOME={} LANG=C.UTF-8 {EMGCLIENT} --host {} --user admin; echo EMGCLIENT-EXITED $?; sleep 60",
        g.dir.path().display(),
        g.host()
    );
    let t = Tmux::start(&command, 120, 40);
    t.wait("the connector table under load", |s| {
        s.contains("● connected") && s.contains("sim4") && !s.contains("in 0.0/s out 0.0/s")
    });

    // Select sim2 by filtering the table: its detail pane opens.
    t.keys(&["/", "sim2", "Enter"]);
    t.wait_for("┌ sim2 ");
    t.wait("sim2's configuration summary", |s| {
        s.contains("outgoing sim")
    });
    // Clear the filter: every connector again, the cursor still on sim2.
    t.keys(&["/", "Escape"]);
    let s = t.wait("all rows", |s| s.contains("connectors 5/5"));
    assert!(row(&s, "sim2").starts_with("│▶"), "{s}");

    // Hold it: a confirmation first, then the mark in the table and in emgd.
    t.keys(&["h"]);
    t.wait_for("hold sim2?");
    t.keys(&["y"]);
    let s = t.wait("the HOLD mark", |s| row(s, "sim2").contains("HOLD"));
    assert!(s.contains("sim2: done; hold on, force-close off"), "{s}");
    assert!(!row(&s, "sim1").contains("HOLD"), "{s}");
    let list = g.connectors_json();
    let sim2 = list["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sim2")
        .unwrap();
    assert_eq!(sim2["hold"], true, "{list}");
    let out = g.emgclient(&["connectors"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("sim2 ")).unwrap();
    assert!(line.contains(" hold "), "{text}");

    // The connector log pane shows the operator's action.
    t.wait_for("HOLD (by operator admin)");

    // Help lists every key; any key closes it.
    t.keys(&["?"]);
    let s = t.wait_for("q Ctrl-C");
    for k in [
        "force-close",
        "move its queue",
        "send a test message",
        "PDU log",
    ] {
        assert!(s.contains(k), "{k} not in the help:\n{s}");
    }
    t.keys(&["Escape"]);
    t.wait("help closed", |s| !s.contains("q Ctrl-C"));

    // A few seconds of load for the sparklines, then the screen for the closing note.
    let bless = std::env::var_os("BLESS").is_some();
    std::thread::sleep(Duration::from_secs(if bless { 30 } else { 4 }));
    let loaded = t.screen();
    if bless {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dashboard-screen.txt");
        std::fs::write(path, &loaded).unwrap();
    }

    // emgd restarts: the dashboard says so, reconnects and carries on.
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    g.stop();
    t.wait_for("disconnected");
    g.start();
    let s = t.wait_for("restarted ×1");
    assert!(s.contains("emgd restarted"), "{s}");
    t.wait("connected again", |s| {
        s.contains("● connected") && s.contains("sim4")
    });

    // Quit: the terminal is given back (the shell's echo shows on the normal screen).
    t.keys(&["q"]);
    let s = t.wait_for("EMGCLIENT-EXITED");
    assert!(s.contains("EMGCLIENT-EXITED 0"), "{s}");
    assert!(!s.contains("connectors"), "alternate screen left:\n{s}");
}

/// The messages table's row of message `id` on `screen`.
fn message_row(screen: &str, id: u64) -> Option<&str> {
    screen.lines().find(|l| {
        l.strip_prefix('│')
            .map(|r| r.trim_start_matches(['▶', ' ', '●']))
            .is_some_and(|r| r.starts_with(&format!("{id} ")))
    })
}

/// The messages side of the console, end to end: find a message by its destination, open it,
/// move it to another connector; find another and cancel it; see both over the CLI. Then
/// bounce and force-close (persisted) a connector from the console, and restart emgd while
/// the messages view is open.
#[test]
fn console_in_tmux_finds_moves_and_cancels_messages_and_survives_a_restart() {
    Command::new("tmux")
        .arg("-V")
        .output()
        .expect("tmux is not installed: the TUI test needs it (scripts/test installs it)");
    let mut g = Gateway::new();
    let stop = Arc::new(AtomicBool::new(false));
    let load = g.load(stop.clone());
    // sim4 (no route) is held: messages sent on it wait in its queue.
    assert!(g.emgclient(&["hold", "sim4"]).status.success());
    let send = |to: &str| -> u64 {
        let v = g.json(&[
            "send", "--to", to, "--from", "ACME", "--text", "hello", "--via", "sim4",
        ]);
        v["id"].as_u64().unwrap_or_else(|| panic!("{v}"))
    };
    let moved = send("4611111111");
    let cancelled = send("4622222222");

    let t = Tmux::start(&g.console(), 120, 40);
    t.wait("the console under load", |s| {
        s.contains("● connected") && s.contains("sim4") && !s.contains("in 0.0/s out 0.0/s")
    });

    // Find the first message by its destination and open it.
    t.keys(&[":", "m dest=4611111111", "Enter"]);
    let s = t.wait("the search result", |s| {
        s.contains("emg ▸ messages") && message_row(s, moved).is_some()
    });
    let line = message_row(&s, moved).unwrap();
    assert!(
        line.contains("4611111111") && line.contains("queued"),
        "{s}"
    );
    assert!(!s.contains("4622222222"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait("the message's history", |s| {
        s.contains(&format!("▸ message {moved}")) && s.contains("received")
    });
    assert!(s.contains("routed    to sim4"), "{s}");

    // Move it: pick sim1 (the first outgoing connector that is not sim4), confirm.
    t.keys(&["m"]);
    t.wait_for(&format!("move message {moved} to"));
    t.keys(&["Enter"]);
    t.wait_for(&format!("move message {moved} to sim1?"));
    t.keys(&["y"]);
    t.wait_for(&format!("message {moved} moved to sim1"));
    let shown = g.json(&["msg", "show", &moved.to_string()]);
    assert_eq!(shown["target"], "sim1", "{shown}");

    // Back to the list, search the other one, cancel it from the list.
    t.keys(&["Escape", ":", "m dest=4622222222", "Enter"]);
    t.wait("the second search", |s| message_row(s, cancelled).is_some());
    t.keys(&["c"]);
    t.wait_for(&format!("cancel message {cancelled}?"));
    t.keys(&["y"]);
    t.wait_for(&format!("message {cancelled} cancelled (was on sim4)"));
    let shown = g.json(&["msg", "show", &cancelled.to_string()]);
    assert_eq!(shown["state"], "cancelled", "{shown}");
    // The CLI finds them the same way.
    let out = g.emgclient(&["msg", "search", "--dest", "4622222222"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{cancelled} ")))
        .unwrap_or_else(|| panic!("{out:?}"));
    assert!(
        line.contains(" cancelled ") && line.contains("CANCELLED"),
        "{text}"
    );
    let out = g.emgclient(&["msg", "history", &moved.to_string()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("routed") && text.contains("to sim1"),
        "{text}"
    );
    t.wait("the list fetched again", |s| {
        message_row(s, cancelled).is_some_and(|l| l.contains("cancelled"))
    });

    // Bounce sim3 and force-close it for good from the connectors view.
    t.keys(&[":", "connectors", "Enter", "/", "sim3", "Enter", "b"]);
    t.wait_for("bounce sim3?");
    t.keys(&["y"]);
    t.wait_for("sim3: bounced");
    t.keys(&["f"]);
    t.wait_for("force-close sim3?");
    t.keys(&["p"]);
    t.wait("the FC mark", |s| row(s, "sim3").contains("FC"));
    let list = g.connectors_json();
    let sim3 = list["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sim3")
        .unwrap();
    assert_eq!(sim3["forceclose"], true, "{list}");

    // Restart emgd with a messages view open: it reconnects and the view stays.
    t.keys(&["/", "Escape", ":", "queue sim2", "Enter"]);
    t.wait_for("emg ▸ queues ▸ messages");
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    g.stop();
    t.wait_for("disconnected");
    g.start();
    let s = t.wait_for("restarted ×1");
    assert!(s.contains("emg ▸ queues ▸ messages"), "{s}");
    t.wait("connected again", |s| s.contains("● connected"));
    // The force-close was persisted: still on after the restart.
    let list = g.connectors_json();
    let sim3 = list["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sim3")
        .unwrap();
    assert_eq!(sim3["forceclose"], true, "{list}");

    t.keys(&[":", "q", "Enter"]);
    let s = t.wait_for("EMGCLIENT-EXITED");
    assert!(s.contains("EMGCLIENT-EXITED 0"), "{s}");
}

//! What operators coming from EMG type, end to end against an emgd running in this process:
//! EMG's `-host -port -username -password` and `EMGDIR/client.cfg`, exit codes an EMG script
//! reads right, `--json` failures as objects on stdout, `watch | head -1` ending quietly, and
//! the local socket letting a local user in by peer credentials.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::InProcess;
use tests::daemon::free_port;

const EMGCLIENT: &str = env!("CARGO_BIN_EXE_emgclient");

struct Gateway {
    dir: tempfile::TempDir,
    mgp: u16,
    socket: PathBuf,
    _running: InProcess,
}

impl Gateway {
    /// sim1, operators admin/secret (admin) and viewer/look (readonly), the local socket in
    /// the test's directory with `local_groups` (an inline TOML table).
    fn new(local_groups: &str) -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir");
        // Other local users (nobody) must reach the socket.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mgp = free_port();
        let socket = dir.path().join("run/mgp.sock");
        let text = format!(
            r#"datadir = "data"
logdir = "log"
mgp_address = "127.0.0.1:{mgp}"
mgp_socket = "{}"
mgp_local_groups = {local_groups}

[connector.sim1]
type = "outgoing"
protocol = "sim"

[operator.admin]
password = "secret"
role = "admin"

[operator.viewer]
password = "look"
"#,
            socket.display()
        );
        let config = dir.path().join("emg.toml");
        std::fs::write(&config, text).expect("write config");
        let running = InProcess::start(&config, mgp);
        Gateway {
            dir,
            mgp,
            socket,
            _running: running,
        }
    }

    /// emgclient with nothing from the test's environment: no settings file, `EMGDIR` this
    /// test's directory, no EMG_* variables.
    fn emgclient(&self) -> Command {
        let mut c = Command::new(EMGCLIENT);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("EMGDIR", self.dir.path())
            .stdin(Stdio::null());
        c
    }

    /// `sh -c script` with `emgclient` on the PATH and the same clean environment.
    fn sh(&self, script: &str) -> Output {
        let bin = Path::new(EMGCLIENT).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("bash")
            .args(["-c", script])
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("EMGDIR", self.dir.path())
            .env("PORT", self.mgp.to_string())
            .stdin(Stdio::null())
            .output()
            .expect("bash runs")
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn an_emg_script_reads_the_output_and_the_exit_code() {
    let g = Gateway::new("{}");
    let out = g.sh(
        "emgclient -host 127.0.0.1 -port $PORT -username admin -password secret connectors; echo \"exit $?\"",
    );
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("NAME  DIR  PROTO  STATE"), "{stdout}");
    assert!(lines[1].starts_with("sim1  out  sim"), "{stdout}");
    assert_eq!(
        lines.last(),
        Some(&"exit 0"),
        "{stdout}{}",
        text(&out.stderr)
    );

    let codes = g.sh(
        "e() { emgclient -host 127.0.0.1 -port $PORT \"$@\" >/dev/null 2>&1; echo $?; }
         e -username admin -password wrong connectors
         e -username admin -password secret hold smsc9
         e -username viewer -password look hold sim1
         e -username admin -password secret hold
         e -username admin -password secret -help",
    );
    assert_eq!(
        text(&codes.stdout),
        "3\n5\n10\n5\n0\n",
        "invalid login, invalid argument (no such connector), access denied, invalid \
         argument (usage), help"
    );
    // -host alone once printed the help and exited 0: now it is the host.
    let out = g.sh("emgclient -host 127.0.0.1 -port $PORT -username admin -password secret status; echo \"exit $?\"");
    assert!(
        text(&out.stdout).starts_with("version "),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).ends_with("exit 0\n"));
}

#[test]
fn client_cfg_gives_host_port_and_credentials() {
    let g = Gateway::new("{}");
    std::fs::write(
        g.dir.path().join("client.cfg"),
        format!(
            "# written by an EMG installer\nHOST=127.0.0.1\nPORT={}\nUSERNAME=viewer\nPASSWORD=look\nDEBUG=1\n",
            g.mgp
        ),
    )
    .unwrap();
    let out = g.emgclient().args(["status"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("version "));
    let cfg = g.dir.path().join("client.cfg");
    assert_eq!(
        text(&out.stderr),
        format!(
            "emgclient: {}:6: keyword DEBUG is not used by emgclient; skipped\n",
            cfg.display()
        )
    );
    // The command line wins over client.cfg: viewer may not hold, admin may.
    let out = g.emgclient().args(["hold", "sim1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(10));
    let out = g
        .emgclient()
        .args(["-username", "admin", "-password", "secret", "hold", "sim1"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "sim1: hold on, forceclose off\n");
}

#[test]
fn json_failures_are_objects_on_stdout() {
    let g = Gateway::new("{}");
    let host = format!("127.0.0.1:{}", g.mgp);
    let run = |args: &[&str]| {
        g.emgclient()
            .args(["--json", "--host", &host])
            .args(args)
            .output()
            .unwrap()
    };
    let json = |o: &Output| -> serde_json::Value {
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&o.stdout)))
    };
    let out = run(&["--user", "admin", "--password", "secret", "hold", "smsc9"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        json(&out),
        serde_json::json!({"error": {"code": "not_found", "exit_code": 5,
            "message": "connector smsc9 does not exist (connectors: sim1)"}})
    );
    let out = run(&["--user", "admin", "--password", "nope", "status"]);
    assert_eq!(json(&out)["error"]["code"], "auth_failed");
    assert_eq!(json(&out)["error"]["exit_code"], 3);
    let nobody = format!("127.0.0.1:{}", free_port());
    let out = g
        .emgclient()
        .args(["--json", "--host", &nobody, "--password", "x", "status"])
        .output()
        .unwrap();
    assert_eq!(json(&out)["error"]["code"], "cannot_connect");
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["hold"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(json(&out)["error"]["code"], "usage");
    assert!(
        text(&out.stderr).contains("required arguments were not provided"),
        "clap's explanation stays on stderr: {}",
        text(&out.stderr)
    );
}

#[test]
fn a_closed_pipe_ends_watch_and_tail_quietly() {
    let g = Gateway::new("{}");
    for cmd in ["watch", "connectors", "tail sim1"] {
        // tail: the hold and release below write connector log lines.
        let out = g.sh(&format!(
            "set -o pipefail
             (sleep 0.5; emgclient --host 127.0.0.1:$PORT --user admin --password secret hold sim1 >/dev/null
              emgclient --host 127.0.0.1:$PORT --user admin --password secret release sim1 >/dev/null) &
             emgclient --host 127.0.0.1:$PORT --user admin --password secret {cmd} | head -1
             echo \"exit $?\"
             wait"
        ));
        let stdout = text(&out.stdout);
        assert!(
            stdout.ends_with("exit 0\n"),
            "{cmd}: {stdout}{}",
            text(&out.stderr)
        );
        assert_eq!(
            stdout.lines().count(),
            2,
            "{cmd}: one line, then the status: {stdout}"
        );
        assert_eq!(text(&out.stderr), "", "{cmd}: no panic, nothing said");
    }
}

#[test]
fn the_local_socket_lets_a_local_user_in_by_peer_credentials() {
    let g = Gateway::new(r#"{ nogroup = "readonly" }"#);
    // This test's own user runs emgd: admin, without a password.
    let sock = g.socket.to_str().unwrap().to_string();
    let out = g
        .emgclient()
        .args(["--socket", &sock, "hold", "sim1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "sim1: hold on, forceclose off\n");

    // Another local user: nobody, in group nogroup, which the configuration makes readonly.
    assert!(
        nix_is_root(),
        "this test switches to user nobody with setpriv: run it as root (CI does)"
    );
    let as_nobody = |args: &[&str]| {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            EMGCLIENT,
        ])
        .args(["--socket", &sock])
        .args(args)
        .env_clear()
        .env("HOME", "/nonexistent")
        .env("EMGDIR", g.dir.path())
        .stdin(Stdio::null());
        c.output().expect("setpriv runs")
    };
    let out = as_nobody(&["--json", "connectors"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["connectors"][0]["hold"], true);
    let out = as_nobody(&["release", "sim1"]);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "emgclient: operator nobody (role readonly) may not release: it needs role operator\n"
    );
    drop(g);

    // Not in any allowed group: refused as an invalid login.
    let g = Gateway::new(r#"{ emgops = "operator" }"#);
    let sock = g.socket.to_str().unwrap().to_string();
    let out = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            EMGCLIENT,
        ])
        .args(["--socket", &sock, "status"])
        .env_clear()
        .env("EMGDIR", g.dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stderr),
        "emgclient: local user nobody (uid 65534) may not log in: it is in none of \
         mgp_local_groups (emgops)\n"
    );
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| text(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

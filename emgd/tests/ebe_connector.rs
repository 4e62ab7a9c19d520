//! The EBE connector (`protocol = "ebe"`): each message handed to a program, a shell script
//! and a python script (emgd/tests/ebe/), sent by the python smpplib client through the real
//! emgd: success, a temporary failure then success, a permanent failure, a hang killed at
//! `ebe_timeout` (its process group, children too), and garbage on stdout. Each one's fate
//! comes back to smpplib as a deliver_sm receipt (EMG's fabricated DLR: `dlr_support` is off
//! by default for EBE). Then `dlr_support = true`: the report waits until it is injected
//! later over HTTP (EMG's MSGTYPE=5 with ORIGID and MESSAGESTATE, sent with curl) and reaches
//! the smpplib client.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::peers::{curl, wait_for};
use support::Setup;
use tests::daemon::free_port;

/// Copy `script` into the test's directory (it keeps its state next to itself).
fn install(dir: &Path, script: &str) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ebe")
        .join(script);
    let to = dir.join(script);
    std::fs::copy(&from, &to).expect("copy the EBE script");
    to
}

/// A gateway whose destinations starting with 7 go to the EBE connector `ebe` running
/// `program`, with `more` keywords; a temporary failure (exit 75) and a timeout (255) are
/// retried after 1 s.
fn setup(program: &Path, more: &str, extra: &str) -> Setup {
    let s = Setup::new(
        "",
        "",
        &format!(
            r#"
[connector.ebe]
type = "outgoing"
protocol = "ebe"
address = "{}"
instances = 2
windowsize = 2
ebe_timeout = 2
retryscheme = "retry.txt"
{more}

[[route]]
prefix = "7"
to = "ebe"
{extra}
"#,
            program.display()
        ),
    );
    std::fs::write(
        s.dir.path().join("retry.txt"),
        "M0 75 0 0 0 1 0\nM0 255 0 0 0 1 0\n",
    )
    .unwrap();
    s
}

/// One message from smpplib to `dest`, with a receipt asked for: its id and receipt state.
fn one(port: u16, dest: &str) -> (String, Value) {
    let r = support::smpplib(port, &["--count", "1", "--dest", dest, "--timeout", "30"]);
    let id = r["accepted"][0]
        .as_str()
        .unwrap_or_else(|| panic!("not accepted: {r}"))
        .to_string();
    let state = r["receipts"][&id]["state"].clone();
    (id, state)
}

fn runs(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("runs.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

fn every_case(script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let program = install(dir.path(), script);
    let setup = setup(&program, "", "");
    let _emgd = setup.start();
    let port = setup.smpp_port;
    let log = || setup.log("connector.ebe");

    // Success: the text on stdin, the options in the environment, DELIVRD at once.
    let (id, state) = one(port, "7001");
    assert_eq!(
        state,
        2,
        "DELIVERED receipt for the sent message\n{}",
        log()
    );
    assert!(
        runs(dir.path()).contains(&format!("{id} 7001 ebe message 0")),
        "{:?}",
        runs(dir.path())
    );

    // Exit 75: tried again (the retry scheme holds it 1 s), then sent.
    let (id, state) = one(port, "7002");
    assert_eq!(state, 2, "sent on the second run\n{}", log());
    let tries = runs(dir.path())
        .iter()
        .filter(|l| l.starts_with(&format!("{id} ")))
        .count();
    assert_eq!(tries, 2, "{:?}", runs(dir.path()));
    assert!(
        log().contains("exited 75 (temporary failure) (busy, try later); tried again later"),
        "{}",
        log()
    );

    // Any other exit: refused for good, REJECTD back to the sender.
    let (_, state) = one(port, "7003");
    assert_eq!(state, 8, "REJECTED receipt\n{}", log());
    assert!(log().contains("exited 3 (no such subscriber)"), "{}", log());

    // A hang: killed with its child at ebe_timeout, then tried again and sent.
    let (_, state) = one(port, "7004");
    assert_eq!(state, 2, "sent after the hang was killed\n{}", log());
    assert!(
        log().contains("did not finish within 2 s; its process group was killed"),
        "{}",
        log()
    );
    let child =
        std::fs::read_to_string(dir.path().join("child.pid")).expect("the hang started a child");
    assert!(
        wait_for(Duration::from_secs(10), || !alive(&child)),
        "the hung program's child {child} outlived the kill"
    );

    // Garbage on stdout: the message fails, and the log says why.
    let (_, state) = one(port, "7005");
    assert_eq!(state, 8, "REJECTED receipt for garbage output\n{}", log());
    assert!(log().contains("exited 0 but wrote garbage"), "{}", log());

    // The gateway was never blocked: the sim connector kept sending meanwhile.
    let r = support::smpplib(port, &["--count", "5", "--dest", "46701"]);
    assert_eq!(r["accepted"].as_array().map(Vec::len), Some(5), "{r}");
}

#[test]
fn a_shell_program_sends_retries_refuses_is_killed_and_fails_garbage() {
    every_case("ebe.sh");
}

#[test]
fn a_python_program_sends_retries_refuses_is_killed_and_fails_garbage() {
    every_case("ebe.py");
}

#[test]
fn a_report_injected_over_http_later_reaches_the_smpplib_client() {
    let dir = tempfile::tempdir().unwrap();
    let program = install(dir.path(), "ebe.sh");
    std::fs::write(dir.path().join("remote-id"), "ext-4242\n").unwrap();
    let http = free_port();
    let setup = setup(
        &program,
        "dlr_support = true",
        &format!(
            r#"
[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"

[user.injector]
password = "inj"
"#
        ),
    );
    let _emgd = setup.start();
    support::peers::wait_port(http);

    // smpplib submits and stays bound, waiting for its receipt.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/smpplib_client.py");
    let client = Command::new("python3")
        .arg(&script)
        .args([
            "--port",
            &setup.smpp_port.to_string(),
            "--count",
            "1",
            "--dest",
            "7006",
            "--timeout",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (install the test peers)");
    assert!(
        wait_for(Duration::from_secs(20), || !runs(dir.path()).is_empty()),
        "the EBE program never ran\n{}",
        setup.log("connector.ebe")
    );
    // No report yet: the message waits for one (dlr_support). Give it a moment to show.
    std::thread::sleep(Duration::from_millis(500));

    // A wrong ORIGID is refused with a clear answer, and nothing changes.
    let (status, body) = curl(
        &format!("http://127.0.0.1:{http}/bin/send?MSGTYPE=5&ORIGID=nope&MESSAGESTATE=DELIVERED"),
        &["-u", "injector:inj"],
    );
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("no message awaits a delivery report under ORIGID nope"),
        "{body}"
    );

    // The program's id, as the next hop knows the message.
    let (status, body) = curl(
        &format!(
            "http://127.0.0.1:{http}/bin/send?MSGTYPE=5&ORIGID=ext-4242&MESSAGESTATE=DELIVERED"
        ),
        &["-u", "injector:inj"],
    );
    assert_eq!(status, 200, "{body}");
    let injected = body;

    let out = client.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = r["accepted"][0].as_str().expect("accepted").to_string();
    assert_eq!(
        r["receipts"][&id]["state"], 2,
        "the injected DELIVERED reached smpplib: {r}"
    );
    // The answer names the emg id that ORIGID (the next hop's id) matched.
    assert_eq!(injected.trim(), format!("{id}\n0\nOK"), "{injected}");
    assert!(
        setup
            .log("connector.ebe")
            .contains("DLR INJECTED (info=\"ext-4242 DELIVRD\")"),
        "{}",
        setup.log("connector.ebe")
    );
}

/// `ebe_args`: the program also gets the message's options as arguments, `%NAME%` expanded
/// (`%%` a `%`); an unknown placeholder is refused by `--check-config` at its place.
#[test]
fn ebe_args_hand_the_options_as_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("args.sh");
    std::fs::write(
        &program,
        "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done >> \"$(dirname \"$0\")/args.txt\"\necho >> \"$(dirname \"$0\")/args.txt\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let setup = setup(
        &program,
        r#"ebe_args = ["-d", "%DESTADDR%", "id=%ID% from %USER%", "100%%", "%UDH%"]"#,
        "",
    );
    let _emgd = setup.start();
    let (id, state) = one(setup.smpp_port, "7001");
    assert_eq!(state, 2, "{}", setup.log("connector.ebe"));
    let args = std::fs::read_to_string(dir.path().join("args.txt")).unwrap();
    assert_eq!(args, format!("[-d][7001][id={id} from demo][100%][]\n"));

    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace("%DESTADDR%", "%DESTADR%");
    std::fs::write(&bad, text).unwrap();
    let out = Command::new(support::EMGD)
        .args(["--check-config", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "connector.ebe.ebe_args: `%DESTADR%`: unknown placeholder `%DESTADR%`; did you mean `DESTADDR`?"
        ),
        "{stderr}"
    );
}

//! The modem simulator (`emgmodem`) proven against real SMS software on a `socat` pty pair:
//! gammu (identify, sendsms, getallsms), smstools' smsd (sends one message, receives one)
//! and python-gsmmodem-new (sends with a status report, receives live and stored). Each test
//! has its own pty pair and simulator, so they run in parallel. A missing peer fails the test
//! with the command that installs it.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tests::pty::{require, wait_until, PtyPair, Simulator};

const EMGMODEM: &str = env!("CARGO_BIN_EXE_emgmodem");
const PEERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers");
const WAIT: Duration = Duration::from_secs(30);

struct Rig {
    dir: tempfile::TempDir,
    pty: PtyPair,
    sim: Simulator,
}

fn rig(args: &[&str]) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let pty = PtyPair::new(dir.path()).expect("socat pty pair");
    let sim = Simulator::start(Path::new(EMGMODEM), &pty.modem, args).expect("emgmodem starts");
    Rig { dir, pty, sim }
}

fn event<'a>(name: &'a str) -> impl FnMut(&Value) -> bool + 'a {
    move |e| e["event"] == name
}

/// Runs gammu with a config for the pty; returns stdout, failing on a non-zero exit.
fn gammu(r: &Rig, args: &[&str]) -> String {
    require("gammu", "gammu").unwrap();
    let rc = r.dir.path().join("gammurc");
    let conf = format!(
        "[gammu]\ndevice = {}\nconnection = at\n",
        r.pty.host.display()
    );
    std::fs::write(&rc, conf).unwrap();
    let out = Command::new("timeout")
        .arg("60")
        .arg("gammu")
        .arg("-c")
        .arg(&rc)
        .args(args)
        .output()
        .expect("gammu runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "gammu {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn gammu_identifies_the_modem() {
    let r = rig(&[]);
    let out = gammu(&r, &["identify"]);
    for want in [
        "Manufacturer         : emg",
        "356938035643809",
        "240011234567890",
    ] {
        assert!(out.contains(want), "{want:?} missing from:\n{out}");
    }
}

#[test]
fn gammu_sends_a_message_and_a_long_one() {
    let mut r = rig(&[]);
    let out = gammu(
        &r,
        &[
            "sendsms",
            "TEXT",
            "+46701234567",
            "-text",
            "hello from gammu",
        ],
    );
    assert!(out.contains("message reference=1"), "{out}");
    let sent = r
        .sim
        .wait_for("gammu's submit", WAIT, event("sent"))
        .unwrap();
    assert_eq!(sent["to"], "+46701234567");
    assert_eq!(sent["text"], "hello from gammu");
    assert_eq!(sent["concat"], Value::Null);

    let long: String = "gammu writes long messages in parts. ".repeat(6);
    gammu(
        &r,
        &[
            "sendsms",
            "TEXT",
            "+46701234567",
            "-len",
            "400",
            "-text",
            &long,
        ],
    );
    let mut joined = String::new();
    for seq in 1..=2 {
        let part = r.sim.wait_for("a part", WAIT, event("sent")).unwrap();
        assert_eq!(part["concat"][1], 2, "{part}");
        assert_eq!(part["concat"][2], seq, "{part}");
        joined += part["text"].as_str().unwrap();
    }
    assert_eq!(joined, long);
}

#[test]
fn gammu_reads_stored_messages_including_a_concatenated_one() {
    let mut r = rig(&[]);
    let long = "parts arrive one by one and gammu shows them. ".repeat(5);
    r.sim.control("mo +46709876543 hello gammu").unwrap();
    r.sim.control(&format!("mo MyBank {long}")).unwrap();
    for _ in 0..3 {
        r.sim.wait_for("stored", WAIT, event("stored")).unwrap();
    }
    let out = gammu(&r, &["getallsms"]);
    assert!(out.contains("hello gammu"), "{out}");
    assert!(
        out.contains("Remote number        : \"+46709876543\""),
        "{out}"
    );
    assert!(out.contains("Remote number        : \"MyBank\""), "{out}");
    assert!(
        out.contains("part 1 of 2") && out.contains("part 2 of 2"),
        "{out}"
    );
    assert!(out.contains("3 SMS parts in 3 SMS sequences"), "{out}");
}

#[test]
fn smsd_sends_one_message_and_receives_one() {
    require("smsd", "smstools").unwrap();
    let mut r = rig(&[]);
    let d = r.dir.path();
    for sub in ["outgoing", "checked", "incoming", "failed", "sent"] {
        std::fs::create_dir(d.join(sub)).unwrap();
    }
    let conf = format!(
        "devices = GSM1\n\
         outgoing = {p}/outgoing\nchecked = {p}/checked\nincoming = {p}/incoming\n\
         failed = {p}/failed\nsent = {p}/sent\nlogfile = {p}/smsd.log\nloglevel = 7\n\
         infofile = {p}/smsd.working\npidfile = {p}/smsd.pid\n\
         delaytime = 1\ndelaytime_mainprocess = 1\n\n\
         [GSM1]\ndevice = {host}\nincoming = yes\nbaudrate = 115200\n",
        p = d.display(),
        host = r.pty.host.display()
    );
    std::fs::write(d.join("smsd.conf"), conf).unwrap();
    std::fs::write(
        d.join("outgoing/out1"),
        "To: 46701234567\n\nhello from smsd\n",
    )
    .unwrap();
    r.sim.control("mo +46709876543 hello smsd").unwrap();
    r.sim.wait_for("stored", WAIT, event("stored")).unwrap();
    let mut smsd = Command::new("smsd")
        .arg(format!("-c{}", d.join("smsd.conf").display()))
        .arg("-t")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("smsd runs");
    let sent = r.sim.wait_for("smsd's submit", WAIT, event("sent"));
    let deleted = r
        .sim
        .wait_for("smsd deletes what it read", WAIT, event("deleted"));
    let incoming = d.join("incoming");
    let received = wait_until(WAIT, || {
        std::fs::read_dir(&incoming)
            .map(|it| {
                it.flatten()
                    .any(|f| f.file_name().to_string_lossy().starts_with("GSM1"))
            })
            .unwrap_or(false)
    });
    let moved = wait_until(WAIT, || d.join("sent/out1").exists());
    // SAFETY: kill(2) on the pid of the smsd we spawned and have not reaped.
    unsafe {
        libc::kill(smsd.id() as i32, libc::SIGTERM);
    }
    let _ = smsd.wait();
    let log = std::fs::read_to_string(d.join("smsd.log")).unwrap_or_default();
    let sent = sent.unwrap_or_else(|e| panic!("{e}\nsmsd.log:\n{log}"));
    assert_eq!(sent["to"], "+46701234567");
    assert_eq!(sent["text"], "hello from smsd");
    deleted.unwrap_or_else(|e| panic!("{e}\nsmsd.log:\n{log}"));
    assert!(received && moved, "smsd did not finish:\n{log}");
    let file = std::fs::read_dir(&incoming)
        .unwrap()
        .flatten()
        .find(|f| f.file_name().to_string_lossy().starts_with("GSM1"))
        .unwrap();
    let text = std::fs::read_to_string(file.path()).unwrap();
    assert!(text.contains("From: 46709876543"), "{text}");
    assert!(text.contains("hello smsd"), "{text}");
}

#[test]
fn python_gsmmodem_sends_with_a_report_and_receives() {
    let mut r = rig(&["--report-delay-ms", "200"]);
    r.sim.control("mo +46709876543 stored before").unwrap();
    r.sim.wait_for("stored", WAIT, event("stored")).unwrap();
    let py = Command::new("python3")
        .arg(format!("{PEERS}/gsmmodem_client.py"))
        .args(["--port", &r.pty.host.display().to_string()])
        .args(["--send", "+46701234567", "hello from python"])
        // The library keeps its messages in "ME"; the one stored before went to "SM".
        .args([
            "--report",
            "--receive",
            "1",
            "--stored",
            "SM",
            "--timeout",
            "20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (scripts/test installs python-gsmmodem-new)");
    // Once the library has asked for +CMTI, a message arriving is told to it at once.
    r.sim
        .wait_for("AT+CNMI", WAIT, |e| {
            e["event"] == "command" && e["line"].as_str().is_some_and(|l| l.starts_with("AT+CNMI"))
        })
        .unwrap();
    let sent = r
        .sim
        .wait_for("python's submit", WAIT, event("sent"))
        .unwrap();
    r.sim.control("mo +46709876543 arriving now").unwrap();
    let out = py.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "gsmmodem client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(sent["text"], "hello from python");
    assert_eq!(sent["status_report"], true);
    assert_eq!(got["manufacturer"], "emg");
    assert_eq!(got["sent"][0]["reference"], sent["mr"]);
    assert_eq!(got["sent"][0]["report"], 0, "delivered: {got}");
    assert_eq!(got["received"][0]["text"], "arriving now", "{got}");
    assert_eq!(got["received"][0]["number"], "+46709876543");
    assert_eq!(got["stored"][0]["text"], "stored before", "{got}");
}

//! The general log of the real emgd binary: the `general` file beside standard error, its
//! level from `loglevel` and changed at run time over MGP, JSON with `logformat = "json"`,
//! reopened on SIGHUP, read back with MGP `logs`; colour only on a terminal (and without
//! NO_COLOR), never in the file; and systemd's readiness messages.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Setup, EMGD};
use tests::daemon::free_port;

struct Mgp {
    w: TcpStream,
    r: BufReader<TcpStream>,
    id: u64,
}

impl Mgp {
    /// Connect, waiting (at most 10 s) for emgd's MGP listener: emgd is ready for the test once
    /// its SMPP port answers, which may be before MGP listens.
    fn open(port: u16) -> Mgp {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let s = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) if std::time::Instant::now() >= deadline => panic!("connect MGP: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Mgp {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
            id: 0,
        }
    }
    fn login(port: u16) -> Mgp {
        let mut m = Mgp::open(port);
        let ok = m.ask(r#""op":"login","user":"admin","password":"secret""#);
        assert!(ok["ok"]["role"] == "admin", "{ok}");
        m
    }
    fn line(&mut self) -> serde_json::Value {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("a line from emgd");
        serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}"))
    }
    /// `fields` is the request without braces and id.
    fn ask(&mut self, fields: &str) -> serde_json::Value {
        self.id += 1;
        writeln!(self.w, "{{\"id\":{},{fields}}}", self.id).unwrap();
        self.line()
    }
}

fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn setup(general: &str) -> (Setup, u16) {
    let mgp = free_port();
    let s = Setup::new(
        &format!("mgp_address = \"127.0.0.1:{mgp}\"\n{general}"),
        "",
        "[operator.admin]\npassword = \"secret\"\nrole = \"admin\"\n",
    );
    (s, mgp)
}

#[test]
fn general_log_file_level_at_run_time_rotation_and_history() {
    let (setup, mgp) = setup("loglevel = \"warn\"");
    let mut d = setup.start();
    let general = || setup.log("general");
    let mut m = Mgp::login(mgp);
    // At warn, emgd's "started" (info) is in neither place.
    assert!(!general().contains("started"), "{}", general());
    assert!(!d.stderr_text().contains("started"));

    // A wrong password is a warning: in the file, in EMG's shape, and on stderr without colour.
    let mut bad = Mgp::open(mgp);
    let refused = bad.ask(r#""op":"login","user":"admin","password":"wrong""#);
    assert_eq!(refused["error"]["code"], "auth_failed");
    eventually("the failed login in the general log", || {
        general().contains("MGP login failed")
    });
    let line = general()
        .lines()
        .find(|l| l.contains("MGP login failed"))
        .unwrap()
        .to_string();
    assert_eq!(&line[4..5], "-", "starts with EMG's timestamp: {line}");
    assert_eq!(
        &line[26..],
        " WARN  MGP login failed: wrong user or password user=admin peer=127.0.0.1:".to_string()
            + line.rsplit(':').next().unwrap(),
        "{line}"
    );
    assert!(d.stderr_text().contains(&line[26..]), "{}", d.stderr_text());
    assert!(
        !d.stderr_text().contains('\x1b'),
        "no colour: stderr is a file"
    );

    // loglevel over MGP: shown, then set; debug lines appear at once.
    let shown = m.ask(r#""op":"loglevel""#);
    assert_eq!(
        shown["ok"],
        serde_json::json!({"level": "warn", "previous": "warn"})
    );
    let set = m.ask(r#""op":"loglevel","level":"debug""#);
    assert_eq!(
        set["ok"],
        serde_json::json!({"level": "debug", "previous": "warn"})
    );
    let bad_level = m.ask(r#""op":"loglevel","level":"loud""#);
    assert_eq!(bad_level["error"]["code"], "bad_request", "{bad_level}");
    drop(Mgp::login(mgp));
    eventually("a debug line after the change", || {
        general().contains(" DEBUG MGP session opened")
    });

    // logrotate: move the file away, SIGHUP, a new file is started.
    std::fs::rename(
        setup.dir.path().join("log/general"),
        setup.dir.path().join("log/general.1"),
    )
    .unwrap();
    d.signal(1);
    // The reload reads loglevel = "warn" again.
    eventually("the level from the file after SIGHUP", || {
        m.ask(r#""op":"loglevel""#)["ok"]["level"] == "warn"
    });
    let refused = Mgp::open(mgp).ask(r#""op":"login","user":"nobody","password":"x""#);
    assert_eq!(refused["error"]["code"], "auth_failed");
    eventually("a new general file after SIGHUP", || {
        general().contains("user=nobody")
    });
    assert!(!general().contains("user=admin"), "{}", general());
    assert!(setup.log("general.1").contains("user=admin"));

    // The history, across the rotation, from a time on.
    let since = chrono::Local::now().timestamp_micros() - 3_600_000_000;
    let opened = m.ask(&format!(
        r#""op":"logs","name":"general","since_us":{since},"limit":1000"#
    ));
    let stream = opened["ok"]["stream"].as_u64().expect("a stream");
    let mut lines = Vec::new();
    loop {
        let ev = m.line();
        assert_eq!(ev["stream"], stream, "{ev}");
        match ev["event"]["type"].as_str() {
            Some("line") => lines.push(ev["event"]["line"].as_str().unwrap().to_string()),
            Some("end") => {
                assert_eq!(ev["event"]["lines"], lines.len() as u64);
                break;
            }
            other => panic!("unexpected event {other:?}: {ev}"),
        }
    }
    let failed: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("MGP login failed"))
        .collect();
    assert_eq!(failed.len(), 2, "both files, oldest first: {lines:?}");
    assert!(failed[0].contains("user=admin") && failed[1].contains("user=nobody"));
    let missing = m.ask(r#""op":"logs","name":"pdu.nosuch""#);
    assert_eq!(missing["error"]["code"], "not_found");
    d.terminate(Duration::from_secs(30)).unwrap();
}

#[test]
fn json_general_log_for_log_shippers() {
    let (setup, mgp) = setup("logformat = \"json\"");
    let d = setup.start();
    drop(Mgp::login(mgp));
    eventually("the login in the general log", || {
        setup.log("general").contains("MGP login")
    });
    for line in setup.log("general").lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
    }
    let login = setup
        .log("general")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["message"] == "MGP login")
        .unwrap();
    assert_eq!(login["user"], "admin");
    assert_eq!(login["level"], "INFO");
    assert!(login["peer"].as_str().unwrap().starts_with("127.0.0.1:"));
    drop(d);
}

/// emgd run on a terminal (tests/peers/on_a_tty.py, python's pty module) until it has
/// started, then stopped with SIGTERM: what the terminal showed, and the exit status.
fn on_a_tty(setup: &Setup, no_color: bool) -> (String, Option<i32>) {
    let mut c = Command::new("python3");
    c.arg(support::peers::peers().join("on_a_tty.py"))
        .args([" started with ", EMGD, "--config"])
        .arg(&setup.config)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    if no_color {
        c.env("NO_COLOR", "1");
    }
    let out = c.output().expect("python3 runs on_a_tty.py");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

#[test]
fn colour_only_on_a_terminal_and_never_in_the_file() {
    let (setup, _) = setup("");
    let (screen, code) = on_a_tty(&setup, false);
    assert_eq!(code, Some(0), "emgd stopped cleanly on SIGTERM:\n{screen}");
    let started = screen
        .lines()
        .find(|l| l.contains(" started with "))
        .unwrap_or_else(|| panic!("no start line on the terminal:\n{screen}"));
    assert_eq!(
        &started[26..42],
        " \x1b[32mINFO\x1b[0m  ",
        "the level word in green on a terminal: {started:?}"
    );
    let general = setup.log("general");
    assert!(general.contains(" INFO  emgd "), "{general}");
    assert!(
        !general.contains('\x1b'),
        "the file has no colour: {general:?}"
    );

    // NO_COLOR: a terminal without colour.
    let (screen, code) = on_a_tty(&setup, true);
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains(" started with "), "{screen}");
    assert!(!screen.contains('\x1b'), "NO_COLOR: {screen:?}");
}

#[test]
fn systemd_hears_ready_reloading_and_stopping() {
    let (setup, _) = setup("");
    let sock_path = setup.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut child = Command::new(EMGD)
        .arg("--config")
        .arg(&setup.config)
        .env("NOTIFY_SOCKET", &sock_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let next = || {
        let mut buf = [0u8; 256];
        let n = sock.recv(&mut buf).expect("a message from emgd");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(next(), "READY=1");
    // READY only once the listeners are up.
    assert!(TcpStream::connect(("127.0.0.1", setup.smpp_port)).is_ok());
    signal(child.id(), "-HUP");
    assert_eq!(next(), "RELOADING=1");
    assert_eq!(next(), "READY=1");
    signal(child.id(), "-TERM");
    assert_eq!(next(), "STOPPING=1");
    assert!(child.wait().unwrap().success());
    assert!(Path::new(&sock_path).exists());
}

fn signal(pid: u32, sig: &str) {
    assert!(Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success());
}

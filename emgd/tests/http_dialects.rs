//! The send API answers as the clients of Kannel, Jasmin and EMG test for, byte for byte:
//! status line, the headers they look at and the body, against exchanges recorded in
//! `tests/fixtures/http-dialects/`:
//! - `kannel-sendsms.txt`: the real Kannel 1.4.5 (Debian's bearerbox and smsbox, an online
//!   `smsc = fake` with Kannel's fakesmsc), recorded by [`kannel_itself_answers_as_recorded`]
//!   (`BLESS=1` rewrites the file from the live Kannel; without it the live answers must
//!   still be the recorded ones, so CI re-checks the recording on every run);
//! - `jasmin-send.txt` and `emg-send.txt`: written from Jasmin's source and documentation and
//!   from EMG's (the file heads name them); there is no Jasmin or EMG to record here.
//!
//! And clients of theirs: a Kannel sendsms script of the style Kannel's user guide shows
//! (tests/peers/kannel_sendsms.sh, also run against the real Kannel) and a Jasmin client
//! written as Jasmin's documentation examples are (tests/peers/jasmin_client.py, Python 2's
//! urllib2) run against emgd. Fixture bodies may hold `{id}`: any message id (digits).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::peers::{peers, wait_port};
use support::Setup;
use tests::daemon::free_port;
use tests::kannel::{http_exchange, FakeSmsc, Kannel, RawAnswer};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/http-dialects")
}

/// One recorded exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Exchange {
    name: String,
    /// Path and query of the GET.
    request: String,
    /// `202 Accepted`: the status line without its HTTP version.
    status: String,
    /// The headers clients look at, names lower-case.
    headers: Vec<(String, String)>,
    body: String,
}

/// The head of a fixture file (its `#` lines) and its exchanges. An exchange is
/// `=== NAME`, the request, the status line, headers, an empty line and the body up to the
/// next `=== ` line (its last newline is not part of it).
fn read_fixture(file: &str) -> (String, Vec<Exchange>) {
    let path = fixtures().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let head: String = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut out = Vec::new();
    for block in text[head.len()..]
        .split("=== ")
        .filter(|b| !b.trim().is_empty())
    {
        let (top, body) = block.split_once("\n\n").unwrap_or((block, ""));
        let mut lines = top.lines();
        let name = lines.next().unwrap().trim().to_string();
        let request = lines.next().unwrap().to_string();
        let status = lines.next().unwrap().to_string();
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let body = body.strip_suffix('\n').unwrap_or(body).to_string();
        out.push(Exchange {
            name,
            request,
            status,
            headers,
            body,
        });
    }
    (head, out)
}

fn write_fixture(file: &str, head: &str, exchanges: &[Exchange]) {
    let mut text = head.to_string();
    for e in exchanges {
        text.push_str(&format!("=== {}\n{}\n{}\n", e.name, e.request, e.status));
        for (n, v) in &e.headers {
            text.push_str(&format!("{n}: {v}\n"));
        }
        text.push_str(&format!("\n{}\n", e.body));
    }
    std::fs::write(fixtures().join(file), text).unwrap();
}

/// What `port` answers `request`, as an exchange keeping the headers named in `keep`.
fn exchange(port: u16, name: &str, request: &str, keep: &[&str]) -> Exchange {
    let a: RawAnswer = http_exchange(port, request).unwrap_or_else(|e| panic!("{name}: {e}"));
    Exchange {
        name: name.to_string(),
        request: request.to_string(),
        status: a
            .status_line
            .split_once(' ')
            .map(|(_, s)| s.to_string())
            .unwrap_or_default(),
        headers: keep
            .iter()
            .filter_map(|k| a.header(k).map(|v| (k.to_string(), v.to_string())))
            .collect(),
        body: String::from_utf8_lossy(&a.body).into_owned(),
    }
}

/// `got` matches `want`, where `{id}` in the wanted body stands for a message id.
fn same(want: &Exchange, got: &Exchange) -> bool {
    let pattern = format!(
        "^{}$",
        regex_lite::escape(&want.body).replace(r"\{id\}", "[0-9]+")
    );
    let body_ok = regex_lite::Regex::new(&pattern)
        .unwrap()
        .is_match(&got.body);
    let headers_ok = want.headers.iter().all(|(n, v)| {
        got.headers
            .iter()
            .any(|(gn, gv)| gn == n && gv.eq_ignore_ascii_case(v))
    });
    want.status == got.status && headers_ok && body_ok
}

/// Headers Kannel's clients look at.
const KANNEL_HEADERS: &[&str] = &["content-type", "pragma", "cache-control"];

/// A gateway with an incoming HTTP connector for Kannel's and Jasmin's user `tester`
/// (password `foobar`), routing 4... and 2... to the simulator.
struct Gw {
    setup: Setup,
    http: u16,
    _d: tests::daemon::Daemon,
}

fn gateway() -> Gw {
    let http = free_port();
    let setup = Setup::new(
        "",
        "",
        &format!(
            r#"
[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"
instances = 4

[user.tester]
password = "foobar"

[[route]]
prefix = "2"
to = "sim1"
"#
        ),
    );
    let d = setup.start();
    wait_port(http);
    Gw { setup, http, _d: d }
}

/// Messages in the store whose recipient is `to` (the message record holds it as text).
fn stored_for(gw: &Gw, to: &str) -> usize {
    gw.setup
        .db()
        .byte_rows("SELECT data FROM messages")
        .iter()
        .filter(|r| r[0].windows(to.len()).any(|w| w == to.as_bytes()))
        .count()
}

fn check_all(gw: &Gw, file: &str, keep: &[&str]) {
    let (_, want) = read_fixture(file);
    assert!(!want.is_empty(), "{file} has no exchanges");
    let mut wrong = Vec::new();
    for w in &want {
        let got = exchange(gw.http, &w.name, &w.request, keep);
        if !same(w, &got) {
            wrong.push(format!("want {w:#?}\n got {got:#?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{file}: {} of {} differ:\n{}",
        wrong.len(),
        want.len(),
        wrong.join("\n")
    );
}

#[test]
fn kannel_itself_answers_as_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let fake_port = free_port();
    let smsc = format!("smsc = fake\nsmsc-id = fake1\nport = {fake_port}");
    let kannel = Kannel::start(tmp.path(), &[smsc], "http://127.0.0.1:9/mo").unwrap();
    let _fake = FakeSmsc::start(tmp.path(), fake_port).unwrap();
    kannel
        .wait_online("fake1", std::time::Duration::from_secs(30))
        .unwrap();
    let file = "kannel-sendsms.txt";
    let (head, want) = read_fixture(file);
    let got: Vec<Exchange> = want
        .iter()
        .map(|w| exchange(kannel.sendsms_port, &w.name, &w.request, KANNEL_HEADERS))
        .collect();
    if std::env::var_os("BLESS").is_some() {
        write_fixture(file, &head, &got);
        return;
    }
    for (w, g) in want.iter().zip(&got) {
        assert_eq!(
            w,
            g,
            "Kannel no longer answers {} as recorded:\n{}",
            w.name,
            kannel.logs()
        );
    }
    // The Kannel client script is a real Kannel client.
    let out = kannel_script(kannel.sendsms_port, "4670123 4670124");
    assert!(out.contains("ok: 0: Accepted for delivery"), "{out}");
}

#[test]
fn emgd_answers_sendsms_as_kannel_does() {
    let gw = gateway();
    check_all(&gw, "kannel-sendsms.txt", KANNEL_HEADERS);
    // Each recipient of the list is its own stored message; the bad one was dropped.
    assert!(stored_for(&gw, "4670124") >= 2, "both lists reach 4670124");
}

#[test]
fn emgd_answers_send_as_jasmin_does() {
    let gw = gateway();
    check_all(&gw, "jasmin-send.txt", &["content-type"]);
}

#[test]
fn emgd_answers_bin_send_as_emg_does() {
    let gw = gateway();
    check_all(&gw, "emg-send.txt", &["content-type"]);
    // EMG's repeated DESTADDR: one stored message each.
    assert_eq!(stored_for(&gw, "4670771"), 1);
    assert_eq!(stored_for(&gw, "4670772"), 1);
}

#[test]
fn emg_json_answer_lists_results_in_destaddr_order() {
    let gw = gateway();
    let a = http_exchange(
        gw.http,
        "/bin/send.json?USERNAME=tester&PASSWORD=foobar&DESTADDR=4670881&DESTADDR=9990&DESTADDR=4670882&MESSAGE=hi",
    )
    .unwrap();
    assert_eq!(a.status, 200, "some were taken");
    let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 3, "{v}");
    assert_eq!(
        (r[0]["status"].as_str(), r[0]["statustext"].as_str()),
        (Some("0"), Some("OK"))
    );
    assert_eq!(
        (r[1]["status"].as_str(), r[1]["msgid"].as_str()),
        (Some("4"), Some("-1")),
        "no route for 9990: {v}"
    );
    assert_eq!(r[2]["status"], "0");
    assert_ne!(r[0]["msgid"], r[2]["msgid"]);
    assert_eq!(
        (stored_for(&gw, "4670881"), stored_for(&gw, "4670882")),
        (1, 1)
    );
}

/// tests/peers/kannel_sendsms.sh against `port`: what it printed (it must succeed).
fn kannel_script(port: u16, to: &str) -> String {
    let out = Command::new("sh")
        .arg(peers().join("kannel_sendsms.sh"))
        .env(
            "SENDSMS_URL",
            format!("http://127.0.0.1:{port}/cgi-bin/sendsms"),
        )
        .env("SENDSMS_USER", "tester")
        .env("SENDSMS_PASSWORD", "foobar")
        .args(["12345", to, "Hello from a Kannel script"])
        .output()
        .expect("sh runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "kannel_sendsms.sh failed: {text}");
    text
}

#[test]
fn a_kannel_sendsms_script_works_unchanged() {
    let gw = gateway();
    let out = kannel_script(gw.http, "4670991 4670992");
    assert!(out.contains("ok: 0: Accepted for delivery"), "{out}");
    assert_eq!(
        (stored_for(&gw, "4670991"), stored_for(&gw, "4670992")),
        (1, 1)
    );
}

/// Python 2.7, which Jasmin's documented examples are written for (pyenv's, as the machine
/// image has it; scripts/test checks it is there).
fn python2() -> PathBuf {
    let root = std::env::var("PYENV_ROOT").unwrap_or_else(|_| "/root/.pyenv".into());
    let found = std::fs::read_dir(Path::new(&root).join("versions"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin/python2"))
        .find(|p| p.exists());
    found.or_else(|| which("python2.7")).expect(
        "Python 2.7 is missing (Jasmin's documented examples need it): pyenv install 2.7.18; scripts/test checks it",
    )
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

#[test]
fn a_jasmin_client_as_its_documentation_writes_them_works() {
    let gw = gateway();
    let out = Command::new(python2())
        .arg(peers().join("jasmin_client.py"))
        .args([&format!("http://127.0.0.1:{}", gw.http), "tester", "foobar"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "jasmin_client.py failed:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), 5, "{text}");
    let success = regex_lite::Regex::new(r#"^Success "[0-9]+"$"#).unwrap();
    for a in &got {
        assert_eq!(a["status"], 200, "{a}");
        assert!(success.is_match(a["body"].as_str().unwrap()), "{a}");
    }
    // `+24206155423` was routed (the + dropped) and stored once per send.
    assert_eq!(stored_for(&gw, "24206155423"), 5);
    // The long content is one message in two parts; the UCS-2 bytes one part of coding 8.
    let status = |n: usize| {
        let id = got[n]["body"]
            .as_str()
            .unwrap()
            .trim_start_matches("Success \"")
            .trim_end_matches('"')
            .to_string();
        let a = http_exchange(
            gw.http,
            &format!("/status/{id}?username=tester&password=foobar"),
        )
        .unwrap();
        serde_json::from_slice::<serde_json::Value>(&a.body).unwrap()
    };
    assert_eq!(status(3)["parts"], 2, "{}", status(3));
    assert_eq!(
        (status(4)["to"].as_str(), status(4)["parts"].as_u64()),
        (Some("24206155423"), Some(1))
    );
}

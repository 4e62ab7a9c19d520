//! The HTTP admin listener (`admin_address`) with curl: EMG's `/admin/...` verbs, each an MGP
//! operation under the operator's login and role, and Kannel's status page, whose shape is
//! compared with the real Kannel 1.4.5's (recorded in
//! `tests/fixtures/http-dialects/kannel-status.{txt,xml}` by `BLESS=1`, and re-checked live).

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::peers::{wait_for, wait_port};
use support::Setup;
use tests::daemon::free_port;
use tests::kannel::{FakeSmsc, Kannel};

/// curl `url` with `args`: (status, body).
fn curl(url: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "20", "-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

struct Gw {
    setup: Setup,
    admin: u16,
    http: u16,
    _d: tests::daemon::Daemon,
}

impl Gw {
    fn start() -> Gw {
        let (admin, http) = (free_port(), free_port());
        let setup = Setup::new(
            &format!(
                r#"admin_address = "127.0.0.1:{admin}"

[operator.admin]
password = "secret"
role = "admin"

[operator.op]
password = "work"
role = "operator"

[operator.watcher]
password = "look"
role = "readonly"
"#
            ),
            "",
            &format!(
                r#"
[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"

[connector.sim2]
type = "outgoing"
protocol = "sim"

[connector.sim3]
type = "outgoing"
protocol = "sim"

[[route]]
prefix = "7"
to = "sim2"
"#
            ),
        );
        let d = setup.start();
        wait_port(admin);
        wait_port(http);
        Gw {
            setup,
            admin,
            http,
            _d: d,
        }
    }

    /// `path` on the admin listener as `user:password`.
    fn admin(&self, path: &str, login: &str) -> (u16, Value) {
        let (status, body) = curl(
            &format!("http://127.0.0.1:{}{path}", self.admin),
            &["-u", login],
        );
        let v = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}"));
        (status, v)
    }

    fn ok(&self, path: &str) -> Value {
        let (status, v) = self.admin(path, "op:work");
        assert_eq!(status, 200, "{path}: {v}");
        v
    }

    fn connector(&self, name: &str) -> Value {
        let v = self.ok("/admin/connectors");
        v["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    }
}

#[test]
fn every_admin_verb_goes_through_the_mgp_operation() {
    let gw = Gw::start();
    let info = gw.ok("/admin/info");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"), "{info}");

    // hold: messages wait in the queue.
    assert_eq!(gw.ok("/admin/connector/sim2/hold")["hold"], true);
    assert_eq!(gw.connector("sim2")["hold"], true);
    for i in 0..3 {
        let (status, body) = curl(
            &format!("http://127.0.0.1:{}/bin/send?to=777{i}&text=held", gw.http),
            &["-u", "demo:demo"],
        );
        assert_eq!(status, 200, "{body}");
    }
    let q = gw.ok("/admin/queue/sim2");
    assert_eq!(q["messages"].as_array().unwrap().len(), 3, "{q}");
    assert_eq!(q["queues"][0]["queued"], 3, "{q}");

    // moveall to a held sim3, then clear it.
    assert_eq!(gw.ok("/admin/connector/sim3/hold")["hold"], true);
    let moved = gw.ok("/admin/connector/sim2/moveall/sim3");
    assert_eq!(
        (moved["moved"].as_u64(), moved["to"].as_str()),
        (Some(3), Some("sim3")),
        "{moved}"
    );
    assert_eq!(gw.ok("/admin/queue/sim3")["queues"][0]["queued"], 3);
    let cleared = gw.ok("/admin/connector/sim3/clear");
    assert_eq!(cleared["cleared"], 3, "{cleared}");
    assert_eq!(gw.ok("/admin/queue/sim3")["queues"][0]["queued"], 0);

    // unhold, forceclose/1 and /0, bounce.
    assert_eq!(gw.ok("/admin/connector/sim2/unhold")["hold"], false);
    assert_eq!(
        gw.ok("/admin/connector/sim2/forceclose/1")["forceclose"],
        true
    );
    assert_eq!(gw.connector("sim2")["forceclose"], true);
    assert_eq!(
        gw.ok("/admin/connector/sim2/forceclose/0")["forceclose"],
        false
    );
    let (status, v) = gw.admin("/admin/connector/sim2/bounce", "op:work");
    assert_eq!(status, 200, "{v}");
    assert!(
        wait_for(Duration::from_secs(20), || gw.connector("sim2")["bound"]
            == 1),
        "sim2 binds again after the bounce: {}",
        gw.connector("sim2")
    );
    // The connector log tells who did it, as MGP's operations log it.
    let logged = wait_for(Duration::from_secs(10), || {
        gw.setup
            .log("connector.sim3")
            .contains("QUEUE CLEAR 3 messages (by operator op)")
    });
    assert!(logged, "{}", gw.setup.log("connector.sim3"));

    // Errors: an unknown connector, an unknown verb; reload needs an admin.
    assert_eq!(gw.admin("/admin/connector/nope/hold", "op:work").0, 404);
    assert_eq!(gw.admin("/admin/connector/sim2/explode", "op:work").0, 404);
    assert_eq!(gw.admin("/admin/info/reload", "op:work").0, 403);
    assert_eq!(gw.admin("/admin/info/reload", "admin:secret").0, 200);
}

#[test]
fn a_wrong_password_is_401_and_a_readonly_role_cannot_change_anything() {
    let gw = Gw::start();
    let url = |p: &str| format!("http://127.0.0.1:{}{p}", gw.admin);
    let (status, v) = gw.admin("/admin/connectors", "op:wrong");
    assert_eq!(
        (status, v["error"].as_str()),
        (401, Some("auth_failed")),
        "{v}"
    );
    let (status, body) = curl(&url("/admin/connectors"), &[]);
    assert_eq!(status, 401, "{body}");
    let head = Command::new("curl")
        .args(["-s", "-i", &url("/admin/connectors")])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).to_ascii_lowercase();
    assert!(head.contains("www-authenticate: basic"), "{head}");

    // readonly: reads, never changes.
    assert_eq!(gw.admin("/admin/connectors", "watcher:look").0, 200);
    assert_eq!(gw.admin("/admin/queue/sim2", "watcher:look").0, 200);
    for verb in [
        "hold",
        "unhold",
        "bounce",
        "clear",
        "forceclose/1",
        "forceclose/0",
        "moveall/sim3",
    ] {
        let (status, v) = gw.admin(&format!("/admin/connector/sim2/{verb}"), "watcher:look");
        assert_eq!(
            (status, v["error"].as_str()),
            (403, Some("forbidden")),
            "{verb}: {v}"
        );
    }
    assert_eq!(gw.connector("sim2")["hold"], false, "nothing changed");
    assert_eq!(gw.connector("sim2")["forceclose"], false);
    // The status page takes Kannel's URL parameters (with a username) too.
    let (status, body) = curl(&url("/status.txt?username=watcher&password=look"), &[]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("SMSC connections:"), "{body}");
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/http-dialects")
}

/// The element paths of an XML page (`gateway/smscs/smsc/status`), each once, in order.
fn xml_paths(xml: &str) -> Vec<String> {
    let tag = regex_lite::Regex::new(r"<(/?)([A-Za-z][A-Za-z0-9_-]*)[^>]*?(/?)>").unwrap();
    let mut stack: Vec<String> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for c in tag.captures_iter(xml) {
        let name = c[2].to_string();
        if &c[1] == "/" {
            stack.pop();
            continue;
        }
        stack.push(name);
        let path = stack.join("/");
        if !seen.contains(&path) {
            seen.push(path);
        }
        if &c[3] == "/" {
            stack.pop();
        }
    }
    seen
}

/// Paths of Kannel's page that emgd has no counterpart for: its boxes (smsbox, wapbox).
fn without_boxes(paths: Vec<String>) -> Vec<String> {
    paths
        .into_iter()
        .filter(|p| !p.starts_with("gateway/boxes/"))
        .collect()
}

/// The lines Kannel monitoring scripts grep for, by their shape.
const TEXT_SHAPES: &[&str] = &[
    r"(?m)^Status: running, uptime \d+d \d+h \d+m \d+s$",
    r"(?m)^SMS: received \d+ \(\d+ queued\), sent \d+ \(\d+ queued\), store size -?\d+$",
    r"(?m)^SMS: inbound \([0-9.]+,[0-9.]+,[0-9.]+\) msg/sec, outbound \([0-9.]+,[0-9.]+,[0-9.]+\) msg/sec$",
    r"(?m)^DLR: received \d+, sent \d+$",
    r"(?m)^DLR: \d+ queued, using \S+ storage$",
    r"(?m)^(Box connections:|No boxes connected)$",
    r"(?m)^SMSC connections:$",
    r"(?m)^    \S+\[\S+\]\s+\S+ \((online \d+s|connecting|re-connecting|disconnected|dead), rcvd: sms \d+ \([0-9.,]+\) / dlr \d+ \([0-9.,]+\), sent: sms \d+ \([0-9.,]+\) / dlr \d+ \([0-9.,]+\), failed \d+, queued \d+ msgs\)$",
];

fn check_text_shape(what: &str, page: &str) {
    for shape in TEXT_SHAPES {
        let re = regex_lite::Regex::new(shape).unwrap();
        assert!(re.is_match(page), "{what}: no line like {shape}:\n{page}");
    }
}

#[test]
fn the_status_page_has_the_shape_of_kannels() {
    // Kannel's own page, live: the recording still describes it (BLESS=1 records it anew).
    let tmp = tempfile::tempdir().unwrap();
    let fake_port = free_port();
    let smsc = format!("smsc = fake\nsmsc-id = fake1\nport = {fake_port}");
    let kannel = Kannel::start(tmp.path(), &[smsc], "http://127.0.0.1:9/mo").unwrap();
    let _fake = FakeSmsc::start(tmp.path(), fake_port).unwrap();
    kannel
        .wait_online("fake1", Duration::from_secs(30))
        .unwrap();
    let live_xml = kannel.status_page("status.xml").unwrap();
    let live_txt = kannel.status_page("status.txt").unwrap();
    let (xml_file, txt_file) = (
        fixtures().join("kannel-status.xml"),
        fixtures().join("kannel-status.txt"),
    );
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&xml_file, &live_xml).unwrap();
        std::fs::write(&txt_file, &live_txt).unwrap();
    }
    let kannel_xml = std::fs::read_to_string(&xml_file).unwrap();
    let kannel_txt = std::fs::read_to_string(&txt_file).unwrap();
    // (whether smsbox is connected yet when the page is read does not matter: boxes are left out)
    assert_eq!(
        without_boxes(xml_paths(&live_xml)),
        without_boxes(xml_paths(&kannel_xml)),
        "Kannel's XML page changed its shape"
    );
    check_text_shape("Kannel's live page", &live_txt);
    check_text_shape("Kannel's recorded page", &kannel_txt);

    // emgd's, with values from the running gateway: the same element paths and lines.
    let gw = Gw::start();
    assert!(wait_for(Duration::from_secs(20), || gw.connector("sim1")
        ["bound"]
        == 1));
    gw.ok("/admin/connector/sim3/hold");
    let url = |p: &str| format!("http://127.0.0.1:{}{p}", gw.admin);
    let (status, xml) = curl(&url("/status.xml"), &["-u", "watcher:look"]);
    assert_eq!(status, 200, "{xml}");
    assert_eq!(
        without_boxes(xml_paths(&xml)),
        without_boxes(xml_paths(&kannel_xml)),
        "{xml}"
    );
    assert!(
        xml.contains("<smscs><count>5</count>"),
        "every connector is an SMSC: {xml}"
    );
    assert!(
        xml.contains("<id>sim1</id>") && xml.contains("<status>online "),
        "{xml}"
    );
    let (_, text) = curl(&url("/status"), &["-u", "watcher:look"]);
    check_text_shape("emgd's page", &text);
    assert!(
        text.contains("    sim1[sim1]    SIM:in-process (online "),
        "{text}"
    );
    // ?format= and the JSON page (Kannel 1.4.5 has none: the XML tree as JSON).
    let (_, same) = curl(&url("/status?format=xml"), &["-u", "watcher:look"]);
    assert_eq!(xml_paths(&same), xml_paths(&xml));
    let (status, json) = curl(&url("/status.json"), &["-u", "watcher:look"]);
    assert_eq!(status, 200, "{json}");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["gateway"]["smscs"]["count"], 5, "{v}");
    assert!(
        v["gateway"]["status"]
            .as_str()
            .unwrap()
            .starts_with("running, uptime "),
        "{v}"
    );
    // Without a login, no page.
    assert_eq!(curl(&url("/status.xml"), &[]).0, 401);
}

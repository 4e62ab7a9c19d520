//! The HTTP connectors end to end, with the real emgd binary and third-party peers: curl as
//! the application, the npm `smpp` SMSC behind an outgoing SMPP connector, python http.server
//! scripts as the DLR callback receiver (tests/peers/http_sink.py) and as an SMS provider's
//! HTTP API (tests/peers/http_provider.py), and python's prometheus_client parser for
//! `/metrics`. Missing peers fail the tests loudly (scripts/test installs them).
//!
//! The peers' launchers are shared with the other HTTP tests (`support/peers.rs`).
//!
//! (Over 600 lines: five long end-to-end scenarios against the peers above; their launchers
//! are already in `support/peers.rs`.)

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::peers::{peers, python, records, sink, wait_for, wait_port, Peer};
use support::Setup;
use tests::daemon::free_port;

/// The npm smpp SMSC (tests/peers/smsc), answering receipts at once.
fn smsc(port: u16, state: &Path) -> Peer {
    let dir = peers().join("smsc");
    assert!(
        dir.join("node_modules/smpp/package.json").exists(),
        "the npm smpp package is missing: run `npm ci --prefix tests/peers/smsc` (scripts/test does)"
    );
    let child = Command::new("node")
        .arg(dir.join("smsc.js"))
        .args(["--port", &port.to_string(), "--out"])
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("node runs (scripts/test installs it)");
    let p = Peer(child);
    wait_port(port);
    p
}

/// An HTTP answer: status, headers (lower-case names) and body.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Run curl with `args` against `url`.
fn curl(url: &str, args: &[&str]) -> Answer {
    let out = Command::new("curl")
        .args(["-s", "-S", "-i", "--max-time", "20"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "curl {url} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}

/// A gateway with `http-in` on a free port, the npm SMSC as `smsc` for destinations starting
/// with 5, and `extra` appended.
struct Gw {
    setup: Setup,
    http: u16,
}

impl Gw {
    fn new(general: &str, smsc_port: u16, extra: &str) -> Gw {
        let http = free_port();
        let extra = format!(
            r#"
[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"
instances = 8

dlr_callback_backoff_max = 2

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"

[[route]]
prefix = "5"
to = "smsc"
{extra}
"#
        );
        Gw {
            setup: Setup::new(general, "dlr_delay_ms = 100", &extra),
            http,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http)
    }
}

fn status_of(gw: &Gw, id: &str) -> Value {
    curl(&gw.url(&format!("/status/{id}")), &["-u", "demo:demo"]).json()
}

#[test]
fn http_sends_reach_the_smpp_peer_and_dlrs_are_called_back() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let _smsc = smsc(smsc_port, &tmp.path().join("smsc.json"));
    let sink_port = free_port();
    let calls = tmp.path().join("calls.jsonl");
    let _sink = sink(sink_port, &calls, 0);
    let gw = Gw::new("", smsc_port, "");
    let _d = gw.setup.start();
    let cb = format!("http://127.0.0.1:{sink_port}/cb");

    // GET with EMG's names, answered in text as EMG does: the id, status 0, OK.
    let get = curl(
        &gw.url(&format!(
            "/bin/send?USERNAME=demo&PASSWORD=demo&DESTADDR=5551001&SOURCEADDR=emg&MESSAGE=hello+get&DLRURL={cb}"
        )),
        &[],
    );
    assert_eq!(get.status, 200, "{}", get.body);
    let lines: Vec<&str> = get.body.lines().collect();
    assert_eq!(lines[1..], ["0", "OK"], "{}", get.body);
    let get_id = lines[0].to_string();
    // POST form with Kannel's names and Basic auth.
    let form = curl(
        &gw.url("/cgi-bin/sendsms"),
        &[
            "-u",
            "demo:demo",
            "-H",
            "Accept: application/json",
            "--data-urlencode",
            "to=5551002",
            "--data-urlencode",
            "from=4711",
            "--data-urlencode",
            "text=hello form",
            "--data-urlencode",
            &format!("dlr-url={cb}?via=%d"),
            "--data-urlencode",
            "dlr-mask=3",
        ],
    );
    assert_eq!(form.status, 200, "{}", form.body);
    let form_id = form.json()["msgid"].as_str().unwrap().to_string();
    // POST JSON, Jasmin's names, a GET callback; a long text is one message in 3 parts.
    let long = "x".repeat(400);
    let body = serde_json::json!({
        "username": "demo", "password": "demo", "to": "5551003", "content": long,
        "dlr": "yes", "dlr-url": cb, "dlr-method": "GET"
    });
    let json = curl(
        &gw.url("/send"),
        &[
            "-H",
            "Accept: application/json",
            "-H",
            "Content-Type: application/json",
            "-d",
            &body.to_string(),
        ],
    );
    assert_eq!(json.status, 200, "{}", json.body);
    let j = json.json();
    assert_eq!(j["parts"], 3, "{j}");
    assert_eq!(j["data_coding"], 0, "{j}");
    let long_id = j["msgid"].as_str().unwrap().to_string();

    let ids = [get_id.clone(), form_id.clone(), long_id.clone()];
    let arrived = wait_for(Duration::from_secs(30), || {
        let r = records(&calls);
        ids.iter().all(|id| {
            r.iter()
                .any(|c| c["form"]["id"] == *id || c["query"]["id"] == *id)
        })
    });
    let got = records(&calls);
    assert!(
        arrived,
        "callbacks: {got:?}\n{}",
        gw.setup.log("connector.http-in")
    );
    for c in &got {
        let fields = if c["method"] == "GET" {
            &c["query"]
        } else {
            &c["form"]
        };
        assert_eq!(fields["status"], "DELIVRD", "{c}");
        assert_eq!(fields["error"], "0", "{c}");
        assert!(fields["submitted"].as_str().unwrap().ends_with('Z'), "{c}");
    }
    let by_id = |id: &str| {
        got.iter()
            .find(|c| c["form"]["id"] == id || c["query"]["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(&long_id)["method"], "GET");
    assert_eq!(
        by_id(&form_id)["query"]["via"],
        "1",
        "Kannel's %d is the report type"
    );
    assert_eq!(by_id(&form_id)["form"]["to"], "5551002");

    // Status lookups: the long text is one message, delivered.
    for id in &ids {
        let done = wait_for(Duration::from_secs(10), || {
            status_of(&gw, id)["status"] == "DELIVRD"
        });
        assert!(done, "{}", status_of(&gw, id));
    }
    let s = status_of(&gw, &long_id);
    assert_eq!(
        (s["state"].as_str(), s["parts"].as_i64()),
        (Some("done"), Some(3)),
        "{s}"
    );
    assert_eq!(s["connector"], "smsc");
    // Another user's message does not exist for this one.
    let other = curl(&gw.url(&format!("/status/{long_id}")), &["-u", "other:pw"]);
    assert_eq!(other.status, 404, "{}", other.body);
    // The SMSC got the whole long text.
    let texts = std::fs::read_to_string(tmp.path().join("smsc.json.texts")).unwrap_or_default();
    assert!(
        texts.contains("hello get") && texts.contains("hello form"),
        "{texts}"
    );
}

#[test]
fn refusals_carry_a_status_and_a_machine_readable_code() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let _smsc = smsc(smsc_port, &tmp.path().join("smsc.json"));
    // sim2 holds its one message for a minute: its queue (maxqueuesize 1) is then full.
    let gw = Gw::new(
        "",
        smsc_port,
        r#"
[connector.sim2]
type = "outgoing"
protocol = "sim"
latency_ms = 60000
maxqueuesize = 1

[[route]]
prefix = "7"
to = "sim2"

[user.slow]
password = "slow"
throughput = 1
"#,
    );
    let _d = gw.setup.start();
    let send = |query: &str, args: &[&str]| curl(&gw.url(&format!("/bin/send.json?{query}")), args);
    let auth = ["-u", "demo:demo"];

    for (query, name) in [
        ("text=hi", "to"),
        ("to=55x1&text=hi", "to"),
        ("to=5551&text=hi&coding=99", "coding"),
        ("to=5551&text=hi&priority=7", "priority"),
        ("to=5551&text=hi&dlr-url=nowhere", "dlr-url"),
        ("to=5551&message=hi&VP=-1", "VP"),
        ("to=5551", "text"),
    ] {
        let a = send(query, &auth);
        assert_eq!(a.status, 400, "{query}: {}", a.body);
        let j = a.json();
        assert_eq!(
            (j["error"].as_str(), j["parameter"].as_str()),
            (Some("bad_parameter"), Some(name)),
            "{query}: {j}"
        );
    }
    // EMG's text answer names the parameter too.
    let text = curl(&gw.url("/bin/send?to=5551&text=hi&priority=9"), &auth);
    assert_eq!(text.status, 400);
    assert!(text.body.starts_with("-1\n2\npriority: "), "{}", text.body);

    let bad = send("to=5551&text=hi", &["-u", "demo:wrong"]);
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"], "unauthorized");
    assert!(
        bad.headers.contains("www-authenticate: basic"),
        "{}",
        bad.headers
    );
    assert_eq!(send("to=5551&text=hi", &[]).status, 401);

    let no_route = send("to=9991&text=hi", &auth);
    assert_eq!(no_route.status, 422, "{}", no_route.body);
    assert_eq!(no_route.json()["error"], "no_route");

    assert_eq!(send("to=7771&text=first", &auth).status, 200);
    let full = send("to=7772&text=second", &auth);
    assert_eq!(full.status, 503, "{}", full.body);
    assert_eq!(full.json()["error"], "queue_full");
    assert!(full.headers.contains("retry-after: 5"), "{}", full.headers);

    let slow = ["-u", "slow:slow"];
    assert_eq!(send("to=5551&text=a", &slow).status, 200);
    let throttled = send("to=5551&text=b", &slow);
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert_eq!(throttled.json()["error"], "throttled");
}

#[test]
fn callbacks_are_retried_and_survive_a_kill() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let _smsc = smsc(smsc_port, &tmp.path().join("smsc.json"));
    let sink_port = free_port();
    let calls = tmp.path().join("calls.jsonl");
    let gw = Gw::new("", smsc_port, "");
    let mut d = gw.setup.start();
    let cb = format!("http://127.0.0.1:{sink_port}/cb");
    let send = |to: &str| {
        let a = curl(
            &gw.url(&format!("/bin/send.json?to={to}&text=hi&dlr-url={cb}")),
            &["-u", "demo:demo"],
        );
        assert_eq!(a.status, 200, "{}", a.body);
        a.json()["msgid"].as_str().unwrap().to_string()
    };
    let delivered = |id: &str| {
        records(&calls)
            .iter()
            .any(|c| c["form"]["id"] == id && c["answered"] == 200)
    };

    // A receiver that answers 500 twice gets the report on the third attempt.
    {
        let _sink = sink(sink_port, &calls, 2);
        let id = send("5552001");
        assert!(
            wait_for(Duration::from_secs(30), || delivered(&id)),
            "{:?}\n{}",
            records(&calls),
            gw.setup.log("connector.http-in")
        );
        let attempts = records(&calls)
            .iter()
            .filter(|c| c["form"]["id"] == id)
            .count();
        assert_eq!(attempts, 3);
    }
    // No receiver at all: the report waits in the store across a SIGKILL.
    let id = send("5552002");
    assert!(wait_for(Duration::from_secs(20), || {
        gw.setup.log("connector.http-in").contains("CALLBACK ERR")
            && gw
                .setup
                .log("connector.http-in")
                .contains(&format!("on message {id}"))
    }));
    d.kill9();
    let _sink = sink(sink_port, &calls, 0);
    let _d = gw.setup.start();
    assert!(
        wait_for(Duration::from_secs(30), || delivered(&id)),
        "{:?}\n{}",
        records(&calls),
        gw.setup.log("connector.http-in")
    );
}

#[test]
fn outgoing_http_sends_to_a_provider_and_takes_its_dlrs_and_mo() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let _smsc = smsc(smsc_port, &tmp.path().join("smsc.json"));
    let (prov_port, dlr_port, sink_port) = (free_port(), free_port(), free_port());
    let sends = tmp.path().join("provider.jsonl");
    let calls = tmp.path().join("calls.jsonl");
    let _sink = sink(sink_port, &calls, 0);
    let gw = Gw::new(
        "",
        smsc_port,
        &format!(
            r#"
[connector.prov]
type = "outgoing"
protocol = "http"
address = "http://127.0.0.1:{prov_port}/send"
username = "emg"
password = "secret"
http_params = {{ to = "{{to}}", from = "{{from}}", text = "{{text}}", ref = "{{id}}" }}
remote_id_json = "/message_id"
dlr_address = "127.0.0.1:{dlr_port}"
dlr_params = {{ id = "msgid", status = "stat", error = "err" }}

[[route]]
prefix = "6"
to = "prov"
"#
        ),
    );
    let _d = gw.setup.start();
    let args = [
        "--port".to_string(),
        prov_port.to_string(),
        "--dlr-url".into(),
        format!("http://127.0.0.1:{dlr_port}/dlr"),
        "--mo-url".into(),
        format!("http://127.0.0.1:{dlr_port}/mo"),
        "--out".into(),
        sends.display().to_string(),
    ];
    let _prov = python("http_provider.py", &args, prov_port);

    // From an HTTP sender: the provider's DLR comes back as a callback.
    let a = curl(
        &gw.url(&format!(
            "/bin/send.json?to=6661&from=4711&text=via+provider&dlr-url=http://127.0.0.1:{sink_port}/cb"
        )),
        &["-u", "demo:demo"],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let id = a.json()["msgid"].as_str().unwrap().to_string();
    assert!(
        wait_for(Duration::from_secs(20), || records(&calls).iter().any(
            |c| c["form"]["id"] == id && c["form"]["status"] == "DELIVRD"
        )),
        "callbacks {:?}\nprovider {:?}\n{}",
        records(&calls),
        records(&sends),
        gw.setup.log("connector.prov")
    );
    let sent = records(&sends);
    let first = sent.iter().find(|r| r["kind"] == "send").unwrap();
    assert_eq!(first["fields"]["text"], "via provider");
    assert_eq!(first["fields"]["ref"], id.as_str());
    assert_eq!(first["auth"], "Basic ZW1nOnNlY3JldA==");
    // The MO the provider posted was routed (to 4711 -> sim1).
    assert!(wait_for(Duration::from_secs(10), || records(&sends)
        .iter()
        .any(|r| r["kind"] == "mo" && r["status"] == 200)));
    let routed: i64 = gw
        .setup
        .db()
        .number("SELECT COUNT(*) FROM routelog WHERE in_connector = 'prov' AND route = 'sim1'");
    assert_eq!(routed, 1);

    // From an SMPP sender: the same provider DLR comes back as a deliver_sm receipt.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = tests::smpp_client::Client::bind(gw.setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind");
        c.submit(3, 3, "6662", true, |_| true).await.unwrap();
        let wanted = c.accepted.iter().cloned().collect();
        c.await_receipts(&wanted, Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(c.receipts.len(), 3);
    });
    // 200 matched, or 202: it came before the send's answer was recorded and was parked
    // until it was (the receipts above prove every one matched in the end).
    // The provider records a DLR post once it has our answer, which may be just after the
    // receipt reached the client: give the record a moment.
    let dlr_posts = || -> Vec<Value> {
        records(&sends)
            .into_iter()
            .filter(|r| r["kind"] == "dlr")
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while dlr_posts().len() < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let dlrs = dlr_posts();
    assert_eq!(dlrs.len(), 4, "{dlrs:?}");
    assert!(
        dlrs.iter()
            .all(|r| r["status"] == 200 || r["status"] == 202),
        "{dlrs:?}"
    );
}

#[test]
fn metrics_parse_as_prometheus_text_and_health_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let _smsc = smsc(smsc_port, &tmp.path().join("smsc.json"));
    let metrics_port = free_port();
    let gw = Gw::new(
        &format!("metrics_address = \"127.0.0.1:{metrics_port}\""),
        smsc_port,
        "",
    );
    let _d = gw.setup.start();
    let a = curl(
        &gw.url("/bin/send?to=5553&text=count+me"),
        &["-u", "demo:demo"],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    wait_port(metrics_port);
    let health = curl(&format!("http://127.0.0.1:{metrics_port}/health"), &[]);
    assert_eq!((health.status, health.body.as_str()), (200, "OK\n"));
    assert_eq!(curl(&gw.url("/health"), &[]).status, 200);
    let m = curl(&format!("http://127.0.0.1:{metrics_port}/metrics"), &[]);
    assert_eq!(m.status, 200);
    assert!(
        m.headers.contains("text/plain; version=0.0.4"),
        "{}",
        m.headers
    );
    let file = tmp.path().join("metrics.txt");
    std::fs::write(&file, &m.body).unwrap();
    // python's prometheus_client parses the exposition; print family -> sample count.
    let script = "import sys, json\nfrom prometheus_client.parser import text_string_to_metric_families as p\n\
                  print(json.dumps({f.name: [[s.name, s.labels, s.value] for s in f.samples] for f in p(open(sys.argv[1]).read())}))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "prometheus_client refused the exposition: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        m.body
    );
    let families: Value = serde_json::from_slice(&out.stdout).unwrap();
    for name in [
        "emg_connector_instances",
        "emg_connector_up",
        "emg_queue_depth",
        "emg_messages_received",
        "emg_messages_sent",
        "emg_messages_failed",
        "emg_store_commit_seconds",
        "emg_accept_commit_seconds",
        "emg_submit_response_seconds",
        "emg_http_requests",
        "emg_http_request_seconds",
        "emg_dlr_callbacks",
    ] {
        assert!(families.get(name).is_some(), "no {name} in\n{}", m.body);
    }
    let sample = |fam: &str, name: &str, labels: &[(&str, &str)]| -> f64 {
        families[fam]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s[0] == name && labels.iter().all(|(k, v)| s[1][*k] == *v))
            .and_then(|s| s[2].as_f64())
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{}", m.body))
    };
    assert_eq!(
        sample(
            "emg_messages_received",
            "emg_messages_received_total",
            &[("connector", "http-in")]
        ),
        1.0
    );
    assert_eq!(
        sample(
            "emg_http_requests",
            "emg_http_requests_total",
            &[("connector", "http-in"), ("code", "200")]
        ),
        1.0
    );
    assert!(
        sample(
            "emg_accept_commit_seconds",
            "emg_accept_commit_seconds_count",
            &[("connector", "http-in")]
        ) >= 1.0
    );
    assert!(
        sample(
            "emg_store_commit_seconds",
            "emg_store_commit_seconds_count",
            &[]
        ) >= 1.0
    );
    assert_eq!(
        sample(
            "emg_connector_instances",
            "emg_connector_instances",
            &[("connector", "sim1"), ("state", "BOUND")]
        ),
        1.0
    );
}

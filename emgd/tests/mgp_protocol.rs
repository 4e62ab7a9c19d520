//! MGP on the wire, against the real emgd binary: what a client written in any language sees.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::Setup;
use tests::daemon::free_port;

struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> Conn {
        // emgd opens its MGP listener after the connectors the harness waits for, so poll.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let s = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) if std::time::Instant::now() > deadline => panic!("connect MGP: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        }
    }
    fn send(&mut self, line: &str) {
        self.w.write_all(line.as_bytes()).unwrap();
        self.w.write_all(b"\n").unwrap();
    }
    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("a line from emgd");
        l
    }
    fn ask(&mut self, line: &str) -> String {
        self.send(line);
        self.line()
    }
}

fn setup() -> (Setup, u16) {
    let mgp = free_port();
    let s = Setup::new(
        &format!("mgp_address = \"127.0.0.1:{mgp}\""),
        "",
        "[operator.admin]\npassword = \"secret\"\nrole = \"admin\"\n",
    );
    (s, mgp)
}

#[test]
fn login_first_errors_keep_the_session_and_streams_stop() {
    let (setup, mgp) = setup();
    let _d = setup.start();
    let mut c = Conn::open(mgp);
    assert_eq!(
        c.ask(r#"{"id":1,"op":"status"}"#),
        "{\"id\":1,\"error\":{\"code\":\"not_authenticated\",\"message\":\"log in first: the first request must be {\\\"op\\\":\\\"login\\\",...} (or {\\\"op\\\":\\\"login_peer\\\"} on the local socket)\"}}\n"
    );
    assert_eq!(
        c.ask(r#"{"id":2,"op":"login","user":"admin","password":"nope"}"#),
        "{\"id\":2,\"error\":{\"code\":\"auth_failed\",\"message\":\"login failed for user admin: wrong user or password\"}}\n"
    );
    assert_eq!(
        c.ask(r#"{"id":3,"op":"login","user":"admin","password":"secret"}"#),
        format!(
            "{{\"id\":3,\"ok\":{{\"role\":\"admin\",\"user\":\"admin\",\"version\":\"{}\"}}}}\n",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert!(c
        .ask("{not json")
        .starts_with("{\"id\":null,\"error\":{\"code\":\"bad_request\",\"message\":\"not JSON: "));
    assert_eq!(
        c.ask(r#"{"id":4,"op":"hold","name":"smsc9"}"#),
        "{\"id\":4,\"error\":{\"code\":\"not_found\",\"message\":\"connector smsc9 does not exist (connectors: sim1, smpp-in)\"}}\n"
    );
    assert_eq!(
        c.ask(r#"{"id":5,"op":"hold","name":"sim1"}"#),
        "{\"id\":5,\"ok\":{\"connector\":\"sim1\",\"forceclose\":false,\"hold\":true,\"persisted\":false}}\n"
    );
    // Answers are JSON objects with their keys in alphabetical order.
    // A connector-log stream sees the release it asks for, then stops.
    assert_eq!(
        c.ask(r#"{"id":6,"op":"tail","name":"sim1"}"#),
        "{\"id\":6,\"ok\":{\"stream\":1}}\n"
    );
    c.send(r#"{"id":7,"op":"release","name":"sim1"}"#);
    let mut got = [c.line(), c.line()];
    got.sort();
    assert_eq!(
        got[0],
        "{\"id\":7,\"ok\":{\"connector\":\"sim1\",\"forceclose\":false,\"hold\":false,\"persisted\":false}}\n"
    );
    assert!(
        got[1].starts_with("{\"stream\":1,\"event\":{\"type\":\"log\",\"kind\":\"connector\",\"connector\":\"sim1\",\"instance\":0,\"line\":\"")
            && got[1].ends_with(" (0) RELEASE (by operator admin)\"}}\n"),
        "{}",
        got[1]
    );
    assert_eq!(
        c.ask(r#"{"id":8,"op":"stop","stream":1}"#),
        "{\"id\":8,\"ok\":{\"stream\":1}}\n"
    );
    assert_eq!(
        c.ask(r#"{"id":9,"op":"stop","stream":1}"#),
        "{\"id\":9,\"error\":{\"code\":\"not_found\",\"message\":\"stream 1 is not open in this session\"}}\n"
    );
}

#[test]
fn an_oversize_line_is_refused_and_the_connection_closed() {
    let (setup, mgp) = setup();
    let _d = setup.start();
    let mut c = Conn::open(mgp);
    // Before the login a line may have 16 KiB (1 MiB after it).
    let big = vec![b'x'; (1 << 20) + 1];
    let _ = c.w.write_all(&big);
    assert_eq!(
        c.line(),
        "{\"id\":null,\"error\":{\"code\":\"frame_too_large\",\"message\":\"line longer than 16384 bytes\"}}\n"
    );
    assert_eq!(c.line(), "", "closed");
}

#[test]
fn failed_logins_are_throttled_per_address() {
    let (setup, mgp) = setup();
    let d = setup.start();
    let mut c = Conn::open(mgp);
    for i in 0..5 {
        let a = c.ask(&format!(
            r#"{{"id":{i},"op":"login","user":"admin","password":"x"}}"#
        ));
        assert!(a.contains("wrong user or password"), "{a}");
    }
    let a = c.ask(r#"{"id":9,"op":"login","user":"admin","password":"secret"}"#);
    assert_eq!(
        a,
        "{\"id\":9,\"error\":{\"code\":\"auth_failed\",\"message\":\"too many failed logins from 127.0.0.1; try again in 1 s\"}}\n"
    );
    std::thread::sleep(Duration::from_millis(1100));
    let a = c.ask(r#"{"id":10,"op":"login","user":"admin","password":"secret"}"#);
    assert!(a.contains("\"ok\""), "{a}");
    let log = d.stderr_text();
    assert!(
        log.contains("MGP login failed: wrong user or password") && log.contains("127.0.0.1"),
        "{log}"
    );
}

/// The console's operations on the wire: a queue page by page, searches, a message's history,
/// moving, resending, users, routes, failure counts, and a tail that starts with history.
#[test]
fn console_operations_browse_search_move_resend_and_count() {
    let mgp = free_port();
    let setup = Setup::new(
        &format!("mgp_address = \"127.0.0.1:{mgp}\""),
        "",
        "[operator.admin]\npassword = \"secret\"\nrole = \"admin\"\n\
         [operator.viewer]\npassword = \"look\"\nrole = \"readonly\"\n\
         [connector.sim2]\ntype = \"outgoing\"\nprotocol = \"sim\"\n",
    );
    let _d = setup.start();
    let mut c = Conn::open(mgp);
    let mut n = 0;
    let mut ask = |c: &mut Conn, op: serde_json::Value| -> serde_json::Value {
        n += 1;
        let mut req = op;
        req["id"] = n.into();
        let answer: serde_json::Value = serde_json::from_str(&c.ask(&req.to_string())).unwrap();
        assert_eq!(answer["id"], n, "{answer}");
        answer
    };
    let ok = |a: serde_json::Value| -> serde_json::Value {
        assert!(a.get("ok").is_some(), "{a}");
        a["ok"].clone()
    };
    use serde_json::json;
    ok(ask(
        &mut c,
        json!({"op":"login","user":"admin","password":"secret"}),
    ));
    ok(ask(&mut c, json!({"op":"hold","name":"sim1"})));
    ok(ask(&mut c, json!({"op":"hold","name":"sim2"})));
    let ids: Vec<u64> = (0..3)
        .map(|i| {
            let to = format!("4670000{i}");
            let r = ok(ask(
                &mut c,
                json!({"op":"send","to":to,"from":"ACME","text":"hi","via":"sim1"}),
            ));
            r["id"].as_u64().unwrap()
        })
        .collect();

    // A page of two, then the rest after the last id seen.
    let page = ok(ask(
        &mut c,
        json!({"op":"queue_browse","name":"sim1","limit":2}),
    ));
    let got: Vec<u64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(got, ids[..2], "{page}");
    assert_eq!(page["more"], true);
    assert_eq!(page["messages"][0]["state"], "queued");
    assert_eq!(page["messages"][0]["dest"], "46700000");
    let rest = ok(ask(
        &mut c,
        json!({"op":"queue_browse","name":"sim1","after_id":ids[1]}),
    ));
    assert_eq!(rest["messages"][0]["id"], ids[2]);
    assert_eq!(rest["more"], false);

    // Search by destination; move the one found to sim2; the queue pages say where it is.
    let found = ok(ask(&mut c, json!({"op":"msg_search","dest":"46700002"})));
    assert_eq!(found["messages"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["messages"][0]["id"], ids[2]);
    let moved = ok(ask(
        &mut c,
        json!({"op":"msg_move","message_id":ids[2],"to":"sim2"}),
    ));
    assert_eq!(moved["target"], "sim2");
    let again = ask(
        &mut c,
        json!({"op":"msg_move","message_id":ids[2],"to":"sim2"}),
    );
    assert_eq!(again["error"]["code"], "refused", "{again}");
    let on2 = ok(ask(&mut c, json!({"op":"queue_browse","name":"sim2"})));
    assert_eq!(on2["messages"][0]["id"], ids[2]);

    // Cancel the first: final in the routelog, its history ends with it; resend a copy.
    ok(ask(&mut c, json!({"op":"msg_cancel","message_id":ids[0]})));
    let found = ok(ask(&mut c, json!({"op":"msg_search","message_id":ids[0]})));
    assert_eq!(found["messages"][0]["state"], "cancelled", "{found}");
    assert_eq!(found["messages"][0]["status"], "CANCELLED");
    let h = ok(ask(&mut c, json!({"op":"msg_history","message_id":ids[0]})));
    let steps: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["received", "routed", "final"], "{h}");
    assert_eq!(h["message"]["state"], "cancelled");
    let resent = ok(ask(&mut c, json!({"op":"msg_resend","message_id":ids[0]})));
    assert!(resent["id"].as_u64().unwrap() > ids[2], "{resent}");
    assert_eq!(resent["target"], "sim1", "routed again");
    let busy = ask(&mut c, json!({"op":"msg_resend","message_id":ids[1]}));
    assert_eq!(busy["error"]["code"], "refused", "still queued: {busy}");
    let none = ask(&mut c, json!({"op":"msg_history","message_id":999999}));
    assert_eq!(none["error"]["code"], "not_found");

    // Configuration lists and the counts (no failures yet; no latencies observed).
    let users = ok(ask(&mut c, json!({"op":"users"})));
    assert_eq!(users["users"][0]["name"], "demo");
    assert_eq!(users["users"][0]["account"], "demo");
    assert_eq!(users["users"][0]["connectors"], json!([]));
    let routes = ok(ask(&mut c, json!({"op":"routes"})));
    // An unnamed entry is named by the line of its `[[route]]` in the file emgd read (on
    // PostgreSQL the test harness adds the backend's lines above it).
    let text = std::fs::read_to_string(&setup.config).unwrap();
    let line = 1 + text.lines().position(|l| l.trim() == "[[route]]").unwrap();
    assert_eq!(
        routes["routes"],
        json!([{"order":1,"name":format!("emg.toml:{line}"),"prefix":"4","account":null,"from":null,"to":"sim1"}])
    );
    let stats = ok(ask(&mut c, json!({"op":"connector_stats","name":"sim1"})));
    assert_eq!(stats["errors"], json!([]), "{stats}");
    assert_eq!(stats["submit_response"], serde_json::Value::Null);

    // A tail with a backlog starts with the lines already written (the holds above).
    let t = ok(ask(&mut c, json!({"op":"tail","name":"sim1","backlog":50})));
    let stream = t["stream"].as_u64().unwrap();
    let mut lines = Vec::new();
    while !lines
        .iter()
        .any(|l: &String| l.contains("QUEUE MOVE message"))
    {
        let ev: serde_json::Value = serde_json::from_str(&c.line()).unwrap();
        assert_eq!(ev["stream"], stream, "{ev}");
        lines.push(ev["event"]["line"].as_str().unwrap().to_string());
    }
    assert!(lines[0].ends_with(" (0) CONNECT OK"), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("HOLD (by operator admin)")),
        "{lines:?}"
    );
    ok(ask(&mut c, json!({"op":"stop","stream":stream})));

    // A read-only operator may look, not move.
    let mut v = Conn::open(mgp);
    ok(ask(
        &mut v,
        json!({"op":"login","user":"viewer","password":"look"}),
    ));
    ok(ask(&mut v, json!({"op":"msg_search","dest":"4670"})));
    let refused = ask(
        &mut v,
        json!({"op":"msg_move","message_id":ids[1],"to":"sim2"}),
    );
    assert_eq!(refused["error"]["code"], "forbidden", "{refused}");
}

/// `watch` reports every transition of a connector's states as it happens: a bounce of the
/// sim connector passes through states that last microseconds (CONNECTED before BOUND), and
/// each one is seen, in order.
#[test]
fn watch_reports_every_transition_even_short_ones() {
    let (setup, mgp) = setup();
    let _d = setup.start();
    let mut c = Conn::open(mgp);
    let ok = |line: String| -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert!(v.get("ok").is_some(), "{v}");
        v
    };
    ok(c.ask(r#"{"id":1,"op":"login","user":"admin","password":"secret"}"#));
    // Wait until sim1 is bound (it binds at start), as `emgclient connectors --json` shows.
    let operator = support::client::Operator { mgp };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while operator.states("sim1") != ["BOUND"] {
        assert!(
            std::time::Instant::now() < deadline,
            "sim1 never bound: {}",
            operator.connector("sim1")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    ok(c.ask(r#"{"id":3,"op":"watch"}"#));
    c.send(r#"{"id":4,"op":"bounce","name":"sim1"}"#);
    let mut seen: Vec<String> = Vec::new();
    let mut answered = false;
    while !(answered && seen.last().is_some_and(|s| s == "BOUND") && seen.len() > 1) {
        let v: serde_json::Value = serde_json::from_str(&c.line()).unwrap();
        if v["id"] == 4 {
            assert!(v.get("ok").is_some(), "{v}");
            answered = true;
        } else if v["event"]["type"] == "state" && v["event"]["connector"] == "sim1" {
            seen.push(v["event"]["states"][0].as_str().unwrap().to_string());
        }
    }
    let at = |s: &str| seen.iter().position(|x| x == s);
    assert!(at("CONNECTED").is_some(), "{seen:?}");
    assert!(
        at("CONNECTED") < seen.iter().rposition(|x| x == "BOUND"),
        "in order: {seen:?}"
    );
    assert_ne!(
        seen[0], "BOUND",
        "the bounce's first step is reported: {seen:?}"
    );
}

/// A gateway routing destinations starting with 5 to `smsc`, an outgoing SMPP connector to
/// the node SMSC on `port`, throttled submits retried at once (retry scheme in `retry.txt`).
fn setup_with_smsc(port: u16) -> (Setup, u16) {
    let mgp = free_port();
    let s = Setup::new(
        &format!("mgp_address = \"127.0.0.1:{mgp}\""),
        "",
        &format!(
            r#"[operator.admin]
password = "secret"
role = "admin"

[[route]]
prefix = "5"
to = "smsc"

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{port}"
username = "emg"
password = "secret"
static = true
windowsize = 10
retryscheme = "retry.txt"
"#
        ),
    );
    std::fs::write(s.dir.path().join("retry.txt"), "M* 0x58 0 0 0 1 0\n").unwrap();
    (s, mgp)
}

fn login(mgp: u16) -> Conn {
    let mut c = Conn::open(mgp);
    let v = c.ask(r#"{"id":1,"op":"login","user":"admin","password":"secret"}"#);
    assert!(v.contains("\"ok\""), "{v}");
    c
}

fn ask_json(c: &mut Conn, request: serde_json::Value) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&c.ask(&request.to_string())).unwrap();
    v
}

#[test]
fn msg_history_lists_each_submit_attempt_with_its_answer_its_receipt_and_callback() {
    let smsc_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    // Half the submits are refused with ESME_RTHROTTLED, then accepted when tried again.
    let smsc = support::smsc::Smsc::start(
        smsc_port,
        dir.path().join("smsc.json"),
        &["--throttle-share", "0.5", "--dlr-delay", "20"],
    );
    let (setup, mgp) = setup_with_smsc(smsc_port);
    let _d = setup.start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let accepted = rt.block_on(async {
        let mut c = tests::smpp_client::Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind to emgd");
        c.submit(20, 5, "5551234", true, |_| true).await.unwrap();
        let wanted: std::collections::HashSet<String> = c.accepted.iter().cloned().collect();
        c.await_receipts(&wanted, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(wanted.is_subset(&c.receipts), "every receipt came back");
        c.accepted.clone()
    });
    assert_eq!(accepted.len(), 20);
    let state = smsc.state();
    assert!(state["throttled"].as_u64().unwrap() >= 5, "{state}");

    let mut c = login(mgp);
    let mut retried = 0;
    for id in &accepted {
        let id: u64 = id.parse().expect("emgd's message ids are decimal");
        // The callback (the receipt's deliver_sm answered) is recorded after our client saw
        // it: poll for it.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let h = loop {
            let h = ask_json(
                &mut c,
                serde_json::json!({"id":2,"op":"msg_history","message_id":id}),
            );
            let events = h["ok"]["events"].as_array().cloned().unwrap_or_default();
            if events.iter().any(|e| e["what"] == "callback") {
                break h;
            }
            assert!(std::time::Instant::now() < deadline, "no callback: {h}");
            std::thread::sleep(Duration::from_millis(100));
        };
        let events = h["ok"]["events"].as_array().unwrap();
        let steps: Vec<(&str, &str)> = events
            .iter()
            .map(|e| (e["what"].as_str().unwrap(), e["detail"].as_str().unwrap()))
            .collect();
        let submits: Vec<&str> = steps
            .iter()
            .filter(|(w, _)| *w == "submit")
            .map(|(_, d)| *d)
            .collect();
        // Every refusal names its code; exactly one acceptance, last, with the SMSC's id.
        let (last, refused) = submits.split_last().expect("at least one submit");
        assert!(last.starts_with("on smsc (0): OK, remote id "), "{steps:?}");
        for r in refused {
            assert_eq!(*r, "on smsc (0): RETRY, error 0x00000058", "{steps:?}");
        }
        retried += usize::from(!refused.is_empty());
        let what: Vec<&str> = steps.iter().map(|(w, _)| *w).collect();
        let at = |w: &str| what.iter().position(|x| *x == w).unwrap();
        assert!(
            what.iter().rposition(|x| *x == "submit") < Some(at("receipt")),
            "{steps:?}"
        );
        assert!(at("receipt") < at("callback"), "{steps:?}");
        let receipt = steps[at("receipt")].1;
        assert!(
            receipt.starts_with("DELIVRD from smsc, remote id "),
            "{steps:?}"
        );
        assert!(
            steps[at("callback")].1.starts_with("on smpp-in"),
            "{steps:?}"
        );
        assert!(steps[at("callback")].1.contains(": OK"), "{steps:?}");
        // The times: each step at or after the one before.
        let times: Vec<i64> = events
            .iter()
            .map(|e| e["at_us"].as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{h}");
    }
    assert!(
        retried >= 3,
        "some messages were throttled first: {retried}"
    );
}

#[test]
fn connectors_report_the_window_in_use_per_instance_under_load() {
    let mgp = free_port();
    // Each submit to the simulated SMSC takes 300 ms: a session keeps its window of 10 full.
    let setup = Setup::new(
        &format!("mgp_address = \"127.0.0.1:{mgp}\""),
        "latency_ms = 300\nwindowsize = 10\ndlr_delay_ms = 10",
        "[operator.admin]\npassword = \"secret\"\nrole = \"admin\"\n",
    );
    let _d = setup.start();
    let mut c = login(mgp);
    let port = setup.smpp_port;
    let load = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut c = tests::smpp_client::Client::bind(port, "demo", "demo")
                .await
                .unwrap()
                .expect("bind to emgd");
            c.submit(100, 20, "4670000", false, |_| true).await.unwrap();
            c.accepted.len()
        })
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (listed, session) = loop {
        let list = ask_json(&mut c, serde_json::json!({"id":2,"op":"connectors"}));
        let sim1 = list["ok"]["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "sim1")
            .cloned()
            .unwrap();
        let detail = ask_json(
            &mut c,
            serde_json::json!({"id":3,"op":"connector","name":"sim1"}),
        );
        let listed = sim1["inflight"][0].as_u64().unwrap();
        let session = detail["ok"]["sessions"][0]["inflight"]
            .as_u64()
            .unwrap_or(0);
        if listed > 0 && session > 0 {
            break (listed, session);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "in flight never seen: {sim1} {detail}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        listed <= 10 && session <= 10,
        "within the window: {listed} {session}"
    );
    assert_eq!(load.join().unwrap(), 100);
    // Once the queue is empty the window empties too.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let list = ask_json(&mut c, serde_json::json!({"id":4,"op":"connectors"}));
        let sim1 = list["ok"]["connectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "sim1")
            .cloned()
            .unwrap();
        if sim1["queued"] == 0 && sim1["inflight"] == serde_json::json!([0]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never drained: {sim1}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

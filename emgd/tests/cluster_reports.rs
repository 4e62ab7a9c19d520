//! What goes back to clients in a cluster (tests::cluster, several emgd nodes on one
//! PostgreSQL database), and the connector flags every node follows:
//! - python smpplib submits on node A as a transmitter and binds later, as a receiver, only
//!   on node C: every receipt and every MO reply (the npm SMSC's, routed to user demo) reaches
//!   it there, each exactly once; A released them to the store, C claimed them;
//! - DLR callbacks of an incoming HTTP connector: each sent once while their node lives, and
//!   when that node is SIGKILLed with callbacks still failing, the other node takes them over
//!   and sends each once (counted at python's http.server);
//! - hold and force-close set through one node's MGP act on the other node too, and
//!   `emgclient connectors` on one node shows each connector's sessions on every node.

mod support;

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};
use support::peers::{curl, records, sink, wait_for};
use support::smsc::Smsc;
use tests::cluster::Cluster;
use tests::daemon::free_port;

/// The outgoing connector `smsc` to the SMSC on `port`; everything for 5 goes there.
fn smsc_connector(port: u16) -> String {
    format!(
        r#"
[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{port}"
username = "emg"
password = "secret"
static = true
windowsize = 16

[[route]]
prefix = "5"
to = "smsc"
"#
    )
}

/// How many times each key came (receipts by message id, MO by text).
fn counts(report: &Value) -> HashMap<String, u64> {
    report["receipt_counts"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn receipts_and_mo_go_back_through_the_node_where_the_client_binds() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &["--mo-reply"]);
    // Only node A sends to the SMSC; its MO replies go to user demo's sessions.
    let a = format!(
        "{}\n[[route]]\nfrom = \"smsc\"\nto = \"smpp-in\"\nuser = \"demo\"\n",
        smsc_connector(smsc_port)
    );
    let mut cluster = Cluster::new(
        Path::new(support::EMGD),
        "",
        &[a, String::new(), String::new()],
    );
    cluster.start_all();
    let (port_a, port_c) = (cluster.nodes[0].smpp_port, cluster.nodes[2].smpp_port);

    // 1. Submit on A as a transmitter: nothing can come back on that bind.
    const N: usize = 20;
    let sent = support::smpplib(
        port_a,
        &[
            "--bind",
            "transmitter",
            "--count",
            &N.to_string(),
            "--dest",
            "5551",
            "--tag",
            "across ",
        ],
    );
    let accepted: Vec<String> = sent["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(accepted.len(), N, "{sent}");

    // 2. The receipts and MO come to A, which has no session of demo: it releases the reports
    // and the MO to the store, for the node where demo binds.
    let released = || {
        cluster
            .query(
                "SELECT COUNT(*) FROM messages WHERE claim_node = -1 AND wait_user = 'demo'
                 AND target = 'smpp-in' AND state IN (0, 5)",
            )
            .parse::<usize>()
            .unwrap_or(0)
    };
    assert!(
        wait_for(Duration::from_secs(30), || released() == 2 * N),
        "{} of {} reports and MO released by A\nA: {}",
        released(),
        2 * N,
        cluster.nodes[0].stderr_text()
    );
    assert!(
        cluster.nodes[0]
            .stderr_text()
            .contains("messages waiting for user demo (no session of it here)"),
        "A says what it released: {}",
        cluster.nodes[0].stderr_text()
    );

    // 3. demo binds on C only, as a receiver: every receipt and MO reply, each once.
    let got = support::smpplib(
        port_c,
        &[
            "--bind",
            "receiver",
            "--count",
            "0",
            "--expect",
            &(2 * N).to_string(),
            "--settle",
            "3",
            "--timeout",
            "40",
        ],
    );
    let counts = counts(&got);
    for id in &accepted {
        assert_eq!(counts.get(id), Some(&1), "receipt of {id} once on C: {got}");
    }
    for i in 0..N {
        let mo = format!("re:across message {i}");
        assert_eq!(counts.get(&mo), Some(&1), "MO {mo:?} once on C: {got}");
    }
    assert_eq!(counts.len(), 2 * N, "nothing else came: {got}");
    assert_eq!(released(), 0, "C claimed every released row");
    assert!(
        cluster.nodes[2]
            .stderr_text()
            .contains("messages waiting for user demo, released by other nodes"),
        "C says what it claimed: {}",
        cluster.nodes[2].stderr_text()
    );
    let open = cluster
        .query("SELECT COUNT(*) FROM messages WHERE target = 'smpp-in' AND state IN (0, 1, 5)");
    assert_eq!(open, "0", "every report and MO is done");
    println!(
        "reports across nodes: {N} receipts and {N} MO submitted/received on node A, delivered once each to the client bound on node C"
    );
    drop(smsc);
}

/// Node `i`'s incoming HTTP connector and its SMSC connector.
fn http_node(http_port: u16, smsc_port: u16) -> String {
    format!(
        r#"
[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http_port}"
{}"#,
        smsc_connector(smsc_port)
    )
}

/// Submit `n` messages through the incoming HTTP connector on `port`, each asking for its
/// report at `callback`; their ids. A temporary refusal (503, or no answer within curl's 20 s
/// on a loaded machine: nothing acknowledged) is tried again, a few times.
fn http_submit(port: u16, n: usize, tag: &str, callback: &str) -> Vec<String> {
    (0..n)
        .map(|i| {
            let url = format!(
                "http://127.0.0.1:{port}/bin/send.json?to=5556&from=4711&text={tag}+{i}&dlr-url={callback}"
            );
            let mut tries = 0;
            let body = loop {
                let (status, body) = curl(&url, &["-u", "demo:demo"]);
                tries += 1;
                match status {
                    200 => break body,
                    0 | 503 if tries < 5 => {
                        eprintln!("submit {tag} {i}: {status} {body}; trying again");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                    _ => panic!("submit {tag} {i}: {status} {body}"),
                }
            };
            serde_json::from_str::<Value>(&body).unwrap()["msgid"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The final (DELIVRD) callbacks the sink answered, per message id.
fn answered(calls: &Path) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for c in records(calls) {
        if c["form"]["status"] != "DELIVRD" {
            continue;
        }
        let id = c["form"]["id"].as_str().unwrap_or_default().to_string();
        *out.entry(id).or_default() += 1;
    }
    out
}

#[test]
fn http_callbacks_are_sent_once_and_taken_over_when_their_node_dies() {
    let tmp = tempfile::tempdir().unwrap();
    let (smsc_a_port, smsc_b_port) = (free_port(), free_port());
    let _smsc_a = Smsc::start(smsc_a_port, tmp.path().join("a.json"), &[]);
    let _smsc_b = Smsc::start(smsc_b_port, tmp.path().join("b.json"), &[]);
    let (http_a, http_b) = (free_port(), free_port());
    let mut cluster = Cluster::new(
        Path::new(support::EMGD),
        "",
        &[
            http_node(http_a, smsc_a_port),
            http_node(http_b, smsc_b_port),
        ],
    );
    cluster.start_all();
    support::peers::wait_port(http_a);
    support::peers::wait_port(http_b);
    let sink_port = free_port();
    let callback = format!("http://127.0.0.1:{sink_port}/cb");

    // 1. Both nodes live: each callback is made once, by the node that matched the receipt.
    const N: usize = 20;
    let calls = tmp.path().join("calls.jsonl");
    let mut first_sink = sink(sink_port, &calls, 0);
    let mut ids = http_submit(http_a, N, "live", &callback);
    ids.extend(http_submit(http_b, N, "live", &callback));
    assert!(
        wait_for(Duration::from_secs(40), || answered(&calls).len() >= 2 * N),
        "{} of {} callbacks\nA: {}\nB: {}",
        answered(&calls).len(),
        2 * N,
        cluster.nodes[0].stderr_text(),
        cluster.nodes[1].stderr_text()
    );
    std::thread::sleep(Duration::from_secs(2));
    let got = answered(&calls);
    for id in &ids {
        assert_eq!(got.get(id), Some(&1), "callback of {id} once: {got:?}");
    }
    let _ = first_sink.0.kill();
    let _ = first_sink.0.wait();

    // 2. The application is down: A's callbacks fail and stay queued on A, retried.
    let late = http_submit(http_a, N, "late", &callback);
    let attempted = || {
        cluster
            .query(&format!(
                "SELECT COUNT(DISTINCT message_id) FROM msg_events WHERE kind = 2 AND message_id IN ({})",
                late.join(",")
            ))
            .parse::<usize>()
            .unwrap_or(0)
    };
    assert!(
        wait_for(Duration::from_secs(40), || attempted() >= N),
        "A tried {} of {N} callbacks\nA: {}",
        attempted(),
        cluster.nodes[0].stderr_text()
    );
    let queued_on_a = cluster.query(
        "SELECT COUNT(*) FROM messages WHERE target = 'http-in' AND state IN (0, 5)
         AND COALESCE(claim_node, (id / 1000000000000000)::integer) = 1",
    );
    assert_eq!(queued_on_a, N.to_string(), "A holds its failing callbacks");

    // 3. SIGKILL A, the application comes back: B takes A's callbacks over, each sent once.
    let killed = Instant::now();
    cluster.kill9(0);
    let calls2 = tmp.path().join("calls2.jsonl");
    let _second_sink = sink(sink_port, &calls2, 0);
    assert!(
        wait_for(Duration::from_secs(60), || answered(&calls2).len() >= N),
        "{} of A's {N} callbacks made by B\nB: {}",
        answered(&calls2).len(),
        cluster.nodes[1].stderr_text()
    );
    let took = killed.elapsed();
    std::thread::sleep(Duration::from_secs(3));
    let got = answered(&calls2);
    for id in &late {
        assert_eq!(
            got.get(id),
            Some(&1),
            "callback of {id} once, by B: {got:?}"
        );
    }
    assert_eq!(got.len(), N, "only A's callbacks: {got:?}");
    assert!(
        cluster.nodes[1]
            .stderr_text()
            .contains("queued messages of node 1, whose lease ran out"),
        "B took A's queue over: {}",
        cluster.nodes[1].stderr_text()
    );
    println!(
        "HTTP callbacks across nodes: {} made once each while both lived; {N} of the killed node's made once each by the other, {:.1} s after the SIGKILL",
        2 * N,
        took.as_secs_f64()
    );
}

#[test]
fn hold_and_forceclose_on_one_node_act_on_every_node() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &[]);
    let mut cluster = Cluster::new(
        Path::new(support::EMGD),
        "",
        &[smsc_connector(smsc_port), smsc_connector(smsc_port)],
    );
    cluster.start_all();
    let mut mgp_a = support::mgp::Mgp::login(cluster.nodes[0].mgp_port);
    let mut mgp_b = support::mgp::Mgp::login(cluster.nodes[1].mgp_port);
    let smsc_on =
        |m: &mut support::mgp::Mgp| -> Value { m.call(r#""op":"connector","name":"smsc""#) };
    assert!(
        wait_for(Duration::from_secs(20), || smsc_on(&mut mgp_a)["bound"]
            == 1),
        "A's smsc binds"
    );

    // `emgclient connectors` on either node shows the sessions per node (NODES).
    let op_b = support::client::Operator {
        mgp: cluster.nodes[1].mgp_port,
    };
    let line = |text: &str| -> String {
        text.lines()
            .find(|l| l.starts_with("smsc "))
            .unwrap_or_default()
            .trim_end()
            .to_string()
    };
    assert!(
        wait_for(Duration::from_secs(10), || line(
            &op_b.text(&["connectors"])
        )
        .ends_with("1:1 2:1")),
        "{}",
        op_b.text(&["connectors"])
    );
    let shown = op_b.json(&["connectors"]);
    let smsc_row = shown["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "smsc")
        .unwrap()
        .clone();
    assert_eq!(smsc_row["nodes"][0]["node_id"], 1, "{smsc_row}");
    assert_eq!(smsc_row["nodes"][0]["users"][0], "emg", "{smsc_row}");
    assert_eq!(smsc_row["nodes"][1]["bound"], 1, "{smsc_row}");

    // Hold on B: A holds too, and sends nothing while held.
    mgp_b.call(r#""op":"hold","name":"smsc""#);
    assert!(
        wait_for(Duration::from_secs(5), || smsc_on(&mut mgp_a)["hold"]
            == true),
        "A follows B's hold: {}",
        smsc_on(&mut mgp_a)
    );
    assert!(
        cluster.nodes[0]
            .log("connector.smsc")
            .contains("HOLD (set on another node)"),
        "A's connector log says so: {}",
        cluster.nodes[0].log("connector.smsc")
    );
    let sent = support::smpplib(
        cluster.nodes[0].smpp_port,
        &["--bind", "transmitter", "--count", "5", "--dest", "5557"],
    );
    assert_eq!(sent["accepted"].as_array().unwrap().len(), 5, "{sent}");
    std::thread::sleep(Duration::from_secs(2));
    let texts = || support::smsc::texts(&smsc.state());
    assert!(
        texts().is_empty(),
        "nothing left A while held: {:?}",
        texts()
    );

    // Release on B: A sends.
    mgp_b.call(r#""op":"release","name":"smsc""#);
    assert!(
        wait_for(Duration::from_secs(20), || texts().len() == 5),
        "A sends after B's release: {:?}\nA's smsc: {}\nqueue: {}\nA: {}\nA's log: {}",
        texts(),
        smsc_on(&mut mgp_a),
        cluster.query("SELECT id, target, state, claim_node FROM messages WHERE state IN (0, 5)"),
        cluster.nodes[0].stderr_text(),
        cluster.nodes[0].log("connector.smsc")
    );

    // Force-close on B (not asked to persist): A's sessions close and stay closed.
    let flags = mgp_b.call(r#""op":"forceclose","name":"smsc""#);
    assert_eq!(
        flags["persisted"], true,
        "stored on a shared store: {flags}"
    );
    assert!(
        wait_for(Duration::from_secs(10), || {
            let c = smsc_on(&mut mgp_a);
            c["forceclose"] == true && c["bound"] == 0
        }),
        "A follows B's force-close: {}",
        smsc_on(&mut mgp_a)
    );
    mgp_b.call(r#""op":"forceclose_clear","name":"smsc""#);
    assert!(
        wait_for(Duration::from_secs(30), || {
            let c = smsc_on(&mut mgp_a);
            c["forceclose"] == false && c["bound"] == 1
        }),
        "A binds again after B cleared it: {}",
        smsc_on(&mut mgp_a)
    );
}

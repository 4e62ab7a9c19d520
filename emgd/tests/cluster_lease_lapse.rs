//! Fail-over safety of a node that is alive but lost its lease (tests::cluster, two nodes on
//! one PostgreSQL, an npm SMSC each, python smpplib clients: tests/peers/cluster_client.py):
//! - cut from PostgreSQL (its connections dropped again and again, then its role refused
//!   login for longer than its lease): it answers temporary errors (SMPP ESME_RMSGQFUL, HTTP
//!   503 with Retry-After), acknowledges nothing it could not store (every acknowledged
//!   message is delivered), and resumes by itself once the server takes it back;
//! - stalled (SIGSTOP) longer than its lease while the other node takes its queue over: woken,
//!   it sends none of what it held in memory;
//! - SIGKILL while submits are in flight (the SMSC answers slowly): the other node sends them
//!   again; duplicates are only those, and `nodes` counts them.

mod support;

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::mgp::Mgp;
use support::smsc::Smsc;
use tests::cluster::Cluster;
use tests::daemon::free_port;

/// The outgoing connector `smsc` of a node, to its own SMSC; everything for 5 goes there.
fn smsc_connector(port: u16, extra: &str) -> String {
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
{extra}
[[route]]
prefix = "5"
to = "smsc"
"#
    )
}

/// What tests/peers/cluster_client.py reports.
struct Load {
    acked: HashMap<String, String>,
    refused: HashMap<String, u64>,
    unanswered: Vec<String>,
}

fn load(v: &Value) -> Load {
    let map = |k: &str| v[k].as_object().cloned().unwrap_or_default();
    Load {
        acked: map("acked")
            .into_iter()
            .map(|(t, id)| (t, id.as_str().unwrap_or_default().to_string()))
            .collect(),
        refused: map("refused")
            .into_iter()
            .map(|(t, s)| (t, s.as_u64().unwrap_or_default()))
            .collect(),
        unanswered: v["unanswered"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|t| t.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Start the python smpplib load client (it prints its JSON when done).
fn client(ports: &[u16], args: &[&str]) -> std::process::Child {
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    Command::new("python3")
        .arg(support::peers::peers().join("cluster_client.py"))
        .arg("--ports")
        .arg(ports.join(","))
        .args(["--receipt-wait", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (scripts/test installs it and smpplib)")
}

fn finish(child: std::process::Child) -> Value {
    let out = child.wait_with_output().expect("cluster_client.py ends");
    assert!(
        out.status.success(),
        "cluster_client.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "cluster_client.py printed no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Text -> how many times the SMSCs got it.
fn tally(smscs: &[&Smsc]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for s in smscs {
        for sub in support::smsc::submits(&s.state()) {
            let text = sub["text"].as_str().unwrap_or_default().to_string();
            *out.entry(text).or_default() += 1;
        }
    }
    out
}

fn wait_for(limit: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    ok()
}

fn takeovers(mgp_port: u16) -> Value {
    Mgp::login(mgp_port).call(r#""op":"nodes""#)["takeovers"].clone()
}

const RMSGQFUL: u64 = 0x14;

#[test]
fn a_node_cut_from_postgresql_refuses_for_now_loses_nothing_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let (pa, pb) = (free_port(), free_port());
    let smsc_a = Smsc::start(pa, tmp.path().join("a.json"), &[]);
    let smsc_b = Smsc::start(pb, tmp.path().join("b.json"), &["--id-base", "200000000"]);
    let http = free_port();
    let http_in = format!(
        "\n[connector.http-in]\ntype = \"incoming\"\nprotocol = \"http\"\naddress = \"127.0.0.1:{http}\"\n"
    );
    let mut cluster = Cluster::new(
        Path::new(support::EMGD),
        "",
        &[smsc_connector(pa, &http_in), smsc_connector(pb, "")],
    );
    let role = cluster.own_role(0);
    cluster.start_all();
    let port_a = cluster.nodes[0].smpp_port;

    // 6,000 messages to node A at 200 a second: 30 s, across the cuts below and after.
    const COUNT: usize = 6_000;
    let c = client(
        &[port_a],
        &[
            "--count",
            "6000",
            "--rate",
            "200",
            "--window",
            "10",
            "--tag",
            "cut",
            "--timeout",
            "120",
        ],
    );
    std::thread::sleep(Duration::from_secs(3));
    // 1. Its connections dropped every 250 ms for 3 s: it reconnects; its lease holds.
    let mut dropped = 0;
    for _ in 0..12 {
        dropped += cluster.drop_connections(0);
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(dropped > 0, "node A had connections to drop");
    // 2. Cut for 9 s, more than its lease (4 s): it refuses, its lease lapses.
    cluster.cut(0, &role);
    let cut_at = Instant::now();
    std::thread::sleep(Duration::from_secs(6));
    let (status, head) = support::peers::curl(
        &format!(
            "http://127.0.0.1:{http}/bin/send?USERNAME=demo&PASSWORD=demo&DESTADDR=5551&MESSAGE=during+cut"
        ),
        &["-D", "-"],
    );
    assert_eq!(status, 503, "HTTP while cut: {head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after:"),
        "503 with Retry-After: {head}"
    );
    std::thread::sleep(Duration::from_secs(9).saturating_sub(cut_at.elapsed()));
    cluster.mend(&role);
    let report = finish(c);
    let l = load(&report);

    // Every acknowledged message is delivered; the refusals were temporary.
    let all = || tally(&[&smsc_a, &smsc_b]);
    assert!(
        wait_for(Duration::from_secs(60), || {
            let t = all();
            l.acked.keys().all(|k| t.contains_key(k))
        }),
        "{} of {} acknowledged messages reached an SMSC\nA: {}",
        l.acked.keys().filter(|k| all().contains_key(*k)).count(),
        l.acked.len(),
        cluster.nodes[0].stderr_text()
    );
    std::thread::sleep(Duration::from_secs(1));
    let t = all();
    let refusals: Vec<u64> = l.refused.values().copied().collect();
    assert!(!refusals.is_empty(), "the cut node refused something");
    assert!(
        refusals.iter().all(|s| *s == RMSGQFUL),
        "refused only with ESME_RMSGQFUL: {refusals:?}"
    );
    assert_eq!(
        l.acked.len() + l.refused.len() + l.unanswered.len(),
        COUNT,
        "every submit was answered or counted as unanswered"
    );
    // It resumed by itself: the last messages, sent after the cut, were acknowledged.
    assert!(
        l.acked.contains_key(&format!("cut-{}", COUNT - 1)),
        "the last message was acknowledged once the server took node A back\n{}",
        cluster.nodes[0].stderr_text()
    );
    let twice: usize = t
        .iter()
        .filter(|(k, _)| k.starts_with("cut-"))
        .map(|(_, n)| n - 1)
        .sum();
    let refused_delivered = l.refused.keys().filter(|k| t.contains_key(*k)).count();
    let stderr_a = cluster.nodes[0].stderr_text();
    assert!(
        stderr_a.contains("its lease lapsed"),
        "node A says its lease lapsed: {stderr_a}"
    );
    assert!(
        stderr_a.contains("lease renewed after it lapsed"),
        "node A says it resumed: {stderr_a}"
    );
    // When the refusals came: per 3 s of the load (600 messages).
    let mut per_slice = vec![0usize; COUNT / 600];
    for text in l.refused.keys() {
        if let Some(i) = text
            .strip_prefix("cut-")
            .and_then(|n| n.parse::<usize>().ok())
        {
            let last = per_slice.len() - 1;
            per_slice[(i / 600).min(last)] += 1;
        }
    }
    println!("refused per 3 s of load: {per_slice:?}");
    let a = takeovers(cluster.nodes[0].mgp_port);
    let b = takeovers(cluster.nodes[1].mgp_port);
    assert!(a["lease_lapses"].as_u64() >= Some(1), "{a}");
    println!(
        "PostgreSQL cut of node A: {} acknowledged, all delivered; {} refused with ESME_RMSGQFUL ({} of them delivered anyway: stored, the answer lost), {} unanswered; {dropped} connections dropped; {twice} delivered twice (node B took over {} and resent {} that A was submitting)",
        l.acked.len(),
        l.refused.len(),
        refused_delivered,
        l.unanswered.len(),
        b["taken"],
        b["resent"]
    );
    assert!(
        twice as u64 <= b["resent"].as_u64().unwrap_or(0) + a["resent"].as_u64().unwrap_or(0),
        "only messages in flight at the cut arrive twice: {twice} twice; A {a}, B {b}"
    );
}

#[test]
fn a_stalled_node_sends_nothing_that_another_node_took_over() {
    let tmp = tempfile::tempdir().unwrap();
    let (pa, pb) = (free_port(), free_port());
    // A's SMSC answers after 2 s: A's queue waits in A's memory behind its window of 16.
    let smsc_a = Smsc::start(pa, tmp.path().join("a.json"), &["--resp-delay", "2000"]);
    let smsc_b = Smsc::start(pb, tmp.path().join("b.json"), &["--id-base", "200000000"]);
    let mut cluster = Cluster::new(
        Path::new(support::EMGD),
        "",
        &[smsc_connector(pa, ""), smsc_connector(pb, "")],
    );
    cluster.start_all();
    let port_a = cluster.nodes[0].smpp_port;
    const HELD: usize = 500;
    let l = load(&finish(client(
        &[port_a],
        &[
            "--count",
            "500",
            "--window",
            "50",
            "--tag",
            "held",
            "--timeout",
            "60",
        ],
    )));
    assert_eq!(l.acked.len(), HELD, "A acknowledged every message");
    assert!(
        wait_for(Duration::from_secs(20), || !tally(&[&smsc_a]).is_empty()),
        "A sends"
    );
    // A stalls (SIGSTOP) for longer than its lease: B takes its queue over.
    cluster.signal(0, libc::SIGSTOP);
    std::thread::sleep(Duration::from_millis(300));
    let before_stall = tally(&[&smsc_a]).len();
    let taken = wait_for(Duration::from_secs(30), || {
        tally(&[&smsc_b])
            .keys()
            .filter(|k| k.starts_with("held-"))
            .count()
            >= HELD - before_stall
    });
    // A wakes with the rest of its queue in memory and its session to its SMSC up.
    cluster.signal(0, libc::SIGCONT);
    assert!(
        taken,
        "B took A's queue over\nB: {}",
        cluster.nodes[1].stderr_text()
    );
    std::thread::sleep(Duration::from_secs(6));
    let at_a = tally(&[&smsc_a]);
    let at_b = tally(&[&smsc_b]);
    let both = at_b.keys().filter(|k| at_a.contains_key(*k)).count();
    let resent = takeovers(cluster.nodes[1].mgp_port)["resent"]
        .as_u64()
        .unwrap_or(0) as usize;
    println!(
        "stalled node: A had sent {before_stall} of its {HELD} when it stalled; B delivered {} (resending {resent} A was submitting), A sent {} more after waking; {both} reached both SMSCs",
        at_b.len(),
        at_a.len() - before_stall
    );
    assert_eq!(
        at_a.len(),
        before_stall,
        "the stalled node sent messages B had taken over\nA: {}",
        cluster.nodes[0].stderr_text()
    );
    assert!(
        l.acked
            .keys()
            .all(|k| at_a.contains_key(k) || at_b.contains_key(k)),
        "every acknowledged message delivered"
    );
    assert!(
        both <= resent,
        "only what A was submitting when it stalled arrives twice: {both} twice, {resent} resent"
    );
    let stderr_a = cluster.nodes[0].stderr_text();
    assert!(
        stderr_a.contains("its lease lapsed")
            && stderr_a.contains("queued messages still claimed by it"),
        "A says it lapsed and what it reloaded (its clients' receipts that came meanwhile): {stderr_a}"
    );
    // A takes traffic again.
    let again = load(&finish(client(
        &[port_a],
        &["--count", "50", "--tag", "after", "--timeout", "60"],
    )));
    assert_eq!(again.acked.len(), 50, "A accepts again once renewed");
    assert!(
        wait_for(Duration::from_secs(30), || {
            tally(&[&smsc_a])
                .keys()
                .filter(|k| k.starts_with("after-"))
                .count()
                == 50
        }),
        "A sends again\nA: {}",
        cluster.nodes[0].stderr_text()
    );
}

#[test]
fn submits_in_flight_on_a_killed_node_are_resent_by_another_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let (pa, pb) = (free_port(), free_port());
    // A's SMSC answers each submit after 3 s: A's window (16) holds submits not answered.
    let smsc_a = Smsc::start(pa, tmp.path().join("a.json"), &["--resp-delay", "3000"]);
    let smsc_b = Smsc::start(pb, tmp.path().join("b.json"), &["--id-base", "200000000"]);
    let mut cluster = Cluster::new(
        Path::new(support::EMGD),
        "",
        &[smsc_connector(pa, ""), smsc_connector(pb, "")],
    );
    cluster.start_all();
    const COUNT: usize = 300;
    let l = load(&finish(client(
        &[cluster.nodes[0].smpp_port],
        &[
            "--count",
            "300",
            "--window",
            "50",
            "--tag",
            "fly",
            "--timeout",
            "60",
        ],
    )));
    assert_eq!(l.acked.len(), COUNT, "A acknowledged every message");
    // A is submitting: 16 sent and unanswered at a time.
    assert!(
        wait_for(Duration::from_secs(20), || tally(&[&smsc_a]).len() >= 20),
        "A's SMSC got submits"
    );
    let killed = Instant::now();
    cluster.kill9(0);
    let at_a = tally(&[&smsc_a]);
    assert!(
        wait_for(Duration::from_secs(40), || {
            let t = tally(&[&smsc_a, &smsc_b]);
            l.acked.keys().all(|k| t.contains_key(k))
        }),
        "every acknowledged message delivered\nB: {}",
        cluster.nodes[1].stderr_text()
    );
    std::thread::sleep(Duration::from_millis(500));
    let at_b = tally(&[&smsc_b]);
    let twice: Vec<&String> = at_b.keys().filter(|k| at_a.contains_key(*k)).collect();
    let b = takeovers(cluster.nodes[1].mgp_port);
    let resent = b["resent"].as_u64().unwrap_or(0) as usize;
    println!(
        "in-flight resend: SIGKILL with A's SMSC holding its answers; A's SMSC got {} ({} answered at most), B took over {} and resent {resent} that A was submitting; {} of {COUNT} arrived twice, all of them among those resent; fail-over done {:.1} s after SIGKILL",
        at_a.len(),
        at_a.len().saturating_sub(16),
        b["taken"],
        twice.len(),
        killed.elapsed().as_secs_f64()
    );
    assert!(resent > 0, "B resent A's in-flight submits: {b}");
    assert!(
        twice.len() <= resent,
        "only submits in flight may arrive twice: {} twice, {resent} resent",
        twice.len()
    );
    // In flight means within A's window: at most 16 sent and unanswered when it died (plus
    // answers A had not yet recorded).
    assert!(resent <= 16 + 16, "resent {resent}, window 16");
    let metrics_free = cluster.nodes[1].stderr_text();
    assert!(
        metrics_free.contains("were being submitted by it and are sent again"),
        "B logs the resend: {metrics_free}"
    );
}

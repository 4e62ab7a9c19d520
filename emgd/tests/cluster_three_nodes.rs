//! Three emgd nodes on one PostgreSQL (tests::cluster), an npm SMSC bound from each (it keeps
//! receipts until acknowledged: `--resend-unacked`), a python smpplib client per node
//! (tests/peers/cluster_client.py, users c1..c3) submitting `EMG_CLUSTER_MESSAGES` messages
//! in all (9,000 by default, CI; 100,000 by hand) asking for receipts. Node 3 is SIGKILLed at
//! peak (half the messages at the SMSCs) and restarted 10 s later; its client binds to the
//! next node and goes on. Counted at the SMSCs and the clients: every acknowledged message
//! delivered, every receipt back to its client, duplicates counted (only submits node 3 was
//! sending when it died may arrive twice), and the fail-over time (SIGKILL to the first
//! message node 3 had acknowledged leaving another node).
//!
//! A report waits on the node that queued it for a session of its user there: a client
//! whose receipts stop coming binds to the next node (`--rotate-idle`).

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

const NODES: usize = 3;
/// Message ids are nodeid * 10^15 + n.
const NODE_ID_FACTOR: u64 = 1_000_000_000_000_000;

fn node_config(smsc_port: u16) -> String {
    format!(
        r#"
[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"
static = true
windowsize = 32

[[route]]
prefix = "5"
to = "smsc"
"#
    )
}

fn users() -> String {
    (1..=NODES)
        .map(|i| format!("[user.c{i}]\npassword = \"c{i}\"\n"))
        .collect()
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

/// Text -> times at an SMSC, with the first arrival (µs) and the SMSC.
fn arrivals(smscs: &[Smsc]) -> HashMap<String, Vec<(usize, i64)>> {
    let mut out: HashMap<String, Vec<(usize, i64)>> = HashMap::new();
    for (i, s) in smscs.iter().enumerate() {
        for sub in support::smsc::submits(&s.state()) {
            out.entry(sub["text"].as_str().unwrap_or_default().to_string())
                .or_default()
                .push((i, sub["at_us"].as_i64().unwrap_or_default()));
        }
    }
    out
}

fn accepted_count(smscs: &[Smsc]) -> u64 {
    smscs
        .iter()
        .map(|s| s.state()["accepted"].as_u64().unwrap_or(0))
        .sum()
}

#[test]
fn three_nodes_one_killed_at_peak_lose_nothing_and_count_their_duplicates() {
    let total: usize = std::env::var("EMG_CLUSTER_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(9_000);
    let per_client = total / NODES;
    let tmp = tempfile::tempdir().unwrap();
    let ports: Vec<u16> = (0..NODES).map(|_| free_port()).collect();
    let mut smscs: Vec<Smsc> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            // One id space per SMSC, as the nodes of a real cluster bind one SMSC: a receipt
            // looked up in the store (it came to another node) must not match another SMSC's.
            let base = ((i + 1) * 100_000_000).to_string();
            Smsc::start(
                *p,
                tmp.path().join(format!("smsc{i}.json")),
                &["--resend-unacked", "--id-base", &base],
            )
        })
        .collect();
    let extra: Vec<String> = ports.iter().map(|p| node_config(*p)).collect();
    let mut cluster = Cluster::new(Path::new(support::EMGD), &users(), &extra);
    cluster.start_all();
    let smpp: Vec<u16> = cluster.nodes.iter().map(|n| n.smpp_port).collect();

    let started = Instant::now();
    let timeout = (120 + total / 50).to_string();
    let clients: Vec<std::process::Child> = (0..NODES)
        .map(|i| {
            // Its node first, then the others in turn.
            let order: Vec<String> = (0..NODES)
                .map(|k| smpp[(i + k) % NODES].to_string())
                .collect();
            Command::new("python3")
                .arg(support::peers::peers().join("cluster_client.py"))
                .args(["--ports", &order.join(",")])
                .args([
                    "--user",
                    &format!("c{}", i + 1),
                    "--password",
                    &format!("c{}", i + 1),
                ])
                .args([
                    "--count",
                    &per_client.to_string(),
                    "--tag",
                    &format!("n{}", i + 1),
                ])
                .args([
                    "--window",
                    "20",
                    "--timeout",
                    &timeout,
                    "--rotate-idle",
                    "3",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("python3 runs (scripts/test installs it and smpplib)")
        })
        .collect();

    // SIGKILL node 3 at peak: half the messages at the SMSCs.
    let deadline = Instant::now() + Duration::from_secs(300);
    while accepted_count(&smscs) < (total / 2) as u64 {
        assert!(Instant::now() < deadline, "the load did not reach half");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed_us = now_us();
    cluster.kill9(NODES - 1);
    let at_kill = accepted_count(&smscs);
    std::thread::sleep(Duration::from_secs(10));
    cluster.start(NODES - 1);

    let reports: Vec<Value> = clients
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("cluster_client.py ends");
            assert!(
                out.status.success(),
                "cluster_client.py failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice(&out.stdout).expect("cluster_client.py's JSON")
        })
        .collect();
    let load_secs = started.elapsed().as_secs_f64();

    let mut acked: Vec<(String, u64)> = Vec::new();
    let mut receipts_missing = 0;
    // Missing receipts by (the node that accepted the message, the SMSCs it reached).
    let mut missing_by: HashMap<(u64, Vec<usize>), usize> = HashMap::new();
    let arrived = arrivals(&smscs);
    let mut receipts_twice = 0;
    let (mut refused, mut unanswered, mut reconnects) = (0, 0, 0);
    for r in &reports {
        let receipts = r["receipts"].as_object().cloned().unwrap_or_default();
        for (text, id) in r["acked"].as_object().cloned().unwrap_or_default() {
            let id = id.as_str().unwrap_or_default().to_string();
            match receipts.get(&id).and_then(Value::as_u64) {
                None => {
                    receipts_missing += 1;
                    let node = id.parse::<u64>().unwrap_or(0) / NODE_ID_FACTOR;
                    let at: Vec<usize> = arrived
                        .get(&text)
                        .map(|v| v.iter().map(|(s, _)| *s).collect())
                        .unwrap_or_default();
                    *missing_by.entry((node, at)).or_default() += 1;
                }
                Some(n) if n > 1 => receipts_twice += 1,
                _ => {}
            }
            acked.push((text, id.parse().unwrap_or(0)));
        }
        refused += r["refused"].as_object().map_or(0, |m| m.len());
        unanswered += r["unanswered"].as_array().map_or(0, |a| a.len());
        reconnects += r["reconnects"].as_u64().unwrap_or(0);
    }
    println!("missing receipts by (accepting node, SMSCs reached): {missing_by:?}");
    let lost: Vec<&String> = acked
        .iter()
        .map(|(t, _)| t)
        .filter(|t| !arrived.contains_key(*t))
        .collect();
    let twice: usize = arrived.values().map(|v| v.len() - 1).sum();
    // Fail-over: the first message node 3 acknowledged that left through another node after
    // the SIGKILL.
    let failover_us = acked
        .iter()
        .filter(|(_, id)| id / NODE_ID_FACTOR == NODES as u64)
        .filter_map(|(t, _)| arrived.get(t))
        .flatten()
        .filter(|(smsc, at)| *smsc != NODES - 1 && *at > killed_us)
        .map(|(_, at)| at - killed_us)
        .min();
    let mut resent = 0;
    let mut taken = 0;
    for n in &cluster.nodes {
        let t = Mgp::login(n.mgp_port).call(r#""op":"nodes""#)["takeovers"].clone();
        resent += t["resent"].as_u64().unwrap_or(0);
        taken += t["taken"].as_u64().unwrap_or(0);
    }
    println!(
        "three nodes, {total} messages ({per_client} per client) in {load_secs:.1} s: node 3 SIGKILLed at {at_kill} at the SMSCs, restarted 10 s later; {} acknowledged, {} lost, {refused} refused, {unanswered} unanswered at the kill ({reconnects} reconnects); {twice} delivered twice ({taken} taken over, {resent} of them resent: in flight on node 3); receipts: {receipts_missing} missing, {receipts_twice} received twice; fail-over {}",
        acked.len(),
        lost.len(),
        failover_us.map_or("n/a (node 3 had nothing queued)".to_string(), |us| format!("{:.2} s", us as f64 / 1e6))
    );
    assert!(
        lost.is_empty(),
        "acknowledged, never delivered: {:?}",
        &lost[..lost.len().min(10)]
    );
    assert_eq!(receipts_missing, 0, "every receipt back to its client");
    assert!(
        twice as u64 <= resent,
        "only submits in flight on the killed node arrive twice: {twice} twice, {resent} resent"
    );
    assert_eq!(
        acked.len() + refused + unanswered,
        per_client * NODES,
        "every submit answered or counted unanswered"
    );
    if let Some(us) = failover_us {
        assert!(us < 10_000_000, "fail-over took {us} µs");
    }
    for s in &mut smscs {
        s.kill();
    }
}

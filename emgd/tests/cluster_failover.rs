//! Two emgd nodes on one PostgreSQL database (tests::cluster), each binding an npm SMSC of
//! its own, SMPP clients on both:
//! - they share the store without sending any message twice (counted at the SMSCs);
//! - SIGKILL of a node whose queue is claimed (its SMSC is down, so nothing leaves it): the
//!   other node takes the dead node's queue over once its lease has run out and delivers
//!   every message the dead node acknowledged. The fail-over time (SIGKILL to the first of
//!   those messages at the other node's SMSC) is printed and bounded.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};
use support::smsc::Smsc;
use tests::cluster::Cluster;
use tests::daemon::free_port;
use tests::smpp_client::Client;

/// The outgoing connector `smsc` of each node, to its own SMSC; everything for 5 goes there.
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

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Submit `count` messages to `dest` through the node at `port`; the ids it acknowledged.
fn submit(port: u16, count: usize, dest: &str) -> usize {
    rt().block_on(async {
        let mut c = Client::bind(port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind");
        c.submit(count, 32, dest, false, |_| true).await.unwrap();
        let n = c.accepted.len();
        c.unbind().await;
        n
    })
}

/// Every submit the SMSC acknowledged: (dest, text) and its time (µs since the epoch).
fn submits(smsc: &Smsc) -> Vec<(String, String, i64)> {
    support::smsc::submits(&smsc.state())
        .into_iter()
        .map(|s| {
            (
                s["dest"].as_str().unwrap_or_default().to_string(),
                s["text"].as_str().unwrap_or_default().to_string(),
                s["at_us"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

/// (dest, text) -> how many times the SMSCs got it.
fn tally(all: &[(String, String, i64)], dest: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for (d, text, _) in all {
        if d == dest {
            *out.entry(text.clone()).or_default() += 1;
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
        std::thread::sleep(Duration::from_millis(50));
    }
    ok()
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

#[test]
fn two_nodes_share_a_queue_and_a_killed_nodes_queue_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let (pa, pb) = (free_port(), free_port());
    let mut smsc_a = Smsc::start(pa, tmp.path().join("a.json"), &[]);
    let smsc_b = Smsc::start(pb, tmp.path().join("b.json"), &[]);
    let mut cluster = Cluster::new(
        Path::new(support::EMGD),
        "",
        &[smsc_connector(pa), smsc_connector(pb)],
    );
    cluster.start_all();
    let (port_a, port_b) = (cluster.nodes[0].smpp_port, cluster.nodes[1].smpp_port);

    // 1. Both nodes take traffic on one store: each message leaves exactly once.
    const SHARED: usize = 300;
    assert_eq!(submit(port_a, SHARED, "5551"), SHARED);
    assert_eq!(submit(port_b, SHARED, "5552"), SHARED);
    let all = || {
        let mut v = submits(&smsc_a);
        v.extend(submits(&smsc_b));
        v
    };
    assert!(
        wait_for(Duration::from_secs(60), || all().len() >= 2 * SHARED),
        "{} of {} reached the SMSCs\nA: {}\nB: {}",
        all().len(),
        2 * SHARED,
        cluster.nodes[0].stderr_text(),
        cluster.nodes[1].stderr_text()
    );
    std::thread::sleep(Duration::from_millis(500));
    let got = all();
    for dest in ["5551", "5552"] {
        let t = tally(&got, dest);
        assert_eq!(t.len(), SHARED, "every message to {dest} arrived");
        let twice: Vec<_> = t.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "sent twice: {twice:?}");
    }
    println!(
        "shared store: {} messages through two nodes, each exactly once",
        2 * SHARED
    );

    // 2. Node A's SMSC goes away: what A acknowledges now stays claimed in A's queue.
    smsc_a.kill();
    const HELD: usize = 500;
    assert_eq!(submit(port_a, HELD, "5553"), HELD);
    let claimed_by_a = cluster.query(
        "SELECT COUNT(*) FROM messages WHERE state IN (0, 5) AND target = 'smsc'
         AND COALESCE(claim_node, (id / 1000000000000000)::integer) = 1",
    );
    assert_eq!(claimed_by_a, HELD.to_string(), "A's queue is claimed by A");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        tally(&submits(&smsc_b), "5553").is_empty(),
        "B sends nothing of A's queue while A lives"
    );

    // `nodes` on either node shows both, and what A has claimed.
    let mut mgp_b = support::mgp::Mgp::login(cluster.nodes[1].mgp_port);
    let nodes = mgp_b.call(r#""op":"nodes""#);
    assert_eq!(nodes["shared"], true, "{nodes}");
    assert_eq!(nodes["this_node"], 2, "{nodes}");
    let listed = nodes["nodes"].as_array().expect("nodes").clone();
    assert_eq!(listed.len(), 2, "{nodes}");
    assert_eq!(listed[0]["node_id"], 1, "{nodes}");
    assert_eq!(listed[0]["state"], "live", "{nodes}");
    assert_eq!(listed[0]["claimed"], HELD as u64, "{nodes}");
    assert_eq!(listed[1]["state"], "live", "{nodes}");

    // 3. SIGKILL A: B takes its queue over once A's lease (5 s) has run out.
    let killed_us = now_us();
    cluster.kill9(0);
    assert!(
        wait_for(Duration::from_secs(40), || tally(&submits(&smsc_b), "5553")
            .len()
            >= HELD),
        "{} of A's {HELD} queued messages left through B\nB: {}",
        tally(&submits(&smsc_b), "5553").len(),
        cluster.nodes[1].stderr_text()
    );
    std::thread::sleep(Duration::from_millis(500));
    let b = submits(&smsc_b);
    let first_us = b
        .iter()
        .filter(|(d, _, _)| d == "5553")
        .map(|(_, _, at)| *at)
        .min()
        .expect("one arrived");
    let failover = Duration::from_micros((first_us - killed_us).max(0) as u64);
    let t = tally(&b, "5553");
    let duplicates: usize = t.values().map(|n| n - 1).sum();
    println!(
        "fail-over: SIGKILL to the first message of the dead node's queue leaving the other node: {:.2} s; {} of {HELD} delivered, {duplicates} duplicates (none were in flight: A's SMSC was down)",
        failover.as_secs_f64(),
        t.len()
    );
    assert_eq!(t.len(), HELD, "every acknowledged message delivered");
    assert_eq!(duplicates, 0, "nothing was in flight, so nothing twice");
    // The lease is 5 s, renewed every second: a takeover within lease + a tick (+ slack for
    // a loaded machine).
    assert!(
        failover < Duration::from_secs(10),
        "fail-over took {failover:?}"
    );
    assert!(
        cluster.nodes[1]
            .stderr_text()
            .contains("queued messages of node 1, whose lease ran out"),
        "B says what it took over: {}",
        cluster.nodes[1].stderr_text()
    );

    // B's `nodes` shows A dead and its queue claimed by B (now delivered: 0 left).
    let nodes = mgp_b.call(r#""op":"nodes""#);
    assert_eq!(nodes["nodes"][0]["state"], "dead", "{nodes}");
    assert_eq!(nodes["nodes"][0]["claimed"], 0, "{nodes}");

    // 4. A restarts: its old queue is B's now, so A sends none of it again.
    let mut smsc_a2 = Smsc::start(pa, tmp.path().join("a2.json"), &[]);
    cluster.start(0);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        tally(&submits(&smsc_a2), "5553").is_empty(),
        "the restarted node sent messages B had taken over"
    );
    let nodes = cluster.query("SELECT nodeid, lease_until_us > 0 FROM nodes ORDER BY nodeid");
    assert_eq!(nodes, "1|t\n2|t", "both nodes hold a lease");
    smsc_a2.kill();
}

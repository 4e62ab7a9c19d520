//! Reload (SIGHUP and `emgclient reload`) starting and stopping connectors, end to end with the
//! real binary under traffic from python smpplib, towards npm `smpp` SMSCs, with the states
//! read from `emgclient connectors --json`:
//! - a connector added starts; a removed one drains its queue (TERMINATING), then is DEAD,
//!   and nothing accepted is lost;
//! - with `removed_queue = "reroute"` the removed connector's queue goes where the routing
//!   table now sends it, and what no route takes stays queued on it;
//! - `address` and `instances` changes restart the listener or the sessions.

mod support;

use std::time::Duration;
use support::client::Operator;
use support::peers::wait_for;
use support::smsc::{count, Smsc};
use support::Setup;
use tests::daemon::free_port;

const OPERATOR: &str = "[operator.admin]\npassword = \"secret\"\nrole = \"admin\"\n";

/// An outgoing SMPP connector towards an npm SMSC on `port`, and the route of `prefix` to it.
fn smsc_connector(name: &str, port: u16, prefix: &str, more: &str) -> String {
    format!(
        r#"
[connector.{name}]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{port}"
username = "emg"
password = "secret"
{more}

[[route]]
prefix = "{prefix}"
to = "{name}"
"#
    )
}

fn setup(general: &str, extra: &str) -> (Setup, Operator) {
    let mgp = free_port();
    let s = Setup::new(
        &format!("mgp_address = \"127.0.0.1:{mgp}\"\n{general}"),
        "",
        &format!("{OPERATOR}{extra}"),
    );
    (s, Operator { mgp })
}

/// Submit `n` messages to `dest` through smpp-in with smpplib; all must be accepted.
fn submit(s: &Setup, dest: &str, n: usize) {
    let r = support::smpplib(
        s.smpp_port,
        &["--count", &n.to_string(), "--dest", dest, "--no-dlr"],
    );
    assert_eq!(
        r["accepted"].as_array().map(Vec::len),
        Some(n),
        "smpplib: {r}"
    );
}

/// Replace the configuration's tail after smpp-in/sim1/users/route 4 (what `setup` added).
fn rewrite(s: &Setup, general: &str, extra: &str) {
    let text = std::fs::read_to_string(&s.config).unwrap();
    let head_end = text.find(OPERATOR).expect("operator section");
    let mut head = text[..head_end].to_string();
    head.insert_str(0, general);
    std::fs::write(&s.config, format!("{head}{OPERATOR}{extra}")).unwrap();
}

fn all(states: &[String], want: &str) -> bool {
    !states.is_empty() && states.iter().all(|s| s == want)
}

#[test]
fn sighup_adds_a_connector_and_drains_a_removed_one_under_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (free_port(), free_port());
    let smsc_a = Smsc::start(pa, dir.path().join("a.json"), &[]);
    let smsc_b = Smsc::start(pb, dir.path().join("b.json"), &[]);
    // throughput keeps a queue on smsc-a long enough to see it drain.
    let (s, op) = setup("", &smsc_connector("smsc-a", pa, "46", "throughput = 4"));
    let d = s.start();
    submit(&s, "46701234567", 12);
    rewrite(&s, "", &smsc_connector("smsc-b", pb, "46", ""));
    d.signal(1); // SIGHUP
    assert!(
        wait_for(Duration::from_secs(10), || all(
            &op.states("smsc-a"),
            "TERMINATING"
        )),
        "{}",
        op.connector("smsc-a")
    );
    assert!(op.connector("smsc-a")["queued"].as_u64().unwrap() > 0);
    // Traffic on: new messages for 46 take the added connector.
    submit(&s, "46709999999", 5);
    assert!(
        wait_for(Duration::from_secs(30), || all(
            &op.states("smsc-a"),
            "DEAD"
        )),
        "{}",
        op.connector("smsc-a")
    );
    assert_eq!(op.connector("smsc-a")["queued"], 0);
    assert!(wait_for(Duration::from_secs(20), || count(
        &smsc_b.state(),
        "accepted"
    ) == 5));
    assert_eq!(
        count(&smsc_a.state(), "accepted"),
        12,
        "drained, nothing lost"
    );
    assert!(
        all(&op.states("smsc-b"), "BOUND"),
        "{}",
        op.connector("smsc-b")
    );
    let log = s.log("connector.smsc-a");
    assert!(
        log.contains("TERMINATING (removed from the configuration;"),
        "{log}"
    );
    assert!(
        log.contains("DEAD (removed from the configuration)"),
        "{log}"
    );
}

#[test]
fn a_removed_connector_hands_its_queue_back_to_the_routing_table() {
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (free_port(), free_port());
    let smsc_a = Smsc::start(pa, dir.path().join("a.json"), &[]);
    let smsc_b = Smsc::start(pb, dir.path().join("b.json"), &[]);
    let a = smsc_connector("smsc-a", pa, "46", "");
    let (s, op) = setup(
        "",
        &format!("{a}\n[[route]]\nprefix = \"99\"\nto = \"smsc-a\"\n"),
    );
    let _d = s.start();
    op.json(&["hold", "smsc-a"]);
    submit(&s, "46701234567", 6);
    submit(&s, "9912345", 3);
    assert_eq!(op.connector("smsc-a")["queued"], 9);
    // 46 now goes to smsc-b; nothing routes 99 any more.
    rewrite(
        &s,
        "removed_queue = \"reroute\"\n",
        &smsc_connector("smsc-b", pb, "46", ""),
    );
    op.reload();
    assert!(
        wait_for(Duration::from_secs(30), || all(
            &op.states("smsc-a"),
            "DEAD"
        )),
        "{}",
        op.connector("smsc-a")
    );
    assert!(wait_for(Duration::from_secs(20), || count(
        &smsc_b.state(),
        "accepted"
    ) == 6));
    // The unroutable three are kept (and logged), never dropped.
    assert_eq!(op.connector("smsc-a")["queued"], 3);
    assert_eq!(count(&smsc_a.state(), "accepted"), 0);
    assert!(s
        .log("connector.smsc-a")
        .contains("QUEUE REROUTED 6 messages, 3 kept (no route)"));
}

#[test]
fn address_and_instances_changes_restart_listener_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let (pa, pb) = (free_port(), free_port());
    let smsc_a = Smsc::start(pa, dir.path().join("a.json"), &[]);
    let smsc_b = Smsc::start(pb, dir.path().join("b.json"), &[]);
    let (s, op) = setup("", &smsc_connector("smsc-a", pa, "46", "static = true"));
    let d = s.start();
    submit(&s, "46701234567", 2);
    assert!(wait_for(Duration::from_secs(20), || count(
        &smsc_a.state(),
        "accepted"
    ) == 2));
    // smpp-in: a new port and 2 instances; smsc-a: the other SMSC.
    let new_port = free_port();
    let text = std::fs::read_to_string(&s.config)
        .unwrap()
        .replace("instances = 4\n", "instances = 2\n")
        .replace(
            &format!("address = \"127.0.0.1:{}\"", s.smpp_port),
            &format!("address = \"127.0.0.1:{new_port}\""),
        )
        .replace(
            &format!("address = \"127.0.0.1:{pa}\""),
            &format!("address = \"127.0.0.1:{pb}\""),
        );
    std::fs::write(&s.config, text).unwrap();
    d.signal(1); // SIGHUP
    assert!(
        wait_for(Duration::from_secs(30), || {
            let c = op.json(&["connector", "smpp-in"]);
            c["instances"] == 2
                && c["address"] == format!("127.0.0.1:{new_port}").as_str()
                && c["states"].as_array().map(Vec::len) == Some(2)
        }),
        "{}",
        op.json(&["connector", "smpp-in"])
    );
    // The new listener takes clients; the old one is gone.
    let moved = Setup {
        dir: tempfile::tempdir().unwrap(),
        smpp_port: new_port,
        config: s.config.clone(),
    };
    assert!(wait_for(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", new_port)).is_ok()
    }));
    submit(&moved, "46701234567", 3);
    assert!(std::net::TcpStream::connect(("127.0.0.1", s.smpp_port)).is_err());
    // smsc-a reconnected to the other SMSC, which gets what follows.
    assert!(
        wait_for(Duration::from_secs(30), || count(
            &smsc_b.state(),
            "accepted"
        ) == 3),
        "{}",
        smsc_b.state()
    );
    assert_eq!(count(&smsc_a.state(), "accepted"), 2);
    let c = op.json(&["connector", "smsc-a"]);
    assert_eq!(c["address"], format!("127.0.0.1:{pb}").as_str(), "{c}");
}

//! Reload (SIGHUP and `emgclient reload`) starting and stopping connectors, end to end with the
//! real binary under traffic from python smpplib, towards npm `smpp` SMSCs, with the states
//! read from `emgclient connectors --json`:
//! - a connector added starts; a removed one drains its queue (TERMINATING), then is DEAD,
//!   and nothing accepted is lost;
//! - with `removed_queue = "reroute"` the removed connector's queue goes where the routing
//!   table now sends it, and what no route takes stays queued on it;
//! - `address` and `instances` changes restart the listener or the sessions, for incoming
//!   SMPP and outgoing SMPP, and for incoming HTTP (curl), SMTP (swaks), UCP and CIMD2
//!   (Kannel as the client): the old port refuses, the new one serves a real client, and
//!   nothing queued is lost;
//! - a draining connector whose peer is down gives up after `drain_timeout` and hands what
//!   is left to the routing table.

#[path = "support/mail.rs"]
mod mail;
mod support;

use std::time::Duration;
use support::client::Operator;
use support::kannel_in::{self, Wire, KANNEL_USER};
use support::peers::{curl, wait_for};
use support::smsc::{count, Smsc};
use support::Setup;
use tests::daemon::free_port;
use tests::http_sink::HttpSink;
use tests::kannel::Kannel;

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

/// Within `secs` seconds, `emgclient connectors --json` shows every instance of `name` in
/// `state`.
fn shows(op: &Operator, name: &str, state: &str, secs: u64) {
    assert!(
        wait_for(Duration::from_secs(secs), || all(&op.states(name), state)),
        "{}",
        op.connector(name)
    );
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
    shows(&op, "smsc-a", "TERMINATING", 10);
    assert!(op.connector("smsc-a")["queued"].as_u64().unwrap() > 0);
    // Traffic on: new messages for 46 take the added connector.
    submit(&s, "46709999999", 5);
    shows(&op, "smsc-a", "DEAD", 30);
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
    shows(&op, "smsc-a", "DEAD", 30);
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

#[test]
fn a_draining_connector_whose_peer_is_down_reroutes_after_drain_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (down, pb) = (free_port(), free_port());
    let smsc_b = Smsc::start(pb, dir.path().join("b.json"), &[]);
    // Nothing listens on `down`: smsc-a keeps what is routed to it.
    let (s, op) = setup("", &smsc_connector("smsc-a", down, "46", ""));
    let d = s.start();
    submit(&s, "46701234567", 4);
    assert_eq!(op.connector("smsc-a")["queued"], 4);
    rewrite(
        &s,
        "drain_timeout = 3\n",
        &smsc_connector("smsc-b", pb, "46", ""),
    );
    d.signal(1); // SIGHUP
    shows(&op, "smsc-a", "TERMINATING", 10);
    // After drain_timeout its queue is routed again: all four reach smsc-b.
    shows(&op, "smsc-a", "DEAD", 60);
    assert!(
        wait_for(Duration::from_secs(30), || count(
            &smsc_b.state(),
            "accepted"
        ) == 4),
        "{}",
        smsc_b.state()
    );
    assert_eq!(op.connector("smsc-a")["queued"], 0);
    let log = s.log("connector.smsc-a");
    assert!(
        log.contains("DRAIN TIMEOUT (4 still queued after 3s"),
        "{log}"
    );
    assert!(
        log.contains("QUEUE REROUTED 4 messages, 0 kept (no route)"),
        "{log}"
    );
}

/// An incoming connector of each kind, as the reload restart test needs it.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Http,
    Smtp,
    Ucp,
    Cimd2,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Http => "http-in",
            Kind::Smtp => "mail-in",
            Kind::Ucp => "ucp-in",
            Kind::Cimd2 => "cimd-in",
        }
    }

    fn wire(self) -> Option<Wire> {
        match self {
            Kind::Ucp => Some(Wire::Ucp),
            Kind::Cimd2 => Some(Wire::Cimd2),
            Kind::Http | Kind::Smtp => None,
        }
    }

    /// Its section on `port` with `instances` (and what its clients need besides).
    fn section(self, port: u16, instances: u32) -> String {
        let address = format!("address = \"127.0.0.1:{port}\"\ninstances = {instances}\n");
        match self {
            Kind::Http => {
                format!("[connector.http-in]\ntype = \"incoming\"\nprotocol = \"http\"\n{address}")
            }
            Kind::Smtp => format!(
                "[connector.mail-in]\ntype = \"incoming\"\nprotocol = \"smtp\"\n{address}\
                 smtp_domains = [\"sms.example.com\"]\n"
            ),
            Kind::Ucp | Kind::Cimd2 => {
                let wire = self.wire().unwrap();
                format!(
                    "{}\n{KANNEL_USER}",
                    wire.connector(self.name(), port, instances)
                )
            }
        }
    }

    /// A real client sends one message to `dest` through `port`: curl, swaks, or Kannel
    /// (started for it in `dir`, stopped after).
    fn send_one(self, dir: &std::path::Path, port: u16, dest: &str) {
        match self {
            Kind::Http => {
                let url = format!(
                    "http://127.0.0.1:{port}/bin/send.json?to={dest}&from=4610000&text=across+a+reload"
                );
                let (status, body) = curl(&url, &["-u", "demo:demo"]);
                assert_eq!(status, 200, "{body}");
            }
            Kind::Smtp => {
                let to = format!("{dest}@sms.example.com");
                let (ok, out) = mail::swaks(
                    port,
                    &["--from", "app@example.com", "--to", &to, "--body", "x"],
                );
                assert!(ok && out.contains("250 2.0.0 Ok: queued as"), "{out}");
            }
            Kind::Ucp | Kind::Cimd2 => {
                let wire = self.wire().unwrap();
                let kdir = tempfile::tempdir_in(dir).unwrap();
                let sink = HttpSink::start(kdir.path()).unwrap();
                let kannel = Kannel::start(
                    kdir.path(),
                    &[wire.group("k", port, "kannel", "secret")],
                    &sink.url("/mo"),
                )
                .unwrap();
                kannel.wait_online("k", kannel_in::WAIT).unwrap();
                kannel
                    .send(Some("k"), "4242", dest, "across a reload", None)
                    .unwrap();
            }
        }
    }
}

/// `kind`'s listener moves to another port and from 2 instances to 1 by SIGHUP: the old port
/// refuses, the new one serves a real client, and what was queued (held on sim1 meanwhile)
/// all leaves afterwards.
fn reload_restarts_an_incoming(kind: Kind) {
    let (old, new) = (free_port(), free_port());
    let (s, op) = setup("", &kind.section(old, 2));
    let d = s.start();
    mail::wait_port(old);
    let name = kind.name();
    op.json(&["hold", "sim1"]);
    kind.send_one(s.dir.path(), old, "4670000001");
    submit(&s, "4670000002", 3);
    let received = |op: &Operator| op.connector(name)["received"].as_u64().unwrap_or(0);
    assert!(
        wait_for(Duration::from_secs(30), || received(&op) == 1),
        "{}",
        op.connector(name)
    );
    let text = std::fs::read_to_string(&s.config).unwrap().replace(
        &format!("address = \"127.0.0.1:{old}\"\ninstances = 2\n"),
        &format!("address = \"127.0.0.1:{new}\"\ninstances = 1\n"),
    );
    std::fs::write(&s.config, text).unwrap();
    d.signal(1); // SIGHUP
    assert!(
        wait_for(Duration::from_secs(30), || {
            let c = op.json(&["connector", name]);
            c["instances"] == 1
                && c["address"] == format!("127.0.0.1:{new}").as_str()
                && c["states"].as_array().map(Vec::len) == Some(1)
        }),
        "{}",
        op.json(&["connector", name])
    );
    mail::wait_port(new);
    assert!(
        wait_for(Duration::from_secs(10), || std::net::TcpStream::connect((
            "127.0.0.1",
            old
        ))
        .is_err()),
        "the old port still takes connections"
    );
    kind.send_one(s.dir.path(), new, "4670000003");
    assert!(
        wait_for(Duration::from_secs(30), || received(&op) == 2),
        "{}",
        op.connector(name)
    );
    // Nothing queued was lost: all five leave once sim1 is released.
    assert_eq!(
        op.connector("sim1")["queued"],
        5,
        "{}",
        op.connector("sim1")
    );
    op.json(&["release", "sim1"]);
    assert!(
        wait_for(Duration::from_secs(30), || op.connector("sim1")["sent"]
            == 5),
        "{}",
        op.connector("sim1")
    );
}

#[test]
fn a_reload_restarts_incoming_http_on_its_new_address() {
    reload_restarts_an_incoming(Kind::Http);
}

#[test]
fn a_reload_restarts_incoming_smtp_on_its_new_address() {
    reload_restarts_an_incoming(Kind::Smtp);
}

#[test]
fn a_reload_restarts_incoming_ucp_on_its_new_address() {
    reload_restarts_an_incoming(Kind::Ucp);
}

#[test]
fn a_reload_restarts_incoming_cimd2_on_its_new_address() {
    reload_restarts_an_incoming(Kind::Cimd2);
}

//! Kannel 1.4.5 as the client of an incoming UCP/EMI or CIMD2 connector (`smsc = emi` or
//! `smsc = cimd2`): the smsc groups it is started with, and the session check both protocols'
//! tests share: Kannel logs in against emgd's users (a wrong password never gets online),
//! gets the MO queued for it while it was away, submits what its sendsms takes and gets back
//! the status reports it matches, handing MO and reports to an HTTP sink. A missing Kannel
//! fails the test (scripts/test installs it).

use super::Setup;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tests::http_sink::HttpSink;
use tests::kannel::Kannel;
use tests::smpp_client::Client;

pub const WAIT: Duration = Duration::from_secs(90);

/// The protocol Kannel speaks to emgd.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Wire {
    Ucp,
    Cimd2,
}

impl Wire {
    /// emgd's name for it (`protocol = ...`).
    pub fn protocol(self) -> &'static str {
        match self {
            Wire::Ucp => "ucp",
            Wire::Cimd2 => "cimd2",
        }
    }

    /// A Kannel smsc group logging in to 127.0.0.1:`port` as `user`.
    pub fn group(self, id: &str, port: u16, user: &str, password: &str) -> String {
        match self {
            Wire::Ucp => format!(
                "smsc = emi\nsmsc-id = {id}\nhost = 127.0.0.1\nport = {port}\n\
                 smsc-username = {user}\nsmsc-password = {password}\n\
                 keepalive = 2\nwindow = 10\nflow-control = 0\nnotification-pid = 0539\n\
                 reconnect-delay = 1"
            ),
            Wire::Cimd2 => format!(
                "smsc = cimd2\nsmsc-id = {id}\nhost = 127.0.0.1\nport = {port}\n\
                 smsc-username = {user}\nsmsc-password = {password}\nkeepalive = 5\n\
                 reconnect-delay = 1"
            ),
        }
    }

    /// The incoming connector `name` on `port` for user `kannel` (password `secret`), with
    /// `instances`.
    pub fn connector(self, name: &str, port: u16, instances: u32) -> String {
        format!(
            "[connector.{name}]\ntype = \"incoming\"\nprotocol = \"{}\"\n\
             address = \"127.0.0.1:{port}\"\ninstances = {instances}\nusers = [\"kannel\"]\n",
            self.protocol()
        )
    }
}

/// `[user.kannel]`, the user Kannel logs in as.
pub const KANNEL_USER: &str = "[user.kannel]\npassword = \"secret\"\n";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// emgd with the incoming connector `name` for Kannel on `port`; destinations starting with
/// 4 go to the simulator `sim1` (receipts after 50 ms), those starting with 7 to whoever is
/// logged in on `name`.
pub fn setup(wire: Wire, name: &str, port: u16) -> Setup {
    Setup::new(
        "",
        "dlr_delay_ms = 50",
        &format!(
            "{}\n{KANNEL_USER}\n[[route]]\nprefix = \"7\"\nto = \"{name}\"\n",
            wire.connector(name, port, 3)
        ),
    )
}

/// What a Kannel session left for the protocol's own checks.
pub struct Session {
    pub kannel: Kannel,
    pub sink: HttpSink,
    /// The sink's requests for the held MO.
    pub mo: Vec<tests::http_sink::Request>,
}

/// Kannel's whole session through `port` (emgd's port, or a recorder in front of it), on
/// `setup`'s connector `name`: 3 MO queued for it before it connects reach the sink, `n`
/// messages it sends each get a delivered (type 1) report matched back, and its group with a
/// wrong password never gets online (a `LOGIN ERR` is logged).
pub fn session(wire: Wire, setup: &Setup, name: &str, port: u16, n: usize) -> Session {
    // MO for the client before it ever connects: held in the connector's queue.
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind to emgd");
        c.submit(3, 3, "7001", false, |_| true).await.unwrap();
        assert_eq!(c.accepted.len(), 3);
    });
    let sink = HttpSink::start(setup.dir.path()).unwrap();
    let groups = [
        wire.group("good", port, "kannel", "secret"),
        wire.group("bad", port, "kannel", "wrong"),
    ];
    let kannel = Kannel::start(
        setup.dir.path(),
        &groups,
        &sink.url("/mo?from=%p&to=%P&text=%a"),
    )
    .unwrap();
    kannel.wait_online("good", WAIT).unwrap();
    let mo = sink.wait_for("/mo", 3, WAIT).unwrap();
    let texts: BTreeSet<&str> = mo.iter().map(|r| r.query["text"].as_str()).collect();
    assert_eq!(
        texts,
        ["load 0", "load 1", "load 2"].into(),
        "the held MO: {mo:?}"
    );
    for i in 0..n {
        let dlr_url = sink.url(&format!("/dlr?n={i}&type=%d"));
        let answer = kannel
            .send(
                Some("good"),
                "4242",
                &format!("4670123{i:04}"),
                &format!("message {i}"),
                Some((3, &dlr_url)),
            )
            .unwrap();
        assert!(
            answer.contains("Accepted") || answer.contains("Queued"),
            "{answer}"
        );
    }
    // Kannel matched every report to its message: one delivered (1) DLR each.
    let log = || setup.log(&format!("connector.{name}"));
    let dlrs = sink
        .wait_for("/dlr", n, WAIT)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", log(), kannel.logs()));
    let ids: BTreeSet<usize> = dlrs.iter().map(|r| r.query["n"].parse().unwrap()).collect();
    assert_eq!(ids, (0..n).collect::<BTreeSet<_>>());
    assert!(dlrs.iter().all(|r| r.query["type"] == "1"), "{dlrs:?}");
    // The wrong password never got a session.
    let status = kannel.status().unwrap();
    let bad = status
        .lines()
        .find(|l| l.contains("bad["))
        .unwrap_or_default();
    assert!(!bad.contains("(online"), "{status}");
    let deadline = Instant::now() + WAIT;
    while !log().contains("LOGIN ERR") {
        assert!(Instant::now() < deadline, "{}", log());
        std::thread::sleep(Duration::from_millis(100));
    }
    Session { kannel, sink, mo }
}

//! The incoming UCP/EMI connector with Kannel 1.4.5 as its client (`smsc = emi`): Kannel
//! logs in with operation 60 against emgd's users (a wrong password gets NACK 07 and never
//! gets online), submits (51) what its sendsms takes, and gets back the delivery
//! notifications (53) it matches by (recipient, SCTS) and the MO messages (52) queued for it,
//! including those that waited while it was away; Kannel hands both to an HTTP sink. A
//! recording relay between the two puts every frame through Wireshark's UCP dissector.
//!
//! Needs Debian's kannel and tshark (scripts/test installs them); missing ones fail the test.

mod support;

use common::ucp::{decode_frame, Body, Frame};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use support::wire::Recorder;
use support::Setup;
use tests::daemon::free_port;
use tests::http_sink::HttpSink;
use tests::kannel::Kannel;
use tests::smpp_client::Client;
use tests::tshark::dissect;

const WAIT: Duration = Duration::from_secs(90);

fn emi_group(id: &str, port: u16, user: &str, password: &str) -> String {
    format!(
        "smsc = emi\nsmsc-id = {id}\nhost = 127.0.0.1\nport = {port}\n\
         smsc-username = {user}\nsmsc-password = {password}\n\
         keepalive = 2\nwindow = 10\nflow-control = 0\nnotification-pid = 0539\n\
         reconnect-delay = 1"
    )
}

/// emgd with an incoming UCP connector `ucp-in` for user `kannel`; destinations starting
/// with 4 go to the simulator `sim1` (receipts after 50 ms), those starting with 7 to
/// whoever is logged in on `ucp-in`.
fn setup(ucp_port: u16) -> Setup {
    Setup::new(
        "",
        "dlr_delay_ms = 50",
        &format!(
            r#"
[connector.ucp-in]
type = "incoming"
protocol = "ucp"
address = "127.0.0.1:{ucp_port}"
instances = 3
users = ["kannel"]

[user.kannel]
password = "secret"

[[route]]
prefix = "7"
to = "ucp-in"
"#
        ),
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Every recorded frame decodes with our codec and with tshark.
fn check_wire(rec: &Recorder) -> Vec<(char, Frame)> {
    let raw = rec.frames();
    assert!(!raw.is_empty(), "no frames recorded");
    let frames: Vec<(char, Frame)> = raw
        .iter()
        .map(|(dir, b)| {
            let f = decode_frame(b)
                .unwrap_or_else(|e| panic!("{dir} {}: {e}", String::from_utf8_lossy(b)));
            (*dir, f)
        })
        .collect();
    let wire: Vec<Vec<u8>> = raw.into_iter().map(|(_, b)| b).collect();
    for ((dir, f), d) in frames.iter().zip(dissect("ucp", &wire)) {
        assert!(!d.malformed && d.expert.is_empty(), "{dir} {f:?}: {d:?}");
        assert!(!d.info.contains("invalid"), "{dir} {f:?}: {}", d.info);
        assert_eq!(d.get("ucp.hdr.OT"), Some(f.ot.to_string().as_str()));
    }
    frames
}

#[test]
fn kannel_submits_over_ucp_and_gets_notifications_and_the_mo_held_for_it() {
    let ucp_port = free_port();
    let setup = setup(ucp_port);
    let _daemon = setup.start();
    // MO for the UCP client before it ever connects: held in ucp-in's queue.
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind to emgd");
        c.submit(3, 3, "7001", false, |_| true).await.unwrap();
        assert_eq!(c.accepted.len(), 3);
    });
    let rec = Recorder::start(ucp_port);
    let sink = HttpSink::start(setup.dir.path()).unwrap();
    let groups = [
        emi_group("good", rec.port, "kannel", "secret"),
        emi_group("bad", rec.port, "kannel", "wrong"),
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
    assert!(mo.iter().all(|r| r.query["to"] == "7001"), "{mo:?}");

    let n = 20;
    for i in 0..n {
        let dlr_url = sink.url(&format!("/dlr?n={i}&type=%d&to=%p"));
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
    // Kannel matched every notification to its message: one delivered (1) DLR each.
    let dlrs = sink
        .wait_for("/dlr", n, WAIT)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", setup.log("connector.ucp-in"), kannel.logs()));
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
    while !setup.log("connector.ucp-in").contains("LOGIN ERR") {
        assert!(
            Instant::now() < deadline,
            "{}",
            setup.log("connector.ucp-in")
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // Kannel acknowledges a notification after it handed the DLR on: wait for the last ack.
    let deadline = Instant::now() + WAIT;
    let acked = |rec: &Recorder| {
        rec.frames()
            .iter()
            .filter(|(d, b)| *d == 'C' && b.get(9..15) == Some(b"/R/53/"))
            .count()
    };
    while acked(&rec) < n {
        assert!(
            Instant::now() < deadline,
            "{} of {n} 53s acknowledged",
            acked(&rec)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let frames = check_wire(&rec);
    let count = |dir: char, ot: u8, result: bool| {
        frames
            .iter()
            .filter(|(d, f)| {
                *d == dir && f.ot == ot && matches!(f.body, Body::Ack(_) | Body::Nack(_)) == result
            })
            .count()
    };
    assert!(count('C', 60, false) >= 2, "both groups log in");
    let nacks = frames
        .iter()
        .filter(|(d, f)| *d == 'S' && f.ot == 60 && matches!(&f.body, Body::Nack(n) if n.ec.0 == 7))
        .count();
    assert!(nacks >= 1, "the wrong password gets NACK 07");
    assert_eq!(count('C', 51, false), n);
    assert_eq!(count('S', 51, true), n);
    assert!(
        count('S', 53, false) >= n && count('C', 53, true) >= n,
        "{} 53s, {} acked",
        count('S', 53, false),
        count('C', 53, true)
    );
    assert!(count('S', 52, false) >= 3 && count('C', 52, true) >= 3);
    let pdu = setup.log("pdu.ucp-in");
    for op in [
        "op:60 (SESSION_MANAGEMENT)",
        "op:51 (SUBMIT_SHORT_MESSAGE)",
        "op:52 (DELIVER_SHORT_MESSAGE)",
        "op:53 (DELIVER_NOTIFICATION)",
    ] {
        assert!(pdu.contains(op), "{op} not in the PDU log:\n{pdu}");
    }
    assert!(!pdu.contains("secret"), "the password is masked");
}

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
use std::time::{Duration, Instant};
use support::kannel_in::{self, Wire};
use support::wire::Recorder;
use tests::daemon::free_port;
use tests::tshark::dissect;

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
    let setup = kannel_in::setup(Wire::Ucp, "ucp-in", ucp_port);
    let _daemon = setup.start();
    let rec = Recorder::start(ucp_port);
    let n = 20;
    let session = kannel_in::session(Wire::Ucp, &setup, "ucp-in", rec.port, n);
    assert!(
        session.mo.iter().all(|r| r.query["to"] == "7001"),
        "{:?}",
        session.mo
    );

    // Kannel acknowledges a notification after it handed the DLR on: wait for the last ack.
    let deadline = Instant::now() + kannel_in::WAIT;
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

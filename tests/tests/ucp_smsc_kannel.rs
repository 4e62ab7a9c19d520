//! emgucpsmsc proven against a real UCP client: Kannel's EMI driver (`smsc = emi`) logs in
//! with operation 60, submits (51) what sendsms hands it, and gets back through the
//! simulator the positive results, the delivery notifications (53, as Kannel DLRs fetched
//! from an HTTP sink), MO messages (52, as sms-service requests to the sink) and alerts
//! (31); refused submits and a wrong password show as Kannel reports them. Every frame either
//! side wrote goes through Wireshark's UCP dissector and our decoder.

use common::ucp::{decode_frame, Body, Frame};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;
use tests::http_sink::HttpSink;
use tests::kannel::Kannel;
use tests::tshark::dissect;
use tests::ucp_smsc_process::UcpSmscProcess;

const WAIT: Duration = Duration::from_secs(60);

fn simulator(dir: &Path, args: &[&str]) -> UcpSmscProcess {
    UcpSmscProcess::start(Path::new(env!("CARGO_BIN_EXE_emgucpsmsc")), dir, args).unwrap()
}

fn emi_group(id: &str, port: u16, user: &str, password: &str) -> String {
    format!(
        "smsc = emi\nsmsc-id = {id}\nhost = 127.0.0.1\nport = {port}\n\
         smsc-username = {user}\nsmsc-password = {password}\n\
         keepalive = 2\nwindow = 10\nflow-control = 0\nnotification-pid = 0539\n\
         reconnect-delay = 1"
    )
}

/// Every frame of the session decodes with our codec and with tshark, checksums valid.
fn check_wire(smsc: &UcpSmscProcess) -> Vec<(char, Frame)> {
    let raw = smsc.frames();
    assert!(!raw.is_empty(), "no frames traced");
    let frames: Vec<(char, Frame)> = raw
        .iter()
        .map(|(dir, b)| {
            (
                *dir,
                decode_frame(b)
                    .unwrap_or_else(|e| panic!("{dir} {}: {e}", String::from_utf8_lossy(b))),
            )
        })
        .collect();
    let wire: Vec<Vec<u8>> = raw.into_iter().map(|(_, b)| b).collect();
    for ((dir, f), d) in frames.iter().zip(dissect("ucp", &wire)) {
        assert!(!d.malformed && d.expert.is_empty(), "{dir} {f:?}: {d:?}");
        assert!(!d.info.contains("invalid"), "{dir} {f:?}: {}", d.info);
        assert_eq!(d.get("ucp.hdr.TRN"), Some(f.trn.to_string().as_str()));
        assert_eq!(d.get("ucp.hdr.OT"), Some(f.ot.to_string().as_str()));
        assert_eq!(
            d.get("ucp.hdr.LEN"),
            Some(f.encoded_len().to_string().as_str())
        );
    }
    frames
}

#[test]
fn kannel_submits_gets_notifications_mo_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start(dir.path()).unwrap();
    let smsc = simulator(
        dir.path(),
        &[
            "--user",
            "emg",
            "--password",
            "secret",
            "--notify-delay-ms",
            "200",
            "--mo",
            "3",
            "--mo-from",
            "46709998877",
            "--mo-to",
            "4242",
            "--mo-text",
            "hello kannel",
            "--alert-ms",
            "500",
        ],
    );
    let mo_url = sink.url("/mo?from=%p&to=%P&text=%a");
    let kannel = Kannel::start(
        dir.path(),
        &[emi_group("emi1", smsc.port, "emg", "secret")],
        &mo_url,
    )
    .unwrap();
    kannel.wait_online("emi1", WAIT).unwrap();
    let n = 20;
    for i in 0..n {
        let dlr_url = sink.url(&format!("/dlr?n={i}&type=%d&to=%p"));
        let answer = kannel
            .send(
                Some("emi1"),
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
    let s = smsc
        .wait_for("every notification acknowledged", WAIT, |s| {
            s.notifications_acked >= n && s.mo_acked >= 3 && s.alerts_acked >= 1
        })
        .unwrap();
    assert_eq!(
        (s.logins, s.logins_refused, s.submits, s.accepted, s.refused),
        (1, 0, n, n, 0),
        "{}",
        s.line()
    );
    // Kannel matched every notification to its message: one delivered (1) DLR each.
    let dlrs = sink.wait_for("/dlr", n as usize, WAIT).unwrap();
    let ids: BTreeSet<u64> = dlrs.iter().map(|r| r.query["n"].parse().unwrap()).collect();
    assert_eq!(ids, (0..n).collect::<BTreeSet<_>>());
    assert!(dlrs.iter().all(|r| r.query["type"] == "1"), "{dlrs:?}");
    let mo = sink.wait_for("/mo", 3, WAIT).unwrap();
    assert!(
        mo.iter()
            .all(|r| r.query["text"] == "hello kannel" && r.query["from"] == "46709998877"),
        "{mo:?}"
    );
    // The wire: Kannel's login, submits and keepalives, our results, 53s, 52s and 31s.
    let frames = check_wire(&smsc);
    let count = |dir: char, ot: u8, op: bool| {
        frames
            .iter()
            .filter(|(d, f)| {
                *d == dir && f.ot == ot && matches!(f.body, Body::Ack(_) | Body::Nack(_)) != op
            })
            .count() as u64
    };
    assert_eq!(count('R', 60, true), 1);
    assert_eq!(count('R', 51, true), n);
    assert_eq!(count('W', 51, false), n);
    assert!(count('W', 53, true) >= n && count('R', 53, false) >= n);
    assert!(count('W', 52, true) >= 3 && count('W', 31, true) >= 1);
    let Some(Body::Session(login)) = frames
        .iter()
        .find(|(_, f)| f.ot == 60)
        .map(|(_, f)| f.body.clone())
    else {
        panic!("no login")
    };
    assert_eq!(
        (login.oadc.as_str(), login.pwd.as_slice()),
        ("emg", &b"secret"[..])
    );
}

#[test]
fn refused_submits_and_a_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start(dir.path()).unwrap();
    let smsc = simulator(
        dir.path(),
        &[
            "--user",
            "emg",
            "--password",
            "secret",
            "--fail-share",
            "0.5",
            "--fail-ec",
            "24",
            "--notify-delay-ms",
            "100",
        ],
    );
    let groups = [
        emi_group("good", smsc.port, "emg", "secret"),
        emi_group("bad", smsc.port, "emg", "wrong"),
    ];
    let kannel = Kannel::start(dir.path(), &groups, &sink.url("/mo?text=%a")).unwrap();
    kannel.wait_online("good", WAIT).unwrap();
    let n = 10;
    for i in 0..n {
        let dlr_url = sink.url(&format!("/dlr?n={i}&type=%d&reply=%A"));
        kannel
            .send(
                Some("good"),
                "4242",
                &format!("4670555{i:04}"),
                "maybe",
                Some((19, &dlr_url)),
            )
            .unwrap();
    }
    let dlrs = sink.wait_for("/dlr", n as usize, WAIT).unwrap();
    let types: Vec<&str> = dlrs.iter().map(|r| r.query["type"].as_str()).collect();
    // Half delivered (1), half refused by the SMSC (16, Kannel's SMSC reject), EC 24 quoted.
    assert_eq!(types.iter().filter(|t| **t == "1").count(), 5, "{dlrs:?}");
    assert_eq!(types.iter().filter(|t| **t == "16").count(), 5, "{dlrs:?}");
    assert!(
        dlrs.iter()
            .filter(|r| r.query["type"] == "16")
            .all(|r| r.query["reply"].contains("24")),
        "{dlrs:?}"
    );
    let s = smsc
        .wait_for("a refused login", WAIT, |s| s.logins_refused >= 1)
        .unwrap();
    assert_eq!(
        (s.submits, s.accepted, s.refused),
        (n, 5, 5),
        "{}",
        s.line()
    );
    let status = kannel.status().unwrap();
    let bad = status
        .lines()
        .find(|l| l.contains("bad["))
        .unwrap_or_default();
    assert!(
        !bad.contains("(online"),
        "a wrong password must not get online: {status}"
    );
    check_wire(&smsc);
}

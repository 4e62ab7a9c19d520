//! Protocol conversion end to end, 1,000 messages each way, every receipt counted:
//!
//! - python smpplib submits to incoming SMPP, emgd sends over outgoing UCP to the UCP SMSC
//!   simulator, and each delivery notification (53) comes back to smpplib as a deliver_sm
//!   receipt;
//! - Kannel submits over UCP/EMI to incoming UCP, emgd sends over outgoing SMPP to the npm
//!   `smpp` SMSC, and each receipt comes back to Kannel as a 53, which Kannel hands to an
//!   HTTP sink as a DLR.
//!
//! Needs python3 with smpplib, node with tests/peers/smsc, Kannel (scripts/test installs
//! them); missing ones fail the test.

mod support;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;
use support::smsc::{count, Smsc};
use support::ucp_sim::Simulator;
use support::{smpplib, Setup};
use tests::daemon::free_port;
use tests::http_sink::HttpSink;
use tests::kannel::Kannel;
use tests::ucp_smsc::Options;

const N: usize = 1000;

#[test]
fn smpp_in_ucp_out_a_thousand_messages_every_receipt_back() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(
        dir.path(),
        Options {
            credentials: Some(("emg".into(), "secret".into())),
            notify_delay: Duration::from_millis(20),
            window: 50,
            ..Options::default()
        },
    );
    let setup = Setup::new(
        "",
        "",
        &format!(
            r#"
[[route]]
prefix = "5"
to = "ucp"

[connector.ucp]
type = "outgoing"
protocol = "ucp"
address = "127.0.0.1:{}"
username = "emg"
password = "secret"
static = true
windowsize = 50
"#,
            sim.port
        ),
    );
    let mut daemon = setup.start();
    let report = smpplib(
        setup.smpp_port,
        &[
            "--count",
            &N.to_string(),
            "--dest",
            "5551234",
            "--timeout",
            "120",
        ],
    );
    let accepted: HashSet<String> = report["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(accepted.len(), N, "every submit acknowledged: {report}");
    let receipts = report["receipts"].as_object().unwrap();
    let missing: Vec<&String> = accepted
        .iter()
        .filter(|id| !receipts.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {N} receipts missing; simulator: {}",
        missing.len(),
        sim.smsc.stats().line()
    );
    for id in &accepted {
        let text = receipts[id]["text"].as_str().unwrap();
        assert!(text.contains(" stat:DELIVRD "), "{text}");
    }
    let s = sim.wait_for("every notification acknowledged", |s| {
        s.notifications_acked >= N as u64
    });
    assert_eq!(
        (s.submits, s.accepted),
        (N as u64, N as u64),
        "{}",
        s.line()
    );
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let open: i64 = setup.db().number("SELECT COUNT(*) FROM dlr_open");
    assert_eq!(open, 0, "no open DLR entry is left behind");
}

#[test]
fn ucp_in_smpp_out_a_thousand_messages_from_kannel_every_receipt_back() {
    let dir = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let smsc = Smsc::start(smsc_port, dir.path().join("smsc.json"), &[]);
    let ucp_port = free_port();
    let setup = Setup::new(
        "",
        "",
        &format!(
            r#"
[connector.ucp-in]
type = "incoming"
protocol = "ucp"
address = "127.0.0.1:{ucp_port}"
instances = 2
users = ["kannel"]

[user.kannel]
password = "secret"

[[route]]
prefix = "5"
to = "smsc"

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"
static = true
windowsize = 50
"#
        ),
    );
    let _daemon = setup.start();
    let sink = HttpSink::start(dir.path()).unwrap();
    let group = format!(
        "smsc = emi\nsmsc-id = emi\nhost = 127.0.0.1\nport = {ucp_port}\n\
         smsc-username = kannel\nsmsc-password = secret\nkeepalive = 10\nwindow = 50\n\
         flow-control = 0\nnotification-pid = 0539\nreconnect-delay = 1"
    );
    let kannel = Kannel::start(dir.path(), &[group], &sink.url("/mo")).unwrap();
    kannel.wait_online("emi", Duration::from_secs(60)).unwrap();
    for i in 0..N {
        let dlr_url = sink.url(&format!("/dlr?n={i}&type=%d"));
        kannel
            .send(
                Some("emi"),
                "4242",
                &format!("555{i:05}"),
                &format!("load {i}"),
                Some((3, &dlr_url)),
            )
            .unwrap();
    }
    // emgd's part: every receipt written to Kannel as a 53 and acknowledged by it.
    let acked = || {
        setup
            .log("pdu.ucp-in")
            .matches("Read op:53 (DELIVER_NOTIFICATION_RESP) type:R status:0 ")
            .count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while acked() < N {
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {N} notifications acknowledged by Kannel; SMSC: {}",
            acked(),
            smsc.state()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Kannel's part: smsbox calls each DLR URL, one after another, slowly on a loaded machine
    // (minutes for 1,000 under the whole test suite): wait while it makes progress.
    let dlrs = || -> Vec<tests::http_sink::Request> {
        sink.requests()
            .into_iter()
            .filter(|r| r.path == "/dlr")
            .collect()
    };
    let (mut seen, mut moved) = (0, std::time::Instant::now());
    let dlrs = loop {
        let now = dlrs();
        if now.len() >= N {
            break now;
        }
        if now.len() > seen {
            (seen, moved) = (now.len(), std::time::Instant::now());
        }
        assert!(
            moved.elapsed() < Duration::from_secs(60),
            "Kannel passed on {seen} of {N} DLRs and none for 60 s\n{}",
            kannel.logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let ids: BTreeSet<usize> = dlrs.iter().map(|r| r.query["n"].parse().unwrap()).collect();
    assert_eq!(ids.len(), N, "one DLR per message");
    assert!(dlrs.iter().all(|r| r.query["type"] == "1"), "all delivered");
    let state = smsc.state();
    assert_eq!(count(&state, "accepted"), N as u64, "{state}");
}

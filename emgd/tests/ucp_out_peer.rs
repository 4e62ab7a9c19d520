//! The outgoing UCP/EMI connector against the UCP SMSC simulator (`emgucpsmsc`'s engine, run
//! in the test; it is proven against Kannel's EMI client in tests/tests/ucp_smsc_kannel.rs),
//! with the real emgd binary in between: SMPP client -> emgd smpp-in -> emgd ucp-out ->
//! simulator, and the delivery notifications (53) back as deliver_sm receipts. Every frame
//! both sides wrote goes through Wireshark's UCP dissector.

mod support;

use common::ucp::{xser, Body, Frame};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use support::ucp_sim::{Simulator, WAIT};
use support::Setup;
use tests::smpp_client::Client;
use tests::ucp_smsc::Options;

fn options() -> Options {
    Options {
        credentials: Some(("emg".into(), "secret".into())),
        notify_delay: Duration::from_millis(100),
        ..Options::default()
    }
}

/// A gateway whose destinations starting with 5 go out on UCP connector `ucp`.
fn setup(port: u16, more: &str) -> Setup {
    Setup::new(
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
address = "127.0.0.1:{port}"
username = "emg"
password = "secret"
{more}
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

fn count(frames: &[(char, Frame)], dir: char, ot: u8, operation: bool) -> usize {
    frames
        .iter()
        .filter(|(d, f)| {
            *d == dir && f.ot == ot && matches!(f.body, Body::Ack(_) | Body::Nack(_)) != operation
        })
        .count()
}

#[test]
fn smpp_in_ucp_out_with_notifications_mo_alerts_and_a_long_message() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(
        dir.path(),
        Options {
            mo_count: 3,
            mo_from: "46709998877".into(),
            mo_to: "4242".into(),
            mo_text: "hello emg".into(),
            alert_interval: Some(Duration::from_secs(3)),
            ..options()
        },
    );
    let setup = setup(sim.port, "static = true\nkeepalive = 1\nwindowsize = 10");
    let mut daemon = setup.start();
    let n = 50;
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind to emgd");
        c.submit(n, 10, "5551234", true, |_| true).await.unwrap();
        // 400 GSM characters: three 51s tied by a UDH in XSer, one receipt back.
        let long = common::smpp::Sm {
            source: common::smpp::SmppAddr::new(1, 1, "4610000"),
            dest: common::smpp::SmppAddr::new(1, 1, "5550001"),
            registered_delivery: 1,
            short_message: "x".repeat(400).into_bytes().into(),
            ..Default::default()
        };
        let resp = c
            .request(
                common::smpp::command::SUBMIT_SM,
                common::smpp::Body::SubmitSm(long),
            )
            .await
            .unwrap();
        assert_eq!(resp.status, 0);
        let common::smpp::Body::SubmitSmResp { message_id, .. } = resp.body else {
            panic!("{resp:?}")
        };
        c.accepted.push(message_id);
        let wanted: HashSet<String> = c.accepted.iter().cloned().collect();
        c.await_receipts(&wanted, WAIT).await.unwrap();
        let missing = wanted.difference(&c.receipts).count();
        assert_eq!(missing, 0, "{}", setup.log("connector.ucp"));
        assert!(c.receipt_texts.values().all(|t| t.contains("stat:DELIVRD")));
    });
    // Alerts both ways: the simulator's, and ours once the link is a second idle.
    let s = sim.wait_for("every notification and MO acknowledged, and alerts", |s| {
        s.notifications_acked >= n as u64 + 3
            && s.mo_acked >= 3
            && s.alerts_acked >= 1
            && s.alerts_received >= 1
    });
    assert_eq!(
        (s.logins, s.logins_refused, s.submits, s.accepted),
        (1, 0, n as u64 + 3, n as u64 + 3),
        "{}",
        s.line()
    );
    // The wire, through tshark: the login, submits, results, notifications, MO and alerts.
    let frames = sim.check_wire();
    assert_eq!(count(&frames, 'R', 60, true), 1);
    assert_eq!(count(&frames, 'R', 51, true), n + 3);
    assert!(count(&frames, 'R', 53, false) >= n + 3);
    assert!(count(&frames, 'R', 52, false) >= 3);
    assert!(count(&frames, 'R', 31, true) >= 1 && count(&frames, 'R', 31, false) >= 1);
    let Some(Body::Session(login)) = frames
        .iter()
        .find(|(_, f)| f.ot == 60)
        .map(|(_, f)| f.body.clone())
    else {
        panic!("no login")
    };
    assert_eq!(
        (
            login.oadc.as_str(),
            login.pwd.as_slice(),
            login.oton,
            login.onpi,
            login.styp,
            login.vers.as_str()
        ),
        ("emg", &b"secret"[..], Some(6), Some(5), Some(1), "0100")
    );
    let parts: Vec<&common::ucp::Sm> = frames
        .iter()
        .filter_map(|(d, f)| match &f.body {
            Body::Sm(sm) if *d == 'R' && f.ot == 51 && sm.adc == "5550001" => Some(&**sm),
            _ => None,
        })
        .collect();
    assert_eq!(parts.len(), 3, "the long message in three parts");
    assert!(parts.iter().all(|p| p.xser.get(xser::UDH).is_some()));
    let text: String = parts.iter().filter_map(|p| p.content.text()).collect();
    assert_eq!(text, "x".repeat(400));
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let open: i64 = setup.db().number("SELECT COUNT(*) FROM dlr_open");
    assert_eq!(open, 0, "no open DLR entry is left behind");
    let log = setup.log("connector.ucp");
    assert!(log.contains(") CONNECT OK"), "{log}");
    assert!(log.contains(") LOGIN OK"), "{log}");
    let pdu = setup.log("pdu.ucp");
    for op in [
        "op:60 (SESSION_MANAGEMENT)",
        "op:60 (SESSION_MANAGEMENT_RESP)",
        "op:51 (SUBMIT_SHORT_MESSAGE)",
        "op:51 (SUBMIT_SHORT_MESSAGE_RESP)",
        "op:53 (DELIVER_NOTIFICATION)",
        "op:52 (DELIVER_SHORT_MESSAGE)",
        "op:31 (SMT_ALERT)",
    ] {
        assert!(pdu.contains(op), "{op} not in the PDU log:\n{pdu}");
    }
    assert!(!pdu.contains("secret"), "the password is masked");
}

#[test]
fn a_wrong_password_is_a_login_error_and_refused_submits_fail_their_messages() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(
        dir.path(),
        Options {
            fail_share: 0.5,
            fail_ec: common::ucp::ErrorCode::MESSAGE_TOO_LONG,
            ..options()
        },
    );
    let bad = Setup::new(
        "",
        "",
        &format!(
            "[connector.ucp]\ntype = \"outgoing\"\nprotocol = \"ucp\"\n\
             address = \"127.0.0.1:{}\"\nusername = \"emg\"\npassword = \"wrong\"\n\
             static = true\n",
            sim.port
        ),
    );
    let bad_daemon = bad.start();
    sim.wait_for("a refused login", |s| s.logins_refused >= 1);
    let deadline = Instant::now() + WAIT;
    while !bad.log("connector.ucp").contains("LOGIN ERR (info=\"07") {
        assert!(Instant::now() < deadline, "{}", bad.log("connector.ucp"));
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(bad_daemon);

    let setup = setup(sim.port, "windowsize = 5");
    let _daemon = setup.start();
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind to emgd");
        c.submit(10, 5, "5551234", true, |_| true).await.unwrap();
        let wanted: HashSet<String> = c.accepted.iter().cloned().collect();
        c.await_receipts(&wanted, WAIT).await.unwrap();
        let delivered = c
            .receipt_texts
            .values()
            .filter(|t| t.contains("stat:DELIVRD"))
            .count();
        assert_eq!(c.receipts.len(), 10, "{}", setup.log("connector.ucp"));
        // Half refused with EC 24: failed at once (the default retry scheme), reported so.
        assert_eq!(delivered, 5, "{:?}", c.receipt_texts);
    });
    let s = sim.smsc.stats();
    assert_eq!((s.submits, s.refused), (10, 5), "{}", s.line());
    sim.check_wire();
}

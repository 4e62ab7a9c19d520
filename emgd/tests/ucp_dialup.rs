//! Outgoing UCP over a dial-up modem, end to end: SMPP client -> emgd smpp-in -> emgd's UCP
//! connector with `phone` and `tty` -> a socat pty pair -> `emgmodem` (which answers ATD with
//! CONNECT and bridges the call to a TCP peer) -> the UCP SMSC simulator (`emgucpsmsc`'s
//! engine, proven against Kannel's EMI client in tests/tests/ucp_smsc_kannel.rs). Every UCP
//! frame that crossed the line goes through Wireshark's UCP dissector.

mod support;

use std::collections::HashSet;
use std::time::Duration;
use support::modem::emgmodem;
use support::ucp_sim::{Simulator as Smsc, WAIT};
use support::Setup;
use tests::pty::{wait_until, PtyPair, Simulator as Modem};
use tests::smpp_client::Client;
use tests::ucp_smsc::Options;

const PHONE: &str = "0705550100";

struct Line {
    dir: tempfile::TempDir,
    pty: PtyPair,
    modem: Modem,
    smsc: Smsc,
}

/// The SMSC simulator, and the modem that reaches it when `PHONE` is dialled.
fn line() -> Line {
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(
        dir.path(),
        Options {
            credentials: Some(("emg".into(), "secret".into())),
            notify_delay: Duration::from_millis(20),
            ..Options::default()
        },
    );
    let pty = PtyPair::new(dir.path()).expect("socat makes a pty pair");
    let dial = format!("{PHONE}=127.0.0.1:{}", smsc.port);
    let modem = Modem::start(&emgmodem(), &pty.modem, &["--dial", &dial]).expect("emgmodem");
    Line {
        dir,
        pty,
        modem,
        smsc,
    }
}

/// Destinations starting with 5 go out on `pool`, which dials `PHONE` on the pty.
fn gateway(l: &Line, more: &str) -> Setup {
    let _ = &l.dir;
    Setup::new(
        "",
        "",
        &format!(
            r#"
[[route]]
prefix = "5"
to = "pool"

[connector.pool]
type = "outgoing"
protocol = "ucp"
phone = "{PHONE}"
tty = "{}"
username = "emg"
password = "secret"
dial_init = "AT&K0"
dial_connectdelay_ms = 200
dial_sourceaddr = "4619999"
dial_timeout = 10
{more}
"#,
            l.pty.host.display()
        ),
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn events(m: &mut Modem, name: &str) -> usize {
    m.drain();
    m.seen.iter().filter(|e| e["event"] == name).count()
}

/// 12 messages with `dial_messages = 5`: three calls (5, 5, 2), each hung up with `+++` and
/// ATH; every message reaches the SMSC and every notification comes back as a receipt (those
/// the SMSC could not send before a hang-up come on the next call).
#[test]
fn messages_go_out_over_dialled_calls_of_at_most_dial_messages_and_receipts_come_back() {
    let mut l = line();
    let setup = gateway(
        &l,
        "dial_messages = 5\nidletimeout = 2\nwindowsize = 1\ndial_opdelay_ms = 5",
    );
    let _d = setup.start();
    let n = 12;
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind to emgd");
        c.submit(n - 1, 10, "5551234", true, |_| true)
            .await
            .unwrap();
        // One without a sender: it leaves with `dial_sourceaddr`.
        let anonymous = common::smpp::Sm {
            source: common::smpp::SmppAddr::new(0, 0, ""),
            dest: common::smpp::SmppAddr::new(1, 1, "5550001"),
            registered_delivery: 1,
            short_message: b"who sent this".to_vec().into(),
            ..Default::default()
        };
        let resp = c
            .request(
                common::smpp::command::SUBMIT_SM,
                common::smpp::Body::SubmitSm(anonymous),
            )
            .await
            .unwrap();
        assert_eq!(resp.status, 0);
        let common::smpp::Body::SubmitSmResp { message_id, .. } = resp.body else {
            panic!("{resp:?}")
        };
        c.accepted.push(message_id);
        assert_eq!(c.accepted.len(), n);
        let wanted: HashSet<String> = c.accepted.iter().cloned().collect();
        c.await_receipts(&wanted, WAIT).await.unwrap();
        let missing = wanted.difference(&c.receipts).count();
        assert_eq!(missing, 0, "{}", setup.log("connector.pool"));
    });
    let s = l.smsc.wait_for("every submit", |s| s.accepted >= n as u64);
    assert_eq!(s.accepted, n as u64, "{}", s.line());
    // At most 5 a call: at least three calls, each dialled, connected and hung up.
    assert!(
        wait_until(WAIT, || events(&mut l.modem, "hung-up") >= 3),
        "{}",
        l.modem.transcript()
    );
    assert!(events(&mut l.modem, "connected") >= 3);
    assert!(s.sessions >= 3 && s.logins >= 3, "{}", s.line());
    l.modem.drain();
    assert!(l
        .modem
        .seen
        .iter()
        .filter(|e| e["event"] == "hung-up")
        .all(|e| e["why"] == "ATH"));
    assert!(l.modem.seen.iter().any(|e| e["event"] == "escaped"));
    assert!(l
        .modem
        .seen
        .iter()
        .any(|e| e["event"] == "command" && e["line"] == "AT&K0"));
    // Every frame over the line is clean UCP, and the default source address was applied.
    let frames = l.smsc.check_wire();
    let submits: Vec<_> = frames
        .iter()
        .filter_map(|(dir, f)| match &f.body {
            common::ucp::Body::Sm(sm) if f.ot == 51 && *dir == 'R' => Some(sm.oadc.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(submits.len(), n, "{submits:?}");
    assert_eq!(
        submits.iter().filter(|o| *o == "4619999").count(),
        1,
        "{submits:?}"
    );
    assert_eq!(submits.iter().filter(|o| *o == "4610000").count(), n - 1);
    let log = setup.log("connector.pool");
    assert!(log.contains("CONNECT OK"), "{log}");
}

/// The carrier drops in the middle of a batch (`drop-carrier`: NO CARRIER): the session ends
/// at once, the messages without an answer go back to the queue, the connector dials again,
/// and every message gets to the SMSC and back as a receipt.
#[test]
fn a_dropped_carrier_loses_nothing_and_the_connector_dials_again() {
    let mut l = line();
    let setup = gateway(&l, "idletimeout = 5\nwindowsize = 2\ndial_opdelay_ms = 100");
    let _d = setup.start();
    let n = 20;
    let smsc = &l.smsc;
    let modem = &mut l.modem;
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind to emgd");
        c.submit(n, 20, "5551234", true, |_| true).await.unwrap();
        assert_eq!(c.accepted.len(), n);
        // A few are through: the line goes.
        let deadline = std::time::Instant::now() + WAIT;
        while smsc.smsc.stats().accepted < 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "no submits over the line"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        modem.control("drop-carrier").unwrap();
        let wanted: HashSet<String> = c.accepted.iter().cloned().collect();
        c.await_receipts(&wanted, WAIT).await.unwrap();
        let missing = wanted.difference(&c.receipts).count();
        assert_eq!(missing, 0, "{}", setup.log("connector.pool"));
    });
    let s = l.smsc.smsc.stats();
    assert!(s.accepted >= n as u64, "{}", s.line());
    l.modem.drain();
    assert!(
        l.modem
            .seen
            .iter()
            .any(|e| e["event"] == "hung-up" && e["why"] == "drop-carrier"),
        "{}",
        l.modem.transcript()
    );
    assert!(events(&mut l.modem, "connected") >= 2);
}

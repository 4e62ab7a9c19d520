//! Both CIMD2 connectors against Kannel 1.4.5: the outgoing one with Kannel's CIMD2 SMSC
//! simulator `test_cimd2` as its SMSC (submits, alive, its MO flood of `--activity 3`, its
//! garbage of `--spew 1`), the incoming one with Kannel's CIMD2 client (`smsc = cimd2`) as
//! its client (login against the users, submits, status reports matched by Kannel, MO held
//! while it is away). A recording relay puts every packet through Wireshark's CIMD
//! dissector.
//!
//! Needs Debian's kannel, kannel-extras and tshark (scripts/test installs them); missing
//! ones fail the test.

mod support;

use common::cimd2::{decode_packet, Packet};
use std::time::{Duration, Instant};
use support::kannel_in::{self, Wire};
use support::wire::Recorder;
use support::Setup;
use tests::daemon::free_port;
use tests::kannel::{Cimd2SimOptions, TestCimd2};
use tests::smpp_client::Client;
use tests::tshark::dissect;

const WAIT: Duration = Duration::from_secs(60);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool, show: impl Fn() -> String) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "no {what}:\n{}", show());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every recorded packet decodes with our codec and with tshark.
fn check_wire(rec: &Recorder) -> Vec<(char, Packet)> {
    let raw = rec.frames();
    assert!(!raw.is_empty(), "no packets recorded");
    let packets: Vec<(char, Packet)> = raw
        .iter()
        .map(|(dir, b)| {
            let p = decode_packet(b)
                .unwrap_or_else(|e| panic!("{dir} {}: {e}", String::from_utf8_lossy(b)));
            (*dir, p)
        })
        .collect();
    let wire: Vec<Vec<u8>> = raw.into_iter().map(|(_, b)| b).collect();
    for ((dir, p), d) in packets.iter().zip(dissect("cimd", &wire)) {
        assert!(!d.malformed && d.expert.is_empty(), "{dir} {p:?}: {d:?}");
        assert!(!d.info.contains("invalid"), "{dir} {p:?}: {}", d.info);
        assert_eq!(
            d.get("cimd.opcode").map(|v| v.trim_start_matches('0')),
            Some(p.op.to_string().as_str()),
            "{dir} {p:?}: {d:?}"
        );
    }
    packets
}

/// emgd with an outgoing CIMD2 connector `cimd` to `port` (destinations starting with 5).
fn outgoing(port: u16, more: &str) -> Setup {
    Setup::new(
        "",
        "",
        &format!(
            r#"
[[route]]
prefix = "5"
to = "cimd"

[connector.cimd]
type = "outgoing"
protocol = "cimd2"
address = "127.0.0.1:{port}"
username = "foo"
password = "bar"
static = true
{more}
"#
        ),
    )
}

#[test]
fn outgoing_cimd2_logs_in_submits_and_keeps_alive_with_test_cimd2() {
    let dir = tempfile::tempdir().unwrap();
    let sim = TestCimd2::start(dir.path(), &Cimd2SimOptions::default()).unwrap();
    let rec = Recorder::start(sim.port);
    let setup = outgoing(rec.port, "keepalive = 1");
    let _daemon = setup.start();
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind to emgd");
        c.submit(10, 5, "5551234", true, |_| true).await.unwrap();
        assert_eq!(c.accepted.len(), 10);
    });
    let out = sim
        .wait_for("ten submits", WAIT, |o| {
            o.matches("SND: Submit OK").count() >= 10
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", setup.log("connector.cimd")));
    assert!(
        out.contains("RCV: Login user 'foo', password 'bar'"),
        "{out}"
    );
    assert!(out.contains("RCV: Submit to 5551234"), "{out}");
    assert!(out.contains("Text: load 9"), "{out}");
    // Alive once the link is a second idle.
    wait_until(
        "alive answered",
        || setup.log("pdu.cimd").contains("op:90 (ALIVE_RESP)"),
        || setup.log("pdu.cimd"),
    );
    let pdu = setup.log("pdu.cimd");
    for op in [
        "op:01 (LOGIN)",
        "op:03 (SUBMIT_MESSAGE)",
        "op:53 (SUBMIT_MESSAGE_RESP)",
    ] {
        assert!(pdu.contains(op), "{op} not in the PDU log:\n{pdu}");
    }
    assert!(!pdu.contains("PASSWORD:bar"), "the password is masked");
    let packets = check_wire(&rec);
    let submits = packets
        .iter()
        .filter(|(d, p)| *d == 'C' && p.op == 3 && p.number % 2 == 1)
        .count();
    assert_eq!(submits, 10, "submits carry odd packet numbers");
    // The messages left: every one is recorded as sent, waiting for its status report.
    let sent = || -> i64 {
        setup
            .db()
            .number("SELECT COUNT(*) FROM messages WHERE status = 'SENT'")
    };
    wait_until("10 sent", || sent() == 10, || format!("{} sent", sent()));
}

#[test]
fn the_mo_flood_of_activity_3_is_stored_and_every_delivery_answered() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Cimd2SimOptions {
        activity: 3,
        max: Some(200),
        ..Cimd2SimOptions::default()
    };
    let sim = TestCimd2::start(dir.path(), &opts).unwrap();
    let setup = outgoing(sim.port, "route = \"sim1\"");
    let _daemon = setup.start();
    let out = sim
        .wait_for("200 answered deliveries", WAIT, |o| {
            o.contains("LOG: 200 deliveries in")
        })
        .unwrap_or_else(|e| panic!("{e}\n{}", setup.log("connector.cimd")));
    assert_eq!(out.matches("SND: Deliver message (random)").count(), 200);
    // test_cimd2 waits for each answer before its next delivery: 200 answers were written.
    let pdu = setup.log("pdu.cimd");
    assert_eq!(
        pdu.matches("Write op:70 (DELIVER_MESSAGE_RESP)").count(),
        200,
        "{}",
        setup.log("connector.cimd")
    );
    // Those with an originator and a destination were stored for sim1, each answered with
    // no error; the rest were refused with an error code.
    let stored: i64 = setup
        .db()
        .number("SELECT COUNT(*) FROM routelog WHERE in_connector = 'cimd'");
    let ok = pdu
        .matches("Write op:70 (DELIVER_MESSAGE_RESP) status:0 ")
        .count();
    assert!(stored > 0, "{pdu}");
    assert_eq!(ok as i64, stored, "answered without error = stored");
}

#[test]
fn garbage_from_test_cimd2_gets_the_protocol_error_and_nothing_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Cimd2SimOptions {
        spew: 1,
        ..Cimd2SimOptions::default()
    };
    let sim = TestCimd2::start(dir.path(), &opts).unwrap();
    let setup = outgoing(sim.port, "");
    let mut daemon = setup.start();
    wait_until(
        "garbage logged",
        || setup.log("connector.cimd").matches("PDU ERR").count() >= 20,
        || setup.log("connector.cimd"),
    );
    // Random octets never make a readable header, so there is nothing to answer: each run
    // is skipped and logged, and nothing is buffered past the bound (no oversized packet
    // ends the session: an STX is never far in random octets). Whether the login's answer
    // came before the garbage or drowned in it (then the login times out and is retried)
    // depends on timing.
    let log = setup.log("connector.cimd");
    assert!(!log.contains("no ETX within"), "{log}");
    // emgd is alive and well: an SMPP client still gets its submits stored.
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind to emgd");
        c.submit(3, 3, "4551234", false, |_| true).await.unwrap();
        assert_eq!(c.accepted.len(), 3);
    });
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
}

#[test]
fn kannel_submits_over_cimd2_and_gets_status_reports_and_the_mo_held_for_it() {
    let port = free_port();
    let setup = kannel_in::setup(Wire::Cimd2, "cimd-in", port);
    let _daemon = setup.start();
    let rec = Recorder::start(port);
    let n = 20;
    let _session = kannel_in::session(Wire::Cimd2, &setup, "cimd-in", rec.port, n);
    wait_until(
        "a refused login",
        || {
            setup
                .log("connector.cimd-in")
                .contains("LOGIN ERR (info=\"100")
        },
        || setup.log("connector.cimd-in"),
    );
    let packets = check_wire(&rec);
    let count = |dir: char, op: u8| {
        packets
            .iter()
            .filter(|(d, p)| *d == dir && p.op == op)
            .count()
    };
    assert_eq!(count('C', 3), n, "submits");
    assert_eq!(count('S', 53), n, "their responses");
    assert!(count('S', 23) >= n && count('S', 20) >= 3, "reports and MO");
    let refused = packets
        .iter()
        .filter(|(d, p)| *d == 'S' && p.op == 51 && p.error_code() == 100)
        .count();
    assert!(refused >= 1, "the wrong password gets error 100");
}

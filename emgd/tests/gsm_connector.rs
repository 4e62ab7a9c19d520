//! The GSM connector end to end: the real emgd binary with `protocol = "gsm"` on one end of a
//! `socat` pty pair and the `emgmodem` simulator (tests/src/modem, proven against gammu,
//! smstools and python-gsmmodem-new in tests/tests/modem_peers.rs) on the other; python
//! smpplib sends the MT messages in over SMPP and takes their receipts.

mod support;

use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use support::mgp::Mgp;
use support::modem::emgmodem;
use support::Setup;
use tests::daemon::free_port;
use tests::pty::{wait_until, PtyPair, Simulator};

const LONG: Duration = Duration::from_secs(60);

/// A gateway whose connector `modem` is the GSM modem on `tty`, for destinations starting
/// with 99; what the modem receives is addressed to 4600 and so routed to `sim1`.
fn gateway(tty: &Path, extra: &str) -> Setup {
    gateway_with(tty, "", "4600", extra)
}

/// [`gateway`] with `general` settings at the top and received messages addressed to
/// `destaddr`.
fn gateway_with(tty: &Path, general: &str, destaddr: &str, extra: &str) -> Setup {
    let conf = format!(
        r#"
[connector.modem]
type = "outgoing"
protocol = "gsm"
address = "{}"
gsm_poll = 1
gsm_timeout = 5
gsm_destaddr = "{destaddr}"
{extra}

[[route]]
prefix = "99"
to = "modem"
"#,
        tty.display()
    );
    std::fs::create_dir_all(tty.parent().unwrap()).unwrap();
    Setup::new(general, "", &conf)
}

struct Line {
    _tmp: tempfile::TempDir,
    pty: PtyPair,
    sim: Simulator,
}

fn line(args: &[&str]) -> Line {
    let tmp = tempfile::tempdir().unwrap();
    let pty = PtyPair::new(tmp.path()).expect("socat makes a pty pair");
    let sim = Simulator::start(&emgmodem(), &pty.modem, args).expect("emgmodem starts");
    Line {
        _tmp: tmp,
        pty,
        sim,
    }
}

/// Routelog rows that came in on `connector`: (source, dest, status).
fn received_on(setup: &Setup, connector: &str) -> Vec<(String, String, String)> {
    setup
        .db()
        .rows(&format!(
            "SELECT source, dest, status FROM routelog WHERE in_connector = '{connector}' \
             ORDER BY message_id"
        ))
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect()
}

fn sent_texts(sim: &mut Simulator) -> Vec<String> {
    sim.drain();
    sim.seen
        .iter()
        .filter(|e| e["event"] == "sent")
        .filter_map(|e| e["text"].as_str().map(str::to_string))
        .collect()
}

fn submit(setup: &Setup, dest: &str, text: &str, coding: &str) -> Value {
    support::smpplib(
        setup.smpp_port,
        &[
            "--count",
            "1",
            "--dest",
            dest,
            "--text",
            text,
            "--coding",
            coding,
            "--timeout",
            "60",
        ],
    )
}

#[test]
fn mt_messages_leave_as_pdus_and_their_status_reports_come_back_as_receipts() {
    let mut l = line(&["--report-delay-ms", "200"]);
    let setup = gateway(&l.pty.host, "");
    let _d = setup.start();
    l.sim
        .wait_for("emgd's set-up", LONG, |e| {
            e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
        })
        .unwrap();
    let commands = l.sim.commands();
    for c in ["ATE0", "AT+CMGF=0", "AT+CNMI=2,1,0,1,0"] {
        assert!(commands.iter().any(|x| x == c), "{c} in {commands:?}");
    }
    // GSM 7-bit, UCS-2 and a long text cut into concatenated parts; each with a receipt.
    let long = "The quick brown fox jumps over the lazy dog. ".repeat(4);
    for (text, coding) in [
        ("hello modem", "0"),
        ("Привет, модем", "8"),
        (long.trim(), "0"),
    ] {
        let r = submit(&setup, "99123456", text, coding);
        assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(1), "{r}");
        let receipts = r["receipts"].to_string();
        assert!(
            receipts.contains("DELIVRD"),
            "receipt delivered for {text:?}: {r}"
        );
    }
    let sent = sent_texts(&mut l.sim);
    assert!(sent.iter().any(|t| t == "hello modem"), "{sent:?}");
    assert!(sent.iter().any(|t| t == "Привет, модем"), "{sent:?}");
    let parts: Vec<&Value> = l
        .sim
        .seen
        .iter()
        .filter(|e| e["event"] == "sent" && !e["concat"].is_null())
        .collect();
    assert_eq!(
        parts.len(),
        2,
        "the long text went as two parts: {}",
        l.sim.transcript()
    );
    let joined: String = parts.iter().filter_map(|e| e["text"].as_str()).collect();
    assert_eq!(joined, long.trim());
}

#[test]
fn mo_messages_are_routed_and_deleted_from_the_modem_only_once_stored() {
    let mut l = line(&[]);
    let setup = gateway(&l.pty.host, "");
    let _d = setup.start();
    l.sim
        .wait_for("emgd's set-up", LONG, |e| {
            e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
        })
        .unwrap();
    l.sim
        .control("mo +46709876543 hello from the phone")
        .unwrap();
    l.sim
        .wait_for("the MO deleted", LONG, |e| e["event"] == "deleted")
        .unwrap();
    // The routelog is written behind the store's commit: wait for it.
    assert!(
        wait_until(LONG, || !received_on(&setup, "modem").is_empty()),
        "{}",
        setup.log("connector.modem")
    );
    let rows = received_on(&setup, "modem");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "+46709876543");
    assert_eq!(rows[0].1, "4600");
    // A long MO arrives as its parts, each routed with its UDH and each deleted.
    let long = "A long reply from the handset, in more than one part. ".repeat(4);
    l.sim
        .control(&format!("mo +46709876543 {}", long.trim()))
        .unwrap();
    for _ in 0..2 {
        l.sim
            .wait_for("a part deleted", LONG, |e| e["event"] == "deleted")
            .unwrap();
    }
    assert!(wait_until(LONG, || received_on(&setup, "modem").len() == 3));
}

#[test]
fn cms_errors_go_through_the_retry_scheme_and_a_lost_line_comes_back() {
    let mut l = line(&[]);
    let setup = gateway(&l.pty.host, "");
    let _d = setup.start();
    l.sim
        .wait_for("emgd's set-up", LONG, |e| {
            e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
        })
        .unwrap();
    // A temporary +CMS ERROR (500, unknown): the message is put back and sent again.
    l.sim.control("cms-error 500").unwrap();
    let r = submit(&setup, "99123456", "after an error", "0");
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(1), "{r}");
    assert!(sent_texts(&mut l.sim).iter().any(|t| t == "after an error"));
    let log = setup.log("connector.modem");
    assert!(log.contains("SUBMIT ERR") && log.contains("500"), "{log}");

    // The line goes away (socat stops: both ptys close) and comes back: a message queued
    // meanwhile is sent once the modem is there again.
    l.pty.stop().unwrap();
    let setup2 = &setup;
    let sender = std::thread::scope(|s| {
        let h = s.spawn(move || submit(setup2, "99123456", "over the outage", "0"));
        std::thread::sleep(Duration::from_secs(3));
        l.pty.start().unwrap();
        h.join().unwrap()
    });
    assert_eq!(
        sender["accepted"].as_array().map(|a| a.len()),
        Some(1),
        "{sender}"
    );
    assert!(
        wait_until(LONG, || sent_texts(&mut l.sim)
            .iter()
            .any(|t| t == "over the outage")),
        "{}",
        l.sim.transcript()
    );
    let log = setup.log("connector.modem");
    assert!(
        log.contains("DISCONNECT") || log.contains("CONNECT ERR"),
        "{log}"
    );
}

#[test]
fn a_silent_modem_times_out_and_nothing_is_lost() {
    let mut l = line(&[]);
    let setup = gateway(&l.pty.host, "");
    let _d = setup.start();
    l.sim
        .wait_for("emgd's set-up", LONG, |e| {
            e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
        })
        .unwrap();
    l.sim.control("silent").unwrap();
    let setup2 = &setup;
    let r = std::thread::scope(|s| {
        let h = s.spawn(move || submit(setup2, "99123456", "past the silence", "0"));
        // The send times out after gsm_timeout (5 s), the line is set up again.
        std::thread::sleep(Duration::from_secs(8));
        l.sim.control("wake").unwrap();
        h.join().unwrap()
    });
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(1), "{r}");
    assert!(wait_until(LONG, || sent_texts(&mut l.sim)
        .iter()
        .any(|t| t == "past the silence")));
    let log = setup.log("connector.modem");
    assert!(log.contains("no answer"), "{log}");
}

/// SIGKILL after an MO was stored but before the modem deleted it: the message is still on
/// the modem, so the restarted emgd reads and routes it again. Received at least once (here
/// twice), never lost; exactly once would need the modem's index and PDU kept with the
/// message to recognise it, which a modem that renumbers its memory cannot promise.
#[test]
fn sigkill_between_storing_an_mo_and_deleting_it_routes_it_again_after_the_restart() {
    let mut l = line(&[]);
    let setup = gateway(&l.pty.host, "");
    let mut d = setup.start();
    l.sim
        .wait_for("emgd's set-up", LONG, |e| {
            e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
        })
        .unwrap();
    l.sim.control("silent-on AT+CMGD").unwrap();
    l.sim
        .control("mo +46709876543 kept across a crash")
        .unwrap();
    l.sim
        .wait_for("the delete that hangs", LONG, |e| {
            e["event"] == "fell-silent"
        })
        .unwrap();
    // The delete is asked only once the message is stored.
    assert!(wait_until(LONG, || received_on(&setup, "modem").len() == 1));
    d.kill9();
    l.sim.control("wake").unwrap();
    let _d = setup.start();
    l.sim
        .wait_for("deleted after the restart", LONG, |e| {
            e["event"] == "deleted"
        })
        .unwrap();
    assert!(wait_until(LONG, || received_on(&setup, "modem").len() == 2));
    std::thread::sleep(Duration::from_secs(3));
    let rows = received_on(&setup, "modem");
    assert_eq!(rows.len(), 2, "routed again once, then deleted: {rows:?}");
    assert!(rows.iter().all(|r| r.0 == "+46709876543"), "{rows:?}");
}

/// A modem that restarts (settings back to its defaults, echo on) or writes garbage on the
/// line: the message in hand is put back, the session sets the modem up again and sends it.
#[test]
fn a_modem_that_resets_or_babbles_loses_nothing() {
    let mut l = line(&[]);
    let setup = gateway(&l.pty.host, "");
    let _d = setup.start();
    l.sim
        .wait_for("emgd's set-up", LONG, |e| {
            e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
        })
        .unwrap();
    l.sim.control("garbage #%&!? NOISE 1234").unwrap();
    let r = submit(&setup, "99123456", "through the noise", "0");
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(1), "{r}");
    assert!(wait_until(LONG, || sent_texts(&mut l.sim)
        .iter()
        .any(|t| t == "through the noise")));
    l.sim.control("reset").unwrap();
    let started = std::time::Instant::now();
    let r = submit(&setup, "99123456", "after a reset", "0");
    // Set up again (echo off, indications on), so its status report still comes as +CDS.
    assert!(r["receipts"].to_string().contains("DELIVRD"), "{r}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(1), "{r}");
    assert!(
        wait_until(LONG, || sent_texts(&mut l.sim)
            .iter()
            .any(|t| t == "after a reset")),
        "{}\n{}",
        l.sim.transcript(),
        setup.log("connector.modem")
    );
}

/// The set-up keywords reach the modem: a SIM that wants its PIN, a modem that takes PDUs
/// without an SCA field (`gsm_nosca`; emgmodem --nosca refuses any other), the phone memory
/// (`gsm_memory`) and the init string; a message then goes out through it.
#[test]
fn pin_nosca_memory_and_init_string_set_the_modem_up() {
    let mut l = line(&["--pin", "4321", "--nosca"]);
    let setup = gateway(
        &l.pty.host,
        "gsm_pin = \"4321\"\ngsm_nosca = true\ngsm_memory = \"ME\"\ngsm_init = \"AT+CSCS=\\\"GSM\\\"\"",
    );
    let _d = setup.start();
    l.sim
        .wait_for("emgd's set-up", LONG, |e| {
            e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
        })
        .unwrap();
    let commands = l.sim.commands();
    for c in [
        "AT+CSCS=\"GSM\"",
        "AT+CPIN=\"4321\"",
        "AT+CPMS=\"ME\",\"ME\",\"ME\"",
    ] {
        assert!(commands.iter().any(|x| x == c), "{c} in {commands:?}");
    }
    let r = submit(&setup, "99123456", "without an SCA", "0");
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(1), "{r}");
    assert!(r["receipts"].to_string().contains("DELIVRD"), "{r}");
    assert!(sent_texts(&mut l.sim).iter().any(|t| t == "without an SCA"));
}

/// The modem goes away while nothing is queued: the connector shows IDLE while it retries
/// and ERROR after a round of failed opens (`C* * 1 2 4`: 2 attempts 1 s apart, then 4 s),
/// never BOUND; once the modem answers again it is BOUND.
#[test]
fn a_dead_modem_with_an_empty_queue_shows_error_until_it_answers_again() {
    let mut l = line(&[]);
    let mgp = free_port();
    let setup = gateway_with(
        &l.pty.host,
        &format!("mgp_address = \"127.0.0.1:{mgp}\""),
        "4600",
        "retryscheme = \"retry.txt\"\n\n[operator.admin]\npassword = \"secret\"\nrole = \"admin\"",
    );
    std::fs::write(setup.dir.path().join("retry.txt"), "C* * 1 2 4 0 0\n").unwrap();
    let _d = setup.start();
    let mut m = Mgp::login(mgp);
    assert!(
        wait_until(LONG, || m.shown_states("modem") == ["BOUND"]),
        "{:?}",
        m.shown_states("modem")
    );
    l.pty.stop().unwrap();
    assert!(
        wait_until(LONG, || m.shown_states("modem") == ["ERROR"]),
        "{:?}\n{}",
        m.shown_states("modem"),
        setup.log("connector.modem")
    );
    let log = setup.log("connector.modem");
    assert!(log.contains("ERROR (info=\"2 connects failed"), "{log}");
    l.pty.start().unwrap();
    assert!(
        wait_until(LONG, || m.shown_states("modem") == ["BOUND"]),
        "{:?}\n{}",
        m.shown_states("modem"),
        setup.log("connector.modem")
    );
}

/// The `sent` events of the parts of long messages: (reference, seq).
fn sent_parts(sim: &mut Simulator) -> Vec<(u64, u64)> {
    sim.drain();
    sim.seen
        .iter()
        .filter(|e| e["event"] == "sent")
        .filter_map(|e| Some((e["concat"][0].as_u64()?, e["concat"][2].as_u64()?)))
        .collect()
}

/// The modem refuses the second part of a long message for now (+CMS ERROR 500): the
/// message goes back to its queue and, when it is sent again, goes on from the second part
/// with the same concatenation reference; the first part goes once.
#[test]
fn a_refused_later_part_resumes_from_that_part() {
    let mut l = line(&[]);
    let setup = gateway(&l.pty.host, "");
    let _d = setup.start();
    l.sim
        .wait_for("emgd's set-up", LONG, |e| {
            e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
        })
        .unwrap();
    l.sim.control("cms-error 500 1 after 1").unwrap();
    let long = "A long message that takes two parts to go out over the modem. ".repeat(3);
    let r = submit(&setup, "99123456", long.trim(), "0");
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(1), "{r}");
    assert!(
        wait_until(LONG, || sent_parts(&mut l.sim).len() >= 2),
        "{}",
        l.sim.transcript()
    );
    // Give a wrong second go the time to show up.
    std::thread::sleep(Duration::from_secs(2));
    let parts = sent_parts(&mut l.sim);
    assert_eq!(parts.len(), 2, "{parts:?}\n{}", l.sim.transcript());
    assert_eq!(parts[0].1, 1);
    assert_eq!(parts[1].1, 2);
    assert_eq!(parts[0].0, parts[1].0, "one reference for both parts");
    assert!(l.sim.seen.iter().any(|e| e["event"] == "refused"));
    assert!(
        wait_until(LONG, || {
            let log = setup.log("connector.modem");
            log.contains("goes on from part 2 of 2") && log.contains("SUBMIT OK")
        }),
        "{}",
        setup.log("connector.modem")
    );
}

/// A stored message that cannot be decoded, and one the gateway refuses for good (no route
/// for its destination), are logged with their PDU and deleted: not read at every poll.
#[test]
fn undecodable_and_refused_messages_are_logged_and_deleted_from_the_modem() {
    let mut l = line(&[]);
    // Received messages are addressed to 777, which no route takes.
    let setup = gateway_with(&l.pty.host, "", "777", "");
    let _d = setup.start();
    l.sim
        .wait_for("emgd's set-up", LONG, |e| {
            e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
        })
        .unwrap();
    // An SMS-DELIVER cut off after its originator.
    l.sim.control("mo-pdu 040B916407281553F8").unwrap();
    l.sim
        .wait_for("the undecodable one deleted", LONG, |e| {
            e["event"] == "deleted"
        })
        .unwrap();
    l.sim.control("mo +46709876543 nobody routes me").unwrap();
    l.sim
        .wait_for("the refused one deleted", LONG, |e| e["event"] == "deleted")
        .unwrap();
    // Connector log lines are written by their own task: wait for them.
    assert!(
        wait_until(LONG, || {
            let log = setup.log("connector.modem");
            log.contains("undecodable, deleted from the modem")
                && log.contains("refused, deleted from the modem")
        }),
        "{}",
        setup.log("connector.modem")
    );
    // Later polls find nothing to read again.
    std::thread::sleep(Duration::from_secs(3));
    let log = setup.log("connector.modem");
    assert_eq!(log.matches("deleted from the modem").count(), 2, "{log}");
}

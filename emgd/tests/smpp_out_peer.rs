//! The outgoing SMPP connector against a real third-party SMSC: the npm `smpp` package
//! (tests/peers/smsc/smsc.js), with the real emgd binary in between:
//! our SMPP client -> emgd smpp-in -> emgd smpp-out -> node SMSC, and receipts back.
//!
//! Needs node and `npm ci --prefix tests/peers/smsc` (scripts/test does it). Missing pieces
//! fail the test loudly; nothing is skipped.

mod support;

use serde_json::Value;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use support::smsc::{acked, count, texts, Smsc};
use support::Setup;
use tests::daemon::free_port;
use tests::smpp_client::Client;

/// Poll `f` until it is true or `timeout` passes.
fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

/// A gateway with an outgoing SMPP connector `smsc` to 127.0.0.1:`port`, routed for
/// destinations starting with 5. `more` is added to the connector.
fn setup(port: u16, more: &str, retry: Option<&str>) -> Setup {
    let retry_kw = if retry.is_some() {
        "retryscheme = \"retry.txt\""
    } else {
        ""
    };
    let extra = format!(
        r#"
[[route]]
prefix = "5"
to = "smsc"

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{port}"
username = "emg"
password = "secret"
{retry_kw}
{more}
"#
    );
    let s = Setup::new("", "", &extra);
    if let Some(r) = retry {
        std::fs::write(s.dir.path().join("retry.txt"), r).unwrap();
    }
    s
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Submit `n` messages through emgd with DLRs and wait for every receipt.
fn submit_and_collect(emg_port: u16, n: usize, timeout: Duration) -> (Vec<String>, Client) {
    rt().block_on(async {
        let mut c = Client::bind(emg_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind to emgd");
        c.submit(n, 50, "5551234", true, |_| true).await.unwrap();
        let wanted: HashSet<String> = c.accepted.iter().cloned().collect();
        c.await_receipts(&wanted, timeout).await.unwrap();
        (c.accepted.clone(), c)
    })
}

fn run_format(args: &[&str], connector: &str) {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), args);
    let setup = setup(
        port,
        &format!("instances = 2\nwindowsize = 20\nstatic = true\n{connector}"),
        None,
    );
    let mut daemon = setup.start();
    let (accepted, client) = submit_and_collect(setup.smpp_port, 1000, Duration::from_secs(90));
    assert_eq!(accepted.len(), 1000, "emgd accepted every submit");
    assert!(client.refused.is_empty(), "refused: {:?}", client.refused);
    let missing: Vec<&String> = accepted
        .iter()
        .filter(|id| !client.receipts.contains(*id))
        .collect();
    // The SMSC writes its state every 100 ms.
    wait_for(Duration::from_secs(5), || {
        let s = smsc.state();
        count(&s, "receipts_acked") >= 1000 && texts(&s).len() >= 1000
    });
    let state = smsc.state();
    assert!(
        missing.is_empty(),
        "{} of 1000 receipts did not come back ({args:?}); SMSC: accepted {} receipts acked {}\n{}",
        missing.len(),
        count(&state, "accepted"),
        count(&state, "receipts_acked"),
        setup.log("connector.smsc")
    );
    let got = texts(&state);
    for i in 0..1000 {
        assert!(
            got.contains(&format!("load {i}")),
            "SMSC never got load {i}"
        );
    }
    assert_eq!(
        count(&state, "receipts_acked"),
        count(&state, "receipts_sent")
    );
    let r = &client.receipt_texts[&accepted[0]];
    assert!(r.contains("stat:DELIVRD"), "{r}");
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let open: i64 = setup.db().number("SELECT COUNT(*) FROM dlr_open");
    assert_eq!(open, 0, "no open DLR entry is left behind");
    let log = setup.log("connector.smsc");
    assert!(log.contains(") CONNECT OK"), "{log}");
    assert!(log.contains(") LOGIN OK (info=\"0 node-smsc\")"), "{log}");
    let pdu = setup.log("pdu.smsc");
    assert!(pdu.contains("(BIND_TRANSCEIVER)"), "{pdu}");
    assert!(!pdu.contains("secret"), "the password is masked");
}

#[test]
fn decimal_ids_with_receipt_tlvs() {
    run_format(&["--id-format", "decimal"], "");
}

#[test]
fn hex_ids_with_decimal_receipt_text() {
    // submit_sm_resp in upper-case hex; the TLV in lower-case hex.
    run_format(&["--id-format", "hex"], "");
}

#[test]
fn hex_ids_with_text_only_receipts_in_decimal() {
    // The receipt only says `id:<decimal>`: matched through the hex/decimal alternate.
    run_format(&["--id-format", "hex", "--receipt", "text"], "");
}

#[test]
fn zero_padded_ids() {
    run_format(&["--id-format", "zeros", "--receipt", "text"], "");
}

#[test]
fn hex_ids_with_explicit_hex_format() {
    run_format(
        &["--id-format", "hex", "--receipt", "text"],
        "dlr_id_format = \"hex\"",
    );
}

#[test]
fn receipts_before_submit_responses_are_parked_and_matched() {
    run_format(&["--id-format", "hex", "--receipt-first"], "");
}

#[test]
fn transmitter_bind_and_smpp_3_3() {
    // A transmitter cannot get receipts: only check the messages arrive.
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &[]);
    let setup = setup(
        port,
        "bindmode = \"transmitter\"\ninterface_version = \"3.3\"\nstatic = true",
        None,
    );
    let _daemon = setup.start();
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .unwrap();
        c.submit(20, 10, "5551234", false, |_| true).await.unwrap();
        assert_eq!(c.accepted.len(), 20);
    });
    assert!(
        wait_for(Duration::from_secs(20), || texts(&smsc.state()).len() == 20),
        "{}",
        smsc.state()
    );
    let pdu = setup.log("pdu.smsc");
    assert!(pdu.contains("(BIND_TRANSMITTER)"), "{pdu}");
    assert!(pdu.contains("INTERFACEVERSION:51"), "{pdu}");
}

#[test]
fn throttled_submits_follow_the_retry_scheme() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(
        port,
        dir.path().join("smsc.json"),
        &["--throttle-share", "0.1"],
    );
    let setup = setup(
        port,
        "static = true\nwindowsize = 10",
        Some("M* 0x58 0 0 0 1 0\n"),
    );
    let _daemon = setup.start();
    let (accepted, client) = submit_and_collect(setup.smpp_port, 200, Duration::from_secs(60));
    assert_eq!(accepted.len(), 200);
    assert!(accepted.iter().all(|id| client.receipts.contains(id)));
    let state = smsc.state();
    assert!(count(&state, "throttled") >= 20, "{state}");
    assert!(
        wait_for(Duration::from_secs(5), || texts(&smsc.state()).len() == 200),
        "every message arrived: {}",
        smsc.state()
    );
}

#[test]
fn refused_bind_is_logged_retried_then_error() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &["--password", "other"]);
    // Retry every 1 s, 2 connects per round, then 3 s in ERROR.
    let setup = setup(port, "static = true", Some("C* * 1 2 3 0 0\n"));
    let _daemon = setup.start();
    let ok = wait_for(Duration::from_secs(15), || {
        let log = setup.log("connector.smsc");
        log.matches("LOGIN ERR (info=\"14\")").count() >= 3 && log.contains(") ERROR (info=")
    });
    let log = setup.log("connector.smsc");
    assert!(ok, "{log}");
    assert!(wait_for(Duration::from_secs(2), || count(
        &smsc.state(),
        "bind_refused"
    ) >= 3));
    // The ERROR line comes after the second failure of a round.
    let first_error = log.find(") ERROR").unwrap();
    assert_eq!(log[..first_error].matches("LOGIN ERR").count(), 2, "{log}");
    assert!(!setup.log("pdu.smsc").contains("secret"));
}

#[test]
fn connect_refused_is_logged_with_errno() {
    let port = free_port();
    let setup = setup(port, "static = true", Some("C* * 1 5 3 0 0\n"));
    let _daemon = setup.start();
    assert!(
        wait_for(Duration::from_secs(10), || setup
            .log("connector.smsc")
            .contains(") CONNECT ERR (info=\"111\")")),
        "{}",
        setup.log("connector.smsc")
    );
}

#[test]
fn keepalive_then_idle_timeout_then_reconnect_on_work() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &[]);
    let setup = setup(port, "keepalive = 1\nidletimeout = 3", None);
    let _daemon = setup.start();
    let send = |n: usize| {
        rt().block_on(async {
            let mut c = Client::bind(setup.smpp_port, "demo", "demo")
                .await
                .unwrap()
                .unwrap();
            c.submit(n, 10, "5551234", false, |_| true).await.unwrap();
            c.unbind().await;
        })
    };
    // Not static: nothing connects before there is work.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(count(&smsc.state(), "binds"), 0);
    send(1);
    assert!(
        wait_for(Duration::from_secs(10), || {
            let s = smsc.state();
            count(&s, "enquire_links") >= 1 && count(&s, "unbinds") >= 1
        }),
        "{}",
        smsc.state()
    );
    let log = setup.log("connector.smsc");
    assert!(log.contains("DISCONNECT (info=\"idle timeout\")"), "{log}");
    send(1);
    assert!(
        wait_for(Duration::from_secs(10), || count(&smsc.state(), "accepted")
            == 2),
        "{}",
        smsc.state()
    );
    assert_eq!(count(&smsc.state(), "binds"), 2);
}

#[test]
fn smsc_killed_and_restarted_gets_the_rest() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let mut first = Smsc::start(port, dir.path().join("smsc1.json"), &[]);
    let setup = setup(
        port,
        "static = true\nwindowsize = 10",
        Some("C* * 1 100 1 0 0\n"),
    );
    let _daemon = setup.start();
    let total = 500;
    let rt = rt();
    let mut client = rt.block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .unwrap();
        let mut killed = false;
        c.submit(total, 20, "5551234", true, |n| {
            if n >= 100 && !killed {
                first.kill();
                killed = true;
            }
            true
        })
        .await
        .unwrap();
        c
    });
    let before = first.state();
    std::thread::sleep(Duration::from_millis(1500));
    let second = Smsc::start(
        port,
        dir.path().join("smsc2.json"),
        &["--id-base", "20000000"],
    );
    let all = |s: &Value| {
        let mut t = texts(&before);
        t.extend(texts(s));
        t
    };
    assert!(
        wait_for(Duration::from_secs(60), || all(&second.state()).len()
            == total),
        "only {} of {total} arrived\n{}",
        all(&second.state()).len(),
        setup.log("connector.smsc")
    );
    let wanted: HashSet<String> = client.accepted.iter().cloned().collect();
    rt.block_on(client.await_receipts(&wanted, Duration::from_secs(20)))
        .unwrap();
    // Receipts the killed SMSC never sent cannot come; every other one does.
    let lost = texts(&before).difference(&acked(&before)).count() as u64;
    assert!(
        client.receipts.len() as u64 + lost >= total as u64,
        "{} receipts, {lost} lost with the first SMSC",
        client.receipts.len()
    );
    let log = setup.log("connector.smsc");
    assert!(log.matches("LOGIN OK").count() >= 2, "rebound: {log}");
}

/// Issue 3's acceptance run with two third-party peers and nothing of ours at the edges:
/// python smpplib binds to smpp-in and submits 1,000 messages, emgd forwards them over the
/// outgoing connector to the npm `smpp` SMSC, and every receipt comes back to smpplib.
#[test]
fn smpplib_through_emgd_to_the_npm_smsc_and_back() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(port, dir.path().join("smsc.json"), &[]);
    let setup = setup(port, "windowsize = 20\nstatic = true", None);
    let _daemon = setup.start();
    let report = support::smpplib(
        setup.smpp_port,
        &["--count", "1000", "--dest", "5551234", "--timeout", "90"],
    );
    let accepted: Vec<String> = report["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(accepted.len(), 1000, "every submit acknowledged");
    let receipts = report["receipts"].as_object().unwrap();
    let missing: Vec<&String> = accepted
        .iter()
        .filter(|id| !receipts.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} receipts missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(3)]
    );
    for id in &accepted {
        let text = receipts[id]["text"].as_str().unwrap();
        assert!(
            text.starts_with(&format!("id:{id} ")) && text.contains("stat:DELIVRD"),
            "{text}"
        );
    }
    wait_for(Duration::from_secs(5), || {
        texts(&smsc.state()).len() >= 1000
    });
    let got = texts(&smsc.state());
    for i in 0..1000 {
        assert!(
            got.contains(&format!("message {i}")),
            "the SMSC never got message {i}"
        );
    }
}

//! What an operator does to a connector, end to end with the real binary over MGP (the states
//! read from what `emgclient connectors --json` prints): bounce and
//! force-close on SMPP and HTTP sessions (the session closes, the state says so, a bounce
//! lets clients back at once, a force-close keeps them out until cleared), and `mode` on an
//! outgoing SMPP connector in both directions against the npm `smpp` SMSC, and on an incoming
//! one against python smpplib.

mod support;

use bytes::BytesMut;
use common::smpp::{command, decode, encode, status, Bind, Body, Pdu, DEFAULT_MAX_PDU_LEN};
use serde_json::Value;
use std::time::{Duration, Instant};
use support::mgp::Mgp;
use support::peers::{curl, wait_for};
use support::smsc::{self, Smsc};
use support::Setup;
use tests::daemon::free_port;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn setup(extra: &str) -> (Setup, u16) {
    let mgp = free_port();
    let s = Setup::new(
        &format!("mgp_address = \"127.0.0.1:{mgp}\""),
        "",
        &format!("[operator.admin]\npassword = \"secret\"\nrole = \"admin\"\n{extra}"),
    );
    (s, mgp)
}

/// A runtime whose tasks run while the test waits on MGP (clients answer emgd meanwhile).
fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A bound raw SMPP client; answers nothing.
async fn bound(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let bind = Body::Bind(Bind {
        system_id: "demo".into(),
        password: "demo".into(),
        interface_version: 0x34,
        ..Default::default()
    });
    let mut out = BytesMut::new();
    encode(&Pdu::new(command::BIND_TRANSCEIVER, 1, bind), &mut out);
    s.write_all(&out).await.unwrap();
    let resp = read_pdu(&mut s, &mut BytesMut::new()).await.unwrap();
    assert_eq!(resp.status, status::ESME_ROK);
    s
}

async fn read_pdu(s: &mut TcpStream, buf: &mut BytesMut) -> Option<Pdu> {
    loop {
        if let Some(p) = decode(buf, DEFAULT_MAX_PDU_LEN).unwrap() {
            return Some(p);
        }
        match tokio::time::timeout(Duration::from_secs(20), s.read_buf(buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
            Ok(Ok(_)) => {}
        }
    }
}

/// emgd unbinds the client (it answers) and closes: true if so within 20 s.
async fn unbound_and_closed(s: &mut TcpStream) -> bool {
    let mut buf = BytesMut::new();
    while let Some(p) = read_pdu(s, &mut buf).await {
        if p.command_id == command::UNBIND {
            let mut out = BytesMut::new();
            encode(&p.response(status::ESME_ROK, Body::Empty), &mut out);
            let _ = s.write_all(&out).await;
        }
    }
    // read_pdu ends at end of file (or after 20 s without a byte).
    let mut b = [0u8; 1];
    matches!(s.read(&mut b).await, Ok(0) | Err(_))
}

#[test]
fn bounce_and_forceclose_close_smpp_sessions() {
    let (s, mgp) = setup("");
    let _d = s.start();
    let mut m = Mgp::login(mgp);
    let rt = rt();
    let mut client = rt.block_on(bound(s.smpp_port));
    assert!(wait_for(Duration::from_secs(10), || m
        .shown_states("smpp-in")[0]
        == "BOUND"));

    // Bounce: the session is closed (unbind, answered by the client meanwhile), the answer
    // comes once it is down, and a client can bind again at once.
    let closing = rt.spawn(async move { unbound_and_closed(&mut client).await });
    let started = Instant::now();
    let flags = m.call(r#""op":"bounce","name":"smpp-in""#);
    assert_eq!(flags["forceclose"], false);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(rt.block_on(closing).unwrap());
    assert_eq!(m.shown_states("smpp-in")[0], "IDLE");
    let mut again = rt.block_on(bound(s.smpp_port));

    // Force-close: closed, and new clients are turned away until it is cleared.
    let closing = rt.spawn(async move { unbound_and_closed(&mut again).await });
    m.call(r#""op":"forceclose","name":"smpp-in""#);
    assert!(rt.block_on(closing).unwrap());
    assert!(wait_for(Duration::from_secs(10), || m
        .shown_states("smpp-in")
        .iter()
        .all(|st| st == "IDLE")));
    let refused = smpplib_binds(s.smpp_port);
    assert!(!refused, "a bind got through a force-close");
    m.call(r#""op":"forceclose_clear","name":"smpp-in""#);
    assert!(smpplib_binds(s.smpp_port));

    // A client that does not answer the unbind: TERMINATING while emgd waits for it.
    let quiet = rt.block_on(bound(s.smpp_port));
    let bouncer = std::thread::spawn(move || {
        Mgp::login(mgp).call(r#""op":"bounce","name":"smpp-in""#);
    });
    assert!(
        wait_for(Duration::from_secs(10), || m.shown_states("smpp-in")[0]
            == "TERMINATING"),
        "{:?}",
        m.shown_states("smpp-in")
    );
    bouncer.join().unwrap();
    // Closing gives up waiting after 5 s.
    assert!(wait_for(Duration::from_secs(15), || m
        .shown_states("smpp-in")[0]
        == "IDLE"));
    drop(quiet);
    let log = s.log("connector.smpp-in");
    assert!(log.contains("DISCONNECT (info=\"force close\")"), "{log}");
    assert!(log.contains("(-) CONNECT ERR (info=\"127.0.0.1:"), "{log}");
}

/// Whether python smpplib (a third-party client) can bind.
fn smpplib_binds(port: u16) -> bool {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/smpplib_client.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args(["--port", &port.to_string(), "--bind-only", "--timeout", "5"])
        .output()
        .expect("python3 runs");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["bound"] == true
}

#[test]
fn bounce_and_forceclose_close_http_connections() {
    let http = free_port();
    let (s, mgp) = setup(&format!(
        "[connector.api]\ntype = \"incoming\"\nprotocol = \"http\"\naddress = \"127.0.0.1:{http}\"\n"
    ));
    let _d = s.start();
    let mut m = Mgp::login(mgp);
    let rt = rt();
    // An authenticated keep-alive connection holds the instance: BOUND.
    let mut conn = rt.block_on(async {
        let mut c = TcpStream::connect(("127.0.0.1", http)).await.unwrap();
        let req = "GET /bin/send?to=4670&text=hi HTTP/1.1\r\nHost: x\r\n\
                   Authorization: Basic ZGVtbzpkZW1v\r\n\r\n";
        c.write_all(req.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = c.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        c
    });
    assert_eq!(m.shown_states("api"), ["BOUND"]);
    let started = Instant::now();
    m.call(r#""op":"bounce","name":"api""#);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let closed = rt.block_on(async {
        let mut b = [0u8; 64];
        matches!(
            tokio::time::timeout(Duration::from_secs(10), conn.read(&mut b)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    });
    assert!(closed, "the connection stayed open through a bounce");
    assert_eq!(m.shown_states("api"), ["IDLE"]);
    let send = format!("http://127.0.0.1:{http}/bin/send?to=4670&text=hi");
    assert_eq!(curl(&send, &["-u", "demo:demo"]).0, 200);

    // Force-closed, it takes no request until cleared.
    m.call(r#""op":"forceclose","name":"api""#);
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "--max-time",
            "2",
            "-u",
            "demo:demo",
            &send,
        ])
        .status()
        .unwrap();
    assert!(!out.success(), "a request got through a force-close");
    m.call(r#""op":"forceclose_clear","name":"api""#);
    assert!(wait_for(Duration::from_secs(10), || curl(
        &send,
        &["-u", "demo:demo"]
    )
    .0 == 200));
}

/// A gateway whose `smsc` (outgoing SMPP to the npm SMSC, which answers every submit with an
/// MO) has `mode`; MO messages from it go to sim1.
fn mode_setup(mode: &str, smsc_port: u16) -> (Setup, u16) {
    setup(&format!(
        r#"
[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"
static = true
mode = "{mode}"

[[route]]
prefix = "5"
to = "smsc"
"#
    ))
}

/// The SMSC's record of each MO's deliver_sm_resp (`<state>.mo`).
fn mo_answers(smsc: &Smsc) -> Vec<Value> {
    let path = format!("{}.mo", smsc.state()["out"].as_str().unwrap_or_default());
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn submit_to_5(port: u16, count: usize) {
    rt().block_on(async {
        let mut c = tests::smpp_client::Client::bind(port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind");
        c.submit(count, 1, "5551", false, |_| true).await.unwrap();
        assert_eq!(c.accepted.len(), count);
        c.unbind().await;
    });
}

#[test]
fn mode_receive_sends_nothing_and_mode_transmit_takes_nothing_in() {
    // Receive-only: bound, but the submits stay queued.
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let smsc = Smsc::start(port, tmp.path().join("a.json"), &["--mo-reply"]);
    let (s, mgp) = mode_setup("receive", port);
    let _d = s.start();
    let mut m = Mgp::login(mgp);
    assert!(wait_for(Duration::from_secs(20), || m.shown_states("smsc")
        [0]
        == "BOUND"));
    submit_to_5(s.smpp_port, 2);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(smsc::count(&smsc.state(), "submits"), 0, "{}", smsc.state());
    let c = m.call(r#""op":"connector","name":"smsc""#);
    assert_eq!(c["queued"], 2, "{c}");
    drop(_d);

    // Transmit-only: the submit goes out; the SMSC's MO reply is refused, routed nowhere.
    let port = free_port();
    let smsc = Smsc::start(port, tmp.path().join("b.json"), &["--mo-reply"]);
    let (s, _mgp) = mode_setup("transmit", port);
    let _d = s.start();
    submit_to_5(s.smpp_port, 1);
    assert!(
        wait_for(Duration::from_secs(20), || !mo_answers(&smsc).is_empty()),
        "{}",
        smsc.state()
    );
    let answers = mo_answers(&smsc);
    assert!(
        answers.iter().all(|a| a["status"] != 0),
        "an MO was taken in on a transmit-only connector: {answers:?}"
    );
    let routed: i64 = s
        .db()
        .number("SELECT COUNT(*) FROM routelog WHERE in_connector = 'smsc'");
    assert_eq!(routed, 0);
}

/// `mode` on incoming SMPP, with python smpplib: transmit-only refuses bind_transmitter,
/// receive-only refuses bind_receiver and delivers nothing to a transceiver (its receipts wait
/// in smpp-in's queue).
#[test]
fn mode_on_incoming_smpp_refuses_the_bind_it_forbids_and_receive_only_delivers_nothing() {
    for (mode, forbidden) in [("transmit", "transmitter"), ("receive", "receiver")] {
        let (s, mgp) = setup("");
        let text = std::fs::read_to_string(&s.config).unwrap().replacen(
            "instances = 4\n",
            &format!("instances = 4\nmode = \"{mode}\"\n"),
            1,
        );
        std::fs::write(&s.config, text).unwrap();
        let _d = s.start();
        let bind = |kind: &str| {
            support::smpplib(
                s.smpp_port,
                &["--bind", kind, "--bind-only", "--timeout", "5"],
            )
        };
        let r = bind(forbidden);
        assert_eq!(
            r["bind_error"],
            status::ESME_RBINDFAIL,
            "{mode}: bind_{forbidden} {r}"
        );
        assert_eq!(bind("transceiver")["bound"], true, "{mode}");
        if mode == "receive" {
            // sim1 sends a receipt for each; none comes back to the client.
            let r = support::smpplib(s.smpp_port, &["--count", "2", "--timeout", "4"]);
            assert_eq!(r["accepted"].as_array().map(Vec::len), Some(2), "{r}");
            assert_eq!(r["receipts"].as_object().map(|o| o.len()), Some(0), "{r}");
            let op = support::client::Operator { mgp };
            assert!(
                wait_for(Duration::from_secs(10), || op.connector("smpp-in")
                    ["queued"]
                    == 2),
                "{}",
                op.connector("smpp-in")
            );
        }
    }
}

#[test]
fn a_message_waiting_out_a_hold_delay_is_listed_cancelled_and_moved() {
    // `flaky` refuses everything; its retry scheme holds each message 10 minutes.
    let (s, mgp) = setup(
        r#"
[connector.flaky]
type = "outgoing"
protocol = "sim"
fail_share = 1.0
fail_error = 8
retryscheme = "hold.retry"

[[route]]
prefix = "7"
to = "flaky"
"#,
    );
    std::fs::write(
        s.dir.path().join("hold.retry"),
        "# every refusal: try again in 10 minutes\nM* * 86400 0 0 600 0\n",
    )
    .unwrap();
    let _d = s.start();
    let mut m = Mgp::login(mgp);
    let ids = rt().block_on(async {
        let mut c = tests::smpp_client::Client::bind(s.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind");
        c.submit(2, 1, "7001", false, |_| true).await.unwrap();
        c.accepted.clone()
    });
    assert_eq!(ids.len(), 2);
    assert!(wait_for(Duration::from_secs(20), || m
        .call(r#""op":"connector","name":"flaky""#)["failed"]
        == 2));
    // Both wait out the hold delay in the queue, in view.
    let list = m.call(r#""op":"queue_list","name":"flaky""#);
    let listed: Vec<String> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].to_string())
        .collect();
    assert_eq!(listed.len(), 2, "{list}");
    assert_eq!(list["messages"][0]["attempts"], 1, "{list}");
    // One is cancelled, the other moved to sim1, which sends it at once.
    let first: u64 = listed[0].parse().unwrap();
    m.call(&format!(r#""op":"msg_cancel","message_id":{first}"#));
    let moved = m.call(r#""op":"queue_move","from":"flaky","to":"sim1""#);
    assert_eq!(moved["moved"], 1, "{moved}");
    assert!(wait_for(Duration::from_secs(20), || m
        .call(r#""op":"connector","name":"sim1""#)["sent"]
        == 1));
    assert_eq!(m.call(r#""op":"connector","name":"flaky""#)["queued"], 0);
}

#[test]
fn a_receive_only_incoming_http_connector_calls_nobody_back() {
    let (http, sink_port) = (free_port(), free_port());
    let (s, mgp) = setup(&format!(
        "[connector.api]\ntype = \"incoming\"\nprotocol = \"http\"\naddress = \"127.0.0.1:{http}\"\nmode = \"receive\"\n"
    ));
    let calls = s.dir.path().join("calls.jsonl");
    let _sink = support::peers::sink(sink_port, &calls, 0);
    let _d = s.start();
    let mut m = Mgp::login(mgp);
    let (status, body) = curl(
        &format!(
            "http://127.0.0.1:{http}/bin/send?to=4670&text=hi&dlr-url=http://127.0.0.1:{sink_port}/cb"
        ),
        &["-u", "demo:demo"],
    );
    assert_eq!(status, 200, "{body}");
    // The report comes back to api's queue and stays there.
    assert!(wait_for(Duration::from_secs(20), || m
        .call(r#""op":"connector","name":"api""#)["queued"]
        == 1));
    std::thread::sleep(Duration::from_secs(2));
    assert!(support::peers::records(&calls).is_empty());
    assert_eq!(m.call(r#""op":"connector","name":"api""#)["queued"], 1);
}

#[test]
fn an_incoming_connector_that_cannot_listen_is_in_error_until_it_can() {
    let (s, mgp) = setup("");
    // Someone else has smpp-in's port.
    let blocker = std::net::TcpListener::bind(("127.0.0.1", s.smpp_port)).unwrap();
    let d = tests::daemon::Daemon::start(std::path::Path::new(support::EMGD), &s.config, mgp)
        .expect("emgd starts all the same");
    let mut m = Mgp::login(mgp);
    assert!(
        wait_for(Duration::from_secs(10), || m
            .shown_states("smpp-in")
            .iter()
            .all(|st| st == "ERROR")),
        "{:?}",
        m.shown_states("smpp-in")
    );
    assert!(s.log("connector.smpp-in").contains(&format!(
        "(-) ERROR (info=\"cannot listen on 127.0.0.1:{}",
        s.smpp_port
    )));
    drop(blocker);
    // It tries again, listens, and takes clients.
    assert!(wait_for(Duration::from_secs(30), || m
        .shown_states("smpp-in")
        .iter()
        .all(|st| st == "IDLE")));
    assert!(wait_for(Duration::from_secs(10), || smpplib_binds(
        s.smpp_port
    )));
    drop(d);
}

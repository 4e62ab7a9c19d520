//! Incoming sessions and their instances, end to end with the real binary: an SMPP or HTTP
//! connection holds an instance only once it has bound or authenticated (silent connections
//! cannot take them all, and `bind_timeout` closes them), a bind while every instance is busy
//! is refused, and a bound SMPP client that goes quiet is asked with enquire_link after
//! `keepalive` and let go after `idletimeout`; one that does not answer is disconnected. The
//! binds and requests that must succeed are made by python smpplib and curl; the wire-level
//! checks use a raw client.

mod support;

use bytes::BytesMut;
use common::smpp::{command, decode, encode, status, Bind, Body, Pdu, DEFAULT_MAX_PDU_LEN};
use std::time::{Duration, Instant};
use support::peers::{curl, wait_for};
use support::{smpplib, Setup};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A gateway whose smpp-in has these `settings` (in place of `instances = 4`).
fn setup(settings: &str) -> Setup {
    let s = Setup::new("", "", "");
    let text = std::fs::read_to_string(&s.config)
        .unwrap()
        .replace("instances = 4\n", &format!("{settings}\n"));
    std::fs::write(&s.config, text).unwrap();
    s
}

/// A raw SMPP client: what emgd sends it, and when.
struct Raw {
    stream: TcpStream,
    rbuf: BytesMut,
}

impl Raw {
    async fn connect(port: u16) -> Raw {
        Raw {
            stream: TcpStream::connect(("127.0.0.1", port)).await.unwrap(),
            rbuf: BytesMut::new(),
        }
    }

    async fn send(&mut self, pdu: &Pdu) {
        let mut out = BytesMut::new();
        encode(pdu, &mut out);
        self.stream.write_all(&out).await.unwrap();
    }

    /// The next PDU, or `None` when emgd closed the connection or `timeout` passed.
    async fn read(&mut self, timeout: Duration) -> Option<Pdu> {
        tokio::time::timeout(timeout, async {
            loop {
                if let Some(p) = decode(&mut self.rbuf, DEFAULT_MAX_PDU_LEN).unwrap() {
                    return Some(p);
                }
                match self.stream.read_buf(&mut self.rbuf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        })
        .await
        .unwrap_or(None)
    }

    /// Whether emgd closes the connection within `timeout` (answering nothing meanwhile).
    async fn closed_within(&mut self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            let mut buf = [0u8; 512];
            match tokio::time::timeout(left, self.stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
                Err(_) => return false,
            }
        }
    }

    async fn bind(&mut self) -> u32 {
        let bind = Body::Bind(Bind {
            system_id: "demo".into(),
            password: "demo".into(),
            interface_version: 0x34,
            ..Default::default()
        });
        self.send(&Pdu::new(command::BIND_TRANSCEIVER, 1, bind))
            .await;
        let resp = self
            .read(Duration::from_secs(10))
            .await
            .expect("bind answered");
        assert_eq!(resp.command_id, command::BIND_TRANSCEIVER_RESP);
        resp.status
    }
}

#[test]
fn silent_connections_hold_no_instance_and_are_closed_after_bind_timeout() {
    let s = setup("instances = 2\nbind_timeout = 2");
    let _d = s.start();
    let rt = rt();
    // Ten connections that never bind: the two instances stay free for real clients.
    let mut silent: Vec<Raw> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..10 {
            v.push(Raw::connect(s.smpp_port).await);
        }
        v
    });
    for _ in 0..2 {
        let r = smpplib(s.smpp_port, &["--bind-only"]);
        assert_eq!(r["bound"], true, "{r}");
    }
    // Each silent one is closed once `bind_timeout` passes.
    let started = Instant::now();
    rt.block_on(async {
        for c in &mut silent {
            assert!(c.closed_within(Duration::from_secs(20)).await);
        }
    });
    assert!(started.elapsed() < Duration::from_secs(20));
    let timed_out = || {
        s.log("connector.smpp-in")
            .matches("(-) DISCONNECT (info=\"bind timeout\")")
            .count()
    };
    assert!(
        wait_for(Duration::from_secs(10), || timed_out() >= 10),
        "{}",
        s.log("connector.smpp-in")
    );
    let log = s.log("connector.smpp-in");
    assert!(log.contains("(-) CONNECT OK (info=\"127.0.0.1:"), "{log}");
    assert!(log.contains("(0) LOGIN OK (info=\"0 demo\")"), "{log}");
}

#[test]
fn a_bind_while_every_instance_is_busy_is_refused() {
    let s = setup("instances = 1");
    let _d = s.start();
    rt().block_on(async {
        let mut first = Raw::connect(s.smpp_port).await;
        assert_eq!(first.bind().await, status::ESME_ROK);
        let mut second = Raw::connect(s.smpp_port).await;
        assert_eq!(second.bind().await, status::ESME_RBINDFAIL);
        // The first lets go: its instance is free again.
        first.send(&Pdu::new(command::UNBIND, 2, Body::Empty)).await;
        let resp = first.read(Duration::from_secs(10)).await.unwrap();
        assert_eq!(resp.command_id, command::UNBIND_RESP);
        assert!(first.closed_within(Duration::from_secs(10)).await);
        let mut third = Raw::connect(s.smpp_port).await;
        let ok = wait_for_bind(&mut third).await;
        assert_eq!(ok, status::ESME_ROK);
    });
    assert!(wait_for(Duration::from_secs(10), || s
        .log("connector.smpp-in")
        .contains("(-) LOGIN ERR (info=\"13\")")));
    let log = s.log("connector.smpp-in");
    assert!(
        log.contains("(-) CONNECT ERR (info=\"all 1 instances busy\")"),
        "{log}"
    );
    assert!(log.contains("(-) LOGIN ERR (info=\"13\")"), "{log}");
}

/// A bind, once the session before it has given its instance back.
async fn wait_for_bind(c: &mut Raw) -> u32 {
    for attempt in 2..50u32 {
        let bind = Body::Bind(Bind {
            system_id: "demo".into(),
            password: "demo".into(),
            interface_version: 0x34,
            ..Default::default()
        });
        c.send(&Pdu::new(command::BIND_TRANSCEIVER, attempt, bind))
            .await;
        let resp = c.read(Duration::from_secs(10)).await.expect("answered");
        if resp.status == status::ESME_ROK {
            return resp.status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    status::ESME_RBINDFAIL
}

#[test]
fn a_quiet_client_gets_enquire_link_after_keepalive_and_is_let_go_after_idletimeout() {
    let s = setup("instances = 2\nkeepalive = 1\nidletimeout = 4");
    let _d = s.start();
    rt().block_on(async {
        // Marked before connecting: emgd's idle clock starts at or after this instant (at
        // the accept or the bind), never before, so the 4 s bound holds whatever the
        // scheduling (a mark taken after the bind response once measured 3.997 s).
        let bound = Instant::now();
        let mut c = Raw::connect(s.smpp_port).await;
        assert_eq!(c.bind().await, status::ESME_ROK);
        let mut enquiries = 0;
        let unbind = loop {
            let Some(pdu) = c.read(Duration::from_secs(20)).await else {
                panic!("closed without unbind");
            };
            match pdu.command_id {
                command::ENQUIRE_LINK => {
                    enquiries += 1;
                    c.send(&pdu.response(status::ESME_ROK, Body::Empty)).await;
                }
                command::UNBIND => break pdu,
                other => panic!("unexpected {other:#x}"),
            }
        };
        let idle = bound.elapsed();
        assert!(enquiries >= 2, "{enquiries} enquire_link in {idle:?}");
        // emgd's idle clock starts when it answers the bind, a little before the client
        // reads the answer: under load the client sees a few milliseconds less than 4 s.
        assert!(
            idle >= Duration::from_millis(3500) && idle < Duration::from_secs(15),
            "{idle:?}"
        );
        c.send(&unbind.response(status::ESME_ROK, Body::Empty))
            .await;
        assert!(c.closed_within(Duration::from_secs(10)).await);
    });
    assert!(
        wait_for(Duration::from_secs(10), || s
            .log("connector.smpp-in")
            .contains("DISCONNECT (info=\"idle timeout\")")),
        "{}",
        s.log("connector.smpp-in")
    );
}

#[test]
fn a_client_that_does_not_answer_enquire_link_is_disconnected() {
    let s = setup("instances = 1\nkeepalive = 1");
    let _d = s.start();
    rt().block_on(async {
        let mut c = Raw::connect(s.smpp_port).await;
        assert_eq!(c.bind().await, status::ESME_ROK);
        let first = c.read(Duration::from_secs(10)).await.unwrap();
        assert_eq!(first.command_id, command::ENQUIRE_LINK);
        // Not answered: the link counts as dead (10 s at least, on a loaded machine more).
        assert!(c.closed_within(Duration::from_secs(40)).await);
    });
    // Its instance is free again: a real client binds.
    assert!(wait_for(Duration::from_secs(10), || smpplib(
        s.smpp_port,
        &["--bind-only"]
    )["bound"]
        == true));
    assert!(
        wait_for(Duration::from_secs(10), || s
            .log("connector.smpp-in")
            .contains("(0) DISCONNECT (info=\"enquire_link not answered\")")),
        "{}",
        s.log("connector.smpp-in")
    );
}

/// A gateway with an incoming HTTP connector on its own port, with `settings`.
fn http_setup(settings: &str) -> (Setup, u16) {
    let port = tests::daemon::free_port();
    let extra = format!(
        "[connector.api]\ntype = \"incoming\"\nprotocol = \"http\"\naddress = \"127.0.0.1:{port}\"\n{settings}\n"
    );
    (Setup::new("", "", &extra), port)
}

#[test]
fn silent_http_connections_hold_no_instance_and_are_closed_after_bind_timeout() {
    let (s, port) = http_setup("instances = 2\nbind_timeout = 2");
    let _d = s.start();
    let rt = rt();
    let mut silent: Vec<Raw> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..10 {
            v.push(Raw::connect(port).await);
        }
        v
    });
    let send = format!("http://127.0.0.1:{port}/bin/send?to=4670&text=hi");
    for _ in 0..3 {
        let (status, body) = curl(&send, &["-u", "demo:demo"]);
        assert_eq!(status, 200, "{body}");
    }
    rt.block_on(async {
        for c in &mut silent {
            assert!(c.closed_within(Duration::from_secs(20)).await);
        }
    });
    assert!(
        wait_for(Duration::from_secs(10), || s
            .log("connector.api")
            .matches("(-) LOGIN ERR (info=\"bind timeout\")")
            .count()
            >= 10),
        "{}",
        s.log("connector.api")
    );
}

#[test]
fn an_http_request_while_every_instance_is_busy_is_answered_503() {
    let (s, port) = http_setup("instances = 1");
    let _d = s.start();
    let rt = rt();
    // One authenticated keep-alive connection holds the only instance.
    let mut held = rt.block_on(async {
        let mut c = Raw::connect(port).await;
        let req = "GET /bin/send?to=4670&text=hi HTTP/1.1\r\nHost: x\r\n\
                   Authorization: Basic ZGVtbzpkZW1v\r\n\r\n";
        c.stream.write_all(req.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = c.stream.read(&mut buf).await.unwrap();
        let head = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        c
    });
    let send = format!("http://127.0.0.1:{port}/bin/send.json?to=4670&text=hi");
    let (status, body) = curl(&send, &["-u", "demo:demo"]);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("all 1 instances busy"), "{body}");
    // Once it closes, the instance is free again.
    rt.block_on(async { held.stream.shutdown().await.unwrap() });
    drop(held);
    assert!(wait_for(Duration::from_secs(10), || curl(
        &send,
        &["-u", "demo:demo"]
    )
    .0 == 200));
}

#[test]
fn access_turns_away_clients_from_other_addresses() {
    let (s, port) = http_setup("access = [\"10.0.0.0/8\"]");
    let text = std::fs::read_to_string(&s.config).unwrap().replace(
        "instances = 4\n",
        "instances = 4\naccess = [\"10.0.0.0/8\"]\n",
    );
    std::fs::write(&s.config, text).unwrap();
    let _d = s.start();
    // SMPP: the bind is refused as EMG does, with ESME_RINVPASWD (14), and holds no instance.
    let r = smpplib(s.smpp_port, &["--bind-only"]);
    assert_eq!(r["bind_error"], 14, "{r}");
    // HTTP: 401, even with the right password.
    let (status, body) = curl(
        &format!("http://127.0.0.1:{port}/bin/send?to=4670&text=hi"),
        &["-u", "demo:demo"],
    );
    assert_eq!(status, 401, "{body}");
    assert!(wait_for(Duration::from_secs(10), || s
        .log("connector.smpp-in")
        .contains("(-) LOGIN ERR (info=\"14\")")));
    // Connector logs are written by a task of their own: wait for the line.
    assert!(wait_for(Duration::from_secs(10), || s
        .log("connector.api")
        .contains("(-) LOGIN ERR (info=\"demo\")")));
}

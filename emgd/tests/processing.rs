//! Message processing end to end, with the real emgd binary: an SMPP client -> emgd smpp-in
//! -> emgd smsc (outgoing SMPP) -> the npm `smpp` package as SMSC, which answers every submit
//! with an MO reply that travels back to the client. Checks what the SMSC receives after the
//! OUT pipeline (mapping, replaceprefix, masquerade, SAT) and what the reply turns back into
//! after the IN pipeline; a SIGHUP that changes a mapping file under a bound session; the
//! blacklist.

mod support;

use bytes::BytesMut;
use common::smpp::DEFAULT_MAX_PDU_LEN;
use common::smpp::{command, decode, encode, status, Bind, Body, Pdu, Sm, SmppAddr};
use emgd::process::masquerade::Masquerade;
use serde_json::Value;
use std::time::{Duration, Instant};
use support::smsc::Smsc;
use support::Setup;
use tests::daemon::free_port;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MASQUERADE_KEY: &str = "e2e masquerade key";

/// A minimal SMPP client on our codec: binds, submits one message at a time, and hands over
/// the MO messages (deliver_sm) it receives, answering each.
struct Esme {
    stream: TcpStream,
    rbuf: BytesMut,
    seq: u32,
    delivered: Vec<Sm>,
}

impl Esme {
    async fn bind(port: u16) -> Esme {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut e = Esme {
            stream,
            rbuf: BytesMut::new(),
            seq: 0,
            delivered: Vec::new(),
        };
        let bind = Body::Bind(Bind {
            system_id: "demo".into(),
            password: "demo".into(),
            interface_version: 0x34,
            ..Default::default()
        });
        let resp = e.request(command::BIND_TRANSCEIVER, bind).await;
        assert_eq!(resp.status, status::ESME_ROK, "bind refused");
        e
    }

    async fn send(&mut self, pdu: &Pdu) {
        let mut out = BytesMut::new();
        encode(pdu, &mut out);
        self.stream.write_all(&out).await.unwrap();
    }

    async fn read(&mut self) -> Pdu {
        loop {
            if let Some(p) = decode(&mut self.rbuf, DEFAULT_MAX_PDU_LEN).unwrap() {
                return p;
            }
            let n = self.stream.read_buf(&mut self.rbuf).await.unwrap();
            assert!(n > 0, "emgd closed the session");
        }
    }

    /// Answers what emgd sends meanwhile (deliver_sm kept in `delivered`).
    async fn absorb(&mut self, pdu: Pdu) {
        match (pdu.command_id, &pdu.body) {
            (command::DELIVER_SM, Body::DeliverSm(sm)) => {
                self.delivered.push(sm.clone());
                let resp = pdu.response(
                    status::ESME_ROK,
                    Body::DeliverSmResp {
                        message_id: String::new(),
                        tlvs: vec![],
                    },
                );
                self.send(&resp).await;
            }
            (command::ENQUIRE_LINK, _) => {
                self.send(&pdu.response(status::ESME_ROK, Body::Empty))
                    .await
            }
            _ => {}
        }
    }

    async fn request(&mut self, command_id: u32, body: Body) -> Pdu {
        self.seq += 1;
        let seq = self.seq;
        self.send(&Pdu::new(command_id, seq, body)).await;
        loop {
            let pdu = self.read().await;
            if pdu.sequence == seq && pdu.command_id == command_id | command::RESPONSE_BIT {
                return pdu;
            }
            self.absorb(pdu).await;
        }
    }

    /// Submits one text; returns the submit_sm_resp status and message id.
    async fn submit(&mut self, source: SmppAddr, dest: &str, text: &str) -> (u32, String) {
        let sm = Sm {
            source,
            dest: SmppAddr::new(1, 1, dest),
            short_message: text.as_bytes().to_vec().into(),
            ..Default::default()
        };
        let resp = self.request(command::SUBMIT_SM, Body::SubmitSm(sm)).await;
        let id = match resp.body {
            Body::SubmitSmResp { message_id, .. } => message_id,
            _ => String::new(),
        };
        (resp.status, id)
    }

    /// Waits until `n` deliver_sm have arrived (or `timeout` passes); returns them all.
    async fn delivered(&mut self, n: usize, timeout: Duration) -> Vec<Sm> {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.delivered.len() < n {
            match tokio::time::timeout_at(deadline, self.read()).await {
                Ok(pdu) => self.absorb(pdu).await,
                Err(_) => break,
            }
        }
        self.delivered.clone()
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Polls `f` until it gives something or `timeout` passes.
fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Lines of `<smsc state>.<ext>`, each a JSON value.
fn smsc_lines(smsc: &Smsc, ext: &str) -> Vec<Value> {
    let path = format!("{}.{ext}", smsc.state()["out"].as_str().unwrap_or_default());
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A gateway config in a fresh directory: `body` after the common top lines, `files` beside.
fn setup(body: &str, files: &[(&str, &str)]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let smpp_port = free_port();
    let text = format!(
        "datadir = \"data\"\nlogdir = \"log\"\nmgp_address = \"\"\n{}",
        body.replace("{smpp_port}", &smpp_port.to_string())
    );
    let config = dir.path().join("emg.toml");
    std::fs::write(&config, text).unwrap();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    Setup {
        dir,
        smpp_port,
        config,
    }
}

fn text(sm: &Sm) -> String {
    String::from_utf8_lossy(sm.payload()).into_owned()
}

/// The OUT rules are EMG's own ordering example; the IN rules turn the reply back.
const SMSC_MAP: &str = "# mapping for the SMSC link\n\
                        OUT <\n\"a\"\t\"d\"\n\"aa\"\t\"xx\"\n>\n\
                        IN <\n\"dd\"\t\"aa\"\n\"d\"\t\"a\"\n>\n";

#[test]
fn mapping_replaceprefix_and_masquerade_to_the_smsc_and_the_reply_back() {
    let smsc_port = free_port();
    let tmp = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &["--mo-reply"]);
    let s = setup(
        &format!(
            r#"masquerade_key = "{MASQUERADE_KEY}"

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{{smpp_port}}"
instances = 2
# Clients write national numbers; the gateway works in international format without +.
replaceprefix_in = "+:,00:,0:46"
# MO to clients: the sender in national format again.
replacesourceprefix = "46:0"

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"
static = true
mapping = "smsc.map"
replaceprefix = ":+"
replacesourceprefix_in = "+:"
masquerade = true

[user.demo]
password = "demo"

[[route]]
prefix = "46"
to = "smsc"

[[route]]
from = "smsc"
to = "smpp-in"
"#
        ),
        &[("smsc.map", SMSC_MAP)],
    );
    let mut daemon = s.start();
    let rt = rt();
    let mut esme = rt.block_on(Esme::bind(s.smpp_port));
    let (code, _) = rt.block_on(esme.submit(SmppAddr::new(1, 1, "123456"), "070123456", "aabacc"));
    assert_eq!(code, status::ESME_ROK);

    // What the SMSC got: the OUT pipeline of `smsc` on top of the IN pipeline of `smpp-in`.
    let got = wait_for(Duration::from_secs(20), || {
        smsc_lines(&smsc, "submits").into_iter().next()
    })
    .unwrap_or_else(|| panic!("the SMSC got nothing:\n{}", s.log("connector.smsc")));
    let masked = Masquerade::new(MASQUERADE_KEY).mask("123456").unwrap();
    assert_eq!(masked.len(), 10);
    assert_eq!(got["source"], Value::from(masked.as_str()), "{got}");
    assert_eq!(got["dest"], "+4670123456", "{got}");
    assert_eq!(got["text"], "ddbdcc", "{got}");

    // The MO reply, from the phone to the mask, comes back unmasked and mapped back.
    let delivered = rt.block_on(esme.delivered(1, Duration::from_secs(20)));
    let [mo] = delivered.as_slice() else {
        panic!(
            "expected one MO, got {delivered:?}\nSMSC MO answers: {:?}\n{}",
            smsc_lines(&smsc, "mo"),
            daemon.stderr_text()
        );
    };
    assert_eq!(mo.source.addr, "070123456");
    assert_eq!(mo.dest.addr, "123456");
    assert_eq!(text(mo), "re:aabacc");
    let answered = wait_for(Duration::from_secs(10), || {
        smsc_lines(&smsc, "mo").into_iter().next()
    });
    assert_eq!(answered.map(|a| a["status"].clone()), Some(Value::from(0)));

    // The gateway itself only ever saw the IN results (routelog).
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let rows: Vec<(String, String, String)> = s
        .db()
        .rows("SELECT in_connector, source, dest FROM routelog ORDER BY message_id")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect();
    let row = |c: &str, f: &str, t: &str| (c.to_string(), f.to_string(), t.to_string());
    assert_eq!(
        rows,
        [
            row("smpp-in", "123456", "4670123456"),
            row("smsc", "4670123456", "123456")
        ]
    );
}

#[test]
fn sat_pool_gives_each_conversation_a_number_and_replies_find_the_mail_sender() {
    let smsc_port = free_port();
    let tmp = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &["--mo-reply"]);
    let s = setup(
        &format!(
            r#"
[satpool.mail]
addresses = ["4670000100-4670000199"]
expire = 86400

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{{smpp_port}}"
instances = 2
satpool_create_in = "mail"

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"
static = true
satpool_lookup_in = "mail"

[user.demo]
password = "demo"

[[route]]
prefix = "46"
to = "smsc"

[[route]]
from = "smsc"
to = "smpp-in"
"#
        ),
        &[],
    );
    let mut daemon = s.start();
    let rt = rt();
    let mut esme = rt.block_on(Esme::bind(s.smpp_port));
    let senders = ["alice@example.com", "bob@example.com", "alice@example.com"];
    for (i, from) in senders.iter().enumerate() {
        let (code, _) =
            rt.block_on(esme.submit(SmppAddr::new(5, 0, *from), "4670555", &format!("mail {i}")));
        assert_eq!(code, status::ESME_ROK);
    }
    let submits = wait_for(Duration::from_secs(20), || {
        let v = smsc_lines(&smsc, "submits");
        (v.len() == 3).then_some(v)
    })
    .unwrap_or_else(|| panic!("{}", s.log("connector.smsc")));
    let by_text = |t: &str| {
        submits
            .iter()
            .find(|v| v["text"] == t)
            .cloned()
            .unwrap_or_else(|| panic!("{t} not received: {submits:?}"))
    };
    // One pool number per (sender, recipient); the same sender again gets the same one.
    assert_eq!(by_text("mail 0")["source"], "4670000100");
    assert_eq!(by_text("mail 1")["source"], "4670000101");
    assert_eq!(by_text("mail 2")["source"], "4670000100");
    assert_eq!(by_text("mail 0")["source_ton"], 1);

    let delivered = rt.block_on(esme.delivered(3, Duration::from_secs(20)));
    assert_eq!(
        delivered.len(),
        3,
        "{delivered:?}\n{}",
        daemon.stderr_text()
    );
    for sm in &delivered {
        let want = match text(sm).as_str() {
            "re:mail 0" | "re:mail 2" => "alice@example.com",
            "re:mail 1" => "bob@example.com",
            other => panic!("unexpected MO {other:?}"),
        };
        assert_eq!(sm.dest.addr, want, "{}", text(sm));
        assert_eq!((sm.dest.ton, sm.dest.npi), (5, 0));
        assert_eq!(sm.source.addr, "4670555");
    }
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let entries: i64 = s.db().number("SELECT COUNT(*) FROM sat_entries");
    assert_eq!(entries, 2, "two conversations are stored");
}

/// The body of stored message `id`, from the store's record of it.
fn stored_body(s: &Setup, id: &str) -> String {
    let id: u64 = id.parse().unwrap();
    let row = s
        .db()
        .byte_rows(&format!("SELECT data FROM messages WHERE id = {id}"));
    assert_eq!(row.len(), 1, "one message {id}");
    let stored = emgd::store::codec::decode(id, "", &row[0][0]).expect("a message record");
    String::from_utf8(stored.body).unwrap()
}

fn reload(daemon: &tests::daemon::Daemon, what: &str) {
    let before = daemon.stderr_text().matches(what).count();
    daemon.signal(1);
    let seen = wait_for(Duration::from_secs(10), || {
        (daemon.stderr_text().matches(what).count() > before).then_some(())
    });
    assert!(
        seen.is_some(),
        "no {what:?} after SIGHUP:\n{}",
        daemon.stderr_text()
    );
}

#[test]
fn sighup_takes_a_new_mapping_while_the_session_stays_bound() {
    let s = support::Setup::new("", "", "");
    // The base setup's smpp-in has no mapping: add one by rewriting its table.
    let text = std::fs::read_to_string(&s.config)
        .unwrap()
        .replace("instances = 4\n", "instances = 4\nmapping = \"in.map\"\n");
    std::fs::write(&s.config, text).unwrap();
    let map = s.dir.path().join("in.map");
    std::fs::write(&map, "IN <\n\"a\"\t\"x\"\n>\n").unwrap();
    let daemon = s.start();
    let rt = rt();
    let mut esme = rt.block_on(Esme::bind(s.smpp_port));
    let from = || SmppAddr::new(1, 1, "4670000001");
    let (code, first) = rt.block_on(esme.submit(from(), "4670123456", "abc"));
    assert_eq!(code, status::ESME_ROK);
    assert_eq!(stored_body(&s, &first), "xbc");

    std::fs::write(&map, "IN <\n\"a\"\t\"y\"\n>\n").unwrap();
    reload(&daemon, "configuration reloaded");
    let (_, second) = rt.block_on(esme.submit(from(), "4670123456", "abc"));
    assert_eq!(stored_body(&s, &second), "ybc");

    // A broken file is reported with its line and the running rules stay.
    std::fs::write(&map, "IN <\n\"a\"\n>\n").unwrap();
    reload(&daemon, "configuration not reloaded");
    let err = daemon.stderr_text();
    assert!(
        err.contains("in.map:2:4: mapping: missing replacement"),
        "{err}"
    );
    let (_, third) = rt.block_on(esme.submit(from(), "4670123456", "abc"));
    assert_eq!(stored_body(&s, &third), "ybc");

    // (The harness's readiness probe connects and leaves once; the client's session is the
    // one that logged in.)
    let log = s.log("connector.smpp-in");
    assert_eq!(log.matches("LOGIN OK").count(), 1, "{log}");
    let instance = log
        .lines()
        .find(|l| l.contains("LOGIN OK"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or_default();
    let after_login = log.split("LOGIN OK").nth(1).unwrap_or_default();
    assert!(
        !after_login.contains(&format!("{instance} DISCONNECT")),
        "the session stayed bound:\n{log}"
    );
}

#[test]
fn blacklist_rejects_with_a_permanent_error_and_logs() {
    let s = support::Setup::new("blacklist = \"blacklist.txt\"", "", "");
    std::fs::write(
        s.dir.path().join("blacklist.txt"),
        "# address\taction\tfield\n\
         4670999\tREJECT\tDESTADDR\n\
         4670111\tREJECT\n\
         4670222\tLOG\n",
    )
    .unwrap();
    let mut daemon = s.start();
    let rt = rt();
    let mut esme = rt.block_on(Esme::bind(s.smpp_port));
    let addr = |a: &str| SmppAddr::new(1, 1, a);
    let cases = [
        ("4670000001", "4670999", status::ESME_RINVDSTADR),
        ("4670111", "4670123", status::ESME_RINVSRCADR),
        ("4670222", "4670123", status::ESME_ROK),
        ("4670000001", "4670123", status::ESME_ROK),
    ];
    for (from, to, want) in cases {
        let (code, _) = rt.block_on(esme.submit(addr(from), to, "hi"));
        assert_eq!(code, want, "{from} -> {to}");
    }
    let log = s.log("connector.smpp-in");
    assert!(
        log.contains("BLACKLIST REJECT (info=\"DESTADDR 4670999\")"),
        "{log}"
    );
    assert!(
        log.contains("BLACKLIST REJECT (info=\"SOURCEADDR 4670111\")"),
        "{log}"
    );
    assert!(
        log.contains("BLACKLIST LOG (info=\"SOURCEADDR 4670222\")"),
        "{log}"
    );
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let rejected: Vec<(String, String)> = s
        .db()
        .rows("SELECT dest, error FROM routelog WHERE status = 'REJECTED' ORDER BY message_id")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        rejected,
        [
            (
                "4670999".to_string(),
                "DESTADDR 4670999 is blacklisted".to_string()
            ),
            (
                "4670123".to_string(),
                "SOURCEADDR 4670111 is blacklisted".to_string()
            ),
        ]
    );
}

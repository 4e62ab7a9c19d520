//! The session runtime driving a protocol that is neither SMPP nor TCP: a toy line protocol
//! over an in-memory pipe, whose responses carry no sequence number (they answer in order, as
//! SMTP's and a GSM modem's do). It proves the contract the coming drivers build on: login,
//! a message out through the OUT pipeline with its outcome recorded, a receipt from the peer
//! answered once matched, keepalive, and a force-close that logs out.
//!
//! Wire format: `VERB ARGS\n` both ways. We send `LOGIN user`, `SUBMIT dest text`, `PING`,
//! `BYE`; the peer answers each with `OK [id]` or `ERR code`, in order, and may send
//! `RECEIPT id` (answered `DONE`).

use super::driver::{BadFrame, Codec, Ctl, Dir, Driver, Flow, Kind, Login, LoginRefused};
use super::framed::{self, End, Side};
use super::link::Link;
use super::outbox::Answer;
use super::state::ConnState;
use super::window::SeqSpace;
use crate::gateway::Gateway;
use crate::store::{MessageState, Recovered, Store};
use bytes::BytesMut;
use common::dlr::DlrStatus;
use common::message::{Address, Message};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

struct Lines;

impl Codec for Lines {
    type Frame = String;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<String>, BadFrame<String>> {
        let Some(end) = buf.iter().position(|b| *b == b'\n') else {
            return Ok(None);
        };
        let line = buf.split_to(end + 1);
        String::from_utf8(line[..end].to_vec())
            .map(Some)
            .map_err(|_| BadFrame {
                info: "not UTF-8".into(),
                reply: Some("ERR 1".into()),
                fatal: false,
            })
    }

    fn encode(&mut self, frame: &String, out: &mut BytesMut) {
        out.extend_from_slice(frame.as_bytes());
        out.extend_from_slice(b"\n");
    }

    fn log_line(&self, dir: Dir, frame: &String) -> String {
        format!("{dir:?} {frame}")
    }
}

/// Remembers the sequence numbers of its requests, since answers come in order.
#[derive(Default)]
struct Toy {
    asked: VecDeque<u32>,
}

impl Toy {
    fn ask(&mut self, seq: u32, line: String) -> String {
        self.asked.push_back(seq);
        line
    }
}

impl Driver for Toy {
    type Codec = Lines;
    type Part = String;
    const SEQUENCES: SeqSpace = SeqSpace {
        first: 1,
        last: 1000,
        step: 1,
    };
    const KEEPALIVE: &'static str = "PING";

    fn kind(&self, frame: &String) -> Kind {
        if frame.starts_with("OK") || frame.starts_with("ERR") {
            Kind::Response(self.asked.front().copied().unwrap_or(0))
        } else {
            Kind::Request
        }
    }

    fn login(&mut self, cfg: &config::Connector, seq: u32) -> Option<String> {
        let user = cfg.username.clone().unwrap_or_default();
        Some(self.ask(seq, format!("LOGIN {user}")))
    }

    fn logged_in(
        &mut self,
        cfg: &config::Connector,
        answer: String,
    ) -> Result<Login, LoginRefused> {
        self.asked.pop_front();
        match answer.as_str() {
            "OK" => Ok(Login {
                peer: Some("pipe".into()),
                bind: Some("toy".into()),
                user: cfg.username.clone(),
                info: "0 toy".into(),
                transmit: true,
                queue_user: None,
            }),
            other => Err(LoginRefused {
                command: 1,
                error: 2,
                info: other.into(),
            }),
        }
    }

    fn keepalive(&mut self, seq: u32) -> String {
        self.ask(seq, "PING".into())
    }

    fn logout(&mut self, seq: u32) -> Option<String> {
        Some(self.ask(seq, "BYE".into()))
    }

    fn parts(&mut self, _cfg: &config::Connector, wire: &Message) -> Vec<String> {
        vec![format!(
            "SUBMIT {} {}",
            wire.dest.addr,
            String::from_utf8_lossy(&wire.body)
        )]
    }

    fn request(&mut self, part: String, seq: u32) -> String {
        self.ask(seq, part)
    }

    fn answer(&mut self, response: &String) -> Answer {
        self.asked.pop_front();
        match response.strip_prefix("OK") {
            Some(id) if !id.trim().is_empty() => Answer::Accepted(Some(id.trim().into())),
            Some(_) => Answer::Accepted(None),
            None => Answer::Refused {
                command: 4,
                error: response[4..].parse().unwrap_or(0),
            },
        }
    }

    fn on_request(&mut self, frame: String, s: &mut Ctl<'_, Lines>) -> Flow {
        let Some(id) = frame.strip_prefix("RECEIPT ") else {
            s.reply("ERR 3".into());
            return Flow::Continue;
        };
        s.traffic();
        let (link, id) = (s.link.clone(), id.to_string());
        s.spawn(async move {
            let matched = link.receipt(&id, DlrStatus::Delivered, 0).await;
            Some(if matched { "DONE" } else { "UNKNOWN" }.to_string())
        });
        Flow::Continue
    }
}

const CONFIG: &str = r#"
datadir = "data"
logdir = "log"
mgp_address = "127.0.0.1:0"

[connector.in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:0"

[connector.toy]
type = "outgoing"
# Any session protocol emgd runs: the toy driver below replaces SMPP's.
protocol = "smpp"
address = "127.0.0.1:1"
username = "me"
keepalive = 1
replaceprefix = "0:46"

[user.demo]
password = "demo"

[[route]]
to = "toy"
"#;

type Peer = tokio::io::Lines<BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>;

async fn next(lines: &mut Peer) -> String {
    tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("a line in time")
        .unwrap()
        .expect("not closed")
}

async fn gateway(dir: &std::path::Path) -> Arc<Gateway> {
    let cfg = config::parse_str(CONFIG, &dir.join("emg.toml")).expect("valid configuration");
    let store: Arc<dyn Store> = Arc::new(
        crate::store::sqlite::SqliteStore::open(
            &cfg.general.datadir,
            crate::store::Options::of(&cfg.general),
        )
        .unwrap(),
    );
    let logs = crate::logs::Logs::start(cfg.general.logdir.clone(), true).unwrap();
    Gateway::new(cfg, store, logs, &Recovered::default())
}

#[tokio::test]
async fn a_line_protocol_over_a_pipe_logs_in_sends_matches_a_receipt_and_logs_out() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path()).await;
    let toy = gw.connector("toy").unwrap().clone();
    let id = gw
        .accept(Message {
            source: Address::new("4670000001"),
            dest: Address::new("0701234567"),
            body: b"hello".to_vec(),
            dlr_requested: true,
            origin: common::message::Origin {
                connector: "in".into(),
                user: Some("demo".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .expect("accepted");

    let (ours, theirs) = tokio::io::duplex(4096);
    let link = Link::new(gw.clone(), toy.clone(), 0);
    link.set_state(ConnState::Connected);
    let session = tokio::spawn(framed::run(
        link,
        ours,
        Lines,
        Toy::default(),
        Side::Outgoing,
        None,
    ));
    let (read, mut write) = tokio::io::split(theirs);
    let mut lines = BufReader::new(read).lines();

    assert_eq!(next(&mut lines).await, "LOGIN me");
    write.write_all(b"OK\n").await.unwrap();
    // The OUT pipeline's copy goes out: replaceprefix turned 0701234567 into 46701234567.
    assert_eq!(next(&mut lines).await, "SUBMIT 46701234567 hello");
    assert_eq!(toy.states()[0], ConnState::Bound);
    write.write_all(b"OK r-1\n").await.unwrap();
    // Idle links are kept alive (keepalive = 1).
    assert_eq!(next(&mut lines).await, "PING");
    write.write_all(b"OK\nRECEIPT r-1\n").await.unwrap();
    assert_eq!(
        next(&mut lines).await,
        "DONE",
        "the receipt matched the sent message"
    );
    let stored = gw.store.message(id).await.unwrap().unwrap();
    assert_eq!(stored.state, MessageState::Done);

    toy.set_forceclose(true);
    assert_eq!(next(&mut lines).await, "BYE");
    assert_eq!(toy.states()[0], ConnState::Terminating);
    write.write_all(b"OK\n").await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), session)
        .await
        .expect("the session ends")
        .unwrap();
    assert_eq!(end, End::ForceClose);
}

#[tokio::test]
async fn a_refused_login_ends_the_session_for_the_retry_scheme_and_keeps_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let gw = gateway(dir.path()).await;
    let toy = gw.connector("toy").unwrap().clone();
    let first = Message {
        id: 77,
        dest: Address::new("46701234567"),
        ..Default::default()
    };
    toy.queue.push(first.clone());
    let taken = toy.queue.take_for(None, &|_| true).unwrap();
    let (ours, theirs) = tokio::io::duplex(4096);
    let link = Link::new(gw.clone(), toy.clone(), 0);
    let session = tokio::spawn(framed::run(
        link,
        ours,
        Lines,
        Toy::default(),
        Side::Outgoing,
        Some(taken),
    ));
    let (read, mut write) = tokio::io::split(theirs);
    let mut lines = BufReader::new(read).lines();
    assert_eq!(lines.next_line().await.unwrap().unwrap(), "LOGIN me");
    write.write_all(b"ERR 14\n").await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), session)
        .await
        .expect("the session ends")
        .unwrap();
    match end {
        End::LoginRefused(r) => assert_eq!((r.command, r.error, r.info.as_str()), (1, 2, "ERR 14")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        toy.queue.take_for(None, &|_| true).map(|m| m.id),
        Some(77),
        "the message that woke the session is back in the queue"
    );
}

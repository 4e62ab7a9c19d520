//! A UCP/EMI load client for `emgbench`: N sessions log in with operation 60, submit windowed
//! 51s flat out asking for notifications, acknowledge every 53 that comes back (on any session
//! of the account) and record per-message latency (submit -> its result, submit -> its
//! notification). A message is known by the `AdC:SCTS` of its positive result, as a UCP
//! client knows it. The totals are a [`load::Report`], so the benchmark reads both clients
//! alike.

use crate::load::{Report, SessionResult};
use anyhow::{anyhow, bail, Context};
use bytes::BytesMut;
use common::ucp::{decode, next_trn, Body, Content, Frame, Session, Sm, DEFAULT_MAX_FRAME_LEN};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What to run.
#[derive(Debug, Clone)]
pub struct Args {
    pub port: u16,
    pub user: String,
    pub password: String,
    pub sessions: usize,
    /// Operations outstanding per session (UCP numbers them 00..99).
    pub window: usize,
    pub count: usize,
    pub timeout: Duration,
}

/// Notifications may come on any session of the account: identities and counts are shared.
#[derive(Default)]
struct Shared {
    submitted_at: Mutex<HashMap<String, Instant>>,
    accepted: AtomicUsize,
    receipts: AtomicUsize,
    answered_sessions: AtomicUsize,
}

fn write(f: &Frame, out: &mut BytesMut) -> anyhow::Result<()> {
    common::ucp::encode(f, out).map_err(|e| anyhow!("cannot encode {f:?}: {e}"))
}

async fn session(a: &Args, shared: &Shared, count: usize) -> anyhow::Result<SessionResult> {
    let mut s = TcpStream::connect(("127.0.0.1", a.port))
        .await
        .context("connect")?;
    s.set_nodelay(true)?;
    let (mut rd, mut wr) = s.split();
    let (mut out, mut rbuf) = (BytesMut::new(), BytesMut::new());
    let login = Frame {
        trn: 0,
        ot: 60,
        body: Body::Session(Session {
            oadc: a.user.clone(),
            oton: Some(6),
            onpi: Some(5),
            styp: Some(1),
            pwd: a.password.as_bytes().to_vec(),
            vers: "0100".into(),
            ..Session::default()
        }),
    };
    write(&login, &mut out)?;
    wr.write_all(&out).await?;
    out.clear();
    let answer = loop {
        if let Some(f) = decode(&mut rbuf, DEFAULT_MAX_FRAME_LEN).map_err(|e| anyhow!("{e}"))? {
            break f;
        }
        if rd.read_buf(&mut rbuf).await? == 0 {
            bail!("closed during login");
        }
    };
    if !matches!(answer.body, Body::Ack(_)) {
        bail!("login refused: {answer:?}");
    }
    let mut r = SessionResult::default();
    let mut sent_at: HashMap<u8, Instant> = HashMap::new();
    let (mut trn, mut sent) = (1u8, 0usize);
    let window = a.window.clamp(1, 99);
    let deadline = tokio::time::Instant::now() + a.timeout;
    let mut answered_all = false;
    loop {
        if !answered_all && r.accepted + r.refused == count {
            answered_all = true;
            shared.answered_sessions.fetch_add(1, SeqCst);
        }
        let everyone = shared.answered_sessions.load(SeqCst) == a.sessions;
        if answered_all && everyone && shared.receipts.load(SeqCst) >= shared.accepted.load(SeqCst)
        {
            break;
        }
        while sent < count && sent_at.len() < window {
            while sent_at.contains_key(&trn) {
                trn = next_trn(trn);
            }
            let sm = Sm {
                adc: "46701234567".into(),
                oadc: "4610000".into(),
                nrq: Some(true),
                nt: Some(3),
                npid: Some(539),
                content: Content::from_text(&format!("load test message {sent}"))
                    .expect("GSM text"),
                ..Sm::default()
            };
            write(
                &Frame {
                    trn,
                    ot: 51,
                    body: Body::Sm(Box::new(sm)),
                },
                &mut out,
            )?;
            sent_at.insert(trn, Instant::now());
            trn = next_trn(trn);
            sent += 1;
        }
        if !out.is_empty() {
            wr.write_all(&out).await?;
            out.clear();
        }
        let read = tokio::select! {
            n = rd.read_buf(&mut rbuf) => Some(n?),
            _ = tokio::time::sleep(Duration::from_millis(20)) => None,
            _ = tokio::time::sleep_until(deadline) => bail!(
                "timed out: {} accepted, {} notifications",
                shared.accepted.load(SeqCst),
                shared.receipts.load(SeqCst)
            ),
        };
        if read == Some(0) {
            bail!("connection closed by emgd");
        }
        while let Some(f) = decode(&mut rbuf, DEFAULT_MAX_FRAME_LEN).map_err(|e| anyhow!("{e}"))? {
            match (&f.body, f.ot) {
                (Body::Ack(ack), 51) => {
                    let Some(t) = sent_at.remove(&f.trn) else {
                        continue;
                    };
                    r.resp_us.push(t.elapsed().as_micros() as u64);
                    r.last_resp = Some(Instant::now());
                    r.accepted += 1;
                    shared.accepted.fetch_add(1, SeqCst);
                    shared
                        .submitted_at
                        .lock()
                        .unwrap()
                        .insert(ack.sm.clone(), t);
                }
                (Body::Nack(_), 51) if sent_at.remove(&f.trn).is_some() => {
                    r.refused += 1;
                    r.last_resp = Some(Instant::now());
                }
                (Body::Sm(n), 53) => {
                    let id = format!("{}:{}", n.oadc, n.scts);
                    if let Some(t) = shared.submitted_at.lock().unwrap().remove(&id) {
                        r.receipts += 1;
                        shared.receipts.fetch_add(1, SeqCst);
                        r.dlr_us.push(t.elapsed().as_micros() as u64);
                    }
                    write(&f.ack("", ""), &mut out)?;
                }
                (Body::Sm(_) | Body::Alert(_), _) => write(&f.ack("", ""), &mut out)?,
                _ => {}
            }
        }
    }
    Ok(r)
}

/// Run the load and collect the report.
pub async fn run(a: Args) -> anyhow::Result<Report> {
    let a = Arc::new(a);
    let shared = Arc::new(Shared::default());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..a.sessions {
        let (a, shared) = (a.clone(), shared.clone());
        let share = a.count / a.sessions + usize::from(i < a.count % a.sessions);
        tasks.push(tokio::spawn(
            async move { session(&a, &shared, share).await },
        ));
    }
    Report::collect(tasks, started).await
}

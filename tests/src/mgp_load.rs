//! An MGP application load client for `emgbench`: N sessions log in to an incoming `mgp`
//! connector as an application user (`man/mgp.7`, newline-delimited JSON), submit windowed
//! `submit` requests flat out asking for a delivery report (DLR=1), answer every `deliver`
//! emgd pushes (on any session of the user) with `ok`, and record per-message latency
//! (submit -> its answer, submit -> its report). A message is known by the `message_id` its
//! submit was answered with, which its report names as ORIGID. The totals are a
//! [`load::Report`], so the benchmark reads every load client alike.

use crate::load::{Report, SessionResult};
use anyhow::{anyhow, bail, Context};
use bytes::{Buf, BytesMut};
use serde_json::{json, Value};
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
    /// Submits outstanding per session.
    pub window: usize,
    pub count: usize,
    pub timeout: Duration,
}

/// Reports may come on any session of the user: identities and counts are shared.
#[derive(Default)]
struct Shared {
    submitted_at: Mutex<HashMap<String, Instant>>,
    /// Reports that came before their submit's answer (another session was quicker): when.
    early: Mutex<HashMap<String, Instant>>,
    accepted: AtomicUsize,
    receipts: AtomicUsize,
    answered_sessions: AtomicUsize,
}

/// One frame as a line.
fn line(out: &mut Vec<u8>, frame: &Value) {
    out.extend_from_slice(frame.to_string().as_bytes());
    out.push(b'\n');
}

/// The next whole line of `buf` as JSON, taken out of it.
fn next_frame(buf: &mut BytesMut) -> anyhow::Result<Option<Value>> {
    let Some(end) = buf.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let frame = serde_json::from_slice(&buf[..end]).with_context(|| {
        format!(
            "not JSON from emgd: {:?}",
            String::from_utf8_lossy(&buf[..end])
        )
    });
    buf.advance(end + 1);
    frame.map(Some)
}

/// A message id in an answer or a report: emgd writes numbers, MGP options are strings.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn session(a: &Args, shared: &Shared, count: usize) -> anyhow::Result<SessionResult> {
    let mut s = TcpStream::connect(("127.0.0.1", a.port))
        .await
        .context("connect")?;
    s.set_nodelay(true)?;
    let (mut rd, mut wr) = s.split();
    let (mut out, mut rbuf) = (Vec::new(), BytesMut::new());
    line(
        &mut out,
        &json!({"id": 0, "op": "login", "user": a.user, "password": a.password}),
    );
    wr.write_all(&out).await?;
    out.clear();
    let answer = loop {
        if let Some(f) = next_frame(&mut rbuf)? {
            break f;
        }
        if rd.read_buf(&mut rbuf).await? == 0 {
            bail!("closed during login");
        }
    };
    if answer.get("ok").is_none() {
        bail!("login refused: {answer}");
    }
    let mut r = SessionResult::default();
    let mut sent_at: HashMap<u64, Instant> = HashMap::new();
    let (mut next_id, mut sent) = (1u64, 0usize);
    let window = a.window.max(1);
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
            line(
                &mut out,
                &json!({"id": next_id, "op": "submit", "options": {
                    "DESTADDR": "46701234567",
                    "SOURCEADDR": "4610000",
                    "MESSAGE": format!("load test message {sent}"),
                    "DLR": "1",
                }}),
            );
            sent_at.insert(next_id, Instant::now());
            next_id += 1;
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
                "timed out: {} accepted, {} reports",
                shared.accepted.load(SeqCst),
                shared.receipts.load(SeqCst)
            ),
        };
        if read == Some(0) {
            bail!("connection closed by emgd");
        }
        while let Some(f) = next_frame(&mut rbuf)? {
            match f.get("op").and_then(Value::as_str) {
                // emgd's own requests: a report or MO (`deliver`), or a ping.
                Some(op) => {
                    if op == "deliver" {
                        let o = &f["options"];
                        let origid = id_text(&o["ORIGID"]);
                        if let (Some(id), true) = (origid, o["MSGTYPE"] == "5") {
                            let submitted = shared.submitted_at.lock().unwrap().remove(&id);
                            match submitted {
                                Some(t) => {
                                    r.receipts += 1;
                                    shared.receipts.fetch_add(1, SeqCst);
                                    r.dlr_us.push(t.elapsed().as_micros() as u64);
                                }
                                None => {
                                    shared.early.lock().unwrap().insert(id, Instant::now());
                                }
                            }
                        }
                    }
                    line(&mut out, &json!({"id": f["id"], "ok": {}}));
                }
                None => {
                    let Some(t) = f["id"].as_u64().and_then(|id| sent_at.remove(&id)) else {
                        continue;
                    };
                    r.last_resp = Some(Instant::now());
                    match f.get("ok").and_then(|ok| id_text(&ok["message_id"])) {
                        Some(message_id) => {
                            r.resp_us.push(t.elapsed().as_micros() as u64);
                            r.accepted += 1;
                            shared.accepted.fetch_add(1, SeqCst);
                            let early = shared.early.lock().unwrap().remove(&message_id);
                            match early {
                                Some(came) => {
                                    r.receipts += 1;
                                    shared.receipts.fetch_add(1, SeqCst);
                                    r.dlr_us.push(came.duration_since(t).as_micros() as u64);
                                }
                                None => {
                                    shared.submitted_at.lock().unwrap().insert(message_id, t);
                                }
                            }
                        }
                        None => r.refused += 1,
                    }
                }
            }
        }
    }
    Ok(r)
}

/// Run the load and collect the report.
pub async fn run(a: Args) -> anyhow::Result<Report> {
    if a.sessions == 0 {
        return Err(anyhow!("no sessions"));
    }
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

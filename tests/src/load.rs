//! The SMPP load generator behind `emgload` and `emgbench`: N transceiver sessions submit
//! windowed submit_sm flat out (or at a target rate), wait for every delivery receipt, and
//! record per-message latency (submit -> submit_sm_resp, submit -> receipt).

use anyhow::{anyhow, bail, Context};
use bytes::BytesMut;
use common::smpp::{
    command, decode, encode, tlv, Bind, Body, Pdu, Receipt, Sm, SmppAddr, DEFAULT_MAX_PDU_LEN,
};
use std::collections::HashMap;
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
    pub window: usize,
    pub count: usize,
    pub rate: Option<f64>,
    pub dlr: bool,
    /// Bind as transmitters: ask for receipts but take none (they wait for a receiver that
    /// never binds), and leave once every submit is answered.
    pub transmitter: bool,
    pub timeout: Duration,
}

/// Receipts may come back on any session bound as the same user, so ids and counts are shared.
/// A receipt can even be read on one session before its submit_sm_resp is read on another:
/// it waits in `early` for the answer.
#[derive(Default)]
struct Shared {
    id_at: std::sync::Mutex<HashMap<String, Instant>>,
    early: std::sync::Mutex<std::collections::HashSet<String>>,
    accepted: std::sync::atomic::AtomicUsize,
    receipts: std::sync::atomic::AtomicUsize,
    answered_sessions: std::sync::atomic::AtomicUsize,
}

#[derive(Default)]
pub struct SessionResult {
    pub accepted: usize,
    pub refused: usize,
    pub receipts: usize,
    pub resp_us: Vec<u64>,
    pub dlr_us: Vec<u64>,
    /// When the last submit_sm_resp of this session arrived.
    pub last_resp: Option<Instant>,
}

async fn session(
    a: &Args,
    shared: &Shared,
    count: usize,
    rate: Option<f64>,
) -> anyhow::Result<SessionResult> {
    use std::sync::atomic::Ordering::SeqCst;
    let mut s = TcpStream::connect(("127.0.0.1", a.port))
        .await
        .context("connect")?;
    s.set_nodelay(true)?;
    let (mut rd, mut wr) = s.split();
    let mut out = BytesMut::new();
    let mut rbuf = BytesMut::new();
    let bind = Body::Bind(Bind {
        system_id: a.user.clone(),
        password: a.password.clone(),
        interface_version: 0x34,
        ..Default::default()
    });
    let bind_command = if a.transmitter {
        command::BIND_TRANSMITTER
    } else {
        command::BIND_TRANSCEIVER
    };
    encode(&Pdu::new(bind_command, 1, bind), &mut out);
    wr.write_all(&out).await?;
    out.clear();
    let bound = loop {
        if let Some(p) = decode(&mut rbuf, DEFAULT_MAX_PDU_LEN).map_err(|e| anyhow!("{e}"))? {
            break p;
        }
        if rd.read_buf(&mut rbuf).await? == 0 {
            bail!("closed during bind");
        }
    };
    if bound.status != 0 {
        bail!("bind refused with status {:#x}", bound.status);
    }
    let mut r = SessionResult::default();
    let mut sent_at: HashMap<u32, Instant> = HashMap::new();
    let mut seq = 1u32;
    let mut sent = 0usize;
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + a.timeout;
    let mut answered_all = false;
    loop {
        if !answered_all && r.accepted + r.refused == count {
            answered_all = true;
            shared.answered_sessions.fetch_add(1, SeqCst);
        }
        let everyone_answered = shared.answered_sessions.load(SeqCst) == a.sessions;
        let done_dlr =
            !a.dlr || a.transmitter || shared.receipts.load(SeqCst) >= shared.accepted.load(SeqCst);
        if answered_all && everyone_answered && done_dlr {
            break;
        }
        while sent < count && sent_at.len() < a.window {
            if let Some(rate) = rate {
                let due = start + Duration::from_secs_f64(sent as f64 / rate);
                if Instant::now() < due {
                    break;
                }
            }
            seq += 1;
            let sm = Sm {
                source: SmppAddr::new(1, 1, "4610000"),
                dest: SmppAddr::new(1, 1, "46701234567"),
                registered_delivery: u8::from(a.dlr),
                short_message: format!("load test message {sent}").into_bytes().into(),
                ..Default::default()
            };
            encode(
                &Pdu::new(command::SUBMIT_SM, seq, Body::SubmitSm(sm)),
                &mut out,
            );
            sent_at.insert(seq, Instant::now());
            sent += 1;
        }
        if !out.is_empty() {
            wr.write_all(&out).await?;
            out.clear();
        }
        let wait = if rate.is_some() && sent < count {
            Duration::from_micros(200)
        } else {
            Duration::from_millis(20)
        };
        let read = tokio::select! {
            n = rd.read_buf(&mut rbuf) => Some(n?),
            _ = tokio::time::sleep(wait) => None,
            _ = tokio::time::sleep_until(deadline) => bail!("timed out: {} accepted, {} receipts", shared.accepted.load(SeqCst), shared.receipts.load(SeqCst)),
        };
        if read == Some(0) {
            bail!("connection closed by emgd");
        }
        while let Some(p) = decode(&mut rbuf, DEFAULT_MAX_PDU_LEN).map_err(|e| anyhow!("{e}"))? {
            match p.command_id {
                command::SUBMIT_SM_RESP => {
                    let Some(t) = sent_at.remove(&p.sequence) else {
                        continue;
                    };
                    r.resp_us.push(t.elapsed().as_micros() as u64);
                    r.last_resp = Some(Instant::now());
                    match (&p.body, p.status) {
                        (Body::SubmitSmResp { message_id, .. }, 0) => {
                            r.accepted += 1;
                            shared.accepted.fetch_add(1, SeqCst);
                            if a.dlr {
                                let mut early = shared.early.lock().unwrap();
                                if early.remove(message_id) {
                                    r.receipts += 1;
                                    shared.receipts.fetch_add(1, SeqCst);
                                    r.dlr_us.push(t.elapsed().as_micros() as u64);
                                } else {
                                    shared.id_at.lock().unwrap().insert(message_id.clone(), t);
                                }
                            }
                        }
                        _ => r.refused += 1,
                    }
                }
                command::DELIVER_SM => {
                    if let Body::DeliverSm(sm) = &p.body {
                        let id = sm
                            .tlv(tlv::RECEIPTED_MESSAGE_ID)
                            .map(|v| {
                                String::from_utf8_lossy(v)
                                    .trim_end_matches('\0')
                                    .to_string()
                            })
                            .or_else(|| Receipt::parse(&sm.short_message).map(|r| r.id));
                        if let Some(id) = id {
                            // Lock order early -> id_at, as for answers.
                            let mut early = shared.early.lock().unwrap();
                            let at = shared.id_at.lock().unwrap().remove(&id);
                            match at {
                                Some(t) => {
                                    r.receipts += 1;
                                    shared.receipts.fetch_add(1, SeqCst);
                                    r.dlr_us.push(t.elapsed().as_micros() as u64);
                                }
                                None => {
                                    early.insert(id);
                                }
                            }
                        }
                    }
                    encode(
                        &p.response(
                            0,
                            Body::DeliverSmResp {
                                message_id: String::new(),
                                tlvs: vec![],
                            },
                        ),
                        &mut out,
                    );
                }
                command::ENQUIRE_LINK => encode(&p.response(0, Body::Empty), &mut out),
                _ => {}
            }
        }
    }
    encode(&Pdu::new(command::UNBIND, seq + 1, Body::Empty), &mut out);
    let _ = wr.write_all(&out).await;
    Ok(r)
}

pub fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx] as f64 / 1000.0
}

impl Default for Args {
    fn default() -> Args {
        Args {
            port: 2775,
            user: "demo".into(),
            password: "demo".into(),
            sessions: 2,
            window: 64,
            count: 10_000,
            rate: None,
            dlr: true,
            transmitter: false,
            timeout: Duration::from_secs(120),
        }
    }
}

/// The outcome of a run: totals, wall time and sorted latencies in microseconds.
#[derive(Debug, Default)]
pub struct Report {
    pub accepted: usize,
    pub refused: usize,
    pub receipts: usize,
    /// From the start until every receipt was in (or the last answer, without receipts).
    pub seconds: f64,
    /// From the start until the last submit_sm_resp.
    pub resp_seconds: f64,
    pub resp_us: Vec<u64>,
    pub dlr_us: Vec<u64>,
}

impl Report {
    pub fn complete(&self, a: &Args) -> bool {
        self.accepted + self.refused == a.count && (!a.dlr || self.receipts == self.accepted)
    }
}

/// Run the load and collect the report.
pub async fn run(a: Args) -> anyhow::Result<Report> {
    let a = std::sync::Arc::new(a);
    let shared = std::sync::Arc::new(Shared::default());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..a.sessions {
        let (a, shared) = (a.clone(), shared.clone());
        let share = a.count / a.sessions + usize::from(i < a.count % a.sessions);
        let rate = a.rate.map(|r| r / a.sessions as f64);
        tasks.push(tokio::spawn(async move {
            session(&a, &shared, share, rate).await
        }));
    }
    Report::collect(tasks, started).await
}

impl Report {
    /// The sessions' results added up once every one has ended (`started`: when the load
    /// began); the SMPP and UCP load clients both report this way.
    pub async fn collect(
        tasks: Vec<tokio::task::JoinHandle<anyhow::Result<SessionResult>>>,
        started: Instant,
    ) -> anyhow::Result<Report> {
        let mut total = Report::default();
        for t in tasks {
            let r = t.await??;
            total.accepted += r.accepted;
            total.refused += r.refused;
            total.receipts += r.receipts;
            total.resp_us.extend(r.resp_us);
            total.dlr_us.extend(r.dlr_us);
            if let Some(t) = r.last_resp {
                total.resp_seconds = total
                    .resp_seconds
                    .max(t.duration_since(started).as_secs_f64());
            }
        }
        total.seconds = started.elapsed().as_secs_f64();
        total.resp_us.sort_unstable();
        total.dlr_us.sort_unstable();
        Ok(total)
    }
}

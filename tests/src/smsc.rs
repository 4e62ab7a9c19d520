//! The SMPP SMSC simulator behind `emgsmsc`, the far end of the benchmark.
//!
//! It accepts binds (any credentials, or only the configured pair), answers each submit_sm
//! with a fresh message id (decimal or hex) and, when the submit asks for one, sends a
//! delivery receipt a configured delay later: deliver_sm with esm_class 0x04, the SMPP 3.4
//! appendix B text (`id:... stat:DELIVRD ...`) and the receipted_message_id and message_state
//! TLVs. A transceiver gets its receipts on its own session; a transmitter's go to a receiver
//! session bound with the same system_id. It answers enquire_link and unbind, can refuse an
//! evenly spread share of submits or throttle each session, and counts everything.
//!
//! One tokio task per session. A session decodes everything one read brought in, answers it
//! into one buffer and writes that buffer once, so a window of submits costs one `write`, not
//! one per PDU: the simulator must not be what limits a benchmark.

use anyhow::anyhow;
use bytes::BytesMut;
use common::dlr::DlrStatus;
use common::smpp::{
    command, decode, encode, status, tlv, Bind, BindResp, Body, Pdu, Receipt, Sm, SmppAddr, Tlv,
    DEFAULT_MAX_PDU_LEN,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How message ids are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFormat {
    Decimal,
    /// Lower-case hexadecimal.
    Hex,
}

impl IdFormat {
    pub fn write(self, n: u64) -> String {
        match self {
            IdFormat::Decimal => n.to_string(),
            IdFormat::Hex => format!("{n:x}"),
        }
    }
}

impl std::str::FromStr for IdFormat {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<IdFormat> {
        match s {
            "decimal" | "dec" => Ok(IdFormat::Decimal),
            "hex" => Ok(IdFormat::Hex),
            _ => Err(anyhow!("unknown id format {s:?} (decimal or hex)")),
        }
    }
}

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Accept only this system_id and password; `None`: any.
    pub credentials: Option<(String, String)>,
    /// Ids in submit_sm_resp.
    pub ids: IdFormat,
    /// Ids in the receipts (text and receipted_message_id); differing from `ids` reproduces
    /// the id-format drift of real SMSCs.
    pub receipt_ids: IdFormat,
    /// The first message id handed out.
    pub first_id: u64,
    /// Delay between a submit and its receipt.
    pub dlr_delay: Duration,
    /// What the receipts report.
    pub dlr_status: DlrStatus,
    /// Share of submits refused with `fail_status`, spread evenly (0.0 .. 1.0).
    pub fail_share: f64,
    pub fail_status: u32,
    /// Most submits per second accepted on one session; above it ESME_RTHROTTLED.
    pub throttle: Option<f64>,
    /// Most receipts sent on one session and not yet answered.
    pub dlr_window: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            credentials: None,
            ids: IdFormat::Decimal,
            receipt_ids: IdFormat::Decimal,
            first_id: 1,
            dlr_delay: Duration::from_millis(100),
            dlr_status: DlrStatus::Delivered,
            fail_share: 0.0,
            fail_status: status::ESME_RSYSERR,
            throttle: None,
            dlr_window: 1024,
        }
    }
}

/// Running totals, shared by every session.
#[derive(Default)]
pub struct Counters {
    binds: AtomicU64,
    binds_refused: AtomicU64,
    sessions: AtomicI64,
    submits: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
    throttled: AtomicU64,
    receipts: AtomicU64,
    receipts_acked: AtomicU64,
    receipts_dropped: AtomicU64,
    enquire_links: AtomicU64,
    first_submit_us: AtomicI64,
    last_submit_us: AtomicI64,
}

/// A snapshot of the counters, as `emgsmsc` prints it and writes its `--stats` file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub binds: u64,
    pub binds_refused: u64,
    /// Sessions open now.
    pub sessions: i64,
    pub submits: u64,
    pub accepted: u64,
    /// Refused by `fail_share` (throttled ones not included).
    pub refused: u64,
    pub throttled: u64,
    /// Receipts sent.
    pub receipts: u64,
    /// Receipts the ESME answered with deliver_sm_resp.
    pub receipts_acked: u64,
    /// Receipts of a transmitter session with no receiver bound to take them.
    pub receipts_dropped: u64,
    pub enquire_links: u64,
    /// Unix time in microseconds of the first and the latest submit_sm (0: none yet).
    pub first_submit_us: i64,
    pub last_submit_us: i64,
}

impl Stats {
    /// One `key=value` line.
    pub fn line(&self) -> String {
        format!(
            "binds={} binds_refused={} sessions={} submits={} accepted={} refused={} throttled={} receipts={} receipts_acked={} receipts_dropped={} enquire_links={}",
            self.binds,
            self.binds_refused,
            self.sessions,
            self.submits,
            self.accepted,
            self.refused,
            self.throttled,
            self.receipts,
            self.receipts_acked,
            self.receipts_dropped,
            self.enquire_links
        )
    }
}

/// A receipt waiting for its time.
struct Pending {
    due: Instant,
    id: u64,
    /// The receipt's addresses: the submit's destination and source, swapped.
    source: SmppAddr,
    dest: SmppAddr,
    text: String,
    submit_date: String,
}

/// A session that takes receipts: its number and where to hand them.
type Receiver = (u64, mpsc::UnboundedSender<Pending>);

/// The simulator: options, counters, id source and the receiver sessions by system_id.
pub struct Smsc {
    opts: Options,
    counters: Counters,
    next_id: AtomicU64,
    receivers: Mutex<HashMap<String, Vec<Receiver>>>,
    next_session: AtomicU64,
    round_robin: AtomicU64,
}

impl Smsc {
    pub fn new(opts: Options) -> Arc<Smsc> {
        Arc::new(Smsc {
            next_id: AtomicU64::new(opts.first_id),
            opts,
            counters: Counters::default(),
            receivers: Mutex::new(HashMap::new()),
            next_session: AtomicU64::new(0),
            round_robin: AtomicU64::new(0),
        })
    }

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            binds: c.binds.load(Relaxed),
            binds_refused: c.binds_refused.load(Relaxed),
            sessions: c.sessions.load(Relaxed),
            submits: c.submits.load(Relaxed),
            accepted: c.accepted.load(Relaxed),
            refused: c.refused.load(Relaxed),
            throttled: c.throttled.load(Relaxed),
            receipts: c.receipts.load(Relaxed),
            receipts_acked: c.receipts_acked.load(Relaxed),
            receipts_dropped: c.receipts_dropped.load(Relaxed),
            enquire_links: c.enquire_links.load(Relaxed),
            first_submit_us: c.first_submit_us.load(Relaxed),
            last_submit_us: c.last_submit_us.load(Relaxed),
        }
    }

    fn register_receiver(&self, system_id: &str, session: u64, tx: mpsc::UnboundedSender<Pending>) {
        let mut map = self.receivers.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(system_id.to_string())
            .or_default()
            .push((session, tx));
    }

    fn unregister_receiver(&self, system_id: &str, session: u64) {
        let mut map = self.receivers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = map.get_mut(system_id) {
            list.retain(|(s, _)| *s != session);
        }
    }

    /// Hand a transmitter session's receipt to a receiver of the same system_id.
    fn forward(&self, system_id: &str, p: Pending) {
        let map = self.receivers.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.get(system_id).map(Vec::as_slice).unwrap_or_default();
        if !list.is_empty() {
            let i = self.round_robin.fetch_add(1, Relaxed) as usize % list.len();
            if list[i].1.send(p).is_ok() {
                return;
            }
        }
        self.counters.receipts_dropped.fetch_add(1, Relaxed);
    }
}

/// Accept sessions until `shutdown` turns true, then unbind them all and return.
pub async fn serve(listener: TcpListener, smsc: Arc<Smsc>, mut shutdown: watch::Receiver<bool>) {
    let mut sessions = JoinSet::new();
    let session_stop = shutdown.clone();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    sessions.spawn(session(smsc.clone(), stream, session_stop.clone()));
                }
                Err(e) => {
                    eprintln!("emgsmsc: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            _ = stopped(&mut shutdown) => break,
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
}

/// Resolves once the shutdown flag is set (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|v| *v).await;
}

/// The bind a session holds.
struct Bound {
    system_id: String,
    can_submit: bool,
    can_receive: bool,
}

/// One connection: its state, its waiting receipts and its output buffer.
struct Session {
    smsc: Arc<Smsc>,
    id: u64,
    bound: Option<Bound>,
    pending: VecDeque<Pending>,
    /// Receipts sent and not answered yet.
    awaiting: usize,
    out: BytesMut,
    seq: u32,
    /// Evenly spread refusals: the fraction carried over from the last submit.
    fail_acc: f64,
    /// Throttle: the theoretical arrival time of the next submit (GCRA).
    tat: Instant,
    forward_tx: mpsc::UnboundedSender<Pending>,
    dates: Dates,
}

async fn session(smsc: Arc<Smsc>, mut stream: TcpStream, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    smsc.counters.sessions.fetch_add(1, Relaxed);
    let (forward_tx, mut forward_rx) = mpsc::unbounded_channel();
    let mut s = Session {
        id: smsc.next_session.fetch_add(1, Relaxed),
        smsc: smsc.clone(),
        bound: None,
        pending: VecDeque::new(),
        awaiting: 0,
        out: BytesMut::with_capacity(64 * 1024),
        seq: 0,
        fail_acc: 0.0,
        tat: Instant::now(),
        forward_tx,
        dates: Dates::default(),
    };
    let (mut rd, mut wr) = stream.split();
    let mut rbuf = BytesMut::with_capacity(64 * 1024);
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    let mut unbind_deadline: Option<Instant> = None;
    loop {
        let next_due = s
            .pending
            .front()
            .filter(|_| s.awaiting < s.smsc.opts.dlr_window || !s.receives())
            .map(|p| p.due);
        let mut close = false;
        tokio::select! {
            read = rd.read_buf(&mut rbuf) => match read {
                Ok(0) | Err(_) => close = true,
                Ok(_) => close = s.absorb(&mut rbuf),
            },
            _ = tokio::time::sleep_until(next_due.unwrap_or(far)), if next_due.is_some() => {
                s.emit_due(Instant::now());
            }
            Some(p) = forward_rx.recv() => s.pending.push_back(p),
            _ = stopped(&mut shutdown), if unbind_deadline.is_none() => {
                let seq = s.next_seq();
                encode(&Pdu::new(command::UNBIND, seq, Body::Empty), &mut s.out);
                unbind_deadline = Some(Instant::now() + Duration::from_millis(500));
            }
            _ = tokio::time::sleep_until(unbind_deadline.unwrap_or(far)), if unbind_deadline.is_some() => close = true,
        }
        if !s.out.is_empty() {
            if wr.write_all(&s.out).await.is_err() {
                break;
            }
            s.out.clear();
        }
        if close {
            break;
        }
    }
    let _ = wr.shutdown().await;
    if let Some(b) = &s.bound {
        if b.can_receive {
            smsc.unregister_receiver(&b.system_id, s.id);
        }
    }
    smsc.counters.sessions.fetch_sub(1, Relaxed);
}

impl Session {
    fn next_seq(&mut self) -> u32 {
        self.seq = if self.seq >= 0x7FFF_FFFF {
            1
        } else {
            self.seq + 1
        };
        self.seq
    }

    fn receives(&self) -> bool {
        self.bound.as_ref().is_some_and(|b| b.can_receive)
    }

    /// Handle every complete PDU in `rbuf`; true when the session must close.
    fn absorb(&mut self, rbuf: &mut BytesMut) -> bool {
        let mut submits = 0u64;
        let mut close = false;
        loop {
            match decode(rbuf, DEFAULT_MAX_PDU_LEN) {
                Ok(None) => break,
                Ok(Some(pdu)) => {
                    if pdu.command_id == command::SUBMIT_SM {
                        submits += 1;
                    }
                    if self.handle(pdu) {
                        close = true;
                        break;
                    }
                }
                Err(e) => {
                    encode(
                        &Pdu::generic_nack(e.sequence().unwrap_or(0), e.nack_status()),
                        &mut self.out,
                    );
                    if e.is_fatal() {
                        close = true;
                        break;
                    }
                }
            }
        }
        if submits > 0 {
            let c = &self.smsc.counters;
            let now = unix_us();
            let _ = c.first_submit_us.compare_exchange(0, now, Relaxed, Relaxed);
            c.last_submit_us.fetch_max(now, Relaxed);
        }
        close
    }

    /// Answer one PDU; true when the session must close.
    fn handle(&mut self, pdu: Pdu) -> bool {
        let c = &self.smsc.counters;
        match pdu.command_id {
            command::BIND_TRANSMITTER | command::BIND_RECEIVER | command::BIND_TRANSCEIVER => {
                let Body::Bind(bind) = &pdu.body else {
                    return false;
                };
                let code = self.bind(pdu.command_id, bind);
                let body = if code == status::ESME_ROK {
                    let tlvs = if bind.interface_version >= 0x34 {
                        vec![Tlv::u8(tlv::SC_INTERFACE_VERSION, 0x34)]
                    } else {
                        vec![]
                    };
                    Body::BindResp(BindResp {
                        system_id: "emgsmsc".into(),
                        tlvs,
                    })
                } else {
                    Body::Empty
                };
                encode(&pdu.response(code, body), &mut self.out);
            }
            command::SUBMIT_SM => {
                c.submits.fetch_add(1, Relaxed);
                let Body::SubmitSm(sm) = &pdu.body else {
                    return false;
                };
                let answer = match self.submit(sm) {
                    Ok(id) => Body::SubmitSmResp {
                        message_id: id,
                        tlvs: vec![],
                    },
                    Err(code) => {
                        encode(&pdu.response(code, Body::Empty), &mut self.out);
                        return false;
                    }
                };
                encode(&pdu.response(status::ESME_ROK, answer), &mut self.out);
            }
            command::DELIVER_SM_RESP => {
                self.awaiting = self.awaiting.saturating_sub(1);
                c.receipts_acked.fetch_add(1, Relaxed);
            }
            command::ENQUIRE_LINK => {
                c.enquire_links.fetch_add(1, Relaxed);
                encode(&pdu.response(status::ESME_ROK, Body::Empty), &mut self.out);
            }
            command::UNBIND => {
                encode(&pdu.response(status::ESME_ROK, Body::Empty), &mut self.out);
                return true;
            }
            command::UNBIND_RESP => return true,
            id if id & command::RESPONSE_BIT != 0 => {}
            _ => {
                let resp = if command::name(pdu.command_id | command::RESPONSE_BIT) == "UNKNOWN" {
                    Pdu::generic_nack(pdu.sequence, status::ESME_RINVCMDID)
                } else {
                    pdu.response(status::ESME_RINVCMDID, Body::Empty)
                };
                encode(&resp, &mut self.out);
            }
        }
        false
    }

    fn bind(&mut self, command_id: u32, bind: &Bind) -> u32 {
        let c = &self.smsc.counters;
        if self.bound.is_some() {
            c.binds_refused.fetch_add(1, Relaxed);
            return status::ESME_RALYBND;
        }
        if let Some((user, password)) = &self.smsc.opts.credentials {
            if &bind.system_id != user {
                c.binds_refused.fetch_add(1, Relaxed);
                return status::ESME_RINVSYSID;
            }
            if &bind.password != password {
                c.binds_refused.fetch_add(1, Relaxed);
                return status::ESME_RINVPASWD;
            }
        }
        let b = Bound {
            system_id: bind.system_id.clone(),
            can_submit: command_id != command::BIND_RECEIVER,
            can_receive: command_id != command::BIND_TRANSMITTER,
        };
        if b.can_receive {
            self.smsc
                .register_receiver(&b.system_id, self.id, self.forward_tx.clone());
        }
        self.bound = Some(b);
        c.binds.fetch_add(1, Relaxed);
        status::ESME_ROK
    }

    /// Decide on one submit: its message id, or the error to answer.
    fn submit(&mut self, sm: &Sm) -> Result<String, u32> {
        let smsc = self.smsc.clone();
        let (opts, c) = (&smsc.opts, &smsc.counters);
        if !self.bound.as_ref().is_some_and(|b| b.can_submit) {
            c.refused.fetch_add(1, Relaxed);
            return Err(status::ESME_RINVBNDSTS);
        }
        if let Some(rate) = opts.throttle {
            let now = Instant::now();
            let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
            // Up to a tenth of a second's worth in a burst.
            let burst = interval.mul_f64((rate / 10.0).max(1.0));
            if self.tat > now + burst {
                c.throttled.fetch_add(1, Relaxed);
                return Err(status::ESME_RTHROTTLED);
            }
            self.tat = self.tat.max(now) + interval;
        }
        if opts.fail_share > 0.0 {
            self.fail_acc += opts.fail_share;
            if self.fail_acc >= 1.0 {
                self.fail_acc -= 1.0;
                c.refused.fetch_add(1, Relaxed);
                return Err(opts.fail_status);
            }
        }
        let n = smsc.next_id.fetch_add(1, Relaxed);
        c.accepted.fetch_add(1, Relaxed);
        let wanted = match sm.registered_delivery & 0x03 {
            1 => true,
            2 => opts.dlr_status != DlrStatus::Delivered,
            _ => false,
        };
        if wanted {
            let text: String = String::from_utf8_lossy(sm.payload())
                .chars()
                .take(20)
                .collect();
            self.pending.push_back(Pending {
                due: Instant::now() + opts.dlr_delay,
                id: n,
                source: sm.dest.clone(),
                dest: sm.source.clone(),
                text,
                submit_date: self.dates.now(),
            });
        }
        Ok(opts.ids.write(n))
    }

    /// Send (or forward) every receipt whose time has come, within the receipt window.
    fn emit_due(&mut self, now: Instant) {
        let receives = self.receives();
        let window = self.smsc.opts.dlr_window;
        let done_date = self.dates.now();
        while self
            .pending
            .front()
            .is_some_and(|p| p.due <= now && (!receives || self.awaiting < window))
        {
            let Some(p) = self.pending.pop_front() else {
                break;
            };
            if !receives {
                let system_id = self
                    .bound
                    .as_ref()
                    .map(|b| b.system_id.clone())
                    .unwrap_or_default();
                self.smsc.forward(&system_id, p);
                continue;
            }
            let opts = &self.smsc.opts;
            let id = opts.receipt_ids.write(p.id);
            let stat = opts.dlr_status;
            let delivered = u32::from(stat == DlrStatus::Delivered);
            let text = Receipt {
                id: id.clone(),
                sub: 1,
                dlvrd: delivered,
                submit_date: p.submit_date,
                done_date: done_date.clone(),
                stat,
                err: if delivered == 1 { "000" } else { "001" }.into(),
                text: p.text,
            }
            .to_text();
            let sm = Sm {
                source: p.source,
                dest: p.dest,
                esm_class: 0x04,
                short_message: text.into_bytes().into(),
                tlvs: vec![
                    Tlv::cstr(tlv::RECEIPTED_MESSAGE_ID, &id),
                    Tlv::u8(tlv::MESSAGE_STATE, stat.message_state()),
                ],
                ..Default::default()
            };
            let seq = self.next_seq();
            encode(
                &Pdu::new(command::DELIVER_SM, seq, Body::DeliverSm(sm)),
                &mut self.out,
            );
            self.awaiting += 1;
            self.smsc.counters.receipts.fetch_add(1, Relaxed);
        }
    }
}

/// Now as Unix time in microseconds.
pub fn unix_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Receipt dates (YYMMDDhhmm, UTC), formatted once a minute rather than once a message.
#[derive(Default)]
struct Dates {
    minute: i64,
    text: String,
}

impl Dates {
    fn now(&mut self) -> String {
        let minute = unix_us() / 60_000_000;
        if minute != self.minute || self.text.is_empty() {
            self.minute = minute;
            self.text = chrono::Utc::now().format("%y%m%d%H%M").to_string();
        }
        self.text.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw SMPP peer over the codec, to check exactly what the simulator sends.
    struct Peer {
        s: TcpStream,
        buf: BytesMut,
        seq: u32,
    }

    impl Peer {
        async fn connect(port: u16) -> Peer {
            let s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            Peer {
                s,
                buf: BytesMut::new(),
                seq: 0,
            }
        }

        async fn send(&mut self, command_id: u32, body: Body) -> u32 {
            self.seq += 1;
            let mut out = BytesMut::new();
            encode(&Pdu::new(command_id, self.seq, body), &mut out);
            self.s.write_all(&out).await.unwrap();
            self.seq
        }

        async fn read(&mut self) -> Pdu {
            let read = async {
                loop {
                    if let Some(p) = decode(&mut self.buf, DEFAULT_MAX_PDU_LEN).unwrap() {
                        return p;
                    }
                    assert!(self.s.read_buf(&mut self.buf).await.unwrap() > 0, "closed");
                }
            };
            tokio::time::timeout(Duration::from_secs(5), read)
                .await
                .expect("a PDU within 5 s")
        }

        async fn bind(&mut self, command_id: u32, user: &str, password: &str) -> u32 {
            let bind = Body::Bind(Bind {
                system_id: user.into(),
                password: password.into(),
                interface_version: 0x34,
                ..Default::default()
            });
            self.send(command_id, bind).await;
            self.read().await.status
        }

        async fn submit(&mut self, registered_delivery: u8) -> Pdu {
            let sm = Sm {
                source: SmppAddr::new(1, 1, "4610000"),
                dest: SmppAddr::new(1, 1, "46701234567"),
                registered_delivery,
                short_message: b"hello from the receipt test".to_vec().into(),
                ..Default::default()
            };
            self.send(command::SUBMIT_SM, Body::SubmitSm(sm)).await;
            self.read().await
        }
    }

    async fn start(opts: Options) -> (u16, Arc<Smsc>, watch::Sender<bool>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let smsc = Smsc::new(opts);
        let (stop, rx) = watch::channel(false);
        tokio::spawn(serve(listener, smsc.clone(), rx));
        (port, smsc, stop)
    }

    fn message_id(p: &Pdu) -> String {
        match &p.body {
            Body::SubmitSmResp { message_id, .. } => message_id.clone(),
            other => panic!("not a submit_sm_resp: {other:?}"),
        }
    }

    #[tokio::test]
    async fn receipt_carries_text_and_tlvs_with_the_submitted_id() {
        let (port, smsc, _stop) = start(Options {
            ids: IdFormat::Hex,
            receipt_ids: IdFormat::Hex,
            first_id: 255,
            dlr_delay: Duration::from_millis(20),
            ..Default::default()
        })
        .await;
        let mut p = Peer::connect(port).await;
        assert_eq!(p.bind(command::BIND_TRANSCEIVER, "any", "thing").await, 0);
        let resp = p.submit(1).await;
        assert_eq!((resp.status, message_id(&resp)), (0, "ff".to_string()));
        let dlr = p.read().await;
        assert_eq!(dlr.command_id, command::DELIVER_SM);
        let Body::DeliverSm(sm) = &dlr.body else {
            panic!("{dlr:?}")
        };
        assert_eq!(sm.esm_class, 0x04);
        assert_eq!(
            (sm.source.addr.as_str(), sm.dest.addr.as_str()),
            ("46701234567", "4610000")
        );
        let r = Receipt::parse(&sm.short_message).expect("an appendix B receipt");
        assert_eq!(
            (r.id.as_str(), r.stat, r.text.as_str()),
            ("ff", DlrStatus::Delivered, "hello from the recei")
        );
        assert_eq!((r.sub, r.dlvrd, r.err.as_str()), (1, 1, "000"));
        assert_eq!(
            sm.tlv(tlv::RECEIPTED_MESSAGE_ID).map(|v| &v[..]),
            Some(&b"ff\0"[..])
        );
        assert_eq!(sm.tlv(tlv::MESSAGE_STATE).map(|v| &v[..]), Some(&[2u8][..]));
        p.send(
            command::DELIVER_SM_RESP,
            Body::DeliverSmResp {
                message_id: String::new(),
                tlvs: vec![],
            },
        )
        .await;
        // No receipt without registered_delivery.
        let resp = p.submit(0).await;
        assert_eq!(message_id(&resp), "100");
        p.send(command::ENQUIRE_LINK, Body::Empty).await;
        assert_eq!(p.read().await.command_id, command::ENQUIRE_LINK_RESP);
        p.send(command::UNBIND, Body::Empty).await;
        assert_eq!(p.read().await.command_id, command::UNBIND_RESP);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let s = smsc.stats();
        assert_eq!(
            (
                s.submits,
                s.accepted,
                s.receipts,
                s.receipts_acked,
                s.enquire_links
            ),
            (2, 2, 1, 1, 1)
        );
    }

    #[tokio::test]
    async fn credentials_refusals_throttle_and_receiver_binds() {
        let (port, smsc, _stop) = start(Options {
            credentials: Some(("emg".into(), "secret".into())),
            ids: IdFormat::Decimal,
            receipt_ids: IdFormat::Hex,
            first_id: 10,
            dlr_delay: Duration::ZERO,
            fail_share: 0.5,
            fail_status: status::ESME_RSYSERR,
            throttle: Some(1.0),
            ..Default::default()
        })
        .await;
        let mut wrong = Peer::connect(port).await;
        assert_eq!(
            wrong.bind(command::BIND_TRANSMITTER, "emg", "nope").await,
            status::ESME_RINVPASWD
        );
        let mut rx = Peer::connect(port).await;
        assert_eq!(rx.bind(command::BIND_RECEIVER, "emg", "secret").await, 0);
        let mut tx = Peer::connect(port).await;
        assert_eq!(tx.bind(command::BIND_TRANSMITTER, "emg", "secret").await, 0);
        // A receiver may not submit.
        assert_eq!(rx.submit(1).await.status, status::ESME_RINVBNDSTS);
        // Every second submit fails; the throttle lets one through, then refuses.
        let first = tx.submit(1).await;
        let second = tx.submit(1).await;
        let third = tx.submit(1).await;
        assert_eq!((first.status, message_id(&first)), (0, "10".to_string()));
        assert_eq!(second.status, status::ESME_RSYSERR);
        assert_eq!(third.status, status::ESME_RTHROTTLED);
        // The transmitter's receipt arrives on the receiver, with the id in hex.
        let dlr = rx.read().await;
        let Body::DeliverSm(sm) = &dlr.body else {
            panic!("{dlr:?}")
        };
        assert_eq!(Receipt::parse(&sm.short_message).unwrap().id, "a");
        let s = smsc.stats();
        assert_eq!(
            (s.binds, s.binds_refused, s.refused, s.throttled, s.receipts),
            (2, 1, 2, 1, 1)
        );
    }
}

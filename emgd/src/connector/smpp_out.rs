//! Outgoing SMPP: we are the client of an SMSC.
//!
//! One task per instance. It connects and binds (transceiver, transmitter or receiver, SMPP
//! 3.3/3.4/5.0), submits the connector's queue with a window of outstanding submit_sm, keeps
//! the link alive with enquire_link, closes it after `idletimeout` idle seconds, and takes
//! delivery receipts and MO messages from the SMSC. Failed connects and binds follow the retry
//! scheme's connector rule: `connects` attempts `retrytime` seconds apart, then ERROR for
//! `maxsleep` seconds, then another round.

use super::smpp_message::{message_from_sm, parts_of};
use super::{ConnState, ConnectorHandle, SessionInfo};
use crate::gateway::{stopped, Gateway};
use bytes::BytesMut;
use common::dlr::DlrStatus;
use common::message::{Message, MessageId, Origin};
use common::smpp::{command, status, tlv, Bind, Body, DataSm, Pdu, Receipt, Sm};
use common::smpp::{decode, encode, log_line, Direction as PduDir, DEFAULT_MAX_PDU_LEN};
use config::BindMode;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// How long a connect may take before it counts as failed (errno 110, ETIMEDOUT).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the SMSC may take to answer a bind.
const BIND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long we wait for outstanding answers and the unbind_resp when closing.
const UNBIND_WAIT: Duration = Duration::from_secs(5);
/// An enquire_link unanswered for this long means the link is dead.
const ENQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Run every instance of an outgoing SMPP connector until shutdown.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>) {
    let mut instances = JoinSet::new();
    for instance in 0..connector.config().instances {
        instances.spawn(run_instance(gw.clone(), connector.clone(), instance));
    }
    while instances.join_next().await.is_some() {}
}

/// Why a connect or bind attempt failed: the command and error the retry scheme matches on.
struct Failure {
    command: u32,
    error: u32,
}

/// How a bound session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    IdleTimeout,
    Lost,
    Shutdown,
    ForceClose,
}

async fn run_instance(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, instance: u32) {
    let mut shutdown = gw.shutdown_signal();
    let mut failures: u32 = 0;
    let log = |text: String| gw.logs.connector(&connector.name, instance, text);
    loop {
        if gw.is_shutting_down() {
            break;
        }
        tokio::select! {
            _ = connector.wait_released_or_hold_only() => {}
            _ = stopped(&mut shutdown) => break,
        }
        let cfg = connector.config();
        // A receiver bind never has queue work to wake it: it stays connected like a static one.
        let stays = cfg.is_static || cfg.bindmode == BindMode::Receiver;
        let first = if stays {
            None
        } else {
            tokio::select! {
                m = connector.next_unheld_on(instance, cmr_ttl(&gw)) => Some(m),
                _ = stopped(&mut shutdown) => break,
                _ = connector.forceclose_set() => continue,
            }
        };
        let bound = tokio::select! {
            b = connect_and_bind(&gw, &connector, instance) => b,
            _ = stopped(&mut shutdown) => {
                if let Some(m) = first { gw.unsent(&connector, m); }
                break;
            }
        };
        match bound {
            Err(f) => {
                if let Some(m) = first {
                    gw.unsent(&connector, m);
                }
                let rule = cfg.retryscheme.connector_rule(f.command, f.error);
                failures += 1;
                let (state, wait) = if failures >= rule.connects.max(1) {
                    log(format!(
                        "ERROR (info=\"{failures} connects failed, next round in {} s\")",
                        rule.maxsleep
                    ));
                    failures = 0;
                    (ConnState::Error, rule.maxsleep)
                } else {
                    (ConnState::Idle, rule.retrytime)
                };
                connector.set_state(instance, state);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(wait)) => {}
                    _ = stopped(&mut shutdown) => break,
                }
                connector.set_state(instance, ConnState::Idle);
            }
            Ok((session, reader, writer, rbuf)) => {
                failures = 0;
                let end = session.run(reader, writer, rbuf, first).await;
                connector.set_state(instance, ConnState::Idle);
                if end == End::Shutdown {
                    break;
                }
            }
        }
    }
    connector.set_state(instance, ConnState::Dead);
}

type Bound = (Session, OwnedReadHalf, OwnedWriteHalf, BytesMut);

/// Connect and bind; logs CONNECT and LOGIN lines as EMG does.
async fn connect_and_bind(
    gw: &Arc<Gateway>,
    connector: &Arc<ConnectorHandle>,
    instance: u32,
) -> Result<Bound, Failure> {
    let cfg = connector.config();
    let log = |text: String| gw.logs.connector(&connector.name, instance, text);
    let addr = cfg.address.clone().unwrap_or_default();
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            let errno = e.raw_os_error().unwrap_or(0);
            log(format!("CONNECT ERR (info=\"{errno}\")"));
            tracing::debug!("connector {}: connect to {addr}: {e}", connector.name);
            return Err(Failure {
                command: 0,
                error: errno as u32,
            });
        }
        Err(_) => {
            log("CONNECT ERR (info=\"110\")".into());
            return Err(Failure {
                command: 0,
                error: 110,
            });
        }
    };
    let _ = stream.set_nodelay(true);
    log("CONNECT OK".into());
    connector.set_state(instance, ConnState::Connected);
    let (mut reader, mut writer) = stream.into_split();
    let mut session = Session::new(gw.clone(), connector.clone(), instance);
    let bind_command = match cfg.bindmode {
        BindMode::Transceiver => command::BIND_TRANSCEIVER,
        BindMode::Transmitter => command::BIND_TRANSMITTER,
        BindMode::Receiver => command::BIND_RECEIVER,
    };
    let seq = session.seq();
    session.write(&Pdu::new(
        bind_command,
        seq,
        Body::Bind(Bind {
            system_id: cfg.username.clone().unwrap_or_default(),
            password: cfg.password.clone().unwrap_or_default(),
            system_type: cfg.system_type.clone(),
            interface_version: cfg.interface_version,
            ..Default::default()
        }),
    ));
    let failed = |info: &str| {
        log(format!("LOGIN ERR (info=\"{info}\")"));
        connector.set_state(instance, ConnState::Idle);
    };
    if writer.write_all(&session.out).await.is_err() {
        failed("write error");
        return Err(Failure {
            command: bind_command,
            error: status::ESME_RBINDFAIL,
        });
    }
    session.out.clear();
    let mut rbuf = BytesMut::with_capacity(8192);
    let answer = tokio::time::timeout(BIND_TIMEOUT, async {
        loop {
            match decode(&mut rbuf, DEFAULT_MAX_PDU_LEN) {
                Ok(Some(pdu)) => {
                    session.log_pdu(PduDir::Read, &pdu);
                    if pdu.command_id == bind_command | command::RESPONSE_BIT
                        || pdu.command_id == command::GENERIC_NACK
                    {
                        return Some(pdu);
                    }
                    if pdu.command_id == command::ENQUIRE_LINK {
                        session.write(&pdu.response(status::ESME_ROK, Body::Empty));
                        let _ = writer.write_all(&session.out).await;
                        session.out.clear();
                    }
                    continue;
                }
                Ok(None) => {}
                Err(_) => return None,
            }
            match reader.read_buf(&mut rbuf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    })
    .await;
    let resp = match answer {
        Ok(Some(resp)) => resp,
        Ok(None) => {
            failed("connection closed");
            return Err(Failure {
                command: bind_command,
                error: status::ESME_RBINDFAIL,
            });
        }
        Err(_) => {
            failed("bind timeout");
            return Err(Failure {
                command: bind_command,
                error: status::ESME_RBINDFAIL,
            });
        }
    };
    if resp.status != status::ESME_ROK || resp.command_id == command::GENERIC_NACK {
        failed(&resp.status.to_string());
        let _ = writer.shutdown().await;
        return Err(Failure {
            command: bind_command,
            error: resp.status,
        });
    }
    let system_id = match &resp.body {
        Body::BindResp(b) => b.system_id.clone(),
        _ => String::new(),
    };
    log(format!("LOGIN OK (info=\"0 {system_id}\")"));
    connector.set_session(
        instance,
        Some(SessionInfo {
            instance,
            peer: Some(addr),
            bind: Some(bind_word(cfg.bindmode).to_string()),
            user: cfg.username.clone(),
            since_us: crate::clock::now_us(),
        }),
    );
    connector.set_state(instance, ConnState::Bound);
    session.can_submit = cfg.bindmode != BindMode::Receiver;
    Ok((session, reader, writer, rbuf))
}

fn bind_word(mode: BindMode) -> &'static str {
    match mode {
        BindMode::Transceiver => "transceiver",
        BindMode::Transmitter => "transmitter",
        BindMode::Receiver => "receiver",
    }
}

struct Session {
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    instance: u32,
    next_seq: u32,
    out: BytesMut,
    can_submit: bool,
    /// Messages taken from the queue whose `Submitting` record is being committed.
    /// In the order taken, so parts of one long message leave in order.
    staging: VecDeque<JoinHandle<(bool, Vec<Message>)>>,
    /// How many messages `staging` holds.
    staged: usize,
    /// Parts recorded as submitting and not yet written, in order: (message, part index, part).
    backlog: VecDeque<(MessageId, usize, Sm)>,
    /// Messages with parts written or waiting in `backlog`.
    inflight: HashMap<MessageId, InFlight>,
    /// submit_sm sent and not yet answered, by sequence number: (message, part index, when).
    outstanding: HashMap<u32, (MessageId, usize, Instant)>,
    /// Outcomes being recorded (sent/failed/receipt/MO); each may yield a response to write.
    work: JoinSet<Option<Pdu>>,
    /// enquire_link sent and not answered: (sequence, when).
    enquiry: Option<(u32, Instant)>,
    /// Last PDU in either direction (keepalive).
    last_io: Instant,
    /// Last message traffic (idle timeout).
    last_traffic: Instant,
}

impl Session {
    fn new(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, instance: u32) -> Session {
        Session {
            gw,
            connector,
            instance,
            next_seq: 1,
            out: BytesMut::with_capacity(4096),
            can_submit: false,
            staging: VecDeque::new(),
            staged: 0,
            backlog: VecDeque::new(),
            inflight: HashMap::new(),
            outstanding: HashMap::new(),
            work: JoinSet::new(),
            enquiry: None,
            last_io: Instant::now(),
            last_traffic: Instant::now(),
        }
    }

    fn log(&self, text: impl AsRef<str>) {
        self.gw
            .logs
            .connector(&self.connector.name, self.instance, text);
    }

    fn log_pdu(&self, dir: PduDir, pdu: &Pdu) {
        if self.gw.logs.wants_pdu() {
            let line = log_line(dir, pdu);
            self.gw.logs.pdu(&self.connector.name, self.instance, line);
        }
    }

    fn write(&mut self, pdu: &Pdu) {
        self.log_pdu(PduDir::Write, pdu);
        encode(pdu, &mut self.out);
        self.last_io = Instant::now();
    }

    fn seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq = if s >= 0x7FFF_FFFF { 1 } else { s + 1 };
        s
    }

    async fn run(
        mut self,
        mut reader: OwnedReadHalf,
        mut writer: OwnedWriteHalf,
        mut rbuf: BytesMut,
        first: Option<Message>,
    ) -> End {
        let mut shutdown = self.gw.shutdown_signal();
        if let Some(m) = first {
            self.stage(vec![m]);
        }
        // Set when we decided to close: stop submitting, wait for the answers, unbind.
        let mut closing: Option<(End, Instant)> = None;
        let mut unbind_sent = false;
        let far = Duration::from_secs(86_400 * 365);
        let end = loop {
            let cfg = self.connector.config();
            let window = cfg.windowsize.max(1) as usize;
            // Take more from the queue once the last batch is written; parts are paced and
            // windowed one by one in `pump`.
            let can_take = self.can_submit
                && closing.is_none()
                && self.backlog.is_empty()
                && self.outstanding.len() + self.staged < window;
            // `throughput`: wake when the pacer lets the next part out.
            let pace_wait = if !self.backlog.is_empty() && self.outstanding.len() < window {
                self.connector.pace_wait()
            } else {
                Duration::ZERO
            };
            let keepalive_at = cfg
                .keepalive
                .map(|k| self.last_io + Duration::from_secs(k))
                .filter(|_| self.enquiry.is_none() && closing.is_none());
            let enquiry_deadline = self.enquiry.map(|(_, at)| {
                at + cfg.keepalive.map_or(ENQUIRE_TIMEOUT, |k| {
                    Duration::from_secs(k).max(ENQUIRE_TIMEOUT)
                })
            });
            let idle_at = cfg
                .idletimeout
                .map(|i| self.last_traffic + Duration::from_secs(i))
                .filter(|_| closing.is_none() && self.outstanding.is_empty());
            let now = Instant::now();
            tokio::select! {
                read = reader.read_buf(&mut rbuf) => {
                    match read {
                        Ok(0) => break End::Lost,
                        Err(e) => { tracing::debug!("read error: {e}"); break End::Lost; }
                        Ok(_) => {}
                    }
                    let mut gone = None;
                    loop {
                        match decode(&mut rbuf, DEFAULT_MAX_PDU_LEN) {
                            Ok(None) => break,
                            Ok(Some(pdu)) => {
                                self.log_pdu(PduDir::Read, &pdu);
                                self.last_io = Instant::now();
                                match pdu.command_id {
                                    command::UNBIND => {
                                        self.write(&pdu.response(status::ESME_ROK, Body::Empty));
                                        gone = Some(closing.map_or(End::Lost, |c| c.0));
                                        break;
                                    }
                                    command::UNBIND_RESP => {
                                        gone = Some(closing.map_or(End::Lost, |c| c.0));
                                        break;
                                    }
                                    _ => self.handle(pdu),
                                }
                            }
                            Err(e) => {
                                self.log(format!("PDU ERR (info=\"{e}\")"));
                                self.write(&Pdu::generic_nack(e.sequence().unwrap_or(0), e.nack_status()));
                                if e.is_fatal() {
                                    gone = Some(End::Lost);
                                    break;
                                }
                            }
                        }
                    }
                    if let Some(end) = gone {
                        let _ = writer.write_all(&self.out).await;
                        self.out.clear();
                        break end;
                    }
                }
                Some(done) = self.work.join_next(), if !self.work.is_empty() => {
                    if let Ok(Some(resp)) = done { self.write(&resp); }
                    // Every answer already recorded goes out in the same write.
                    while let Some(done) = self.work.try_join_next() {
                        if let Ok(Some(resp)) = done { self.write(&resp); }
                    }
                }
                message = self.connector.next_unheld_on(self.instance, cmr_ttl(&self.gw)), if can_take => {
                    let room = window - self.outstanding.len() - self.staged;
                    let mut batch = vec![message];
                    while batch.len() < room && !self.connector.held() {
                        match self.connector.queue.take_on(self.instance, cmr_ttl(&self.gw)) {
                            Some(m) => batch.push(m),
                            None => break,
                        }
                    }
                    self.stage(batch);
                }
                staged = first_done(&mut self.staging) => {
                    self.staging.pop_front();
                    if let Ok((recorded, batch)) = staged {
                        self.staged -= batch.len();
                        for m in batch {
                            if recorded && closing.is_none() {
                                self.queue_parts(m);
                            } else {
                                self.gw.unsent(&self.connector, m);
                            }
                        }
                    }
                }
                _ = tokio::time::sleep(pace_wait), if !pace_wait.is_zero() => {}
                _ = tokio::time::sleep_until(keepalive_at.unwrap_or(now + far)), if keepalive_at.is_some() => {
                    let seq = self.seq();
                    self.write(&Pdu::new(command::ENQUIRE_LINK, seq, Body::Empty));
                    self.enquiry = Some((seq, Instant::now()));
                }
                _ = tokio::time::sleep_until(enquiry_deadline.unwrap_or(now + far)), if enquiry_deadline.is_some() => {
                    self.log("DISCONNECT (info=\"enquire_link not answered\")");
                    break End::Lost;
                }
                _ = tokio::time::sleep_until(idle_at.unwrap_or(now + far)), if idle_at.is_some() => {
                    closing = Some((End::IdleTimeout, Instant::now() + UNBIND_WAIT));
                }
                _ = stopped(&mut shutdown), if closing.is_none() => {
                    self.connector.set_state(self.instance, ConnState::Terminating);
                    closing = Some((End::Shutdown, Instant::now() + UNBIND_WAIT));
                }
                _ = self.connector.forceclose_set(), if closing.is_none() => {
                    closing = Some((End::ForceClose, Instant::now() + UNBIND_WAIT));
                }
                _ = tokio::time::sleep_until(closing.map_or(now + far, |c| c.1)), if closing.is_some() => {
                    break closing.map_or(End::Lost, |c| c.0);
                }
            }
            self.pump(window);
            let drained =
                self.outstanding.is_empty() && self.backlog.is_empty() && self.staged == 0;
            if let (Some(_), false, true) = (closing, unbind_sent, drained) {
                let seq = self.seq();
                self.write(&Pdu::new(command::UNBIND, seq, Body::Empty));
                unbind_sent = true;
            }
            if !self.out.is_empty() {
                if let Err(e) = writer.write_all(&self.out).await {
                    tracing::debug!("write error: {e}");
                    break End::Lost;
                }
                self.out.clear();
            }
        };
        // Record every outcome already known; what is still unanswered goes back to the queue.
        while let Some(done) = self.work.join_next().await {
            if let Ok(Some(resp)) = done {
                self.write(&resp);
            }
        }
        if !self.out.is_empty() {
            let _ = writer.write_all(&self.out).await;
        }
        let mut unsent: Vec<Message> = self.inflight.drain().map(|(_, f)| f.message).collect();
        for handle in self.staging.drain(..) {
            if let Ok((_, batch)) = handle.await {
                unsent.extend(batch);
            }
        }
        self.outstanding.clear();
        self.backlog.clear();
        // Back at the head of the queue in the order they were accepted (ids ascend).
        unsent.sort_by_key(|m| std::cmp::Reverse(m.id));
        for m in unsent {
            self.gw.unsent(&self.connector, m);
        }
        let _ = writer.shutdown().await;
        let reason = match end {
            End::IdleTimeout => "idle timeout",
            End::Lost => "connection lost",
            End::Shutdown => "shutdown",
            End::ForceClose => "force close",
        };
        self.log(format!("DISCONNECT (info=\"{reason}\")"));
        end
    }

    /// Record that `batch` is about to be submitted, before any of it leaves; expired
    /// messages fail here instead.
    fn stage(&mut self, batch: Vec<Message>) {
        let now = crate::clock::now_us();
        let (expired, batch): (Vec<Message>, Vec<Message>) = batch
            .into_iter()
            .partition(|m| m.expires_us.is_some_and(|t| t <= now));
        for m in expired {
            let (gw, connector) = (self.gw.clone(), self.connector.clone());
            self.work.spawn(async move {
                gw.expired(&connector, m).await;
                None
            });
        }
        if batch.is_empty() {
            return;
        }
        self.staged += batch.len();
        let (gw, connector) = (self.gw.clone(), self.connector.clone());
        self.staging.push_back(tokio::spawn(async move {
            let recorded = gw.submitting(&connector, &batch).await;
            (recorded, batch)
        }));
        self.last_traffic = Instant::now();
    }

    /// Plan `message`'s parts (one for a short message) behind the ones already waiting. All
    /// parts leave on this session, in order.
    fn queue_parts(&mut self, message: Message) {
        let wire = match self.gw.outbound(&self.connector, &message) {
            Ok(wire) => wire,
            Err(refusal) => {
                let (gw, connector) = (self.gw.clone(), self.connector.clone());
                self.work.spawn(async move {
                    gw.refused_on_send(&connector, message, refusal).await;
                    None
                });
                return;
            }
        };
        let parts = parts_of(&wire, self.connector.config().split);
        let id = message.id;
        self.inflight.insert(
            id,
            InFlight {
                remote_ids: vec![None; parts.len()],
                unanswered: parts.len(),
                failure: None,
                message,
            },
        );
        self.backlog
            .extend(parts.into_iter().enumerate().map(|(i, sm)| (id, i, sm)));
    }

    /// Write waiting parts while the window and `throughput` allow.
    fn pump(&mut self, window: usize) {
        while self.outstanding.len() < window && !self.backlog.is_empty() {
            if !self.connector.pace_wait().is_zero() {
                break;
            }
            let Some((id, index, sm)) = self.backlog.pop_front() else {
                break;
            };
            self.connector.pace_take();
            let seq = self.seq();
            self.write(&Pdu::new(command::SUBMIT_SM, seq, Body::SubmitSm(sm)));
            self.outstanding.insert(seq, (id, index, Instant::now()));
            self.last_traffic = Instant::now();
        }
    }

    /// A part of `id` was answered: `Ok(remote id)` or `Err(status)`. Once every part written
    /// is answered, the message's outcome is recorded.
    fn part_answered(&mut self, id: MessageId, index: usize, answer: Result<Option<String>, u32>) {
        let Some(f) = self.inflight.get_mut(&id) else {
            return;
        };
        f.unanswered = f.unanswered.saturating_sub(1);
        match answer {
            Ok(remote) => {
                if let Some(slot) = f.remote_ids.get_mut(index) {
                    *slot = remote;
                }
            }
            Err(code) => {
                if f.failure.is_none() {
                    f.failure = Some(code);
                    // The rest of this message does not go out.
                    let before = self.backlog.len();
                    self.backlog.retain(|(m, _, _)| *m != id);
                    f.unanswered -= before - self.backlog.len();
                }
            }
        }
        if f.unanswered > 0 {
            return;
        }
        let Some(f) = self.inflight.remove(&id) else {
            return;
        };
        let (gw, connector) = (self.gw.clone(), self.connector.clone());
        self.work.spawn(async move {
            match f.failure {
                Some(code) => {
                    gw.failed(&connector, f.message, command::SUBMIT_SM, code)
                        .await
                }
                None => {
                    let ids: Vec<String> = f.remote_ids.into_iter().flatten().collect();
                    gw.sent_parts(&connector, f.message, ids).await
                }
            }
            None
        });
    }

    fn handle(&mut self, pdu: Pdu) {
        match pdu.command_id {
            command::SUBMIT_SM_RESP | command::GENERIC_NACK => {
                let Some((id, index, written)) = self.outstanding.remove(&pdu.sequence) else {
                    return;
                };
                crate::metrics::global().submit_response(&self.connector.name, written.elapsed());
                self.last_traffic = Instant::now();
                let remote_id = match &pdu.body {
                    Body::SubmitSmResp { message_id, .. } if !message_id.is_empty() => {
                        Some(message_id.clone())
                    }
                    _ => None,
                };
                let answer = if pdu.status == status::ESME_ROK {
                    Ok(remote_id)
                } else {
                    Err(pdu.status)
                };
                self.part_answered(id, index, answer);
            }
            command::DELIVER_SM | command::DATA_SM => {
                self.last_traffic = Instant::now();
                let (sm, ok) = match &pdu.body {
                    Body::DeliverSm(sm) => (
                        sm.clone(),
                        pdu.response(
                            status::ESME_ROK,
                            Body::DeliverSmResp {
                                message_id: String::new(),
                                tlvs: vec![],
                            },
                        ),
                    ),
                    Body::DataSm(d) => (
                        sm_of_data_sm(d),
                        pdu.response(
                            status::ESME_ROK,
                            Body::DataSmResp {
                                message_id: String::new(),
                                tlvs: vec![],
                            },
                        ),
                    ),
                    _ => return,
                };
                let sm = &sm;
                let gw = self.gw.clone();
                let name = self.connector.name.clone();
                if sm.esm_class & 0x04 != 0 {
                    let Some((id, state, error)) = parse_receipt(sm) else {
                        self.log("RECEIPT ERR (info=\"no message id in receipt\")");
                        self.write(&ok);
                        return;
                    };
                    self.work.spawn(async move {
                        if !gw.receipt(&name, &id, state, error).await {
                            tracing::debug!("connector {name}: receipt for {id} not matched yet");
                        }
                        Some(ok)
                    });
                } else {
                    let message = message_from_sm(
                        sm,
                        Origin {
                            connector: name.clone(),
                            ..Default::default()
                        },
                    );
                    self.work.spawn(async move {
                        let code = match gw.accept(message).await {
                            Ok(_) => status::ESME_ROK,
                            // No route, blacklisted: retrying cannot help.
                            Err(r) if !r.is_temporary() => status::ESME_RX_P_APPN,
                            Err(_) => status::ESME_RX_T_APPN,
                        };
                        Some(ok.response_with(code))
                    });
                }
            }
            command::ENQUIRE_LINK => self.write(&pdu.response(status::ESME_ROK, Body::Empty)),
            command::ENQUIRE_LINK_RESP => {
                if self.enquiry.is_some_and(|(s, _)| s == pdu.sequence) {
                    self.enquiry = None;
                }
            }
            // The SMSC says a handset is reachable again; it wants no answer (3.4 §4.12).
            command::ALERT_NOTIFICATION => {
                if let Body::AlertNotification { esme, .. } = &pdu.body {
                    self.log(format!("ALERT (info=\"{} available\")", esme.addr));
                }
            }
            id if id & command::RESPONSE_BIT != 0 => {}
            _ => {
                let resp = if command::name(pdu.command_id | command::RESPONSE_BIT) == "UNKNOWN" {
                    Pdu::generic_nack(pdu.sequence, status::ESME_RINVCMDID)
                } else {
                    pdu.response(status::ESME_RINVCMDID, Body::Empty)
                };
                self.write(&resp);
            }
        }
    }
}

/// The oldest staging batch, once recorded; never resolves when there is none.
async fn first_done<T>(staging: &mut VecDeque<JoinHandle<T>>) -> Result<T, tokio::task::JoinError> {
    match staging.front_mut() {
        Some(handle) => handle.await,
        None => std::future::pending().await,
    }
}

/// How long the parts of a long message stay with the session that took the first (CMR).
fn cmr_ttl(gw: &Gateway) -> Duration {
    Duration::from_secs(gw.config().general.cmrexpire)
}

/// A message whose parts are being written and answered.
struct InFlight {
    message: Message,
    /// Each part's remote id, in part order, once answered.
    remote_ids: Vec<Option<String>>,
    /// Parts not answered yet (written or still in the backlog).
    unanswered: usize,
    /// The first error a part got; later parts are not sent.
    failure: Option<u32>,
}

trait WithStatus {
    fn response_with(self, status: u32) -> Pdu;
}

impl WithStatus for Pdu {
    /// The same response with another status (an error response carries no body).
    fn response_with(mut self, code: u32) -> Pdu {
        self.status = code;
        if code != status::ESME_ROK {
            self.body = Body::Empty;
        }
        self
    }
}

/// A data_sm from the SMSC read as the deliver_sm it stands for (text in message_payload).
fn sm_of_data_sm(d: &DataSm) -> Sm {
    Sm {
        service_type: d.service_type.clone(),
        source: d.source.clone(),
        dest: d.dest.clone(),
        esm_class: d.esm_class,
        registered_delivery: d.registered_delivery,
        data_coding: d.data_coding,
        tlvs: d.tlvs.clone(),
        ..Default::default()
    }
}

fn parse_receipt(sm: &Sm) -> Option<(String, DlrStatus, u32)> {
    let text = Receipt::parse(sm.payload());
    let id = tlv::find(&sm.tlvs, tlv::RECEIPTED_MESSAGE_ID)
        .map(|t| t.as_str())
        .filter(|s| !s.trim().is_empty())
        .or_else(|| text.as_ref().map(|r| r.id.clone()))?;
    let state = tlv::find(&sm.tlvs, tlv::MESSAGE_STATE)
        .and_then(|t| t.as_uint())
        .and_then(from_message_state)
        .or_else(|| text.as_ref().map(|r| r.stat))
        .unwrap_or(DlrStatus::Unknown);
    let error = sm
        .tlv(tlv::NETWORK_ERROR_CODE)
        .filter(|v| v.len() == 3)
        .map(|v| u32::from(u16::from_be_bytes([v[1], v[2]])))
        .or_else(|| text.as_ref().and_then(|r| r.err.parse().ok()))
        .unwrap_or(0);
    Some((id, state, error))
}

/// SMPP message_state (3.4 §5.2.28) to a receipt state.
fn from_message_state(v: u32) -> Option<DlrStatus> {
    DlrStatus::ALL
        .into_iter()
        .find(|s| u32::from(s.message_state()) == v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::smpp::Tlv;

    fn receipt(text: &str, tlvs: Vec<Tlv>) -> Sm {
        Sm {
            esm_class: 0x04,
            short_message: text.as_bytes().to_vec().into(),
            tlvs,
            ..Default::default()
        }
    }

    const TEXT: &str = "id:0000A1B2 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:UNDELIV err:042 text:hello";

    #[test]
    fn receipt_tlvs_are_preferred() {
        let sm = receipt(
            TEXT,
            vec![
                Tlv::cstr(tlv::RECEIPTED_MESSAGE_ID, "a1b2"),
                Tlv::u8(tlv::MESSAGE_STATE, 2),
                Tlv::new(tlv::NETWORK_ERROR_CODE, vec![3, 0, 7]),
            ],
        );
        assert_eq!(
            parse_receipt(&sm).unwrap(),
            ("a1b2".into(), DlrStatus::Delivered, 7)
        );
    }

    #[test]
    fn receipt_text_alone_is_enough() {
        let sm = receipt(TEXT, vec![]);
        assert_eq!(
            parse_receipt(&sm).unwrap(),
            ("0000A1B2".into(), DlrStatus::Undeliverable, 42)
        );
        assert!(parse_receipt(&receipt("hello", vec![])).is_none());
    }

    #[test]
    fn every_message_state_maps() {
        for s in DlrStatus::ALL {
            assert_eq!(from_message_state(u32::from(s.message_state())), Some(s));
        }
        assert_eq!(from_message_state(0), None);
    }
}

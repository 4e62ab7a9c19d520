//! Incoming SMPP: we are the SMSC for client applications.
//!
//! One task per session owns its socket. It reads PDUs, checks binds against the users,
//! hands submits to the gateway (answering each only once it is stored), and pushes the
//! messages queued for its user (delivery reports, MO) as deliver_sm within a window.

use super::smpp_message::{message_from_data_sm, message_from_sm, sm_from_message};
use super::smpp_requests;
use super::{ConnState, ConnectorHandle, SessionInfo};
use crate::gateway::{Gateway, Reject};
use crate::plugin::RefusalKind;
use bytes::BytesMut;
use common::message::{Message, MessageId, Origin};
use common::smpp::{command, parse_time, status, tlv, Body, Pdu, Receipt, Sm, Tlv};
use common::smpp::{decode, encode, log_line, BindResp, Direction as PduDir, DEFAULT_MAX_PDU_LEN};
use config::Mode;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// How long a session waits for the client's unbind_resp at shutdown.
const UNBIND_WAIT: Duration = Duration::from_secs(5);
/// Our system id in bind responses.
const SYSTEM_ID: &str = "emg";

/// Open the connector's listening socket.
pub async fn bind(cfg: &config::Connector) -> std::io::Result<TcpListener> {
    let addr = cfg.address.as_deref().unwrap_or("0.0.0.0:2775");
    TcpListener::bind(addr).await
}

/// Accept sessions until shutdown, at most `instances` at a time.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, listener: TcpListener) {
    let slots = Arc::new(Mutex::new(vec![
        false;
        connector.config().instances as usize
    ]));
    let mut shutdown = gw.shutdown_signal();
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!("connector {}: accept failed: {e}", connector.name);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let Some(instance) = claim_slot(&slots) else {
                    gw.logs.connector(&connector.name, 0, format!("CONNECT ERR (info=\"{peer}: all {} instances busy\")", connector.config().instances));
                    drop(stream);
                    continue;
                };
                let (gw, connector, slots) = (gw.clone(), connector.clone(), slots.clone());
                sessions.spawn(async move {
                    Session::new(gw, connector.clone(), instance, peer).run(stream).await;
                    connector.set_state(instance, ConnState::Idle);
                    slots.lock().unwrap_or_else(|p| p.into_inner())[instance as usize] = false;
                });
            }
            _ = crate::gateway::stopped(&mut shutdown) => break,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    drop(listener);
    while sessions.join_next().await.is_some() {}
}

fn claim_slot(slots: &Mutex<Vec<bool>>) -> Option<u32> {
    let mut s = slots.lock().unwrap_or_else(|p| p.into_inner());
    let free = s.iter().position(|used| !used)?;
    s[free] = true;
    Some(free as u32)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BindKind {
    Transmitter,
    Receiver,
    Transceiver,
}

impl BindKind {
    fn from_command(id: u32) -> Option<BindKind> {
        match id {
            command::BIND_TRANSMITTER => Some(BindKind::Transmitter),
            command::BIND_RECEIVER => Some(BindKind::Receiver),
            command::BIND_TRANSCEIVER => Some(BindKind::Transceiver),
            _ => None,
        }
    }
    fn word(self) -> &'static str {
        match self {
            BindKind::Transmitter => "transmitter",
            BindKind::Receiver => "receiver",
            BindKind::Transceiver => "transceiver",
        }
    }
    fn may_submit(self) -> bool {
        self != BindKind::Receiver
    }
    fn may_receive(self) -> bool {
        self != BindKind::Transmitter
    }
}

struct Bound {
    user: String,
    account: String,
    kind: BindKind,
    interface_version: u8,
}

struct Session {
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    instance: u32,
    peer: SocketAddr,
    bound: Option<Bound>,
    next_seq: u32,
    out: BytesMut,
    /// deliver_sm sent and not yet answered, by sequence number.
    outstanding: HashMap<u32, Message>,
}

enum Flow {
    Continue,
    Close,
}

impl Session {
    fn new(
        gw: Arc<Gateway>,
        connector: Arc<ConnectorHandle>,
        instance: u32,
        peer: SocketAddr,
    ) -> Session {
        Session {
            gw,
            connector,
            instance,
            peer,
            bound: None,
            next_seq: 1,
            out: BytesMut::with_capacity(4096),
            outstanding: HashMap::new(),
        }
    }

    fn log(&self, text: impl AsRef<str>) {
        self.gw
            .logs
            .connector(&self.connector.name, self.instance, text);
    }

    fn write(&mut self, pdu: &Pdu) {
        self.log_pdu(PduDir::Write, pdu);
        encode(pdu, &mut self.out);
    }

    fn log_pdu(&self, dir: PduDir, pdu: &Pdu) {
        if self.gw.logs.wants_pdu() {
            let line = log_line(dir, pdu);
            self.gw.logs.pdu(&self.connector.name, self.instance, line);
        }
    }

    fn seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq = if s >= 0x7FFF_FFFF { 1 } else { s + 1 };
        s
    }

    async fn run(mut self, stream: TcpStream) {
        self.connector
            .set_state(self.instance, ConnState::Connected);
        self.log(format!("CONNECT OK (info=\"{}\")", self.peer));
        let _ = stream.set_nodelay(true);
        let (mut reader, mut writer) = stream.into_split();
        let mut rbuf = BytesMut::with_capacity(8192);
        let mut shutdown = self.gw.shutdown_signal();
        let mut stored: Storing = JoinSet::new();
        let mut unbind_deadline: Option<tokio::time::Instant> = None;
        let mut reason = "closed by peer";
        loop {
            let cfg = self.connector.config();
            let window = cfg.windowsize.max(1) as usize;
            let can_deliver = unbind_deadline.is_none()
                && cfg.mode != Mode::ReceiveOnly
                && self.bound.as_ref().is_some_and(|b| b.kind.may_receive())
                && self.outstanding.len() < window;
            let user = self.bound.as_ref().map(|b| b.user.clone());
            let idle = cfg
                .idletimeout
                .map(Duration::from_secs)
                .unwrap_or(Duration::from_secs(86_400 * 365));
            tokio::select! {
                read = reader.read_buf(&mut rbuf) => {
                    match read {
                        Ok(0) => break,
                        Err(e) => { tracing::debug!("read error: {e}"); reason = "read error"; break; }
                        Ok(_) => {}
                    }
                    let mut close = false;
                    loop {
                        match decode(&mut rbuf, DEFAULT_MAX_PDU_LEN) {
                            Ok(None) => break,
                            Ok(Some(pdu)) => {
                                self.log_pdu(PduDir::Read, &pdu);
                                if let Flow::Close = self.handle(pdu, &mut stored) {
                                    close = true;
                                    reason = "unbound";
                                    break;
                                }
                            }
                            Err(e) => {
                                self.log(format!("PDU ERR (info=\"{e}\")"));
                                let nack = Pdu::generic_nack(e.sequence().unwrap_or(0), e.nack_status());
                                self.write(&nack);
                                if e.is_fatal() {
                                    close = true;
                                    reason = "invalid command_length";
                                    break;
                                }
                            }
                        }
                    }
                    if close {
                        // Answer the submits already stored before going.
                        while let Some(done) = stored.join_next().await {
                            if let Ok(done) = done { self.answer(done); }
                        }
                        let _ = writer.write_all(&self.out).await;
                        break;
                    }
                }
                Some(done) = stored.join_next(), if !stored.is_empty() => {
                    if let Ok(done) = done { self.answer(done); }
                    // Every answer already stored goes out in the same write.
                    while let Some(done) = stored.try_join_next() {
                        if let Ok(done) = done { self.answer(done); }
                    }
                }
                message = self.connector.next_unheld(user.as_deref()), if can_deliver => {
                    self.deliver(message);
                    // Fill the window now, so the deliveries share one write.
                    while self.outstanding.len() < window && !self.connector.held() {
                        match self.connector.queue.take_for(user.as_deref()) {
                            Some(m) => self.deliver(m),
                            None => break,
                        }
                    }
                }
                _ = crate::gateway::stopped(&mut shutdown), if unbind_deadline.is_none() => {
                    let seq = self.seq();
                    self.write(&Pdu::new(command::UNBIND, seq, Body::Empty));
                    self.connector.set_state(self.instance, ConnState::Terminating);
                    unbind_deadline = Some(tokio::time::Instant::now() + UNBIND_WAIT);
                }
                _ = tokio::time::sleep_until(unbind_deadline.unwrap_or_else(tokio::time::Instant::now)), if unbind_deadline.is_some() => {
                    reason = "shutdown";
                    break;
                }
                _ = tokio::time::sleep(idle) => {
                    reason = "idle timeout";
                    break;
                }
                _ = self.connector.forceclose_set() => {
                    reason = "force close";
                    break;
                }
            }
            if !self.out.is_empty() {
                if let Err(e) = writer.write_all(&self.out).await {
                    tracing::debug!("write error: {e}");
                    reason = "write error";
                    break;
                }
                self.out.clear();
            }
        }
        // Submits being stored are answered to no one but still land; deliveries without an
        // answer go back to the queue for the next session.
        while stored.join_next().await.is_some() {}
        for (_, m) in self.outstanding.drain() {
            self.gw.unsent(&self.connector, m);
        }
        let _ = writer.shutdown().await;
        self.log(format!("DISCONNECT (info=\"{reason}\")"));
    }

    fn handle(&mut self, pdu: Pdu, stored: &mut Storing) -> Flow {
        if let Some(kind) = BindKind::from_command(pdu.command_id) {
            self.handle_bind(kind, &pdu);
            return Flow::Continue;
        }
        match pdu.command_id {
            command::ENQUIRE_LINK => self.write(&pdu.response(status::ESME_ROK, Body::Empty)),
            command::UNBIND => {
                self.write(&pdu.response(status::ESME_ROK, Body::Empty));
                return Flow::Close;
            }
            command::UNBIND_RESP => return Flow::Close,
            command::SUBMIT_SM | command::DATA_SM => self.handle_submit(pdu, stored),
            command::SUBMIT_MULTI
            | command::QUERY_SM
            | command::CANCEL_SM
            | command::REPLACE_SM => self.handle_request(pdu, stored),
            command::DELIVER_SM_RESP => self.handle_deliver_resp(&pdu),
            command::GENERIC_NACK => {
                if let Some(m) = self.outstanding.remove(&pdu.sequence) {
                    self.gw.unsent(&self.connector, m);
                }
            }
            command::ENQUIRE_LINK_RESP => {}
            id if id & 0x8000_0000 != 0 => {}
            _ => {
                let status = if self.bound.is_none() {
                    status::ESME_RINVBNDSTS
                } else {
                    status::ESME_RINVCMDID
                };
                let resp = if command::name(pdu.command_id | 0x8000_0000) == "UNKNOWN" {
                    Pdu::generic_nack(pdu.sequence, status)
                } else {
                    pdu.response(status, Body::Empty)
                };
                self.write(&resp);
            }
        }
        Flow::Continue
    }

    fn handle_bind(&mut self, kind: BindKind, pdu: &Pdu) {
        let Body::Bind(bind) = &pdu.body else { return };
        let refuse = |s: &mut Session, code: u32| {
            s.log(format!("LOGIN ERR (info=\"{code}\")"));
            s.write(&pdu.response(
                code,
                Body::BindResp(BindResp {
                    system_id: SYSTEM_ID.into(),
                    tlvs: vec![],
                }),
            ));
        };
        if self.bound.is_some() {
            return refuse(self, status::ESME_RALYBND);
        }
        let cfg = self.connector.config();
        let gcfg = self.gw.config();
        let found = crate::users::authenticate(
            &gcfg,
            &cfg,
            &bind.system_id,
            &bind.password,
            self.peer.ip(),
        );
        let Some(user) = found else {
            return refuse(self, status::ESME_RINVPASWD);
        };
        let mode_allows = match cfg.mode {
            Mode::Both => true,
            Mode::TransmitOnly => kind != BindKind::Transmitter,
            Mode::ReceiveOnly => kind != BindKind::Receiver,
        };
        if !mode_allows || !user.binds.iter().any(|b| b == kind.word()) {
            return refuse(self, status::ESME_RBINDFAIL);
        }
        let mut tlvs = Vec::new();
        if bind.interface_version >= 0x34 {
            tlvs.push(Tlv::u8(tlv::SC_INTERFACE_VERSION, 0x34));
        }
        self.write(&pdu.response(
            status::ESME_ROK,
            Body::BindResp(BindResp {
                system_id: SYSTEM_ID.into(),
                tlvs,
            }),
        ));
        self.log(format!("LOGIN OK (info=\"0 {}\")", bind.system_id));
        self.bound = Some(Bound {
            user: user.name.clone(),
            account: crate::users::account_of(user),
            kind,
            interface_version: bind.interface_version,
        });
        self.connector.set_session(
            self.instance,
            Some(SessionInfo {
                instance: self.instance,
                peer: Some(self.peer.to_string()),
                bind: Some(kind.word().to_string()),
                user: Some(user.name.clone()),
                since_us: crate::clock::now_us(),
            }),
        );
        self.connector.set_state(self.instance, ConnState::Bound);
    }

    /// submit_sm or data_sm from the client: checked, stored, and answered once stored.
    fn handle_submit(&mut self, pdu: Pdu, stored: &mut Storing) {
        let resp_command = pdu.command_id | command::RESPONSE_BIT;
        let refuse = |code: u32| Pdu {
            command_id: resp_command,
            status: code,
            sequence: pdu.sequence,
            body: Body::Empty,
        };
        let refusal = match &self.bound {
            None => Some(status::ESME_RINVBNDSTS),
            Some(b) if !b.kind.may_submit() => Some(status::ESME_RINVBNDSTS),
            Some(_) if self.connector.config().mode == Mode::TransmitOnly => {
                Some(status::ESME_RSUBMITFAIL)
            }
            Some(_) => None,
        };
        if let Some(code) = refusal {
            self.write(&refuse(code));
            return;
        }
        let bound = self.bound.as_ref().expect("checked above");
        if !self.gw.user_allows(&bound.user) {
            self.write(&refuse(status::ESME_RTHROTTLED));
            return;
        }
        let origin = Origin {
            connector: self.connector.name.clone(),
            user: Some(bound.user.clone()),
            account: Some(bound.account.clone()),
            client_ref: None,
            ..Default::default()
        };
        let message = match &pdu.body {
            Body::SubmitSm(sm) => {
                let expires = match parse_time(&sm.validity_period, crate::clock::now_us()) {
                    Ok(t) => t,
                    Err(e) => {
                        self.log(format!("SUBMIT ERR (info=\"{e}\")"));
                        self.write(&refuse(status::ESME_RINVEXPIRY));
                        return;
                    }
                };
                let mut m = message_from_sm(sm, origin);
                m.expires_us = expires;
                m
            }
            Body::DataSm(d) => message_from_data_sm(d, origin),
            _ => return,
        };
        let gw = self.gw.clone();
        let seq = pdu.sequence;
        let connector = self.connector.clone();
        stored.spawn(async move {
            // The connector's `throughput` caps the incoming rate by delaying answers, as EMG.
            connector.pace().await;
            Answer::Submit(seq, resp_command, gw.accept(message).await)
        });
    }

    /// submit_multi, query_sm, cancel_sm, replace_sm: answered by `smpp_requests` once done.
    fn handle_request(&mut self, pdu: Pdu, stored: &mut Storing) {
        let may = match (&self.bound, pdu.command_id) {
            (None, _) => false,
            (Some(_), command::QUERY_SM) => true,
            (Some(b), _) => b.kind.may_submit(),
        };
        let Some(bound) = self.bound.as_ref().filter(|_| may) else {
            self.write(&Pdu {
                command_id: pdu.command_id | command::RESPONSE_BIT,
                status: status::ESME_RINVBNDSTS,
                sequence: pdu.sequence,
                body: Body::Empty,
            });
            return;
        };
        let asker = smpp_requests::Asker {
            connector: self.connector.name.clone(),
            user: bound.user.clone(),
            account: bound.account.clone(),
        };
        let gw = self.gw.clone();
        stored.spawn(async move {
            let resp = match pdu.command_id {
                command::QUERY_SM => smpp_requests::query(&gw, &asker, &pdu).await,
                command::CANCEL_SM => smpp_requests::cancel(&gw, &asker, &pdu).await,
                command::REPLACE_SM => smpp_requests::replace(&gw, &asker, &pdu).await,
                _ => smpp_requests::submit_multi(&gw, &asker, &pdu).await,
            };
            Answer::Pdu(resp)
        });
    }

    fn answer(&mut self, done: Answer) {
        match done {
            Answer::Submit(seq, resp_command, result) => {
                self.answer_submit(seq, resp_command, result)
            }
            Answer::Pdu(pdu) => self.write(&pdu),
        }
    }

    fn answer_submit(&mut self, seq: u32, resp_command: u32, result: Result<MessageId, Reject>) {
        let (code, message_id) = match result {
            Ok(id) => (status::ESME_ROK, id.to_string()),
            Err(reject) => {
                self.log(format!("SUBMIT ERR (info=\"{reject}\")"));
                (reject_status(&reject), String::new())
            }
        };
        let body = if code != status::ESME_ROK {
            Body::Empty
        } else if resp_command == command::DATA_SM_RESP {
            Body::DataSmResp {
                message_id,
                tlvs: vec![],
            }
        } else {
            Body::SubmitSmResp {
                message_id,
                tlvs: vec![],
            }
        };
        let resp = Pdu {
            command_id: resp_command,
            status: code,
            sequence: seq,
            body,
        };
        self.write(&resp);
    }

    fn deliver(&mut self, message: Message) {
        let v34 = self
            .bound
            .as_ref()
            .is_some_and(|b| b.interface_version >= 0x34);
        let wire = match self.gw.outbound(&self.connector, &message) {
            Ok(wire) => wire,
            Err(refusal) => {
                let (gw, connector) = (self.gw.clone(), self.connector.clone());
                tokio::spawn(async move { gw.refused_on_send(&connector, message, refusal).await });
                return;
            }
        };
        let sm = deliver_body(&wire, v34);
        let seq = self.seq();
        self.write(&Pdu::new(command::DELIVER_SM, seq, Body::DeliverSm(sm)));
        self.outstanding.insert(seq, message);
    }

    fn handle_deliver_resp(&mut self, pdu: &Pdu) {
        let Some(message) = self.outstanding.remove(&pdu.sequence) else {
            return;
        };
        let gw = self.gw.clone();
        let connector = self.connector.clone();
        let code = pdu.status;
        tokio::spawn(async move {
            if code == status::ESME_ROK {
                gw.sent(&connector, message, None).await;
            } else {
                gw.failed(&connector, message, command::DELIVER_SM, code)
                    .await;
            }
        });
    }
}

/// Requests being carried out; each ends in an answer to the client.
type Storing = JoinSet<Answer>;

enum Answer {
    /// A submit_sm or data_sm: (sequence, response command, outcome).
    Submit(u32, u32, Result<MessageId, Reject>),
    /// Any other request's finished response.
    Pdu(Pdu),
}

/// Each refusal in the SMPP code a client expects: permanent for no route, temporary
/// (queue full) for full queues and store trouble; a plugin's by the kind it gave.
pub(super) fn reject_status(reject: &Reject) -> u32 {
    match reject {
        Reject::NoRoute(_) => status::ESME_RINVDSTADR,
        Reject::QueueFull(_) => status::ESME_RMSGQFUL,
        Reject::Store(_) | Reject::ShuttingDown => status::ESME_RSYSERR,
        Reject::Refused(r) if r.field == config::AddressField::Source => status::ESME_RINVSRCADR,
        Reject::Refused(_) => status::ESME_RINVDSTADR,
        Reject::Plugin(r) => match r.kind {
            RefusalKind::Refused => status::ESME_RSUBMITFAIL,
            RefusalKind::Source => status::ESME_RINVSRCADR,
            RefusalKind::Destination => status::ESME_RINVDSTADR,
            RefusalKind::Throttled => status::ESME_RTHROTTLED,
            RefusalKind::Temporary => status::ESME_RSYSERR,
        },
    }
}

/// YYMMDDhhmm in local time, as receipts carry dates.
fn receipt_date(us: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_micros(us)
        .single()
        .map(|t| t.format("%y%m%d%H%M").to_string())
        .unwrap_or_else(|| "0000000000".into())
}

/// deliver_sm for a queued message: a delivery receipt (esm_class 0x04, receipt text,
/// receipted_message_id and message_state TLVs) or an MO message as it arrived.
fn deliver_body(m: &Message, v34: bool) -> Sm {
    let mut sm = Sm {
        // Only the receipt's text tells what happened: no receipt is asked of the client.
        registered_delivery: 0,
        ..sm_from_message(m)
    };
    if let Some(d) = &m.dlr {
        let receipt = Receipt {
            id: d.reported_id.clone(),
            sub: 1,
            dlvrd: u32::from(d.status == common::dlr::DlrStatus::Delivered),
            submit_date: receipt_date(d.submit_us),
            done_date: receipt_date(d.done_us),
            stat: d.status,
            err: format!("{:03}", d.error.min(999)),
            text: d.text.clone(),
        };
        sm.esm_class = 0x04;
        sm.data_coding = 0;
        sm.short_message = receipt.to_text().into_bytes().into();
        if v34 {
            sm.tlvs
                .push(Tlv::cstr(tlv::RECEIPTED_MESSAGE_ID, &d.reported_id));
            sm.tlvs
                .push(Tlv::u8(tlv::MESSAGE_STATE, d.status.message_state()));
            if d.error != 0 {
                let e = d.error.min(0xFFFF) as u16;
                sm.tlvs.push(Tlv::new(
                    tlv::NETWORK_ERROR_CODE,
                    vec![3, (e >> 8) as u8, e as u8],
                ));
            }
        }
    }
    sm
}

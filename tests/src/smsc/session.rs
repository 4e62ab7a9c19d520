//! One task per session: decode everything one read brought in, answer it into one buffer,
//! write that buffer once; receipts follow their delay.

use super::state::*;
use bytes::BytesMut;
use common::dlr::DlrStatus;
use common::smpp::{
    command, decode, encode, status, tlv, Bind, BindResp, Body, Pdu, Receipt, Sm, Tlv,
    DEFAULT_MAX_PDU_LEN,
};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

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
    /// Those receipts by sequence number: a session closed before answering them sends them
    /// again on another (as SMSCs retry an unanswered deliver_sm).
    unanswered: BTreeMap<u32, Pending>,
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
        unanswered: BTreeMap::new(),
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
        // Receipts not sent yet go out on another session of the same system_id, as a
        // real SMSC keeps them for the account, not for the connection.
        forward_rx.close();
        while let Ok(p) = forward_rx.try_recv() {
            s.pending.push_back(p);
        }
        let unanswered = std::mem::take(&mut s.unanswered).into_values();
        smsc.adopt(
            &b.system_id,
            unanswered.chain(std::mem::take(&mut s.pending)),
        );
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
                self.unanswered.remove(&pdu.sequence);
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
            let kept = p.clone();
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
            self.unanswered.insert(seq, kept);
            self.awaiting += 1;
            self.smsc.counters.receipts.fetch_add(1, Relaxed);
        }
    }
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

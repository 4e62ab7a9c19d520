//! The UCP/EMI SMSC simulator behind `emgucpsmsc`: no installable UCP SMSC exists, so this is
//! the far end for outgoing UCP connectors, proven against Kannel's EMI client.
//!
//! It accepts session management (60) with the configured account or any, answers submits
//! (51, and 01 / 30) with a positive result whose SM is `AdC:SCTS` (SCTS from a clock that
//! moves one second per message, so (AdC, SCTS) names exactly one message), and when a
//! submit asks for notification (NRq 1) sends a delivery notification (53) after a delay on
//! a session of the same account, kept for the next one if none is up. It can send MO
//! messages (52) and alerts (31) of its own, refuse an evenly spread share of submits with a
//! chosen EC, refuse logins, and write every frame it reads or writes to a trace file (for
//! the tshark oracle). Bad frames get the NACK the codec names. One tokio task per session.

use anyhow::Context;
use bytes::BytesMut;
use chrono::{Duration as Days, NaiveDateTime, Utc};
use common::ucp::{
    decode, xser, Alert, Body, Content, ErrorCode, Frame, Kind, Sm, DEFAULT_MAX_FRAME_LEN,
};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Dst of the notifications sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    Buffered,
    NotDelivered,
}

impl Delivery {
    fn dst(self) -> u8 {
        self as u8
    }
    fn words(self) -> &'static str {
        match self {
            Delivery::Delivered => "delivered",
            Delivery::Buffered => "buffered",
            Delivery::NotDelivered => "not delivered",
        }
    }
    /// The NT bit that asks for this kind of notification.
    fn nt_bit(self) -> u8 {
        match self {
            Delivery::Delivered => 1,
            Delivery::NotDelivered => 2,
            Delivery::Buffered => 4,
        }
    }
}

impl std::str::FromStr for Delivery {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Delivery> {
        match s {
            "delivered" | "0" => Ok(Delivery::Delivered),
            "buffered" | "1" => Ok(Delivery::Buffered),
            "not-delivered" | "2" => Ok(Delivery::NotDelivered),
            _ => {
                anyhow::bail!("unknown delivery status {s:?} (delivered, buffered, not-delivered)")
            }
        }
    }
}

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct Options {
    /// Accept only this account (OAdC of 60) and password; `None`: anyone, login optional.
    pub credentials: Option<(String, String)>,
    /// Delay between a submit and its notification.
    pub notify_delay: Duration,
    pub notify_status: Delivery,
    /// Rsn of the notifications (000 none).
    pub notify_reason: u16,
    /// Share of submits refused with `fail_ec`, spread evenly (0.0 .. 1.0).
    pub fail_share: f64,
    pub fail_ec: ErrorCode,
    /// MO messages (52) sent on each session once it is logged in (or opened, without
    /// credentials), `mo_interval` apart.
    pub mo_count: u32,
    pub mo_interval: Duration,
    pub mo_from: String,
    pub mo_to: String,
    pub mo_text: String,
    /// Send an alert (31) this often.
    pub alert_interval: Option<Duration>,
    /// Most operations of ours (52, 53, 31) outstanding on one session.
    pub window: usize,
    /// Append every frame read and written here, one line each: `R <hex>` / `W <hex>`.
    pub trace: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            credentials: None,
            notify_delay: Duration::from_millis(100),
            notify_status: Delivery::Delivered,
            notify_reason: 0,
            fail_share: 0.0,
            fail_ec: ErrorCode::SYNTAX,
            mo_count: 0,
            mo_interval: Duration::from_millis(100),
            mo_from: "46700000001".into(),
            mo_to: "4242".into(),
            mo_text: "MO from emgucpsmsc".into(),
            alert_interval: None,
            window: 20,
            trace: None,
        }
    }
}

/// Running totals, shared by every session.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stats {
    pub sessions: u64,
    pub logins: u64,
    pub logins_refused: u64,
    pub submits: u64,
    pub accepted: u64,
    pub refused: u64,
    pub notifications: u64,
    pub notifications_acked: u64,
    pub mo_sent: u64,
    pub mo_acked: u64,
    pub alerts_sent: u64,
    pub alerts_acked: u64,
    pub alerts_received: u64,
    pub bad_frames: u64,
    pub nacks_received: u64,
}

impl Stats {
    pub fn line(&self) -> String {
        format!(
            "{} sessions, {} logins ({} refused), {} submits ({} accepted, {} refused), \
             {} notifications ({} acked), {} MO ({} acked), {} alerts ({} acked), {} bad frames, \
             {} negative results",
            self.sessions,
            self.logins,
            self.logins_refused,
            self.submits,
            self.accepted,
            self.refused,
            self.notifications,
            self.notifications_acked,
            self.mo_sent,
            self.mo_acked,
            self.alerts_sent,
            self.alerts_acked,
            self.bad_frames,
            self.nacks_received
        )
    }
}

/// A notification waiting for its time and a session of its account.
struct Pending {
    due: Instant,
    account: String,
    sm: Box<Sm>,
}

/// The simulator: options, counters, pending notifications, the SCTS clock.
pub struct UcpSmsc {
    opts: Options,
    stats: Mutex<Stats>,
    pending: Mutex<VecDeque<Pending>>,
    messages: AtomicU64,
    clock_start: NaiveDateTime,
    trace: Option<Mutex<std::fs::File>>,
}

impl UcpSmsc {
    pub fn new(opts: Options) -> anyhow::Result<Arc<UcpSmsc>> {
        let trace = match &opts.trace {
            Some(p) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| format!("cannot open the trace file {}", p.display()))?,
            )),
            None => None,
        };
        Ok(Arc::new(UcpSmsc {
            opts,
            stats: Mutex::new(Stats::default()),
            pending: Mutex::new(VecDeque::new()),
            messages: AtomicU64::new(0),
            clock_start: Utc::now().naive_utc(),
            trace,
        }))
    }

    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap().clone()
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.stats.lock().unwrap());
    }

    fn trace(&self, dir: char, bytes: &[u8]) {
        if let Some(t) = &self.trace {
            let _ = writeln!(t.lock().unwrap(), "{dir} {}", common::hex::to_hex(bytes));
        }
    }

    /// The next message's SCTS (DDMMYYhhmmss): one second per message from the start.
    fn next_scts(&self) -> String {
        let n = self.messages.fetch_add(1, Relaxed) as i64;
        (self.clock_start + Days::seconds(n))
            .format("%d%m%y%H%M%S")
            .to_string()
    }

    /// Whether the n-th submit is refused: an even spread of `fail_share`.
    fn refuse(&self, n: u64) -> bool {
        let share = self.opts.fail_share;
        share > 0.0 && ((n + 1) as f64 * share).floor() > (n as f64 * share).floor()
    }
}

/// Accepts sessions until `stop` turns true, then waits for them.
pub async fn serve(listener: TcpListener, smsc: Arc<UcpSmsc>, mut stop: watch::Receiver<bool>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    let _ = socket.set_nodelay(true);
                    sessions.spawn(Session::new(smsc.clone(), socket, stop.clone()).run());
                }
                Err(e) => eprintln!("emgucpsmsc: accept failed: {e}"),
            },
            _ = stop.changed() => break,
        }
    }
    while sessions.join_next().await.is_some() {}
}

/// What an operation of ours that is outstanding was.
enum Ours {
    Notification(Pending),
    /// An MO message, sent at this moment.
    Mo(Instant),
    Alert,
}

/// An MO message unanswered this long is sent again, as an SMSC retries a delivery.
const MO_ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// After a negative result, an MO message is offered again this much later.
const MO_RETRY_AFTER_NACK: Duration = Duration::from_secs(1);

struct Session {
    smsc: Arc<UcpSmsc>,
    socket: TcpStream,
    stop: watch::Receiver<bool>,
    /// The account once logged in (or "" when no credentials are configured).
    account: Option<String>,
    out: BytesMut,
    trn: u8,
    outstanding: HashMap<u8, Ours>,
    mo_left: u32,
    next_mo: Instant,
    next_alert: Option<Instant>,
}

impl Session {
    fn new(smsc: Arc<UcpSmsc>, socket: TcpStream, stop: watch::Receiver<bool>) -> Session {
        let open = smsc.opts.credentials.is_none().then(String::new);
        let mo_left = if open.is_some() {
            smsc.opts.mo_count
        } else {
            0
        };
        let next_alert = smsc.opts.alert_interval.map(|d| Instant::now() + d);
        smsc.count(|s| s.sessions += 1);
        Session {
            smsc,
            socket,
            stop,
            account: open,
            out: BytesMut::new(),
            trn: 0,
            outstanding: HashMap::new(),
            mo_left,
            next_mo: Instant::now(),
            next_alert,
        }
    }

    async fn run(mut self) {
        let mut buf = BytesMut::with_capacity(8192);
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        loop {
            tokio::select! {
                n = self.socket.read_buf(&mut buf) => match n {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if !self.take_frames(&mut buf) {
                            break;
                        }
                    }
                },
                _ = tick.tick() => self.originate(),
                _ = self.stop.changed() => break,
            }
            if !self.out.is_empty() {
                if self.socket.write_all(&self.out).await.is_err() {
                    break;
                }
                self.out.clear();
            }
        }
        // Notifications the client never acknowledged go back for its next session.
        let mut pending = self.smsc.pending.lock().unwrap();
        for (_, ours) in self.outstanding.drain() {
            if let Ours::Notification(p) = ours {
                pending.push_front(p);
            }
        }
    }

    /// Decodes every whole frame in `buf`; false when the session must close.
    fn take_frames(&mut self, buf: &mut BytesMut) -> bool {
        loop {
            let before = buf.clone();
            match decode(buf, DEFAULT_MAX_FRAME_LEN) {
                Ok(None) => return true,
                Ok(Some(f)) => {
                    self.smsc.trace('R', &before[..before.len() - buf.len()]);
                    self.handle(f);
                }
                Err(e) => {
                    self.smsc.count(|s| s.bad_frames += 1);
                    eprintln!("emgucpsmsc: {e}");
                    if e.is_fatal() {
                        return false;
                    }
                    if let Some(nack) = e.nack() {
                        self.write(&nack);
                    }
                }
            }
        }
    }

    fn write(&mut self, f: &Frame) {
        match f.to_bytes() {
            Ok(b) => {
                self.smsc.trace('W', &b);
                self.out.extend_from_slice(&b);
            }
            Err(e) => eprintln!("emgucpsmsc: cannot encode {f:?}: {e}"),
        }
    }

    fn handle(&mut self, f: Frame) {
        match f.kind() {
            Kind::Result => self.result(f),
            Kind::Operation => {
                let answer = self.operation(&f);
                self.write(&answer);
            }
        }
    }

    fn result(&mut self, f: Frame) {
        let Some(ours) = self.outstanding.remove(&f.trn) else {
            eprintln!("emgucpsmsc: result for trn {:02} we did not send", f.trn);
            return;
        };
        let positive = matches!(f.body, Body::Ack(_));
        if !positive {
            self.smsc.count(|s| s.nacks_received += 1);
        }
        self.smsc.count(|s| match ours {
            Ours::Notification(_) if positive => s.notifications_acked += 1,
            Ours::Mo(_) if positive => s.mo_acked += 1,
            Ours::Alert if positive => s.alerts_acked += 1,
            _ => {}
        });
        if let (Ours::Mo(_), false) = (&ours, positive) {
            // Refused for now (a client whose own queue is not ready): offer it again.
            self.mo_left += 1;
            self.next_mo = Instant::now() + MO_RETRY_AFTER_NACK;
        }
    }

    fn operation(&mut self, f: &Frame) -> Frame {
        match &f.body {
            Body::Session(s) if f.ot == 60 => {
                let ok = match &self.smsc.opts.credentials {
                    None => true,
                    Some((user, password)) => s.oadc == *user && s.pwd == password.as_bytes(),
                };
                if !ok || s.styp != Some(1) {
                    self.smsc.count(|st| st.logins_refused += 1);
                    return f.nack(ErrorCode::AUTHENTICATION_FAILURE, "");
                }
                self.smsc.count(|st| st.logins += 1);
                if self.account.is_none() {
                    self.mo_left = self.smsc.opts.mo_count;
                }
                self.account = Some(s.oadc.clone());
                f.ack("", "")
            }
            Body::Alert(_) => {
                self.smsc.count(|s| s.alerts_received += 1);
                f.ack("", "0000")
            }
            _ if self.account.is_none() => {
                f.nack(ErrorCode::AUTHENTICATION_FAILURE, "log in first")
            }
            Body::Sm(sm) if f.ot == 51 => self.submit(f, sm),
            Body::CallInput(c) => self.accept_plain(f, &c.adc),
            Body::Transfer(t) => self.accept_plain(f, &t.adc),
            _ => f.nack(ErrorCode::OPERATION_NOT_SUPPORTED, ""),
        }
    }

    /// Counts a submit and decides: the SCTS it gets, or the EC and text of its refusal.
    fn take_submit(&mut self, adc: &str) -> Result<String, (ErrorCode, &'static str)> {
        let n = {
            let mut s = self.smsc.stats.lock().unwrap();
            s.submits += 1;
            s.submits - 1
        };
        if adc.is_empty() || !adc.bytes().all(|b| b.is_ascii_digit()) {
            self.smsc.count(|s| s.refused += 1);
            return Err((ErrorCode::ADC_INVALID, ""));
        }
        if self.smsc.refuse(n) {
            self.smsc.count(|s| s.refused += 1);
            return Err((self.smsc.opts.fail_ec, "refused by emgucpsmsc"));
        }
        self.smsc.count(|s| s.accepted += 1);
        Ok(self.smsc.next_scts())
    }

    fn accept_plain(&mut self, f: &Frame, adc: &str) -> Frame {
        match self.take_submit(adc) {
            Ok(scts) => f.ack("", format!("{adc}:{scts}")),
            Err((ec, text)) => f.nack(ec, text),
        }
    }

    fn submit(&mut self, f: &Frame, sm: &Sm) -> Frame {
        let scts = match self.take_submit(&sm.adc) {
            Ok(scts) => scts,
            Err((ec, text)) => return f.nack(ec, text),
        };
        let status = self.smsc.opts.notify_status;
        // NT: 1 delivered, 2 not delivered, 4 buffered; absent means the SMSC's default (3).
        let wanted = sm.nt.unwrap_or(3) & status.nt_bit() != 0;
        if sm.nrq == Some(true) && wanted {
            let notification = self.notification(sm, &scts, status);
            self.smsc.pending.lock().unwrap().push_back(Pending {
                due: Instant::now() + self.smsc.opts.notify_delay,
                account: self.account.clone().unwrap_or_default(),
                sm: Box::new(notification),
            });
        }
        f.ack("", format!("{}:{scts}", sm.adc))
    }

    /// The 53 for a message: AdC the one notified (NAdC, else the originator), OAdC the
    /// message's recipient, SCTS its identity, and the spec's sentence as text.
    fn notification(&self, sm: &Sm, scts: &str, status: Delivery) -> Sm {
        let now = Utc::now().naive_utc();
        let dscts = now.format("%d%m%y%H%M%S").to_string();
        // The sentence names the message by its SCTS written YYMMDDhhmmss.
        let id = format!(
            "{}{}{}{}",
            &scts[4..6],
            &scts[2..4],
            &scts[0..2],
            &scts[6..]
        );
        let text = format!(
            "Message for {}, with identification {id} has been {} on {} at {}",
            sm.adc,
            status.words(),
            now.format("%Y-%m-%d"),
            now.format("%H:%M:%S")
        );
        Sm {
            adc: if sm.nadc.is_empty() {
                sm.originator()
            } else {
                sm.nadc.clone()
            },
            oadc: sm.adc.clone(),
            scts: scts.to_string(),
            dst: Some(status.dst()),
            rsn: Some(self.smsc.opts.notify_reason),
            dscts,
            content: Content::from_text(&text).expect("ASCII"),
            ..Sm::default()
        }
    }

    /// Sends what is due: notifications for this account, MO messages, alerts.
    fn originate(&mut self) {
        let Some(account) = self.account.clone() else {
            return;
        };
        let now = Instant::now();
        while self.outstanding.len() < self.smsc.opts.window {
            let due = {
                let mut pending = self.smsc.pending.lock().unwrap();
                let at = pending
                    .iter()
                    .position(|p| p.due <= now && p.account == account);
                at.and_then(|i| pending.remove(i))
            };
            let Some(p) = due else { break };
            let f = Frame {
                trn: self.next_trn(),
                ot: 53,
                body: Body::Sm(p.sm.clone()),
            };
            self.smsc.count(|s| s.notifications += 1);
            self.outstanding.insert(f.trn, Ours::Notification(p));
            self.write(&f);
        }
        let unanswered: Vec<u8> = self
            .outstanding
            .iter()
            .filter(
                |(_, o)| matches!(o, Ours::Mo(at) if now.duration_since(*at) > MO_ANSWER_TIMEOUT),
            )
            .map(|(trn, _)| *trn)
            .collect();
        for trn in unanswered {
            self.outstanding.remove(&trn);
            self.mo_left += 1;
        }
        if self.mo_left > 0 && now >= self.next_mo && self.outstanding.len() < self.smsc.opts.window
        {
            let smsc = self.smsc.clone();
            let o = &smsc.opts;
            let mut sm = Sm {
                adc: o.mo_to.clone(),
                oadc: o.mo_from.clone(),
                scts: smsc.next_scts(),
                content: Content::from_text(&o.mo_text).unwrap_or(Content::None),
                ..Sm::default()
            };
            sm.xser.set(xser::DCS, vec![0]);
            let f = Frame {
                trn: self.next_trn(),
                ot: 52,
                body: Body::Sm(Box::new(sm)),
            };
            self.mo_left -= 1;
            self.next_mo = now + o.mo_interval;
            self.smsc.count(|s| s.mo_sent += 1);
            self.outstanding.insert(f.trn, Ours::Mo(now));
            self.write(&f);
        }
        if let (Some(at), Some(every)) = (self.next_alert, self.smsc.opts.alert_interval) {
            if now >= at && self.outstanding.len() < self.smsc.opts.window {
                let f = Frame {
                    trn: self.next_trn(),
                    ot: 31,
                    body: Body::Alert(Alert {
                        adc: account,
                        pid: Some(539),
                        extra: vec![],
                    }),
                };
                self.next_alert = Some(now + every);
                self.smsc.count(|s| s.alerts_sent += 1);
                self.outstanding.insert(f.trn, Ours::Alert);
                self.write(&f);
            }
        }
    }

    /// A TRN not outstanding (the window is below 100, so one is free).
    fn next_trn(&mut self) -> u8 {
        loop {
            let t = self.trn;
            self.trn = common::ucp::next_trn(t);
            if !self.outstanding.contains_key(&t) {
                return t;
            }
        }
    }
}

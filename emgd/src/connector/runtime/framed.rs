//! Sessions of windowed request/response protocols over a byte stream: SMPP now, UCP/EMI and
//! CIMD2 next. One task per session runs [`run`]; the protocol supplies its sans-io codec
//! ([`Codec`], wrapping the one in `common`) and a [`Driver`] that knows what its frames mean.
//!
//! The runtime owns the loop: reading and decoding, one write per wake-up with everything
//! ready, the window of outstanding requests and their sequence numbers ([`Window`]), the
//! login (outgoing) with its timeout, the keepalive request after `keepalive` seconds without
//! traffic and its deadline, response timeouts, `idletimeout`, the messages this session sends
//! ([`Outbox`]: queue, OUT pipeline, `throughput`, outcomes), and closing: on shutdown,
//! force-close or idle timeout it stops taking messages, waits for the answers in flight,
//! logs out and disconnects; whatever has no answer goes back to the queue.
//!
//! The driver turns messages into requests and answers into outcomes, answers the peer's
//! requests (handing work that needs the gateway, such as storing a submit, to [`Ctl::spawn`]:
//! its response goes out when that work is done), and says when the peer logged in.
//!
//! Over 600 lines: the session loop and its timers (login, keepalive, idle, response,
//! `frame_timeout`) share the one `Session` state, and splitting the loop would scatter it; closing is in
//! `framed/closing.rs`, the window, outbox and timers in files of their own.

use super::driver::{Codec, Ctl, Dir, Driver, Flow, Frame, Kind, Login, LoginRefused, Writer};
use super::link::Link;
use super::outbox::{first_staged, Outbox, Taker};
use super::slots::Claim;
use super::state::{ConnState, SessionInfo};
use super::timer::{Due, Timer};
use super::window::Window;
use crate::gateway::stopped;
use bytes::BytesMut;
use common::message::{Message, MessageId};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How long the peer may take to answer our login.
pub const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long closing waits for the answers in flight and the logout's response.
pub const CLOSE_WAIT: Duration = Duration::from_secs(5);
/// A keepalive request unanswered for this long (or `keepalive`, if longer) means the link is
/// dead.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which end of the session we are.
mod closing;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// We connected and log in; we submit.
    Outgoing,
    /// The peer connected and logs in; we deliver to it.
    Incoming,
}

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    IdleTimeout,
    /// The session took as many messages as [`Driver::session_messages`] allows.
    MessageLimit,
    Shutdown,
    ForceClose,
    /// The peer refused our login.
    LoginRefused(LoginRefused),
    /// The link went away or could not go on (the reason is logged).
    Closed(String),
}

impl End {
    fn reason(&self) -> &str {
        match self {
            End::IdleTimeout => "idle timeout",
            End::MessageLimit => "messages per session reached",
            End::Shutdown => "shutdown",
            End::ForceClose => "force close",
            End::LoginRefused(r) => &r.info,
            End::Closed(why) => why,
        }
    }
}

/// What a request we sent was.
#[derive(Debug, Clone, Copy)]
enum Sent {
    Login,
    Keepalive,
    Poll,
    Logout,
    Part(MessageId, usize),
}

struct Session<D: Driver, S> {
    link: Link,
    side: Side,
    driver: D,
    stream: S,
    rbuf: BytesMut,
    writer: Writer<D::Codec>,
    window: Window<Sent>,
    /// Message requests in the window (the rest are login, keepalive, logout).
    parts_waiting: usize,
    outbox: Outbox<D::Part>,
    work: JoinSet<Option<Frame<D>>>,
    bound: bool,
    transmit: bool,
    /// When the keepalive request in flight left.
    enquiry: Option<Instant>,
    /// When the last polling request left (drivers with [`Driver::POLL`]).
    last_poll: Instant,
    /// Last message traffic (idle timeout).
    last_traffic: Instant,
    /// Set when we decided to close: the reason and how long answers may still take.
    closing: Option<(End, Instant)>,
    logout_sent: bool,
    /// Incoming: the instance this session takes once its peer logs in.
    claim: Claim,
    /// Incoming: the peer must have logged in by then (`bind_timeout`).
    login_by: Option<Instant>,
    /// When the first byte of the frame not yet whole in `rbuf` came (`frame_timeout`).
    partial_since: Option<Instant>,
    /// Messages taken from the queue, and how many the driver allows per session.
    taken: u32,
    limit: Option<u32>,
}

/// Run one session on `stream` until it ends. An outgoing session logs in first and may bring
/// the message that woke it (`first`). The instance's state is CONNECTED on entry; it is BOUND
/// once logged in and TERMINATING while closing; the caller sets what follows.
pub async fn run<D, S>(
    link: Link,
    stream: S,
    codec: D::Codec,
    driver: D,
    side: Side,
    first: Option<Message>,
) -> End
where
    D: Driver,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    run_claiming(link, stream, codec, driver, side, first, Claim::fixed()).await
}

/// Run an incoming session whose peer has not logged in yet: `link` names no instance
/// ([`crate::logs::NO_INSTANCE`]) until the login takes one of `claim`'s; a peer that does
/// not log in within `bind_timeout` seconds is disconnected, and one that logs in while every
/// instance is busy is refused (the driver asks first, through [`Ctl::claim_instance`]).
pub async fn run_incoming<D, S>(
    link: Link,
    stream: S,
    codec: D::Codec,
    driver: D,
    claim: Claim,
) -> End
where
    D: Driver,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    run_claiming(link, stream, codec, driver, Side::Incoming, None, claim).await
}

async fn run_claiming<D, S>(
    link: Link,
    stream: S,
    codec: D::Codec,
    driver: D,
    side: Side,
    first: Option<Message>,
    claim: Claim,
) -> End
where
    D: Driver,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let login_by = (side == Side::Incoming)
        .then(|| Instant::now() + Duration::from_secs(link.config().bind_timeout));
    let taker = match side {
        Side::Outgoing => Taker::Instance(link.instance),
        Side::Incoming => Taker::User(None),
    };
    let limit = driver.session_messages(&link.config()).filter(|&n| n > 0);
    let s = Session {
        outbox: Outbox::new(link.clone(), taker, side == Side::Outgoing),
        link,
        side,
        driver,
        stream,
        rbuf: BytesMut::with_capacity(8192),
        writer: Writer {
            codec,
            out: BytesMut::with_capacity(4096),
            last_io: Instant::now(),
        },
        window: Window::new(D::SEQUENCES),
        parts_waiting: 0,
        work: JoinSet::new(),
        bound: false,
        transmit: false,
        enquiry: None,
        last_poll: Instant::now(),
        last_traffic: Instant::now(),
        closing: None,
        logout_sent: false,
        claim,
        login_by,
        partial_since: None,
        taken: 0,
        limit,
    };
    s.run(first).await
}

impl<D, S> Session<D, S>
where
    D: Driver,
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    async fn run(mut self, first: Option<Message>) -> End {
        let mut shutdown = self.link.shutdown_signal();
        if let Some(m) = first {
            self.taken += 1;
            let ready = self.outbox.stage(vec![m]);
            self.plan(&self.link.config(), ready);
        }
        if self.side == Side::Outgoing {
            let cfg = self.link.config();
            let seq = self.window.next_seq().unwrap_or(D::SEQUENCES.first);
            match self.driver.login(&cfg, seq) {
                Some(login) => {
                    self.writer.write(&self.link, &login);
                    self.window.sent(seq, Sent::Login);
                }
                None => {
                    // Outgoing: its instance is its own, so this cannot be refused.
                    let _ = self.logged_in(Login {
                        peer: cfg.address.clone(),
                        bind: None,
                        user: cfg.username.clone(),
                        info: "0".into(),
                        transmit: true,
                        queue_user: None,
                    });
                }
            }
        }
        let mut forceclose = self.link.connector.watch_forceclose();
        let mut timer = Timer::new();
        let end = loop {
            // Everything ready since the last wake-up leaves in one write.
            if !self.writer.out.is_empty() {
                if let Err(e) = self.stream.write_all(&self.writer.out).await {
                    tracing::debug!("connector {}: write error: {e}", self.link.name());
                    break End::Closed("write error".into());
                }
                self.writer.out.clear();
            }
            let cfg = self.link.config();
            let window = cfg.windowsize.max(1) as usize;
            let transmit = self.bound && self.transmit && cfg.mode != config::Mode::ReceiveOnly;
            // Take more from the queue once the last batch is written; parts are paced and
            // windowed one by one in `pump`.
            let allowed = self
                .limit
                .map_or(usize::MAX, |l| l.saturating_sub(self.taken) as usize);
            let can_take = transmit
                && allowed > 0
                && self.closing.is_none()
                && !self.outbox.has_backlog()
                && self.parts_waiting + self.outbox.staged() < window;
            // `throughput` (outgoing): wake when the pacer lets the next part out.
            let pace_wait = if self.side == Side::Outgoing
                && self.bound
                && self.outbox.has_backlog()
                && self.parts_waiting < window
            {
                self.link.connector.pace_wait().max(self.driver.send_wait())
            } else {
                Duration::ZERO
            };
            let due = Due {
                keepalive_at: cfg
                    .keepalive
                    .map(|k| self.writer.last_io + Duration::from_secs(k))
                    .filter(|_| self.bound && self.enquiry.is_none() && self.closing.is_none()),
                keepalive_deadline: self.enquiry.map(|at| {
                    at + cfg.keepalive.map_or(KEEPALIVE_TIMEOUT, |k| {
                        Duration::from_secs(k).max(KEEPALIVE_TIMEOUT)
                    })
                }),
                idle_at: cfg
                    .idletimeout
                    .map(|i| self.last_traffic + Duration::from_secs(i))
                    .filter(|_| self.bound && self.closing.is_none() && self.parts_waiting == 0),
                answer_by: self.window.oldest().map(|at| {
                    at + if self.bound {
                        D::RESPONSE_TIMEOUT
                    } else {
                        LOGIN_TIMEOUT
                    }
                }),
                poll_at: D::POLL
                    .map(|p| self.last_poll + p)
                    .filter(|_| self.bound && self.closing.is_none()),
                closing_at: self.closing.as_ref().map(|c| c.1),
                login_by: self.login_by.filter(|_| !self.bound),
                frame_by: self
                    .partial_since
                    .map(|at| at + Duration::from_secs(cfg.frame_timeout)),
            };
            let timed = timer.arm(due.next());
            tokio::select! {
                read = self.stream.read_buf(&mut self.rbuf) => {
                    match read {
                        Ok(0) => break End::Closed("closed by peer".into()),
                        Err(e) => {
                            tracing::debug!("connector {}: read error: {e}", self.link.name());
                            break End::Closed("read error".into());
                        }
                        Ok(_) => {}
                    }
                    let buffered = self.rbuf.len();
                    if let Some(end) = self.read_frames() {
                        let _ = self.stream.write_all(&self.writer.out).await;
                        self.writer.out.clear();
                        break end;
                    }
                    // A frame taken off restarts the clock for the one begun after it.
                    self.partial_since = match (self.rbuf.len(), self.partial_since) {
                        (0, _) => None,
                        (left, Some(at)) if left == buffered => Some(at),
                        _ => Some(Instant::now()),
                    };
                }
                Some(done) = self.work.join_next(), if !self.work.is_empty() => {
                    if let Ok(Some(frame)) = done { self.writer.write(&self.link, &frame); }
                    // Every answer already done goes out in the same write.
                    while let Some(done) = self.work.try_join_next() {
                        if let Ok(Some(frame)) = done { self.writer.write(&self.link, &frame); }
                    }
                }
                message = self.outbox.takes.next(), if can_take => {
                    let room = (window - self.parts_waiting - self.outbox.staged()).min(allowed);
                    let mut batch = vec![message];
                    batch.extend(self.outbox.takes.more(room.saturating_sub(1)));
                    self.taken += batch.len() as u32;
                    let ready = self.outbox.stage(batch);
                    self.plan(&cfg, ready);
                }
                staged = first_staged(&mut self.outbox.staging) => {
                    self.outbox.staging.pop_front();
                    let ready = self.outbox.unstage(staged);
                    self.plan(&cfg, ready);
                }
                _ = tokio::time::sleep(pace_wait), if !pace_wait.is_zero() => {}
                _ = &mut timer.sleep, if timed => {
                    timer.fired();
                    if let Some(end) = self.on_time(&due) {
                        break end;
                    }
                }
                _ = stopped(&mut shutdown), if self.closing.is_none() => {
                    self.begin_close(End::Shutdown);
                }
                _ = async { let _ = forceclose.wait_for(|on| *on).await; }, if self.closing.is_none() => {
                    self.begin_close(End::ForceClose);
                }
            }
            self.pump(window);
            if self.closing.is_none() && self.limit.is_some_and(|l| self.taken >= l) {
                self.begin_close(End::MessageLimit);
            }
            if let Some(end) = self.close_when_drained() {
                break end;
            }
        };
        let end = match end {
            // An outgoing session that never logged in failed to: the retry scheme decides.
            End::Closed(why) if self.side == Side::Outgoing && !self.bound => {
                let cfg = self.link.config();
                self.link.log(format!("LOGIN ERR (info=\"{why}\")"));
                End::LoginRefused(self.driver.login_lost(&cfg, &why))
            }
            end => end,
        };
        self.finish(end).await
    }

    /// One of the deadlines passed: act on those that did, most final first.
    fn on_time(&mut self, due: &Due) -> Option<End> {
        let now = Instant::now();
        let passed = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if passed(due.closing_at) {
            return Some(self.closing.take().map_or(End::Shutdown, |c| c.0));
        }
        if passed(due.login_by) {
            return Some(End::Closed("bind timeout".into()));
        }
        if passed(due.frame_by) {
            let why = format!(
                "frame timeout: {} octets of a frame and nothing more for {} s",
                self.rbuf.len(),
                self.link.config().frame_timeout
            );
            self.link.log(format!("PDU ERR (info=\"{why}\")"));
            return Some(End::Closed(why));
        }
        if passed(due.answer_by) {
            if !self.bound {
                return Some(End::Closed("bind timeout".into()));
            }
            return Some(End::Closed(format!(
                "no response within {} s",
                D::RESPONSE_TIMEOUT.as_secs()
            )));
        }
        if passed(due.keepalive_deadline) {
            return Some(End::Closed(format!("{} not answered", D::KEEPALIVE)));
        }
        if passed(due.idle_at) {
            self.begin_close(End::IdleTimeout);
        }
        if passed(due.keepalive_at) {
            if let Some(seq) = self.window.next_seq() {
                let ping = self.driver.keepalive(seq);
                self.writer.write(&self.link, &ping);
                self.window.sent(seq, Sent::Keepalive);
                self.enquiry = Some(now);
            }
        }
        if passed(due.poll_at) {
            self.last_poll = now;
            if let Some(seq) = self.window.next_seq() {
                if let Some(poll) = self.driver.poll(seq) {
                    self.writer.write(&self.link, &poll);
                    self.window.sent(seq, Sent::Poll);
                }
            }
        }
        None
    }

    /// Decode and handle every complete frame read; `Some` when the session ends.
    fn read_frames(&mut self) -> Option<End> {
        loop {
            let frame = match self.writer.codec.decode(&mut self.rbuf) {
                Ok(None) => return None,
                Ok(Some(frame)) => frame,
                Err(bad) => {
                    self.link.log(format!("PDU ERR (info=\"{}\")", bad.info));
                    if let Some(reply) = bad.reply {
                        self.writer.write(&self.link, &reply);
                    }
                    if bad.fatal {
                        return Some(End::Closed(bad.info));
                    }
                    continue;
                }
            };
            let link = &self.link;
            link.log_pdu(|| self.writer.codec.log_line(Dir::Read, &frame));
            self.writer.last_io = Instant::now();
            let end = match self.driver.kind(&frame) {
                Kind::Response(seq) => self.response(seq, frame),
                Kind::Request => self.request(frame),
            };
            if end.is_some() {
                return end;
            }
        }
    }

    fn response(&mut self, seq: u32, frame: Frame<D>) -> Option<End> {
        let (sent, at) = self.window.answered(seq)?;
        match sent {
            Sent::Login => {
                let cfg = self.link.config();
                match self.driver.logged_in(&cfg, frame) {
                    Ok(login) => return self.logged_in(login),
                    Err(refused) => {
                        self.link
                            .log(format!("LOGIN ERR (info=\"{}\")", refused.info));
                        return Some(End::LoginRefused(refused));
                    }
                }
            }
            Sent::Keepalive => self.enquiry = None,
            Sent::Poll => {
                let mut login = None;
                let mut ctl = Ctl {
                    link: &self.link,
                    writer: &mut self.writer,
                    work: &mut self.work,
                    login: &mut login,
                    traffic: false,
                    bound: self.bound,
                    claim: &mut self.claim,
                };
                let flow = self.driver.polled(frame, &mut ctl);
                if ctl.traffic {
                    self.last_traffic = Instant::now();
                }
                if let Flow::Close(why) = flow {
                    return Some(self.closing_or(why));
                }
            }
            Sent::Logout => return Some(self.closing_or("logged out")),
            Sent::Part(id, index) => {
                self.parts_waiting -= 1;
                self.last_traffic = Instant::now();
                if self.side == Side::Outgoing {
                    crate::metrics::global().submit_response(self.link.name(), at.elapsed());
                }
                let answer = self.driver.answer(&frame);
                if let Some(note) = self.driver.take_note() {
                    self.link.log(note);
                }
                self.outbox.answered(id, index, answer);
            }
        }
        None
    }

    fn request(&mut self, frame: Frame<D>) -> Option<End> {
        let mut login = None;
        let mut ctl = Ctl {
            link: &self.link,
            writer: &mut self.writer,
            work: &mut self.work,
            login: &mut login,
            traffic: false,
            bound: self.bound,
            claim: &mut self.claim,
        };
        let flow = self.driver.on_request(frame, &mut ctl);
        if ctl.traffic {
            self.last_traffic = Instant::now();
        }
        if let Some(login) = login {
            if let Some(end) = self.logged_in(login) {
                return Some(end);
            }
        }
        match flow {
            Flow::Continue => None,
            Flow::Close(why) => Some(self.closing_or(why)),
        }
    }

    /// The peer logged in (or, outgoing, accepted our login). An incoming session takes its
    /// instance now; `Some` when none is free (a driver that asked [`Ctl::claim_instance`]
    /// first has refused the login itself).
    fn logged_in(&mut self, login: Login) -> Option<End> {
        // `claim` is a no-op for a session whose instance is fixed (outgoing) or taken.
        if self.side == Side::Incoming && !self.claim.claim() {
            let busy = format!("all {} instances busy", self.claim.count());
            self.link.log(format!("LOGIN ERR (info=\"{busy}\")"));
            return Some(End::Closed(busy));
        }
        if let Some(instance) = self.claim.instance().filter(|i| *i != self.link.instance) {
            self.link = Link::new(self.link.gw.clone(), self.link.connector.clone(), instance);
            self.outbox = Outbox::new(self.link.clone(), Taker::User(None), false);
            self.link.set_state(ConnState::Connected);
        }
        self.link.log(format!("LOGIN OK (info=\"{}\")", login.info));
        self.link.bound(SessionInfo {
            instance: self.link.instance,
            peer: login.peer,
            bind: login.bind,
            user: login.user,
            since_us: crate::clock::now_us(),
        });
        self.bound = true;
        self.transmit = login.transmit;
        if self.side == Side::Incoming {
            self.outbox.takes.by = Taker::User(login.queue_user);
        }
        None
    }

    /// Plan the messages ready to go: the OUT pipeline's copy (with the plugins' `before_send`),
    /// cut into the driver's parts.
    /// Once closing, they go back to the queue instead.
    fn plan(&mut self, cfg: &config::Connector, ready: Vec<Message>) {
        if ready.is_empty() {
            return;
        }
        self.last_traffic = Instant::now();
        for m in ready {
            if self.closing.is_some() {
                self.link.gw.unsent(&self.link.connector, m);
                continue;
            }
            let wire = match self.link.gw.outbound(&self.link.connector, &m) {
                Ok(wire) => wire,
                // A plugin's `before_send` refused it: it fails without leaving.
                Err(refusal) => {
                    self.outbox.refused(m, refusal);
                    continue;
                }
            };
            let parts = self.driver.parts(cfg, &wire);
            self.outbox.plan(m, parts);
        }
    }

    /// Write waiting parts while the window (and, outgoing, `throughput`) allow.
    fn pump(&mut self, window: usize) {
        if !self.bound {
            return;
        }
        while self.parts_waiting < window && self.outbox.has_backlog() {
            let pacing = self.side == Side::Outgoing;
            let slowed =
                !self.link.connector.pace_wait().is_zero() || !self.driver.send_wait().is_zero();
            if pacing && slowed {
                break;
            }
            let Some(seq) = self.window.next_seq() else {
                break;
            };
            let Some((id, index, part)) = self.outbox.next_part() else {
                break;
            };
            if pacing {
                self.link.connector.pace_take();
            }
            let frame = self.driver.request(part, seq);
            self.writer.write(&self.link, &frame);
            self.window.sent(seq, Sent::Part(id, index));
            self.parts_waiting += 1;
            self.last_traffic = Instant::now();
        }
    }
}

//! The contract of a windowed protocol's driver with the session runtime ([`super::framed`]):
//! its frames ([`Codec`], sans-io, wrapping the codec in `common`), what they mean
//! ([`Driver`]), and what a driver may do while it answers a request of the peer's ([`Ctl`]).

use super::link::Link;
use super::outbox::Answer;
use super::window::SeqSpace;
use bytes::BytesMut;
use common::message::Message;
use std::future::Future;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Which way a frame went, for the PDU log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Read,
    Write,
}

/// A protocol's frames on the wire (sans-io: the codec in `common` does the work).
pub trait Codec: Send + 'static {
    type Frame: Send + 'static;
    /// The first complete frame in `buf`, taken off it; `Ok(None)` until one is complete.
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Self::Frame>, BadFrame<Self::Frame>>;
    fn encode(&mut self, frame: &Self::Frame, out: &mut BytesMut);
    /// The frame's PDU log line (after the timestamp and `(connector,instance)`).
    fn log_line(&self, dir: Dir, frame: &Self::Frame) -> String;
}

/// A frame that could not be read: logged as `PDU ERR (info="...")`, answered with `reply`
/// when the protocol has an answer for it, and fatal when the stream cannot be trusted after it.
#[derive(Debug)]
pub struct BadFrame<F> {
    pub info: String,
    pub reply: Option<F>,
    pub fatal: bool,
}

/// What a received frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The response to our request with this sequence number. A protocol whose responses
    /// carry no number (SMTP, AT commands) answers in order: its driver remembers the numbers
    /// the runtime gave its requests and names the oldest.
    Response(u32),
    /// A request of the peer's.
    Request,
}

/// A login that succeeded.
#[derive(Debug, Clone)]
pub struct Login {
    /// Who is on the other end, for operators (MGP `connector`): the peer's address, the kind
    /// of bind, and the user that logged in (or that we logged in as).
    pub peer: Option<String>,
    pub bind: Option<String>,
    pub user: Option<String>,
    /// For the log: `LOGIN OK (info="...")`.
    pub info: String,
    /// We may send messages on this session (an SMPP receiver bind may not).
    pub transmit: bool,
    /// Incoming: the user whose messages (reports, MO) this session takes.
    pub queue_user: Option<String>,
}

/// A login the peer refused; the retry scheme's connector rule matches `command` and `error`.
#[derive(Debug, Clone)]
pub struct LoginRefused {
    pub command: u32,
    pub error: u32,
    /// For the log: `LOGIN ERR (info="...")`.
    pub info: String,
}

/// What to do after a request of the peer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The peer logged out, or the session cannot go on: disconnect, for this reason.
    Close(&'static str),
}

pub type Frame<D> = <<D as Driver>::Codec as Codec>::Frame;

/// What one windowed protocol does, for one session. The runtime calls it; it never does I/O.
pub trait Driver: Send + 'static {
    type Codec: Codec;
    /// One request that carries (a part of) a message.
    type Part: Send + 'static;
    /// The sequence numbers of our requests.
    const SEQUENCES: SeqSpace;
    /// The keepalive operation's name, for the log (`enquire_link`).
    const KEEPALIVE: &'static str;
    /// How long a request may wait for its response before the link counts as dead.
    const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

    fn kind(&self, frame: &Frame<Self>) -> Kind;

    /// Outgoing: the login request, sent once connected; `None` for a protocol without one.
    fn login(&mut self, _cfg: &config::Connector, _seq: u32) -> Option<Frame<Self>> {
        None
    }

    /// Outgoing: the peer answered our login.
    fn logged_in(
        &mut self,
        _cfg: &config::Connector,
        _answer: Frame<Self>,
    ) -> Result<Login, LoginRefused> {
        Err(LoginRefused {
            command: 0,
            error: 0,
            info: "unexpected login answer".into(),
        })
    }

    /// Outgoing: the login failed without an answer (timeout, connection closed): what the
    /// retry scheme matches on.
    fn login_lost(&mut self, _cfg: &config::Connector, why: &str) -> LoginRefused {
        LoginRefused {
            command: 0,
            error: 0,
            info: why.to_string(),
        }
    }

    /// The keepalive request (enquire_link).
    fn keepalive(&mut self, seq: u32) -> Frame<Self>;

    /// The logout request sent when closing (unbind); `None` to just disconnect.
    fn logout(&mut self, seq: u32) -> Option<Frame<Self>>;

    /// Messages one session takes from the queue before it closes, for a line that is paid
    /// for by the call (a dial-up modem pool that allows so many per call); `None`: no limit.
    fn session_messages(&self, _cfg: &config::Connector) -> Option<u32> {
        None
    }

    /// How often a bound session asks its peer for news, for a peer that never tells on its
    /// own (a GSM modem's stored messages: AT+CMGL); `None` for peers that send requests.
    const POLL: Option<Duration> = None;

    /// The polling request, every [`POLL`](Self::POLL) while bound and the window has room.
    fn poll(&mut self, _seq: u32) -> Option<Frame<Self>> {
        None
    }

    /// The answer to a polling request.
    fn polled(&mut self, _answer: Frame<Self>, _s: &mut Ctl<'_, Self::Codec>) -> Flow {
        Flow::Continue
    }

    /// The requests that carry `wire`, the OUT pipeline's copy of a message: one per part.
    fn parts(&mut self, cfg: &config::Connector, wire: &Message) -> Vec<Self::Part>;

    /// The request for one part, numbered `seq`.
    fn request(&mut self, part: Self::Part, seq: u32) -> Frame<Self>;

    /// What the response to a part's request says.
    fn answer(&mut self, response: &Frame<Self>) -> Answer;

    /// How long the next part's request must still wait because the peer asked us to slow
    /// down (SMPP 5.0 congestion_state); zero: it may go now.
    fn send_wait(&self) -> Duration {
        Duration::ZERO
    }

    /// A connector log line about what the last answer changed, if any.
    fn take_note(&mut self) -> Option<String> {
        None
    }

    /// A request of the peer's (a login, a submit, a delivery, a keepalive, a logout).
    fn on_request(&mut self, frame: Frame<Self>, s: &mut Ctl<'_, Self::Codec>) -> Flow;
}

impl PartialEq for LoginRefused {
    fn eq(&self, other: &Self) -> bool {
        (self.command, self.error) == (other.command, other.error)
    }
}

impl Eq for LoginRefused {}

/// The write side: frames are logged and encoded into one buffer, written once per wake-up.
pub(super) struct Writer<C> {
    pub(super) codec: C,
    pub(super) out: BytesMut,
    /// Last frame either way (keepalive).
    pub(super) last_io: Instant,
}

impl<C: Codec> Writer<C> {
    pub(super) fn write(&mut self, link: &Link, frame: &C::Frame) {
        link.log_pdu(|| self.codec.log_line(Dir::Write, frame));
        self.codec.encode(frame, &mut self.out);
        self.last_io = Instant::now();
    }
}

/// What a driver may do while handling a request of the peer's.
pub struct Ctl<'a, C: Codec> {
    pub link: &'a Link,
    pub(super) writer: &'a mut Writer<C>,
    pub(super) work: &'a mut JoinSet<Option<C::Frame>>,
    pub(super) login: &'a mut Option<Login>,
    pub(super) traffic: bool,
    pub(super) bound: bool,
    pub(super) claim: &'a mut super::slots::Claim,
}

impl<C: Codec> Ctl<'_, C> {
    /// Answer now.
    pub fn reply(&mut self, frame: C::Frame) {
        self.writer.write(self.link, &frame);
    }

    /// Work that needs the gateway (store a submit, match a receipt); the frame it yields is
    /// written when it is done. Every answer ready at once goes out in one write.
    pub fn spawn(&mut self, work: impl Future<Output = Option<C::Frame>> + Send + 'static) {
        // Boxed once: work that stores a message is a future of a few KB, which spawning
        // would otherwise move several times.
        self.work.spawn(Box::pin(work));
    }

    /// Incoming: the peer logged in (the driver answered it already).
    pub fn logged_in(&mut self, login: Login) {
        *self.login = Some(login);
    }

    /// Incoming: take the instance this session will show under, before answering a login
    /// that succeeds. False when every instance is busy: refuse the login then (SMPP:
    /// ESME_RBINDFAIL); a connection holds no instance until it has logged in.
    pub fn claim_instance(&mut self) -> bool {
        self.claim.claim()
    }

    /// Incoming: the peer's login was refused (the driver answered it already).
    pub fn login_refused(&mut self, info: impl std::fmt::Display) {
        self.link.log(format!("LOGIN ERR (info=\"{info}\")"));
    }

    /// The request carried a message (for `idletimeout`).
    pub fn traffic(&mut self) {
        self.traffic = true;
    }

    /// The session's codec, for a protocol whose framing changes with its state (SMTP reads
    /// lines, then a message body up to its lone dot).
    pub fn codec(&mut self) -> &mut C {
        &mut self.writer.codec
    }

    /// Whether the session is logged in.
    pub fn is_bound(&self) -> bool {
        self.bound
    }
}

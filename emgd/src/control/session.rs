//! One MGP session: newline-delimited JSON requests in (codec in `common::mgp`), one answer
//! each, in order, with the events of the streams the client opened interleaved. Stream
//! events go through a bounded channel per session: a client that reads too slowly loses
//! events (and is told how many), it never slows the server down.
//!
//! The session does the login (`login` with a password, checked against `[operator.NAME]`;
//! `login_peer` on the local socket, see [`super::peer`]) and the role check, and hands every
//! other operation to its [`Service`]: emgd's control plane, or the watchdog's.

use super::auth::{self, Limiter};
use super::peer::{self, Peer};
use super::server::OpResult;
use super::stream::{Sink, StreamTask};
use crate::connector::runtime::state::admission::Admitted;
use bytes::BytesMut;
use common::mgp::{
    decode_line, encode, ErrorBody, ErrorCode, EventFrame, Frame, LoginOk, Op, Outcome, Request,
    Response, Role, StreamRef, MAX_LINE,
};
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// The longest line before the login (a login request is far shorter); [`MAX_LINE`] after.
pub const LOGIN_LINE: usize = 16 * 1024;

/// Stream events buffered per session before they are dropped (and counted as lost).
pub const EVENT_BUFFER: usize = 1024;

/// What a session serves once logged in.
pub trait Service: Send + Sync + 'static {
    /// The accounts and local groups logins are checked against, now.
    fn config(&self) -> Arc<config::Config>;
    fn limiter(&self) -> &Limiter;
    /// Resolves (to true) when the server shuts down.
    fn shutdown_signal(&self) -> watch::Receiver<bool>;
    /// The role `op` needs, or an error for an operation this service does not offer.
    fn required_role(&self, op: &Op) -> Result<Role, ErrorBody>;
    /// Perform `op` for `user` (allowed: the role was checked).
    fn call(
        self: &Arc<Self>,
        op: Op,
        user: &str,
        streams: &mut Streams,
    ) -> impl Future<Output = OpResult> + Send;
}

/// The streams a session has open.
pub struct Streams {
    events: mpsc::Sender<EventFrame>,
    open: HashMap<u64, JoinHandle<()>>,
    next: u64,
}

impl Streams {
    /// The streams of a caller that opens none (the HTTP admin API's operations).
    pub fn none() -> Streams {
        let (events, _) = mpsc::channel(1);
        Streams {
            events,
            open: HashMap::new(),
            next: 1,
        }
    }

    /// Start `task` as a new stream; the answer names it.
    pub fn open(&mut self, task: StreamTask) -> OpResult {
        let id = self.next;
        self.next += 1;
        let sink = Sink::new(id, self.events.clone());
        self.open.insert(id, tokio::spawn(task(sink)));
        super::server::ok(StreamRef { stream: id })
    }

    fn stop(&mut self, stream: u64) -> OpResult {
        match self.open.remove(&stream) {
            Some(task) => {
                task.abort();
                super::server::ok(StreamRef { stream })
            }
            None => Err(ErrorBody::not_found(format!(
                "stream {stream} is not open in this session"
            ))),
        }
    }
}

pub struct Session<S: Service> {
    service: Arc<S>,
    peer: Peer,
    /// Logged-in user and role.
    user: Option<(String, Role)>,
    streams: Streams,
    events_rx: mpsc::Receiver<EventFrame>,
    /// A TCP session's place under `mgp_max_connections`, given back when it ends.
    _admitted: Option<Admitted>,
}

impl<S: Service> Session<S> {
    pub fn new(service: Arc<S>, peer: Peer) -> Session<S> {
        let (events, events_rx) = mpsc::channel(EVENT_BUFFER);
        Session {
            service,
            peer,
            user: None,
            streams: Streams {
                events,
                open: HashMap::new(),
                next: 1,
            },
            events_rx,
            _admitted: None,
        }
    }

    /// This session holds `admitted` (its place under the connection limits) until it ends.
    pub fn holding(mut self, admitted: Admitted) -> Session<S> {
        self._admitted = Some(admitted);
        self
    }

    pub fn peer(&self) -> Peer {
        self.peer
    }

    /// Serve one client over plain TCP, TLS or the Unix socket.
    pub async fn run<T: AsyncRead + AsyncWrite + Send + 'static>(mut self, stream: T) {
        let (mut rd, wr) = tokio::io::split(stream);
        let mut wr = BufWriter::new(wr);
        let mut buf = BytesMut::with_capacity(4096);
        let mut shutdown = self.service.shutdown_signal();
        tracing::debug!(peer = %self.peer, "MGP session opened");
        let login_by = tokio::time::Instant::now()
            + Duration::from_secs(self.service.config().general.mgp_login_timeout);
        'session: loop {
            loop {
                // Before the login a line is short: an unknown client buffers little.
                let max = if self.user.is_some() {
                    MAX_LINE
                } else {
                    LOGIN_LINE
                };
                let response = match decode_line(&mut buf, max) {
                    Ok(None) => break,
                    Ok(Some(Frame::Request(req))) => self.handle(req).await,
                    Ok(Some(_)) => Response {
                        id: None,
                        outcome: Outcome::Error(ErrorBody::bad_request(
                            "clients send requests (objects with \"op\"), not answers or events",
                        )),
                    },
                    Err(e) => {
                        let _ = write(&mut wr, &e.response()).await;
                        if e.is_fatal() {
                            tracing::warn!(peer = %self.peer, "MGP session closed: {e}");
                            let _ = wr.shutdown().await;
                            drain(&mut rd).await;
                            break 'session;
                        }
                        continue;
                    }
                };
                if write(&mut wr, &response).await.is_err() {
                    break 'session;
                }
            }
            tokio::select! {
                n = rd.read_buf(&mut buf) => match n {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                },
                Some(ev) = self.events_rx.recv() => {
                    let mut line = encode(&ev);
                    while let Ok(more) = self.events_rx.try_recv() {
                        line.extend_from_slice(&encode(&more));
                    }
                    if wr.write_all(&line).await.is_err() || wr.flush().await.is_err() {
                        break;
                    }
                }
                _ = tokio::time::sleep_until(login_by), if self.user.is_none() => {
                    let timeout = self.service.config().general.mgp_login_timeout;
                    tracing::warn!(peer = %self.peer, "MGP session closed: not logged in within {timeout} s (mgp_login_timeout)");
                    let _ = write(&mut wr, &Response {
                        id: None,
                        outcome: Outcome::Error(ErrorBody::new(
                            ErrorCode::NotAuthenticated,
                            format!("not logged in within {timeout} s (mgp_login_timeout)"),
                        )),
                    }).await;
                    break;
                }
                _ = crate::gateway::stopped(&mut shutdown) => break,
            }
        }
        for (_, task) in self.streams.open.drain() {
            task.abort();
        }
        tracing::debug!(peer = %self.peer, "MGP session closed");
    }

    async fn handle(&mut self, req: Request) -> Response {
        let outcome = match self.dispatch(req.op).await {
            Ok(v) => Outcome::Ok(v),
            Err(e) => Outcome::Error(e),
        };
        Response {
            id: Some(req.id),
            outcome,
        }
    }

    async fn dispatch(&mut self, op: Op) -> OpResult {
        let (user, op) = match (&self.user, op) {
            (None, Op::Login { user, password }) => {
                let cfg = self.service.config();
                let limiter = self.service.limiter();
                let role =
                    auth::login(&cfg.operators, limiter, &self.peer, &user, &password).await?;
                return self.logged_in(user, role);
            }
            (None, Op::LoginPeer) => {
                let cfg = self.service.config();
                match peer::authenticate(&self.peer, &cfg.general.daemon.local_groups) {
                    Ok((user, role)) => {
                        tracing::info!(user, peer = %self.peer, "MGP login by peer credentials");
                        return self.logged_in(user, role);
                    }
                    Err(e) => {
                        tracing::warn!(peer = %self.peer, "MGP login refused: {}", e.message);
                        return Err(e);
                    }
                }
            }
            (None, _) => {
                return Err(ErrorBody::new(
                    ErrorCode::NotAuthenticated,
                    "log in first: the first request must be {\"op\":\"login\",...} \
                     (or {\"op\":\"login_peer\"} on the local socket)",
                ))
            }
            (Some(_), Op::Login { .. } | Op::LoginPeer) => {
                return Err(ErrorBody::refused("this session is already logged in"))
            }
            (Some((user, role)), op) => {
                let needed = self.service.required_role(&op)?;
                if *role < needed {
                    return Err(ErrorBody::new(
                        ErrorCode::Forbidden,
                        format!(
                            "operator {user} (role {}) may not {}: it needs role {}",
                            role_name(*role),
                            op.name(),
                            role_name(needed)
                        ),
                    ));
                }
                (user.clone(), op)
            }
        };
        if let Op::Stop { stream } = op {
            return self.streams.stop(stream);
        }
        let service = self.service.clone();
        service.call(op, &user, &mut self.streams).await
    }

    fn logged_in(&mut self, user: String, role: Role) -> OpResult {
        self.user = Some((user.clone(), role));
        super::server::ok(LoginOk {
            user,
            role,
            version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }
}

/// Read and drop what the client still sends (at most [`MAX_LINE`] octets, for a second)
/// before closing, so that closing with unread input does not reset the connection and lose
/// the error answer just written.
async fn drain<R: AsyncRead + Unpin>(rd: &mut R) {
    let mut left = MAX_LINE;
    let mut buf = [0u8; 8192];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while left > 0 {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

async fn write<W: AsyncWriteExt + Unpin, T: Serialize>(
    w: &mut W,
    frame: &T,
) -> std::io::Result<()> {
    w.write_all(&encode(frame)).await?;
    w.flush().await
}

pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Readonly => "readonly",
        Role::Operator => "operator",
        Role::Admin => "admin",
    }
}

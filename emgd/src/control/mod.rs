//! The MGP server: the control plane `emgclient` (and any JSON-lines client) talks to.
//!
//! One task per client session reads newline-delimited JSON requests (codec in
//! `common::mgp`), answers each in order, and interleaves the events of the streams the
//! client opened. Stream events go through a bounded channel per session: a client that reads
//! too slowly loses events (and is told how many), it never slows the gateway down.
//!
//! One handler per operation family: [`connectors`], [`queue`], [`msg`], [`stream`]; who
//! may call what is [`required_role`]; accounts and login throttling are [`auth`].

pub mod auth;
pub mod connectors;
pub mod msg;
pub mod queue;
pub mod rates;
pub mod stream;
pub mod tls;

use crate::gateway::{stopped, Gateway};
use anyhow::Context;
use bytes::BytesMut;
use common::mgp::{
    decode_line, encode, ErrorBody, ErrorCode, EventFrame, Frame, Op, Outcome, Reloaded, Request,
    Response, Role, StreamRef, MAX_LINE,
};
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// Stream events buffered per session before they are dropped (and counted as lost).
pub const EVENT_BUFFER: usize = 1024;

/// What every session shares.
pub struct Server {
    pub gw: Arc<Gateway>,
    pub rates: Arc<rates::Rates>,
    pub started: Instant,
    pub limiter: auth::Limiter,
}

/// Listen on `address` (`host:port`).
pub async fn bind(address: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("MGP: cannot listen on {address}"))
}

/// Accept MGP clients until shutdown; one task per session. With `tls` (see [`tls::acceptor`])
/// every connection must start with a TLS handshake.
pub async fn serve(gw: Arc<Gateway>, listener: TcpListener, tls: Option<TlsAcceptor>) {
    let server = Arc::new(Server {
        rates: rates::Rates::start(gw.clone()),
        gw: gw.clone(),
        started: Instant::now(),
        limiter: auth::Limiter::default(),
    });
    let mut shutdown = gw.shutdown_signal();
    if let Ok(a) = listener.local_addr() {
        let over = if tls.is_some() { " (TLS)" } else { "" };
        tracing::info!("MGP listening on {a}{over}");
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let session = Session::new(server.clone(), peer);
                    match &tls {
                        None => drop(tokio::spawn(session.run(stream))),
                        Some(tls) => drop(tokio::spawn(handshake(tls.clone(), stream, session))),
                    }
                }
                Err(e) => {
                    tracing::warn!("MGP accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            _ = stopped(&mut shutdown) => return,
        }
    }
}

/// TLS handshake, then the session; a failed handshake closes this connection only.
async fn handshake(tls: TlsAcceptor, stream: TcpStream, session: Session) {
    let peer = session.peer;
    match tokio::time::timeout(tls::HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
        Ok(Ok(stream)) => session.run(stream).await,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            tracing::info!(peer = %peer, "MGP connection closed before the TLS handshake ended");
        }
        Ok(Err(e)) => tracing::warn!(peer = %peer, "MGP TLS handshake failed: {e}"),
        Err(_) => tracing::warn!(
            peer = %peer,
            "MGP TLS handshake failed: not done within {} s",
            tls::HANDSHAKE_TIMEOUT.as_secs()
        ),
    }
}

/// Which role an operation needs.
pub fn required_role(op: &Op) -> Role {
    match op {
        Op::Login { .. }
        | Op::Status
        | Op::Connectors
        | Op::Connector { .. }
        | Op::QueueList { .. }
        | Op::MsgShow { .. }
        | Op::Tail { .. }
        | Op::Watch
        | Op::Stop { .. } => Role::Readonly,
        Op::Hold { .. }
        | Op::Release { .. }
        | Op::Bounce { .. }
        | Op::Forceclose { .. }
        | Op::ForcecloseClear { .. }
        | Op::QueueMove { .. }
        | Op::QueueClear { .. }
        | Op::MsgCancel { .. }
        | Op::Send { .. }
        | Op::DlrInject { .. } => Role::Operator,
        Op::Reload => Role::Admin,
    }
}

/// Turn a handler's typed answer into the wire outcome.
pub type OpResult = Result<serde_json::Value, ErrorBody>;

pub fn ok<T: Serialize>(v: T) -> OpResult {
    serde_json::to_value(v).map_err(|e| ErrorBody::internal(format!("cannot encode answer: {e}")))
}

struct Session {
    server: Arc<Server>,
    peer: SocketAddr,
    /// Logged-in user and role.
    user: Option<(String, Role)>,
    events: mpsc::Sender<EventFrame>,
    events_rx: mpsc::Receiver<EventFrame>,
    streams: HashMap<u64, JoinHandle<()>>,
    next_stream: u64,
}

impl Session {
    fn new(server: Arc<Server>, peer: SocketAddr) -> Session {
        let (events, events_rx) = mpsc::channel(EVENT_BUFFER);
        Session {
            server,
            peer,
            user: None,
            events,
            events_rx,
            streams: HashMap::new(),
            next_stream: 1,
        }
    }

    /// Serve one client over plain TCP or TLS.
    async fn run<S: AsyncRead + AsyncWrite + Send + 'static>(mut self, stream: S) {
        let (mut rd, wr) = tokio::io::split(stream);
        let mut wr = BufWriter::new(wr);
        let mut buf = BytesMut::with_capacity(4096);
        let mut shutdown = self.server.gw.shutdown_signal();
        tracing::debug!(peer = %self.peer, "MGP session opened");
        'session: loop {
            loop {
                let response = match decode_line(&mut buf, MAX_LINE) {
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
                _ = stopped(&mut shutdown) => break,
            }
        }
        for (_, task) in self.streams.drain() {
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
                let role = auth::login(&self.server, self.peer, &user, &password).await?;
                self.user = Some((user.clone(), role));
                return ok(common::mgp::LoginOk {
                    user,
                    role,
                    version: env!("CARGO_PKG_VERSION").to_string(),
                });
            }
            (None, _) => {
                return Err(ErrorBody::new(
                    ErrorCode::NotAuthenticated,
                    "log in first: the first request must be {\"op\":\"login\",...}",
                ))
            }
            (Some(_), Op::Login { .. }) => {
                return Err(ErrorBody::refused("this session is already logged in"))
            }
            (Some((user, role)), op) => {
                let needed = required_role(&op);
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
        let s = &self.server;
        match op {
            Op::Login { .. } => unreachable!("handled above"),
            Op::Status => connectors::status(s),
            Op::Connectors => connectors::list(s),
            Op::Connector { name } => connectors::detail(s, &name),
            Op::Hold { name } => connectors::hold(s, &user, &name, true),
            Op::Release { name } => connectors::hold(s, &user, &name, false),
            Op::Bounce { name } => connectors::bounce(s, &user, &name).await,
            Op::Forceclose { name, persist } => {
                connectors::forceclose(s, &user, &name, persist).await
            }
            Op::ForcecloseClear { name } => connectors::forceclose_clear(s, &user, &name).await,
            Op::QueueList { name, limit } => queue::list(s, name.as_deref(), limit),
            Op::QueueMove {
                from,
                to,
                dest_prefix,
            } => queue::move_queue(s, &user, &from, &to, dest_prefix.as_deref()).await,
            Op::QueueClear { name } => queue::clear(s, &user, &name).await,
            Op::MsgShow { id } => msg::show(s, id).await,
            Op::MsgCancel { id } => msg::cancel(s, &user, id).await,
            Op::Send {
                to,
                from,
                text,
                via,
                dlr,
            } => msg::send(s, &user, to, from, text, via, dlr).await,
            Op::DlrInject { id, status } => msg::dlr_inject(s, &user, id, &status).await,
            Op::Reload => reload(s, &user).await,
            Op::Tail { name, pdu } => {
                let task = stream::tail(s, name.as_deref(), pdu)?;
                self.open_stream(task)
            }
            Op::Watch => {
                let task = stream::watch(&self.server);
                self.open_stream(task)
            }
            Op::Stop { stream } => match self.streams.remove(&stream) {
                Some(task) => {
                    task.abort();
                    ok(StreamRef { stream })
                }
                None => Err(ErrorBody::not_found(format!(
                    "stream {stream} is not open in this session"
                ))),
            },
        }
    }

    fn open_stream(&mut self, task: stream::StreamTask) -> OpResult {
        let id = self.next_stream;
        self.next_stream += 1;
        let sink = stream::Sink::new(id, self.events.clone());
        self.streams.insert(id, tokio::spawn(task(sink)));
        ok(StreamRef { stream: id })
    }
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

/// `reload`: read the configuration file again; a broken file is refused with its diagnostics
/// and the running configuration stays.
async fn reload(s: &Server, user: &str) -> OpResult {
    let path = s.gw.config().path.clone();
    let load_path = path.clone();
    let loaded = tokio::task::spawn_blocking(move || config::load(&load_path))
        .await
        .map_err(|e| ErrorBody::internal(format!("reload task failed: {e}")))?;
    let connectors = loaded.as_ref().map_or(0, |c| c.connectors.len());
    match loaded.and_then(|cfg| s.gw.reload(cfg)) {
        Ok(()) => {
            s.gw.logs.reopen();
            tracing::info!(
                operator = user,
                "configuration reloaded from {} over MGP",
                path.display()
            );
            ok(Reloaded {
                config: path.display().to_string(),
                connectors,
            })
        }
        Err(e) => Err(ErrorBody::refused(format!(
            "configuration not reloaded, the running one stays: {}",
            e.to_string().trim_end().replace('\n', "; ")
        ))),
    }
}

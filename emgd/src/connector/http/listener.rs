//! The listening socket of an HTTP connector, as axum sees it. A connection holds one of the
//! connector's `instances` only once a request on it has authenticated ([`Peer::claim`]),
//! shows then as BOUND and in the connector log under that instance, and gives it back when it
//! closes; before that it shows as `(-)`, and it is closed if no request authenticates within
//! `bind_timeout` seconds, so silent connections cannot take every instance. At most
//! `max_connections` (and `max_connections_per_ip` from one address) are open at a time;
//! more are closed at once. Handlers learn the peer and instance through [`Peer`].
//!
//! Requests are read by hyper: a request's line and headers must arrive within
//! `http_header_timeout` seconds (hyper's header-read timeout, which also runs while a
//! kept-alive connection waits for its next request), else the connection is closed; more than
//! `http_max_header_size` bytes or `http_max_headers` headers are answered 431, and a body
//! over `http_max_body` 413, in the dialect of the path ([`super::limits`]), logged, and the
//! connection closed.
//!
//! Force-close (and so bounce) applies here as on every connector: while it is set no
//! connection is accepted, and open ones read end-of-file, so each finishes the request it is
//! answering and closes.

use super::limits;
use super::reply::ApiError;
use crate::connector::runtime::link::Link;
use crate::connector::runtime::slots::{Claim, Slots};
use crate::connector::runtime::state::admission::Admitted;
use crate::connector::runtime::state::{ConnState, ConnectorHandle};
use crate::gateway::Gateway;
use crate::logs::NO_INSTANCE;
use axum::extract::ConnectInfo;
use axum::serve::Listener as _;
use http_body_util::Limited;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;

/// Who is on the other end of a request's connection.
#[derive(Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    claim: Arc<Mutex<Claim>>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.addr, self.instance())
    }
}

impl Peer {
    /// The instance the connection holds; [`NO_INSTANCE`] until a request authenticated.
    pub fn instance(&self) -> u32 {
        self.lock().instance().unwrap_or(NO_INSTANCE)
    }

    /// A request authenticated: the connection takes its instance now (once). `None` when
    /// every instance is busy.
    pub fn claim(&self) -> Option<u32> {
        let mut c = self.lock();
        c.claim().then(|| c.instance()).flatten()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Claim> {
        self.claim.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct SlotListener {
    listener: TcpListener,
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    slots: Arc<Slots>,
    tls: crate::tls::Reloading<config::Connector>,
}

impl SlotListener {
    pub fn new(listener: TcpListener, gw: Arc<Gateway>, connector: Arc<ConnectorHandle>) -> Self {
        let slots = Slots::new(connector.config().instances.max(1));
        let tls = crate::tls::Reloading::new(format!("connector {}", connector.name));
        SlotListener {
            tls,
            listener,
            gw,
            connector,
            slots,
        }
    }
}

/// One accepted connection; gives its instance back when dropped.
pub struct SlotStream {
    /// Plain, or TLS with `tls = true` (its handshake within `bind_timeout` too).
    stream: crate::tls::ServerStream,
    /// Resolves when the connector is force-closed.
    closed: Pin<Box<dyn Future<Output = ()> + Send + Sync>>,
    /// When a connection that has not authenticated is closed (`bind_timeout`).
    login_by: Pin<Box<tokio::time::Sleep>>,
    timed_out: bool,
    held: Held,
}

/// The connection's place on the connector: its claim on an instance.
struct Held {
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    claim: Arc<Mutex<Claim>>,
    /// Counted against `max_connections` and `max_connections_per_ip` while open.
    _admitted: Admitted,
}

impl Held {
    fn logged_in(&self) -> bool {
        let c = self.claim.lock().unwrap_or_else(|p| p.into_inner());
        c.instance().is_some()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut c = self.claim.lock().unwrap_or_else(|p| p.into_inner());
        let instance = c.instance().unwrap_or(NO_INSTANCE);
        let link = Link::new(self.gw.clone(), self.connector.clone(), instance);
        // IDLE before the instance is free for the next connection.
        link.set_state(ConnState::Idle);
        link.log("DISCONNECT");
        c.release();
    }
}

impl axum::serve::Listener for SlotListener {
    type Io = SlotStream;
    type Addr = Peer;

    async fn accept(&mut self) -> (SlotStream, Peer) {
        loop {
            self.connector.wait_released_or_hold_only().await;
            let (stream, addr) = match self.listener.accept().await {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("connector {}: accept failed: {e}", self.connector.name);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let link = Link::new(self.gw.clone(), self.connector.clone(), NO_INSTANCE);
            let admitted = match self
                .connector
                .admission
                .admit(addr.ip(), &self.connector.config())
            {
                Ok(a) => a,
                Err(why) => {
                    link.log(format!("CONNECT ERR (info=\"{addr}: {why}\")"));
                    continue;
                }
            };
            let Ok(acceptor) = self
                .tls
                .acceptor(self.connector.config(), crate::tls::connector_acceptor)
            else {
                link.log(format!(
                    "CONNECT ERR (info=\"{addr}: TLS is not set up, see the general log\")"
                ));
                continue;
            };
            let _ = stream.set_nodelay(true);
            let label = format!("connector {}: {addr}", self.connector.name);
            let stream = crate::tls::ServerStream::new(stream, acceptor, label);
            link.log(format!("CONNECT OK (info=\"{addr}\")"));
            let claim = Arc::new(Mutex::new(Claim::pending(self.slots.clone())));
            let connector = self.connector.clone();
            let bind_timeout = std::time::Duration::from_secs(connector.config().bind_timeout);
            return (
                SlotStream {
                    stream,
                    closed: Box::pin(async move { connector.forceclose_set().await }),
                    login_by: Box::pin(tokio::time::sleep(bind_timeout)),
                    timed_out: false,
                    held: Held {
                        gw: self.gw.clone(),
                        connector: self.connector.clone(),
                        claim: claim.clone(),
                        _admitted: admitted,
                    },
                },
                Peer { addr, claim },
            );
        }
    }

    fn local_addr(&self) -> std::io::Result<Peer> {
        Ok(Peer {
            addr: self.listener.local_addr()?,
            claim: Arc::new(Mutex::new(Claim::fixed())),
        })
    }
}

impl AsyncRead for SlotStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.closed.as_mut().poll(cx).is_ready() {
            // End of file: the connection finishes what it is doing and closes.
            return Poll::Ready(Ok(()));
        }
        if self.timed_out {
            return Poll::Ready(Ok(()));
        }
        if !self.held.logged_in() && self.login_by.as_mut().poll(cx).is_ready() {
            // No request authenticated within `bind_timeout`: end of file, and it closes.
            self.timed_out = true;
            let link = Link::new(
                self.held.gw.clone(),
                self.held.connector.clone(),
                NO_INSTANCE,
            );
            link.log("LOGIN ERR (info=\"bind timeout\")");
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SlotStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serve `app` on `listener` for `connector` until shutdown; open connections finish their
/// current request.
pub async fn serve(
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    listener: TcpListener,
    app: axum::Router,
) {
    let mut shutdown = gw.shutdown_signal();
    let mut listener = SlotListener::new(listener, gw.clone(), connector.clone());
    let mut open = tokio::task::JoinSet::new();
    loop {
        let (io, peer) = tokio::select! {
            a = listener.accept() => a,
            () = crate::gateway::stopped(&mut shutdown) => break,
        };
        while open.try_join_next().is_some() {}
        let session = Session {
            gw: gw.clone(),
            connector: connector.clone(),
            app: app.clone(),
        };
        open.spawn(session.run(io, peer));
    }
    while open.join_next().await.is_some() {}
}

/// A request refused by the listener's limits: answered in its dialect, with a line in the
/// connector log.
struct Refused {
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    peer: Peer,
    style: limits::Style,
}

impl Refused {
    fn answer(&self, e: &ApiError) -> axum::response::Response {
        let link = Link::new(
            self.gw.clone(),
            self.connector.clone(),
            self.peer.instance(),
        );
        link.log(format!(
            "REQUEST ERR (info=\"{}: {}: {}\")",
            self.peer.addr,
            e.message(),
            e.status().as_u16()
        ));
        limits::answer_refusal(self.style, e)
    }
}

/// One connection, served by hyper with the connector's request limits.
struct Session {
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    app: axum::Router,
}

impl Session {
    async fn run(self, io: SlotStream, peer: Peer) {
        let http = self.connector.config().http.clone();
        let app = self.app;
        let info = peer.clone();
        let connector = self.connector.clone();
        let gw = self.gw.clone();
        let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            // The limits as they are now (a reload applies to the next request).
            let now = connector.config().http.clone();
            let limit = now.max_body as usize;
            let style = limits::style(&req);
            let declared = req
                .headers()
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
            let head_over = limits::head_over(&req, now.max_header_size, now.max_headers);
            let mut req = req.map(|b| axum::body::Body::new(Limited::new(b, limit)));
            req.extensions_mut().insert(ConnectInfo(info.clone()));
            let mut app = app.clone();
            let refused = Refused {
                gw: gw.clone(),
                connector: connector.clone(),
                peer: info.clone(),
                style,
            };
            async move {
                if let Some(e) = head_over {
                    return Ok::<_, std::convert::Infallible>(refused.answer(&e));
                }
                if declared.is_some_and(|n| n > limit as u64) {
                    // Refused before a byte of it is read (or 100-continue sent).
                    return Ok(refused.answer(&limits::body_over(declared, limit)));
                }
                let resp = tower_service::Service::call(&mut app, req).await?;
                // A chunked body cut at the limit: the extractor's bare 413, in the dialect.
                if resp.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    return Ok(refused.answer(&limits::body_over(None, limit)));
                }
                Ok(resp)
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(std::time::Duration::from_secs(http.header_timeout))
            .max_buf_size(http.max_header_size as usize * limits::HYPER_MARGIN)
            .max_headers(http.max_headers as usize * limits::HYPER_MARGIN);
        let conn = builder.serve_connection(TokioIo::new(io), svc);
        tokio::pin!(conn);
        let mut shutdown = self.gw.shutdown_signal();
        let result = tokio::select! {
            r = conn.as_mut() => r,
            () = crate::gateway::stopped(&mut shutdown) => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        let Err(e) = result else { return };
        let why = if e.is_timeout() {
            "request headers not received within http_header_timeout".to_string()
        } else if e.is_parse_too_large() {
            "request headers far too large (twice http_max_header_size or http_max_headers): 431"
                .to_string()
        } else if e.is_incomplete_message() || e.is_canceled() {
            return;
        } else {
            e.to_string()
        };
        let link = Link::new(self.gw.clone(), self.connector.clone(), peer.instance());
        link.log(format!("REQUEST ERR (info=\"{}: {why}\")", peer.addr));
    }
}

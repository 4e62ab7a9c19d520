//! The listening socket of an HTTP connector, as axum sees it: each accepted connection takes
//! one of the connector's `instances` (a client waits in the listen backlog while all are
//! taken), shows as CONNECTED and in the connector log, and gives its instance back when it
//! closes. Handlers learn the peer and instance through [`Peer`].
//!
//! Force-close (and so bounce) applies here as on every connector: while it is set no
//! connection is accepted, and open ones read end-of-file, so each finishes the request it is
//! answering and closes.

use crate::connector::runtime::link::Link;
use crate::connector::runtime::slots::{Slot, Slots};
use crate::connector::runtime::state::{ConnState, ConnectorHandle};
use crate::gateway::Gateway;
use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Who is on the other end of a request's connection.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    pub addr: SocketAddr,
    pub instance: u32,
}

impl Connected<IncomingStream<'_, SlotListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, SlotListener>) -> Self {
        *stream.remote_addr()
    }
}

pub struct SlotListener {
    listener: TcpListener,
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    slots: Arc<Slots>,
}

impl SlotListener {
    pub fn new(listener: TcpListener, gw: Arc<Gateway>, connector: Arc<ConnectorHandle>) -> Self {
        let slots = Slots::new(connector.config().instances.max(1));
        SlotListener {
            listener,
            gw,
            connector,
            slots,
        }
    }
}

/// One accepted connection; gives its instance back when dropped.
pub struct SlotStream {
    stream: TcpStream,
    /// Resolves when the connector is force-closed.
    closed: Pin<Box<dyn std::future::Future<Output = ()> + Send + Sync>>,
    _held: Held,
}

/// The instance a connection holds.
struct Held {
    link: Link,
    _slot: Slot,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.link.set_state(ConnState::Idle);
        self.link.log("DISCONNECT");
    }
}

impl axum::serve::Listener for SlotListener {
    type Io = SlotStream;
    type Addr = Peer;

    async fn accept(&mut self) -> (SlotStream, Peer) {
        loop {
            let slot = self.slots.claim_wait().await;
            self.connector.wait_released_or_hold_only().await;
            let (stream, addr) = match self.listener.accept().await {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("connector {}: accept failed: {e}", self.connector.name);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let instance = slot.instance;
            let link = Link::new(self.gw.clone(), self.connector.clone(), instance);
            let _ = stream.set_nodelay(true);
            link.set_state(ConnState::Connected);
            link.log(format!("CONNECT OK (info=\"{addr}\")"));
            let connector = self.connector.clone();
            return (
                SlotStream {
                    stream,
                    closed: Box::pin(async move { connector.forceclose_set().await }),
                    _held: Held { link, _slot: slot },
                },
                Peer { addr, instance },
            );
        }
    }

    fn local_addr(&self) -> std::io::Result<Peer> {
        Ok(Peer {
            addr: self.listener.local_addr()?,
            instance: 0,
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

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
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
    let name = connector.name.clone();
    let listener = SlotListener::new(listener, gw, connector);
    let stop = async move { crate::gateway::stopped(&mut shutdown).await };
    if let Err(e) = axum::serve(listener, app.into_make_service_with_connect_info::<Peer>())
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!("connector {name}: HTTP listener failed: {e}");
    }
}

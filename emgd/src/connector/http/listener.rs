//! The listening socket of an HTTP connector, as axum sees it: each accepted connection takes
//! one of the connector's `instances` (a client waits in the listen backlog while all are
//! taken), shows as CONNECTED and in the connector log, and gives its instance back when it
//! closes. Handlers learn the peer and instance through [`Peer`].

use crate::connector::runtime::state::{ConnState, ConnectorHandle};
use crate::gateway::Gateway;
use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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
    free: Arc<Semaphore>,
    slots: Arc<Mutex<Vec<bool>>>,
}

impl SlotListener {
    pub fn new(listener: TcpListener, gw: Arc<Gateway>, connector: Arc<ConnectorHandle>) -> Self {
        let n = connector.config().instances.max(1) as usize;
        SlotListener {
            listener,
            gw,
            connector,
            free: Arc::new(Semaphore::new(n)),
            slots: Arc::new(Mutex::new(vec![false; n])),
        }
    }
}

/// One accepted connection; gives its instance back when dropped.
pub struct SlotStream {
    stream: TcpStream,
    _slot: Slot,
}

struct Slot {
    instance: u32,
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    slots: Arc<Mutex<Vec<bool>>>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connector.set_state(self.instance, ConnState::Idle);
        self.gw
            .logs
            .connector(&self.connector.name, self.instance, "DISCONNECT");
        let mut s = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(used) = s.get_mut(self.instance as usize) {
            *used = false;
        }
    }
}

impl axum::serve::Listener for SlotListener {
    type Io = SlotStream;
    type Addr = Peer;

    async fn accept(&mut self) -> (SlotStream, Peer) {
        loop {
            let Ok(permit) = self.free.clone().acquire_owned().await else {
                // The semaphore is never closed; wait for ever rather than spin.
                std::future::pending::<()>().await;
                continue;
            };
            let (stream, addr) = match self.listener.accept().await {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("connector {}: accept failed: {e}", self.connector.name);
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let instance = {
                let mut s = self.slots.lock().unwrap_or_else(|p| p.into_inner());
                let free = s.iter().position(|used| !used).unwrap_or(0);
                if let Some(slot) = s.get_mut(free) {
                    *slot = true;
                }
                free as u32
            };
            let _ = stream.set_nodelay(true);
            self.connector.set_state(instance, ConnState::Connected);
            self.gw.logs.connector(
                &self.connector.name,
                instance,
                format!("CONNECT OK (info=\"{addr}\")"),
            );
            let slot = Slot {
                instance,
                gw: self.gw.clone(),
                connector: self.connector.clone(),
                slots: self.slots.clone(),
                _permit: permit,
            };
            return (
                SlotStream {
                    stream,
                    _slot: slot,
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

//! Incoming connectors over TCP: accept connections until shutdown, each taking a free
//! instance ([`Slots`]; when all `instances` are busy the connection is logged and closed),
//! and run each session in its own task ([`framed::run`]). At shutdown the listener closes,
//! the sessions close gracefully, and every instance ends DEAD.

use super::driver::Driver;
use super::framed::{self, Side};
use super::link::Link;
use super::slots::Slots;
use super::state::{ConnState, ConnectorHandle};
use crate::gateway::{stopped, Gateway};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// What a protocol gives an incoming connector.
pub trait Incoming: Send + Sync + 'static {
    type Driver: Driver;
    /// A fresh codec and driver for the session of a client connected from `peer`.
    fn session(
        &self,
        cfg: &config::Connector,
        peer: SocketAddr,
    ) -> (<Self::Driver as Driver>::Codec, Self::Driver);
}

/// Open the connector's listening socket on `address`, or `default` without one.
pub async fn listen(cfg: &config::Connector, default: &str) -> std::io::Result<TcpListener> {
    TcpListener::bind(cfg.address.as_deref().unwrap_or(default)).await
}

/// Accept sessions until shutdown, at most `instances` at a time.
pub async fn run<P: Incoming>(
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    listener: TcpListener,
    protocol: Arc<P>,
) {
    let slots = Slots::new(connector.config().instances);
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
                let Some(slot) = slots.claim() else {
                    gw.logs.connector(&connector.name, 0, format!(
                        "CONNECT ERR (info=\"{peer}: all {} instances busy\")", slots.count()));
                    drop(stream);
                    continue;
                };
                let link = Link::new(gw.clone(), connector.clone(), slot.instance);
                let protocol = protocol.clone();
                sessions.spawn(async move {
                    link.set_state(ConnState::Connected);
                    link.log(format!("CONNECT OK (info=\"{peer}\")"));
                    let _ = stream.set_nodelay(true);
                    let (codec, driver) = protocol.session(&link.config(), peer);
                    framed::run(link.clone(), stream, codec, driver, Side::Incoming, None).await;
                    link.set_state(ConnState::Idle);
                    drop(slot);
                });
            }
            _ = stopped(&mut shutdown) => break,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    drop(listener);
    while sessions.join_next().await.is_some() {}
    for instance in 0..slots.count() as u32 {
        connector.set_state(instance, ConnState::Dead);
    }
}

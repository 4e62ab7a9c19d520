//! Incoming connectors over TCP: accept connections until shutdown and run each session in its
//! own task ([`framed::run_incoming`]). A session takes a free instance ([`Slots`]) only once
//! its peer has logged in (when all `instances` are busy the login is refused); until then it
//! shows as `(-)` in the connector log and must log in within `bind_timeout`. While the
//! connector is force-closed, connections are accepted and closed at once; beyond
//! `max_connections` or `max_connections_per_ip` ([`super::state::admission`]) likewise. At shutdown the listener closes,
//! the sessions close gracefully, and every instance ends DEAD.

use super::driver::Driver;
use super::framed;
use super::link::Link;
use super::slots::{Claim, Slots};
use super::state::{ConnState, ConnectorHandle};
use crate::gateway::{stopped, Gateway};
use crate::logs::NO_INSTANCE;
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

/// How long an incoming connector that cannot listen waits before it tries again.
pub const LISTEN_RETRY: Duration = Duration::from_secs(5);

/// The listener, from `first` (the attempt made at start, so a connector that can listen
/// does before emgd says it is ready) or, while that fails, from `listen` every
/// [`LISTEN_RETRY`]; meanwhile every instance is in ERROR (and the connector log and the
/// general log say why). `None` at shutdown.
pub async fn listen_or_error<F, Fut>(
    gw: &Gateway,
    connector: &ConnectorHandle,
    first: std::io::Result<TcpListener>,
    listen: F,
) -> Option<TcpListener>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = std::io::Result<TcpListener>>,
{
    let mut shutdown = gw.shutdown_signal();
    let mut failing = false;
    let mut attempt = Some(first);
    loop {
        let result = match attempt.take() {
            Some(r) => r,
            None => listen().await,
        };
        match result {
            Ok(l) => {
                if failing {
                    gw.logs.connector(&connector.name, NO_INSTANCE, "LISTEN OK");
                    for instance in 0..connector.config().instances {
                        connector.set_state(instance, ConnState::Idle);
                    }
                }
                return Some(l);
            }
            Err(e) => {
                let address = connector.config().address.clone().unwrap_or_default();
                if !failing {
                    tracing::error!(
                        "connector {}: cannot listen on {address}: {e}; it is in ERROR and tries again every {} s",
                        connector.name,
                        LISTEN_RETRY.as_secs()
                    );
                    gw.logs.connector(
                        &connector.name,
                        NO_INSTANCE,
                        format!("ERROR (info=\"cannot listen on {address}: {e}\")"),
                    );
                }
                failing = true;
                for instance in 0..connector.config().instances {
                    connector.set_state(instance, ConnState::Error);
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(LISTEN_RETRY) => {}
            _ = stopped(&mut shutdown) => {
                for instance in 0..connector.config().instances {
                    connector.set_state(instance, ConnState::Dead);
                }
                return None;
            }
        }
    }
}

/// Accept sessions until shutdown, at most `instances` at a time.
pub async fn run<P: Incoming>(
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    listener: TcpListener,
    protocol: Arc<P>,
) {
    let slots = Slots::new(connector.config().instances);
    let mut tls = crate::tls::Reloading::new(format!("connector {}", connector.name));
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
                if connector.forceclosed() {
                    // Force-closed: it stays closed to new clients too, until released.
                    gw.logs.connector(&connector.name, NO_INSTANCE, format!(
                        "CONNECT ERR (info=\"{peer}: force closed\")"));
                    drop(stream);
                    continue;
                }
                // At most `max_connections` (and `max_connections_per_ip`), logged in or
                // not: each closes after `bind_timeout` unless it logs in.
                let admitted = match connector.admission.admit(peer.ip(), &connector.config()) {
                    Ok(a) => a,
                    Err(why) => {
                        gw.logs.connector(&connector.name, NO_INSTANCE, format!(
                            "CONNECT ERR (info=\"{peer}: {why}\")"));
                        drop(stream);
                        continue;
                    }
                };
                let Ok(acceptor) = tls.acceptor(connector.config(), crate::tls::connector_acceptor) else {
                    gw.logs.connector(&connector.name, NO_INSTANCE, format!(
                        "CONNECT ERR (info=\"{peer}: TLS is not set up, see the general log\")"));
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let stream = crate::tls::ServerStream::new(
                    stream, acceptor, format!("connector {}: {peer}", connector.name));
                let link = Link::new(gw.clone(), connector.clone(), NO_INSTANCE);
                let protocol = protocol.clone();
                let claim = Claim::pending(slots.clone());
                sessions.spawn(async move {
                    link.log(format!("CONNECT OK (info=\"{peer}\")"));
                    let (codec, driver) = protocol.session(&link.config(), peer);
                    // The session takes its instance when its peer logs in, and gives it back
                    // (IDLE) when it ends.
                    framed::run_incoming(link, stream, codec, driver, claim).await;
                    drop(admitted);
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

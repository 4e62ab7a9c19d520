//! Outgoing connectors over a transport: every instance connects (at once when `static`, or
//! when it only receives; otherwise when the first message for it is queued), logs in, runs
//! its session ([`framed::run`]) and starts over. A failed connect or login backs off as the
//! retry scheme's connector rule says ([`Retry`]); a force-closed connector stays
//! disconnected until released.
//!
//! The transport is the protocol's choice ([`Dialer`]): TCP ([`Tcp`]) for SMPP, UCP/EMI and
//! CIMD2; a serial line for a GSM modem.

use super::driver::Driver;
use super::framed::{self, End, Side};
use super::link::Link;
use super::retry::Retry;
use super::state::{ConnState, ConnectorHandle};
use crate::gateway::{stopped, Gateway};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// How long a connect may take before it counts as failed (errno 110, ETIMEDOUT).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the transport did not come up: an errno, as EMG logs it (`CONNECT ERR (info="111")`),
/// which is also the error the retry scheme's connector rule matches (command 0).
#[derive(Debug)]
pub struct DialError {
    pub errno: u32,
    pub detail: String,
}

/// How an outgoing session reaches its peer.
pub trait Dialer: Send + Sync + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn dial(
        &self,
        cfg: &config::Connector,
    ) -> impl Future<Output = Result<Self::Stream, DialError>> + Send;
}

/// TCP to the connector's `address` (`host:port`), with Nagle off; TLS over it when the
/// connector has `tls = true` (a failed handshake is errno 71, EPROTO).
pub struct Tcp;

impl Dialer for Tcp {
    type Stream = crate::tls::ClientStream;

    async fn dial(&self, cfg: &config::Connector) -> Result<Self::Stream, DialError> {
        let addr = cfg.address.clone().unwrap_or_default();
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                let Some(tls) = &cfg.tls else {
                    return Ok(Box::new(s));
                };
                crate::tls::connect(tls, &addr, s).await.map_err(|e| {
                    tracing::warn!("connector {}: {e:#}", cfg.name);
                    DialError {
                        errno: 71,
                        detail: format!("{e:#}"),
                    }
                })
            }
            Ok(Err(e)) => Err(DialError {
                errno: e.raw_os_error().unwrap_or(0) as u32,
                detail: format!("connect to {addr}: {e}"),
            }),
            Err(_) => Err(DialError {
                errno: 110,
                detail: format!("connect to {addr}: timed out"),
            }),
        }
    }
}

/// What a protocol gives an outgoing connector.
pub trait Outgoing: Send + Sync + 'static {
    type Dialer: Dialer;
    type Driver: Driver;
    fn dialer(&self) -> &Self::Dialer;
    /// A fresh codec and driver for one session.
    fn session(&self, cfg: &config::Connector) -> (<Self::Driver as Driver>::Codec, Self::Driver);
    /// Sessions that never take queue work (an SMPP receiver bind) stay connected like static
    /// ones, since no message would wake them.
    fn only_receives(&self, _cfg: &config::Connector) -> bool {
        false
    }
}

/// Run every instance of an outgoing connector until shutdown.
pub async fn run<P: Outgoing>(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, protocol: Arc<P>) {
    let mut instances = JoinSet::new();
    for instance in 0..connector.config().instances {
        let link = Link::new(gw.clone(), connector.clone(), instance);
        instances.spawn(run_instance(link, protocol.clone()));
    }
    while instances.join_next().await.is_some() {}
}

async fn run_instance<P: Outgoing>(link: Link, protocol: Arc<P>) {
    let connector = link.connector.clone();
    let mut shutdown = link.shutdown_signal();
    let mut retry = Retry::default();
    loop {
        if link.gw.is_shutting_down() {
            break;
        }
        tokio::select! {
            _ = connector.wait_released_or_hold_only() => {}
            _ = stopped(&mut shutdown) => break,
        }
        let cfg = link.config();
        let stays = cfg.is_static || protocol.only_receives(&cfg) || !link.may_transmit();
        let first = if stays {
            None
        } else {
            let ttl = Duration::from_secs(link.gw.config().general.cmrexpire);
            tokio::select! {
                m = connector.next_unheld_on(link.instance, ttl) => Some(m),
                _ = stopped(&mut shutdown) => break,
                _ = connector.forceclose_set() => continue,
            }
        };
        let dialed = tokio::select! {
            d = protocol.dialer().dial(&cfg) => d,
            _ = stopped(&mut shutdown) => {
                if let Some(m) = first { link.gw.unsent(&connector, m); }
                break;
            }
        };
        let stream = match dialed {
            Ok(s) => s,
            Err(e) => {
                if let Some(m) = first {
                    link.gw.unsent(&connector, m);
                }
                link.log(format!("CONNECT ERR (info=\"{}\")", e.errno));
                tracing::debug!("connector {}: {}", link.name(), e.detail);
                if !retry.back_off(&link, 0, e.errno, "connects").await {
                    break;
                }
                continue;
            }
        };
        link.log("CONNECT OK");
        link.set_state(ConnState::Connected);
        let (codec, driver) = protocol.session(&cfg);
        let end = framed::run(link.clone(), stream, codec, driver, Side::Outgoing, first).await;
        link.set_state(ConnState::Idle);
        match end {
            End::LoginRefused(r) => {
                if !retry.back_off(&link, r.command, r.error, "connects").await {
                    break;
                }
            }
            End::Shutdown => break,
            _ => retry.succeeded(),
        }
    }
    link.set_state(ConnState::Dead);
}

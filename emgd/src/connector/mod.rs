//! Connectors: one folder per protocol (its driver: `incoming.rs`, `outgoing.rs`, `convert.rs`
//! between its frames and `Message`, and what that protocol alone needs), all on one
//! [`runtime`] that does what EMG defines once for every connector. [`start`] opens what a
//! connector listens on and runs its sessions.

pub mod cimd2;
pub mod ebe;
pub mod gsm;
pub mod http;
pub mod mgp;
pub mod runtime;
pub mod sim;
pub mod smpp;
pub mod smtp;
pub mod supervise;
pub mod ucp;

use crate::gateway::Gateway;
use anyhow::{bail, Context};
use config::{Direction, Protocol};
use runtime::state::ConnectorHandle;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Run the connector's sessions in `tasks` until shutdown. An incoming connector listens
/// before this returns (so emgd is ready only once its listeners are up); one that cannot is
/// in ERROR (logged) and tries again every few seconds; a DLR listener of an
/// outgoing HTTP connector that cannot listen stops the start with a clear error.
pub async fn start(
    gw: &Arc<Gateway>,
    connector: &Arc<ConnectorHandle>,
    tasks: &mut JoinSet<()>,
) -> anyhow::Result<()> {
    let cfg = connector.config();
    let (gw, c) = (gw.clone(), connector.clone());
    match (cfg.protocol, cfg.direction) {
        (Protocol::Sim, _) => {
            tasks.spawn(sim::outgoing::run(gw, c));
        }
        (Protocol::Smpp, Direction::Incoming) => {
            let first = runtime::incoming::listen(&cfg, "0.0.0.0:2775").await;
            tasks.spawn(async move {
                let listen = || {
                    let cfg = c.config();
                    async move { runtime::incoming::listen(&cfg, "0.0.0.0:2775").await }
                };
                let listener = runtime::incoming::listen_or_error(&gw, &c, first, listen).await;
                if let Some(listener) = listener {
                    let smpp = Arc::new(smpp::incoming::SmppIn);
                    runtime::incoming::run(gw, c, listener, smpp).await;
                }
            });
        }
        (Protocol::Smpp, Direction::Outgoing) => {
            let smpp = Arc::new(smpp::outgoing::SmppOut);
            tasks.spawn(runtime::outgoing::run(gw, c, smpp));
        }
        (Protocol::Ucp, Direction::Incoming) => {
            let first = runtime::incoming::listen(&cfg, "0.0.0.0:5000").await;
            tasks.spawn(async move {
                let listen = || {
                    let cfg = c.config();
                    async move { runtime::incoming::listen(&cfg, "0.0.0.0:5000").await }
                };
                let listener = runtime::incoming::listen_or_error(&gw, &c, first, listen).await;
                if let Some(listener) = listener {
                    let ucp = Arc::new(ucp::incoming::UcpIn);
                    runtime::incoming::run(gw, c, listener, ucp).await;
                }
            });
        }
        (Protocol::Ucp, Direction::Outgoing) if cfg.dialup.is_some() => {
            let ucp = Arc::new(ucp::outgoing::UcpDialupOut);
            tasks.spawn(runtime::outgoing::run(gw, c, ucp));
        }
        (Protocol::Ucp, Direction::Outgoing) => {
            let ucp = Arc::new(ucp::outgoing::UcpOut);
            tasks.spawn(runtime::outgoing::run(gw, c, ucp));
        }
        (Protocol::Cimd2, Direction::Incoming) => {
            let first = runtime::incoming::listen(&cfg, "0.0.0.0:9971").await;
            tasks.spawn(async move {
                let listen = || {
                    let cfg = c.config();
                    async move { runtime::incoming::listen(&cfg, "0.0.0.0:9971").await }
                };
                let listener = runtime::incoming::listen_or_error(&gw, &c, first, listen).await;
                if let Some(listener) = listener {
                    let cimd2 = Arc::new(cimd2::incoming::Cimd2In);
                    runtime::incoming::run(gw, c, listener, cimd2).await;
                }
            });
        }
        (Protocol::Cimd2, Direction::Outgoing) => {
            let cimd2 = Arc::new(cimd2::outgoing::Cimd2Out);
            tasks.spawn(runtime::outgoing::run(gw, c, cimd2));
        }
        (Protocol::Http, Direction::Incoming) => {
            let first = http::incoming::bind(&cfg).await;
            tasks.spawn(async move {
                let listen = || {
                    let cfg = c.config();
                    async move { http::incoming::bind(&cfg).await }
                };
                let listener = runtime::incoming::listen_or_error(&gw, &c, first, listen).await;
                if let Some(listener) = listener {
                    http::incoming::run(gw, c, listener).await;
                }
            });
        }
        (Protocol::Http, Direction::Outgoing) => {
            let listener = http::outgoing::bind(&cfg).await.with_context(|| {
                format!(
                    "connector {}: cannot listen on dlr_address {:?}",
                    cfg.name, cfg.http.dlr_address
                )
            })?;
            tasks.spawn(http::outgoing::run(gw, c, listener));
        }
        (Protocol::Smtp, Direction::Incoming) => {
            let acceptor = smtp::tls::acceptor(&cfg)?;
            let first = smtp::incoming::bind(&cfg).await;
            tasks.spawn(async move {
                let listen = || {
                    let cfg = c.config();
                    async move { smtp::incoming::bind(&cfg).await }
                };
                let listener = runtime::incoming::listen_or_error(&gw, &c, first, listen).await;
                if let Some(listener) = listener {
                    smtp::incoming::run(gw, c, listener, acceptor).await;
                }
            });
        }
        (Protocol::Smtp, Direction::Outgoing) => {
            let tls = smtp::tls::connector(&cfg)?;
            tasks.spawn(smtp::outgoing::run(gw, c, tls));
        }
        (Protocol::Mgp, Direction::Incoming) => {
            let first = runtime::incoming::listen(&cfg, "0.0.0.0:7186").await;
            tasks.spawn(async move {
                let listen = || {
                    let cfg = c.config();
                    async move { runtime::incoming::listen(&cfg, "0.0.0.0:7186").await }
                };
                let listener = runtime::incoming::listen_or_error(&gw, &c, first, listen).await;
                if let Some(listener) = listener {
                    let mgp = Arc::new(mgp::incoming::MgpIn);
                    runtime::incoming::run(gw, c, listener, mgp).await;
                }
            });
        }
        (Protocol::Ebe, Direction::Outgoing) => {
            tasks.spawn(ebe::run(gw, c));
        }
        (Protocol::Gsm, _) => {
            tasks.spawn(gsm::outgoing::run(gw, c));
        }
        (p, d) => bail!(
            "connector {}: {d:?} {p:?} is not available in this build",
            cfg.name
        ),
    }
    Ok(())
}

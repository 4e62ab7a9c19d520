//! The MGP listeners: TCP (plain, or TLS only when `mgp_tls_cert` and `mgp_tls_key` are set)
//! and the local Unix socket (`mgp_socket`), each accepting clients until shutdown with one
//! task per session. Shared by emgd and the watchdog (any [`Service`]).

use super::peer::Peer;
use super::session::{Service, Session};
use super::tls;
use crate::connector::runtime::state::admission::Admission;
use anyhow::Context;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream, UnixListener};
use tokio_rustls::TlsAcceptor;

/// Listen on `address` (`host:port`).
pub async fn bind(address: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("MGP: cannot listen on {address}"))
}

/// Accept TCP clients until shutdown. With `tls` every connection must start with a TLS
/// handshake. A connection over `mgp_max_connections` in all or `mgp_max_connections_per_ip`
/// from its address is closed at once, before a byte is read, with a warning in the log.
pub async fn serve_tcp<S: Service>(
    service: Arc<S>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
) {
    let mut shutdown = service.shutdown_signal();
    if let Ok(a) = listener.local_addr() {
        let over = if tls.is_some() { " (TLS)" } else { "" };
        tracing::info!("MGP listening on {a}{over}");
    }
    let admission = Arc::new(Admission::default());
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let cfg = service.config();
                    let admitted = match admission.admit_within(
                        peer.ip(),
                        (cfg.general.mgp_max_connections, "mgp_max_connections"),
                        (cfg.general.mgp_max_connections_per_ip, "mgp_max_connections_per_ip"),
                    ) {
                        Ok(admitted) => admitted,
                        Err(why) => {
                            tracing::warn!(peer = %peer, "MGP connection refused: {why}");
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let session = Session::new(service.clone(), Peer::Tcp(peer)).holding(admitted);
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
            _ = crate::gateway::stopped(&mut shutdown) => return,
        }
    }
}

/// TLS handshake, then the session; a failed handshake closes this connection only.
async fn handshake<S: Service>(tls: TlsAcceptor, stream: TcpStream, session: Session<S>) {
    let peer = session.peer();
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

/// The local socket at `path`, removed again when dropped.
pub struct LocalSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl Drop for LocalSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Listen on the Unix socket `path`: its directory is created if missing; a socket left by an
/// earlier run is replaced, one still answering is refused. Mode 0666: anyone may connect, the
/// peer credentials decide who gets in.
pub async fn bind_local(path: &Path) -> anyhow::Result<LocalSocket> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| {
            format!("MGP: cannot create the socket directory {}", dir.display())
        })?;
    }
    if path.exists() {
        if tokio::net::UnixStream::connect(path).await.is_ok() {
            anyhow::bail!(
                "MGP: {} is in use by a running server (another emgd?)",
                path.display()
            );
        }
        std::fs::remove_file(path)
            .with_context(|| format!("MGP: cannot remove the stale socket {}", path.display()))?;
    }
    let listener = UnixListener::bind(path)
        .with_context(|| format!("MGP: cannot listen on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
        .with_context(|| format!("MGP: cannot set the mode of {}", path.display()))?;
    Ok(LocalSocket {
        listener,
        path: path.to_path_buf(),
    })
}

/// Accept local clients until shutdown; each is known by its peer credentials.
pub async fn serve_local<S: Service>(service: Arc<S>, socket: LocalSocket) {
    let mut shutdown = service.shutdown_signal();
    tracing::info!("MGP listening on {}", socket.path.display());
    loop {
        tokio::select! {
            accepted = socket.listener.accept() => match accepted {
                Ok((stream, _)) => match stream.peer_cred() {
                    Ok(cred) => {
                        let peer = Peer::Local { uid: cred.uid(), gid: cred.gid(), pid: cred.pid() };
                        tokio::spawn(Session::new(service.clone(), peer).run(stream));
                    }
                    Err(e) => tracing::warn!("MGP: no peer credentials on the local socket: {e}"),
                },
                Err(e) => {
                    tracing::warn!("MGP accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            _ = crate::gateway::stopped(&mut shutdown) => return,
        }
    }
}

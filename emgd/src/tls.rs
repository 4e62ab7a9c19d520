//! TLS for every link emgd encrypts (rustls, `ring` provider, TLS 1.2 and 1.3): the server
//! side of incoming SMPP, UCP/EMI, CIMD2 and HTTP connectors and of the metrics listener
//! ([`Reloading`], [`ServerStream`]), the client side of outgoing SMPP, UCP/EMI and CIMD2
//! ([`connect`]) and of outgoing HTTP ([`client_config`]).
//!
//! The files were checked when the configuration was read (`config::tls`); they are read
//! again here, through the same bounded reader. A listener builds its acceptor again after
//! each reload (SIGHUP, MGP `reload`), so new handshakes show a renewed certificate while the
//! sessions already up stay as they are.

use anyhow::Context;
use config::{ConnectorTls, TlsVersion};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Longest a TLS handshake may take, either side.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn versions(min: TlsVersion) -> &'static [&'static rustls::SupportedProtocolVersion] {
    static ONLY_1_3: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    match min {
        TlsVersion::V1_2 => rustls::ALL_VERSIONS,
        TlsVersion::V1_3 => &ONLY_1_3,
    }
}

fn certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let bytes = config::read_bytes(path).with_context(|| format!("cannot read {path:?}"))?;
    CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{path:?} holds no PEM certificate"))
}

fn private_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let bytes = config::read_bytes(path).with_context(|| format!("cannot read {path:?}"))?;
    PrivateKeyDer::from_pem_slice(&bytes)
        .with_context(|| format!("{path:?} holds no PEM private key"))
}

fn roots(ca: Option<&Path>) -> anyhow::Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(ca) => {
            for cert in certs(ca)? {
                roots
                    .add(cert)
                    .with_context(|| format!("{ca:?}: not a CA certificate"))?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    Ok(roots)
}

/// The server side: certificate chain `cert` with `key`; with `client_ca`, clients must show
/// a certificate that CA signed (mutual TLS).
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
    min: TlsVersion,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions(min))
        .context("TLS protocol versions")?;
    let builder = match client_ca {
        Some(ca) => {
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots(Some(ca))?),
                provider(),
            )
            .build()
            .with_context(|| format!("tls_client_ca {ca:?}"))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(certs(cert)?, private_key(key)?)
        .with_context(|| format!("key {key:?} does not fit certificate {cert:?}"))?;
    Ok(Arc::new(config))
}

/// The client side: trusting `tls.ca` (else the system's roots), showing `tls.cert` when set.
pub fn client_config(tls: &ConnectorTls) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions(tls.min_version))
        .context("TLS protocol versions")?
        .with_root_certificates(roots(tls.ca.as_deref())?);
    let config = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(certs(cert)?, private_key(key)?)
            .with_context(|| format!("key {key:?} does not fit certificate {cert:?}"))?,
        _ => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// The acceptor of an incoming connector on TLS, `None` on plain TCP.
pub fn connector_acceptor(cfg: &config::Connector) -> anyhow::Result<Option<TlsAcceptor>> {
    let Some(tls) = &cfg.tls else {
        return Ok(None);
    };
    let (Some(cert), Some(key)) = (&tls.cert, &tls.key) else {
        anyhow::bail!("tls = true without tls_cert and tls_key");
    };
    let config = server_config(cert, key, tls.client_ca.as_deref(), tls.min_version)?;
    Ok(Some(TlsAcceptor::from(config)))
}

/// The acceptor of a listener's pair (`metrics_tls_cert`/`metrics_tls_key`), `None` without.
pub fn listener_acceptor(tls: Option<&config::ListenerTls>) -> anyhow::Result<Option<TlsAcceptor>> {
    let Some(tls) = tls else { return Ok(None) };
    let config = server_config(&tls.cert, &tls.key, None, TlsVersion::V1_2)?;
    Ok(Some(TlsAcceptor::from(config)))
}

/// A listener's acceptor, built again when its configuration (`T`, swapped whole by a
/// reload) is another one: the certificate files are read again, so a renewed certificate
/// is shown from the next handshake on.
pub struct Reloading<T> {
    what: String,
    built_for: Option<Arc<T>>,
    acceptor: Result<Option<TlsAcceptor>, TlsUnavailable>,
}

/// TLS is configured but could not be set up (logged): connections must be closed rather
/// than served in plain text.
#[derive(Debug, Clone, Copy)]
pub struct TlsUnavailable;

impl<T> Reloading<T> {
    /// `what` names the listener in log lines ("connector smpp-in").
    pub fn new(what: impl Into<String>) -> Self {
        Reloading {
            what: what.into(),
            built_for: None,
            acceptor: Err(TlsUnavailable),
        }
    }

    /// The acceptor for a connection accepted now under configuration `now` (`None`: plain
    /// TCP), `build` making it when `now` is new. A failed rebuild keeps the acceptor built
    /// before (logged); `Err` when there never was one, so the connection must be closed
    /// rather than served in plain text.
    pub fn acceptor(
        &mut self,
        now: Arc<T>,
        build: impl FnOnce(&T) -> anyhow::Result<Option<TlsAcceptor>>,
    ) -> Result<Option<TlsAcceptor>, TlsUnavailable> {
        if !self
            .built_for
            .as_ref()
            .is_some_and(|b| Arc::ptr_eq(b, &now))
        {
            let first = self.built_for.is_none();
            match build(&now) {
                Ok(acceptor) => {
                    if !first && acceptor.is_some() {
                        tracing::info!("{}: TLS certificate (re)loaded", self.what);
                    }
                    self.acceptor = Ok(acceptor);
                }
                Err(e) if self.acceptor.is_ok() => tracing::error!(
                    "{}: TLS files not reloaded, the ones read before stay: {e:#}",
                    self.what
                ),
                Err(e) => tracing::error!(
                    "{}: cannot set up TLS, connections are closed: {e:#}",
                    self.what
                ),
            }
            self.built_for = Some(now);
        }
        self.acceptor.clone()
    }
}

/// An accepted connection, plain or TLS. The handshake runs on the first read or write (so
/// the accept loop never waits for a client), within [`HANDSHAKE_TIMEOUT`]; a failed one is
/// logged with `label` and ends the connection with that error.
pub struct ServerStream {
    state: State,
    label: String,
}

enum State {
    Plain(TcpStream),
    Handshaking(
        Box<tokio_rustls::Accept<TcpStream>>,
        Pin<Box<tokio::time::Sleep>>,
    ),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    Failed,
}

impl ServerStream {
    /// `stream` as it is with `acceptor` `None`, else TLS. `label` names the connection in
    /// log lines ("connector smpp-in: 127.0.0.1:40000").
    pub fn new(stream: TcpStream, acceptor: Option<TlsAcceptor>, label: String) -> Self {
        let state = match acceptor {
            None => State::Plain(stream),
            Some(a) => State::Handshaking(
                Box::new(a.accept(stream)),
                Box::pin(tokio::time::sleep(HANDSHAKE_TIMEOUT)),
            ),
        };
        ServerStream { state, label }
    }

    /// Ready once the handshake is done (at once on plain TCP).
    fn poll_handshake(&mut self, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        let failed = match &mut self.state {
            State::Handshaking(accept, deadline) => match Pin::new(&mut **accept).poll(cx) {
                Poll::Ready(Ok(s)) => {
                    self.state = State::Tls(Box::new(s));
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Err(e)) => e,
                Poll::Pending => match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("not done within {} s", HANDSHAKE_TIMEOUT.as_secs()),
                    ),
                    Poll::Pending => return Poll::Pending,
                },
            },
            State::Failed => {
                return Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "TLS handshake failed",
                )))
            }
            _ => return Poll::Ready(Ok(())),
        };
        tracing::warn!("{}: TLS handshake failed: {failed}", self.label);
        self.state = State::Failed;
        Poll::Ready(Err(std::io::Error::new(
            failed.kind(),
            format!("TLS handshake failed: {failed}"),
        )))
    }
}

macro_rules! ready_stream {
    ($self:ident, $cx:ident, |$s:ident| $body:expr) => {{
        let this = $self.get_mut();
        if let Err(e) = std::task::ready!(this.poll_handshake($cx)) {
            return Poll::Ready(Err(e));
        }
        match &mut this.state {
            State::Plain($s) => {
                let $s = Pin::new($s);
                $body
            }
            State::Tls($s) => {
                let $s = Pin::new(&mut **$s);
                $body
            }
            _ => unreachable!("poll_handshake leaves a plain or TLS stream"),
        }
    }};
}

impl AsyncRead for ServerStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        ready_stream!(self, cx, |s| s.poll_read(cx, buf))
    }
}

impl AsyncWrite for ServerStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        ready_stream!(self, cx, |s| s.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        ready_stream!(self, cx, |s| s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match &mut this.state {
            State::Plain(s) => Pin::new(s).poll_shutdown(cx),
            State::Tls(s) => Pin::new(&mut **s).poll_shutdown(cx),
            // Nothing was said over TLS yet: drop the connection.
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// The stream of an outgoing session: plain TCP or TLS over it.
pub type ClientStream = Box<dyn ClientIo>;

/// What a [`ClientStream`] is.
pub trait ClientIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ClientIo for T {}

/// The name checked in the server's certificate: `tls_server_name`, else the host of
/// `address` (`host:port`, `[v6]:port`).
pub fn server_name(tls: &ConnectorTls, address: &str) -> anyhow::Result<ServerName<'static>> {
    let name = match &tls.server_name {
        Some(n) => n.clone(),
        None => {
            let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string()
        }
    };
    ServerName::try_from(name.clone())
        .with_context(|| format!("`{name}` is not a name a certificate can be checked against"))
}

/// TLS over `stream` to the connector's peer, within [`HANDSHAKE_TIMEOUT`].
pub async fn connect(
    tls: &ConnectorTls,
    address: &str,
    stream: TcpStream,
) -> anyhow::Result<ClientStream> {
    let connector = TlsConnector::from(client_config(tls)?);
    let name = server_name(tls, address)?;
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, connector.connect(name, stream)).await {
        Ok(Ok(s)) => Ok(Box::new(s)),
        Ok(Err(e)) => Err(anyhow::anyhow!("TLS handshake with {address} failed: {e}")),
        Err(_) => Err(anyhow::anyhow!(
            "TLS handshake with {address} not done within {} s",
            HANDSHAKE_TIMEOUT.as_secs()
        )),
    }
}

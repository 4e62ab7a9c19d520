//! A test-only SMTP server loop and client loop over TCP, built on `common::smtp`, so real
//! third-party peers (swaks, python smtplib, aiosmtpd) can be checked against our codec
//! before any connector uses it. The connector's sessions are the daemon's; these are the
//! smallest loops that put the state machines on a socket, with STARTTLS.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use common::smtp::{
    Client, ClientConfig, ClientEvent, Enhanced, Envelope, Event, Outgoing, Phase, Reply,
    SendOutcome, Server, ServerConfig,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A self-signed certificate for 127.0.0.1 and localhost, PEM.
#[derive(Clone)]
pub struct TestCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCert {
    pub fn new() -> TestCert {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("self-signed certificate");
        TestCert {
            cert_pem: ck.cert.pem(),
            key_pem: ck.signing_key.serialize_pem(),
        }
    }

    fn acceptor(&self) -> Result<tokio_rustls::TlsAcceptor> {
        use rustls_pki_types::pem::PemObject;
        let certs = rustls_pki_types::CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()?;
        let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
        Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    }

    fn connector(&self) -> Result<tokio_rustls::TlsConnector> {
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pki_types::CertificateDer::pem_slice_iter(self.cert_pem.as_bytes()) {
            roots.add(cert?)?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
    }
}

impl Default for TestCert {
    fn default() -> Self {
        TestCert::new()
    }
}

/// A message the sink took.
#[derive(Debug, Clone)]
pub struct Received {
    pub envelope: Envelope,
    pub content: Vec<u8>,
}

/// How the sink behaves.
#[derive(Clone)]
pub struct SinkConfig {
    pub server: ServerConfig,
    /// Username and password AUTH accepts.
    pub user: Option<(String, String)>,
    /// Recipients starting with this are refused with 550.
    pub refuse_rcpt_prefix: Option<String>,
    pub command_timeout: Duration,
    pub data_timeout: Duration,
    pub cert: Option<TestCert>,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig {
            server: ServerConfig::default(),
            user: None,
            refuse_rcpt_prefix: None,
            command_timeout: Duration::from_secs(30),
            data_timeout: Duration::from_secs(30),
            cert: None,
        }
    }
}

/// A running sink: its address and what it took so far.
pub struct Sink {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Sink {
    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// Listens on 127.0.0.1 (a free port) and serves every connection until the runtime stops.
pub async fn start_sink(mut config: SinkConfig) -> Result<Sink> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    config.server.tls_available = config.cert.is_some();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (config, store) = (config.clone(), store.clone());
            tokio::spawn(async move {
                let _ = serve(Box::new(stream), config, store).await;
            });
        }
    });
    Ok(Sink { addr, received })
}

async fn serve(
    mut io: Box<dyn Io>,
    config: SinkConfig,
    store: Arc<Mutex<Vec<Received>>>,
) -> Result<()> {
    let mut server = Server::new(config.server.clone());
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let mut close = false;
        let mut start_tls = false;
        while let Some(ev) = server.poll() {
            match ev {
                Event::Auth(c) => match &config.user {
                    Some((u, p)) if *u == c.username && *p == c.password => server.accept(None),
                    _ => server.reject(Reply::new(535, Enhanced(5, 7, 8), "Authentication failed")),
                },
                Event::Mail { .. } => server.accept(None),
                Event::Rcpt { to } => match &config.refuse_rcpt_prefix {
                    Some(p) if to.starts_with(p.as_str()) => {
                        server.reject(Reply::new(550, Enhanced(5, 1, 1), "No such number"))
                    }
                    _ => server.accept(None),
                },
                Event::Message { envelope, content } => {
                    let n = {
                        let mut s = store.lock().unwrap();
                        s.push(Received { envelope, content });
                        s.len()
                    };
                    server.accept(Some(&format!("Ok: queued as {n}")));
                }
                Event::StartTls => start_tls = true,
                Event::Close => close = true,
            }
            if start_tls {
                break;
            }
        }
        let out = server.take_output();
        if !out.is_empty() {
            io.write_all(&out).await?;
        }
        if close {
            return Ok(());
        }
        if start_tls {
            let cert = config
                .cert
                .as_ref()
                .context("STARTTLS without a certificate")?;
            let tls = cert.acceptor()?.accept(io).await?;
            io = Box::new(tls);
            server.tls_started();
            continue;
        }
        let timeout = match server.phase() {
            Phase::Data => config.data_timeout,
            Phase::Closed => return Ok(()),
            _ => config.command_timeout,
        };
        match tokio::time::timeout(timeout, io.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(()),
            Ok(Ok(n)) => server.feed(&buf[..n]),
            Err(_) => server.timed_out(),
        }
    }
}

/// Connects to `addr`, hands over every mail in one session and quits. The outcomes come in
/// order; a session-ending error is an `Err`.
pub async fn relay(
    addr: SocketAddr,
    config: ClientConfig,
    cert: Option<&TestCert>,
    mails: Vec<Outgoing>,
) -> Result<Vec<SendOutcome>> {
    let mut io: Box<dyn Io> = Box::new(TcpStream::connect(addr).await?);
    let mut client = Client::new(config);
    let mut queue = std::collections::VecDeque::from(mails);
    let mut outcomes = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let mut start_tls = false;
        while let Some(ev) = client.poll() {
            match ev {
                ClientEvent::Ready | ClientEvent::Sent(_) => {
                    if let ClientEvent::Sent(o) = ev {
                        outcomes.push(o);
                    }
                    match queue.pop_front() {
                        Some(m) => {
                            if let Err(Some(e)) = client.send(m) {
                                bail!("refused before sending: {e}");
                            }
                        }
                        None => client.quit(),
                    }
                }
                ClientEvent::StartTls => {
                    start_tls = true;
                    break;
                }
                ClientEvent::Failed(e) => bail!("session failed: {e}"),
                ClientEvent::Closed => return Ok(outcomes),
            }
        }
        let out = client.take_output();
        if !out.is_empty() {
            io.write_all(&out).await?;
        }
        if start_tls {
            let cert = cert.context("server offers STARTTLS; the test gave no certificate")?;
            let name = rustls_pki_types::ServerName::try_from("localhost")?;
            io = Box::new(cert.connector()?.connect(name, io).await?);
            client.tls_started();
            continue;
        }
        let n = tokio::time::timeout(Duration::from_secs(30), io.read(&mut buf))
            .await
            .context("no reply from the server in 30 s")??;
        if n == 0 {
            bail!("server closed the connection");
        }
        client.feed(&buf[..n]);
    }
}

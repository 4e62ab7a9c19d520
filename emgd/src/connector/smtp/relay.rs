//! A client session to a mail relay: `common::smtp::Client` on a TCP connection, with
//! STARTTLS (`smtp_starttls`, trusting `smtp_tls_ca`) and AUTH (`username`/`password`), for
//! the outgoing SMTP connector and for the delivery reports an incoming one mails back.

use super::session::Io;
use common::smtp::{
    Client, ClientConfig, ClientError, ClientEvent, Outgoing, SendOutcome, TlsMode,
};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Why a session could not hand a mail over.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("cannot connect to {0}: {1}")]
    Connect(String, String),
    #[error("connection to the relay lost: {0}")]
    Io(String),
    #[error("relay did not answer within {0} s")]
    Timeout(u64),
    #[error("TLS with the relay failed: {0}")]
    Tls(String),
    #[error(transparent)]
    Smtp(#[from] ClientError),
}

impl RelayError {
    /// The reply code that fails the message itself, when the error is about the message (too
    /// big for the relay, 8-bit for a relay without 8BITMIME, an address that cannot be
    /// written in a command). `None`: the session could not be had or went away (connect,
    /// TLS, AUTH, a closing relay), which is the connector's trouble, not the message's: it
    /// waits in the queue while the connector backs off.
    pub fn fails_the_message(&self) -> Option<u32> {
        match self {
            RelayError::Smtp(ClientError::TooBig { .. }) => Some(552),
            RelayError::Smtp(ClientError::EightBitRefused) => Some(554),
            RelayError::Smtp(ClientError::BadAddress(_)) => Some(553),
            _ => None,
        }
    }
}

/// An open, ready session.
pub struct Relay {
    io: Box<dyn Io>,
    client: Client,
    timeout: Duration,
    buf: Vec<u8>,
}

/// How to reach a relay.
pub struct Target<'a> {
    pub address: &'a str,
    pub ehlo: &'a str,
    pub starttls: config::StartTls,
    pub auth: Option<(String, String)>,
    pub tls: &'a TlsConnector,
    pub timeout: Duration,
}

impl Relay {
    /// Connects, and goes through greeting, EHLO, STARTTLS and AUTH.
    pub async fn open(t: &Target<'_>) -> Result<Relay, RelayError> {
        let secs = t.timeout.as_secs();
        let stream = tokio::time::timeout(t.timeout, TcpStream::connect(t.address))
            .await
            .map_err(|_| RelayError::Timeout(secs))?
            .map_err(|e| RelayError::Connect(t.address.to_string(), e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let starttls = match t.starttls {
            config::StartTls::No => TlsMode::Never,
            config::StartTls::Yes => TlsMode::Opportunistic,
            config::StartTls::Required => TlsMode::Required,
        };
        let client = Client::new(ClientConfig {
            ehlo_name: t.ehlo.to_string(),
            starttls,
            auth: t.auth.clone(),
        });
        let mut relay = Relay {
            io: Box::new(stream),
            client,
            timeout: t.timeout,
            buf: vec![0u8; 8 * 1024],
        };
        let host = t.address.rsplit_once(':').map_or(t.address, |(h, _)| h);
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        loop {
            match relay.next_event().await? {
                ClientEvent::Ready => return Ok(relay),
                ClientEvent::StartTls => {
                    relay.flush().await?;
                    let name = rustls::pki_types::ServerName::try_from(host.clone())
                        .map_err(|e| RelayError::Tls(format!("{host}: {e}")))?;
                    let io = std::mem::replace(&mut relay.io, Box::new(tokio::io::duplex(1).0));
                    let tls = tokio::time::timeout(
                        super::tls::HANDSHAKE_TIMEOUT,
                        t.tls.connect(name, io),
                    )
                    .await
                    .map_err(|_| RelayError::Tls("handshake timed out".into()))?
                    .map_err(|e| RelayError::Tls(e.to_string()))?;
                    relay.io = Box::new(tls);
                    relay.client.tls_started();
                }
                ClientEvent::Failed(e) => return Err(e.into()),
                ClientEvent::Sent(_) | ClientEvent::Closed => {
                    return Err(RelayError::Io("relay closed the session".into()))
                }
            }
        }
    }

    /// Hands one mail over; the session is ready again after it.
    pub async fn send(&mut self, mail: Outgoing) -> Result<SendOutcome, RelayError> {
        match self.client.send(mail) {
            Ok(()) => {}
            Err(Some(e)) => return Err(e.into()),
            Err(None) => return Err(RelayError::Io("session not ready".into())),
        }
        loop {
            match self.next_event().await? {
                ClientEvent::Sent(outcome) => {
                    self.flush().await?;
                    return Ok(outcome);
                }
                ClientEvent::Failed(e) => return Err(e.into()),
                ClientEvent::Closed => {
                    return Err(RelayError::Io("relay closed the session".into()))
                }
                ClientEvent::Ready | ClientEvent::StartTls => {}
            }
        }
    }

    /// QUIT, waiting briefly for its answer.
    pub async fn quit(mut self) {
        self.client.quit();
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(ev) = self.next_event().await {
                if matches!(ev, ClientEvent::Closed | ClientEvent::Failed(_)) {
                    break;
                }
            }
        })
        .await;
        let _ = self.io.shutdown().await;
    }

    async fn flush(&mut self) -> Result<(), RelayError> {
        let out = self.client.take_output();
        if !out.is_empty() {
            self.io
                .write_all(&out)
                .await
                .map_err(|e| RelayError::Io(e.to_string()))?;
        }
        Ok(())
    }

    /// Writes what the client has to say, then reads until it has an event.
    async fn next_event(&mut self) -> Result<ClientEvent, RelayError> {
        loop {
            if let Some(ev) = self.client.poll() {
                if !matches!(ev, ClientEvent::StartTls) {
                    self.flush().await?;
                }
                return Ok(ev);
            }
            self.flush().await?;
            let n = tokio::time::timeout(self.timeout, self.io.read(&mut self.buf))
                .await
                .map_err(|_| RelayError::Timeout(self.timeout.as_secs()))?
                .map_err(|e| RelayError::Io(e.to_string()))?;
            if n == 0 {
                return Err(RelayError::Io("relay closed the connection".into()));
            }
            self.client.feed(&self.buf[..n]);
        }
    }
}

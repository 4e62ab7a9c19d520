//! One incoming SMTP session on its socket: `common::smtp::Server` fed with what the client
//! sends, its replies written back, STARTTLS done on the stream when it asks, the read timeout
//! (`smtp_timeout`) and shutdown or force-close turned into 421. What the state machine cannot
//! decide alone (AUTH, MAIL, RCPT, a complete message) goes to [`Decide`], and no byte more is
//! read until it answered, so a pipelining client is answered in order and nothing is
//! acknowledged before it is stored.

use common::smtp::{Event, Phase, Server};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The decisions of a session: each answers the server with `accept` or `reject`.
pub trait Decide: Send {
    fn decide(
        &mut self,
        server: &mut Server,
        event: Event,
    ) -> impl std::future::Future<Output = ()> + Send;
}

/// How the session ended, for the connector log.
#[derive(Debug)]
pub enum End {
    Quit,
    PeerClosed,
    TimedOut,
    Stopped,
    Error(String),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Quit => write!(f, "quit"),
            End::PeerClosed => write!(f, "connection closed by peer"),
            End::TimedOut => write!(f, "timeout"),
            End::Stopped => write!(f, "shutdown or force close"),
            End::Error(e) => write!(f, "{e}"),
        }
    }
}

/// Serves the session until it closes. `stop` resolves on shutdown or force-close.
pub async fn run<D: Decide>(
    stream: Box<dyn Io>,
    mut server: Server,
    acceptor: Option<TlsAcceptor>,
    timeout: Duration,
    stop: impl std::future::Future<Output = ()> + Send,
    decide: &mut D,
) -> End {
    let mut io = stream;
    let mut buf = vec![0u8; 16 * 1024];
    let mut timed_out = false;
    let mut stopped = false;
    let mut stalls = 0;
    tokio::pin!(stop);
    loop {
        let mut close = false;
        let mut start_tls = false;
        while let Some(event) = server.poll() {
            match event {
                Event::StartTls => {
                    start_tls = true;
                    break;
                }
                Event::Close => {
                    close = true;
                    break;
                }
                other => decide.decide(&mut server, other).await,
            }
        }
        let out = server.take_output();
        if !out.is_empty() {
            if let Err(e) = io.write_all(&out).await {
                return End::Error(format!("write failed: {e}"));
            }
        }
        if close || server.phase() == Phase::Closed {
            let _ = io.shutdown().await;
            return if timed_out {
                End::TimedOut
            } else if stopped {
                End::Stopped
            } else {
                End::Quit
            };
        }
        if start_tls {
            let Some(acceptor) = acceptor.clone() else {
                return End::Error("STARTTLS without a certificate".into());
            };
            match tokio::time::timeout(super::tls::HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
                Ok(Ok(tls)) => {
                    io = Box::new(tls);
                    server.tls_started();
                    continue;
                }
                Ok(Err(e)) => return End::Error(format!("TLS handshake failed: {e}")),
                Err(_) => return End::Error("TLS handshake timed out".into()),
            }
        }
        if !server.wants_input() {
            // Every decision was answered above, so only a state machine that neither
            // consumes its input nor raises an event gets here: end rather than spin.
            stalls += 1;
            if stalls > 1 {
                return End::Error("session stalled".into());
            }
            continue;
        }
        stalls = 0;
        tokio::select! {
            read = tokio::time::timeout(timeout, io.read(&mut buf)) => match read {
                Ok(Ok(0)) => return End::PeerClosed,
                Ok(Ok(n)) => server.feed(&buf[..n]),
                Ok(Err(e)) => return End::Error(format!("read failed: {e}")),
                Err(_) => {
                    timed_out = true;
                    server.timed_out();
                }
            },
            _ = &mut stop, if !stopped => {
                stopped = true;
                server.shutting_down();
            }
        }
    }
}

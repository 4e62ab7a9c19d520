//! One MGP connection (TCP, TLS or a Unix socket): send a request, wait for the answer with
//! its id; stream events that arrive meanwhile are kept for [`Client::next_event`].

use crate::exit::Failure;
use crate::tls::TlsOptions;
use bytes::BytesMut;
use common::mgp::{decode_line, encode, EventFrame, Frame, Op, Outcome, Request, MAX_LINE};
use serde_json::Value;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

/// For the TCP connection and, with TLS, again for the handshake.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Plain TCP or TLS.
trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

pub struct Client {
    stream: Box<dyn Conn>,
    host: String,
    buf: BytesMut,
    next_id: u64,
    events: VecDeque<EventFrame>,
}

impl Client {
    /// Connect to `host` (`HOST:PORT`), over TLS when `tls` is given.
    pub async fn connect(host: &str, tls: Option<&TlsOptions>) -> Result<Client, Failure> {
        let failed = |reason: String| Failure::Connect {
            host: host.to_string(),
            reason,
        };
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(host))
            .await
            .map_err(|_| failed(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
            .map_err(|e| failed(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let stream: Box<dyn Conn> = match tls {
            None => Box::new(stream),
            Some(opts) => Box::new(
                tokio::time::timeout(
                    CONNECT_TIMEOUT,
                    crate::tls::handshake(stream, host, opts),
                )
                .await
                .map_err(|_| Failure::Tls {
                    host: host.to_string(),
                    reason: format!(
                        "no answer within {} s (is emgd's MGP listener plain TCP? then leave out --tls)",
                        CONNECT_TIMEOUT.as_secs()
                    ),
                })??,
            ),
        };
        Ok(Client {
            host: host.to_string(),
            stream,
            buf: BytesMut::with_capacity(8192),
            next_id: 1,
            events: VecDeque::new(),
        })
    }

    /// Connect to emgd's local socket at `path` (peer-credential login, see `login_peer`).
    pub async fn connect_unix(path: &std::path::Path) -> Result<Client, Failure> {
        let host = path.display().to_string();
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, UnixStream::connect(path))
            .await
            .map_err(|_| Failure::Connect {
                host: host.clone(),
                reason: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
            })?
            .map_err(|e| Failure::Connect {
                host: host.clone(),
                reason: e.to_string(),
            })?;
        Ok(Client {
            host,
            stream: Box::new(stream),
            buf: BytesMut::with_capacity(8192),
            next_id: 1,
            events: VecDeque::new(),
        })
    }

    /// Send `op` and wait for its answer: the ok object, or the server's error.
    pub async fn call(&mut self, op: Op) -> Result<Value, Failure> {
        let id = self.next_id;
        self.next_id += 1;
        let line = encode(&Request { id, op });
        self.stream
            .write_all(&line)
            .await
            .map_err(|e| Failure::Other(format!("connection to emgd lost: {e}")))?;
        loop {
            match self.read_frame().await? {
                Frame::Response(r) if r.id == Some(id) => {
                    return match r.outcome {
                        Outcome::Ok(v) => Ok(v),
                        Outcome::Error(e) => Err(Failure::Server(e)),
                    }
                }
                Frame::Response(r) => {
                    // An answer to no request of ours: a protocol error the server reports.
                    if let Outcome::Error(e) = r.outcome {
                        return Err(Failure::Server(e));
                    }
                }
                Frame::Event(ev) => self.events.push_back(ev),
                Frame::Request(_) => {
                    return Err(Failure::Other("emgd sent a request, not an answer".into()))
                }
            }
        }
    }

    /// Like [`call`](Self::call), decoding the answer into `T`.
    pub async fn call_as<T: serde::de::DeserializeOwned>(
        &mut self,
        op: Op,
    ) -> Result<(Value, T), Failure> {
        let v = self.call(op).await?;
        let t = serde_json::from_value(v.clone())
            .map_err(|e| Failure::Other(format!("unexpected answer from emgd: {e}")))?;
        Ok((v, t))
    }

    /// The next stream event; `None` when emgd closed the connection.
    pub async fn next_event(&mut self) -> Result<Option<EventFrame>, Failure> {
        if let Some(ev) = self.events.pop_front() {
            return Ok(Some(ev));
        }
        loop {
            match self.read_frame_or_eof().await? {
                None => return Ok(None),
                Some(Frame::Event(ev)) => return Ok(Some(ev)),
                Some(Frame::Response(r)) => {
                    if let Outcome::Error(e) = r.outcome {
                        return Err(Failure::Server(e));
                    }
                }
                Some(Frame::Request(_)) => {}
            }
        }
    }

    async fn read_frame(&mut self) -> Result<Frame, Failure> {
        self.read_frame_or_eof()
            .await?
            .ok_or_else(|| Failure::Other("emgd closed the connection".into()))
    }

    async fn read_frame_or_eof(&mut self) -> Result<Option<Frame>, Failure> {
        loop {
            if looks_like_tls(&self.buf) {
                return Err(Failure::Connect {
                    host: self.host.clone(),
                    reason: "emgd answered with TLS: add --tls".into(),
                });
            }
            match decode_line(&mut self.buf, MAX_LINE) {
                Ok(Some(f)) => return Ok(Some(f)),
                Ok(None) => {}
                Err(e) => return Err(Failure::Other(format!("bad answer from emgd: {e}"))),
            }
            let n = self
                .stream
                .read_buf(&mut self.buf)
                .await
                .map_err(|e| Failure::Other(format!("connection to emgd lost: {e}")))?;
            if n == 0 {
                return Ok(None);
            }
        }
    }
}

/// A TLS record header (handshake or alert, TLS 1.0 to 1.3 record versions): what a TLS-only
/// emgd sends a plain client before it closes.
fn looks_like_tls(buf: &[u8]) -> bool {
    matches!(buf, [0x15 | 0x16, 0x03, 0x01..=0x04, ..])
}

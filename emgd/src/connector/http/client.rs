//! The HTTP client of DLR callbacks and outgoing HTTP connectors: hyper-util's pooled client
//! (keep-alive connections, HTTP/1.1) over rustls with the ring provider the rest of emgd uses,
//! trusting the system's root certificates.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::sync::Arc;
use std::time::Duration;

/// How long a kept-alive connection may sit idle in the pool before it is closed. Without
/// the pool's timer hyper-util never closes one: each callback destination seen once kept its
/// sockets open for good (the soak's open files grew by ~20 a minute).
const POOL_IDLE: Duration = Duration::from_secs(30);

/// Largest answer body read; the rest is an error.
const MAX_ANSWER: usize = 1 << 20;

/// Why a request got no HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("bad request: {0}")]
    Request(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Transport(String),
}

impl ClientError {
    /// The number retry schemes match on: ETIMEDOUT (110) for a timeout, ECONNREFUSED (111)
    /// for every other transport failure, as a connect() errno would say.
    pub fn code(&self) -> u32 {
        match self {
            ClientError::Timeout(_) => 110,
            _ => 111,
        }
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

/// A request to make.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Content type and body (POST).
    pub body: Option<(&'static str, Vec<u8>)>,
}

/// A pooled client; clone freely.
#[derive(Clone)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Client {
    pub fn new() -> Client {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // The ring provider supports the default protocol versions; this cannot fail.
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Client::with_tls_config(tls)
    }

    /// A client for an outgoing HTTP connector: trusting its `tls_ca` (else the system's
    /// roots) and showing its `tls_cert` on https:// URLs.
    pub fn for_connector(cfg: &config::Connector) -> anyhow::Result<Client> {
        match &cfg.tls {
            None => Ok(Client::new()),
            Some(tls) => Ok(Client::with_tls_config(
                (*crate::tls::client_config(tls)?).clone(),
            )),
        }
    }

    fn with_tls_config(tls: rustls::ClientConfig) -> Client {
        Client::pooled(tls, POOL_IDLE)
    }

    fn pooled(tls: rustls::ClientConfig, idle: Duration) -> Client {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(idle)
            .pool_max_idle_per_host(256)
            .build(connector);
        Client { inner }
    }

    /// Make `call`, waiting at most `timeout` for the whole answer.
    pub async fn call(&self, call: &Call, timeout: Duration) -> Result<Answer, ClientError> {
        let mut req = Request::builder()
            .method(call.method.clone())
            .uri(&call.url);
        for (k, v) in &call.headers {
            req = req.header(k, v);
        }
        let body = match &call.body {
            Some((ct, b)) => {
                req = req.header(hyper::header::CONTENT_TYPE, *ct);
                Full::new(Bytes::from(b.clone()))
            }
            None => Full::new(Bytes::new()),
        };
        let req = req
            .body(body)
            .map_err(|e| ClientError::Request(e.to_string()))?;
        let work = async {
            let resp = self
                .inner
                .request(req)
                .await
                .map_err(|e| ClientError::Transport(describe(&e)))?;
            let status = resp.status().as_u16();
            let body = Limited::new(resp.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| ClientError::Transport(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok(Answer { status, body })
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

/// The innermost cause of a client error (hyper's own text is just "client error (Connect)").
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        text = format!("{text}: {s}");
        cur = s.source();
    }
    text
}

/// `Basic base64(user:password)`.
pub fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// `application/x-www-form-urlencoded` of `pairs`.
pub fn form(pairs: &[(String, String)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// `url` with `query` appended (after `?` or `&`).
pub fn with_query(url: &str, query: &str) -> String {
    if query.is_empty() {
        return url.to_string();
    }
    let sep = if url.contains('?') {
        if url.ends_with('?') || url.ends_with('&') {
            ""
        } else {
            "&"
        }
    } else {
        "?"
    };
    format!("{url}{sep}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_join_urls() {
        assert_eq!(with_query("http://h/p", "a=1"), "http://h/p?a=1");
        assert_eq!(with_query("http://h/p?x=2", "a=1"), "http://h/p?x=2&a=1");
        assert_eq!(with_query("http://h/p?", "a=1"), "http://h/p?a=1");
        assert_eq!(
            form(&[("t".into(), "a b&c".into())]),
            "t=a+b%26c".to_string()
        );
        assert_eq!(basic_auth("u", "p"), "Basic dTpw");
    }

    /// An idle kept-alive connection is closed after the pool's idle time, even when no
    /// request ever goes to its destination again.
    #[tokio::test]
    async fn idle_pooled_connections_are_closed() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed before the request");
                seen.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .unwrap();
            let started = tokio::time::Instant::now();
            // Keep-alive: the next read ends only when the client closes its side.
            let n = s.read(&mut buf).await.unwrap();
            (n, started.elapsed())
        });
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let client = Client::pooled(tls, Duration::from_millis(300));
        let call = Call {
            method: Method::GET,
            url: format!("http://127.0.0.1:{port}/dlr"),
            headers: vec![],
            body: None,
        };
        let answer = client.call(&call, Duration::from_secs(5)).await.unwrap();
        assert_eq!((answer.status, &answer.body[..]), (200, &b"ok"[..]));
        let (n, after) = tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("the idle connection is closed within 10 s")
            .unwrap();
        assert_eq!(n, 0, "EOF, not another request");
        assert!(
            after >= Duration::from_millis(250),
            "closed after {after:?}"
        );
        drop(client);
    }
}

//! The HTTP client of DLR callbacks and outgoing HTTP connectors: hyper-util's pooled client
//! (keep-alive connections, HTTP/1.1) over rustls with the ring provider the rest of emgd uses,
//! trusting the system's root certificates.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

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
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
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
}

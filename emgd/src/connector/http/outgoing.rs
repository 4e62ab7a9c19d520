//! Outgoing HTTP: messages sent to a provider's HTTP API.
//!
//! `address` is the URL (with `{placeholders}`), `http_method` GET or POST, `http_params` the
//! provider's parameter names and their value templates, `http_headers` extra headers, and
//! `username`/`password` Basic auth. The answer decides: a status in `http_success` (200 by
//! default, as EMG) whose body matches `http_success_match` is a success, and the provider's
//! id is taken from the body (`remote_id_regex` or `remote_id_json`) to match its DLR later.
//! Without either rule the provider is taken to send no DLRs, and a report is made from the
//! answer at once (EMG's DLR_SUPPORT=0). A status in `http_temporary`, a timeout or a
//! connection failure is temporary: the message goes back to the head of the queue and the
//! instance backs off as the retry scheme's connector rule says (command 0, the status or
//! 110/111 as error), unless a message rule matches, which then decides for that message.
//! Any other answer fails the message. `dlr_address` is our listener for the provider's DLRs
//! and MO messages (see [`super::provider`]).
//!
//! The runtime runs the instances, each with `windowsize` requests in flight ([`calls`]); this
//! file makes the request and reads its answer.

use super::client::{Client, ClientError};
use super::convert::{remote_id, request_for, succeeded};
use crate::connector::runtime::calls::{self, CallOutcome, Caller};
use crate::connector::runtime::link::Link;
use crate::connector::runtime::state::{ConnectorHandle, SessionInfo};
use crate::gateway::Gateway;
use common::message::Message;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// The retry-scheme command number of an HTTP send.
pub const HTTP_COMMAND: u32 = 0;

/// Open the listener for the provider's DLRs and MO messages, when `dlr_address` is set.
pub async fn bind(cfg: &config::Connector) -> std::io::Result<Option<TcpListener>> {
    match &cfg.http.dlr_address {
        Some(a) => TcpListener::bind(a).await.map(Some),
        None => Ok(None),
    }
}

/// Run every instance, and the DLR/MO listener, until shutdown.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, listener: Option<TcpListener>) {
    let provider = listener.map(|l| {
        let link = Link::new(gw.clone(), connector.clone(), 0);
        tokio::spawn(super::provider::serve(link, l))
    });
    // The files were checked when the configuration was read; one changed since is
    // logged and the system's roots used meanwhile.
    let client = Client::for_connector(&connector.config()).unwrap_or_else(|e| {
        tracing::error!(
            "connector {}: TLS files: {e:#}; the system's roots are trusted",
            connector.name
        );
        Client::new()
    });
    let caller = Arc::new(HttpOut { client });
    calls::run(gw, connector, caller).await;
    if let Some(p) = provider {
        let _ = p.await;
    }
}

/// Sends each message as one request to the provider.
struct HttpOut {
    client: Client,
}

impl Caller for HttpOut {
    const RECORDS_SUBMITTING: bool = true;

    fn open(&self, link: &Link) -> SessionInfo {
        let cfg = link.config();
        SessionInfo {
            instance: link.instance,
            peer: cfg.address.clone(),
            bind: Some("http".into()),
            user: cfg.username.clone(),
            since_us: crate::clock::now_us(),
        }
    }

    async fn call(self: Arc<Self>, link: Link, m: Message) -> CallOutcome {
        let cfg = link.config();
        let call = request_for(&cfg, &m);
        let shown = call.url.split('?').next().unwrap_or_default().to_string();
        let started = Instant::now();
        let result = self
            .client
            .call(&call, Duration::from_secs(cfg.http.timeout))
            .await;
        let took = started.elapsed();
        crate::metrics::global().submit_response(link.name(), took);
        link.log_pdu(|| {
            let answer = match &result {
                Ok(a) => format!("status:{} datalen:{}", a.status, a.body.len()),
                Err(e) => format!("error:\"{e}\""),
            };
            format!(
                "Write {} {shown} id:{} -> {answer} ({} ms)",
                call.method,
                m.id,
                took.as_millis()
            )
        });
        let error = match result {
            Ok(a) if succeeded(&cfg, &a) => {
                let id = cfg.http.remote_id.as_ref().and_then(|rule| {
                    let id = remote_id(rule, &a.body);
                    if id.is_none() {
                        link.log(format!(
                            "SUBMIT WARN (info=\"message {}: no provider id in the answer; its DLR cannot be matched\")",
                            m.id
                        ));
                    }
                    id
                });
                // Without `dlr_support` (the default when no provider id is read) the answer
                // is all the sender will hear.
                return calls::taken(&cfg, &m, id);
            }
            Ok(a) if !cfg.http.temporary.contains(&a.status) => {
                // Permanent, unless the retry scheme says otherwise.
                link.log(format!(
                    "SUBMIT ERR (info=\"message {}: HTTP {}\")",
                    m.id, a.status
                ));
                return CallOutcome::Refused {
                    command: HTTP_COMMAND,
                    error: u32::from(a.status),
                };
            }
            Ok(a) => u32::from(a.status),
            Err(e) => {
                link.log(format!("CONNECT ERR (info=\"{}\")", e.code()));
                tracing::debug!("connector {}: {e}", link.name());
                ClientError::code(&e)
            }
        };
        CallOutcome::Temporary {
            command: HTTP_COMMAND,
            error,
        }
    }
}

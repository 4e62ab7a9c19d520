//! Incoming HTTP: the send API for applications, message status lookups, and the DLR
//! callbacks to the URLs they give.
//!
//! Paths (GET, or POST with a form or JSON body):
//! - `/bin/send`, `/send` (EMG and Jasmin; `coding` is an SMPP data_coding) and
//!   `/cgi-bin/sendsms` (Kannel; `coding` 0/1/2): send one message. A `.json` suffix, a JSON
//!   body or `Accept: application/json` selects a JSON answer.
//! - `/status?id=N` or `/status/N`: where a message is (JSON).
//! - `/health`: 200 while the store commits and answers, else 503 with the reason.
//! - `/balance` and `/rate`: Jasmin's account queries ([`super::balance`]).
//!
//! Users are the same `[user.NAME]` entries SMPP binds with (Basic auth or `username` and
//! `password` parameters); their `throughput` refuses with 429, the connector's paces answers.
//! A message is answered only once it is stored. See `man/emg-http.7`.

use super::answer::{answer, Asked, Batch, Style};
use super::callback;
use super::client::Client;
use super::convert::message_of;
use super::listener::{self, Peer};
use super::params::{ParamError, ID};
use super::reply::ApiError;
use super::request::{self, Incoming};
use super::send::{Dialect, SendRequest};
use crate::connector::runtime::link::Link;
use crate::connector::runtime::link::Refused;
use crate::connector::runtime::state::{ConnState, ConnectorHandle, SessionInfo};
use crate::gateway::Gateway;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::message::MsgType;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

/// Open the connector's listening socket.
pub async fn bind(cfg: &config::Connector) -> std::io::Result<TcpListener> {
    crate::connector::runtime::incoming::listen(cfg, "0.0.0.0:8080").await
}

#[derive(Clone)]
struct App {
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
}

impl App {
    /// The instance a request's connection holds.
    fn link(&self, peer: &Peer) -> Link {
        Link::new(self.gw.clone(), self.connector.clone(), peer.instance())
    }
}

/// Serve the API and run the DLR callbacks until shutdown.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, listener: TcpListener) {
    let callbacks = tokio::spawn(callback::run(gw.clone(), connector.clone(), Client::new()));
    let app = App {
        gw: gw.clone(),
        connector: connector.clone(),
    };
    listener::serve(gw, connector, listener, router(app)).await;
    let _ = callbacks.await;
}

fn router(app: App) -> axum::Router {
    let health = {
        let gw = app.gw.clone();
        move || async move {
            match gw.health().await {
                Ok(()) => (axum::http::StatusCode::OK, "OK\n".to_string()),
                Err(why) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, why),
            }
        }
    };
    axum::Router::new()
        .route("/bin/send", get(send).post(send))
        .route("/bin/send.json", get(send).post(send))
        .route("/bin/send.xml", get(send).post(send))
        .route("/send", get(send).post(send))
        .route("/send.json", get(send).post(send))
        .route("/cgi-bin/sendsms", get(send).post(send))
        .route("/status", get(status).post(status))
        .route("/status/{id}", get(status_path))
        .route("/health", get(health))
        .route("/balance", get(balance).post(balance))
        .route("/rate", get(rate).post(rate))
        // `http_max_body` is applied by the listener instead, per request.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(app)
}

/// Count and time the answer.
fn answered(app: &App, started: Instant, resp: Response) -> Response {
    crate::metrics::global().http_request(
        &app.connector.name,
        resp.status().as_u16(),
        started.elapsed(),
    );
    resp
}

/// The authenticated user and account of a request, or 401.
fn authenticate(app: &App, peer: &Peer, incoming: &Incoming) -> Result<(String, String), ApiError> {
    let cfg = app.gw.config();
    let connector = app.connector.config();
    let Some((name, password)) = &incoming.credentials else {
        return Err(ApiError::Unauthorized);
    };
    let user = match app
        .link(peer)
        .authenticate(&cfg, name, password, peer.addr.ip())
    {
        Ok(user) => user,
        Err(Refused::Wrong) => {
            app.link(peer).log(format!("LOGIN ERR (info=\"{name}\")"));
            return Err(ApiError::Unauthorized);
        }
        // Logged already.
        Err(Refused::Blocked(b)) => {
            return Err(ApiError::LoginBlocked {
                message: b.to_string(),
                retry_after: b.retry_after().as_secs(),
            })
        }
    };
    // Authenticated: only now does the connection take one of the connector's instances.
    let Some(instance) = peer.claim() else {
        let busy = format!("all {} instances busy", connector.instances);
        app.link(peer).log(format!("CONNECT ERR (info=\"{busy}\")"));
        return Err(ApiError::Unavailable(busy));
    };
    let link = app.link(peer);
    if app.connector.states().get(instance as usize) != Some(&ConnState::Bound) {
        link.bound(SessionInfo {
            instance,
            peer: Some(peer.addr.to_string()),
            bind: Some("http".into()),
            user: Some(user.name.clone()),
            since_us: crate::clock::now_us(),
        });
    }
    Ok((user.name.clone(), crate::users::account_of(user)))
}

async fn send(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let (incoming, read_error) = match request::read(&uri, &headers, &body) {
        Ok(i) => (i, None),
        Err(e) => (Incoming::default(), Some(ApiError::from(e))),
    };
    let style = Style::of(uri.path(), incoming.accept_json, incoming.json_body);
    let outcome = match read_error {
        Some(e) => Err(e),
        None => {
            // Only EMG's JSON and XML answers carry the balance.
            let with_balance = matches!(style, Style::Json | Style::EmgXml);
            accept(&app, &peer, uri.path(), &incoming, with_balance).await
        }
    };
    let failures = match &outcome {
        Err(e) => vec![e],
        Ok(b) => b.results.iter().filter_map(|r| r.as_ref().err()).collect(),
    };
    for e in failures
        .into_iter()
        .filter(|e| !matches!(e, ApiError::Unauthorized))
    {
        app.link(&peer).log(format!(
            "SUBMIT ERR (info=\"{} {}\")",
            e.code(),
            e.message()
        ));
    }
    let asked = Asked {
        params: &incoming.params,
        user: incoming.credentials.as_ref().map(|(u, _)| u.as_str()),
    };
    answered(&app, started, answer(style, &outcome, &asked))
}

/// `/balance` and `/rate`, JSON answers for an authenticated user.
async fn account_query(
    app: &App,
    peer: &Peer,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    rate: bool,
) -> Result<serde_json::Value, ApiError> {
    let incoming = request::read(uri, headers, body)?;
    let (user, account) = authenticate(app, peer, &incoming)?;
    if rate {
        let name = &app.connector.name;
        super::balance::rate(&app.gw, name, user, account, uri, headers, body)
    } else {
        super::balance::balance_of(&app.gw, &account).await
    }
}

async fn balance(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let resp = match account_query(&app, &peer, &uri, &headers, &body, false).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.response(true),
    };
    answered(&app, started, resp)
}

async fn rate(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let resp = match account_query(&app, &peer, &uri, &headers, &body, true).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.response(true),
    };
    answered(&app, started, resp)
}

/// Check a send request and take its messages, one per recipient, each stored before the
/// answer; a refusal of the whole request is `Err`.
async fn accept(
    app: &App,
    peer: &Peer,
    path: &str,
    incoming: &Incoming,
    with_balance: bool,
) -> Result<Batch, ApiError> {
    let dialect = Dialect::of_path(path);
    // Jasmin checks its parameters before the credentials, Kannel and EMG after.
    let parsed = || SendRequest::parse(&incoming.params, dialect).map_err(ApiError::from);
    let early = match dialect {
        Dialect::Jasmin if incoming.credentials.is_some() => Some(parsed()?),
        _ => None,
    };
    let (user, account) = authenticate(app, peer, incoming)?;
    let link = app.link(peer);
    if !link.may_receive() {
        return Err(crate::gateway::Reject::NotReceiving(app.connector.name.clone()).into());
    }
    if !app.gw.user_allows(&user) {
        return Err(ApiError::Throttled);
    }
    // EMG's DLR injection: MSGTYPE=5 with ORIGID and MESSAGESTATE.
    if let Some((origid, status)) = crate::connector::mgp::options::injection(&incoming.params)? {
        let id = app.gw.inject_report(&origid, status).await?;
        return Ok(Batch {
            // The answer names the message by the emg id ORIGID matched (its own, or its
            // next hop's id for it).
            results: vec![Ok(id)],
            parts: 0,
            data_coding: 0,
            balance: None,
        });
    }
    let req = match early {
        Some(r) => r,
        None => parsed()?,
    };
    if let Some(a) = req.account.as_deref().filter(|a| *a != account) {
        return Err(ApiError::BadParameter(ParamError::new(
            "account",
            format!("user {user} sends for account {account}, not {a}"),
        )));
    }
    let name = &app.connector.name;
    let results = futures_util::future::join_all(req.to.iter().map(|to| {
        let message = message_of(name, &user, &account, &req, to);
        let link = &link;
        async move { link.receive(message).await.map_err(ApiError::from) }
    }))
    .await;
    // Only a charged account has one to read.
    let balance = if with_balance && !app.gw.config().prices.entries.is_empty() {
        app.gw
            .store
            .balances(Some(account))
            .await
            .ok()
            .and_then(|b| b.first().map(|b| b.balance.to_string()))
    } else {
        None
    };
    Ok(Batch {
        results,
        parts: req.parts,
        data_coding: req.data_coding,
        balance,
    })
}

async fn status(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    lookup(app, &peer, uri, headers, body, None).await
}

async fn status_path(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    lookup(app, &peer, uri, headers, Bytes::new(), Some(id)).await
}

async fn lookup(
    app: App,
    peer: &Peer,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    path_id: Option<String>,
) -> Response {
    let started = Instant::now();
    let resp = match status_of(&app, peer, &uri, &headers, &body, path_id).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.response(true),
    };
    answered(&app, started, resp)
}

fn iso(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

async fn status_of(
    app: &App,
    peer: &Peer,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    path_id: Option<String>,
) -> Result<serde_json::Value, ApiError> {
    let incoming = request::read(uri, headers, body)?;
    let (user, _) = authenticate(app, peer, &incoming)?;
    let (name, text) = match path_id {
        Some(id) => ("id".to_string(), id),
        None => match incoming.params.text(ID)? {
            Some((w, s)) => (w.to_string(), s),
            None => return Err(ParamError::new("id", "missing (the message id)").into()),
        },
    };
    let id: u64 = text
        .parse()
        .map_err(|_| ParamError::new(name, format!("`{text}` is not a message id")))?;
    let not_found = || ApiError::NotFound(format!("message {id} does not exist"));
    let stored = app
        .gw
        .store
        .message(id)
        .await
        .map_err(|e| ApiError::Unavailable(format!("cannot read message {id}: {e}")))?
        .ok_or_else(not_found)?;
    let m = &stored.message;
    // Users see their own messages only; others' do not exist for them.
    if m.origin.user.as_deref() != Some(user.as_str()) || m.msgtype == MsgType::Dlr {
        return Err(not_found());
    }
    let parts =
        common::concat::split_encoded(&m.body, m.data_coding, common::concat::Method::Udh8, 0)
            .map_or(1, |p| p.len());
    Ok(serde_json::json!({
        "id": id.to_string(),
        "state": stored.state.name(),
        "status": stored.status,
        "to": m.dest.addr,
        "from": m.source.addr,
        "parts": if m.esm_class & 0x40 != 0 { 1 } else { parts },
        "connector": m.target,
        "remote_id": stored.remote_id,
        "submitted": iso(m.received_us),
        "updated": iso(stored.updated_us),
    }))
}

//! EMG's server management over HTTP (EMG 7.2's `/admin/...`) and Kannel's status page, on
//! the listener `admin_address`. Every verb is an MGP operation handed to the same
//! [`Server`] an MGP session uses, after the same operator login ([`auth::login`], with its
//! brake on failures) and the same role check ([`required_role`]): no second implementation.
//!
//! | path (GET or POST) | MGP operation |
//! |---|---|
//! | `/admin/info` | `status` |
//! | `/admin/info/reload` | `reload` |
//! | `/admin/connectors` | `connectors` |
//! | `/admin/queue/NAME` | `queue_list` (first 10) |
//! | `/admin/connector/NAME/hold`, `/unhold` | `hold`, `release` |
//! | `/admin/connector/NAME/forceclose/1`, `/0` | `forceclose` (`?persist=1` stores it), `forceclose_clear` |
//! | `/admin/connector/NAME/bounce` | `bounce` |
//! | `/admin/connector/NAME/clear` | `queue_clear` |
//! | `/admin/connector/NAME/moveall/OTHER` | `queue_move` |
//! | `/status`, `/status.txt`, `/status.xml`, `/status.json` (`?format=`) | `status` and `connector` ([`status_page`]) |
//!
//! Operators log in with HTTP Basic, or `username` and `password` parameters (Kannel's
//! monitoring URLs carry `password=`). Answers are the operation's JSON `ok` object;
//! refusals `{"error":CODE,"message":...}` with 400/401/403/404/409/500.

use super::auth;
use super::dispatch::required_role;
use super::peer::Peer;
use super::server::Server;
use super::session::{role_name, Service, Streams};
use super::status_page::{self, Format};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use common::mgp::{ConnectorDetail, ConnectorList, ErrorBody, ErrorCode, Op, Role, Status};
use std::net::SocketAddr;
use std::sync::Arc;

/// Queue entries `/admin/queue/NAME` shows, as EMG's does.
const QUEUE_ENTRIES: usize = 10;

/// Serve the admin API on `listener` until shutdown.
pub async fn serve(server: Arc<Server>, listener: tokio::net::TcpListener) {
    if let Ok(a) = listener.local_addr() {
        tracing::info!("HTTP admin listening on {a}");
    }
    let mut shutdown = server.shutdown_signal();
    let app = router(server);
    let stop = async move { crate::gateway::stopped(&mut shutdown).await };
    if let Err(e) = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
    {
        tracing::error!("HTTP admin listener failed: {e}");
    }
}

fn router(server: Arc<Server>) -> axum::Router {
    axum::Router::new()
        .route("/admin/{*path}", any(admin))
        .route("/status", any(status))
        .route("/status.txt", any(status))
        .route("/status.xml", any(status))
        .route("/status.json", any(status))
        .with_state(server)
}

/// The MGP operation of an admin path (what follows `/admin/`).
fn op_of(path: &str, q: &[(String, String)]) -> Result<Op, ErrorBody> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let name = |s: &str| s.to_string();
    Ok(match parts.as_slice() {
        ["info"] => Op::Status,
        ["info", "reload"] => Op::Reload,
        ["connectors"] => Op::Connectors,
        ["queue", conn] => Op::QueueList {
            name: Some(name(conn)),
            limit: Some(QUEUE_ENTRIES),
        },
        ["connector", conn, "hold"] => Op::Hold { name: name(conn) },
        ["connector", conn, "unhold"] => Op::Release { name: name(conn) },
        ["connector", conn, "bounce"] => Op::Bounce { name: name(conn) },
        ["connector", conn, "clear"] => Op::QueueClear { name: name(conn) },
        ["connector", conn, "forceclose", "1"] => Op::Forceclose {
            name: name(conn),
            persist: matches!(param(q, "persist"), Some("1" | "yes" | "true")),
        },
        ["connector", conn, "forceclose", "0"] => Op::ForcecloseClear { name: name(conn) },
        ["connector", conn, "moveall", to] => Op::QueueMove {
            from: name(conn),
            to: name(to),
            dest_prefix: None,
        },
        _ => {
            return Err(ErrorBody::not_found(format!(
                "no admin verb /admin/{path}: info, info/reload, connectors, queue/NAME, \
                 connector/NAME/hold, unhold, forceclose/1, forceclose/0, bounce, clear, moveall/OTHER"
            )))
        }
    })
}

/// The parameters of the query string.
fn query(uri: &Uri) -> Vec<(String, String)> {
    let mut p = crate::connector::http::params::Params::default();
    p.add_urlencoded(uri.query().unwrap_or_default().as_bytes());
    ["username", "password", "persist", "format"]
        .iter()
        .filter_map(|n| p.text(&[n]).ok().flatten().map(|(_, v)| (n.to_string(), v)))
        .collect()
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The operator a request logs in as (Basic, else the `username`/`password` parameters).
fn credentials(headers: &HeaderMap, q: &[(String, String)]) -> Option<(String, String)> {
    use base64::Engine;
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|t| {
            base64::engine::general_purpose::STANDARD
                .decode(t.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|t| {
            t.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
        });
    basic.or_else(|| {
        Some((
            param(q, "username")?.to_string(),
            param(q, "password").unwrap_or_default().to_string(),
        ))
    })
}

/// Log in: the operator and role, as an MGP `login` gives them.
async fn login(
    server: &Arc<Server>,
    addr: SocketAddr,
    headers: &HeaderMap,
    q: &[(String, String)],
) -> Result<(String, Role), ErrorBody> {
    let Some((user, password)) = credentials(headers, q) else {
        return Err(ErrorBody::new(
            ErrorCode::NotAuthenticated,
            "log in: HTTP Basic, or username and password parameters",
        ));
    };
    let cfg = server.config();
    let role = auth::login(
        &cfg.operators,
        server.limiter(),
        &Peer::Tcp(addr),
        &user,
        &password,
    )
    .await?;
    Ok((user, role))
}

/// Run `op` for `user` as an MGP session would: the role check, then the operation.
async fn call(
    server: &Arc<Server>,
    (user, role): &(String, Role),
    op: Op,
) -> Result<serde_json::Value, ErrorBody> {
    let needed = required_role(&op);
    if *role < needed {
        return Err(ErrorBody::new(
            ErrorCode::Forbidden,
            format!(
                "operator {user} (role {}) may not {}: it needs role {}",
                role_name(*role),
                op.name(),
                role_name(needed)
            ),
        ));
    }
    server.call(op, user, &mut Streams::none()).await
}

fn refusal(e: ErrorBody) -> Response {
    let status = match e.code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::NotAuthenticated | ErrorCode::AuthFailed => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Refused => StatusCode::CONFLICT,
        ErrorCode::NoBalance => StatusCode::PAYMENT_REQUIRED,
        ErrorCode::FrameTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = serde_json::json!({"error": e.code.as_str(), "message": e.message});
    let mut resp = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"emg admin\""),
        );
    }
    resp
}

async fn admin(
    State(server): State<Arc<Server>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Path(path): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let q = query(&uri);
    let result = async {
        let who = login(&server, addr, &headers, &q).await?;
        call(&server, &who, op_of(&path, &q)?).await
    };
    match result.await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => refusal(e),
    }
}

async fn status(
    State(server): State<Arc<Server>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let q = query(&uri);
    let Some(format) = Format::of(uri.path(), param(&q, "format")) else {
        return refusal(ErrorBody::bad_request("format is txt, xml or json"));
    };
    let page = async {
        let who = login(&server, addr, &headers, &q).await?;
        let status: Status = decode(call(&server, &who, Op::Status).await?)?;
        let list: ConnectorList = decode(call(&server, &who, Op::Connectors).await?)?;
        let mut details: Vec<ConnectorDetail> = Vec::new();
        for c in list.connectors {
            let op = Op::Connector { name: c.name };
            details.push(decode(call(&server, &who, op).await?)?);
        }
        Ok::<_, ErrorBody>(status_page::render(
            format,
            &status,
            &details,
            crate::clock::now_us(),
        ))
    };
    match page.await {
        Ok(text) => {
            let mut resp = text.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            resp
        }
        Err(e) => refusal(e),
    }
}

fn decode<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, ErrorBody> {
    serde_json::from_value(v)
        .map_err(|e| ErrorBody::internal(format!("cannot read the answer: {e}")))
}

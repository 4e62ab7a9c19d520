//! The listener of an outgoing HTTP connector (`dlr_address`) where its provider posts delivery
//! reports (`/dlr`) and MO messages (`/mo`), GET or POST, form or JSON. Parameter names come
//! from `dlr_params` and `mo_params`; only addresses in the connector's `access` list may call.
//!
//! A DLR is matched through the gateway like an SMPP receipt (the id normalised as
//! `dlr_id_format` says; one that arrives before the send's answer is parked); an MO message is
//! routed like any received message.

use super::convert::{mo_message, status_of};
use super::params::{normalise, ParamError, Params};
use super::reply::ApiError;
use super::request;
use crate::connector::runtime::link::Link;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::dlr::DlrStatus;
use std::net::SocketAddr;
use tokio::net::TcpListener;

#[derive(Clone)]
struct App {
    link: Link,
}

/// Serve `/dlr` and `/mo` until shutdown.
pub async fn serve(link: Link, listener: TcpListener) {
    let mut shutdown = link.shutdown_signal();
    let name = link.name().to_string();
    let app = axum::Router::new()
        .route("/dlr", get(dlr).post(dlr))
        .route("/mo", get(mo).post(mo))
        .with_state(App { link });
    let stop = async move { crate::gateway::stopped(&mut shutdown).await };
    if let Err(e) = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
    {
        tracing::error!("connector {name}: DLR listener failed: {e}");
    }
}

/// The parameters of a provider's request, after the access check.
fn read(
    app: &App,
    peer: SocketAddr,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(bool, Params), (bool, ApiError)> {
    let incoming = request::read(uri, headers, body).map_err(|e| (false, e.into()))?;
    if !crate::access::allowed(&app.link.config().access, peer.ip()) {
        return Err((incoming.json, ApiError::Unauthorized));
    }
    Ok((incoming.json, incoming.params))
}

/// The value of our `field`, named as `names` (dlr_params or mo_params) says.
fn field(
    p: &Params,
    names: &std::collections::BTreeMap<String, String>,
    field: &str,
) -> Result<Option<(String, String)>, ParamError> {
    let name = names.get(field).map_or(field, String::as_str);
    Ok(p.text(&[normalise(name).as_str()])?
        .map(|(w, v)| (w.to_string(), v)))
}

async fn dlr(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (json, p) = match read(&app, peer, &uri, &headers, &body) {
        Ok(r) => r,
        Err((json, e)) => return e.response(json),
    };
    let cfg = app.link.config();
    let names = &cfg.http.dlr_params;
    let parsed = (|| -> Result<(String, DlrStatus, u32), ParamError> {
        let (_, id) = field(&p, names, "id")?
            .filter(|(_, v)| !v.is_empty())
            .ok_or_else(|| ParamError::new(&names["id"], "missing (the provider's message id)"))?;
        let (sw, s) = field(&p, names, "status")?
            .ok_or_else(|| ParamError::new(&names["status"], "missing (the delivery state)"))?;
        let status = status_of(&s)
            .ok_or_else(|| ParamError::new(sw, format!("`{s}` is not a delivery state")))?;
        let error = match field(&p, names, "error")? {
            Some((ew, e)) if !e.is_empty() => e
                .parse::<u32>()
                .map_err(|_| ParamError::new(ew, format!("`{e}` is not a number")))?,
            _ => 0,
        };
        Ok((id, status, error))
    })();
    let (id, status, error) = match parsed {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).response(json),
    };
    if app.link.receipt(&id, status, error).await {
        (StatusCode::OK, "OK\n").into_response()
    } else {
        app.link.log(format!(
            "RECEIPT ERR (info=\"no message awaits a report for {id}\")"
        ));
        (
            StatusCode::ACCEPTED,
            "no message matches this id yet; kept for dlr_park_seconds\n",
        )
            .into_response()
    }
}

async fn mo(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (json, p) = match read(&app, peer, &uri, &headers, &body) {
        Ok(r) => r,
        Err((json, e)) => return e.response(json),
    };
    let cfg = app.link.config();
    let names = &cfg.http.mo_params;
    let parsed = (|| -> Result<(String, String, String), ParamError> {
        let (_, from) = field(&p, names, "from")?.unwrap_or_default();
        let (_, to) = field(&p, names, "to")?
            .filter(|(_, v)| !v.is_empty())
            .ok_or_else(|| ParamError::new(&names["to"], "missing (the recipient)"))?;
        let text = match p.get(&[normalise(&names["text"]).as_str()]) {
            Some((w, v)) => std::str::from_utf8(v)
                .map_err(|_| ParamError::new(w, "not valid UTF-8"))?
                .to_string(),
            None => return Err(ParamError::new(&names["text"], "missing")),
        };
        Ok((from, to, text))
    })();
    let (from, to, text) = match parsed {
        Ok(v) => v,
        Err(e) => return ApiError::from(e).response(json),
    };
    let message = mo_message(app.link.name(), &from, &to, &text);
    match app.link.receive(message).await {
        Ok(id) => {
            axum::Json(serde_json::json!({"status": "OK", "msgid": id.to_string()})).into_response()
        }
        Err(r) => ApiError::from(r).response(json),
    }
}

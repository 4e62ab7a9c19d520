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
//! and MO messages (see [`super::http::provider`]).

use super::http::client::{basic_auth, form, with_query, Answer, Call, Client, ClientError};
use super::http::template::{self, url_encode};
use super::{ConnState, ConnectorHandle, SessionInfo};
use crate::gateway::{stopped, Gateway};
use common::dlr::DlrStatus;
use common::message::Message;
use config::{HttpBody, HttpMethod, RemoteId};
use hyper::Method;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

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
    let client = Client::new();
    let mut tasks = JoinSet::new();
    if let Some(l) = listener {
        tasks.spawn(super::http::provider::serve(
            gw.clone(),
            connector.clone(),
            l,
        ));
    }
    for instance in 0..connector.config().instances {
        tasks.spawn(run_instance(
            gw.clone(),
            connector.clone(),
            instance,
            client.clone(),
        ));
    }
    while tasks.join_next().await.is_some() {}
}

/// How one send ended, for the instance's backoff.
enum Outcome {
    Done,
    /// A temporary failure of the provider (status, or 110/111): back off.
    Temporary(u32),
}

async fn run_instance(
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    instance: u32,
    client: Client,
) {
    let mut shutdown = gw.shutdown_signal();
    let mut inflight: JoinSet<Outcome> = JoinSet::new();
    let mut failures = 0u32;
    let bound = |c: &ConnectorHandle| {
        let cfg = c.config();
        c.set_session(
            instance,
            Some(SessionInfo {
                instance,
                peer: cfg.address.clone(),
                bind: Some("http".into()),
                user: cfg.username.clone(),
                since_us: crate::clock::now_us(),
            }),
        );
        c.set_state(instance, ConnState::Bound);
    };
    bound(&connector);
    loop {
        let window = connector.config().windowsize.max(1) as usize;
        tokio::select! {
            _ = stopped(&mut shutdown) => break,
            Some(done) = inflight.join_next(), if !inflight.is_empty() => {
                match done {
                    Ok(Outcome::Temporary(code)) => {
                        failures += 1;
                        let rule = connector.config().retryscheme.connector_rule(HTTP_COMMAND, code);
                        let (state, wait) = if failures >= rule.connects.max(1) {
                            gw.logs.connector(&connector.name, instance, format!(
                                "ERROR (info=\"{failures} sends failed, next round in {} s\")", rule.maxsleep));
                            failures = 0;
                            (ConnState::Error, rule.maxsleep)
                        } else {
                            (ConnState::Idle, rule.retrytime)
                        };
                        connector.set_state(instance, state);
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(wait)) => {}
                            _ = stopped(&mut shutdown) => break,
                        }
                        bound(&connector);
                    }
                    Ok(Outcome::Done) => failures = 0,
                    Err(e) => tracing::error!("connector {}: send task failed: {e}", connector.name),
                }
            }
            m = connector.next_unheld(None), if inflight.len() < window => {
                connector.pace().await;
                let (gw, connector, client) = (gw.clone(), connector.clone(), client.clone());
                inflight.spawn(async move { send(&gw, &connector, instance, m, &client).await });
            }
            _ = connector.forceclose_set() => {
                connector.set_state(instance, ConnState::Idle);
                tokio::select! {
                    _ = connector.wait_released_or_hold_only() => {}
                    _ = stopped(&mut shutdown) => break,
                }
                bound(&connector);
            }
        }
    }
    connector.set_state(instance, ConnState::Terminating);
    while inflight.join_next().await.is_some() {}
    connector.set_state(instance, ConnState::Dead);
}

/// The request that carries `m`.
fn request_for(cfg: &config::Connector, m: &Message) -> Call {
    let h = &cfg.http;
    let values = template::values(m);
    let url = template::expand(
        cfg.address.as_deref().unwrap_or_default(),
        &values,
        url_encode,
    );
    let params: Vec<(String, String)> = h
        .params
        .iter()
        .map(|(k, t)| (k.clone(), template::expand(t, &values, str::to_string)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let mut headers: Vec<(String, String)> = h
        .headers
        .iter()
        .map(|(k, t)| (k.clone(), template::expand(t, &values, str::to_string)))
        .collect();
    if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
        headers.push(("authorization".into(), basic_auth(u, p)));
    }
    match (h.method, h.body) {
        (HttpMethod::Get, _) => Call {
            method: Method::GET,
            url: with_query(&url, &form(&params)),
            headers,
            body: None,
        },
        (HttpMethod::Post, HttpBody::Form) => Call {
            method: Method::POST,
            url,
            headers,
            body: Some((
                "application/x-www-form-urlencoded",
                form(&params).into_bytes(),
            )),
        },
        (HttpMethod::Post, HttpBody::Json) => {
            let obj: serde_json::Map<String, serde_json::Value> = params
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            Call {
                method: Method::POST,
                url,
                headers,
                body: Some((
                    "application/json",
                    serde_json::Value::Object(obj).to_string().into_bytes(),
                )),
            }
        }
    }
}

/// The provider's message id in its answer.
pub fn remote_id(rule: &RemoteId, body: &[u8]) -> Option<String> {
    let id = match rule {
        RemoteId::Regex(re) => {
            let text = String::from_utf8_lossy(body);
            let re = regex_lite::Regex::new(re).ok()?;
            let caps = re.captures(&text)?;
            caps.get(1).or_else(|| caps.get(0))?.as_str().to_string()
        }
        RemoteId::Json(pointer) => {
            let v: serde_json::Value = serde_json::from_slice(body).ok()?;
            match v.pointer(pointer)? {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return None,
            }
        }
    };
    let id = id.trim().to_string();
    (!id.is_empty()).then_some(id)
}

/// Does the answer count as the provider taking the message?
fn succeeded(cfg: &config::Connector, a: &Answer) -> bool {
    cfg.http.success.contains(&a.status)
        && cfg.http.success_match.as_ref().is_none_or(|re| {
            regex_lite::Regex::new(re)
                .is_ok_and(|re| re.is_match(&String::from_utf8_lossy(&a.body)))
        })
}

async fn send(
    gw: &Arc<Gateway>,
    connector: &Arc<ConnectorHandle>,
    instance: u32,
    m: Message,
    client: &Client,
) -> Outcome {
    if m.expires_us.is_some_and(|t| t <= crate::clock::now_us()) {
        gw.expired(connector, m).await;
        return Outcome::Done;
    }
    if !gw.submitting(connector, std::slice::from_ref(&m)).await {
        gw.unsent(connector, m);
        return Outcome::Temporary(0);
    }
    let wire = match gw.outbound(connector, &m) {
        Ok(wire) => wire,
        Err(refusal) => {
            gw.refused_on_send(connector, m, refusal).await;
            return Outcome::Done;
        }
    };
    let cfg = connector.config();
    let call = request_for(&cfg, &wire);
    let shown = call.url.split('?').next().unwrap_or_default().to_string();
    let started = Instant::now();
    let result = client
        .call(&call, Duration::from_secs(cfg.http.timeout))
        .await;
    let took = started.elapsed();
    crate::metrics::global().submit_response(&connector.name, took);
    let answer_text = match &result {
        Ok(a) => format!("status:{} datalen:{}", a.status, a.body.len()),
        Err(e) => format!("error:\"{e}\""),
    };
    gw.logs.pdu(
        &connector.name,
        instance,
        format!(
            "Write {} {shown} id:{} -> {answer_text} ({} ms)",
            call.method,
            m.id,
            took.as_millis()
        ),
    );
    let code = match result {
        Ok(a) if succeeded(&cfg, &a) => {
            delivered(gw, connector, &cfg, m, &a).await;
            return Outcome::Done;
        }
        Ok(a) if !cfg.http.temporary.contains(&a.status) => {
            // Permanent, unless the retry scheme says otherwise.
            gw.logs.connector(
                &connector.name,
                instance,
                format!("SUBMIT ERR (info=\"message {}: HTTP {}\")", m.id, a.status),
            );
            gw.failed(connector, m, HTTP_COMMAND, u32::from(a.status))
                .await;
            return Outcome::Done;
        }
        Ok(a) => u32::from(a.status),
        Err(e) => {
            gw.logs.connector(
                &connector.name,
                instance,
                format!("CONNECT ERR (info=\"{}\")", e.code()),
            );
            tracing::debug!("connector {}: {e}", connector.name);
            ClientError::code(&e)
        }
    };
    if cfg.retryscheme.message_rule(HTTP_COMMAND, code).is_some() {
        gw.failed(connector, m, HTTP_COMMAND, code).await;
        return Outcome::Done;
    }
    gw.unsent(connector, m);
    Outcome::Temporary(code)
}

/// The provider took `m`: record it, with the id its DLR will name, or report at once when
/// the provider sends no DLRs.
async fn delivered(
    gw: &Arc<Gateway>,
    connector: &Arc<ConnectorHandle>,
    cfg: &config::Connector,
    m: Message,
    a: &Answer,
) {
    match &cfg.http.remote_id {
        Some(rule) => {
            let id = remote_id(rule, &a.body);
            if id.is_none() {
                gw.logs.connector(
                    &connector.name,
                    0,
                    format!(
                        "SUBMIT WARN (info=\"message {}: no provider id in the answer; its DLR cannot be matched\")",
                        m.id
                    ),
                );
            }
            gw.sent(connector, m, id).await;
        }
        None if m.dlr_requested => {
            let id = m.id.to_string();
            gw.sent(connector, m, Some(id.clone())).await;
            gw.receipt(&connector.name, &id, DlrStatus::Delivered, 0)
                .await;
        }
        None => gw.sent(connector, m, None).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_ids_come_from_regex_groups_or_json_pointers() {
        let re = RemoteId::Regex("id=([0-9A-F]+)".into());
        assert_eq!(remote_id(&re, b"OK id=00AB12").as_deref(), Some("00AB12"));
        assert_eq!(remote_id(&re, b"ERR"), None);
        let whole = RemoteId::Regex("[0-9]+".into());
        assert_eq!(remote_id(&whole, b"queued 123").as_deref(), Some("123"));
        let json = RemoteId::Json("/messages/0/id".into());
        assert_eq!(
            remote_id(&json, br#"{"messages":[{"id":77}]}"#).as_deref(),
            Some("77")
        );
        assert_eq!(remote_id(&json, b"not json"), None);
    }
}

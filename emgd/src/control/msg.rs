//! `msg_show`, `msg_cancel`, `send`, `dlr_inject`.

use super::connectors::find;
use super::server::{ok, OpResult, Server};
use crate::connector::http::params::normalise;
use crate::connector::mgp::options::{submission, Submission};
use crate::gateway::{InjectError, QueuedError, Reject};
use crate::store::{MessageState, StoredMessage, Write};
use common::dlr::DlrStatus;
use common::message::{Address, Message, MsgType, Origin};
use common::mgp::{ErrorBody, MessageInfo, MessageRef};

/// The origin connector name of messages sent with `send`.
pub const ORIGIN: &str = "mgp";

async fn lookup(s: &Server, id: u64) -> Result<StoredMessage, ErrorBody> {
    s.gw.store
        .message(id)
        .await
        .map_err(|e| ErrorBody::internal(format!("cannot read message {id}: {e}")))?
        .ok_or_else(|| ErrorBody::not_found(format!("message {id} does not exist")))
}

fn msgtype_name(t: MsgType) -> &'static str {
    match t {
        MsgType::Sms => "sms",
        MsgType::Dlr => "dlr",
        MsgType::Email => "email",
        MsgType::Mms => "mms",
        MsgType::WapPush => "wappush",
    }
}

/// The body as text, for the data codings that carry text.
fn text_of(m: &Message) -> Option<String> {
    match m.data_coding {
        0 | 1 => Some(String::from_utf8_lossy(&m.body).into_owned()),
        3 => Some(m.body.iter().map(|&b| b as char).collect()),
        8 => {
            let units: Vec<u16> = m
                .body
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            Some(String::from_utf16_lossy(&units))
        }
        _ => None,
    }
}

pub async fn show(s: &Server, id: u64) -> OpResult {
    ok(message_info(&lookup(s, id).await?))
}

/// A stored message as `msg_show` (and `msg_history`) describe it.
pub fn message_info(st: &StoredMessage) -> MessageInfo {
    let m = &st.message;
    MessageInfo {
        id: m.id,
        state: st.state.name().to_string(),
        msgtype: msgtype_name(m.msgtype).to_string(),
        source: m.source.addr.clone(),
        dest: m.dest.addr.clone(),
        origin: m.origin.connector.clone(),
        origin_user: m.origin.user.clone(),
        target: m.target.clone(),
        route_entry: m.route_entry.clone(),
        received_us: m.received_us,
        updated_us: st.updated_us,
        remote_id: st.remote_id.clone(),
        status: st.status.clone(),
        dlr_requested: m.dlr_requested,
        attempts: m.attempts,
        text: text_of(m),
        price: m.price.map(|p| p.to_string()),
        cost: m.cost.map(|c| c.to_string()),
        tlvs: m
            .tlvs
            .iter()
            .map(|t| common::smpp::tlv::describe(t.tag, &t.value))
            .collect(),
    }
}

/// Cancel a message still waiting in its queue.
pub async fn cancel(s: &Server, user: &str, id: u64) -> OpResult {
    let target =
        s.gw.cancel_queued(id, format!("cancelled by operator {user}"), |_| true)
            .await
            .map_err(|e| match e {
                QueuedError::NotFound(_) => ErrorBody::not_found(e.to_string()),
                QueuedError::Store(_) => {
                    ErrorBody::internal(format!("message {id} not cancelled: {e}"))
                }
                _ => ErrorBody::refused(format!("{e}; it cannot be cancelled")),
            })?;
    tracing::info!(operator = user, id, "message cancelled");
    ok(MessageRef {
        id,
        target,
        state: MessageState::Cancelled.name().to_string(),
    })
}

/// Move one waiting message to the end of `to`'s queue; the store records its new target
/// first.
pub async fn move_one(s: &Server, user: &str, id: u64, to: &str) -> OpResult {
    let target = find(s, to)?;
    let st = lookup(s, id).await?;
    if st.state != MessageState::Queued {
        return Err(ErrorBody::refused(format!(
            "message {id} is {}; only a waiting message can move",
            st.state.name()
        )));
    }
    let from = st.message.target.clone();
    if from == to {
        return Err(ErrorBody::refused(format!(
            "message {id} is already queued on {to}"
        )));
    }
    let source = find(s, &from)?;
    let Some(mut m) = source.queue.take_id(id).await else {
        return Err(ErrorBody::refused(format!(
            "message {id} is being sent on {from} right now; it cannot move"
        )));
    };
    m.target = to.to_string();
    if let Err(e) = s.gw.store.commit(vec![Write::requeue(&m)]).await {
        m.target = from.clone();
        source.queue.push(m);
        return Err(ErrorBody::internal(format!(
            "message {id} not moved, the store failed: {e}"
        )));
    }
    target.queue.push(m);
    s.gw.logs.connector(
        &from,
        0,
        format!("QUEUE MOVE message {id} to {to} (by operator {user})"),
    );
    tracing::info!(operator = user, id, from, to, "message moved");
    ok(MessageRef {
        id,
        target: to.to_string(),
        state: MessageState::Queued.name().to_string(),
    })
}

/// Accept a copy of a stored message again, as a new message: routed, or on `via`.
pub async fn resend(s: &Server, user: &str, id: u64, via: Option<String>) -> OpResult {
    let st = lookup(s, id).await?;
    if matches!(
        st.state,
        MessageState::Queued | MessageState::Submitting | MessageState::Sent
    ) {
        return Err(ErrorBody::refused(format!(
            "message {id} is {}: it is still under way, resend it once it is final (or cancel it first)",
            st.state.name()
        )));
    }
    if st.message.msgtype == MsgType::Dlr {
        return Err(ErrorBody::refused(format!(
            "message {id} is a delivery report; only messages are resent"
        )));
    }
    let mut copy = st.message.clone();
    copy.attempts = 0;
    copy.expires_us = None;
    let accepted = match &via {
        Some(name) => {
            find(s, name)?;
            s.gw.accept_via(copy, name).await
        }
        None => s.gw.accept(copy).await,
    };
    let new_id = accepted.map_err(|e| match e {
        Reject::Store(e) => ErrorBody::internal(format!("copy not stored: {e}")),
        other => ErrorBody::refused(format!("copy not accepted: {other}")),
    })?;
    let target = lookup(s, new_id).await?.message.target;
    tracing::info!(operator = user, id, new_id, target, "message resent");
    ok(MessageRef {
        id: new_id,
        target,
        state: MessageState::Queued.name().to_string(),
    })
}

/// Encode `text` in the narrowest data coding that holds it: ASCII (0), Latin-1 (3), UCS-2 (8).
fn encode_text(text: &str) -> (u8, Vec<u8>) {
    if text.is_ascii() {
        (0, text.as_bytes().to_vec())
    } else if text.chars().all(|c| (c as u32) < 0x100) {
        (3, text.chars().map(|c| c as u8).collect())
    } else {
        (8, text.encode_utf16().flat_map(u16::to_be_bytes).collect())
    }
}

/// What `send` asks for.
pub struct Send {
    pub to: String,
    pub from: String,
    pub text: String,
    pub via: Option<String>,
    pub dlr: bool,
    /// EMG's MGP options (`emgclient send -o NAME=value`); `to`, `from`, `text` and `dlr`
    /// fill `DESTADDR`, `SOURCEADDR`, `MESSAGE` and `DLR` unless the options set them.
    pub options: serde_json::Map<String, serde_json::Value>,
    /// The account it is sent for: priced, charged to its balance and refused when that does
    /// not cover it, as a message from one of the account's users would be.
    pub account: Option<String>,
}

fn refusal(e: Reject) -> ErrorBody {
    match e {
        Reject::Store(e) => ErrorBody::internal(format!("message not stored: {e}")),
        r @ Reject::NoBalance(_) => ErrorBody::new(
            common::mgp::ErrorCode::NoBalance,
            format!("message not accepted: {r}"),
        ),
        other => ErrorBody::refused(format!("message not accepted: {other}")),
    }
}

/// The message `send` with options describes (or the report it injects).
fn with_options(user: &str, req: Send) -> Result<(Submission, Option<String>), ErrorBody> {
    use serde_json::Value;
    let mut options = req.options;
    let has = |o: &serde_json::Map<String, Value>, names: &[&str]| {
        o.keys().any(|k| names.contains(&normalise(k).as_str()))
    };
    for (name, aliases, value) in [
        ("DESTADDR", &["destaddr", "to"][..], req.to),
        ("SOURCEADDR", &["sourceaddr", "from"][..], req.from),
        ("MESSAGE", &["message", "text", "hexcontent"][..], req.text),
    ] {
        if !value.is_empty() && !has(&options, aliases) {
            options.insert(name.into(), Value::String(value));
        }
    }
    if req.dlr && !has(&options, &["dlr"]) {
        options.insert("DLR".into(), Value::String("1".into()));
    }
    let origin = Origin {
        connector: ORIGIN.to_string(),
        user: Some(user.to_string()),
        account: req.account.filter(|a| !a.is_empty()),
        ..Default::default()
    };
    let parsed = submission(&options, origin).map_err(|e| ErrorBody::bad_request(e.to_string()))?;
    let via = match &parsed {
        Submission::Message { route: Some(r), .. } => Some(r.clone()),
        _ => req.via,
    };
    Ok((parsed, via))
}

/// Accept a message from the operator, routed or queued on `via`; with `MSGTYPE`=5 among its
/// options, inject the delivery report they describe.
pub async fn send(s: &Server, user: &str, req: Send) -> OpResult {
    let (message, via) = if req.options.is_empty() {
        if req.to.is_empty() {
            return Err(ErrorBody::bad_request("`to` must not be empty"));
        }
        let (data_coding, body) = encode_text(&req.text);
        let message = Message {
            msgtype: MsgType::Sms,
            source: Address::new(req.from),
            dest: Address::new(req.to),
            data_coding,
            body,
            dlr_requested: req.dlr,
            origin: Origin {
                connector: ORIGIN.to_string(),
                user: Some(user.to_string()),
                account: req.account.filter(|a| !a.is_empty()),
                client_ref: None,
                ..Default::default()
            },
            ..Default::default()
        };
        (message, req.via)
    } else {
        match with_options(user, req)? {
            (Submission::Message { message, .. }, via) => (*message, via),
            (Submission::Report { origid, status }, _) => {
                let id =
                    s.gw.inject_report(&origid, status)
                        .await
                        .map_err(|e| match e {
                            InjectError::NotFound(_) => ErrorBody::not_found(e.to_string()),
                            InjectError::NotInjectable { .. } => ErrorBody::refused(e.to_string()),
                            InjectError::NotStored(_) => ErrorBody::internal(e.to_string()),
                        })?;
                tracing::info!(
                    operator = user,
                    origid,
                    status = status.stat_word(),
                    "delivery report injected"
                );
                let state = lookup(s, id).await.map_or_else(
                    |_| MessageState::Done.name().to_string(),
                    |st| st.state.name().to_string(),
                );
                return ok(MessageRef {
                    id,
                    target: String::new(),
                    state,
                });
            }
        }
    };
    let accepted = match &via {
        Some(name) => {
            find(s, name)?;
            s.gw.accept_via(message, name).await
        }
        None => s.gw.accept(message).await,
    };
    let id = accepted.map_err(refusal)?;
    let target = match via {
        Some(v) => v,
        None => lookup(s, id).await?.message.target,
    };
    tracing::info!(operator = user, id, target, "message sent over MGP");
    ok(MessageRef {
        id,
        target,
        state: MessageState::Queued.name().to_string(),
    })
}

/// Act as if the next hop had sent a delivery report with `status` for message `id`.
pub async fn dlr_inject(s: &Server, user: &str, id: u64, status: &str) -> OpResult {
    let status: DlrStatus = status.parse().map_err(|_| {
        ErrorBody::bad_request(format!(
            "unknown delivery report status `{status}` (expected one of: {})",
            DlrStatus::ALL.map(|d| d.stat_word()).join(", ")
        ))
    })?;
    let st = lookup(s, id).await?;
    let Some(remote_id) = st
        .remote_id
        .clone()
        .filter(|_| st.state == MessageState::Sent)
    else {
        return Err(ErrorBody::refused(format!(
            "message {id} is {}; only a sent message awaiting a delivery report can get one",
            st.state.name()
        )));
    };
    let target = st.message.target.clone();
    if !s.gw.receipt(&target, &remote_id, status, 0).await {
        return Err(ErrorBody::refused(format!(
            "message {id} awaits no delivery report on {target}"
        )));
    }
    tracing::info!(
        operator = user,
        id,
        status = status.stat_word(),
        "delivery report injected"
    );
    let state = lookup(s, id).await?.state;
    ok(MessageRef {
        id,
        target,
        state: state.name().to_string(),
    })
}

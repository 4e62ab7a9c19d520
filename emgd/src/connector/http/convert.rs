//! Between HTTP requests and the gateway's [`Message`]: a send request of the API becomes a
//! message; a message becomes the request to a provider, whose answer gives its remote id;
//! a provider's DLR states and MO messages are read here.

use super::client::{basic_auth, form, with_query, Answer, Call};
use super::send::SendRequest;
use super::template::{self, url_encode};
use common::dlr::DlrStatus;
use common::message::{Address, Message, MsgType, Origin};
use config::{HttpBody, HttpMethod, RemoteId};
use hyper::Method;

/// A sender's address: alphanumeric (TON 5), a number (TON 1, `+` dropped) or none.
pub fn source_address(from: &str) -> Address {
    let digits = from.strip_prefix('+').unwrap_or(from);
    if from.is_empty() {
        Address::default()
    } else if digits.bytes().all(|b| b.is_ascii_digit()) {
        Address::new(digits)
    } else {
        Address {
            ton: 5,
            npi: 0,
            addr: from.to_string(),
        }
    }
}

/// The message of a send request for its recipient `to` (one of `req.to`).
pub fn message_of(
    connector: &str,
    user: &str,
    account: &str,
    req: &SendRequest,
    to: &str,
) -> Message {
    let dlr = req.dlr.as_ref();
    Message {
        msgtype: MsgType::Sms,
        source: source_address(&req.from),
        dest: Address::new(to.strip_prefix('+').unwrap_or(to)),
        data_coding: req.data_coding,
        esm_class: req.esm_class,
        protocol_id: req.protocol_id,
        priority: req.priority,
        body: req.body.clone(),
        dlr_requested: dlr.is_some(),
        origin: Origin {
            connector: connector.to_string(),
            user: Some(user.to_string()),
            account: Some(account.to_string()),
            client_ref: None,
            callback_url: dlr.and_then(|d| d.url.clone()),
            callback_method: dlr.filter(|d| d.url.is_some()).map(|d| d.method.clone()),
            callback_mask: dlr.map_or(0, |d| d.mask),
            session: None,
        },
        expires_us: req
            .validity_minutes
            .map(|m| crate::clock::now_us() + (m as i64) * 60_000_000),
        ..Default::default()
    }
}

/// The request that carries `m`.
pub fn request_for(cfg: &config::Connector, m: &Message) -> Call {
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
pub fn succeeded(cfg: &config::Connector, a: &Answer) -> bool {
    cfg.http.success.contains(&a.status)
        && cfg.http.success_match.as_ref().is_none_or(|re| {
            regex_lite::Regex::new(re)
                .is_ok_and(|re| re.is_match(&String::from_utf8_lossy(&a.body)))
        })
}

/// A DLR state from the provider: a receipt word (DELIVRD, delivered, UNDELIV ...) or a
/// Kannel report type (1 delivered, 2 failed, 4 buffered, 8 accepted, 16 rejected).
pub fn status_of(s: &str) -> Option<DlrStatus> {
    s.parse().ok().or(match s.trim() {
        "1" => Some(DlrStatus::Delivered),
        "2" => Some(DlrStatus::Undeliverable),
        "4" => Some(DlrStatus::Enroute),
        "8" => Some(DlrStatus::Accepted),
        "16" => Some(DlrStatus::Rejected),
        _ => None,
    })
}

/// An MO message a provider posted to `/mo`, received on `connector`.
pub fn mo_message(connector: &str, from: &str, to: &str, text: &str) -> Message {
    let data_coding = common::gsm::choose_coding(text);
    Message {
        source: Address::new(from.trim_start_matches('+')),
        dest: Address::new(to.trim_start_matches('+')),
        data_coding,
        body: common::gsm::encode_text(data_coding, text).unwrap_or_default(),
        origin: Origin {
            connector: connector.to_string(),
            ..Default::default()
        },
        ..Default::default()
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

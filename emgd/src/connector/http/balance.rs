//! Jasmin's account queries for applications, on the incoming HTTP connector:
//! - `/balance`: the user's account balance (`{"balance":"12.5","sms_count":"ND",...}`);
//! - `/rate?to=N[&content=TEXT]`: what sending to N would be charged now, routed as a send
//!   would be (`{"unit_rate":"0.05","submit_sm_count":2,...}`).
//!
//! Amounts are decimal strings, never JSON numbers (a float loses cents). Users authenticate
//! as for `/bin/send`.

use super::params::ParamError;
use super::reply::ApiError;
use super::request;
use crate::gateway::Gateway;
use axum::http::{HeaderMap, Uri};
use common::message::{Address, Message, Origin};
use serde_json::{json, Value};

/// `/balance`'s answer for `account`; `"ND"` (Jasmin's "not defined") for an account without
/// a balance, which is not balance-controlled.
pub async fn balance_of(gw: &Gateway, account: &str) -> Result<Value, ApiError> {
    let currency = gw.config().prices.currency.clone();
    let found = gw
        .store
        .balances(Some(account.to_string()))
        .await
        .map_err(|e| ApiError::Unavailable(format!("cannot read the balance: {e}")))?;
    Ok(match found.first() {
        Some(b) => json!({
            "balance": b.balance.to_string(),
            "sms_count": "ND",
            "kind": if b.postpaid_limit.is_some() { "postpaid" } else { "prepaid" },
            "postpaid_limit": b.postpaid_limit.map(|l| l.to_string()),
            "currency": currency,
        }),
        None => json!({"balance": "ND", "sms_count": "ND", "currency": currency}),
    })
}

/// `/rate`: route and price a message to `to` of `user` (charged to `account`) received on
/// `connector`, without sending it.
pub fn rate(
    gw: &Gateway,
    connector: &str,
    user: String,
    account: String,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ApiError> {
    let incoming = request::read(uri, headers, body)?;
    let Some((_, to)) = incoming.params.text(&["to", "destaddr"])? else {
        return Err(ParamError::new("to", "missing (the destination to price)").into());
    };
    let text = incoming
        .params
        .text(&["content", "text", "message"])?
        .map(|(_, t)| t)
        .unwrap_or_default();
    let (data_coding, body) = match common::gsm::encode_text(0, &text) {
        Ok(b) => (0, b),
        Err(_) => (8, common::gsm::encode_text(8, &text).unwrap_or_default()),
    };
    let message = Message {
        dest: Address::new(to.strip_prefix('+').unwrap_or(&to)),
        data_coding,
        body,
        origin: Origin {
            connector: connector.to_string(),
            user: Some(user),
            account: Some(account),
            ..Default::default()
        },
        ..Default::default()
    };
    let priced = gw
        .quote(message)
        .map_err(|no_route| ApiError::NoRoute(no_route.to_string()))?;
    let parts = priced.parts();
    let unit = priced
        .price
        .map(|p| (p / rust_decimal::Decimal::from(parts)).normalize());
    Ok(json!({
        "unit_rate": unit.map_or("0".to_string(), |u| u.to_string()),
        "submit_sm_count": parts,
        "price": priced.price.map_or("0".to_string(), |p| p.to_string()),
        "currency": gw.config().prices.currency,
        "connector": priced.target,
    }))
}

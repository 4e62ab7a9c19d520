//! What every MGP session shares, and the shape of a handler's answer. The handlers
//! ([`super::connectors`], [`super::queue`], [`super::msg`], [`super::stream`]) build on this,
//! never on the server loop in `mod.rs` that calls them.

use super::auth;
use super::rates;
use crate::gateway::Gateway;
use common::mgp::ErrorBody;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// What every session shares.
pub struct Server {
    pub gw: Arc<Gateway>,
    pub rates: Arc<rates::Rates>,
    pub started: Instant,
    pub limiter: auth::Limiter,
}

/// Turn a handler's typed answer into the wire outcome.
pub type OpResult = Result<serde_json::Value, ErrorBody>;

pub fn ok<T: Serialize>(v: T) -> OpResult {
    serde_json::to_value(v).map_err(|e| ErrorBody::internal(format!("cannot encode answer: {e}")))
}

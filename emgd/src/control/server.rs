//! What every MGP session of emgd shares, and the answer type of every operation handler.

use super::auth::Limiter;
use super::rates::Rates;
use crate::gateway::Gateway;
use common::mgp::ErrorBody;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// What every session shares.
pub struct Server {
    pub gw: Arc<Gateway>,
    pub rates: Arc<Rates>,
    pub started: Instant,
    pub limiter: Limiter,
}

impl Server {
    pub fn new(gw: Arc<Gateway>) -> Arc<Server> {
        Arc::new(Server {
            rates: Rates::start(gw.clone()),
            gw,
            started: Instant::now(),
            limiter: Limiter::default(),
        })
    }
}

/// A handler's answer: the `ok` object, or the error.
pub type OpResult = Result<serde_json::Value, ErrorBody>;

pub fn ok<T: Serialize>(v: T) -> OpResult {
    serde_json::to_value(v).map_err(|e| ErrorBody::internal(format!("cannot encode answer: {e}")))
}

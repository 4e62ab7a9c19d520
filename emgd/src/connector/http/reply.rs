//! Answers of the HTTP API: a status code and a machine-readable error code for every refusal,
//! as JSON (`{"status":"ERROR","error":"bad_parameter","parameter":"to","message":...}`) or as
//! one text line (`ERROR bad_parameter to: ...`).

use super::params::ParamError;
use crate::gateway::Reject;
use crate::plugin::RefusalKind;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Seconds a client is asked to wait after a temporary refusal.
const RETRY_AFTER_FULL: &str = "5";
const RETRY_AFTER_THROTTLED: &str = "1";

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 401: no or wrong credentials, or a client address not allowed.
    Unauthorized,
    /// 400: a parameter is missing or wrong.
    BadParameter(ParamError),
    /// 403: the connector does not take messages (transmit-only).
    Forbidden(String),
    /// 404: no such message (or not the caller's).
    NotFound(String),
    /// 422: the routing table has no route for the message.
    NoRoute(String),
    /// 403: refused for good by message processing (the blacklist, a plugin).
    Refused(String),
    /// 429: the user's `throughput` is exceeded.
    Throttled,
    /// 429: too many failed logins from the address or for the user (`max_login_failures`);
    /// `Retry-After` says the seconds until the block ends.
    LoginBlocked { message: String, retry_after: u64 },
    /// 402: the account's balance does not cover the price.
    NoBalance(String),
    /// 503: the queues are full.
    QueueFull(String),
    /// 503: the store failed or the gateway is stopping.
    Unavailable(String),
    /// 413: the body is over `http_max_body`.
    BodyTooLarge(String),
    /// 431: the request line and headers are over `http_max_header_size` or
    /// `http_max_headers`.
    HeadersTooLarge(String),
}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        ApiError::BadParameter(e)
    }
}

impl From<crate::gateway::InjectError> for ApiError {
    fn from(e: crate::gateway::InjectError) -> Self {
        use crate::gateway::InjectError;
        match e {
            InjectError::NotFound(_) => ApiError::NotFound(e.to_string()),
            InjectError::NotInjectable { .. } => ApiError::Refused(e.to_string()),
            InjectError::NotStored(_) => ApiError::Unavailable(e.to_string()),
        }
    }
}

impl From<Reject> for ApiError {
    fn from(r: Reject) -> Self {
        match r {
            Reject::NoRoute(n) => ApiError::NoRoute(n.to_string()),
            Reject::QueueFull(m) => ApiError::QueueFull(format!("queue full: {m}")),
            Reject::Refused(r) => ApiError::Refused(r.to_string()),
            r @ Reject::NotReceiving(_) => ApiError::Forbidden(r.to_string()),
            r @ Reject::NoBalance(_) => ApiError::NoBalance(r.to_string()),
            Reject::Plugin(r) => match r.kind {
                RefusalKind::Throttled => ApiError::Throttled,
                RefusalKind::Temporary => ApiError::Unavailable(r.to_string()),
                _ => ApiError::Refused(r.to_string()),
            },
            other => ApiError::Unavailable(other.to_string()),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::BadParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::Forbidden(_) | ApiError::Refused(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NoRoute(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Throttled | ApiError::LoginBlocked { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NoBalance(_) => StatusCode::PAYMENT_REQUIRED,
            ApiError::QueueFull(_) | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        }
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::BadParameter(_) => "bad_parameter",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::NoRoute(_) => "no_route",
            ApiError::Refused(_) => "refused",
            ApiError::Throttled => "throttled",
            ApiError::LoginBlocked { .. } => "login_blocked",
            ApiError::NoBalance(_) => "no_balance",
            ApiError::QueueFull(_) => "queue_full",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::BodyTooLarge(_) => "body_too_large",
            ApiError::HeadersTooLarge(_) => "headers_too_large",
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::Unauthorized => "bad or missing credentials".into(),
            ApiError::BadParameter(e) => e.message.clone(),
            ApiError::Throttled => "too many messages per second for this user".into(),
            ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::NoRoute(m)
            | ApiError::Refused(m)
            | ApiError::NoBalance(m)
            | ApiError::QueueFull(m)
            | ApiError::Unavailable(m)
            | ApiError::BodyTooLarge(m)
            | ApiError::HeadersTooLarge(m)
            | ApiError::LoginBlocked { message: m, .. } => m.clone(),
        }
    }

    /// emg's JSON refusal: `{"status":"ERROR","error":...,"message":...[,"parameter":...]}`.
    pub fn json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "status": "ERROR",
            "error": self.code(),
            "message": self.message(),
        });
        if let ApiError::BadParameter(e) = self {
            body["parameter"] = serde_json::Value::String(e.name.clone());
        }
        body
    }

    /// The headers a refusal carries whatever its body: `WWW-Authenticate`, `Retry-After`.
    pub fn add_headers(&self, headers: &mut HeaderMap) {
        match self {
            ApiError::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"emg\""),
                );
            }
            ApiError::Throttled => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_THROTTLED),
                );
            }
            ApiError::QueueFull(_) | ApiError::Unavailable(_) => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from_static(RETRY_AFTER_FULL),
                );
            }
            ApiError::LoginBlocked { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
    }

    /// The answer, as JSON or text.
    pub fn response(&self, json: bool) -> Response {
        let mut resp = if json {
            (self.status(), axum::Json(self.json())).into_response()
        } else {
            let what = match self {
                ApiError::BadParameter(e) => format!(" {}:", e.name),
                _ => String::new(),
            };
            let line = format!("ERROR {}{what} {}\n", self.code(), self.message());
            (self.status(), line).into_response()
        };
        self.add_headers(resp.headers_mut());
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_status_and_code() {
        let refused = Reject::Refused(crate::process::Refused {
            field: config::AddressField::Dest,
            address: "46700".into(),
        });
        let cases: Vec<(ApiError, StatusCode, &str)> = vec![
            (refused.into(), StatusCode::FORBIDDEN, "refused"),
            (
                Reject::QueueFull("x".into()).into(),
                StatusCode::SERVICE_UNAVAILABLE,
                "queue_full",
            ),
            (
                Reject::ShuttingDown.into(),
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
            ),
        ];
        for (e, status, code) in cases {
            assert_eq!((e.status(), e.code()), (status, code), "{e:?}");
        }
    }
}

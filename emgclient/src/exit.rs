//! Why a command failed, and the exit code each reason gives.

use common::mgp::{ErrorBody, ErrorCode};

/// Exit codes, as `emgclient --help` and `emgclient(1)` list them.
pub const OK: u8 = 0;
pub const OTHER: u8 = 1;
pub const USAGE: u8 = 2;
pub const CANNOT_CONNECT: u8 = 3;
pub const AUTH_FAILED: u8 = 4;
pub const NOT_FOUND: u8 = 5;
pub const REFUSED: u8 = 6;

/// The text `--help` ends with.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other error (server failure, broken connection, bad answer)
  2  usage error (unknown command or option)
  3  cannot connect to emgd (including a failed TLS handshake)
  4  authentication failed (wrong user or password, no password given, throttled)
  5  not found (connector, message or stream)
  6  refused or forbidden (not possible now, or not allowed for your role)";

/// A failed command: one line for stderr and an exit code.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("cannot connect to emgd at {host}: {reason}")]
    Connect { host: String, reason: String },
    #[error("TLS handshake with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("{0}")]
    Server(ErrorBody),
    #[error("{0}")]
    Auth(String),
    #[error("{0}")]
    Other(String),
}

impl Failure {
    pub fn code(&self) -> u8 {
        match self {
            Failure::Connect { .. } | Failure::Tls { .. } => CANNOT_CONNECT,
            Failure::Auth(_) => AUTH_FAILED,
            Failure::Other(_) => OTHER,
            Failure::Server(e) => match e.code {
                ErrorCode::AuthFailed | ErrorCode::NotAuthenticated => AUTH_FAILED,
                ErrorCode::NotFound => NOT_FOUND,
                ErrorCode::Refused | ErrorCode::Forbidden => REFUSED,
                ErrorCode::BadRequest | ErrorCode::Internal | ErrorCode::FrameTooLarge => OTHER,
            },
        }
    }
}

impl From<ErrorBody> for Failure {
    fn from(e: ErrorBody) -> Failure {
        Failure::Server(e)
    }
}

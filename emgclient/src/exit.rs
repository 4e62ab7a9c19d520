//! Why a command failed, and the exit code each reason gives.
//!
//! The codes EMG's command-line utilities share keep their meaning (0 ok, 1 error, 3 invalid
//! login, 5 invalid argument, 10 access denied), so an EMG script that tests `$?` reads ours
//! right; what EMG does not distinguish gets a number EMG leaves unused (2 cannot connect,
//! 4 refused).

use common::mgp::{ErrorBody, ErrorCode};
use serde_json::json;

/// Exit codes, as `emgclient --help` and `emgclient(1)` list them.
pub const OK: u8 = 0;
pub const ERROR: u8 = 1;
pub const CANNOT_CONNECT: u8 = 2;
pub const INVALID_LOGIN: u8 = 3;
pub const REFUSED: u8 = 4;
pub const INVALID_ARGUMENT: u8 = 5;
pub const ACCESS_DENIED: u8 = 10;

/// The text `--help` ends with.
pub const EXIT_CODES_HELP: &str = "\
Exit codes (EMG's 0, 1, 3, 5 and 10 mean what they mean for EMG's utilities):
  0   success; also when the reader of the output went away (emgclient watch | head -1)
  1   error (server failure, broken connection, bad answer)
  2   cannot connect to emgd (including a failed TLS handshake)
  3   invalid login (wrong user or password, no password, throttled, local user in no
      allowed group)
  4   refused (valid, but not possible now: message already sent, broken configuration)
  5   invalid argument (unknown command or option, bad value, no such connector, message
      or stream)
  10  access denied (your role does not allow it)
With --json a failure also prints {\"error\":{\"code\",\"message\",\"exit_code\"}} on stdout.";

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
    /// A bad command line or settings file (clap's message, or ours).
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Other(String),
    /// Whoever read our output closed it (`| head`): not a failure, nothing to say.
    #[error("output closed")]
    OutputClosed,
}

impl Failure {
    pub fn code(&self) -> u8 {
        match self {
            Failure::Connect { .. } | Failure::Tls { .. } => CANNOT_CONNECT,
            Failure::Auth(_) => INVALID_LOGIN,
            Failure::Usage(_) => INVALID_ARGUMENT,
            Failure::Other(_) => ERROR,
            Failure::OutputClosed => OK,
            Failure::Server(e) => match e.code {
                ErrorCode::AuthFailed | ErrorCode::NotAuthenticated => INVALID_LOGIN,
                ErrorCode::NotFound | ErrorCode::BadRequest => INVALID_ARGUMENT,
                ErrorCode::Forbidden => ACCESS_DENIED,
                ErrorCode::Refused | ErrorCode::NoBalance => REFUSED,
                ErrorCode::Internal | ErrorCode::FrameTooLarge => ERROR,
            },
        }
    }

    /// The stable word `--json` prints as `code`: MGP's error code for the server's errors.
    pub fn word(&self) -> &'static str {
        match self {
            Failure::Connect { .. } => "cannot_connect",
            Failure::Tls { .. } => "tls_failed",
            Failure::Auth(_) => "auth_failed",
            Failure::Usage(_) => "usage",
            Failure::Other(_) => "error",
            Failure::OutputClosed => "output_closed",
            Failure::Server(e) => e.code.as_str(),
        }
    }

    /// `{"error":{"code":...,"message":...,"exit_code":...}}`, what `--json` prints on stdout.
    pub fn to_json(&self) -> serde_json::Value {
        json!({"error": {"code": self.word(), "message": self.to_string(), "exit_code": self.code()}})
    }

    /// A failed write to stdout: a closed pipe ends the command quietly.
    pub fn from_write(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::OutputClosed
        } else {
            Failure::Other(format!("cannot write the output: {e}"))
        }
    }
}

impl From<ErrorBody> for Failure {
    fn from(e: ErrorBody) -> Failure {
        Failure::Server(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emg_codes_keep_their_meaning() {
        let server = |code| Failure::Server(ErrorBody::new(code, "x")).code();
        assert_eq!(server(ErrorCode::AuthFailed), 3, "EMG: invalid login");
        assert_eq!(server(ErrorCode::NotFound), 5, "EMG: invalid argument");
        assert_eq!(server(ErrorCode::BadRequest), 5);
        assert_eq!(server(ErrorCode::Forbidden), 10, "EMG: access denied");
        assert_eq!(server(ErrorCode::Internal), 1, "EMG: unknown error");
        assert_eq!(Failure::Usage("x".into()).code(), 5);
        assert_eq!(Failure::OutputClosed.code(), 0);
        assert_eq!(
            Failure::Connect {
                host: "h".into(),
                reason: "r".into()
            }
            .to_json()
            .to_string(),
            r#"{"error":{"code":"cannot_connect","exit_code":2,"message":"cannot connect to emgd at h: r"}}"#
        );
    }
}

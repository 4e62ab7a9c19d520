//! SASL PLAIN (RFC 4616) and LOGIN for SMTP AUTH (RFC 4954): the base64 payloads on both sides.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The mechanisms we speak, in the order we advertise them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }

    pub fn from_name(name: &str) -> Option<Mechanism> {
        match name.to_ascii_uppercase().as_str() {
            "PLAIN" => Some(Mechanism::Plain),
            "LOGIN" => Some(Mechanism::Login),
            _ => None,
        }
    }
}

/// What an AUTH exchange gave the server to check.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub mechanism: Mechanism,
    /// PLAIN's authorization identity; empty when the client acts as itself.
    pub authzid: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("mechanism", &self.mechanism)
            .field("authzid", &self.authzid)
            .field("username", &self.username)
            .field("password", &"********")
            .finish()
    }
}

/// Why a client response could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthDecodeError {
    #[error("not valid base64")]
    Base64,
    #[error("not UTF-8")]
    Utf8,
    #[error("PLAIN response is not authzid NUL authcid NUL password")]
    Layout,
}

/// Decodes a base64 response line into text (`=` alone is the empty response).
pub fn decode_text(b64: &str) -> Result<String, AuthDecodeError> {
    if b64 == "=" {
        return Ok(String::new());
    }
    let raw = STANDARD
        .decode(b64.trim())
        .map_err(|_| AuthDecodeError::Base64)?;
    String::from_utf8(raw).map_err(|_| AuthDecodeError::Utf8)
}

/// Decodes PLAIN's `authzid NUL authcid NUL passwd`.
pub fn decode_plain(b64: &str) -> Result<Credentials, AuthDecodeError> {
    let text = decode_text(b64)?;
    let mut parts = text.split('\0');
    let (Some(authzid), Some(username), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthDecodeError::Layout);
    };
    if username.is_empty() {
        return Err(AuthDecodeError::Layout);
    }
    Ok(Credentials {
        mechanism: Mechanism::Plain,
        authzid: authzid.to_string(),
        username: username.to_string(),
        password: password.to_string(),
    })
}

/// PLAIN's initial response for `username` / `password`.
pub fn encode_plain(username: &str, password: &str) -> String {
    STANDARD.encode(format!("\0{username}\0{password}"))
}

/// Base64 of a text (LOGIN's username and password lines, and its challenges).
pub fn encode_text(text: &str) -> String {
    STANDARD.encode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_round_trip_and_errors() {
        let c = decode_plain(&encode_plain("alice", "s3cret")).unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("alice", "s3cret")
        );
        assert_eq!(c.authzid, "");
        assert!(!format!("{c:?}").contains("s3cret"));
        let with_authz = STANDARD.encode("admin\0alice\0pw");
        assert_eq!(decode_plain(&with_authz).unwrap().authzid, "admin");
        assert_eq!(decode_plain("!!!"), Err(AuthDecodeError::Base64));
        assert_eq!(
            decode_plain(&STANDARD.encode("alice")),
            Err(AuthDecodeError::Layout)
        );
        assert_eq!(
            decode_plain(&STANDARD.encode("\0\0pw")),
            Err(AuthDecodeError::Layout)
        );
        assert_eq!(
            decode_plain(&STANDARD.encode([0, 0xff, 0, 1])),
            Err(AuthDecodeError::Utf8)
        );
        assert_eq!(decode_text("="), Ok(String::new()));
    }
}

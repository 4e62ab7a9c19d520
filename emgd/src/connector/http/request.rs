//! What an HTTP request says, whatever its shape: parameters from the query string and from a
//! form or JSON body, Basic credentials, and whether the client wants its answer in JSON.

use super::params::{ParamError, Params, PASSWORD, USERNAME};
use axum::http::{header, HeaderMap, Uri};

/// A request's parameters and credentials.
#[derive(Debug, Default)]
pub struct Incoming {
    pub params: Params,
    /// From `Authorization: Basic`, else from `username`/`password` parameters.
    pub credentials: Option<(String, String)>,
    /// Answer in JSON: a `.json` path, a JSON body, or `Accept: application/json`.
    pub json: bool,
    /// The client asked for JSON: a `.json` path or `Accept: application/json`.
    pub accept_json: bool,
    /// The body was JSON.
    pub json_body: bool,
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = header_str(headers, header::AUTHORIZATION);
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Read a request.
pub fn read(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Incoming, ParamError> {
    let mut params = Params::default();
    if let Some(q) = uri.query() {
        params.add_urlencoded(q.as_bytes());
    }
    let ctype = header_str(headers, header::CONTENT_TYPE).to_ascii_lowercase();
    let json_body = ctype.starts_with("application/json") || ctype.ends_with("+json");
    if !body.is_empty() {
        if json_body {
            params.add_json(body)?;
        } else if ctype.is_empty() || ctype.starts_with("application/x-www-form-urlencoded") {
            params.add_urlencoded(body);
        } else {
            return Err(ParamError::new(
                "body",
                format!("content type `{ctype}` is neither a form nor JSON"),
            ));
        }
    }
    let credentials = basic(headers).or_else(|| {
        let user = params.text(USERNAME).ok().flatten()?.1;
        let password = params.text(PASSWORD).ok().flatten().map(|p| p.1);
        Some((user, password.unwrap_or_default()))
    });
    let accept_json = uri.path().ends_with(".json")
        || header_str(headers, header::ACCEPT).contains("application/json");
    Ok(Incoming {
        params,
        credentials,
        json: accept_json || json_body,
        accept_json,
        json_body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_win_and_json_is_detected() {
        let uri: Uri = "/bin/send.json?username=a&password=b&to=1".parse().unwrap();
        let mut h = HeaderMap::new();
        let r = read(&uri, &h, b"").unwrap();
        assert_eq!(r.credentials, Some(("a".into(), "b".into())));
        assert!(r.json);
        h.insert(header::AUTHORIZATION, "Basic dTpw".parse().unwrap());
        h.insert(header::CONTENT_TYPE, "text/xml".parse().unwrap());
        assert_eq!(read(&uri, &h, b"<x/>").unwrap_err().name, "body");
        h.remove(header::CONTENT_TYPE);
        let r = read(&"/send".parse().unwrap(), &h, b"to=2").unwrap();
        assert_eq!(r.credentials, Some(("u".into(), "p".into())));
        assert!(!r.json);
        assert!(r.params.get(&["to"]).is_some());
    }
}

//! The HTTP send parameters of the three dialects (`/bin/send`, `/send`, Kannel's
//! `/cgi-bin/sendsms`), from query string, form body or JSON body, through emgd's own functions
//! (`request::read`, then `SendRequest::parse`).
//!
//! The input reads like a request with the method left out, so seeds are the tests' requests:
//! the first line is the request target (`/bin/send?to=...`), header lines follow up to a
//! blank line, and the rest is the body.

use emgd::connector::http::request;
use emgd::connector::http::send::{Dialect, SendRequest};

use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};

/// `(target, headers, body)` of a request in the format above; `None` when hyper would have
/// refused it before emgd saw it (a target or header that is not valid HTTP).
pub fn split_request(data: &[u8]) -> Option<(Uri, HeaderMap, &[u8])> {
    let mut lines = data.split_inclusive(|&b| b == b'\n');
    let first = lines.next()?;
    let uri = Uri::try_from(trim_eol(first)).ok()?;
    let mut headers = HeaderMap::new();
    let mut consumed = first.len();
    for line in lines {
        consumed += line.len();
        let line = trim_eol(line);
        if line.is_empty() {
            return Some((uri, headers, &data[consumed..]));
        }
        let colon = line.iter().position(|&b| b == b':')?;
        let name = HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
        headers.append(name, value);
    }
    Some((uri, headers, &[]))
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Decoder property: any request is either refused with a parameter error that names the
/// parameter, or becomes a send request whose fields keep their documented ranges and whose
/// body re-splits into the number of parts it announced.
pub fn send_request(data: &[u8]) {
    let Some((uri, headers, body)) = split_request(data) else {
        return;
    };
    let incoming = match request::read(&uri, &headers, body) {
        Ok(incoming) => incoming,
        Err(e) => {
            assert!(!e.name.is_empty(), "an error naming no parameter: {e:?}");
            return;
        }
    };
    // As the incoming HTTP connector picks it (emgd/src/connector/http/incoming.rs).
    let dialect = Dialect::of_path(uri.path());
    match SendRequest::parse(&incoming.params, dialect) {
        Err(e) => assert!(!e.name.is_empty(), "an error naming no parameter: {e:?}"),
        Ok(req) => check(&req),
    }
}

fn check(req: &SendRequest) {
    assert!(!req.to.is_empty(), "{req:?}");
    assert!(req.to.iter().all(|t| !t.is_empty()), "{req:?}");
    assert!(req.parts >= 1, "{req:?}");
    assert!(req.priority <= 3, "{req:?}");
    if req.esm_class == 0x40 {
        let (_, text) = common::gsm::Udh::split(&req.body)
            .unwrap_or_else(|e| panic!("UDH flagged but unreadable ({e}): {req:?}"));
        let room = common::gsm::Coding::from_data_coding(req.data_coding)
            .map(|c| common::concat::limits_for_udh(c, req.body.len() - text.len()).per_part);
        assert!(room.is_some_and(|r| text.len() <= r), "{req:?}");
        assert_eq!(req.parts, 1);
    } else {
        assert_eq!(req.esm_class, 0, "{req:?}");
        let parts = common::concat::split_encoded(
            &req.body,
            req.data_coding,
            common::concat::Method::Udh8,
            0,
        )
        .unwrap_or_else(|e| panic!("accepted but cannot be split ({e}): {req:?}"));
        assert_eq!(parts.len(), req.parts, "{req:?}");
    }
}

//! Requests over an incoming HTTP connector's limits, answered in the dialect of the path they
//! were sent to (Kannel's, Jasmin's or EMG's, see [`super::answer`]): 413 for a body over
//! `http_max_body`, 431 for a request line and headers over `http_max_header_size` octets or
//! `http_max_headers` headers. The listener checks the head here, with hyper's own limits set
//! to twice these so that hyper only refuses (a bare 431) what is far over them, and both
//! answers close the connection. Free of I/O.

pub use super::answer::Style;
use super::answer::{answer, Asked};
use super::params::Params;
use super::reply::ApiError;
use axum::http::{header, HeaderValue, Request};
use axum::response::Response;

/// How many times the operator's header limits hyper is allowed to read before it refuses
/// the request by itself.
pub const HYPER_MARGIN: usize = 2;

/// The dialect a refusal of `req` is answered in, from its path and headers (its body is not
/// read).
pub fn style<B>(req: &Request<B>) -> Style {
    let header = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let ctype = header(header::CONTENT_TYPE);
    let json_body = ctype.starts_with("application/json") || ctype.ends_with("+json");
    let accept_json = header(header::ACCEPT).contains("application/json");
    Style::of(req.uri().path(), accept_json, json_body)
}

/// Octets of `req`'s request line and headers as they came (`NAME: VALUE` and CRLF each).
pub fn head_size<B>(req: &Request<B>) -> usize {
    let line = req.method().as_str().len()
        + req.uri().path_and_query().map_or(1, |p| p.as_str().len())
        + " HTTP/1.1\r\n".len()
        + 1;
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    line + headers + 2
}

/// Why `req`'s head is over `max_size` octets or `max_headers` headers, if it is.
pub fn head_over<B>(req: &Request<B>, max_size: u32, max_headers: u32) -> Option<ApiError> {
    let count = req.headers().len();
    if count > max_headers as usize {
        return Some(ApiError::HeadersTooLarge(format!(
            "request headers too large: {count} headers, more than http_max_headers ({max_headers})"
        )));
    }
    let size = head_size(req);
    (size > max_size as usize).then(|| {
        ApiError::HeadersTooLarge(format!(
            "request headers too large: {size} octets, more than http_max_header_size ({max_size})"
        ))
    })
}

/// The refusal of a body over `max_body` octets (`declared`, when its length was given).
pub fn body_over(declared: Option<u64>, max_body: usize) -> ApiError {
    ApiError::BodyTooLarge(match declared {
        Some(n) => {
            format!("request body too large: {n} octets, more than http_max_body ({max_body})")
        }
        None => format!("request body too large: more than http_max_body ({max_body} octets)"),
    })
}

/// `refusal` answered in `style`, closing the connection after it.
pub fn answer_refusal(style: Style, refusal: &ApiError) -> Response {
    let params = Params::default();
    let asked = Asked {
        params: &params,
        user: None,
    };
    let mut resp = answer(style, &Err(refusal.clone()), &asked);
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut b = Request::get(path);
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn the_head_is_measured_as_written() {
        // "GET /a?b=c HTTP/1.1\r\n" + "host: x\r\n" + "\r\n"
        let r = get("/a?b=c", &[("host", "x")]);
        assert_eq!(head_size(&r), 21 + 9 + 2);
        assert!(head_over(&r, 32, 10).is_none());
        let e = head_over(&r, 31, 10).unwrap();
        assert!(e.message().contains("http_max_header_size (31)"), "{e:?}");
        let e = head_over(&r, 8192, 0).unwrap();
        assert!(e.message().contains("http_max_headers (0)"), "{e:?}");
    }

    #[test]
    fn each_dialect_answers_in_its_own_shape() {
        let e = body_over(Some(5000), 1024);
        let kannel = answer_refusal(style(&get("/cgi-bin/sendsms", &[])), &e);
        assert_eq!(kannel.status(), 413);
        assert_eq!(kannel.headers()[header::CONTENT_TYPE], "text/html");
        assert_eq!(kannel.headers()[header::CONNECTION], "close");
        let jasmin = answer_refusal(style(&get("/send", &[])), &e);
        assert_eq!(jasmin.headers()[header::CONTENT_TYPE], "text/plain");
        let json = answer_refusal(
            style(&get("/bin/send", &[("accept", "application/json")])),
            &e,
        );
        assert_eq!(json.headers()[header::CONTENT_TYPE], "application/json");
    }
}

//! MO messages routed to an incoming HTTP connector: the request that pushes one to the
//! application, as Kannel's `sms-service get-url` and Jasmin's MO HTTP connectors do.
//!
//! `mo_url` is the application's URL, with Kannel's `%` escapes; `mo_method` says GET (the
//! fields in the query) or POST (a form body, the default). The fields are `id`, `from`,
//! `to`, `text` (hex for a binary coding), `coding`, `udh` (hex, for one part of a long
//! message) and `connector` (where the message came in). The callback sender
//! ([`super::callback`]) makes the call and retries it exactly as it retries DLR callbacks:
//! the message stays queued in the store until the application answers 2xx.

use super::client::{form, with_query, Call};
use super::template;
use common::message::Message;
use config::HttpMethod;
use hyper::Method;

/// The fields a push carries, in this order.
pub fn fields(m: &Message) -> Vec<(String, String)> {
    let values = template::values(m);
    let value = |name: &str| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut out: Vec<(String, String)> = ["id", "from", "to", "text", "coding"]
        .iter()
        .map(|n| (n.to_string(), value(n)))
        .collect();
    let udh = value("udh");
    if !udh.is_empty() {
        out.push(("udh".into(), udh));
    }
    out.push(("connector".into(), m.origin.connector.clone()));
    out
}

/// Kannel's `get-url` escapes in `mo_url`: %p sender, %P receiver, %a text, %b the body in
/// hex, %c coding, %u UDH in hex, %I message id, %i the connector it came in on, %T Unix time
/// it was received, %% a percent sign. Any other `%` (an ordinary URL escape) stays.
pub fn expand(url: &str, m: &Message) -> String {
    let values = template::values(m);
    let value = |name: &str| {
        values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| template::url_encode(v))
            .unwrap_or_default()
    };
    let mut out = String::with_capacity(url.len());
    let mut chars = url.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let v = match chars.peek() {
            Some('p') => value("from"),
            Some('P') => value("to"),
            Some('a') => value("text"),
            Some('b') => value("hex"),
            Some('c') => value("coding"),
            Some('u') => value("udh"),
            Some('I') => value("id"),
            Some('i') => template::url_encode(&m.origin.connector),
            Some('T') => (m.received_us / 1_000_000).to_string(),
            Some('%') => "%".into(),
            _ => {
                out.push('%');
                continue;
            }
        };
        chars.next();
        out.push_str(&v);
    }
    out
}

/// The request pushing `m` to `url` (expanded `mo_url`).
pub fn call_for(m: &Message, url: &str, method: HttpMethod) -> Call {
    let body = form(&fields(m));
    match method {
        HttpMethod::Get => Call {
            method: Method::GET,
            url: with_query(url, &body),
            headers: vec![],
            body: None,
        },
        HttpMethod::Post => Call {
            method: Method::POST,
            url: url.to_string(),
            headers: vec![],
            body: Some(("application/x-www-form-urlencoded", body.into_bytes())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::message::Address;

    fn mo() -> Message {
        let mut m = Message {
            id: 12,
            source: Address::new("46701"),
            dest: Address::new("72000"),
            body: b"hello world".to_vec(),
            received_us: 1_700_000_000_000_000,
            ..Default::default()
        };
        m.origin.connector = "smsc".into();
        m
    }

    #[test]
    fn kannel_escapes_expand() {
        assert_eq!(
            expand(
                "http://app/mo?f=%p&t=%P&m=%a&c=%i&id=%I&at=%T&x=%20%%",
                &mo()
            ),
            "http://app/mo?f=46701&t=72000&m=hello+world&c=smsc&id=12&at=1700000000&x=%20%"
        );
    }

    #[test]
    fn get_and_post_carry_the_same_fields() {
        let m = mo();
        let get = call_for(&m, "http://app/mo?k=1", HttpMethod::Get);
        assert_eq!(get.method, Method::GET);
        assert_eq!(
            get.url,
            "http://app/mo?k=1&id=12&from=46701&to=72000&text=hello+world&coding=0&connector=smsc"
        );
        let post = call_for(&m, "http://app/mo", HttpMethod::Post);
        let body = String::from_utf8(post.body.unwrap().1).unwrap();
        assert_eq!(
            body,
            "id=12&from=46701&to=72000&text=hello+world&coding=0&connector=smsc"
        );
    }
}

//! Placeholders of outgoing HTTP templates (`address`, `http_params`, `http_headers`):
//! `{to}` `{from}` `{text}` `{hex}` `{udh}` `{coding}` `{id}` `{dlr}` `{priority}` `{validity}`.

use super::params::to_hex;
use common::gsm::{decode_text, Udh};
use common::message::Message;

/// The value of each placeholder for `m`. `{text}` is the text (without a UDH) for text
/// codings and hex for binary; `{hex}` is always the body's hex, `{udh}` the UDH's.
pub fn values(m: &Message) -> Vec<(&'static str, String)> {
    let (udh, payload) = if m.esm_class & 0x40 != 0 {
        match Udh::parse(&m.body) {
            Ok((_, len)) if len <= m.body.len() => (m.body[..len].to_vec(), m.body[len..].to_vec()),
            _ => (Vec::new(), m.body.clone()),
        }
    } else {
        (Vec::new(), m.body.clone())
    };
    let text = decode_text(m.data_coding, &payload).unwrap_or_else(|_| to_hex(&payload));
    let validity = m
        .expires_us
        .map(|t| ((t - crate::clock::now_us()).max(60_000_000) / 60_000_000).to_string())
        .unwrap_or_default();
    vec![
        ("to", m.dest.addr.clone()),
        ("from", m.source.addr.clone()),
        ("text", text),
        ("hex", to_hex(&payload)),
        ("udh", to_hex(&udh)),
        ("coding", m.data_coding.to_string()),
        ("id", m.id.to_string()),
        ("dlr", u8::from(m.dlr_requested).to_string()),
        ("priority", m.priority.to_string()),
        ("validity", validity),
    ]
}

/// `template` with each `{name}` replaced by its value, passed through `encode`.
pub fn expand(
    template: &str,
    values: &[(&'static str, String)],
    encode: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match values.iter().find(|(n, _)| *n == name) {
                    Some((_, v)) => out.push_str(&encode(v)),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// URL encoding for values put into a URL.
pub fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::message::Address;

    #[test]
    fn placeholders_expand() {
        let m = Message {
            id: 42,
            dest: Address::new("4670"),
            data_coding: 0,
            body: b"hi there".to_vec(),
            ..Default::default()
        };
        let v = values(&m);
        assert_eq!(
            expand("http://h/s?to={to}&m={text}&x={nope}", &v, url_encode),
            "http://h/s?to=4670&m=hi+there&x={nope}"
        );
        assert_eq!(
            expand("{id}:{hex}", &v, |s| s.to_string()),
            "42:6869207468657265"
        );
        let udh = Message {
            esm_class: 0x40,
            data_coding: 4,
            body: vec![5, 0, 3, 1, 2, 1, 0xAB],
            ..Default::default()
        };
        let v = values(&udh);
        assert_eq!(
            expand("{udh}/{text}", &v, |s| s.to_string()),
            "050003010201/AB"
        );
    }
}

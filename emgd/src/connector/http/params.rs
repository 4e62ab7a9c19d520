//! Request parameters of the HTTP API, from a query string, a form body or a JSON object (what
//! they mean for a send is [`super::send`]).
//!
//! Names are matched without case, `-` or `_` (`dlr-url`, `dlr_url`, `DLRURL` are one name).
//! Values are kept as bytes: Kannel clients send binary UDH and 8-bit text URL-encoded raw.
//! Everything here is free of I/O; each error names the parameter as the client spelled it.

/// A refused parameter: `name` as the client wrote it, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ParamError {
    pub name: String,
    pub message: String,
}

impl ParamError {
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> ParamError {
        ParamError {
            name: name.into(),
            message: message.into(),
        }
    }
}

/// Parameters in arrival order: (normalised name, name as written, value).
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String, Vec<u8>)>,
}

/// `dlr-url` -> `dlrurl`.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// URL decoding to bytes (`+` is a space); a malformed escape is kept as it is.
fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match (hex_val(s[i + 1]), hex_val(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// Bytes as hex when they are an even number of hex digits.
pub fn from_hex(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks_exact(2)
        .map(|p| Some(hex_val(p[0])? << 4 | hex_val(p[1])?))
        .collect()
}

pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

impl Params {
    /// Add the pairs of a query string or form body.
    pub fn add_urlencoded(&mut self, data: &[u8]) {
        for pair in data.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (k, v) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let name = String::from_utf8_lossy(&percent_decode(k)).into_owned();
            self.pairs.push((normalise(&name), name, percent_decode(v)));
        }
    }

    /// Add the members of a JSON object (strings, numbers, booleans; arrays repeat the name).
    pub fn add_json(&mut self, data: &[u8]) -> Result<(), ParamError> {
        let v: serde_json::Value = serde_json::from_slice(data)
            .map_err(|e| ParamError::new("body", format!("not valid JSON: {e}")))?;
        let serde_json::Value::Object(map) = v else {
            return Err(ParamError::new("body", "expected a JSON object"));
        };
        for (name, value) in map {
            let items = match value {
                serde_json::Value::Array(a) => a,
                other => vec![other],
            };
            for item in items {
                let text = match item {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => if b { "1" } else { "0" }.to_string(),
                    serde_json::Value::Null => continue,
                    _ => {
                        return Err(ParamError::new(
                            name,
                            "expected a string, number or boolean",
                        ))
                    }
                };
                self.pairs
                    .push((normalise(&name), name.clone(), text.into_bytes()));
            }
        }
        Ok(())
    }

    /// The first of `names` (normalised) present: (name as written, value).
    pub fn get(&self, names: &[&str]) -> Option<(&str, &[u8])> {
        self.pairs
            .iter()
            .find(|(n, _, _)| names.contains(&n.as_str()))
            .map(|(_, w, v)| (w.as_str(), v.as_slice()))
    }

    /// Every value of `names` (normalised), in arrival order: (name as written, value).
    pub fn all<'a>(&'a self, names: &'a [&str]) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        self.pairs
            .iter()
            .filter(|(n, _, _)| names.contains(&n.as_str()))
            .map(|(_, w, v)| (w.as_str(), v.as_slice()))
    }

    /// The value of the parameter written `written` (as the client spelled it).
    pub fn written(&self, written: &str) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|(_, w, _)| w == written)
            .map(|(_, _, v)| v.as_slice())
    }

    /// Whether no parameter came at all.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Like [`get`](Self::get), as UTF-8 text with surrounding spaces removed.
    pub fn text(&self, names: &[&str]) -> Result<Option<(&str, String)>, ParamError> {
        match self.get(names) {
            None => Ok(None),
            Some((w, v)) => match std::str::from_utf8(v) {
                Ok(s) => Ok(Some((w, s.trim().to_string()))),
                Err(_) => Err(ParamError::new(w, "not valid UTF-8")),
            },
        }
    }

    /// How many times any of `names` occurs.
    pub fn count(&self, names: &[&str]) -> usize {
        self.pairs
            .iter()
            .filter(|(n, _, _)| names.contains(&n.as_str()))
            .count()
    }

    pub(super) fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
        &self,
        names: &[&str],
        min: T,
        max: T,
    ) -> Result<Option<T>, ParamError> {
        let Some((w, s)) = self.text(names)? else {
            return Ok(None);
        };
        match s.parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(Some(n)),
            _ => Err(ParamError::new(
                w,
                format!("`{s}` is not a number in {min}..={max}"),
            )),
        }
    }
}

pub const USERNAME: &[&str] = &["username", "user"];
pub const PASSWORD: &[&str] = &["password", "pass", "pwd"];
/// Message id, for status lookups.
pub const ID: &[&str] = &["id", "msgid", "messageid"];
/// Kannel dlr-mask bits for the reports emg produces.
pub use common::dlr::mask;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode(b"a%2"), b"a%2");
        assert_eq!(percent_decode(b"%41+%zz"), b"A %zz");
    }
}

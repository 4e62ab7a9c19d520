//! Typed reading of TOML values with positions, and syntax checks for addresses.
//!
//! The `toml` crate's span-preserving `DeTable`/`DeValue` is read by hand instead of through
//! serde so that every wrong type is reported at the value's own position and reading continues
//! with the next key.

use std::net::{IpAddr, Ipv6Addr};
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostic::Sink;
use crate::suggest;

/// Byte range into the config text.
pub(crate) type Span = Range<usize>;
/// A parsed TOML value with its span.
pub(crate) type Val<'i> = Spanned<DeValue<'i>>;

/// A value together with where it was written, for diagnostics raised after reading.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sp<T> {
    pub(crate) v: T,
    pub(crate) span: Span,
    /// Dotted keyword it was set under (inherited values keep the parent's keyword).
    pub(crate) kw: String,
}

/// "a string", "an integer", … for "expected X, found Y" messages.
fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn wrong_type(sink: &mut Sink<'_>, kw: &str, v: &Val<'_>, expected: &str) {
    sink.at(
        &v.span(),
        kw,
        format!("expected {expected}, found {}", type_name(v.get_ref())),
    );
}

fn sp<T>(v: T, val: &Val<'_>, kw: &str) -> Sp<T> {
    Sp {
        v,
        span: val.span(),
        kw: kw.to_string(),
    }
}

/// A string value.
pub(crate) fn string(sink: &mut Sink<'_>, kw: &str, v: &Val<'_>) -> Option<Sp<String>> {
    match v.get_ref() {
        DeValue::String(s) => Some(sp(s.to_string(), v, kw)),
        _ => {
            wrong_type(sink, kw, v, "a string");
            None
        }
    }
}

/// A boolean value.
pub(crate) fn boolean(sink: &mut Sink<'_>, kw: &str, v: &Val<'_>) -> Option<bool> {
    match v.get_ref() {
        DeValue::Boolean(b) => Some(*b),
        _ => {
            wrong_type(sink, kw, v, "a boolean");
            None
        }
    }
}

/// An integer in `min..=max`, converted to `T`.
pub(crate) fn int<T>(sink: &mut Sink<'_>, kw: &str, v: &Val<'_>, min: T, max: T) -> Option<T>
where
    T: TryFrom<i128> + Into<i128> + Copy + std::fmt::Display,
{
    let DeValue::Integer(i) = v.get_ref() else {
        wrong_type(sink, kw, v, "an integer");
        return None;
    };
    let n = i128::from_str_radix(i.as_str(), i.radix()).ok();
    match n.filter(|n| (min.into()..=max.into()).contains(n)) {
        Some(n) => T::try_from(n).ok(),
        None => {
            // Type-sized limits are noise in a message; only mention the bound that matters.
            let msg = if max.into() < i128::from(u32::MAX) {
                format!("value {i} is out of range {min}..={max}")
            } else if n.is_some_and(|n| n > max.into()) {
                format!("value {i} is too large (at most {max})")
            } else {
                format!("value {i} must be at least {min}")
            };
            sink.at(&v.span(), kw, msg);
            None
        }
    }
}

/// A number (integer or float) accepted by `ok`; `what` describes the accepted range.
pub(crate) fn number(
    sink: &mut Sink<'_>,
    kw: &str,
    v: &Val<'_>,
    ok: impl Fn(f64) -> bool,
    what: &str,
) -> Option<f64> {
    let n = match v.get_ref() {
        DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|n| n as f64),
        _ => {
            wrong_type(sink, kw, v, "a number");
            return None;
        }
    };
    match n.filter(|n| n.is_finite() && ok(*n)) {
        Some(n) => Some(n),
        None => {
            sink.at(&v.span(), kw, format!("must be {what}"));
            None
        }
    }
}

/// An array of strings; non-string elements are reported and skipped.
pub(crate) fn strings(sink: &mut Sink<'_>, kw: &str, v: &Val<'_>) -> Option<Vec<Sp<String>>> {
    let DeValue::Array(items) = v.get_ref() else {
        wrong_type(sink, kw, v, "an array of strings");
        return None;
    };
    Some(items.iter().filter_map(|e| string(sink, kw, e)).collect())
}

/// A table value.
pub(crate) fn table<'t, 'i>(
    sink: &mut Sink<'_>,
    kw: &str,
    v: &'t Val<'i>,
) -> Option<&'t DeTable<'i>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => {
            wrong_type(sink, kw, v, "a table");
            None
        }
    }
}

/// The known keys of `t` as (key, dotted keyword, value); the others are reported as unknown
/// keywords with a suggestion.
pub(crate) fn known_keys<'t, 'i>(
    sink: &mut Sink<'_>,
    prefix: &str,
    t: &'t DeTable<'i>,
    known: &[&str],
) -> Vec<(&'t str, String, &'t Val<'i>)> {
    let mut out = Vec::new();
    for (k, v) in t.iter() {
        let key: &str = k.get_ref();
        let kw = dotted(prefix, key);
        if known.contains(&key) {
            out.push((key, kw, v));
        } else {
            let hint = suggest::hint(key, known.iter().copied());
            sink.at(&k.span(), &kw, format!("unknown keyword{hint}"));
        }
    }
    out
}

/// `prefix.key`, or `key` at the top level.
pub(crate) fn dotted(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Checks `host:port` (`[v6addr]:port` for IPv6); port 0 is allowed (ephemeral, for tests).
pub(crate) fn check_host_port(s: &str) -> Result<(), String> {
    let bad = || format!("`{s}` is not host:port (e.g. 127.0.0.1:2775 or [::1]:2775)");
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest.split_once("]:").ok_or_else(bad)?;
        h.parse::<Ipv6Addr>()
            .map_err(|_| format!("`{h}` is not an IPv6 address"))?;
        (h, p)
    } else {
        let (h, p) = s.rsplit_once(':').ok_or_else(bad)?;
        if h.contains(':') {
            return Err(format!(
                "`{s}`: write IPv6 addresses in brackets, e.g. [::1]:2775"
            ));
        }
        (h, p)
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(bad());
    }
    if !port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err() {
        return Err(format!("port `{port}` is not a number in 0..=65535"));
    }
    Ok(())
}

/// Checks an IP address or CIDR block (`addr/prefixlen`).
pub(crate) fn check_access(s: &str) -> Result<(), String> {
    let bad = || format!("`{s}` is not an IP address or CIDR block (e.g. 10.0.0.0/8)");
    match s.split_once('/') {
        None => s.parse::<IpAddr>().map(|_| ()).map_err(|_| bad()),
        Some((addr, len)) => {
            let addr: IpAddr = addr.parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            match len.parse::<u8>() {
                Ok(n) if n <= max && len.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
                _ => Err(format!("prefix length `{len}` must be 0..={max} in `{s}`")),
            }
        }
    }
}

/// Checks a destination prefix: digits, optionally starting with `+`.
pub(crate) fn check_prefix(s: &str) -> Result<(), String> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "prefix `{s}` must be digits, optionally starting with `+`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn host_port() {
        assert!(check_host_port("127.0.0.1:2775").is_ok());
        assert!(check_host_port("localhost:0").is_ok());
        assert!(check_host_port("[::1]:2775").is_ok());
        assert!(check_host_port("::1:2775").is_err());
        assert!(check_host_port("127.0.0.1").is_err());
        assert!(check_host_port(":2775").is_err());
        assert!(check_host_port("h:65536").is_err());
        assert!(check_host_port("h:+1").is_err());
        assert!(check_host_port("[zz]:1").is_err());
    }

    #[test]
    fn access() {
        for ok in ["10.0.0.1", "10.0.0.0/8", "::1", "fe80::/10", "0.0.0.0/0"] {
            assert!(check_access(ok).is_ok(), "{ok}");
        }
        for bad in [
            "10.0.0",
            "10.0.0.0/33",
            "::/129",
            "x/8",
            "10.0.0.0/",
            "1.2.3.4/+8",
        ] {
            assert!(check_access(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prefix() {
        assert!(check_prefix("46").is_ok());
        assert!(check_prefix("+4670").is_ok());
        assert!(check_prefix("+").is_err());
        assert!(check_prefix("").is_err());
        assert!(check_prefix("46a").is_err());
    }

    #[test]
    fn typed_readers_report_positions() {
        let text = "a = \"ten\"\nb = -1\nc = 0x10\nd = 1.5\ne = [\"x\", 2]\nf = 7";
        let doc = DeTable::parse(text).unwrap();
        let t = doc.get_ref();
        let mut sink = Sink::new(Path::new("f.toml"), text);
        assert_eq!(int::<u32>(&mut sink, "a", &t["a"], 0, 10), None);
        assert_eq!(int::<u32>(&mut sink, "b", &t["b"], 0, 10), None);
        assert_eq!(int::<u32>(&mut sink, "c", &t["c"], 0, 100), Some(16));
        assert_eq!(
            number(&mut sink, "d", &t["d"], |n| n <= 1.0, "at most 1.0"),
            None
        );
        assert_eq!(
            number(&mut sink, "f", &t["f"], |n| n > 0.0, ">0"),
            Some(7.0)
        );
        let e = strings(&mut sink, "e", &t["e"]).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(boolean(&mut sink, "f", &t["f"]), None);
        let msgs: Vec<String> = sink.diagnostics.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "f.toml:1:5: a: expected an integer, found a string",
                "f.toml:2:5: b: value -1 is out of range 0..=10",
                "f.toml:4:5: d: must be at most 1.0",
                "f.toml:5:11: e: expected a string, found an integer",
                "f.toml:6:5: f: expected a boolean, found an integer",
            ]
        );
    }
}

//! The configuration: the TOML file and every file format it reads (mapping files, retry
//! schemes, blacklists) and the `[satpool.NAME]` address ranges.
//!
//! Property: text is either accepted or refused with diagnostics whose `FILE:LINE:COL` points
//! into the text that was read (an operator must be able to go there), each with a keyword and
//! a message. Never a panic.

use std::path::Path;

use ::config::{Blacklist, Diagnostic, Mapping, RetryScheme};

/// The name the checks give the text; relative paths inside it resolve against `.`.
const FILE: &str = "fuzz.toml";

/// Asserts that every diagnostic about `file` points into `text`.
fn check_diagnostics(text: &str, file: &Path, diagnostics: &[Diagnostic]) {
    assert!(!diagnostics.is_empty(), "refused without a diagnostic");
    let lines: Vec<&str> = text.split('\n').collect();
    for d in diagnostics {
        assert!(!d.keyword.is_empty() && !d.message.is_empty(), "{d:?}");
        let _ = d.to_string();
        if d.file != file {
            continue;
        }
        assert!(
            d.line >= 1 && d.line <= lines.len(),
            "line out of the text: {d:?}"
        );
        // A character of the line or its end, the newline (which follows the CR of a CRLF
        // line: an unterminated string is reported there).
        let width = lines[d.line - 1].chars().count();
        assert!(
            d.col >= 1 && d.col <= width + 1,
            "column out of line {}: {d:?}",
            d.line
        );
    }
}

/// The TOML configuration.
pub fn toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Referenced files are read: keep the fuzzer off devices that never end (`/dev/zero`).
    if ["dev/", "proc/", "sys/"].iter().any(|d| text.contains(d)) {
        return;
    }
    let path = Path::new(FILE);
    if let Err(e) = ::config::parse_str(text, path) {
        check_diagnostics(text, path, &e.diagnostics);
    }
}

/// `[satpool.NAME]` tables built from generated keyword values, so the address-range expander
/// gets numbers and ranges rather than TOML syntax errors.
pub fn satpool(data: &[u8]) {
    let Some(text) = crate::generate(data, satpool_text) else {
        return;
    };
    let path = Path::new(FILE);
    match ::config::parse_str(&text, path) {
        Err(e) => check_diagnostics(&text, path, &e.diagnostics),
        Ok(cfg) => {
            for pool in cfg.satpools.values() {
                let mut seen = std::collections::BTreeSet::new();
                assert!(!pool.addresses.is_empty());
                assert!(pool.addresses.len() as u64 <= 100_000);
                assert!(pool.addresses.iter().all(|a| seen.insert(a)), "{pool:?}");
                assert!(pool
                    .addresses
                    .iter()
                    .all(|a| a.bytes().all(|b| b.is_ascii_digit())));
            }
        }
    }
}

fn satpool_text(u: &mut arbitrary::Unstructured) -> arbitrary::Result<String> {
    let mut text = String::new();
    for pool in 0..u.int_in_range(1..=2)? {
        text.push_str(&format!("[satpool.p{pool}]\n"));
        let n = u.int_in_range(0..=4)?;
        let items = (0..n)
            .map(|_| address_item(u))
            .collect::<arbitrary::Result<Vec<_>>>()?;
        if u.ratio(15, 16)? {
            text.push_str(&format!("addresses = {}\n", ::toml::Value::from(items)));
        }
        for key in ["expire", "ton", "npi"] {
            if u.arbitrary()? {
                text.push_str(&format!("{key} = {}\n", u.arbitrary::<i64>()? % 1000));
            }
        }
        if u.arbitrary()? {
            text.push_str(&format!("threaded = {}\n", u.arbitrary::<bool>()?));
        }
    }
    Ok(text)
}

/// A pool item: digits, a FIRST-LAST range or anything at all.
fn address_item(u: &mut arbitrary::Unstructured) -> arbitrary::Result<String> {
    let number = |u: &mut arbitrary::Unstructured| -> arbitrary::Result<String> {
        let digits = u.int_in_range(0..=20)?;
        (0..digits)
            .map(|_| Ok(char::from(b'0' + u.int_in_range(0..=9)?)))
            .collect()
    };
    Ok(match u.int_in_range(0..=3)? {
        0 => number(u)?,
        1 | 2 => {
            let first = number(u)?;
            // Mostly ranges of a few addresses with the same number of digits.
            let last = if u.arbitrary()? && !first.is_empty() {
                let n: u64 = first.parse().unwrap_or(0);
                let span = u.int_in_range(0..=300u64)?;
                format!("{:0w$}", n.saturating_add(span), w = first.len())
            } else {
                number(u)?
            };
            format!("{first}-{last}")
        }
        _ => u.arbitrary()?,
    })
}

/// A file format referenced from the TOML: `parse(text, file)` for mapping, retry scheme and
/// blacklist files, checked the same way.
fn side_file<T>(data: &[u8], name: &str, parse: fn(&str, &Path) -> Result<T, Vec<Diagnostic>>) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new(name);
    if let Err(d) = parse(text, path) {
        check_diagnostics(text, path, &d);
    }
}

/// A mapping file (`mapping = "FILE"`).
pub fn mapping(data: &[u8]) {
    side_file(data, "fuzz.map", Mapping::parse);
}

/// A retry scheme file (`retryscheme = "FILE"`).
pub fn retry(data: &[u8]) {
    side_file(data, "fuzz.retry", RetryScheme::parse);
}

/// A blacklist file (`blacklist = "FILE"`).
pub fn blacklist(data: &[u8]) {
    side_file(data, "fuzz.blacklist", Blacklist::parse);
}

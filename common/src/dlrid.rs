//! The one delivery-report id normaliser.
//!
//! An SMSC names a message twice: in the submit_sm_resp (`message_id`) and later in the
//! receipt (the `receipted_message_id` TLV or the `id:` of the receipt text). The two often
//! disagree in spelling: hex in one and decimal in the other (SMPP 3.3 vs 3.4 habits, EMG's
//! HEXID, Kannel's msg-id-type), zero padding, letter case, trailing NULs or blanks.
//!
//! The gateway stores each open DLR entry under [`normalise`]d id and normalises every receipt
//! id the same way. When the exact key misses, [`receipt_candidates`] gives the other keys the
//! same id may have been stored under; when a receipt was parked because it came before its
//! submit_sm_resp, [`stored_aliases`] gives the parked keys a newly stored id may match.

use std::fmt;
use std::str::FromStr;

/// How a connector's SMSC spells its message ids (connector keyword `dlr_id_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdFormat {
    /// Case-folded, zero-stripped; a miss is retried as hex-to-decimal and decimal-to-hex.
    #[default]
    Auto,
    /// Ids are hexadecimal numbers; receipts may carry them in decimal.
    Hex,
    /// Ids are decimal numbers; receipts may carry them in hex.
    Decimal,
    /// Opaque strings: only blanks and NULs around them are ignored.
    String,
}

impl IdFormat {
    pub const ALL: [(&'static str, IdFormat); 4] = [
        ("auto", IdFormat::Auto),
        ("hex", IdFormat::Hex),
        ("decimal", IdFormat::Decimal),
        ("string", IdFormat::String),
    ];
}

impl fmt::Display for IdFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = IdFormat::ALL
            .iter()
            .find(|(_, v)| v == self)
            .map_or("auto", |(n, _)| n);
        f.write_str(name)
    }
}

impl FromStr for IdFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lc = s.trim().to_ascii_lowercase();
        IdFormat::ALL
            .iter()
            .find(|(n, _)| *n == lc)
            .map(|(_, v)| *v)
            .ok_or_else(|| format!("unknown dlr id format {s:?}"))
    }
}

fn is_dec(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `s` without leading zeros; "0" stays "0".
fn strip_zeros(s: &str) -> &str {
    let t = s.trim_start_matches('0');
    if t.is_empty() && !s.is_empty() {
        "0"
    } else {
        t
    }
}

/// The canonical key of a remote id.
///
/// Every format trims blanks and NULs. `string` keeps the rest as is. The others fold case
/// and drop leading zeros of an all-hex-digit id (`"000A1b"` → `"a1b"`), so the same id
/// spelled with different padding or case gets one key; other ids are only case-folded.
pub fn normalise(id: &str, format: IdFormat) -> String {
    let t = id.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    match format {
        IdFormat::String => t.to_string(),
        _ if is_hex(t) => strip_zeros(t).to_ascii_lowercase(),
        _ => t.to_ascii_lowercase(),
    }
}

fn dec_to_hex(canon: &str) -> Option<String> {
    is_dec(canon)
        .then(|| canon.parse::<u128>().ok())
        .flatten()
        .map(|n| format!("{n:x}"))
}

fn hex_to_dec(canon: &str) -> Option<String> {
    is_hex(canon)
        .then(|| u128::from_str_radix(canon, 16).ok())
        .flatten()
        .map(|n| n.to_string())
}

fn distinct(canon: &str, found: impl IntoIterator<Item = Option<String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in found.into_iter().flatten() {
        if s != canon && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Other keys an entry may be stored under when a receipt's normalised id `canon` misses.
///
/// `hex`: the receipt may spell the hex id in decimal. `decimal`: the receipt may spell the
/// decimal id in hex. `auto`: both, decimal-to-hex first (the SMPP 3.3 habit: hex in the
/// response, decimal in the receipt). `string`: none.
pub fn receipt_candidates(canon: &str, format: IdFormat) -> Vec<String> {
    match format {
        IdFormat::String => Vec::new(),
        IdFormat::Hex => distinct(canon, [dec_to_hex(canon)]),
        IdFormat::Decimal => distinct(canon, [hex_to_dec(canon)]),
        IdFormat::Auto => distinct(canon, [dec_to_hex(canon), hex_to_dec(canon)]),
    }
}

/// Keys a parked receipt may be waiting under for an entry just stored under `canon`: the
/// reverse of [`receipt_candidates`]. With short, dense ids a receipt parked under one
/// spelling can belong to another message whose id reads the same in the other base, so
/// emgd takes a parked receipt by another spelling only once its parking window ended with
/// no exact match; connectors should still name their SMSC's format (emg.toml(5),
/// `dlr_id_format`).
pub fn stored_aliases(canon: &str, format: IdFormat) -> Vec<String> {
    match format {
        IdFormat::String => Vec::new(),
        IdFormat::Hex => distinct(canon, [hex_to_dec(canon)]),
        IdFormat::Decimal => distinct(canon, [dec_to_hex(canon)]),
        IdFormat::Auto => distinct(canon, [hex_to_dec(canon), dec_to_hex(canon)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IdFormat::*;

    /// (format, id as the submit_sm_resp gave it, id as the receipt gave it)
    const MATCHING: &[(IdFormat, &str, &str)] = &[
        // same spelling
        (Auto, "12345", "12345"),
        (Auto, "a1b2c3", "a1b2c3"),
        (Auto, "msg-77-x", "msg-77-x"),
        // letter case
        (Auto, "A1B2C3", "a1b2c3"),
        (Auto, "a1b2c3", "A1B2C3"),
        (Auto, "Msg-77-X", "msg-77-x"),
        (Hex, "DEADBEEF", "deadbeef"),
        // leading zeros, either side
        (Auto, "0000012345", "12345"),
        (Auto, "12345", "0000012345"),
        (Auto, "000A1B", "a1b"),
        (Decimal, "000000042", "42"),
        (Hex, "00FF", "ff"),
        (Auto, "0", "0000"),
        // hex in the response, decimal in the receipt (SMPP 3.3 / EMG HEXID / Kannel 0x01)
        (Auto, "A1B2C3", "10597059"),
        (Hex, "A1B2C3", "10597059"),
        (Hex, "00A1B2C3", "0010597059"),
        (Auto, "1234", "4660"),
        (Hex, "1234", "4660"),
        // decimal in the response, hex in the receipt
        (Auto, "10597059", "A1B2C3"),
        (Decimal, "10597059", "a1b2c3"),
        (Decimal, "0010597059", "00A1B2C3"),
        // blanks and NULs
        (Auto, "12345\0", " 12345"),
        (String, "abc\0", "abc"),
        (String, " Id-7 ", "Id-7"),
    ];

    /// Pairs that must not match.
    const DISTINCT: &[(IdFormat, &str, &str)] = &[
        (String, "ABC", "abc"),
        (String, "0012", "12"),
        (Hex, "10597059", "a1b2c3"),
        (Decimal, "a1b2c3", "10597059"),
        (Auto, "12345", "12346"),
        (Auto, "msg-1", "msg-01"),
        (String, "a1b2c3", "10597059"),
    ];

    /// What the gateway does: stored key, then the receipt's key, then its candidates.
    fn matches(format: IdFormat, resp: &str, receipt: &str) -> bool {
        let stored = normalise(resp, format);
        let got = normalise(receipt, format);
        got == stored || receipt_candidates(&got, format).contains(&stored)
    }

    /// The parked direction: the receipt is waiting, the entry arrives.
    fn matches_parked(format: IdFormat, resp: &str, receipt: &str) -> bool {
        let stored = normalise(resp, format);
        let parked = normalise(receipt, format);
        parked == stored || stored_aliases(&stored, format).contains(&parked)
    }

    #[test]
    fn matching_table() {
        for &(f, resp, receipt) in MATCHING {
            assert!(matches(f, resp, receipt), "{f}: {resp:?} vs {receipt:?}");
            assert!(
                matches_parked(f, resp, receipt),
                "{f} parked: {resp:?} vs {receipt:?}"
            );
        }
    }

    #[test]
    fn distinct_table() {
        for &(f, resp, receipt) in DISTINCT {
            assert!(!matches(f, resp, receipt), "{f}: {resp:?} vs {receipt:?}");
            assert!(
                !matches_parked(f, resp, receipt),
                "{f} parked: {resp:?} vs {receipt:?}"
            );
        }
    }

    #[test]
    fn canonical_forms() {
        let table = [
            (Auto, "000A1B", "a1b"),
            (Auto, "0000", "0"),
            (Auto, "Msg-01", "msg-01"),
            (Hex, "00FF\0", "ff"),
            (Decimal, "0042", "42"),
            (String, "  Xy\0", "Xy"),
            (Auto, "", ""),
        ];
        for (f, input, want) in table {
            assert_eq!(normalise(input, f), want, "{f} {input:?}");
        }
    }

    #[test]
    fn huge_ids_have_no_numeric_alternates() {
        let long = "9".repeat(60);
        assert!(receipt_candidates(&long, Auto).is_empty());
        assert!(stored_aliases(&long, Hex).is_empty());
    }

    #[test]
    fn format_names_round_trip() {
        for (name, f) in IdFormat::ALL {
            assert_eq!(name.parse::<IdFormat>().unwrap(), f);
            assert_eq!(f.to_string(), name);
        }
        assert!("hexadecimal".parse::<IdFormat>().is_err());
    }
}

//! `[satpool.NAME]`: a pool of source addresses for SAT (source address translation), EMG's
//! `SATPOOL name < … >`.
//!
//! ```toml
//! [satpool.mail]
//! addresses = ["46700000100-46700000199", "46700000250"]   # numbers and FIRST-LAST ranges
//! expire = 604800        # seconds an entry lives after its last use (default 7 days)
//! threaded = false       # true: a fresh pool address for every message
//! ton = 1                # type of number of the pool addresses (default 1, international)
//! npi = 1                # numbering plan (default 1, E.164)
//! ```
//!
//! Connectors name a pool with `satpool_create(_in)` and `satpool_lookup(_in)`.

use std::collections::BTreeSet;

use toml::de::DeTable;

use crate::context::Ctx;
use crate::values::{self, Span};

const SATPOOL_KEYWORDS: &[&str] = &["addresses", "expire", "threaded", "ton", "npi"];

/// Most addresses one pool may hold (the in-memory index scans a pool to find a free one).
pub const MAX_POOL_SIZE: u64 = 100_000;

/// A validated SAT pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SatPool {
    /// Name from `[satpool.NAME]`.
    pub name: String,
    /// Every address of the pool, ranges expanded, in the order written; no duplicates.
    pub addresses: Vec<String>,
    /// Seconds an entry lives after it was created or last reused.
    pub expire: u64,
    /// A fresh pool address for every message instead of one per (sender, recipient).
    pub threaded: bool,
    /// Type of number given to a pool address put in a message.
    pub ton: u8,
    /// Numbering plan indicator given to a pool address put in a message.
    pub npi: u8,
}

/// Reads one `[satpool.NAME]` table; `None` when it has errors (reported).
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    name: &str,
    header: Span,
    t: &DeTable<'_>,
) -> Option<SatPool> {
    let prefix = format!("satpool.{name}");
    let mut pool = SatPool {
        name: name.to_string(),
        addresses: Vec::new(),
        expire: 7 * 86_400,
        threaded: false,
        ton: 1,
        npi: 1,
    };
    let mut ok = true;
    let mut has_addresses = false;
    for (key, kw, v) in values::known_keys(&mut ctx.sink, &prefix, t, SATPOOL_KEYWORDS) {
        let sink = &mut ctx.sink;
        match key {
            "addresses" => {
                has_addresses = true;
                let Some(items) = values::strings(sink, &kw, v) else {
                    ok = false;
                    continue;
                };
                let mut seen = BTreeSet::new();
                for item in items {
                    match expand(&item.v) {
                        Ok(list) => {
                            for a in list {
                                if (pool.addresses.len() as u64) >= MAX_POOL_SIZE {
                                    sink.at(
                                        &item.span,
                                        &kw,
                                        format!("a pool holds at most {MAX_POOL_SIZE} addresses"),
                                    );
                                    ok = false;
                                    break;
                                }
                                if !seen.insert(a.clone()) {
                                    sink.at(
                                        &item.span,
                                        &kw,
                                        format!("address {a} is listed twice"),
                                    );
                                    ok = false;
                                    break;
                                }
                                pool.addresses.push(a);
                            }
                        }
                        Err(msg) => {
                            sink.at(&item.span, &kw, msg);
                            ok = false;
                        }
                    }
                }
                if pool.addresses.is_empty() && ok {
                    sink.at(&v.span(), &kw, "a pool needs at least one address");
                    ok = false;
                }
            }
            "expire" => match values::int(sink, &kw, v, 1, u64::MAX / 1_000_000) {
                Some(s) => pool.expire = s,
                None => ok = false,
            },
            "threaded" => match values::boolean(sink, &kw, v) {
                Some(b) => pool.threaded = b,
                None => ok = false,
            },
            "ton" => match values::int(sink, &kw, v, 0, 6) {
                Some(n) => pool.ton = n,
                None => ok = false,
            },
            "npi" => match values::int(sink, &kw, v, 0, 18) {
                Some(n) => pool.npi = n,
                None => ok = false,
            },
            _ => {}
        }
    }
    if !has_addresses {
        ctx.sink.at(
            &header,
            &format!("{prefix}.addresses"),
            "required keyword is missing",
        );
        ok = false;
    }
    ok.then_some(pool)
}

/// `"4670001"` or `"4670000-4670099"` (same number of digits on both sides, first <= last).
fn expand(item: &str) -> Result<Vec<String>, String> {
    let digits = |s: &str| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
    match item.split_once('-') {
        None if digits(item) => Ok(vec![item.to_string()]),
        None => Err(format!(
            "`{item}` is not a number or a FIRST-LAST range of numbers (at most 18 digits)"
        )),
        Some((a, b)) => {
            let (a, b) = (a.trim(), b.trim());
            if !digits(a) || !digits(b) {
                return Err(format!(
                    "`{item}` is not a FIRST-LAST range of numbers (at most 18 digits)"
                ));
            }
            if a.len() != b.len() {
                return Err(format!(
                    "`{item}`: both ends of a range need the same number of digits"
                ));
            }
            let (lo, hi) = (a.parse::<u64>().unwrap_or(0), b.parse::<u64>().unwrap_or(0));
            if lo > hi {
                return Err(format!("`{item}`: the range runs backwards"));
            }
            if hi - lo >= MAX_POOL_SIZE {
                return Err(format!(
                    "`{item}` holds {} addresses; a pool holds at most {MAX_POOL_SIZE}",
                    hi - lo + 1
                ));
            }
            Ok((lo..=hi)
                .map(|n| format!("{n:0width$}", width = a.len()))
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_keep_leading_zeros() {
        assert_eq!(expand("0700-0702").unwrap(), ["0700", "0701", "0702"]);
        assert_eq!(expand("46700").unwrap(), ["46700"]);
        assert!(expand("12-3").is_err());
        assert!(expand("19-10").is_err());
        assert!(expand("46x").is_err());
        assert!(expand("0-999999").is_err());
    }
}

//! Address rewriting by prefix: EMG's remove, require and replace prefix keywords, then the
//! regular expression, always in that order (see `config::AddressRewrite`).

use config::{AddressRewrite, PrefixPair};

/// `addr` rewritten by every step of `r`; an empty address is left alone.
pub fn rewrite(r: &AddressRewrite, addr: &str) -> String {
    if addr.is_empty() || r.is_empty() {
        return addr.to_string();
    }
    let mut a = remove_prefix(&r.removeprefix, addr);
    if let Some(p) = &r.requireprefix {
        a = require_prefix(p, &a);
    }
    a = replace_prefix(&r.replaceprefix, &a);
    if let Some(re) = &r.regexp {
        a = super::regexp::apply(re, &a);
    }
    a
}

/// Removes the first of `prefixes` that `addr` starts with.
pub fn remove_prefix(prefixes: &[String], addr: &str) -> String {
    prefixes
        .iter()
        .find_map(|p| addr.strip_prefix(p.as_str()))
        .unwrap_or(addr)
        .to_string()
}

/// Adds `prefix` unless `addr` already starts with it.
pub fn require_prefix(prefix: &str, addr: &str) -> String {
    if addr.starts_with(prefix) {
        addr.to_string()
    } else {
        format!("{prefix}{addr}")
    }
}

/// Applies each pair in turn to the result of the previous one: a matching pattern is replaced
/// by its replacement; an empty pattern always matches (so it adds the replacement).
pub fn replace_prefix(pairs: &[PrefixPair], addr: &str) -> String {
    let mut a = addr.to_string();
    for p in pairs {
        if let Some(rest) = a.strip_prefix(p.pattern.as_str()) {
            a = format!("{}{rest}", p.replacement);
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(spec: &[(&str, &str)]) -> Vec<PrefixPair> {
        spec.iter()
            .map(|(p, r)| PrefixPair {
                pattern: p.to_string(),
                replacement: r.to_string(),
            })
            .collect()
    }

    #[test]
    fn swedish_replaceprefix() {
        // EMG's example "+:,00:,0:46": strip + or 00, then national 0 becomes 46.
        let plain = pairs(&[("+", ""), ("00", ""), ("0", "46")]);
        // ... and with a final step that adds + ("+:,00:,0:46,:+").
        let plus = pairs(&[("+", ""), ("00", ""), ("0", "46"), ("", "+")]);
        let cases = [
            ("+46123456", "46123456", "+46123456"),
            ("46123456", "46123456", "+46123456"),
            ("0046123456", "46123456", "+46123456"),
            ("070123456", "4670123456", "+4670123456"),
        ];
        for (input, out, out_plus) in cases {
            assert_eq!(replace_prefix(&plain, input), out, "{input}");
            assert_eq!(replace_prefix(&plus, input), out_plus, "{input} with +");
        }
    }

    #[test]
    fn remove_and_require() {
        let list = ["+".to_string(), "00".to_string()];
        let cases = [
            ("+4670", "4670"),
            ("004670", "4670"),
            ("4670", "4670"),
            // Only the first matching prefix goes.
            ("+004670", "004670"),
        ];
        for (input, out) in cases {
            assert_eq!(remove_prefix(&list, input), out, "{input}");
        }
        // EMG's sample: "If destination address does not start with 00, add it".
        assert_eq!(require_prefix("00", "4670"), "004670");
        assert_eq!(require_prefix("00", "004670"), "004670");
    }

    #[test]
    fn steps_run_in_emg_order() {
        let r = AddressRewrite {
            removeprefix: vec!["+".into()],
            requireprefix: Some("00".into()),
            replaceprefix: pairs(&[("0046", "46")]),
            regexp: None,
        };
        // + removed, 00 required, then 0046 replaced by 46.
        assert_eq!(rewrite(&r, "+46701"), "46701");
        assert_eq!(rewrite(&r, "46701"), "46701");
        assert_eq!(rewrite(&r, "0701"), "000701");
        assert_eq!(rewrite(&r, ""), "");
    }
}

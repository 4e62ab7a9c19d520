//! Address rewriting keywords: EMG's remove / require / replace prefix families and regular
//! expressions, for destination and source addresses, on sending (plain keyword) and on
//! receipt (`_in`).
//!
//! Values are checked here; the rewriting itself is emgd's (`emgd::process`).
//!
//! - `removeprefix = "+,00"`: the first listed prefix the address starts with is removed.
//! - `requireprefix = "00"`: added unless the address already starts with it.
//! - `replaceprefix = "+:,00:,0:46"`: `pattern:replacement` pairs applied left to right, each
//!   to the result of the one before; an empty pattern adds its replacement in front, an empty
//!   replacement removes the pattern.
//! - `regexp_destaddr = "s/^0([1-9])/46$1/"`: a substitution with the `regex` crate's syntax;
//!   flags `g` (every match, not only the first) and `i` (ignore case).

use regex::Regex;

/// How one address (destination or source) is rewritten in one direction, applied in this
/// order: remove prefix, require prefix, replace prefix, regular expression.
#[derive(Debug, Clone, Default)]
pub struct AddressRewrite {
    /// `remove…prefix`: the first of these the address starts with is removed.
    pub removeprefix: Vec<String>,
    /// `require…prefix`: added in front unless already there.
    pub requireprefix: Option<String>,
    /// `replace…prefix`: applied left to right.
    pub replaceprefix: Vec<PrefixPair>,
    /// `regexp_…addr`.
    pub regexp: Option<RegexpRewrite>,
}

impl AddressRewrite {
    /// Nothing configured: addresses pass unchanged.
    pub fn is_empty(&self) -> bool {
        self.removeprefix.is_empty()
            && self.requireprefix.is_none()
            && self.replaceprefix.is_empty()
            && self.regexp.is_none()
    }
}

/// One `pattern:replacement` pair of `replaceprefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixPair {
    /// Prefix looked for; empty matches every address (so the replacement is added).
    pub pattern: String,
    /// What the prefix becomes; empty removes it.
    pub replacement: String,
}

/// A `s/PATTERN/REPLACEMENT/FLAGS` substitution.
#[derive(Debug, Clone)]
pub struct RegexpRewrite {
    /// The value as written, for logs.
    pub spec: String,
    pub regex: Regex,
    /// Replacement in the `regex` crate's syntax (`${1}` for the first group).
    pub replacement: String,
    /// Flag `g`: replace every match rather than the first.
    pub global: bool,
}

/// A prefix may hold digits, `+`, `*` and `#` (no spaces, commas or colons).
fn check_prefix(p: &str) -> Result<(), String> {
    match p
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '*' | '#' | '@' | '.')))
    {
        None => Ok(()),
        Some(c) => Err(format!("`{c}` cannot be part of a prefix in `{p}`")),
    }
}

/// `removeprefix`: a comma-separated list of prefixes, none empty.
pub(crate) fn parse_prefix_list(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for p in s.split(',').map(str::trim) {
        if p.is_empty() {
            return Err(format!(
                "empty prefix in `{s}` (write prefixes separated by commas, e.g. \"+,00\")"
            ));
        }
        check_prefix(p)?;
        out.push(p.to_string());
    }
    Ok(out)
}

/// `requireprefix`: one prefix, not empty.
pub(crate) fn parse_prefix(s: &str) -> Result<String, String> {
    let p = s.trim();
    if p.is_empty() {
        return Err("the prefix is empty".into());
    }
    check_prefix(p)?;
    Ok(p.to_string())
}

/// `replaceprefix`: comma-separated `pattern:replacement` pairs.
pub(crate) fn parse_replaceprefix(s: &str) -> Result<Vec<PrefixPair>, String> {
    let mut out = Vec::new();
    for pair in s.split(',').map(str::trim) {
        let Some((pattern, replacement)) = pair.split_once(':') else {
            return Err(format!(
                "`{pair}` is not pattern:replacement (e.g. \"+:,00:,0:46\": strip + and 00, then national 0 becomes 46)"
            ));
        };
        let (pattern, replacement) = (pattern.trim(), replacement.trim());
        if pattern.is_empty() && replacement.is_empty() {
            return Err(format!("`{pair}` has neither a pattern nor a replacement"));
        }
        check_prefix(pattern)?;
        check_prefix(replacement)?;
        out.push(PrefixPair {
            pattern: pattern.to_string(),
            replacement: replacement.to_string(),
        });
    }
    Ok(out)
}

/// `regexp_…addr`: `s/PATTERN/REPLACEMENT/FLAGS` with any punctuation as delimiter.
pub(crate) fn parse_regexp(s: &str) -> Result<RegexpRewrite, String> {
    let usage = "expected s/PATTERN/REPLACEMENT/ with optional flags g and i, e.g. \"s/^0/46/\"";
    let rest = s.strip_prefix('s').ok_or_else(|| usage.to_string())?;
    let delim = rest.chars().next().ok_or_else(|| usage.to_string())?;
    if delim.is_alphanumeric() || delim.is_whitespace() || delim == '\\' {
        return Err(usage.into());
    }
    let parts = split_unescaped(rest.get(delim.len_utf8()..).unwrap_or(""), delim);
    let [pattern, replacement, flags] = parts.as_slice() else {
        return Err(usage.into());
    };
    let mut global = false;
    let mut icase = false;
    for f in flags.chars() {
        match f {
            'g' => global = true,
            'i' => icase = true,
            other => return Err(format!("unknown flag `{other}` (known: g, i)")),
        }
    }
    let pattern = unescape_delim(pattern, delim);
    let regex = regex::RegexBuilder::new(&pattern)
        .case_insensitive(icase)
        .build()
        .map_err(|e| format!("bad regular expression `{pattern}`: {}", regex_error(&e)))?;
    let replacement = translate_replacement(replacement, delim);
    if let Some(g) = max_group(&replacement) {
        if g >= regex.captures_len() {
            return Err(format!(
                "the replacement refers to group {g}, but the pattern has {}",
                regex.captures_len() - 1
            ));
        }
    }
    Ok(RegexpRewrite {
        spec: s.to_string(),
        regex,
        replacement,
        global,
    })
}

/// Splits on `delim` not preceded by a backslash; escapes are kept for later passes.
fn split_unescaped(s: &str, delim: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                if let Some(cur) = parts.last_mut() {
                    cur.push(c);
                    cur.push(next);
                }
                continue;
            }
        }
        if c == delim {
            parts.push(String::new());
        } else if let Some(cur) = parts.last_mut() {
            cur.push(c);
        }
    }
    parts
}

/// `\/` (an escaped delimiter) becomes the delimiter; other escapes stay for the regex.
fn unescape_delim(s: &str, delim: char) -> String {
    s.replace(&format!("\\{delim}"), &delim.to_string())
}

/// Perl/sed replacement to the `regex` crate's: `\1` and `$1` become `${1}`, `${name}` stays,
/// `\\` is a backslash, `\/` the delimiter, and a lone `$` is literal.
fn translate_replacement(s: &str, delim: char) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match (c, next) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str(&format!("${{{d}}}"));
                i += 2;
            }
            ('\\', Some(d)) if d == '\\' || d == delim || d == '$' => {
                if d == '$' {
                    out.push_str("$$");
                } else {
                    out.push(d);
                }
                i += 2;
            }
            ('$', Some('{')) => {
                let end = chars
                    .iter()
                    .skip(i)
                    .position(|&c| c == '}')
                    .map_or(chars.len(), |p| i + p + 1);
                out.extend(chars.get(i..end).unwrap_or(&[]));
                i = end;
            }
            ('$', Some(d)) if d.is_ascii_alphanumeric() || d == '_' => {
                let end = chars
                    .iter()
                    .skip(i + 1)
                    .position(|c| {
                        !(c.is_ascii_digit()
                            || (!d.is_ascii_digit() && (c.is_ascii_alphanumeric() || *c == '_')))
                    })
                    .map_or(chars.len(), |p| i + 1 + p);
                let name: String = chars.get(i + 1..end).unwrap_or(&[]).iter().collect();
                out.push_str(&format!("${{{name}}}"));
                i = end;
            }
            ('$', _) => {
                out.push_str("$$");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Highest numbered group `${N}` the replacement uses.
fn max_group(replacement: &str) -> Option<usize> {
    let mut max = None;
    let mut rest = replacement;
    while let Some(p) = rest.find("${") {
        let after = rest.get(p + 2..).unwrap_or("");
        let end = after.find('}').unwrap_or(after.len());
        if let Ok(n) = after.get(..end).unwrap_or("").parse::<usize>() {
            max = max.max(Some(n));
        }
        rest = after.get(end..).unwrap_or("");
    }
    max
}

/// The `error: ...` line of the regex crate's multi-line message.
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map_or_else(
            || text.split_whitespace().collect::<Vec<_>>().join(" "),
            str::to_string,
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        parse_replaceprefix(s)
            .unwrap()
            .into_iter()
            .map(|p| (p.pattern, p.replacement))
            .collect()
    }

    #[test]
    fn replaceprefix_pairs() {
        let p = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            pairs("+:,00:,0:46"),
            [p("+", ""), p("00", ""), p("0", "46")]
        );
        assert_eq!(pairs(" +: , :+ "), [p("+", ""), p("", "+")]);
        assert!(parse_replaceprefix("+").is_err());
        assert!(parse_replaceprefix(":").is_err());
        assert!(parse_replaceprefix("0:4 6").is_err());
        assert!(parse_replaceprefix("+:,").is_err());
    }

    #[test]
    fn prefix_lists() {
        assert_eq!(parse_prefix_list("+,00").unwrap(), ["+", "00"]);
        assert!(parse_prefix_list("+,,00").is_err());
        assert!(parse_prefix_list("").is_err());
        assert_eq!(parse_prefix(" 00 ").unwrap(), "00");
        assert!(parse_prefix("").is_err());
        assert!(parse_prefix("0:0").is_err());
    }

    #[test]
    fn regexp_specs() {
        let r = parse_regexp("s/^0([1-9])/46$1/").unwrap();
        assert_eq!(r.replacement, "46${1}");
        assert!(!r.global);
        let r = parse_regexp(r"s|^(\d+)0$|\1\|x|gi").unwrap();
        assert_eq!(r.regex.as_str(), r"^(\d+)0$");
        assert_eq!(r.replacement, "${1}|x");
        assert!(r.global);
        let r = parse_regexp("s/(a)/$ ${1}x $name/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.replacement, "$$ ${1}x ${name}");
        assert!(parse_regexp("s/a/b").is_err());
        assert!(parse_regexp("x/a/b/").is_err());
        assert!(parse_regexp("s/a/b/q").is_err());
        assert!(parse_regexp("s/(/b/")
            .unwrap_err()
            .starts_with("bad regular expression"));
        assert_eq!(
            parse_regexp("s/^0/$2/").unwrap_err(),
            "the replacement refers to group 2, but the pattern has 0"
        );
    }
}

//! `regexp_destaddr` / `regexp_sourceaddr`: a `s/PATTERN/REPLACEMENT/` substitution on an
//! address (compiled when the configuration is loaded).

use config::RegexpRewrite;

/// `addr` with the first match (every match with flag `g`) replaced.
pub fn apply(r: &RegexpRewrite, addr: &str) -> String {
    if r.global {
        r.regex
            .replace_all(addr, r.replacement.as_str())
            .into_owned()
    } else {
        r.regex.replace(addr, r.replacement.as_str()).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regexp(spec: &str) -> RegexpRewrite {
        let text = format!(
            "[connector.a]\ntype = \"outgoing\"\nprotocol = \"sim\"\nregexp_destaddr = '{spec}'\n"
        );
        let cfg = config::parse_str(&text, std::path::Path::new("t.toml")).expect("valid");
        cfg.connectors["a"]
            .process
            .dest_out
            .regexp
            .clone()
            .expect("regexp set")
    }

    #[test]
    fn substitutions() {
        let cases = [
            // National to international, keeping the rest with a group.
            ("s/^0([1-9])/46$1/", "070123456", "4670123456"),
            ("s/^0([1-9])/46$1/", "4670123456", "4670123456"),
            // sed-style group reference, another delimiter.
            (r"s|^00(\d+)$|+\1|", "004670", "+4670"),
            // First match only, then every match.
            ("s/7/x/", "4677", "46x7"),
            ("s/7/x/g", "4677", "46xx"),
            // Case-insensitive match on an alphanumeric sender.
            ("s/^emg$/EMG-Gateway/i", "Emg", "EMG-Gateway"),
            // A lone $ is literal.
            ("s/^/$/", "46", "$46"),
        ];
        for (spec, input, output) in cases {
            assert_eq!(apply(&regexp(spec), input), output, "{spec} on {input}");
        }
    }
}

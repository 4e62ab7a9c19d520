//! "Did you mean" suggestions for misspelled keywords and names.

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
///
/// Edit distance catches transpositions and single-letter slips (`instancse`); Jaro-Winkler
/// additionally catches truncations that share a long prefix (`pass` for `password`). Comparison
/// is case-insensitive because EMG keywords are traditionally written in upper case.
pub(crate) fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let word = word.to_ascii_lowercase();
    let mut best: Option<(usize, f64, &'a str)> = None;
    for cand in candidates {
        let lc = cand.to_ascii_lowercase();
        let dist = strsim::damerau_levenshtein(&word, &lc);
        let jw = strsim::jaro_winkler(&word, &lc);
        let limit = (lc.chars().count() / 3).max(1);
        if dist > limit && jw < 0.9 {
            continue;
        }
        let better = match best {
            None => true,
            Some((d, j, c)) => (dist, -jw, cand) < (d, -j, c),
        };
        if better {
            best = Some((dist, jw, cand));
        }
    }
    best.map(|(_, _, c)| c)
}

/// `"; did you mean `x`?"` or nothing, ready to append to a message.
pub(crate) fn hint<'a, I>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    match did_you_mean(word, candidates) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words() {
        let kw = ["instances", "inherit", "address", "password", "type"];
        assert_eq!(did_you_mean("instancse", kw), Some("instances"));
        assert_eq!(did_you_mean("adress", kw), Some("address"));
        assert_eq!(did_you_mean("INSTANCES", kw), Some("instances"));
        assert_eq!(did_you_mean("pass", kw), Some("password"));
        assert_eq!(did_you_mean("tpye", kw), Some("type"));
        assert_eq!(did_you_mean("frobnicate", kw), None);
        assert_eq!(did_you_mean("x", kw), None);
        assert_eq!(did_you_mean("x", []), None);
    }

    #[test]
    fn prefers_smallest_distance() {
        assert_eq!(did_you_mean("smsc9", ["smsxx9", "smsc1"]), Some("smsc1"));
        assert_eq!(hint("smsc9", ["smsc1"]), "; did you mean `smsc1`?");
        assert_eq!(hint("zzz", ["smsc1"]), "");
    }
}

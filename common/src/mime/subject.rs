//! EMG's QUOTEDSUBJECT (`QUOTEDSUBJECT=()`): between SMS text and mail, the subject travels
//! at the start of the text inside the two quote characters.
//!
//! Mail to SMS: `(Subject) body`. SMS to mail: a text starting `(…)` gives the Subject and
//! the rest the body, so a handset user can set the subject of a reply. Without the keyword a
//! mail's subject comes first on a line of its own, and an SMS gives no subject.

/// The two quote characters, e.g. `('(', ')')`.
pub type Quotes = (char, char);

/// Reads a QUOTEDSUBJECT value: exactly two characters.
pub fn parse_quotes(value: &str) -> Option<Quotes> {
    let mut it = value.chars();
    match (it.next(), it.next(), it.next()) {
        (Some(a), Some(b), None) => Some((a, b)),
        _ => None,
    }
}

/// The SMS text for a mail's subject and body.
pub fn sms_text(subject: Option<&str>, body: &str, quotes: Option<Quotes>) -> String {
    let subject = subject.map(str::trim).filter(|s| !s.is_empty());
    match (subject, quotes) {
        (None, _) => body.to_string(),
        (Some(s), Some((open, close))) if body.is_empty() => format!("{open}{s}{close}"),
        (Some(s), Some((open, close))) => format!("{open}{s}{close} {body}"),
        (Some(s), None) if body.is_empty() => s.to_string(),
        (Some(s), None) => format!("{s}\n{body}"),
    }
}

/// Splits an SMS text into (subject, body) by the quotes; no quotes configured, or a text
/// that does not start with the opening one, gives no subject.
pub fn split_subject(text: &str, quotes: Option<Quotes>) -> (Option<String>, String) {
    let Some((open, close)) = quotes else {
        return (None, text.to_string());
    };
    let trimmed = text.trim_start();
    let Some(rest) = trimmed.strip_prefix(open) else {
        return (None, text.to_string());
    };
    match rest.find(close) {
        Some(end) => {
            let subject = rest[..end].trim().to_string();
            let body = rest[end + close.len_utf8()..].trim_start().to_string();
            (Some(subject).filter(|s| !s.is_empty()), body)
        }
        None => (None, text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_subject_both_ways() {
        let q = parse_quotes("()");
        assert_eq!(q, Some(('(', ')')));
        assert_eq!(parse_quotes("("), None);
        assert_eq!(sms_text(Some("Lunch"), "at 12?", q), "(Lunch) at 12?");
        assert_eq!(sms_text(Some(" "), "at 12?", q), "at 12?");
        assert_eq!(sms_text(Some("Lunch"), "at 12?", None), "Lunch\nat 12?");
        assert_eq!(sms_text(Some("Lunch"), "", q), "(Lunch)");
        assert_eq!(
            split_subject("(Re: Lunch) yes!", q),
            (Some("Re: Lunch".into()), "yes!".into())
        );
        assert_eq!(split_subject("yes (sure)", q), (None, "yes (sure)".into()));
        assert_eq!(split_subject("(unclosed", q), (None, "(unclosed".into()));
        assert_eq!(
            split_subject("(Lunch) yes", None),
            (None, "(Lunch) yes".into())
        );
        assert_eq!(
            split_subject("«Hej» då", parse_quotes("«»")),
            (Some("Hej".into()), "då".into())
        );
    }
}

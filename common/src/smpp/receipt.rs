//! The de-facto delivery receipt text carried in deliver_sm short_message (SMPP 3.4 Appendix B).
//!
//! `id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000
//! text:...` — the appendix is "an example", so SMSCs vary: key case, spacing, `submit_date`,
//! missing fields. Parsing is deliberately forgiving; writing follows the appendix exactly.
//! Ids are kept as the exact text sent (leading zeros, case): matching them to our submits is
//! the DLR normaliser's job, and it needs the original.

use crate::dlr::DlrStatus;

/// A parsed or to-be-sent receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub id: String,
    pub sub: u32,
    pub dlvrd: u32,
    /// YYMMDDhhmm (some SMSCs add ss); kept as text.
    pub submit_date: String,
    pub done_date: String,
    pub stat: DlrStatus,
    /// Network-specific error code, usually three digits.
    pub err: String,
    /// First 20 characters of the original message.
    pub text: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Sub,
    Dlvrd,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
}

impl Receipt {
    /// The receipt text; `text` is cut to its first 20 characters, `err` defaults to `000`.
    pub fn to_text(&self) -> String {
        let text: String = self.text.chars().take(20).collect();
        let err = if self.err.is_empty() {
            "000"
        } else {
            &self.err
        };
        format!(
            "id:{} sub:{:03} dlvrd:{:03} submit date:{} done date:{} stat:{} err:{} text:{}",
            self.id,
            self.sub,
            self.dlvrd,
            self.submit_date,
            self.done_date,
            self.stat.stat_word(),
            err,
            text
        )
    }

    /// Parses a receipt text. Needs at least `id:` and `stat:`; an unrecognised state word
    /// becomes [`DlrStatus::Unknown`]. Keys are case-insensitive, spaces around `:` are
    /// allowed, `submit_date`/`done_date` are accepted, unknown keys are skipped and `text:`
    /// takes the rest of the input.
    pub fn parse(text: &[u8]) -> Option<Receipt> {
        let s = String::from_utf8_lossy(text);
        let mut r = Receipt {
            id: String::new(),
            sub: 0,
            dlvrd: 0,
            submit_date: String::new(),
            done_date: String::new(),
            stat: DlrStatus::Unknown,
            err: String::new(),
            text: String::new(),
        };
        let (mut have_id, mut have_stat) = (false, false);
        let mut rest: &str = &s;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let Some((key, after)) = parse_key(rest) else {
                // Not a key: skip one word.
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                rest = &rest[end..];
                continue;
            };
            if key == Key::Text {
                r.text = after.trim().to_string();
                break;
            }
            let after = after.trim_start();
            // `id: stat:...` — an empty value followed by the next key, not the value "stat:...".
            let end = if parse_key(after).is_some() {
                0
            } else {
                after.find(char::is_whitespace).unwrap_or(after.len())
            };
            let value = &after[..end];
            rest = &after[end..];
            match key {
                Key::Id => {
                    r.id = value.to_string();
                    have_id = !value.is_empty();
                }
                Key::Sub => r.sub = value.parse().unwrap_or(0),
                Key::Dlvrd => r.dlvrd = value.parse().unwrap_or(0),
                Key::SubmitDate => r.submit_date = value.to_string(),
                Key::DoneDate => r.done_date = value.to_string(),
                Key::Stat => {
                    r.stat = value.parse().unwrap_or(DlrStatus::Unknown);
                    have_stat = true;
                }
                Key::Err => r.err = value.to_string(),
                Key::Text => {}
            }
        }
        (have_id && have_stat).then_some(r)
    }
}

/// Recognises `word[ _]word? *:` at the start of `s`; returns the key and the text after `:`.
fn parse_key(s: &str) -> Option<(Key, &str)> {
    let word_end = |t: &str| {
        t.find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(t.len())
    };
    let n = word_end(s);
    let first = s[..n].to_ascii_lowercase();
    let mut rest = &s[n..];
    let key = match first.as_str() {
        "id" => Key::Id,
        "sub" => Key::Sub,
        "dlvrd" => Key::Dlvrd,
        "stat" => Key::Stat,
        "err" => Key::Err,
        "text" => Key::Text,
        "submit" | "done" => {
            let t = rest.trim_start_matches([' ', '_']);
            let m = word_end(t);
            if !t[..m].eq_ignore_ascii_case("date") {
                return None;
            }
            rest = &t[m..];
            if first == "submit" {
                Key::SubmitDate
            } else {
                Key::DoneDate
            }
        }
        _ => return None,
    };
    rest.trim_start_matches(' ')
        .strip_prefix(':')
        .map(|r| (key, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_forms() {
        assert!(parse_key("id:1").is_some());
        assert!(parse_key("ID : 1").is_some());
        assert!(parse_key("submit date:1").is_some());
        assert!(parse_key("Submit_Date:1").is_some());
        assert!(parse_key("submit time:1").is_none());
        assert!(parse_key("identity:1").is_none());
    }
}

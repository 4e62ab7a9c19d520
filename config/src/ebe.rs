//! `ebe_args`: the arguments an EBE connector's program is run with, each a string in which
//! `%NAME%` stands for one of the message's MGP options (those its `EMG_NAME` environment
//! variables carry) and `%%` for a `%`. Checked here, expanded by emgd for each message.

use crate::diagnostic::Sink;
use crate::values::{self, Val};

/// The placeholders `ebe_args` may use: the names of the program's `EMG_*` variables.
pub const EBE_FIELDS: &[&str] = &[
    "ID",
    "SOURCEADDR",
    "SOURCEADDRTON",
    "SOURCEADDRNPI",
    "DESTADDR",
    "DESTADDRTON",
    "DESTADDRNPI",
    "MSGTYPE",
    "DCS",
    "UDH",
    "CHARCODE",
    "MESSAGE",
    "DLR",
    "CONNECTOR",
    "ORIGIN",
    "USER",
    "ACCOUNT",
];

/// A piece of one argument.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Field(&'a str),
}

/// The pieces of `arg`, or why it is not a valid argument template.
fn pieces(arg: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = arg;
    while let Some(at) = rest.find('%') {
        if at > 0 {
            out.push(Piece::Text(&rest[..at]));
        }
        let after = &rest[at + 1..];
        let Some(end) = after.find('%') else {
            return Err(format!(
                "`{arg}`: a `%` opens a placeholder that is never closed (write `%%` for a `%`)"
            ));
        };
        let name = &after[..end];
        if name.is_empty() {
            out.push(Piece::Text("%"));
        } else if EBE_FIELDS.contains(&name) {
            out.push(Piece::Field(name));
        } else {
            return Err(format!(
                "`{arg}`: unknown placeholder `%{name}%`{} (expected one of: {})",
                crate::suggest::hint(name, EBE_FIELDS.iter().copied()),
                EBE_FIELDS.join(", ")
            ));
        }
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// Read `ebe_args`: an array of strings whose placeholders are all known.
pub(crate) fn read_args(sink: &mut Sink<'_>, kw: &str, v: &Val<'_>) -> Option<Vec<String>> {
    let items = values::strings(sink, kw, v)?;
    let mut ok = true;
    for a in &items {
        if let Err(why) = pieces(&a.v) {
            sink.at(&a.span, kw, why);
            ok = false;
        }
    }
    ok.then(|| items.into_iter().map(|a| a.v).collect())
}

/// `arg` with each placeholder replaced by `field(NAME)` (empty when the message has no such
/// option). A template `read_args` refused is returned as it is.
pub fn expand(arg: &str, field: impl Fn(&str) -> Option<String>) -> String {
    match pieces(arg) {
        Ok(ps) => ps
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t.to_string(),
                Piece::Field(f) => field(f).unwrap_or_default(),
            })
            .collect(),
        Err(_) => arg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_expand_and_percent_is_doubled() {
        let f = |n: &str| match n {
            "DESTADDR" => Some("4670".to_string()),
            _ => None,
        };
        assert_eq!(expand("-d%DESTADDR%", f), "-d4670");
        assert_eq!(expand("100%% %USER%.", f), "100% .");
        assert_eq!(expand("plain", f), "plain");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_refused() {
        assert!(pieces("%DESTADR%")
            .unwrap_err()
            .contains("unknown placeholder `%DESTADR%`"));
        assert!(pieces("50%").unwrap_err().contains("never closed"));
    }
}

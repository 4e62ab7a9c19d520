//! EMG's system-wide blacklist file (`blacklist` general keyword).
//!
//! ```text
//! # address     action  field
//! 46701234567   REJECT
//! 46709999999   LOG     DESTADDR
//! spam@example.com      REJECT  SOURCEADDR
//! ```
//!
//! One entry a line, fields separated by tabs (or spaces): the address, `REJECT` (refuse the
//! message with a permanent error) or `LOG` (note it in the connector log and let it through),
//! and optionally which address it is compared with, `SOURCEADDR` (the default) or `DESTADDR`.
//! Addresses match exactly. `#` starts a comment line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::context::Ctx;
use crate::diagnostic::{Diagnostic, Sink};
use crate::suggest;
use crate::values::Sp;

/// Keyword used for every diagnostic inside a blacklist file.
const KEYWORD: &str = "blacklist";

/// Which address of a message a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressField {
    /// The sender (`SOURCEADDR`).
    Source,
    /// The recipient (`DESTADDR`).
    Dest,
}

impl AddressField {
    /// EMG's name: `SOURCEADDR` or `DESTADDR`.
    pub fn keyword(self) -> &'static str {
        match self {
            AddressField::Source => "SOURCEADDR",
            AddressField::Dest => "DESTADDR",
        }
    }
}

/// What happens to a message whose address is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlacklistAction {
    /// Refused with the protocol's permanent error and written to the routelog.
    Reject,
    /// A line in the receiving connector's log; the message goes on.
    Log,
}

/// A parsed blacklist file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blacklist {
    /// The file it was read from.
    pub file: PathBuf,
    entries: HashMap<(AddressField, String), BlacklistAction>,
}

impl Blacklist {
    /// Parses a blacklist file's text; `file` names it in diagnostics. Reports every bad line.
    pub fn parse(text: &str, file: &Path) -> Result<Blacklist, Vec<Diagnostic>> {
        let mut sink = Sink::new(file, text);
        let mut entries = HashMap::new();
        let mut lines: HashMap<(AddressField, String), usize> = HashMap::new();
        let mut offset = 0;
        for (n, raw) in text.split_inclusive('\n').enumerate() {
            let at = offset;
            offset += raw.len();
            let line = raw.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let fields: Vec<(usize, &str)> = line
                .split(['\t', ' '])
                .scan(0, |pos, f| {
                    let start = *pos;
                    *pos += f.len() + 1;
                    Some((start, f))
                })
                .filter(|(_, f)| !f.is_empty())
                .collect();
            let report = |sink: &mut Sink<'_>, col: usize, msg: String| {
                sink.at(&(at + col..at + col), KEYWORD, msg);
            };
            let (Some(&(_, address)), Some(&(acol, action))) = (fields.first(), fields.get(1))
            else {
                let end = line.trim_end().len();
                report(
                    &mut sink,
                    end,
                    "expected an action after the address (REJECT or LOG)".into(),
                );
                continue;
            };
            let action = match action.to_ascii_uppercase().as_str() {
                "REJECT" => BlacklistAction::Reject,
                "LOG" => BlacklistAction::Log,
                other => {
                    let hint = suggest::hint(other, ["REJECT", "LOG"]);
                    report(
                        &mut sink,
                        acol,
                        format!("unknown action `{action}`{hint} (expected REJECT or LOG)"),
                    );
                    continue;
                }
            };
            let field = match fields.get(2) {
                None => AddressField::Source,
                Some(&(fcol, f)) => match f.to_ascii_uppercase().as_str() {
                    "SOURCEADDR" => AddressField::Source,
                    "DESTADDR" => AddressField::Dest,
                    other => {
                        let hint = suggest::hint(other, ["SOURCEADDR", "DESTADDR"]);
                        report(
                            &mut sink,
                            fcol,
                            format!(
                                "unknown address field `{f}`{hint} (expected SOURCEADDR or DESTADDR)"
                            ),
                        );
                        continue;
                    }
                },
            };
            if let Some(&(col, extra)) = fields.get(3) {
                report(
                    &mut sink,
                    col,
                    format!("unexpected `{extra}` (a line is: address, action, optional field)"),
                );
                continue;
            }
            let key = (field, address.to_string());
            if let Some(first) = lines.get(&key) {
                report(
                    &mut sink,
                    0,
                    format!(
                        "{} {address} is listed twice (first on line {first})",
                        field.keyword()
                    ),
                );
                continue;
            }
            lines.insert(key.clone(), n + 1);
            entries.insert(key, action);
        }
        if sink.diagnostics.is_empty() {
            Ok(Blacklist {
                file: file.to_path_buf(),
                entries,
            })
        } else {
            Err(sink.diagnostics)
        }
    }

    /// What the list says about `address` in `field`, if it is listed.
    pub fn get(&self, field: AddressField, address: &str) -> Option<BlacklistAction> {
        self.entries.get(&(field, address.to_string())).copied()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entries at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Reads the file named by the `blacklist` value: a missing file is reported at the value,
/// problems inside it at their own line.
pub(crate) fn read(ctx: &mut Ctx<'_>, value: &Sp<String>) -> Option<Blacklist> {
    let path = ctx.resolve(&value.v);
    match crate::file::read_text(&path) {
        Err(e) => {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "file not found".to_string(),
                _ => e.to_string(),
            };
            ctx.sink.at(
                &value.span,
                &value.kw,
                format!("cannot read blacklist `{}`: {why}", path.display()),
            );
            None
        }
        Ok(text) => match Blacklist::parse(&text, &path) {
            Ok(b) => Some(b),
            Err(d) => {
                ctx.other.extend(d);
                None
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_default_and_case() {
        let text = "# comment\n\
                    46701234567\tREJECT\n\
                    46709999999\tlog\tDESTADDR\n\
                    spam@example.com  REJECT  sourceaddr\n\
                    \n";
        let b = Blacklist::parse(text, Path::new("bl")).unwrap();
        assert_eq!(b.len(), 3);
        let src = AddressField::Source;
        let dst = AddressField::Dest;
        assert_eq!(b.get(src, "46701234567"), Some(BlacklistAction::Reject));
        assert_eq!(b.get(dst, "46701234567"), None);
        assert_eq!(b.get(dst, "46709999999"), Some(BlacklistAction::Log));
        assert_eq!(
            b.get(src, "spam@example.com"),
            Some(BlacklistAction::Reject)
        );
        assert_eq!(b.get(src, "4670123456"), None);
    }

    #[test]
    fn bad_lines_name_file_line_and_column() {
        let text = "4670\n4671\tDROP\n4672\tREJECT\tDESTADR\n4673\tLOG\tDESTADDR\tx\n\
                    4674\tLOG\n4674\tREJECT\n4674\tREJECT\tDESTADDR\n";
        let errs: Vec<String> = Blacklist::parse(text, Path::new("bl"))
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errs,
            [
                "bl:1:5: blacklist: expected an action after the address (REJECT or LOG)",
                "bl:2:6: blacklist: unknown action `DROP` (expected REJECT or LOG)",
                "bl:3:13: blacklist: unknown address field `DESTADR`; did you mean `DESTADDR`? (expected SOURCEADDR or DESTADDR)",
                "bl:4:19: blacklist: unexpected `x` (a line is: address, action, optional field)",
                "bl:6:1: blacklist: SOURCEADDR 4674 is listed twice (first on line 5)",
            ]
        );
    }
}

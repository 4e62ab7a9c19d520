//! EMG mapping files (`mapping` keyword): byte sequences to find in a message's text and what
//! to put in their place.
//!
//! ```text
//! # comment
//! IN <
//! "a"     "b"
//! 03,"a"  "a",03,02
//! >
//! OUT <
//! "a",41,"b"  "aAb"
//! 01,02,03    20,20
//! >
//! ```
//!
//! Each rule is two fields separated by tabs (or spaces): the data to find and its
//! replacement. A field is quoted strings and hex bytes joined by commas; `""` as the
//! replacement deletes what was found. `IN <` starts the rules applied when a message is
//! received on the connector, `OUT <` those applied just before it is sent; `>` ends a section.
//! Rules are kept in file order because EMG applies them top to bottom, each over the whole
//! text, so their order matters.

use std::path::{Path, PathBuf};

use crate::context::Ctx;
use crate::diagnostic::{Diagnostic, Sink};
use crate::values::Sp;

/// Keyword used for every diagnostic inside a mapping file.
const KEYWORD: &str = "mapping";

/// A parsed mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// The file it was read from (resolved against the config's directory).
    pub file: PathBuf,
    /// `IN <` rules, in file order: applied when a message is received.
    pub inbound: Vec<MapRule>,
    /// `OUT <` rules, in file order: applied just before a message is sent.
    pub outbound: Vec<MapRule>,
}

/// One line of a mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRule {
    /// Bytes looked for; never empty.
    pub find: Vec<u8>,
    /// What replaces them; empty deletes them.
    pub replace: Vec<u8>,
    /// 1-based line in the file, for logs.
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    In,
    Out,
}

impl Mapping {
    /// Parses a mapping file's text; `file` names it in diagnostics. Reports every bad line.
    pub fn parse(text: &str, file: &Path) -> Result<Mapping, Vec<Diagnostic>> {
        let mut sink = Sink::new(file, text);
        let mut mapping = Mapping {
            file: file.to_path_buf(),
            inbound: Vec::new(),
            outbound: Vec::new(),
        };
        let mut section = None;
        let mut offset = 0;
        for (n, raw) in text.split_inclusive('\n').enumerate() {
            let line = raw.trim_end_matches(['\n', '\r']);
            let at = offset;
            offset += raw.len();
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(s) = section_start(trimmed) {
                section = Some(s);
                continue;
            }
            if trimmed == ">" {
                if section.is_none() {
                    sink.at(&(at..at), KEYWORD, "`>` closes no section");
                }
                section = None;
                continue;
            }
            let lead = line.len() - line.trim_start().len();
            let Some((find, replace)) = parse_rule(line, lead, at, &mut sink) else {
                continue;
            };
            let rule = MapRule {
                find,
                replace,
                line: n + 1,
            };
            match section {
                Some(Section::In) => mapping.inbound.push(rule),
                Some(Section::Out) => mapping.outbound.push(rule),
                None => sink.at(
                    &(at + lead..at + lead),
                    KEYWORD,
                    "rule outside a section: put it after `IN <` (applied on receipt) or `OUT <` (applied on sending)",
                ),
            }
        }
        if sink.diagnostics.is_empty() {
            Ok(mapping)
        } else {
            Err(sink.diagnostics)
        }
    }
}

/// `IN <` or `OUT <` (any case, optional space before `<`).
fn section_start(line: &str) -> Option<Section> {
    let name = line.strip_suffix('<')?.trim_end();
    if name.eq_ignore_ascii_case("in") {
        Some(Section::In)
    } else if name.eq_ignore_ascii_case("out") {
        Some(Section::Out)
    } else {
        None
    }
}

/// Reads the two fields of a rule starting at byte `start` of `line` (which begins at byte
/// `at` of the file). Problems are reported at their column.
fn parse_rule(
    line: &str,
    start: usize,
    at: usize,
    sink: &mut Sink<'_>,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let bytes = line.as_bytes();
    let report = |sink: &mut Sink<'_>, i: usize, msg: String| {
        sink.at(&(at + i..at + i), KEYWORD, msg);
    };
    let (find, mut i) = match parse_field(line, start) {
        Ok(r) => r,
        Err((i, msg)) => {
            report(sink, i, msg);
            return None;
        }
    };
    if find.is_empty() {
        report(sink, start, "the data to find is empty".into());
        return None;
    }
    let gap = i;
    while bytes.get(i).is_some_and(|b| *b == b'\t' || *b == b' ') {
        i += 1;
    }
    if i == line.len() {
        report(
            sink,
            i,
            "missing replacement (write \"\" to delete what was found)".into(),
        );
        return None;
    }
    if i == gap {
        report(
            sink,
            i,
            "expected a tab between the data to find and its replacement".into(),
        );
        return None;
    }
    let (replace, mut end) = match parse_field(line, i) {
        Ok(r) => r,
        Err((i, msg)) => {
            report(sink, i, msg);
            return None;
        }
    };
    while bytes.get(end).is_some_and(|b| b.is_ascii_whitespace()) {
        end += 1;
    }
    if end < line.len() && bytes.get(end) != Some(&b'#') {
        report(
            sink,
            end,
            "unexpected text after the replacement (a rule has two fields)".into(),
        );
        return None;
    }
    Some((find, replace))
}

/// One field: tokens joined by commas, each a `"quoted string"` or a two-digit hex byte.
/// Returns the bytes and the index after the field, or (index, message) on error.
fn parse_field(line: &str, mut i: usize) -> Result<(Vec<u8>, usize), (usize, String)> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    loop {
        match bytes.get(i) {
            Some(b'"') => {
                let body = line.get(i + 1..).unwrap_or("");
                let Some(close) = body.find('"') else {
                    return Err((i, "unterminated string (a `\"` is missing)".into()));
                };
                let s = body.get(..close).unwrap_or("");
                if let Some((j, c)) = s.char_indices().find(|(_, c)| !c.is_ascii()) {
                    return Err((
                        i + 1 + j,
                        format!(
                            "non-ASCII character `{c}` in a quoted string; write its bytes in hex"
                        ),
                    ));
                }
                out.extend_from_slice(s.as_bytes());
                i += close + 2;
            }
            Some(b) if b.is_ascii_hexdigit() => {
                let end = bytes
                    .iter()
                    .skip(i)
                    .position(|b| !b.is_ascii_alphanumeric())
                    .map_or(line.len(), |p| i + p);
                let tok = line.get(i..end).unwrap_or("");
                match (tok.len(), u8::from_str_radix(tok, 16)) {
                    (2, Ok(v)) => out.push(v),
                    _ => {
                        return Err((
                            i,
                            format!("`{tok}` is not a hex byte (two hex digits, e.g. 0A)"),
                        ))
                    }
                }
                i = end;
            }
            Some(_) => {
                let tok: String = line
                    .get(i..)
                    .unwrap_or("")
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != ',')
                    .collect();
                return Err((
                    i,
                    format!("expected a quoted string or a hex byte, found `{tok}`"),
                ));
            }
            None => return Err((i, "expected a quoted string or a hex byte".into())),
        }
        if bytes.get(i) == Some(&b',') {
            i += 1;
        } else {
            return Ok((out, i));
        }
    }
}

/// Reads the mapping file named by a `mapping` value. A missing file is reported at the
/// value; problems inside the file at their own line in that file.
pub(crate) fn read(ctx: &mut Ctx<'_>, value: &Sp<String>) -> Option<Mapping> {
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
                format!("cannot read mapping file `{}`: {why}", path.display()),
            );
            None
        }
        Ok(text) => match Mapping::parse(&text, &path) {
            Ok(m) => Some(m),
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

    fn parse(text: &str) -> Result<Mapping, Vec<String>> {
        Mapping::parse(text, Path::new("m.map"))
            .map_err(|d| d.iter().map(ToString::to_string).collect())
    }

    fn rules(r: &[MapRule]) -> Vec<(&[u8], &[u8])> {
        r.iter()
            .map(|r| (r.find.as_slice(), r.replace.as_slice()))
            .collect()
    }

    #[test]
    fn emg_sample_file() {
        let text = "# This is a comment in a sample mapping file.\n\
                    IN <\n\
                    \"a\"\t\"b\"\n\
                    \"xyz\"\t\"zyx\"\n\
                    03,\"a\"\t\"a\",03,02\n\
                    >\n\
                    # Then a mapping which will be applied to outgoing messages\n\
                    OUT <\n\
                    \"a\",41,\"b\"\t\"aAb\"\n\
                    01,02,03\t20,20\n\
                    \"x\"\t\"\"\n\
                    >\n";
        let m = parse(text).unwrap();
        assert_eq!(
            rules(&m.inbound),
            [
                (&b"a"[..], &b"b"[..]),
                (b"xyz", b"zyx"),
                (&[3, b'a'], &[b'a', 3, 2]),
            ]
        );
        assert_eq!(
            rules(&m.outbound),
            [
                (&b"aAb"[..], &b"aAb"[..]),
                (&[1, 2, 3], &[0x20, 0x20]),
                (b"x", b""),
            ]
        );
        assert_eq!(m.inbound[0].line, 3);
    }

    #[test]
    fn sections_without_closing_bracket_and_spaces_between_fields() {
        let m =
            parse("IN <\n\"a\"   \"d\"\n\"aa\"  \"xx\"\nout<\n\"b\" \"c\" # trailing\n").unwrap();
        assert_eq!(rules(&m.inbound), [(&b"a"[..], &b"d"[..]), (b"aa", b"xx")]);
        assert_eq!(rules(&m.outbound), [(&b"b"[..], &b"c"[..])]);
    }

    #[test]
    fn every_bad_line_is_reported_at_its_column() {
        let text = "\"a\"\t\"b\"\n\
                    IN <\n\
                    \"a\n\
                    4\t\"b\"\n\
                    \"a\"\n\
                    \"\"\t\"b\"\n\
                    \"a\"\t\"b\"\t\"c\"\n\
                    x\t\"b\"\n\
                    \"ä\"\t\"b\"\n\
                    \"a\"\"b\"\n\
                    >\n\
                    >\n";
        assert_eq!(
            parse(text).unwrap_err(),
            [
                "m.map:1:1: mapping: rule outside a section: put it after `IN <` (applied on receipt) or `OUT <` (applied on sending)",
                "m.map:3:1: mapping: unterminated string (a `\"` is missing)",
                "m.map:4:1: mapping: `4` is not a hex byte (two hex digits, e.g. 0A)",
                "m.map:5:4: mapping: missing replacement (write \"\" to delete what was found)",
                "m.map:6:1: mapping: the data to find is empty",
                "m.map:7:9: mapping: unexpected text after the replacement (a rule has two fields)",
                "m.map:8:1: mapping: expected a quoted string or a hex byte, found `x`",
                "m.map:9:2: mapping: non-ASCII character `ä` in a quoted string; write its bytes in hex",
                "m.map:10:4: mapping: expected a tab between the data to find and its replacement",
                "m.map:12:1: mapping: `>` closes no section",
            ]
        );
    }
}

//! EMG's `server.cfg` syntax: general keywords at the top level, then named sections
//! `CONNECTOR name <` ... `>` (also `DB`, `SATPOOL`, `PLUGIN` ...), one `KEYWORD=value` or bare
//! `FLAG` a line, `#` starting a comment line. Keywords are case-insensitive.

use std::path::{Path, PathBuf};

/// One `KEYWORD=value` or `FLAG` line, or a comment kept for the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Item(Item),
    /// A comment's text, without the `#`.
    Comment(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Upper case, as EMG writes its keywords.
    pub key: String,
    /// `None` for a bare flag; surrounding double quotes removed.
    pub value: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `CONNECTOR`, `DB`, `SATPOOL`, `PLUGIN` ... in upper case.
    pub kind: String,
    pub name: String,
    pub line: usize,
    /// The comment lines just above the section start (they are about it).
    pub leading: Vec<String>,
    pub lines: Vec<Line>,
}

/// A whole file: where it came from, its general lines and its sections, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub file: PathBuf,
    pub general: Vec<Line>,
    pub sections: Vec<Section>,
}

/// A line that is not EMG syntax: the import stops (a guess would mislead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct SyntaxError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

pub fn parse(text: &str, file: &Path) -> Result<Document, SyntaxError> {
    let mut doc = Document {
        file: file.to_path_buf(),
        general: Vec::new(),
        sections: Vec::new(),
    };
    let mut open: Option<Section> = None;
    // Top-level comments not yet placed: above a section they belong to it.
    let mut pending: Vec<String> = Vec::new();
    let err = |line: usize, message: String| SyntaxError {
        file: file.to_path_buf(),
        line,
        message,
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let parsed = if let Some(c) = line.strip_prefix('#') {
            Line::Comment(c.trim().to_string())
        } else if line == ">" {
            match open.take() {
                Some(s) => doc.sections.push(s),
                None => return Err(err(n, "`>` closes no section".into())),
            }
            continue;
        } else if let Some(head) = line.strip_suffix('<') {
            let words: Vec<&str> = head.split_whitespace().collect();
            let [kind, name] = words[..] else {
                return Err(err(
                    n,
                    format!("`{line}` is not a section start (expected e.g. `CONNECTOR name <`)"),
                ));
            };
            if let Some(s) = &open {
                return Err(err(
                    n,
                    format!(
                        "section {} {} (line {}) is not closed with `>` before this one",
                        s.kind, s.name, s.line
                    ),
                ));
            }
            open = Some(Section {
                kind: kind.to_ascii_uppercase(),
                name: name.to_string(),
                line: n,
                leading: std::mem::take(&mut pending),
                lines: Vec::new(),
            });
            continue;
        } else {
            let (key, value) = match line.split_once('=') {
                Some((k, v)) => (k.trim(), Some(unquote(v.trim()).to_string())),
                None => (line, None),
            };
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(err(
                    n,
                    format!("`{line}` is not KEYWORD=value, a FLAG, or a section"),
                ));
            }
            Line::Item(Item {
                key: key.to_ascii_uppercase(),
                value,
                line: n,
            })
        };
        match (&mut open, parsed) {
            (Some(s), parsed) => s.lines.push(parsed),
            (None, Line::Comment(c)) => pending.push(c),
            (None, item) => {
                doc.general.extend(pending.drain(..).map(Line::Comment));
                doc.general.push(item);
            }
        }
    }
    doc.general.extend(pending.into_iter().map(Line::Comment));
    if let Some(s) = open {
        return Err(err(
            s.line,
            format!("section {} {} is never closed with `>`", s.kind, s.name),
        ));
    }
    Ok(doc)
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_items_flags_and_comments() {
        let text = "PDULOG\nLOGLEVEL=info\nCONNECTOR smpp-in1 <\n# Up to 10\nTYPE = INCOMING\nstatic\nPASSWORD=\"a b\"\n>\n";
        let doc = parse(text, Path::new("server.cfg")).unwrap();
        assert_eq!(doc.general.len(), 2);
        let s = &doc.sections[0];
        assert_eq!(
            (s.kind.as_str(), s.name.as_str(), s.line),
            ("CONNECTOR", "smpp-in1", 3)
        );
        assert_eq!(s.lines[0], Line::Comment("Up to 10".into()));
        assert_eq!(
            s.lines[1],
            Line::Item(Item {
                key: "TYPE".into(),
                value: Some("INCOMING".into()),
                line: 5
            })
        );
        assert_eq!(
            s.lines[2],
            Line::Item(Item {
                key: "STATIC".into(),
                value: None,
                line: 6
            })
        );
        assert!(matches!(&s.lines[3], Line::Item(i) if i.value.as_deref() == Some("a b")));
    }

    #[test]
    fn broken_structure_is_an_error_with_its_line() {
        let e = parse("CONNECTOR a <\nTYPE=INCOMING\n", Path::new("s.cfg")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.cfg:1: section CONNECTOR a is never closed with `>`"
        );
        let e = parse(">\n", Path::new("s.cfg")).unwrap_err();
        assert_eq!(e.to_string(), "s.cfg:1: `>` closes no section");
        let e = parse("CONNECTOR a <\nCONNECTOR b <\n", Path::new("s.cfg")).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("TWO WORDS\n", Path::new("s.cfg")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "s.cfg:1: `TWO WORDS` is not KEYWORD=value, a FLAG, or a section"
        );
    }
}

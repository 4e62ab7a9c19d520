//! Diagnostics: one problem found in a configuration or retry-scheme file.
//!
//! Every check in this crate reports through [`Diagnostic`] instead of returning early, so an
//! operator fixing a config sees every problem in one run rather than one per restart.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem, pinned to a 1-based line and column of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// File the problem is in (the config file or a retry-scheme file it references).
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters (not bytes) so it matches what editors show.
    pub col: usize,
    /// Dotted key the problem belongs to, e.g. `connector.smsc1.instances`.
    pub keyword: String,
    /// Human-readable description.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.keyword,
            self.message
        )
    }
}

/// Everything wrong with a configuration; never empty when returned by this crate.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(.diagnostics))]
pub struct ConfigError {
    /// All problems found, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

/// One diagnostic per line, no trailing newline.
fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Maps byte offsets (as produced by the TOML parser's spans) to 1-based line and column.
#[derive(Debug)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset at which each line starts.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// 1-based (line, column) of a byte offset; offsets past the end clamp to the end, offsets
    /// inside a multi-byte character count as that character.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..)
            .unwrap_or("")
            .char_indices()
            .take_while(|(i, _)| start + i < offset)
            .count();
        (line, col + 1)
    }
}

/// Collects diagnostics for one file, converting spans to positions.
#[derive(Debug)]
pub(crate) struct Sink<'a> {
    pub(crate) file: &'a Path,
    index: LineIndex<'a>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'a> Sink<'a> {
    pub(crate) fn new(file: &'a Path, text: &'a str) -> Self {
        Sink {
            file,
            index: LineIndex::new(text),
            diagnostics: Vec::new(),
        }
    }

    /// The 1-based line `span` starts on.
    pub(crate) fn line_of(&self, span: &Range<usize>) -> usize {
        self.index.position(span.start).0
    }

    /// Records a problem at the start of `span`.
    pub(crate) fn at(&mut self, span: &Range<usize>, keyword: &str, message: impl Into<String>) {
        let (line, col) = self.index.position(span.start);
        self.diagnostics.push(Diagnostic {
            file: self.file.to_path_buf(),
            line,
            col,
            keyword: keyword.to_string(),
            message: message.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_chars() {
        let idx = LineIndex::new("ab\nçd\n\nx");
        assert_eq!(idx.position(0), (1, 1));
        assert_eq!(idx.position(1), (1, 2));
        assert_eq!(idx.position(3), (2, 1));
        // `ç` is two bytes; `d` is the second character.
        assert_eq!(idx.position(5), (2, 2));
        assert_eq!(idx.position(7), (3, 1));
        assert_eq!(idx.position(8), (4, 1));
        assert_eq!(idx.position(1000), (4, 2));
    }

    #[test]
    fn display_formats() {
        let d = Diagnostic {
            file: PathBuf::from("emg.toml"),
            line: 3,
            col: 7,
            keyword: "connector.a.type".into(),
            message: "bad".into(),
        };
        assert_eq!(d.to_string(), "emg.toml:3:7: connector.a.type: bad");
        let e = ConfigError {
            diagnostics: vec![d.clone(), d],
        };
        assert_eq!(
            e.to_string(),
            "emg.toml:3:7: connector.a.type: bad\nemg.toml:3:7: connector.a.type: bad"
        );
    }
}

//! The emg.toml being written: lines that remember which EMG line they came from, so that
//! whatever the validation of the result refuses can be commented out and reported there.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where something was in EMG's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
    /// The EMG keyword (or `CONNECTOR name`, `SATPOOL name` ...).
    pub keyword: String,
}

/// Something of EMG's configuration that emg does not carry, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.origin.file.display(),
            self.origin.line,
            self.origin.keyword,
            self.message
        )
    }
}

#[derive(Debug, Clone)]
struct OutLine {
    text: String,
    origin: Option<Origin>,
    /// The table this line belongs to (index into the headers), or the top level.
    table: Option<usize>,
    is_header: bool,
    /// A file this line names (mapping, retry scheme, blacklist), for problems found in it.
    refers: Option<PathBuf>,
    disabled: bool,
}

#[derive(Debug, Default)]
pub struct Out {
    lines: Vec<OutLine>,
    tables: usize,
    current: Option<usize>,
}

/// `name` as a TOML key: bare when it can be, quoted otherwise.
pub fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_string()
    } else {
        toml::Value::String(name.to_string()).to_string()
    }
}

impl Out {
    fn push(
        &mut self,
        text: String,
        origin: Option<Origin>,
        is_header: bool,
        refers: Option<PathBuf>,
    ) {
        self.lines.push(OutLine {
            text,
            origin,
            table: self.current,
            is_header,
            refers,
            disabled: false,
        });
    }

    pub fn comment(&mut self, text: &str) {
        // EMG's comments may hold any octet; a TOML comment takes no control character but tab.
        let text: String = text
            .chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect();
        let text = if text.is_empty() {
            "#".to_string()
        } else {
            format!("# {text}")
        };
        self.push(text, None, false, None);
    }

    pub fn blank(&mut self) {
        self.push(String::new(), None, false, None);
    }

    /// Start `[header]` (or `[[header]]` with `array`), after the `leading` comments.
    pub fn table(&mut self, header: &str, array: bool, origin: Option<Origin>, leading: &[String]) {
        self.blank();
        for c in leading {
            self.comment(c);
        }
        self.current = Some(self.tables);
        self.tables += 1;
        let text = if array {
            format!("[[{header}]]")
        } else {
            format!("[{header}]")
        };
        self.push(text, origin, true, None);
    }

    pub fn kv(&mut self, k: &str, v: toml::Value, origin: Option<Origin>, refers: Option<PathBuf>) {
        self.push(format!("{k} = {v}"), origin, false, refers);
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        for l in &self.lines {
            if l.disabled && !l.text.is_empty() && !l.text.starts_with('#') {
                text.push_str("# ");
            }
            text.push_str(&l.text);
            text.push('\n');
        }
        text
    }

    /// Comment out what the diagnostic `d` (of the file at `path`, this output) is about;
    /// the warning to give, or `None` when nothing imported is to blame.
    pub fn disable_for(&mut self, path: &Path, d: &crate::Diagnostic) -> Option<Warning> {
        if d.file != path {
            let idx = self
                .lines
                .iter()
                .position(|l| !l.disabled && l.refers.as_deref() == Some(&d.file))?;
            let line = &mut self.lines[idx];
            line.disabled = true;
            return Some(Warning {
                origin: line.origin.clone()?,
                message: format!(
                    "{}:{}: {}; not imported",
                    d.file.file_name()?.to_string_lossy(),
                    d.line,
                    d.message
                ),
            });
        }
        let idx = d.line.checked_sub(1)?;
        let line = self.lines.get(idx).filter(|l| !l.disabled)?.clone();
        let origin = line.origin.clone()?;
        if line.is_header {
            let table = line.table;
            for l in self.lines.iter_mut().filter(|l| l.table == table) {
                l.disabled = true;
            }
            return Some(Warning {
                origin,
                message: format!("{}: {}; written commented out", d.keyword, d.message),
            });
        }
        self.lines[idx].disabled = true;
        Some(Warning {
            origin,
            message: format!("{}; not imported", d.message),
        })
    }
}

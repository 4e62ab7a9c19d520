//! Printing answers: plain lines, tables, or the raw JSON with `--json`. Every write reports a
//! closed stdout (`emgclient watch | head -1`) as [`Failure::OutputClosed`], which ends the
//! command quietly with exit code 0, where `println!` would panic.

use crate::exit::Failure;
use serde_json::Value;
use std::fmt::Display;
use std::io::Write;

/// `println!` that returns a [`Failure`] instead of panicking: `outln!("x {}", y)?`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Write one line to stdout.
pub fn line(text: impl Display) -> Result<(), Failure> {
    writeln!(std::io::stdout().lock(), "{text}").map_err(Failure::from_write)
}

/// Write `text` as it is.
pub fn text(text: &str) -> Result<(), Failure> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Failure::from_write)
}

/// Push out what is buffered (stream events, one at a time).
pub fn flush() -> Result<(), Failure> {
    std::io::stdout().flush().map_err(Failure::from_write)
}

/// How to print answers.
pub struct Out {
    pub json: bool,
}

impl Out {
    /// With --json print the raw answer and return true; the caller prints its table otherwise.
    pub fn raw(&self, v: &Value) -> Result<bool, Failure> {
        if self.json {
            line(v)?;
        }
        Ok(self.json)
    }
}

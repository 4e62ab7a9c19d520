//! State shared while validating one config file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Sink};
use crate::retry::RetryScheme;
use crate::values::Sp;

/// Diagnostics sink for the config file plus everything needed to follow file references.
pub(crate) struct Ctx<'a> {
    /// Diagnostics located in the config file itself.
    pub(crate) sink: Sink<'a>,
    /// Directory relative paths in the config are resolved against.
    pub(crate) dir: PathBuf,
    /// Diagnostics located in other files (retry schemes).
    pub(crate) other: Vec<Diagnostic>,
    /// Retry schemes already read, so a file shared by many connectors is read and reported
    /// once; `None` = unreadable or malformed.
    retry_cache: HashMap<PathBuf, Option<RetryScheme>>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(path: &'a Path, text: &'a str) -> Self {
        Ctx {
            sink: Sink::new(path, text),
            dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            other: Vec::new(),
            retry_cache: HashMap::new(),
        }
    }

    /// `p` resolved against the config file's directory (absolute paths unchanged).
    pub(crate) fn resolve(&self, p: &str) -> PathBuf {
        self.dir.join(p)
    }

    /// Reads the retry scheme named by a `retryscheme` value. A missing file is reported at the
    /// value; problems inside the file are reported at their own line in that file.
    pub(crate) fn retry_scheme(&mut self, value: &Sp<String>) -> Option<RetryScheme> {
        let path = self.resolve(&value.v);
        if let Some(cached) = self.retry_cache.get(&path) {
            return cached.clone();
        }
        let scheme = match crate::file::read_text(&path) {
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "file not found".to_string(),
                    _ => e.to_string(),
                };
                self.sink.at(
                    &value.span,
                    &value.kw,
                    format!("cannot read retry scheme `{}`: {why}", path.display()),
                );
                None
            }
            Ok(text) => match RetryScheme::parse(&text, &path) {
                Ok(s) => Some(s),
                Err(d) => {
                    self.other.extend(d);
                    None
                }
            },
        };
        self.retry_cache.insert(path, scheme.clone());
        scheme
    }
}

//! Import of an EMG configuration (`emgd --import-emg DIR_OR_FILE`): EMG's `server.cfg`
//! ([`syntax`]), the users files and routing table it points at ([`files`]), into an emg.toml
//! beside copies of the mapping, retry-scheme and blacklist files (their formats are EMG's).
//!
//! Every EMG keyword that emg cannot carry becomes a [`Warning`] at its file and line. The
//! result is then validated as `emgd --check-config` would, and whatever that refuses (a value
//! emg reads differently, a route to a connector that was not imported) is commented out and
//! reported in the same way, until the file passes: the output always loads.
//!
//! Connectors of a protocol this build cannot run are written commented out, whole, so that
//! the operator sees them; which protocols can run is the caller's to say.

mod convert;
mod files;
mod keywords;
mod out;
mod syntax;

pub use out::{Origin, Warning};
pub use syntax::SyntaxError;

use crate::model::Protocol;
use std::path::{Path, PathBuf};

/// What an import wrote.
#[derive(Debug)]
pub struct Imported {
    /// The emg.toml written.
    pub config: PathBuf,
    /// The files copied beside it.
    pub files: Vec<PathBuf>,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0}")]
    Syntax(#[from] SyntaxError),
    #[error("{} exists already; give another --config, or move it away first", .0.display())]
    Exists(PathBuf),
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The output still fails validation in a way no imported line is to blame for.
    #[error("the imported configuration does not validate:\n{0}")]
    Invalid(crate::ConfigError),
}

/// Import `source` (EMG's directory, whose `server.cfg` is read, or the file itself) into
/// `config`, which must not exist yet. `available`: the connector kinds this emgd runs
/// (emgd passes [`crate::applies::RUNS`]); a connector of another kind is written commented out.
pub fn import(
    source: &Path,
    config: &Path,
    available: &[(Protocol, crate::kind::Direction)],
) -> Result<Imported, ImportError> {
    let server_cfg = if source.is_dir() {
        source.join("server.cfg")
    } else {
        source.to_path_buf()
    };
    let read = |path: &Path| {
        crate::file::read_text(path).map_err(|error| ImportError::Read {
            path: path.to_path_buf(),
            error,
        })
    };
    let doc = syntax::parse(&read(&server_cfg)?, &server_cfg)?;
    if config.exists() {
        return Err(ImportError::Exists(config.to_path_buf()));
    }
    let out_dir = config
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    std::fs::create_dir_all(&out_dir).map_err(|error| ImportError::Write {
        path: out_dir.clone(),
        error,
    })?;
    let emgdir = server_cfg
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut conv = convert::Conv::new(emgdir, out_dir, available);
    conv.document(&doc);
    let write = |text: &str| {
        std::fs::write(config, text).map_err(|error| ImportError::Write {
            path: config.to_path_buf(),
            error,
        })
    };
    // Validate as --check-config does; comment out what is refused, until it loads.
    loop {
        write(&conv.out.render())?;
        let diagnostics = match crate::load(config) {
            Ok(_) => break,
            Err(e) => e,
        };
        let mut fixed = false;
        for d in &diagnostics.diagnostics {
            if let Some(w) = conv.out.disable_for(config, d) {
                conv.warnings.push(w);
                fixed = true;
            }
        }
        if !fixed {
            return Err(ImportError::Invalid(diagnostics));
        }
    }
    // By file (server.cfg first, the others as they came up), then by line.
    let mut files: Vec<PathBuf> = vec![server_cfg];
    for w in &conv.warnings {
        if !files.contains(&w.origin.file) {
            files.push(w.origin.file.clone());
        }
    }
    let rank = |w: &Warning| files.iter().position(|f| *f == w.origin.file);
    conv.warnings.sort_by_key(|w| (rank(w), w.origin.line));
    Ok(Imported {
        config: config.to_path_buf(),
        files: conv.copied.values().map(|n| conv.out_dir.join(n)).collect(),
        warnings: conv.warnings,
    })
}

//! Where host, user and password come from: options and environment first, then
//! `~/.config/emgclient/config.toml`, then defaults (and a prompt for the password).
//!
//! ```toml
//! host = "127.0.0.1:7185"
//! user = "alice"
//! password = "..."      # keep this file private (chmod 600)
//! tls = true            # as --tls
//! ca = "mgp-ca.pem"   # as --ca, relative to this file's directory (implies tls)
//! tls_server_name = "emg.example.org" # as --tls-server-name (implies tls)
//! ```

use crate::exit::Failure;
use serde::Deserialize;
use std::io::IsTerminal;
use std::path::PathBuf;

pub const DEFAULT_HOST: &str = "127.0.0.1:7185";
pub const DEFAULT_USER: &str = "admin";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub host: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub tls: Option<bool>,
    pub ca: Option<PathBuf>,
    pub tls_server_name: Option<String>,
}

impl FileSettings {
    /// `ca`, relative to the settings file's directory.
    pub fn ca_path(&self) -> Option<PathBuf> {
        let ca = self.ca.as_ref()?;
        let dir = file_path().and_then(|p| p.parent().map(PathBuf::from));
        Some(dir.map_or_else(|| ca.clone(), |d| d.join(ca)))
    }
}

/// `$XDG_CONFIG_HOME/emgclient/config.toml`, else `~/.config/emgclient/config.toml`.
pub fn file_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("emgclient").join("config.toml"))
}

/// The settings file, or empty settings when there is none.
pub fn load_file() -> Result<FileSettings, Failure> {
    let Some(path) = file_path() else {
        return Ok(FileSettings::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| Failure::Other(format!("{}: {}", path.display(), e.message()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileSettings::default()),
        Err(e) => Err(Failure::Other(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// The password: `EMG_PASSWORD`, the settings file, or a prompt on a terminal.
pub fn password(file: &FileSettings, user: &str, host: &str) -> Result<String, Failure> {
    if let Some(p) = std::env::var("EMG_PASSWORD").ok().filter(|p| !p.is_empty()) {
        return Ok(p);
    }
    if let Some(p) = &file.password {
        return Ok(p.clone());
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("password for {user} at {host}: "))
            .map_err(|e| Failure::Auth(format!("cannot read the password: {e}")));
    }
    Err(Failure::Auth(
        "no password: set EMG_PASSWORD, put `password` in ~/.config/emgclient/config.toml, or run on a terminal".into(),
    ))
}

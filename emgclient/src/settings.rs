//! The personal settings file, `~/.config/emgclient/config.toml` (see [`crate::login`] for
//! the order in which options, environment, this file and EMG's `client.cfg` are consulted).
//!
//! ```toml
//! host = "127.0.0.1:7185"
//! watchdog_host = "127.0.0.1:7186"  # for `server` and `logs`
//! user = "alice"
//! password = "..."      # keep this file private (chmod 600)
//! tls = true            # as --tls
//! ca = "mgp-ca.pem"   # as --ca, relative to this file's directory (implies tls)
//! tls_server_name = "emg.example.org" # as --tls-server-name (implies tls)
//!
//! [keys]                # the console's keys (emgclient(1) lists the actions)
//! hold = "H"
//! cancel = ["c", "x"]
//! ```

use crate::exit::Failure;
use serde::Deserialize;
use std::io::IsTerminal;
use std::path::PathBuf;

pub const DEFAULT_USER: &str = "admin";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub host: Option<String>,
    pub watchdog_host: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub tls: Option<bool>,
    pub ca: Option<PathBuf>,
    pub tls_server_name: Option<String>,
    /// The console's keys: action name -> a key or a list of keys (see `tui::state::keymap`).
    pub keys: Option<std::collections::BTreeMap<String, KeyList>>,
}

/// `hold = "H"` or `cancel = ["c", "x"]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl KeyList {
    pub fn keys(&self) -> Vec<String> {
        match self {
            KeyList::One(k) => vec![k.clone()],
            KeyList::Many(k) => k.clone(),
        }
    }
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
            .map_err(|e| Failure::Usage(format!("{}: {}", path.display(), e.message()))),
        // Not ours to read (HOME still names another user's home, as after `su` or setpriv):
        // as if there were none.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            Ok(FileSettings::default())
        }
        Err(e) => Err(Failure::Other(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Ask for the password on the terminal, if there is one.
pub fn prompt_password(user: &str, host: &str) -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("password for {user} at {host}: "))
            .map_err(|e| Failure::Auth(format!("cannot read the password: {e}")));
    }
    Err(Failure::Auth(
        "no password: set EMG_PASSWORD, put `password` in ~/.config/emgclient/config.toml \
         or PASSWORD in EMGDIR/client.cfg, or run on a terminal"
            .into(),
    ))
}

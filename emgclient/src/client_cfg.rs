//! EMG's `EMGDIR/client.cfg`: host, port, username and password for the client utilities, one
//! `KEYWORD=value` a line as in `server.cfg` (`#` starts a comment line). EMGDIR is the
//! environment variable of that name, else `/etc/emg`.
//!
//! ```text
//! HOST=127.0.0.1
//! PORT=7185
//! USERNAME=admin
//! PASSWORD=secret
//! ```
//!
//! A file that is missing, or that this user may not read (it holds a password, so it is often
//! root's only), counts as empty. Keywords emgclient has no use for are reported and skipped,
//! so that an EMG installation's file works as it is.

use crate::exit::Failure;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ClientCfg {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `FILE:LINE: ...` for each line skipped.
    pub warnings: Vec<String>,
}

/// `$EMGDIR/client.cfg`, else `/etc/emg/client.cfg`.
pub fn path() -> PathBuf {
    let dir = std::env::var_os("EMGDIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("/etc/emg"), PathBuf::from);
    dir.join("client.cfg")
}

/// Read [`path`]; a missing or unreadable file is empty.
pub fn load() -> Result<ClientCfg, Failure> {
    let path = path();
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text, &path),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ) =>
        {
            Ok(ClientCfg::default())
        }
        Err(e) => Err(Failure::Usage(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

pub fn parse(text: &str, path: &Path) -> Result<ClientCfg, Failure> {
    let mut cfg = ClientCfg::default();
    for (n, raw) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), n + 1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            cfg.warnings
                .push(format!("{at}: `{line}` is not KEYWORD=value; skipped"));
            continue;
        };
        let value = value.trim().to_string();
        match key.trim().to_ascii_uppercase().as_str() {
            "HOST" => cfg.host = Some(value),
            "PORT" => {
                cfg.port = Some(value.parse().ok().filter(|p| *p > 0).ok_or_else(|| {
                    Failure::Usage(format!(
                        "{at}: PORT: `{value}` is not a port number (1 to 65535)"
                    ))
                })?)
            }
            "USERNAME" => cfg.username = Some(value),
            "PASSWORD" => cfg.password = Some(value),
            other => cfg.warnings.push(format!(
                "{at}: keyword {other} is not used by emgclient; skipped"
            )),
        }
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_emg_keywords_in_any_case_and_reports_the_rest() {
        let text = "# EMG client settings\nHOST=gw1.example.org\nport = 7185\n\
                    username=admin\nPASSWORD=se=cr#et\nDEBUG\nSSL=1\n";
        let cfg = parse(text, Path::new("/etc/emg/client.cfg")).unwrap();
        assert_eq!(cfg.host.as_deref(), Some("gw1.example.org"));
        assert_eq!(cfg.port, Some(7185));
        assert_eq!(cfg.username.as_deref(), Some("admin"));
        assert_eq!(cfg.password.as_deref(), Some("se=cr#et"));
        assert_eq!(
            cfg.warnings,
            [
                "/etc/emg/client.cfg:6: `DEBUG` is not KEYWORD=value; skipped",
                "/etc/emg/client.cfg:7: keyword SSL is not used by emgclient; skipped",
            ]
        );
    }

    #[test]
    fn a_bad_port_is_an_invalid_argument_with_its_place() {
        let e = parse("PORT=http\n", Path::new("c.cfg")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "c.cfg:1: PORT: `http` is not a port number (1 to 65535)"
        );
        assert_eq!(e.code(), crate::exit::INVALID_ARGUMENT);
    }
}

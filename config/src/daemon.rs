//! How emgd lives on its host: the local MGP socket and which local groups it lets in, the
//! general log's format, and the watchdog (`emgd watchdog`). General keywords, top level:
//!
//! ```toml
//! mgp_socket = "/run/emg/mgp.sock"              # "" = none
//! mgp_local_groups = { emg = "admin", emgops = "operator" }
//! logformat = "json"                            # text (default) | json
//! watchdog_address = "127.0.0.1:7186"           # "" = no TCP listener
//! watchdog_socket = "/run/emg/watchdog.sock"
//! watchdog_disk_limit = 80                      # percent
//! watchdog_check_interval = 60                  # seconds
//! watchdog_notify_interval = 21600              # seconds between repeated disk alerts
//! watchdog_webhook = "https://alerts.example.org/emg"
//! watchdog_stop_timeout = 60                    # seconds before SIGKILL
//! ```
//!
//! A configuration under `/etc` gets the FHS defaults ([`Layout::Fhs`]): the store in
//! `/var/lib/emg`, logs in `/var/log/emg`, sockets in `/run/emg`; anywhere else, everything is
//! relative to the file's directory and there are no sockets unless asked for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::context::Ctx;
use crate::model::{Daemon, LogFormat, OperatorRole, Watchdog};
use crate::suggest;
use crate::values::{self, Val};

/// The general keywords this module reads.
pub(crate) const KEYWORDS: &[&str] = &[
    "mgp_socket",
    "mgp_local_groups",
    "logformat",
    "watchdog_address",
    "watchdog_socket",
    "watchdog_disk_limit",
    "watchdog_check_interval",
    "watchdog_notify_interval",
    "watchdog_webhook",
    "watchdog_stop_timeout",
];

const ROLES: [(&str, OperatorRole); 3] = [
    ("readonly", OperatorRole::Readonly),
    ("operator", OperatorRole::Operator),
    ("admin", OperatorRole::Admin),
];

/// Where files go when the configuration does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The configuration is under `/etc`: `/var/lib/emg`, `/var/log/emg`, `/run/emg`.
    Fhs,
    /// Anywhere else: `data` and `log` beside the file, no sockets.
    Local,
}

impl Layout {
    pub fn of(config: &Path) -> Layout {
        if config.starts_with("/etc") {
            Layout::Fhs
        } else {
            Layout::Local
        }
    }
}

pub const FHS_DATADIR: &str = "/var/lib/emg";
pub const FHS_LOGDIR: &str = "/var/log/emg";
pub const FHS_MGP_SOCKET: &str = "/run/emg/mgp.sock";
pub const FHS_WATCHDOG_SOCKET: &str = "/run/emg/watchdog.sock";

/// The options of this module before the file is read.
pub(crate) fn defaults(layout: Layout) -> Daemon {
    let fhs = layout == Layout::Fhs;
    Daemon {
        mgp_socket: fhs.then(|| PathBuf::from(FHS_MGP_SOCKET)),
        local_groups: BTreeMap::new(),
        logformat: LogFormat::Text,
        watchdog: Watchdog {
            address: Some("127.0.0.1:7186".to_string()),
            socket: fhs.then(|| PathBuf::from(FHS_WATCHDOG_SOCKET)),
            disk_limit: 80.0,
            check_interval: 60,
            notify_interval: 21600,
            webhook: None,
            stop_timeout: 60,
        },
    }
}

/// Read one of [`KEYWORDS`] into `d`.
pub(crate) fn read(ctx: &mut Ctx<'_>, key: &str, v: &Val<'_>, d: &mut Daemon) {
    let kw = key;
    match key {
        "mgp_socket" => {
            if let Some(p) = optional_path(ctx, kw, v) {
                d.mgp_socket = p;
            }
        }
        "watchdog_socket" => {
            if let Some(p) = optional_path(ctx, kw, v) {
                d.watchdog.socket = p;
            }
        }
        "mgp_local_groups" => {
            if let Some(groups) = local_groups(ctx, kw, v) {
                d.local_groups = groups;
            }
        }
        "logformat" => {
            let Some(s) = values::string(&mut ctx.sink, kw, v) else {
                return;
            };
            match s.v.to_ascii_lowercase().as_str() {
                "text" => d.logformat = LogFormat::Text,
                "json" => d.logformat = LogFormat::Json,
                other => {
                    let hint = suggest::hint(other, ["text", "json"]);
                    ctx.sink.at(
                        &s.span,
                        kw,
                        format!(
                            "unknown log format `{}`{hint} (expected `text` or `json`)",
                            s.v
                        ),
                    );
                }
            }
        }
        "watchdog_address" => {
            let Some(s) = values::string(&mut ctx.sink, kw, v) else {
                return;
            };
            if s.v.is_empty() {
                d.watchdog.address = None;
            } else if let Err(msg) = values::check_host_port(&s.v) {
                ctx.sink.at(&s.span, kw, msg);
            } else {
                d.watchdog.address = Some(s.v);
            }
        }
        "watchdog_disk_limit" => {
            if let Some(n) = values::number(
                &mut ctx.sink,
                kw,
                v,
                |n| n > 0.0 && n <= 100.0,
                "a percentage above 0, at most 100",
            ) {
                d.watchdog.disk_limit = n;
            }
        }
        "watchdog_check_interval" => {
            if let Some(n) = values::int(&mut ctx.sink, kw, v, 1, 86400) {
                d.watchdog.check_interval = n;
            }
        }
        "watchdog_notify_interval" => {
            if let Some(n) = values::int(&mut ctx.sink, kw, v, 0, u64::from(u32::MAX)) {
                d.watchdog.notify_interval = n;
            }
        }
        "watchdog_stop_timeout" => {
            if let Some(n) = values::int(&mut ctx.sink, kw, v, 1, 3600) {
                d.watchdog.stop_timeout = n;
            }
        }
        "watchdog_webhook" => {
            let Some(s) = values::string(&mut ctx.sink, kw, v) else {
                return;
            };
            if s.v.is_empty() {
                d.watchdog.webhook = None;
            } else if !(s.v.starts_with("http://") || s.v.starts_with("https://")) {
                ctx.sink.at(
                    &s.span,
                    kw,
                    format!("`{}` is not an http:// or https:// URL", s.v),
                );
            } else {
                d.watchdog.webhook = Some(s.v);
            }
        }
        _ => {}
    }
}

/// A path resolved against the config's directory; `""` = `Some(None)` (off).
fn optional_path(ctx: &mut Ctx<'_>, kw: &str, v: &Val<'_>) -> Option<Option<PathBuf>> {
    let s = values::string(&mut ctx.sink, kw, v)?;
    Some((!s.v.is_empty()).then(|| ctx.resolve(&s.v)))
}

fn local_groups(
    ctx: &mut Ctx<'_>,
    kw: &str,
    v: &Val<'_>,
) -> Option<BTreeMap<String, OperatorRole>> {
    let t = values::table(&mut ctx.sink, kw, v)?;
    let mut out = BTreeMap::new();
    for (group, role) in t.iter() {
        let gkw = values::dotted(kw, group.get_ref());
        if !is_group_name(group.get_ref()) {
            ctx.sink.at(
                &group.span(),
                &gkw,
                format!("`{}` is not a group name", group.get_ref()),
            );
            continue;
        }
        let Some(r) = values::string(&mut ctx.sink, &gkw, role) else {
            continue;
        };
        match ROLES.iter().find(|(n, _)| *n == r.v) {
            Some((_, role)) => {
                out.insert(group.get_ref().to_string(), *role);
            }
            None => {
                let hint = suggest::hint(&r.v, ROLES.iter().map(|(n, _)| *n));
                ctx.sink.at(
                    &r.span,
                    &gkw,
                    format!(
                        "unknown role `{}`{hint} (expected one of: readonly, operator, admin)",
                        r.v
                    ),
                );
            }
        }
    }
    Some(out)
}

/// POSIX portable user and group names, and what Debian's adduser allows besides.
fn is_group_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etc_means_fhs() {
        assert_eq!(Layout::of(Path::new("/etc/emg/emg.toml")), Layout::Fhs);
        assert_eq!(Layout::of(Path::new("/etcetera/emg.toml")), Layout::Local);
        assert_eq!(Layout::of(Path::new("config/emg.toml")), Layout::Local);
        let d = defaults(Layout::Fhs);
        assert_eq!(d.mgp_socket.as_deref(), Some(Path::new(FHS_MGP_SOCKET)));
        assert_eq!(defaults(Layout::Local).mgp_socket, None);
    }
}

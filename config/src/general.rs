//! The general options: written at the top level of the file, read one keyword at a time,
//! with their defaults (which depend on where the file lives: beside its data, or under /etc)
//! and the checks between them.

use crate::context::Ctx;
use crate::model::{Backend, General, RemovedQueue, StoreCheck};
use crate::retry::RetryScheme;
use crate::suggest;
use crate::values::{self, Span};

/// General options, written at the top level of the file (there is no `[general]` table, so a
/// minimal config is just a few lines).
pub(crate) const GENERAL_KEYWORDS: &[&str] = &[
    "datadir",
    "logdir",
    "mgp_address",
    "mgp_login_timeout",
    "mgp_max_connections",
    "mgp_max_connections_per_ip",
    "backend",
    "database_url",
    "nodeid",
    "node_lease",
    "maxtotalqueuesize",
    "maxtotalqueuesize_soft",
    "pdulog",
    "loglevel",
    "cmrexpire",
    "retryscheme",
    "group_commit_max",
    "group_commit_delay_us",
    "retention",
    "routelog_retention",
    "dlr_expire",
    "mgp_tls_cert",
    "mgp_tls_key",
    "metrics_address",
    "metrics_tls_cert",
    "metrics_tls_key",
    "admin_address",
    "blacklist",
    "masquerade_key",
    "removed_queue",
    "drain_timeout",
    "store_check",
];

const LOGLEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

pub(crate) fn default_general(ctx: &Ctx<'_>, layout: crate::daemon::Layout) -> General {
    let fhs = layout == crate::daemon::Layout::Fhs;
    General {
        // Under /etc, the FHS places: the store and logs do not belong beside the config.
        datadir: if fhs {
            crate::daemon::FHS_DATADIR.into()
        } else {
            ctx.resolve("data")
        },
        logdir: if fhs {
            crate::daemon::FHS_LOGDIR.into()
        } else {
            ctx.resolve("log")
        },
        mgp_address: Some("127.0.0.1:7185".to_string()),
        mgp_tls: None,
        mgp_login_timeout: 10,
        mgp_max_connections: 256,
        mgp_max_connections_per_ip: 32,
        backend: Backend::Sqlite,
        database_url: None,
        nodeid: 0,
        node_lease: crate::DEFAULT_NODE_LEASE,
        maxtotalqueuesize: None,
        maxtotalqueuesize_soft: None,
        pdulog: true,
        loglevel: "info".to_string(),
        cmrexpire: 60,
        retryscheme: RetryScheme::default(),
        group_commit_max: 4096,
        group_commit_delay_us: crate::DEFAULT_GROUP_COMMIT_DELAY_US,
        retention: crate::DEFAULT_RETENTION,
        routelog_retention: crate::DEFAULT_ROUTELOG_RETENTION,
        dlr_expire: crate::DEFAULT_DLR_EXPIRE,
        metrics_address: None,
        metrics_tls: None,
        admin_address: None,
        blacklist: None,
        masquerade_key: None,
        removed_queue: RemovedQueue::Drain,
        drain_timeout: crate::DEFAULT_DRAIN_TIMEOUT,
        store_check: StoreCheck::Auto,
        daemon: crate::daemon::defaults(layout),
    }
}

pub(crate) fn read_general(
    ctx: &mut Ctx<'_>,
    key: &str,
    kw: &str,
    v: &values::Val<'_>,
    g: &mut General,
) {
    let sink = &mut ctx.sink;
    match key {
        "datadir" => {
            if let Some(s) = values::string(sink, kw, v) {
                g.datadir = ctx.resolve(&s.v);
            }
        }
        "logdir" => {
            if let Some(s) = values::string(sink, kw, v) {
                g.logdir = ctx.resolve(&s.v);
            }
        }
        "mgp_address" => {
            if let Some(s) = values::string(sink, kw, v) {
                if s.v.is_empty() {
                    g.mgp_address = None;
                } else if let Err(msg) = values::check_host_port(&s.v) {
                    sink.at(&s.span, kw, msg);
                } else {
                    g.mgp_address = Some(s.v);
                }
            }
        }
        "backend" => {
            if let Some(s) = values::string(sink, kw, v) {
                match s.v.to_ascii_lowercase().as_str() {
                    "sqlite" => g.backend = Backend::Sqlite,
                    "postgres" | "postgresql" => g.backend = Backend::Postgres,
                    other => {
                        let hint = suggest::hint(other, ["sqlite", "postgres"]);
                        sink.at(
                            &s.span,
                            kw,
                            format!(
                                "unknown backend `{}`{hint} (expected `sqlite` or `postgres`)",
                                s.v
                            ),
                        );
                    }
                }
            }
        }
        "blacklist" => {
            if let Some(s) = values::string(sink, kw, v) {
                g.blacklist = crate::blacklist::read(ctx, &s).map(std::sync::Arc::new);
            }
        }
        "store_check" => {
            if let Some(s) = values::string(sink, kw, v) {
                match s.v.to_ascii_lowercase().as_str() {
                    "auto" => g.store_check = StoreCheck::Auto,
                    "always" => g.store_check = StoreCheck::Always,
                    "never" => g.store_check = StoreCheck::Never,
                    other => {
                        let hint = suggest::hint(other, ["auto", "always", "never"]);
                        sink.at(
                            &s.span,
                            kw,
                            format!(
                                "unknown choice `{}`{hint} (expected `auto`, `always` or `never`)",
                                s.v
                            ),
                        );
                    }
                }
            }
        }
        "removed_queue" => {
            if let Some(s) = values::string(sink, kw, v) {
                match s.v.to_ascii_lowercase().as_str() {
                    "drain" => g.removed_queue = RemovedQueue::Drain,
                    "reroute" => g.removed_queue = RemovedQueue::Reroute,
                    other => {
                        let hint = suggest::hint(other, ["drain", "reroute"]);
                        sink.at(
                            &s.span,
                            kw,
                            format!(
                                "unknown choice `{}`{hint} (expected `drain` or `reroute`)",
                                s.v
                            ),
                        );
                    }
                }
            }
        }
        "mgp_login_timeout" => {
            if let Some(n) = values::int(sink, kw, v, 1, 3600) {
                g.mgp_login_timeout = n;
            }
        }
        "mgp_max_connections" => {
            if let Some(n) = values::int(sink, kw, v, 1, 100_000) {
                g.mgp_max_connections = n;
            }
        }
        "mgp_max_connections_per_ip" => {
            if let Some(n) = values::int(sink, kw, v, 1, 100_000) {
                g.mgp_max_connections_per_ip = n;
            }
        }
        "drain_timeout" => {
            if let Some(n) = values::int(sink, kw, v, 1, u64::MAX) {
                g.drain_timeout = n;
            }
        }
        "masquerade_key" => {
            if let Some(s) = values::string(sink, kw, v) {
                if s.v.chars().count() < 8 {
                    sink.at(&s.span, kw, "the key must be at least 8 characters long");
                } else {
                    g.masquerade_key = Some(s.v);
                }
            }
        }
        "metrics_address" => {
            if let Some(s) = values::string(sink, kw, v) {
                if s.v.is_empty() {
                    g.metrics_address = None;
                } else if let Err(msg) = values::check_host_port(&s.v) {
                    sink.at(&s.span, kw, msg);
                } else {
                    g.metrics_address = Some(s.v);
                }
            }
        }
        "admin_address" => {
            if let Some(s) = values::string(sink, kw, v) {
                if s.v.is_empty() {
                    g.admin_address = None;
                } else if let Err(msg) = values::check_host_port(&s.v) {
                    sink.at(&s.span, kw, msg);
                } else {
                    g.admin_address = Some(s.v);
                }
            }
        }
        "database_url" => g.database_url = values::string(sink, kw, v).map(|s| s.v),
        "nodeid" => g.nodeid = values::int(sink, kw, v, 0, 8999).unwrap_or(0),
        "node_lease" => {
            g.node_lease = values::int(sink, kw, v, 2, 300).unwrap_or(crate::DEFAULT_NODE_LEASE);
        }
        "maxtotalqueuesize" => g.maxtotalqueuesize = values::int(sink, kw, v, 0, u64::MAX),
        "maxtotalqueuesize_soft" => {
            g.maxtotalqueuesize_soft = values::int(sink, kw, v, 0, u64::MAX);
        }
        "pdulog" => g.pdulog = values::boolean(sink, kw, v).unwrap_or(true),
        "loglevel" => {
            if let Some(s) = values::string(sink, kw, v) {
                let lc = s.v.to_ascii_lowercase();
                if LOGLEVELS.contains(&lc.as_str()) {
                    g.loglevel = lc;
                } else {
                    let hint = suggest::hint(&lc, LOGLEVELS.iter().copied());
                    sink.at(
                        &s.span,
                        kw,
                        format!(
                            "unknown log level `{}`{hint} (expected one of: {})",
                            s.v,
                            LOGLEVELS.join(", ")
                        ),
                    );
                }
            }
        }
        "cmrexpire" => g.cmrexpire = values::int(sink, kw, v, 0, u64::MAX).unwrap_or(60),
        "retryscheme" => {
            if let Some(s) = values::string(sink, kw, v) {
                g.retryscheme = ctx.retry_scheme(&s).unwrap_or_default();
            }
        }
        "group_commit_max" => {
            g.group_commit_max =
                values::int(sink, kw, v, 1, u32::MAX).map_or(4096, |n: u32| n as usize);
        }
        "group_commit_delay_us" => {
            g.group_commit_delay_us =
                values::int(sink, kw, v, 0, 100_000).unwrap_or(crate::DEFAULT_GROUP_COMMIT_DELAY_US)
        }
        "retention" => {
            g.retention = values::int(sink, kw, v, 1, u64::MAX).unwrap_or(crate::DEFAULT_RETENTION)
        }
        "routelog_retention" => {
            g.routelog_retention =
                values::int(sink, kw, v, 1, u64::MAX).unwrap_or(crate::DEFAULT_ROUTELOG_RETENTION)
        }
        "dlr_expire" => {
            g.dlr_expire =
                values::int(sink, kw, v, 1, u64::MAX).unwrap_or(crate::DEFAULT_DLR_EXPIRE)
        }
        _ => {}
    }
}

/// The `nodeid` a node sharing a PostgreSQL store takes when none is given: the number its
/// host name ends with (`emg3` is node 3), or 1 when that is none or out of range (0..8999).
pub fn default_nodeid(hostname: &str) -> u16 {
    let host = hostname.split('.').next().unwrap_or("");
    let digits = &host[host.trim_end_matches(|c: char| c.is_ascii_digit()).len()..];
    match digits.parse::<u16>() {
        Ok(n) if n <= 8999 && !digits.is_empty() => n,
        _ => 1,
    }
}

/// This host's name (`/proc/sys/kernel/hostname`, else `HOSTNAME`), empty when unknown.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default()
}

/// Checks between general options.
pub(crate) fn check_general(ctx: &mut Ctx<'_>, g: &General, backend_span: Option<Span>) {
    if let (false, Some(span)) = (crate::applies::BACKENDS.contains(&g.backend), &backend_span) {
        ctx.sink.at(
            span,
            "backend",
            "this backend is not available in this build of emgd; use `sqlite` or `postgres`",
        );
        return;
    }
    if let (Backend::Postgres, None, Some(span)) = (g.backend, &g.database_url, backend_span) {
        ctx.sink.at(
            &span,
            "backend",
            "backend `postgres` needs `database_url` to be set",
        );
    }
}

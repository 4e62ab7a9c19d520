//! Putting a new configuration in force (SIGHUP, MGP `reload`): log files reopened (so
//! logrotate works), the general log's level and format, then the gateway's routes, users,
//! limits and connector settings.

use crate::gateway::Gateway;
use std::path::Path;

/// Put `cfg`, already loaded and valid, in force.
pub fn apply(gw: &Gateway, cfg: config::Config) {
    crate::systemd::notify("RELOADING=1");
    gw.logs.reopen();
    if let Some(log) = crate::logs::general::handle() {
        log.reopen();
        if let Err(e) = log.configure(&cfg.general) {
            tracing::error!(
                "cannot open the general log in {}: {e}",
                cfg.general.logdir.display()
            );
        }
    }
    gw.reload(cfg);
    crate::systemd::notify("READY=1");
}

/// SIGHUP: read `path` again; a broken file is reported and the running configuration kept
/// (the log files are reopened either way).
pub fn from_file(gw: &Gateway, path: &Path) {
    match config::load(path) {
        Ok(cfg) => {
            apply(gw, cfg);
            tracing::info!("configuration reloaded from {}", path.display());
        }
        Err(e) => {
            gw.logs.reopen();
            if let Some(log) = crate::logs::general::handle() {
                log.reopen();
            }
            tracing::error!("configuration not reloaded, the running one stays:\n{e}");
        }
    }
}

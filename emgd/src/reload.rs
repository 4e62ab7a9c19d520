//! Putting a new configuration in force (SIGHUP, MGP `reload`): its plugin scripts compiled
//! first (one that does not compile refuses the whole reload), log files reopened (so
//! logrotate works), the general log's level and format, then the gateway's routes, users,
//! limits, connector settings and plugins.

use crate::gateway::Gateway;
use std::path::Path;

/// Put `cfg`, already loaded and valid, in force. A plugin script that does not compile
/// refuses it, with its diagnostics, before anything changes: the running one stays.
pub fn apply(gw: &Gateway, cfg: config::Config) -> Result<(), config::ConfigError> {
    let plugins = crate::plugin::Plugins::load(&cfg, Some(&gw.plugins()))
        .map_err(|diagnostics| config::ConfigError { diagnostics })?;
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
    gw.set_plugins(plugins);
    crate::systemd::notify("READY=1");
    Ok(())
}

/// SIGHUP: read `path` again; a broken file is reported and the running configuration kept
/// (the log files are reopened either way).
pub fn from_file(gw: &Gateway, path: &Path) {
    match config::load(path).and_then(|cfg| apply(gw, cfg)) {
        Ok(()) => tracing::info!("configuration reloaded from {}", path.display()),
        Err(e) => {
            gw.logs.reopen();
            if let Some(log) = crate::logs::general::handle() {
                log.reopen();
            }
            tracing::error!("configuration not reloaded, the running one stays:\n{e}");
        }
    }
}

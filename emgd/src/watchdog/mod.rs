//! `emgd watchdog`: a small supervisor in the spirit of EMG's watchdog, for hosts without
//! systemd (containers, other init systems) or where an outside system drives emgd over an
//! API. It runs emgd ([`supervisor`]), restarts it when it dies, checks the disks holding its
//! store and logs ([`disk`]), sends alerts ([`alert`]), and serves an MGP API on
//! `watchdog_address` and `watchdog_socket` ([`service`]): `emgclient server
//! status|start|stop|restart` and `emgclient logs NAME --since`.
//!
//! Under systemd, systemd is the watchdog (emgd.service: `Restart=on-failure`, `WatchdogSec=`
//! with emgd's keep-alives): `emgd watchdog` refuses to run there unless given `--force`, so
//! that two supervisors do not fight over one emgd.

pub mod alert;
pub mod disk;
pub mod service;
pub mod supervisor;

use crate::control;
use anyhow::Context;
use service::Watchdog;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Why `emgd watchdog` does not run under systemd.
pub const UNDER_SYSTEMD: &str = "this host runs emgd under systemd, which is its watchdog: \
emgd.service restarts emgd when it dies (Restart=on-failure) or hangs (WatchdogSec=); use \
`systemctl start|stop|restart emgd`, `journalctl -u emgd`, and `emgclient logs NAME --emgd` for \
the log files. `emgd watchdog` is for hosts without systemd; --force runs it anyway";

/// Whether this process was started by systemd as (part of) a unit.
pub fn under_systemd() -> bool {
    std::env::var_os("INVOCATION_ID").is_some()
}

/// Run the watchdog until SIGTERM or SIGINT (which stop emgd first); SIGHUP rereads the
/// configuration (accounts, disk limits) and reopens the log file.
pub async fn run(config_path: &Path) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let cfg = config::load(config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(&cfg.general.logdir).with_context(|| {
        format!(
            "cannot create the log directory {}",
            cfg.general.logdir.display()
        )
    })?;
    if let Some(log) = crate::logs::general::handle() {
        log.configure_as(&cfg.general, "watchdog")?;
    }
    let w = cfg.general.daemon.watchdog.clone();
    let alerts = alert::Alerts::new(w.webhook.clone());
    let (shutdown, _) = tokio::sync::watch::channel(false);
    let config = Arc::new(RwLock::new(Arc::new(cfg.clone())));
    let timeout_cfg = config.clone();
    let stop_timeout = Arc::new(move || {
        let c = timeout_cfg
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Duration::from_secs(c.general.daemon.watchdog.stop_timeout)
    });
    let binary = std::env::current_exe().context("cannot find emgd's own binary")?;
    let (supervisor, supervising) = supervisor::Supervisor::start(
        binary,
        config_path.to_path_buf(),
        alerts.clone(),
        stop_timeout,
        shutdown.subscribe(),
    )
    .context("cannot open the readiness socket for emgd")?;
    let service = Arc::new(Watchdog {
        config,
        limiter: Default::default(),
        shutdown,
        supervisor,
    });
    if let Some(address) = &w.address {
        let listener = control::listen::bind(address).await?;
        tokio::spawn(control::listen::serve_tcp(service.clone(), listener, None));
    }
    if let Some(path) = &w.socket {
        let socket = control::listen::bind_local(path).await?;
        tokio::spawn(control::listen::serve_local(service.clone(), socket));
    }
    tokio::spawn(disks(service.clone(), alerts));
    tracing::info!(
        "emgd watchdog {} started for {}",
        env!("CARGO_PKG_VERSION"),
        config_path.display()
    );
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let mut hup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => match config::load(config_path) {
                Ok(cfg) => {
                    if let Some(log) = crate::logs::general::handle() {
                        log.reopen();
                    }
                    *service.config.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(cfg);
                    tracing::info!("watchdog configuration reloaded");
                }
                Err(e) => tracing::error!("watchdog configuration not reloaded:\n{e}"),
            },
        }
    }
    tracing::info!("watchdog stopping: emgd first");
    service.shutdown.send_replace(true);
    let _ = supervising.await;
    tracing::info!("watchdog stopped");
    Ok(())
}

/// Check the disks every `watchdog_check_interval` until shutdown.
async fn disks(service: Arc<Watchdog>, alerts: alert::Alerts) {
    let mut shutdown = service.shutdown.subscribe();
    let mut pressure = disk::Pressure::default();
    loop {
        let cfg = service.current();
        pressure.check(&cfg, &alerts);
        let every = Duration::from_secs(cfg.general.daemon.watchdog.check_interval);
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = crate::gateway::stopped(&mut shutdown) => return,
        }
    }
}

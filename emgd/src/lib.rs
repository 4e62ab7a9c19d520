//! emgd, the emg messaging gateway daemon.
//!
//! `main.rs` only parses arguments; [`run`] starts the gateway: it opens the store, recovers
//! what a previous run left queued, starts every connector (under [`connector::supervise`], which also starts and stops
//! them on reload), and serves until SIGTERM. SIGHUP
//! reloads the configuration and reopens the log files ([`reload`]). Under systemd it reports
//! readiness ([`systemd`]).

pub mod access;
pub mod accounting;
pub mod cli;
pub mod clock;
pub mod connector;
pub mod control;
pub mod gateway;
pub mod logs;
pub mod metrics;
pub mod plugin;
pub mod process;
pub mod queue;
pub mod rate;
pub mod reload;
pub mod router;
pub mod store;
pub mod systemd;
pub mod tls;
pub mod users;
pub mod watchdog;

use anyhow::Context;
use gateway::Gateway;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use store::Store;

/// How long shutdown waits for sessions to finish their in-flight work.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Validate the configuration file and compile its plugin scripts; the error lists every
/// problem as `FILE:LINE:COL: keyword: ...` (a script's errors at the script's lines).
pub fn check_config(path: &Path) -> Result<config::Config, config::ConfigError> {
    let cfg = config::load(path)?;
    plugin::Plugins::load(&cfg, None).map_err(|diagnostics| config::ConfigError { diagnostics })?;
    Ok(cfg)
}

/// Run the gateway until SIGTERM or SIGINT.
pub async fn run(config_path: &Path) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let mut hup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    let path = config_path.to_path_buf();
    run_until(config_path, move |gw| async move {
        loop {
            tokio::select! {
                _ = term.recv() => { tracing::info!("SIGTERM: shutting down"); return; }
                _ = int.recv() => { tracing::info!("SIGINT: shutting down"); return; }
                _ = hup.recv() => reload::from_file(&gw, &path),
            }
        }
    })
    .await
}

/// Run the gateway until `stop` (given the gateway) resolves, then shut down gracefully.
pub async fn run_until<F, Fut>(config_path: &Path, stop: F) -> anyhow::Result<()>
where
    F: FnOnce(Arc<Gateway>) -> Fut,
    Fut: Future<Output = ()>,
{
    let cfg = config::load(config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let plugins = plugin::Plugins::load(&cfg, None)
        .map_err(|d| anyhow::anyhow!("{}", config::ConfigError { diagnostics: d }))?;
    let mut shared_store: Option<Arc<store::postgres::PostgresStore>> = None;
    let store: Arc<dyn Store> = match cfg.general.backend {
        config::Backend::Sqlite => Arc::new(
            store::sqlite::SqliteStore::open(&cfg.general.datadir, store::Options::of_config(&cfg))
                .with_context(|| {
                    format!("cannot open the store in {}", cfg.general.datadir.display())
                })?,
        ),
        config::Backend::Postgres => {
            let url = cfg
                .general
                .database_url
                .as_deref()
                .context("backend = \"postgres\" needs database_url")?;
            let pg = Arc::new(
                store::postgres::PostgresStore::open(
                    url,
                    cfg.general.nodeid,
                    store::Options::of_config(&cfg),
                )
                .await
                .with_context(|| format!("cannot open the store at {}", redact_url(url)))?,
            );
            shared_store = Some(pg.clone());
            pg
        }
    };
    let recovered = store.recover().await.context("cannot recover the store")?;
    tracing::info!(
        "store recovered: {} queued messages, {} open delivery reports",
        recovered.queued.len() + recovered.spilled.values().map(Vec::len).sum::<usize>(),
        recovered.open_dlrs.len()
    );
    if recovered.were_submitting > 0 {
        tracing::warn!(
            "{} messages were being submitted when emgd last stopped; they are sent again and may arrive twice",
            recovered.were_submitting
        );
    }
    let logs =
        logs::Logs::start(cfg.general.logdir.clone(), cfg.general.pdulog).with_context(|| {
            format!(
                "cannot create the log directory {}",
                cfg.general.logdir.display()
            )
        })?;
    if let Some(general) = logs::general::handle() {
        general.configure(&cfg.general).with_context(|| {
            format!(
                "cannot open the general log in {}",
                cfg.general.logdir.display()
            )
        })?;
    }
    let gw = Gateway::new(cfg, store.clone(), logs.clone(), &recovered);
    gw.set_plugins(plugins);
    drop(recovered);

    if let Some(pg) = shared_store {
        gateway::cluster::start(gw.clone(), pg)
            .await
            .context("cannot renew this node's lease in the shared store")?;
    }
    let mut supervisor = connector::supervise::Supervisor::default();
    for c in gw.connectors() {
        supervisor.start(&gw, &c).await?;
    }
    let started = supervisor.running();
    let changes = gw
        .take_changes()
        .context("the gateway's reload changes were taken twice")?;
    let supervisor = tokio::spawn(supervisor.run(gw.clone(), changes, SHUTDOWN_GRACE));
    tokio::spawn(sweep_expired(gw.clone()));
    if let Some(address) = &gw.config().general.metrics_address {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on metrics_address {address}"))?;
        tokio::spawn(metrics::exposition::serve(gw.clone(), listener));
    }
    let mgp = control::server::Server::new(gw.clone());
    if let Some(address) = &gw.config().general.mgp_address {
        let tls = control::tls::acceptor(gw.config().general.mgp_tls.as_ref())?;
        let listener = control::listen::bind(address).await?;
        tokio::spawn(control::listen::serve_tcp(mgp.clone(), listener, tls));
    }
    if let Some(address) = &gw.config().general.admin_address {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on admin_address {address}"))?;
        tokio::spawn(control::admin_http::serve(mgp.clone(), listener));
    }
    if let Some(path) = &gw.config().general.daemon.mgp_socket {
        let socket = control::listen::bind_local(path).await?;
        tokio::spawn(control::listen::serve_local(mgp.clone(), socket));
    }
    tracing::info!(
        "emgd {} started with {} connectors",
        env!("CARGO_PKG_VERSION"),
        started
    );
    systemd::notify("READY=1");
    if let Some(every) = systemd::watchdog_interval() {
        tokio::spawn(systemd_keepalive(gw.clone(), every));
    }

    stop(gw.clone()).await;

    systemd::notify("STOPPING=1");
    gw.begin_shutdown();
    if let Err(e) = supervisor.await {
        tracing::error!("the connector supervisor failed: {e}");
    }
    logs.flush().await;
    store
        .close()
        .await
        .context("cannot close the store cleanly")?;
    tracing::info!("emgd stopped");
    Ok(())
}

/// `url` without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// `WATCHDOG=1` to systemd every `every` until shutdown, so that a hung emgd is restarted.
async fn systemd_keepalive(gw: Arc<Gateway>, every: Duration) {
    let mut shutdown = gw.shutdown_signal();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => systemd::notify("WATCHDOG=1"),
            _ = gateway::stopped(&mut shutdown) => break,
        }
    }
}

/// How often queues are searched for messages whose validity has ended.
const EXPIRY_SWEEP: std::time::Duration = std::time::Duration::from_secs(1);

/// Fail expired queued messages, expire open DLR entries, and give up on long messages whose
/// parts did not all come, until shutdown.
async fn sweep_expired(gw: Arc<Gateway>) {
    let mut shutdown = gw.shutdown_signal();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EXPIRY_SWEEP) => {
                gw.sweep_expired().await;
                gw.expire_dlrs().await;
                gw.expire_parts().await;
            }
            _ = gateway::stopped(&mut shutdown) => break,
        }
    }
}

//! `reload`: read the configuration file again.

use super::server::{ok, OpResult, Server};
use common::mgp::{ErrorBody, Reloaded};

/// A broken file is refused with its diagnostics and the running configuration stays.
pub async fn reload(s: &Server, user: &str) -> OpResult {
    let path = s.gw.config().path.clone();
    let load_path = path.clone();
    let loaded = tokio::task::spawn_blocking(move || config::load(&load_path))
        .await
        .map_err(|e| ErrorBody::internal(format!("reload task failed: {e}")))?;
    let connectors = loaded.as_ref().map_or(0, |c| c.connectors.len());
    match loaded.and_then(|cfg| crate::reload::apply(&s.gw, cfg)) {
        Ok(()) => {
            tracing::info!(
                operator = user,
                "configuration reloaded from {} over MGP",
                path.display()
            );
            ok(Reloaded {
                config: path.display().to_string(),
                connectors,
            })
        }
        Err(e) => Err(ErrorBody::refused(format!(
            "configuration not reloaded, the running one stays: {}",
            e.to_string().trim_end().replace('\n', "; ")
        ))),
    }
}

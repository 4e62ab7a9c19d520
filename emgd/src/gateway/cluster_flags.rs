//! Connector flags set on any node act on every node: each tick of [`super::cluster`] reads
//! the stored flags (`connector_flags`, written by MGP `hold`, `release`, `forceclose` and
//! `forceclose_clear` on whichever node; a connector with neither flag has no row) and
//! applies those that changed since the last read.
//! A flag changed here only in memory (a `bounce` closing sessions for a moment) stays as it
//! is until the stored one changes.

use super::shared::Gateway;
use crate::store::postgres::lease::Leases;
use std::collections::HashMap;

/// The stored (hold, force-close) of each connector at the last read.
#[derive(Debug, Default)]
pub struct SeenFlags(HashMap<String, (bool, bool)>);

impl SeenFlags {
    /// Read the stored flags and apply what another node changed.
    pub async fn follow(&mut self, gw: &Gateway, leases: &Leases) {
        let stored = match leases.flags().await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!("cannot read the connector flags other nodes set: {e}");
                return;
            }
        };
        // Both flags off is no row at all (the store deletes it).
        let stored: HashMap<String, (bool, bool)> =
            stored.into_iter().map(|(n, h, f)| (n, (h, f))).collect();
        for c in gw.connectors() {
            let name = c.name.clone();
            let (hold, forceclose) = stored.get(&name).copied().unwrap_or((false, false));
            let last = self
                .0
                .insert(name.clone(), (hold, forceclose))
                .unwrap_or((c.held(), c.forceclose_stored()));
            if hold != last.0 && hold != c.held() {
                c.set_hold(hold);
                let what = if hold { "HOLD" } else { "RELEASE" };
                gw.logs
                    .connector(&name, 0, format!("{what} (set on another node)"));
                tracing::info!(
                    connector = name.as_str(),
                    "connector {name}: {} set on another node",
                    what.to_lowercase()
                );
            }
            if forceclose != last.1 && forceclose != c.forceclose_stored() {
                c.set_forceclose_stored(forceclose);
                c.set_forceclose(forceclose);
                let what = if forceclose {
                    "FORCE CLOSE"
                } else {
                    "FORCE CLOSE cleared"
                };
                gw.logs
                    .connector(&name, 0, format!("{what} (set on another node)"));
                tracing::info!(
                    connector = name.as_str(),
                    "connector {name}: {what} set on another node"
                );
            }
        }
    }
}

//! Message processing: what each connector does to the messages it receives and sends —
//! mappings, address rewriting, masquerading, SAT pools — and the system-wide blacklist.
//!
//! The transformations are pure functions over the configuration ([`pipeline`]); this module
//! holds the little state they need (the SAT index, the masquerading key). The gateway runs
//! them (`crate::gateway::processing`): IN before routing, OUT just before a session encodes a
//! message, on a copy, so a retry never transforms twice. Both read the configuration per
//! message, so a reload takes effect on the next message without touching sessions. Nothing
//! here knows the gateway or the connectors: it sits below them.

pub mod blacklist;
pub mod mapping;
pub mod masquerade;
pub mod msgtype;
pub mod pipeline;
pub mod prefix;
pub mod regexp;
pub mod satpool;

#[cfg(test)]
mod tests;

use crate::clock::now_us;
use crate::store::SatEntry;
use masquerade::Masquerade;
use satpool::SatIndex;
use std::sync::{Arc, Mutex, MutexGuard};

pub use pipeline::Refused;

/// The processing state the gateway keeps.
#[derive(Debug, Default)]
pub struct Processing {
    sat: Mutex<SatIndex>,
    /// The masquerading key in use and what it was built from (rebuilt when a reload changes
    /// `masquerade_key`).
    masquerade: Mutex<Option<(String, Arc<Masquerade>)>>,
}

impl Processing {
    /// State over the SAT entries the store recovered.
    pub fn new(sat_entries: &[SatEntry]) -> Processing {
        Processing {
            sat: Mutex::new(SatIndex::new(sat_entries)),
            masquerade: Mutex::new(None),
        }
    }

    /// The SAT index, for a pipeline run.
    pub fn sat(&self) -> MutexGuard<'_, SatIndex> {
        self.sat.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Live SAT entries now.
    pub fn sat_entries(&self) -> usize {
        self.sat().len(now_us())
    }

    /// The masquerading built from `masquerade_key`, when one is set.
    pub fn masquerade(&self, key: Option<&str>) -> Option<Arc<Masquerade>> {
        let key = key?;
        let mut cur = self.masquerade.lock().unwrap_or_else(|p| p.into_inner());
        match &*cur {
            Some((k, m)) if k == key => Some(m.clone()),
            _ => {
                let m = Arc::new(Masquerade::new(key));
                *cur = Some((key.to_string(), m.clone()));
                Some(m)
            }
        }
    }
}

//! Disk pressure: how full the file systems holding the store and the logs are, against
//! `watchdog_disk_limit`. An alert goes out when one is over the limit, again every
//! `watchdog_notify_interval` while it stays there, and a note when it is back under.

use super::alert::Alerts;
use common::mgp::DiskUsage;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Percent of the file system holding `path` in use, as `df` computes it (blocks reserved
/// for root count as not available).
pub fn used_percent(path: &Path) -> std::io::Result<f64> {
    let st = nix::sys::statvfs::statvfs(path).map_err(std::io::Error::from)?;
    let used = st.blocks().saturating_sub(st.blocks_free()) as f64;
    let avail = st.blocks_available() as f64;
    if used + avail == 0.0 {
        return Ok(0.0);
    }
    Ok((used * 100.0 / (used + avail) * 10.0).round() / 10.0)
}

/// The directories checked: datadir and logdir (once when they share a file system).
pub fn dirs(cfg: &config::Config) -> Vec<PathBuf> {
    let mut dirs = vec![cfg.general.datadir.clone()];
    if cfg.general.logdir != cfg.general.datadir {
        dirs.push(cfg.general.logdir.clone());
    }
    dirs
}

/// What `server_status` shows.
pub fn usage(cfg: &config::Config) -> Vec<DiskUsage> {
    dirs(cfg)
        .into_iter()
        .filter_map(|d| {
            let used = used_percent(&d).ok()?;
            Some(DiskUsage {
                path: d.display().to_string(),
                used_percent: used,
                limit_percent: cfg.general.daemon.watchdog.disk_limit,
            })
        })
        .collect()
}

/// When each directory last alerted, while it is over the limit.
#[derive(Default)]
pub struct Pressure {
    alerted: HashMap<PathBuf, Instant>,
}

impl Pressure {
    /// Check every directory once, alerting as the module says.
    pub fn check(&mut self, cfg: &config::Config, alerts: &Alerts) {
        let w = &cfg.general.daemon.watchdog;
        let again = Duration::from_secs(w.notify_interval);
        for dir in dirs(cfg) {
            let used = match used_percent(&dir) {
                Ok(u) => u,
                Err(e) => {
                    tracing::warn!("cannot check the disk of {}: {e}", dir.display());
                    continue;
                }
            };
            if used > w.disk_limit {
                let due = self
                    .alerted
                    .get(&dir)
                    .is_none_or(|t| w.notify_interval > 0 && t.elapsed() >= again);
                if due {
                    self.alerted.insert(dir.clone(), Instant::now());
                    alerts.send(
                        "disk",
                        format!(
                            "disk of {} is {used:.1}% full, above watchdog_disk_limit {:.0}%",
                            dir.display(),
                            w.disk_limit
                        ),
                        None,
                    );
                }
            } else if self.alerted.remove(&dir).is_some() {
                alerts.send(
                    "disk_ok",
                    format!(
                        "disk of {} is {used:.1}% full, under the limit again",
                        dir.display()
                    ),
                    None,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_real_file_system_has_a_usage() {
        let u = super::used_percent(std::path::Path::new("/")).unwrap();
        assert!((0.0..=100.0).contains(&u), "{u}");
    }
}

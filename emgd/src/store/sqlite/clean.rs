//! The clean-shutdown marker: `datadir/emg.clean`, written (and synced) when the store closes
//! after its last checkpoint, removed (and the removal synced) at the next start before
//! anything is written. Its presence at start says the file was last closed cleanly, so
//! `store_check = "auto"` skips the start-time `quick_check` (a full read of the file:
//! about 20 s on a 307 MB store); a SIGKILL, a crash or a power cut leaves no marker and the
//! check runs.

use super::StoreError;
use config::StoreCheck;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

const MARKER: &str = "emg.clean";

fn marker(dir: &Path) -> PathBuf {
    dir.join(MARKER)
}

fn io_err(what: &str, path: &Path, e: io::Error) -> StoreError {
    StoreError::Database(format!("cannot {what} {}: {e}", path.display()))
}

/// Whether the store's file is to be checked now (by `check`, and for `auto` by the marker
/// in `dir`); the marker is removed either way, durably, so a crash from here on leaves none.
/// A store about to be created (`new_store`) has nothing to check and no last run to speak of.
pub(super) fn at_start(dir: &Path, check: StoreCheck, new_store: bool) -> Result<bool, StoreError> {
    let path = marker(dir);
    let clean = match fs::remove_file(&path) {
        Ok(()) => {
            sync_dir(dir)?;
            true
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(io_err("remove", &path, e)),
    };
    if new_store {
        tracing::info!("store check: a new store, nothing to check");
        return Ok(false);
    }
    let run = match check {
        StoreCheck::Always => true,
        StoreCheck::Never => false,
        StoreCheck::Auto => !clean,
    };
    match (run, clean) {
        (true, false) => tracing::info!(
            "store check: emgd did not shut down cleanly last time (no {MARKER}); running quick_check"
        ),
        (true, true) => tracing::info!("store check: store_check = \"always\"; running quick_check"),
        (false, true) => {
            tracing::info!("store check skipped: emgd shut down cleanly last time ({MARKER})")
        }
        (false, false) => tracing::warn!(
            "store check skipped (store_check = \"never\") although emgd did not shut down cleanly last time"
        ),
    }
    Ok(run)
}

/// Writes the marker after a clean close (the file synced, then its directory).
pub(super) fn at_exit(dir: &Path) -> Result<(), StoreError> {
    let path = marker(dir);
    let file = File::create(&path).map_err(|e| io_err("create", &path, e))?;
    file.sync_all().map_err(|e| io_err("sync", &path, e))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("sync", dir, e))
}

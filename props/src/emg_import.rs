//! The EMG configuration importer (`emgd --import-emg`): EMG's server.cfg and the files it
//! names (users, routing table, mapping, retry and blacklist files).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ::config::emg::{import, ImportError};

/// Starts a file other than server.cfg in the input: `\n%%% NAME\n` then its content.
const FILE_MARK: &str = "\n%%% ";

/// The input is server.cfg, then other files of the EMG directory, each after a line
/// `%%% NAME`. Property (the importer's promise): EMG text is refused with a syntax error, or
/// imported to an emg.toml that loads; never a panic, never an output that does not load.
pub fn import_emg(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Named files are read: keep the fuzzer off devices that never end (`/dev/zero`).
    if ["dev/", "proc/", "sys/"].iter().any(|d| text.contains(d)) {
        return;
    }
    let dir = Scratch::new();
    let emg = dir.0.join("emg");
    std::fs::create_dir_all(&emg).expect("scratch dir");
    let mut parts = text.split(FILE_MARK);
    std::fs::write(emg.join("server.cfg"), parts.next().unwrap_or_default()).expect("write");
    for part in parts {
        let (name, content) = part.split_once('\n').unwrap_or((part, ""));
        let name = Path::new(name.trim());
        // Only plain names inside the EMG directory.
        if name.components().count() == 1 && name.file_name().is_some() {
            let _ = std::fs::write(emg.join(name), content);
        }
    }
    let target = dir.0.join("out/emg.toml");
    match import(&emg, &target, ::config::applies::RUNS) {
        Ok(imported) => {
            if let Err(e) = ::config::load(&imported.config) {
                let toml = std::fs::read_to_string(&imported.config).unwrap_or_default();
                panic!("the imported configuration does not load:\n{e}\n---\n{toml}");
            }
        }
        Err(ImportError::Invalid(e)) => panic!("the importer gave up on its own output:\n{e}"),
        Err(_) => {}
    }
}

/// A directory of its own for one import, removed afterwards (tests run checks in parallel).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("props-emg-import-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

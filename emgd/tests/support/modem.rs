//! The modem simulator `emgmodem` (tests/src/modem) for emgd's end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// emgmodem is the tests package's binary: build it for this profile (a no-op when fresh)
/// and return its path beside emgd.
pub fn emgmodem() -> PathBuf {
    let dir = Path::new(super::EMGD)
        .parent()
        .expect("emgd has a directory");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "-p",
            "tests",
            "--bin",
            "emgmodem",
            "--manifest-path",
        ])
        .arg(&manifest);
    if dir.ends_with("release") {
        build.arg("--release");
    }
    assert!(
        build.status().expect("cargo runs").success(),
        "cannot build emgmodem"
    );
    let bin = dir.join("emgmodem");
    assert!(bin.exists(), "no emgmodem in {}", dir.display());
    bin
}

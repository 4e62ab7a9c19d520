//! Snapshot tests: every `tests/broken/NAME.toml` must fail with exactly the diagnostics in
//! `NAME.expected` (paths shown relative to `tests/broken/`).
//!
//! Run with `BLESS=1` to rewrite the `.expected` files after an intended change, then review the
//! diff.

use std::path::{Path, PathBuf};

fn broken_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/broken")
}

/// Full diagnostic output for one broken config, with the directory prefix removed.
fn render(path: &Path) -> String {
    let err = match config::load(path) {
        Ok(_) => panic!("{} unexpectedly loaded without errors", path.display()),
        Err(e) => e,
    };
    assert!(!err.diagnostics.is_empty());
    let prefix = format!("{}/", broken_dir().display());
    format!("{err}\n").replace(&prefix, "")
}

#[test]
fn broken_configs_match_expected_diagnostics() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(broken_dir())
        .expect("tests/broken exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 6, "corpus too small: {cases:?}");
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let actual = render(case);
        let expected_path = case.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &actual).expect("write .expected");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        if actual != expected {
            failures.push(format!(
                "=== {}\n--- expected\n{expected}--- actual\n{actual}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_expected_file_has_a_config() {
    for entry in std::fs::read_dir(broken_dir()).expect("tests/broken exists") {
        let path = entry.expect("readable dir entry").path();
        if path.extension().is_some_and(|e| e == "expected") {
            assert!(
                path.with_extension("toml").exists(),
                "stale snapshot {}",
                path.display()
            );
        }
    }
}

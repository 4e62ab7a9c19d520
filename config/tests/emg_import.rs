//! `emgd --import-emg` on a corpus of EMG configurations built from every sample in EMG's
//! user's guides (tests/emg_import/CASE/server.cfg and the files it names): each converts,
//! the result loads as `--check-config` would load it, and its warnings and its emg.toml are
//! exactly those in CASE/expected.warnings and CASE/expected.toml.
//!
//! Run with `BLESS=1` to rewrite the expected files after an intended change; review the diff.

use config::{Direction, Protocol};
use std::path::{Path, PathBuf};

/// The kinds this build runs, as `emgd --import-emg` takes them: the snapshots are what the
/// operator sees (emgd/tests/import_emg.rs checks the real binary prints the same warnings), so
/// they move, legitimately, when emgd runs a new protocol.
const AVAILABLE: &[(Protocol, Direction)] = config::applies::RUNS;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emg_import")
}

#[test]
fn every_sample_converts_loads_and_warns_exactly() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "{cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("emg.toml");
        let imported = config::emg::import(case, &target, AVAILABLE)
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        let cfg = config::load(&target)
            .unwrap_or_else(|e| panic!("{}: the result does not load:\n{e}", case.display()));
        assert!(!cfg.connectors.is_empty() || cfg.general.mgp_address.is_some());
        let prefix = format!("{}/", case.display());
        let warnings: String = imported
            .warnings
            .iter()
            .map(|w| format!("{}\n", w.to_string().replace(&prefix, "")))
            .collect();
        let toml: String = std::fs::read_to_string(&target)
            .unwrap()
            .lines()
            .map(|l| {
                if l.starts_with("masquerade_key = ") {
                    "masquerade_key = \"(random)\"\n".to_string()
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        for (name, actual) in [("expected.warnings", &warnings), ("expected.toml", &toml)] {
            let path = case.join(name);
            if bless {
                std::fs::write(&path, actual).unwrap();
            } else if std::fs::read_to_string(&path).unwrap_or_default() != *actual {
                failures.push(format!(
                    "{}/{name} differs; actual:\n{actual}",
                    case.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_existing_target_is_never_overwritten() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("emg.toml");
    std::fs::write(&target, "# mine\n").unwrap();
    let e =
        config::emg::import(&corpus().join("user-guide-sample"), &target, AVAILABLE).unwrap_err();
    assert!(e
        .to_string()
        .ends_with("exists already; give another --config, or move it away first"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "# mine\n");
}

/// EMG's comments are carried into emg.toml, where TOML allows no control character but tab:
/// a NUL in one made an output that did not load (found by the emg_import fuzz target,
/// fuzz/regressions/emg_import/).
#[test]
fn control_characters_in_emg_comments_do_not_break_the_output() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(
        src.path().join("server.cfg"),
        "# bootstrap con\u{0}figuration\u{7f}\nCONNECTOR smpp-in1 <\n# in\u{1b}side\tit\nTYPE=INCOMING\nPROTOCOL=SMPP\nADDRESS=0.0.0.0:2775\n>\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("emg.toml");
    config::emg::import(src.path(), &target, AVAILABLE).unwrap();
    let toml = std::fs::read_to_string(&target).unwrap();
    assert!(
        toml.contains("# bootstrap con\u{fffd}figuration\u{fffd}"),
        "{toml}"
    );
    assert!(toml.contains("in\u{fffd}side\tit"), "{toml}");
    config::load(&target).unwrap();
}

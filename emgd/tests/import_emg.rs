//! `emgd --import-emg` as an operator runs it, on every case of the import corpus
//! (config/tests/emg_import, where the output is checked exactly): the real binary writes the
//! configuration and the files, lists on stderr exactly the warnings of the case's
//! expected.warnings, and the result passes `emgd --check-config`; an existing file is never
//! overwritten.

mod support;

use std::path::Path;
use std::process::Command;
use support::EMGD;

#[test]
fn every_corpus_case_imports_and_passes_check_config() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/tests/emg_import");
    let mut cases: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5);
    for case in cases {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("etc/emg.toml");
        let import = Command::new(EMGD)
            .arg("--import-emg")
            .arg(&case)
            .arg("--config")
            .arg(&target)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&import.stderr);
        let stdout = String::from_utf8_lossy(&import.stdout);
        assert!(import.status.success(), "{}: {stderr}", case.display());
        let warnings = stderr.lines().count();
        assert!(
            stdout.starts_with(&format!("{}: written", target.display()))
                && stdout.ends_with(&format!(
                    "; {warnings} keywords not carried (listed above); it passes --check-config\n"
                )),
            "{stdout}"
        );
        for line in stderr.lines() {
            assert!(
                line.starts_with(&case.display().to_string()),
                "FILE:LINE first: {line}"
            );
        }
        // Exactly the corpus's warnings (config/tests/emg_import.rs keeps them with the
        // kinds this build runs), in the same order, each FILE:LINE first.
        let prefix = format!("{}/", case.display());
        let want = std::fs::read_to_string(case.join("expected.warnings")).unwrap();
        assert_eq!(
            stderr.replace(&prefix, ""),
            want,
            "{}: emgd's warnings are not the corpus's expected.warnings",
            case.display()
        );
        let check = Command::new(EMGD)
            .arg("--check-config")
            .arg("--config")
            .arg(&target)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}: {}",
            case.display(),
            String::from_utf8_lossy(&check.stderr)
        );
        let again = Command::new(EMGD)
            .arg("--import-emg")
            .arg(&case)
            .arg("--config")
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&again.stderr),
            format!(
                "emgd: {} exists already; give another --config, or move it away first\n",
                target.display()
            )
        );
    }
}

#[test]
fn a_broken_server_cfg_is_an_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("server.cfg");
    std::fs::write(&cfg, "CONNECTOR a <\nTYPE=INCOMING\n").unwrap();
    let out = Command::new(EMGD)
        .arg("--import-emg")
        .arg(&cfg)
        .arg("--config")
        .arg(dir.path().join("emg.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "emgd: {}:1: section CONNECTOR a is never closed with `>`\n",
            cfg.display()
        )
    );
    assert!(!dir.path().join("emg.toml").exists());
}

/// The kinds emgd runs are `config::applies::RUNS`, by protocol and direction: an outgoing EBE
/// connector and an incoming UCP one are carried, an incoming GSM connector (emgd's GSM is
/// outgoing only) is written commented out with its warning.
#[test]
fn the_kinds_carried_are_those_emgd_runs() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("server.cfg");
    std::fs::write(
        &cfg,
        "CONNECTOR ebe1 <\nTYPE=OUTGOING\nPROTOCOL=EBE\nADDRESS=/bin/true\nINSTANCES=1\n>\n\
         CONNECTOR ucp-in <\nTYPE=INCOMING\nPROTOCOL=UCP\nADDRESS=0.0.0.0:9001\n>\n\
         CONNECTOR gsm-in <\nTYPE=INCOMING\nPROTOCOL=GSM\nADDRESS=/dev/ttyUSB0\n>\n",
    )
    .unwrap();
    let target = dir.path().join("emg.toml");
    let out = Command::new(EMGD)
        .arg("--import-emg")
        .arg(&cfg)
        .arg("--config")
        .arg(&target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("is not available in this build"))
            .collect::<Vec<_>>(),
        [format!(
            "{}:12: CONNECTOR gsm-in: protocol GSM is not available in this build of emg; the \
             connector is written commented out",
            cfg.display()
        )],
        "{stderr}"
    );
    let toml = std::fs::read_to_string(&target).unwrap();
    assert!(toml.contains("\n[connector.ebe1]\n"), "{toml}");
    assert!(toml.contains("\n[connector.ucp-in]\n"), "{toml}");
    assert!(!toml.contains("\n[connector.gsm-in]"), "{toml}");
    assert!(toml.contains("# CONNECTOR gsm-in <"), "{toml}");
}

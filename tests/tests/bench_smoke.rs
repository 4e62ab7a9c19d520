//! The benchmark harness keeps working: `emgbench --quick` (what `bench/run --quick` runs)
//! against the real emgd and emgsmsc binaries, a few thousand messages per scenario. This is a
//! test of the harness, not of speed: it checks that every scenario yields a row with figures
//! (or, for HTTP, says why it cannot run), never a timing.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Scenario 3 needs the incoming HTTP connector. Without one its row must say
/// `not available: ...`; with it (now), both of its rows must carry figures.
const HTTP_AVAILABLE: bool = true;

/// emgd is another package's binary: build it for this profile (a no-op when it is fresh)
/// and return the directory holding it beside emgbench and emgsmsc.
fn bin_dir() -> PathBuf {
    let bench = Path::new(env!("CARGO_BIN_EXE_emgbench"));
    let dir = bench
        .parent()
        .expect("emgbench has a directory")
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let mut build = Command::new(cargo);
    build
        .args([
            "build",
            "--quiet",
            "-p",
            "emgd",
            "--bin",
            "emgd",
            "--manifest-path",
        ])
        .arg(&manifest);
    if dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "cannot build emgd");
    assert!(dir.join("emgd").exists(), "no emgd in {}", dir.display());
    dir
}

fn figure(row: &Value, key: &str) -> f64 {
    row[key].as_f64().unwrap_or(0.0)
}

fn percentiles_present(row: &Value, key: &str) -> bool {
    row[key]
        .as_array()
        .is_some_and(|p| p.len() == 3 && p.iter().all(|v| v.as_f64().is_some_and(|x| x > 0.0)))
}

#[test]
fn quick_run_gives_every_scenario_a_row() {
    let bins = bin_dir();
    let work = tempfile::tempdir().unwrap();
    let json = work.path().join("rows.json");
    let out = Command::new(env!("CARGO_BIN_EXE_emgbench"))
        .arg("--quick")
        .arg("--bin-dir")
        .arg(&bins)
        .arg("--dir")
        .arg(work.path().join("runs"))
        .arg("--json")
        .arg(&json)
        .output()
        .expect("emgbench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "emgbench failed:\n{stdout}\n{stderr}");
    let rows: Vec<Value> = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let of = |n: u64| -> Vec<&Value> { rows.iter().filter(|r| r["scenario"] == n).collect() };

    // SMPP, protocol-conversion and application (MGP in, EBE out) scenarios: every figure
    // there, every message accounted for.
    for n in [1, 2, 4, 5, 9, 10, 14, 15] {
        let r = of(n);
        assert_eq!(r.len(), 1, "scenario {n}: one row\n{stdout}");
        let r = r[0];
        assert!(
            r["unavailable"].is_null(),
            "scenario {n}: {}",
            r["unavailable"]
        );
        assert!(r["messages"].as_u64().unwrap() >= 500, "scenario {n}");
        for key in [
            "accepted_per_s",
            "delivered_per_s",
            "cpu_s_per_100k",
            "peak_rss_mb",
        ] {
            assert!(figure(r, key) > 0.0, "scenario {n}: {key} is {}", r[key]);
        }
        assert!(percentiles_present(r, "resp_ms"), "scenario {n}: resp_ms");
        if n == 15 {
            let notes = r["notes"].as_str().unwrap();
            assert!(notes.contains("programs' CPU"), "scenario 15: {notes}");
        }
        if n == 5 {
            let notes = r["notes"].as_str().unwrap();
            assert!(
                notes.contains("plugins cost"),
                "scenario 5 compared: {notes}"
            );
        }
        if n == 4 {
            let notes = r["notes"].as_str().unwrap();
            for part in ["queued", "after restart", "restart", "drain"] {
                assert!(
                    notes.contains(part),
                    "scenario 4 notes lack {part:?}: {notes}"
                );
            }
        } else {
            assert!(figure(r, "dlrs_per_s") > 0.0, "scenario {n}: DLRs/s");
            assert!(percentiles_present(r, "dlr_ms"), "scenario {n}: dlr_ms");
        }
    }

    // GSM through the modem simulator: every message reached the modem (no receipts there).
    let r11 = of(11);
    assert_eq!(r11.len(), 1, "scenario 11: one row\n{stdout}");
    assert!(
        r11[0]["unavailable"].is_null(),
        "scenario 11: {}",
        r11[0]["unavailable"]
    );
    for key in ["accepted_per_s", "delivered_per_s", "cpu_s_per_100k"] {
        assert!(
            figure(r11[0], key) > 0.0,
            "scenario 11: {key} is {}",
            r11[0][key]
        );
    }

    // HTTP: figures once emgd has the connector, until then the reason.
    let r3 = of(3);
    if HTTP_AVAILABLE {
        assert_eq!(
            r3.len(),
            2,
            "scenario 3: without and with callbacks\n{stdout}"
        );
        for r in &r3 {
            assert!(
                r["unavailable"].is_null(),
                "scenario 3: {}",
                r["unavailable"]
            );
            assert!(figure(r, "accepted_per_s") > 0.0 && figure(r, "delivered_per_s") > 0.0);
        }
        assert!(
            percentiles_present(r3[1], "dlr_ms"),
            "scenario 3: callback latency"
        );
    } else {
        assert_eq!(r3.len(), 1, "{stdout}");
        let why = r3[0]["unavailable"].as_str().unwrap_or_default();
        assert!(why.starts_with("not available: "), "scenario 3: {why:?}");
    }

    // The table: a caption, a header and one line per row, each scenario by number and name.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2 + rows.len(), "{stdout}");
    assert!(lines[1].contains("accepted/s") && lines[1].contains("peak RSS MB"));
    for (line, row) in lines[2..].iter().zip(&rows) {
        let name = row["name"].as_str().unwrap();
        assert!(
            line.trim_start().starts_with(&row["scenario"].to_string()) && line.contains(name),
            "{line:?} is not the row of {name}"
        );
    }
}

/// The opt-in scenarios keep working too: the store-size run (6) and the side-by-side run with
/// Kannel (7), which needs Debian's kannel and node (scripts/test installs both).
#[test]
fn quick_store_size_and_kannel_side_by_side_give_their_rows() {
    let bins = bin_dir();
    let work = tempfile::tempdir().unwrap();
    let json = work.path().join("rows.json");
    let out = Command::new(env!("CARGO_BIN_EXE_emgbench"))
        .args(["--quick", "--scenario", "6", "--kannel", "--bin-dir"])
        .arg(&bins)
        .arg("--dir")
        .arg(work.path().join("runs"))
        .arg("--json")
        .arg(&json)
        .output()
        .expect("emgbench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "emgbench failed:\n{stdout}\n{stderr}");
    let rows: Vec<Value> = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let of = |n: u64| -> Vec<&Value> { rows.iter().filter(|r| r["scenario"] == n).collect() };
    let size = of(6);
    assert_eq!(size.len(), 1, "{stdout}");
    assert!(figure(size[0], "cpu_s_per_100k") > 0.0);
    let notes = size[0]["notes"].as_str().unwrap();
    assert!(
        notes.contains("store MB") && notes.contains("purged"),
        "{notes}"
    );
    let side = of(7);
    let names: Vec<&str> = side.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "emg HTTP>SMPP, no receipts",
            "Kannel HTTP>SMPP, no receipts",
            "emg HTTP>SMPP, a DLR callback each",
            "Kannel HTTP>SMPP, a DLR callback each"
        ],
        "{stdout}"
    );
    for r in &side {
        assert!(r["unavailable"].is_null(), "{}", r["unavailable"]);
        assert!(figure(r, "accepted_per_s") > 0.0 && figure(r, "delivered_per_s") > 0.0);
    }
    assert!(percentiles_present(side[3], "dlr_ms"), "Kannel's callbacks");
    for variant in ["without receipts", "with a DLR callback each"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(variant) && l.contains("emg uses 1/")),
            "no ratio {variant:?}:\n{stdout}"
        );
    }
}

/// The soak (13) for one minute at `--quick` sizes: every message, receipt and callback of the
/// minute arrives across the connector's bounce (emgsmsc sends a closed session's waiting
/// receipts on the next one), and the row carries the series.
#[test]
fn quick_soak_minute_loses_no_receipt_across_the_bounce() {
    let bins = bin_dir();
    let work = tempfile::tempdir().unwrap();
    let json = work.path().join("rows.json");
    let out = Command::new(env!("CARGO_BIN_EXE_emgbench"))
        .args(["--quick", "--soak", "1", "--bin-dir"])
        .arg(&bins)
        .arg("--dir")
        .arg(work.path().join("runs"))
        .arg("--json")
        .arg(&json)
        .output()
        .expect("emgbench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "emgbench failed:\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("(3500 messages)"),
        "the progress line counts the soak's messages:\n{stderr}"
    );
    let rows: Vec<Value> = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let soak: Vec<&Value> = rows.iter().filter(|r| r["scenario"] == 13).collect();
    assert_eq!(soak.len(), 1, "{stdout}");
    assert!(
        soak[0]["unavailable"].is_null(),
        "{}",
        soak[0]["unavailable"]
    );
    assert_eq!(soak[0]["messages"], 3500, "{stdout}");
    let notes = soak[0]["notes"].as_str().unwrap();
    assert!(notes.contains("series") && notes.contains("1: "), "{notes}");
    assert!(
        stderr.contains("3000/3000") && stderr.contains("500/500"),
        "{stderr}"
    );
}

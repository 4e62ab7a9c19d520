//! Every fuzz target's property, on stable, in the normal suite: proptest drives each check
//! with random bytes and with the seed corpus mutated (bytes changed, cut, inserted), and every
//! input the fuzzer ever failed on (`fuzz/regressions/TARGET/`) is replayed.
//!
//! The round-trip targets read their bytes through `arbitrary`, so random bytes are already
//! random valid values for them: this covers the same round trips as `cargo fuzz`, without
//! coverage guidance.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `fuzz/DIR/TARGET/`, sorted; none when the directory does not exist.
fn inputs(dir: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join(dir).join(target)) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.expect("dir entry").path()).collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).expect("read input");
            (p, data)
        })
        .collect()
}

/// A seed of `target` (or nothing) with up to eight edits.
fn mutated(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Vec<u8>> = inputs("seeds", target)
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    let n = seeds.len().max(1);
    (
        0..n,
        proptest::collection::vec((0..3u8, any::<prop::sample::Index>(), any::<u8>()), 0..8),
    )
        .prop_map(move |(i, edits)| {
            let mut data = seeds.get(i).cloned().unwrap_or_default();
            for (kind, at, byte) in edits {
                let pos = at.index(data.len() + 1);
                match kind {
                    0 if pos < data.len() => data[pos] = byte,
                    1 => data.truncate(pos),
                    _ => data.insert(pos, byte),
                }
            }
            data
        })
}

/// Runs `strategy` through every target; on a failure, names the target and shows the
/// smallest input proptest found, ready to be saved under `fuzz/regressions/TARGET/`.
fn every_target<S: Strategy<Value = Vec<u8>>>(what: &str, strategy: impl Fn(&'static str) -> S) {
    for t in props::TARGETS {
        let config = ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        let mut runner = proptest::test_runner::TestRunner::new(config);
        let result = runner.run(&strategy(t.name), |data| {
            (t.check)(&data);
            Ok(())
        });
        match result {
            Ok(()) => {}
            Err(proptest::test_runner::TestError::Fail(why, data)) => {
                let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
                    .join("regressions")
                    .join(t.name);
                std::fs::create_dir_all(&dir).expect("create regression dir");
                let file = dir.join(format!("proptest-{}", data.len()));
                std::fs::write(&file, &data).expect("write regression input");
                panic!(
                    "{} on {what}: {why}\nsmallest input saved as {} (copy it to fuzz/regressions/{}/ with the fix)",
                    t.name,
                    file.display(),
                    t.name
                );
            }
            Err(e) => panic!("{} on {what}: {e}", t.name),
        }
    }
}

#[test]
fn random_bytes() {
    every_target("random bytes", |_| {
        proptest::collection::vec(any::<u8>(), 0..1024)
    });
}

#[test]
fn mutated_seeds() {
    every_target("mutated seeds", mutated);
}

/// Every input a fuzzer failed on stays fixed.
#[test]
fn regressions() {
    for t in props::TARGETS {
        for (path, data) in inputs("regressions", t.name) {
            eprintln!("replaying {}", path.display());
            (t.check)(&data);
        }
    }
}

/// `props::TARGETS`, `fuzz/Cargo.toml` and `fuzz/fuzz_targets/` name the same targets: one
/// added to one list and not the others fails here.
#[test]
fn targets_match() {
    let mut want: Vec<String> = props::TARGETS.iter().map(|t| t.name.to_string()).collect();
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let mut bins: Vec<String> = manifest
        .lines()
        .filter_map(|l| l.trim().strip_prefix("{ name = \""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_string)
        .collect();
    let mut files: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .map(|e| {
            let name = e.expect("dir entry").file_name();
            name.to_string_lossy().trim_end_matches(".rs").to_string()
        })
        .collect();
    want.sort();
    bins.sort();
    files.sort();
    assert_eq!(bins, want, "fuzz/Cargo.toml bin list vs props::TARGETS");
    assert_eq!(files, want, "fuzz/fuzz_targets/ vs props::TARGETS");
}

//! man/emgclient.1 and one page per subcommand (man/emgclient-hold.1, emgclient-queue-list.1
//! ...: the pages emgclient.1 points to), and the shell completions the package installs
//! (packaging/completions), are generated from the clap definition; this fails when any goes
//! stale or a page is left over. Regenerate with `BLESS=1 cargo test -p emgclient --test
//! man_page`.

use clap::CommandFactory;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every page: the command's, then each subcommand's (as clap_mangen::generate_to names them).
fn pages() -> BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    clap_mangen::generate_to(emgclient::cli::Cli::command(), dir.path()).unwrap();
    std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Compare (or with BLESS write) `expected` against the files in `dir` whose names match
/// `ours`; a file there that is no longer generated is stale too.
fn check(dir: &Path, expected: &BTreeMap<String, Vec<u8>>, ours: impl Fn(&str) -> bool) {
    let bless = std::env::var_os("BLESS").is_some();
    let present: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| ours(n))
        .collect();
    let mut stale = Vec::new();
    for name in &present {
        if !expected.contains_key(name) {
            if bless {
                std::fs::remove_file(dir.join(name)).unwrap();
            } else {
                stale.push(format!("{name} (no longer generated)"));
            }
        }
    }
    for (name, text) in expected {
        let path = dir.join(name);
        if bless {
            std::fs::write(&path, text).unwrap();
        } else if std::fs::read(&path).unwrap_or_default() != *text {
            stale.push(name.clone());
        }
    }
    assert!(
        stale.is_empty(),
        "stale in {}: {stale:?}; run BLESS=1 cargo test -p emgclient --test man_page",
        dir.display()
    );
}

#[test]
fn man_pages_match_the_command_line() {
    let pages = pages();
    assert!(pages.contains_key("emgclient.1"));
    assert!(pages.contains_key("emgclient-hold.1"));
    assert!(pages.contains_key("emgclient-queue-list.1"));
    // Every page a page points to exists.
    for (name, text) in &pages {
        for r in String::from_utf8_lossy(text)
            .split_whitespace()
            .filter(|w| w.starts_with("emgclient\\-") && w.ends_with("(1)"))
        {
            let page = format!("{}.1", r.trim_end_matches("(1)").replace("\\-", "-"));
            assert!(
                pages.contains_key(&page),
                "{name} points to {r}, not generated"
            );
        }
    }
    check(&root().join("man"), &pages, |n| {
        n.starts_with("emgclient") && n.ends_with(".1")
    });
}

#[test]
fn completions_match_the_command_line() {
    use clap_complete::Shell;
    let mut scripts = BTreeMap::new();
    for (shell, file) in [
        (Shell::Bash, "emgclient.bash"),
        (Shell::Zsh, "_emgclient"),
        (Shell::Fish, "emgclient.fish"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(
            shell,
            &mut emgclient::cli::Cli::command(),
            "emgclient",
            &mut out,
        );
        scripts.insert(file.to_string(), out);
    }
    check(&root().join("packaging/completions"), &scripts, |_| true);
}

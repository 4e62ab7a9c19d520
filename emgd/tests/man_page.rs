//! man/emgd.8 and man/emgd-watchdog.8 are generated from the clap definition; this fails when
//! they go stale. Regenerate with `BLESS=1 cargo test -p emgd --test man_page`.

use clap::CommandFactory;
use std::path::Path;

/// The command's page and one per subcommand, in section 8.
fn pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = emgd::cli::Args::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    let mut todo = vec![cmd];
    while let Some(c) = todo.pop() {
        todo.extend(c.get_subcommands().cloned());
        let man = clap_mangen::Man::new(c).section("8");
        let mut text = Vec::new();
        man.render(&mut text).unwrap();
        out.push((man.get_filename(), text));
    }
    out
}

#[test]
fn emgd_8_matches_the_command_line() {
    let pages = pages();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["emgd.8", "emgd-watchdog.8"]);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../man");
    for (name, text) in pages {
        let path = dir.join(&name);
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let checked_in = std::fs::read(&path).unwrap_or_default();
        assert!(
            checked_in == text,
            "man/{name} is stale: run BLESS=1 cargo test -p emgd --test man_page"
        );
    }
}

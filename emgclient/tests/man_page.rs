//! man/emgclient.1 is generated from the clap definition; this fails when it goes stale.
//! Regenerate with `BLESS=1 cargo test -p emgclient --test man_page`.

use clap::CommandFactory;
use std::path::Path;

#[test]
fn emgclient_1_matches_the_command_line() {
    let mut rendered = Vec::new();
    clap_mangen::Man::new(emgclient::cli::Cli::command())
        .section("1")
        .render(&mut rendered)
        .unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../man/emgclient.1");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == rendered,
        "man/emgclient.1 is stale: run BLESS=1 cargo test -p emgclient --test man_page"
    );
}

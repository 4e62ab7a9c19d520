//! man/emgd.8 is generated from the clap definition; this fails when it goes stale.
//! Regenerate with `BLESS=1 cargo test -p emgd --test man_page`.

use clap::CommandFactory;
use std::path::Path;

#[test]
fn emgd_8_matches_the_command_line() {
    let mut rendered = Vec::new();
    clap_mangen::Man::new(emgd::cli::Args::command())
        .section("8")
        .render(&mut rendered)
        .unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../man/emgd.8");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == rendered,
        "man/emgd.8 is stale: run BLESS=1 cargo test -p emgd --test man_page"
    );
}

//! `emgd --check-config`: exit 0 on a good file, 1 listing every problem as
//! FILE:LINE:COL: keyword: what is wrong.

mod support;

use std::path::Path;
use std::process::Command;
use support::EMGD;

fn check(path: &Path) -> (i32, String, String) {
    let out = Command::new(EMGD)
        .arg("--check-config")
        .arg("--config")
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_sample_configuration_is_valid() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/emg.toml");
    let (code, stdout, stderr) = check(&sample);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("configuration OK"), "{stdout}");
}

#[test]
fn every_problem_is_listed_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        r#"[connector.smsc1]
type = "outgoing"
protocol = "sim"
instancse = 2

[connector.smsc2]
type = "outgoing"
protocol = "sim"
instances = "ten"

[connector.a]
inherit = "b"

[connector.b]
inherit = "a"

[[route]]
to = "smsc9"
"#,
    )
    .unwrap();
    let (code, stdout, stderr) = check(&path);
    assert_eq!(code, 1, "{stdout}");
    let p = path.display();
    for expected in [
        format!("{p}:4:1: connector.smsc1.instancse: unknown keyword; did you mean `instances`?"),
        format!("{p}:9:13: connector.smsc2.instances: expected an integer, found a string"),
        format!("{p}:18:6: route[0].to: unknown connector or group `smsc9`; did you mean `smsc1`?"),
    ] {
        assert!(
            stderr.lines().any(|l| l == expected),
            "missing line\n  {expected}\nin\n{stderr}"
        );
    }
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with(&format!("{p}:12:11: connector.a.inherit: inheritance loop"))),
        "inheritance loop reported at a's inherit value:\n{stderr}"
    );
}

#[test]
fn a_route_to_an_incoming_http_connector_needs_its_mo_url() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mo.toml");
    std::fs::write(
        &path,
        r#"[connector.api]
type = "incoming"
protocol = "http"
address = "127.0.0.1:8080"

[connector.smsc]
type = "outgoing"
protocol = "sim"
route = "api"
mo_url = "http://app/mo"

[connector.app2]
type = "incoming"
protocol = "http"
address = "127.0.0.1:8081"
mo_url = "app/mo"

[group.apps]
members = ["api"]

[[route]]
to = "apps"
"#,
    )
    .unwrap();
    let (code, stdout, stderr) = check(&path);
    assert_eq!(code, 1, "{stdout}");
    let p = path.display();
    let no_url = "has no `mo_url` to push the messages routed to it to; set `mo_url` on it";
    let expected = [
        format!("{p}:9:9: connector.smsc.route: incoming HTTP connector `api` {no_url}"),
        format!("{p}:10:10: connector.smsc.mo_url: only meaningful for incoming `http` connectors"),
        format!("{p}:16:10: connector.app2.mo_url: `app/mo` is not an http:// or https:// URL"),
        format!("{p}:22:6: route[0].to: incoming HTTP connector `api` {no_url}, or name a `user` with one on the route"),
    ];
    assert_eq!(stderr.lines().collect::<Vec<_>>(), expected, "{stderr}");
}

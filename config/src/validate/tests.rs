use super::*;

fn errors(text: &str) -> Vec<String> {
    match build(text, Path::new("t.toml")) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn inherited_bad_value_is_reported_once() {
    let text = "[connector.base]\nvirtual = true\ntype = \"outgoing\"\nprotocol = \"smpp\"\n\
                    address = \"nohost\"\n\n[connector.a]\ninherit = \"base\"\n\n\
                    [connector.b]\ninherit = \"base\"\n";
    assert_eq!(
            errors(text),
            ["t.toml:5:11: connector.base.address: `nohost` is not host:port (e.g. 127.0.0.1:2775 or [::1]:2775)"]
        );
}

#[test]
fn virtual_is_not_inherited_and_child_wins() {
    let text = "[connector.base]\nvirtual = true\ntype = \"outgoing\"\nprotocol = \"sim\"\n\
                    latency_ms = 7\ninstances = 2\n\n[connector.a]\ninherit = \"base\"\ninstances = 3\n";
    let cfg = build(text, Path::new("t.toml")).expect("valid");
    assert_eq!(cfg.connectors.len(), 1);
    let a = &cfg.connectors["a"];
    assert_eq!((a.instances, a.sim.latency_ms), (3, 7));
}

#[test]
fn collects_every_problem_in_position_order() {
    let text = "zz = 1\n[[route]]\nto = \"nowhere\"\n[user.u]\npassword = 5\n";
    assert_eq!(
        errors(text),
        [
            "t.toml:1:1: zz: unknown keyword",
            "t.toml:3:6: route[0].to: unknown connector or group `nowhere`",
            "t.toml:5:12: user.u.password: expected a string, found an integer",
        ]
    );
}

#[test]
fn syntax_errors_stop_validation() {
    let errs = errors("zz = 1\nx = [\n");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("t.toml:2:6: syntax: unclosed array"),
        "{errs:?}"
    );
}

#[test]
fn retry_scheme_relative_to_config_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("r.retry"), "M* * 0 0 0 9 1\n").expect("write");
    let path = dir.path().join("emg.toml");
    let cfg = build("retryscheme = \"r.retry\"\n", &path).expect("valid");
    assert_eq!(cfg.general.retryscheme.rules.len(), 1);
}

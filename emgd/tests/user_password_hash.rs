//! `[user.NAME] password_hash` (an Argon2 PHC string, as `emgclient passwd` prints): python
//! smpplib binds and curl's HTTP requests with the right password get in, wrong ones are
//! refused, and a malformed hash or both keywords are refused at `--check-config`.

mod support;

use argon2::password_hash::{PasswordHasher, SaltString};
use std::process::Command;
use std::time::{Duration, Instant};
use support::peers::curl;
use support::{smpplib, Setup};
use tests::daemon::free_port;

/// What `emgclient passwd` prints: Argon2id with the crate's defaults and a random salt.
/// (The test's password has 8 characters: SMPP's bind password field holds at most 8.)
fn passwd(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string()
}

#[test]
fn hashed_user_passwords_admit_smpp_binds_and_http_requests() {
    let http = free_port();
    let extra = format!(
        r#"
[user.hashed]
password_hash = "{}"

[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"
"#,
        passwd("Tr0ub&3x")
    );
    let setup = Setup::new("", "", &extra);
    let mut daemon = setup.start();

    let r = smpplib(
        setup.smpp_port,
        &["--bind-only", "--user", "hashed", "--password", "Tr0ub&3x"],
    );
    assert_eq!(r["bound"], true, "{r}");
    for wrong in ["Tr0ub&3", "tr0ub&3x", ""] {
        let r = smpplib(
            setup.smpp_port,
            &["--bind-only", "--user", "hashed", "--password", wrong],
        );
        assert_eq!(r["bind_error"], 14, "{wrong:?}: ESME_RINVPASWD: {r}");
    }
    // The plain-text users beside it still work.
    let r = smpplib(setup.smpp_port, &["--bind-only"]);
    assert_eq!(r["bound"], true, "{r}");

    let send = |password: &str| {
        curl(
            &format!("http://127.0.0.1:{http}/bin/send?username=hashed&password={password}&from=emg&to=4670123&text=hi"),
            &[],
        )
    };
    let (code, body) = send("Tr0ub%263x");
    assert!(code == 200 || code == 202, "{code} {body}");
    let (code, body) = send("wrong");
    assert_eq!(code, 401, "{body}");
    // Once verified, the pair is remembered: 50 requests do not pay Argon2 each.
    let started = Instant::now();
    for _ in 0..50 {
        let (code, body) = send("Tr0ub%263x");
        assert!(code == 200 || code == 202, "{code} {body}");
    }
    let per_request = started.elapsed() / 50;
    eprintln!(
        "HTTP with a hashed password, remembered: {per_request:?} per request (curl included)"
    );
    assert!(per_request < Duration::from_secs(1));
    daemon.terminate(Duration::from_secs(30)).unwrap();
}

#[test]
fn malformed_hash_or_both_keywords_are_refused_where_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("emg.toml");
    let text = format!(
        "mgp_address = \"\"\n\n[user.a]\npassword_hash = \"md5:abc\"\n\n[user.b]\npassword = \"x\"\npassword_hash = \"{}\"\n",
        passwd("x")
    );
    std::fs::write(&path, text).unwrap();
    let out = Command::new(support::EMGD)
        .arg("--check-config")
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let file = path.display();
    for line in [
        format!("{file}:4:17: user.a.password_hash: not an Argon2 hash"),
        format!(
            "{file}:7:12: user.b.password: give either `password_hash` or `password`, not both"
        ),
    ] {
        assert!(stderr.contains(&line), "missing:\n{line}\nin:\n{stderr}");
    }
}

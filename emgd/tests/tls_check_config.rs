//! `emgd --check-config` on TLS settings and on the files a configuration names: weak or
//! broken settings refused at FILE:LINE:COL, a FIFO or device refused instead of hanging.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::EMGD;
use tests::certs::Ca;

/// `emgd --check-config` on `path`, killed after 30 s (a hang is a failure, not a wait):
/// exit code and standard error.
fn check(path: &Path) -> (i32, String) {
    let mut child = Command::new(EMGD)
        .arg("--check-config")
        .arg("--config")
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("emgd --check-config hangs on {}", path.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

#[test]
fn weak_or_broken_tls_settings_are_refused_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    ca.issue("server");
    ca.issue("other");
    ca.issue_expired("old");
    mkfifo(&dir.path().join("fifo.pem"));
    let text = r#"mgp_address = ""
metrics_address = "127.0.0.1:9"
metrics_tls_cert = "server.pem"

[connector.expired]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:1"
tls = true
tls_cert = "old.pem"
tls_key = "old-key.pem"

[connector.mismatch]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:2"
tls = true
tls_cert = "server.pem"
tls_key = "other-key.pem"

[connector.weak]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:3"
tls = true
tls_min_version = "1.1"
tls_ca = "fifo.pem"

[connector.plain]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:4"
tls_client_ca = "ca.pem"

[connector.nocert]
type = "incoming"
protocol = "http"
address = "127.0.0.1:5"
tls = true

[connector.mail]
type = "incoming"
protocol = "smtp"
address = "127.0.0.1:6"
tls = true

[connector.out]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:7"
tls = true
tls_client_ca = "ca.pem"
"#;
    let path = dir.path().join("emg.toml");
    std::fs::write(&path, text).unwrap();
    let (code, stderr) = check(&path);
    assert_eq!(code, 1, "{stderr}");
    let file = path.display().to_string();
    let d = dir.path().display().to_string();
    let expect = [
        format!("{file}:3:20: metrics_tls_cert: `metrics_tls_cert` needs `metrics_tls_key` as well: set both (HTTPS) or neither (plain TCP)"),
        format!("{file}:10:12: connector.expired.tls_cert: `{d}/old.pem`: its first certificate expired on "),
        format!("{file}:19:11: connector.mismatch.tls_key: `{d}/other-key.pem`: this key does not fit the certificate"),
        format!("{file}:26:19: connector.weak.tls_min_version: TLS 1.1 is broken (RFC 8996 deprecates it) and refused: use \"1.2\" or \"1.3\""),
        format!("{file}:27:10: connector.weak.tls_ca: cannot read `{d}/fifo.pem`: not a regular file"),
        format!("{file}:33:17: connector.plain.tls_client_ca: `tls_client_ca` needs `tls = true`"),
        format!("{file}:39:7: connector.nocert.tls: an incoming connector on TLS shows a certificate: set `tls_cert` and `tls_key`"),
        format!("{file}:45:7: connector.mail.tls: `smtp` connectors encrypt with STARTTLS"),
        format!("{file}:52:17: connector.out.tls_client_ca: only meaningful for incoming connectors"),
    ];
    for line in &expect {
        assert!(
            stderr.contains(line.as_str()),
            "missing:\n{line}\nin:\n{stderr}"
        );
    }
    assert_eq!(
        stderr.lines().count(),
        expect.len(),
        "one line each:\n{stderr}"
    );
}

#[test]
fn good_tls_settings_pass() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    ca.issue("server");
    let text = r#"mgp_address = ""
metrics_address = "127.0.0.1:9"
metrics_tls_cert = "server.pem"
metrics_tls_key = "server-key.pem"

[connector.in]
type = "incoming"
protocol = "ucp"
address = "127.0.0.1:1"
tls = true
tls_cert = "server.pem"
tls_key = "server-key.pem"
tls_client_ca = "ca.pem"
tls_min_version = "1.3"

[connector.out]
type = "outgoing"
protocol = "cimd2"
address = "127.0.0.1:2"
tls = true
tls_ca = "ca.pem"
tls_cert = "server.pem"
tls_key = "server-key.pem"
tls_server_name = "localhost"

[connector.web]
type = "outgoing"
protocol = "http"
address = "https://127.0.0.1:3/send"
tls_ca = "ca.pem"
"#;
    let path = dir.path().join("emg.toml");
    std::fs::write(&path, text).unwrap();
    let (code, stderr) = check(&path);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_fifo_or_a_device_as_a_named_file_is_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("emg.toml");
    mkfifo(&fifo);
    let (code, stderr) = check(&fifo);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");

    let (code, stderr) = check(Path::new("/dev/zero"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("/dev/zero:1:1: config: cannot read config file: not a regular file"),
        "{stderr}"
    );

    // And the files it names: a mapping, a retry scheme, a blacklist.
    mkfifo(&dir.path().join("map.fifo"));
    let text = r#"mgp_address = ""
retryscheme = "/dev/zero"
blacklist = "map.fifo"

[connector.sim1]
type = "outgoing"
protocol = "sim"
"#;
    let path = dir.path().join("named.toml");
    std::fs::write(&path, text).unwrap();
    let (code, stderr) = check(&path);
    assert_eq!(code, 1, "{stderr}");
    let file = path.display();
    assert!(
        stderr.contains(&format!(
            "{file}:2:15: retryscheme: cannot read retry scheme `/dev/zero`: not a regular file"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:3:13: blacklist: cannot read blacklist `")),
        "{stderr}"
    );
    assert!(stderr.contains("map.fifo`: not a regular file"), "{stderr}");
}

#[test]
fn a_metrics_tls_pair_without_metrics_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    ca.issue("server");
    // Without `metrics_address`, then with it empty: the listener is off both times.
    for address in ["", "metrics_address = \"\"\n"] {
        let text = format!(
            "mgp_address = \"\"\n{address}metrics_tls_cert = \"server.pem\"\n\
             metrics_tls_key = \"server-key.pem\"\n"
        );
        let path = dir.path().join("emg.toml");
        std::fs::write(&path, &text).unwrap();
        let (code, stderr) = check(&path);
        assert_eq!(code, 1, "{stderr}");
        let file = path.display().to_string();
        let line = 2 + usize::from(!address.is_empty());
        let expect = [
            format!("{file}:{line}:20: metrics_tls_cert: `metrics_tls_cert` is set but the metrics listener is off: set `metrics_address` or remove `metrics_tls_cert`"),
            format!("{file}:{}:19: metrics_tls_key: `metrics_tls_key` is set but the metrics listener is off: set `metrics_address` or remove `metrics_tls_key`", line + 1),
        ];
        for l in &expect {
            assert!(stderr.contains(l.as_str()), "missing:\n{l}\nin:\n{stderr}");
        }
        assert_eq!(stderr.lines().count(), 2, "one line each:\n{stderr}");
    }
}

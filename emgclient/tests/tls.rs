//! MGP over TLS: emgd (in this process, as in `cli.rs`) with `mgp_tls_cert`/`mgp_tls_key` set
//! to a self-signed certificate made here for localhost and 127.0.0.1, and the real emgclient
//! with and without `--tls`, `--ca` and `--tls-server-name`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::InProcess;
use tests::daemon::free_port;

const EMGCLIENT: &str = env!("CARGO_BIN_EXE_emgclient");

struct Gateway {
    dir: tempfile::TempDir,
    mgp: u16,
    _emgd: InProcess,
}

impl Gateway {
    /// emgd over TLS with operator admin/secret; `cert.pem` in its directory is the
    /// certificate, `other-ca.pem` one that did not sign it.
    fn new() -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir");
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("self-signed certificate");
        std::fs::write(dir.path().join("cert.pem"), ck.cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), ck.signing_key.serialize_pem()).unwrap();
        let mut other = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        other
            .distinguished_name
            .push(rcgen::DnType::CommonName, "some other CA");
        let other = other
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap();
        std::fs::write(dir.path().join("other-ca.pem"), other.pem()).unwrap();

        let mgp = free_port();
        let text = format!(
            r#"datadir = "data"
logdir = "log"
mgp_address = "127.0.0.1:{mgp}"
mgp_tls_cert = "cert.pem"
mgp_tls_key = "key.pem"

[connector.sim1]
type = "outgoing"
protocol = "sim"

[operator.admin]
password = "secret"
role = "admin"
"#
        );
        let config = dir.path().join("emg.toml");
        std::fs::write(&config, text).expect("write config");
        let emgd = InProcess::start(&config, mgp);
        Gateway {
            dir,
            mgp,
            _emgd: emgd,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// emgclient as admin against this emgd; the system roots are `other-ca.pem` only, so a
    /// run without `--ca` fails the same way on every machine.
    fn run(&self, args: &[&str]) -> Output {
        run_against(&format!("127.0.0.1:{}", self.mgp), self.dir.path(), args)
    }
}

fn run_against(host: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(EMGCLIENT)
        .args(["--host", host, "--user", "admin"])
        .args(args)
        .env("EMG_PASSWORD", "secret")
        .env("XDG_CONFIG_HOME", dir)
        .env("SSL_CERT_FILE", dir.join("other-ca.pem"))
        .env_remove("SSL_CERT_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("emgclient runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails with exit code 3 (cannot connect) and one line on stderr containing `want`.
fn assert_cannot_connect(o: &Output, want: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(want), "expected {want:?} in: {err}");
}

#[test]
fn status_over_tls_with_the_ca() {
    let g = Gateway::new();
    let ca = g.path("cert.pem");
    let out = g.run(&["--tls", "--ca", ca.to_str().unwrap(), "--json", "status"]);
    assert!(out.status.success(), "status over TLS: {}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(v["version"].is_string(), "{v}");

    // By a name the certificate holds, while connecting by IP address.
    let named = g.run(&[
        "--ca",
        ca.to_str().unwrap(),
        "--tls-server-name",
        "localhost",
        "status",
    ]);
    assert!(named.status.success(), "{}", stderr(&named));

    // A name it does not hold.
    let wrong = g.run(&[
        "--ca",
        ca.to_str().unwrap(),
        "--tls-server-name",
        "emg.example.org",
        "status",
    ]);
    assert_cannot_connect(&wrong, "certificate not valid for name");
}

#[test]
fn tls_from_the_settings_file() {
    let g = Gateway::new();
    let settings = g.path("emgclient");
    std::fs::create_dir_all(&settings).unwrap();
    // `ca` is relative to the settings file's directory.
    std::fs::copy(g.path("cert.pem"), settings.join("emg-ca.pem")).unwrap();
    std::fs::write(
        settings.join("config.toml"),
        "tls = true\nca = \"emg-ca.pem\"\n",
    )
    .unwrap();
    let out = g.run(&["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn plain_client_gets_a_clear_error_not_a_hang() {
    let g = Gateway::new();
    let started = Instant::now();
    let out = g.run(&["status"]);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_cannot_connect(&out, "emgd answered with TLS: add --tls");

    // Only that connection was closed: TLS clients are still served.
    let ca = g.path("cert.pem");
    let ok = g.run(&["--tls", "--ca", ca.to_str().unwrap(), "status"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
}

#[test]
fn untrusted_certificate_is_refused() {
    let g = Gateway::new();
    let out = g.run(&["--tls", "status"]);
    assert_cannot_connect(
        &out,
        &format!(
            "TLS handshake with 127.0.0.1:{} failed: invalid peer certificate: UnknownIssuer",
            g.mgp
        ),
    );
}

#[test]
fn tls_client_against_a_silent_plain_server_times_out() {
    // Accepts and never answers, like a plain listener waiting for a newline.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let holder = std::thread::spawn(move || {
        let conn = listener.accept();
        std::thread::sleep(Duration::from_secs(12));
        drop(conn);
    });
    let dir = tempfile::tempdir().unwrap();
    let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.path().join("other-ca.pem"), ca.cert.pem()).unwrap();
    let started = Instant::now();
    let out = run_against(&host, dir.path(), &["--tls", "status"]);
    let took = started.elapsed();
    assert_cannot_connect(&out, "no answer within 10 s");
    assert!(took < Duration::from_secs(12), "{took:?}");
    drop(holder); // still holding the connection open; ends with the test process
}

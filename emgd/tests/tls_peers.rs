//! TLS on the connectors and the metrics listener, against third-party TLS stacks: python
//! smpplib over an `ssl`-wrapped socket (incoming SMPP, mutual TLS), the npm smpp SMSC over
//! node's `tls` (outgoing SMPP), curl over https (incoming HTTP, `/metrics`) and
//! `openssl s_client` (handshake failures, a session kept across a SIGHUP certificate
//! reload). Certificates are made in the test (`tests::certs`).
//!
//! (Over 600 lines: eight scenarios, one per TLS stack and direction, each needing its own
//! certificates and peer start-up.)

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::peers::{curl, wait_for};
use support::smsc::{texts, Smsc};
use support::{smpplib, EMGD};
use tests::certs::Ca;
use tests::daemon::{free_port, Daemon};

/// A gateway on TLS: `smpp-tls` (server certificate `server` of CA `ca`), `smpp-mtls` (the
/// same, and clients need a certificate of CA `client-ca`), `http-tls`, `/metrics` on https,
/// the simulator `sim1` for destinations starting with 4. `other-ca` signed nothing here.
struct Gw {
    dir: tempfile::TempDir,
    smpp: u16,
    mtls: u16,
    http: u16,
    metrics: u16,
    daemon: Daemon,
}

impl Gw {
    fn start() -> Gw {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new(dir.path(), "ca");
        ca.issue("server");
        let client_ca = Ca::new(dir.path(), "client-ca");
        client_ca.issue("client");
        client_ca.issue_expired("expired-client");
        Ca::new(dir.path(), "other-ca").issue("stranger");
        let (smpp, mtls, http, metrics) = (free_port(), free_port(), free_port(), free_port());
        let text = format!(
            r#"datadir = "data"
logdir = "log"
mgp_address = ""
metrics_address = "127.0.0.1:{metrics}"
metrics_tls_cert = "server.pem"
metrics_tls_key = "server-key.pem"

[connector.smpp-tls]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{smpp}"
instances = 4
tls = true
tls_cert = "server.pem"
tls_key = "server-key.pem"

[connector.smpp-mtls]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{mtls}"
tls = true
tls_cert = "server.pem"
tls_key = "server-key.pem"
tls_client_ca = "client-ca.pem"

[connector.http-tls]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"
tls = true
tls_cert = "server.pem"
tls_key = "server-key.pem"

[connector.sim1]
type = "outgoing"
protocol = "sim"
dlr_delay_ms = 50

[user.demo]
password = "demo"

[[route]]
prefix = "4"
to = "sim1"
"#
        );
        let config = dir.path().join("emg.toml");
        std::fs::write(&config, text).unwrap();
        let daemon = Daemon::start(Path::new(EMGD), &config, smpp).expect("emgd starts");
        Gw {
            dir,
            smpp,
            mtls,
            http,
            metrics,
            daemon,
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// What emgd said about itself: standard error and the general log.
    fn said(&self) -> String {
        let general =
            std::fs::read_to_string(self.dir.path().join("log/general")).unwrap_or_default();
        format!("{}{general}", self.daemon.stderr_text())
    }

    fn wait_said(&self, what: &str) -> String {
        wait_for(Duration::from_secs(20), || self.said().contains(what));
        self.said()
    }
}

/// `openssl s_client` to `port` with `args`, stdin closed: its exit status and all it printed.
fn s_client(port: u16, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs (scripts/test installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn smpplib_binds_submits_and_gets_its_receipts_over_tls() {
    let gw = Gw::start();
    let ca = gw.path("ca.pem");
    let report = smpplib(gw.smpp, &["--tls-ca", &ca, "--count", "5"]);
    assert_eq!(report["accepted"].as_array().unwrap().len(), 5, "{report}");
    for id in report["accepted"].as_array().unwrap() {
        let r = &report["receipts"][id.as_str().unwrap()];
        assert_eq!(r["state"], 2, "DELIVERED receipt for {id}: {report}");
    }
    // The name checked is the certificate's: one it does not carry fails the handshake.
    let wrong = smpplib(
        gw.smpp,
        &[
            "--tls-ca",
            &ca,
            "--tls-server-name",
            "elsewhere.example",
            "--bind-only",
        ],
    );
    let why = wrong["connect_error"].as_str().unwrap_or_default();
    assert!(why.contains("CERTIFICATE_VERIFY_FAILED"), "{wrong}");
}

#[test]
fn mutual_tls_refuses_a_client_without_a_certificate_or_with_an_expired_one() {
    let gw = Gw::start();
    let ca = gw.path("ca.pem");
    let none = smpplib(gw.mtls, &["--tls-ca", &ca, "--bind-only"]);
    assert!(none.get("connect_error").is_some(), "refused: {none}");
    let said = gw.wait_said("connector smpp-mtls: 127.0.0.1:");
    assert!(said.contains("TLS handshake failed"), "{said}");

    let (cert, key) = (gw.path("client.pem"), gw.path("client-key.pem"));
    let good = smpplib(
        gw.mtls,
        &[
            "--tls-ca",
            &ca,
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--bind-only",
        ],
    );
    assert_eq!(good["bound"], true, "{good}");

    // openssl with a certificate of the right CA that expired in 2021.
    let (cert, key) = (
        gw.path("expired-client.pem"),
        gw.path("expired-client-key.pem"),
    );
    let (_, out) = s_client(
        gw.mtls,
        &[
            "-CAfile",
            &ca,
            "-cert",
            &cert,
            "-key",
            &key,
            "-verify_return_error",
        ],
    );
    let said = gw.wait_said("invalid peer certificate");
    assert!(
        said.contains("TLS handshake failed: invalid peer certificate")
            && said.to_lowercase().contains("expired"),
        "{said}\n--- openssl:\n{out}"
    );
    // Still serving.
    let again = smpplib(gw.smpp, &["--tls-ca", &ca, "--bind-only"]);
    assert_eq!(again["bound"], true, "{again}");
}

#[test]
fn handshake_failures_close_that_connection_only() {
    let gw = Gw::start();
    let ca = gw.path("ca.pem");
    // openssl trusting another CA refuses emgd's certificate.
    let (ok, out) = s_client(
        gw.smpp,
        &["-CAfile", &gw.path("other-ca.pem"), "-verify_return_error"],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("unable to get local issuer certificate"),
        "{out}"
    );
    let said = gw.wait_said("received fatal alert");
    assert!(said.contains("connector smpp-tls: 127.0.0.1:"), "{said}");

    // An SMPP bind in plain text to the TLS port: the connection closes, with a log line.
    let mut plain = TcpStream::connect(("127.0.0.1", gw.smpp)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    plain.write_all(&bind_transceiver(1)).unwrap();
    let mut rest = Vec::new();
    let read = plain.read_to_end(&mut rest);
    assert!(read.is_ok(), "closed, not timed out: {read:?}");
    assert!(
        !rest.windows(4).any(|w| w == [0x80, 0, 0, 0x09]),
        "no bind response in plain text"
    );
    let said = gw.wait_said("corrupt message");
    assert!(said.contains("TLS handshake failed"), "{said}");

    // emgd still serves TLS clients.
    let report = smpplib(gw.smpp, &["--tls-ca", &ca, "--count", "2"]);
    assert_eq!(report["accepted"].as_array().unwrap().len(), 2, "{report}");
}

#[test]
fn curl_reaches_the_http_listener_and_metrics_over_https() {
    let gw = Gw::start();
    let ca = gw.path("ca.pem");
    let send = format!(
        "https://127.0.0.1:{}/bin/send?USERNAME=demo&PASSWORD=demo&DESTADDR=46700000001&SOURCEADDR=emg&MESSAGE=over+https",
        gw.http
    );
    let (status, body) = curl(&send, &["--cacert", &ca]);
    assert_eq!(status, 200, "{body}");
    let (status, body) = curl(
        &format!("https://127.0.0.1:{}/metrics", gw.metrics),
        &["--cacert", &ca],
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("emg_"), "{body}");
    // Without the CA curl refuses the certificate; in plain HTTP emgd answers nothing.
    let refused = Command::new("curl")
        .args(["-s", "--max-time", "20", &send])
        .status()
        .unwrap();
    assert_eq!(refused.code(), Some(60), "curl: certificate not trusted");
    let plain = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "20",
            &format!("http://127.0.0.1:{}/metrics", gw.metrics),
        ])
        .status()
        .unwrap();
    assert!(!plain.success(), "plain HTTP to the https listener fails");
}

#[test]
fn outgoing_smpp_speaks_tls_to_the_npm_smsc_and_refuses_a_server_it_does_not_trust() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    ca.issue("smsc");
    Ca::new(dir.path(), "other-ca");
    let smsc_port = free_port();
    let smsc = Smsc::start(
        smsc_port,
        dir.path().join("smsc.json"),
        &[
            "--tls-cert",
            &dir.path().join("smsc.pem").display().to_string(),
            "--tls-key",
            &dir.path().join("smsc-key.pem").display().to_string(),
        ],
    );
    let setup = support::Setup::new(
        "",
        "",
        &format!(
            r#"
[[route]]
prefix = "5"
to = "smsc"

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"
tls = true
tls_ca = "{}"
tls_server_name = "localhost"

[connector.untrusted]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"
static = true
tls = true
tls_ca = "{}"
"#,
            dir.path().join("ca.pem").display(),
            dir.path().join("other-ca.pem").display()
        ),
    );
    let _daemon = setup.start();
    // Destinations starting with 4 go to the simulator; 5 to the SMSC over TLS.
    let report = smpplib(setup.smpp_port, &["--count", "3", "--dest", "5551234"]);
    assert_eq!(report["accepted"].as_array().unwrap().len(), 3, "{report}");
    assert_eq!(report["receipts"].as_object().unwrap().len(), 3, "{report}");
    let got = texts(&smsc.state());
    for n in 0..3 {
        assert!(got.contains(&format!("message {n}")), "{got:?}");
    }
    assert!(
        wait_for(Duration::from_secs(20), || setup
            .log("connector.untrusted")
            .contains("CONNECT ERR (info=\"71\")")),
        "{}",
        setup.log("connector.untrusted")
    );
}

/// `openssl s_client` kept open, carrying raw bytes both ways.
struct Session {
    child: Child,
    input: std::process::ChildStdin,
    output: mpsc::Receiver<Vec<u8>>,
    buffer: Vec<u8>,
}

impl Session {
    fn open(port: u16, ca: &str) -> Session {
        let mut child = Command::new("openssl")
            .args(["s_client", "-quiet", "-verify_return_error", "-CAfile", ca])
            .args(["-connect", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl runs");
        let input = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Session {
            child,
            input,
            output,
            buffer: Vec::new(),
        }
    }

    /// Send `pdu`, then the command id of the next PDU that arrives.
    fn call(&mut self, pdu: &[u8]) -> u32 {
        self.input.write_all(pdu).unwrap();
        self.input.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.buffer.len() >= 16 {
                let len = u32::from_be_bytes(self.buffer[0..4].try_into().unwrap()) as usize;
                if self.buffer.len() >= len {
                    let id = u32::from_be_bytes(self.buffer[4..8].try_into().unwrap());
                    let status = u32::from_be_bytes(self.buffer[8..12].try_into().unwrap());
                    assert_eq!(status, 0, "command status of 0x{id:08x}");
                    self.buffer.drain(..len);
                    return id;
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(bytes) => self.buffer.extend(bytes),
                Err(e) => panic!("no answer from emgd ({e})"),
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pdu(command: u32, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut p = ((16 + body.len()) as u32).to_be_bytes().to_vec();
    p.extend(command.to_be_bytes());
    p.extend(0u32.to_be_bytes());
    p.extend(seq.to_be_bytes());
    p.extend(body);
    p
}

fn bind_transceiver(seq: u32) -> Vec<u8> {
    pdu(9, seq, b"demo\0demo\0\0\x34\0\0\0")
}

/// The subject openssl prints for the certificate emgd shows on `port`.
fn shown_subject(port: u16, ca: &str) -> String {
    let (_, out) = s_client(port, &["-CAfile", ca]);
    out.lines()
        .find(|l| l.starts_with("subject="))
        .unwrap_or_else(|| panic!("no subject in:\n{out}"))
        .to_string()
}

#[test]
fn sighup_reloads_the_certificate_for_new_handshakes_and_keeps_sessions_up() {
    let gw = Gw::start();
    let ca = gw.path("ca.pem");
    assert!(shown_subject(gw.smpp, &ca).contains("server"), "before");
    let mut session = Session::open(gw.smpp, &ca);
    assert_eq!(session.call(&bind_transceiver(1)), 0x8000_0009);

    // The operator renews the certificate (same file names) and sends SIGHUP.
    let ca_again = reissue(&gw, "renewed");
    gw.daemon.signal(1);
    gw.wait_said("configuration reloaded");
    let subject = shown_subject(gw.smpp, &ca_again);
    assert!(
        subject.contains("renewed"),
        "new handshakes show it: {subject}"
    );
    let https = shown_subject(gw.metrics, &ca_again);
    assert!(
        https.contains("renewed"),
        "the metrics listener too: {https}"
    );
    // The session bound before the reload still answers.
    assert_eq!(
        session.call(&pdu(0x15, 2, b"")),
        0x8000_0015,
        "enquire_link_resp"
    );
    let said = gw.said();
    assert!(
        said.contains("connector smpp-tls: TLS certificate (re)loaded"),
        "{said}"
    );
}

/// A new CA (`NAME-ca`) and a certificate `NAME` it signed, copied over `server.pem` and
/// `server-key.pem`; the new CA's path.
fn reissue(gw: &Gw, name: &str) -> String {
    let dir = PathBuf::from(gw.path(""));
    let ca = Ca::new(&dir, &format!("{name}-ca"));
    ca.issue(name);
    std::fs::copy(dir.join(format!("{name}.pem")), dir.join("server.pem")).unwrap();
    std::fs::copy(
        dir.join(format!("{name}-key.pem")),
        dir.join("server-key.pem"),
    )
    .unwrap();
    gw.path(&format!("{name}-ca.pem"))
}

/// UCP/EMI over TLS both ways, with OpenSSL (socat) at each end of the encrypted links:
/// smpplib -> emgd `smpp-in` -> `ucp-out` (TLS client) -> socat (OpenSSL server, then
/// OpenSSL client) -> `ucp-in` (TLS server) -> the simulator; the notifications come back
/// the same way as SMPP receipts.
#[test]
fn ucp_runs_over_tls_to_and_from_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    ca.issue("server");
    ca.issue("relay");
    let p = |n: &str| dir.path().join(n).display().to_string();
    let (relay, ucp_in) = (free_port(), free_port());
    let _socat = support::peers::Peer(
        Command::new("socat")
            .arg(format!(
                "OPENSSL-LISTEN:{relay},bind=127.0.0.1,reuseaddr,fork,cert={},key={},verify=0",
                p("relay.pem"),
                p("relay-key.pem")
            ))
            .arg(format!("OPENSSL:127.0.0.1:{ucp_in},cafile={}", p("ca.pem")))
            .stderr(Stdio::null())
            .spawn()
            .expect("socat runs (scripts/test installs it)"),
    );
    support::peers::wait_port(relay);
    let setup = support::Setup::new(
        "",
        "dlr_delay_ms = 50",
        &format!(
            r#"
[[route]]
prefix = "5"
to = "ucp-out"

[connector.ucp-out]
type = "outgoing"
protocol = "ucp"
address = "127.0.0.1:{relay}"
username = "ucpuser"
password = "secret"
tls = true
tls_ca = "{ca}"

[connector.ucp-in]
type = "incoming"
protocol = "ucp"
address = "127.0.0.1:{ucp_in}"
users = ["ucpuser"]
route = "sim1"
tls = true
tls_cert = "{cert}"
tls_key = "{key}"

[user.ucpuser]
password = "secret"
"#,
            ca = p("ca.pem"),
            cert = p("server.pem"),
            key = p("server-key.pem"),
        ),
    );
    let _daemon = setup.start();
    let report = smpplib(setup.smpp_port, &["--count", "3", "--dest", "5551234"]);
    assert_eq!(report["accepted"].as_array().unwrap().len(), 3, "{report}");
    assert_eq!(
        report["receipts"].as_object().unwrap().len(),
        3,
        "{report}\n{}\n{}",
        setup.log("connector.ucp-out"),
        setup.log("connector.ucp-in")
    );
    let pdus = setup.log("pdu.ucp-in");
    assert!(pdus.contains("message 0"), "the simulator's way in: {pdus}");
}

/// Outgoing HTTP to an https:// provider (`openssl s_server -www`, which answers every GET
/// with 200; `http_method = "GET"` since it answers nothing else) whose certificate only `tls_ca` trusts: sent, and the sender's receipt says
/// DELIVRD; without `tls_ca` the same provider is refused.
#[test]
fn outgoing_http_trusts_its_tls_ca_on_https_urls() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "ca");
    ca.issue("provider");
    let p = |n: &str| dir.path().join(n).display().to_string();
    let port = free_port();
    let _server = support::peers::Peer(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept", &port.to_string()])
            .args(["-cert", &p("provider.pem"), "-key", &p("provider-key.pem")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl runs"),
    );
    support::peers::wait_port(port);
    let setup = support::Setup::new(
        "",
        "",
        &format!(
            r#"
[[route]]
prefix = "5"
to = "web"

[[route]]
prefix = "6"
to = "web-untrusted"

[connector.web]
type = "outgoing"
protocol = "http"
address = "https://127.0.0.1:{port}/send"
http_method = "GET"
tls_ca = "{ca}"

[connector.web-untrusted]
type = "outgoing"
protocol = "http"
address = "https://127.0.0.1:{port}/send"
http_method = "GET"
"#,
            ca = p("ca.pem"),
        ),
    );
    let _daemon = setup.start();
    let report = smpplib(setup.smpp_port, &["--count", "2", "--dest", "5551234"]);
    assert_eq!(report["accepted"].as_array().unwrap().len(), 2, "{report}");
    let receipts = report["receipts"].as_object().unwrap();
    assert_eq!(
        receipts.len(),
        2,
        "{report}\n{}\n{}",
        setup.log("connector.web"),
        setup.log("pdu.web")
    );
    assert!(receipts.values().all(|r| r["state"] == 2), "{report}");
    assert!(
        setup.log("pdu.web").contains("status:200"),
        "{}",
        setup.log("pdu.web")
    );

    let _ = smpplib(
        setup.smpp_port,
        &[
            "--count",
            "1",
            "--dest",
            "6551234",
            "--no-dlr",
            "--timeout",
            "3",
        ],
    );
    assert!(
        wait_for(Duration::from_secs(20), || setup
            .log("connector.web-untrusted")
            .contains("CONNECT ERR")),
        "{}",
        setup.log("connector.web-untrusted")
    );
}

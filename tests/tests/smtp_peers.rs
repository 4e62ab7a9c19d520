//! `common::smtp` and `common::mime` against real peers on 127.0.0.1: swaks and python's
//! smtplib send every kind of mail to a server loop on our codec, and what the codec parsed
//! is checked; our client state machine relays to aiosmtpd. A missing peer fails the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use common::mime::{build_mail, read_mail, NewMail};
use common::smtp::{BareLf, ClientConfig, Outgoing, ServerConfig, TlsMode};
use tests::smtp_peer::{relay, start_sink, Sink, SinkConfig, TestCert};

const PEERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/peers");

fn write_cert(dir: &tempfile::TempDir, cert: &TestCert) -> (String, String) {
    let (c, k) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&c, &cert.cert_pem).unwrap();
    std::fs::write(&k, &cert.key_pem).unwrap();
    (c.display().to_string(), k.display().to_string())
}

/// Runs a peer to completion (it talks to a sink served by this test's runtime).
async fn run(cmd: &mut Command) -> std::process::Output {
    let program = format!("{:?}", cmd.get_program());
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} (scripts/test installs it): {e}"));
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

async fn smtplib(sink: &Sink, kind: &str, extra: &[&str]) -> serde_json::Value {
    let out = run(Command::new("python3")
        .arg(format!("{PEERS}/smtplib_send.py"))
        .args(["--port", &sink.addr.port().to_string(), "--kind", kind])
        .args(extra))
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|_| {
        panic!(
            "smtplib_send.py {kind}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_sends_every_kind_of_mail() {
    let sink = start_sink(SinkConfig::default()).await.unwrap();
    // kind, subject, SMS text, discarded parts
    let table: &[(&str, &str, &str, &[&str])] = &[
        ("plain", "kind plain", "Lunch at 12?", &[]),
        ("alternative", "kind alternative", "Plain text part", &[]),
        ("html", "kind html", "Only\u{a0}HTML\nsecond&last", &[]),
        ("qp", "kind qp", "Räksmörgås for € 5, Räksmörgås for € 5, Räksmörgås for € 5, Räksmörgås for € 5, Räksmörgås for € 5, Räksmörgås for € 5,", &[]),
        ("base64", "kind base64", "Priset är 5 €", &[]),
        ("utf8", "Grüße från Åre", "Hälsningar 😀", &[]),
        ("attachment", "kind attachment", "See the attached picture", &["image/png", "application/pdf"]),
        ("nested", "kind nested", "outer text", &["message/rfc822"]),
    ];
    for (i, (kind, subject, text, discarded)) in table.iter().enumerate() {
        let r = smtplib(&sink, kind, &[]).await;
        assert_eq!(r["code"], 250, "{kind}: {r}");
        let got = sink.messages();
        assert_eq!(got.len(), i + 1, "{kind}: one message each");
        let m = &got[i];
        assert_eq!(m.envelope.from, "alice@example.com");
        assert_eq!(m.envelope.recipients, ["46701234567@sms.example.com"]);
        assert_eq!(m.envelope.helo, "smtplib.test");
        let mail = read_mail(&m.content).unwrap();
        assert_eq!(mail.subject.as_deref(), Some(*subject), "{kind}");
        assert_eq!(mail.text, *text, "{kind}");
        assert_eq!(mail.from_name.as_deref(), Some("Alice Example"));
        let types: Vec<&str> = mail
            .discarded
            .iter()
            .map(|d| d.content_type.as_str())
            .collect();
        assert_eq!(types, *discarded, "{kind}");
    }
    // 8-bit content without BODY=8BITMIME is refused, and nothing is stored.
    let r = smtplib(&sink, "utf8-undeclared", &[]).await;
    assert_eq!(r["code"], 554, "{r}");
    assert_eq!(sink.messages().len(), table.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtplib_authenticates_over_starttls() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::new();
    let (ca, _) = write_cert(&dir, &cert);
    let sink = start_sink(SinkConfig {
        server: ServerConfig {
            auth_available: true,
            auth_required: true,
            tls_required: true,
            ..ServerConfig::default()
        },
        user: Some(("demo".into(), "s3cret".into())),
        cert: Some(cert),
        ..SinkConfig::default()
    })
    .await
    .unwrap();
    for mech in ["PLAIN", "LOGIN"] {
        let r = smtplib(
            &sink,
            "plain",
            &["--tls", &ca, "--auth", "demo:s3cret", "--mech", mech],
        )
        .await;
        assert_eq!(r["code"], 250, "{mech}: {r}");
    }
    let r = smtplib(&sink, "plain", &["--tls", &ca, "--auth", "demo:wrong"]).await;
    assert_eq!(r["code"], 535, "{r}");
    let r = smtplib(&sink, "plain", &[]).await;
    assert_eq!(r["code"], 530, "no TLS, no mail: {r}");
    let got = sink.messages();
    assert_eq!(got.len(), 2);
    assert!(got
        .iter()
        .all(|m| m.envelope.tls && m.envelope.user.as_deref() == Some("demo")));
}

async fn swaks(sink: &Sink, args: &[&str]) -> String {
    let out = run(Command::new("swaks")
        .args([
            "--server",
            &sink.addr.to_string(),
            "--from",
            "alice@example.com",
        ])
        .args([
            "--to",
            "46701234567@sms.example.com",
            "--helo",
            "swaks.test",
            "--timeout",
            "20",
        ])
        .args(args))
    .await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "swaks {args:?} failed:\n{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_sends_plain_pipelined_html_attachments_and_authenticates() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::new();
    let (ca, _) = write_cert(&dir, &cert);
    let sink = start_sink(SinkConfig {
        server: ServerConfig {
            auth_available: true,
            ..ServerConfig::default()
        },
        user: Some(("demo".into(), "s3cret".into())),
        cert: Some(cert),
        ..SinkConfig::default()
    })
    .await
    .unwrap();
    let png = dir.path().join("dot.png");
    std::fs::write(&png, [0x89, b'P', b'N', b'G', 0, 1, 2, 3]).unwrap();
    let png = png.display().to_string();

    let t = swaks(
        &sink,
        &[
            "--pipeline",
            "--header",
            "Subject: piped",
            "--body",
            "Hello from swaks",
        ],
    )
    .await;
    assert!(t.contains("PIPELINING"), "{t}");
    swaks(
        &sink,
        &[
            "--header",
            "Subject: html",
            "--attach-type",
            "text/html",
            "--attach-body",
            "<p>Hi <i>there</i></p><p>again</p>",
        ],
    )
    .await;
    swaks(
        &sink,
        &[
            "--header",
            "Subject: att",
            "--body",
            "Picture attached",
            "--attach-type",
            "image/png",
            "--attach",
            &png,
        ],
    )
    .await;
    let t = swaks(
        &sink,
        &[
            "--tls",
            "--tls-verify",
            "--tls-ca-path",
            &ca,
            "--tls-sni",
            "localhost",
            "--auth",
            "PLAIN",
            "--auth-user",
            "demo",
            "--auth-password",
            "s3cret",
            "--header",
            "Subject: secure",
            "--body",
            "over TLS",
        ],
    )
    .await;
    assert!(t.contains("235 2.7.0"), "{t}");
    swaks(
        &sink,
        &[
            "--tls",
            "--auth",
            "LOGIN",
            "--auth-user",
            "demo",
            "--auth-password",
            "s3cret",
            "--header",
            "Subject: login",
            "--body",
            "with LOGIN",
        ],
    )
    .await;

    let got = sink.messages();
    let read: Vec<_> = got.iter().map(|m| read_mail(&m.content).unwrap()).collect();
    let summary: Vec<(Option<&str>, &str)> = read
        .iter()
        .map(|m| (m.subject.as_deref(), m.text.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (Some("piped"), "Hello from swaks"),
            (Some("html"), "Hi there\nagain"),
            (Some("att"), "Picture attached"),
            (Some("secure"), "over TLS"),
            (Some("login"), "with LOGIN"),
        ]
    );
    assert_eq!(read[2].discarded[0].content_type, "image/png");
    assert_eq!(read[2].discarded[0].size, 8);
    assert!(got[3].envelope.tls && got[4].envelope.tls && !got[0].envelope.tls);
    assert_eq!(got[3].envelope.user.as_deref(), Some("demo"));
    assert_eq!(got[0].envelope.helo, "swaks.test");
}

/// Writes `input` on a raw connection and reads until the server closes or `quiet` passes
/// with nothing new; returns the reply codes.
fn raw(sink: &Sink, input: &[u8], quiet: Duration) -> Vec<u16> {
    let mut s = TcpStream::connect(sink.addr).unwrap();
    s.write_all(input).unwrap();
    s.set_read_timeout(Some(quiet)).unwrap();
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => all.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&all)
        .lines()
        .filter(|l| l.as_bytes().get(3) == Some(&b' '))
        .map(|l| l[..3].parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_smtp_codes_and_nothing_is_stored() {
    let sink = start_sink(SinkConfig {
        server: ServerConfig {
            bare_lf: BareLf::Reject,
            max_message_size: 1024 * 1024,
            auth_available: true,
            auth_without_tls: true,
            ..ServerConfig::default()
        },
        user: Some(("demo".into(), "s3cret".into())),
        data_timeout: Duration::from_secs(2),
        ..SinkConfig::default()
    })
    .await
    .unwrap();
    let quiet = Duration::from_secs(3);
    let head =
        "EHLO raw\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<46701@sms.example.com>\r\nDATA\r\n";
    let big = [
        head.as_bytes(),
        &b"0123456789012345678901234567890123456789\r\n".repeat(80_000),
        b".\r\nQUIT\r\n",
    ]
    .concat();
    let long_line = [head.as_bytes(), &[b'x'; 1001], b"\r\n.\r\nQUIT\r\n"].concat();
    let auth_fail = format!(
        "EHLO raw\r\nAUTH PLAIN {0}\r\nAUTH PLAIN {0}\r\nAUTH PLAIN {0}\r\nNOOP\r\n",
        common::smtp::auth::encode_plain("demo", "guess")
    );
    let cases: Vec<(&str, Vec<u8>, Vec<u16>)> = vec![
        ("2 GB announced with SIZE", b"EHLO raw\r\nMAIL FROM:<a@example.com> SIZE=2147483648\r\nQUIT\r\n".to_vec(), vec![220, 250, 552, 221]),
        ("3 MB sent without SIZE", big, vec![220, 250, 250, 250, 354, 552, 221]),
        ("bare LF line ends", format!("{head}one\ntwo\n.\n\r\n.\r\nQUIT\r\n").into_bytes(), vec![220, 250, 250, 250, 354, 554, 221]),
        ("a line over 1,000 octets", long_line, vec![220, 250, 250, 250, 354, 554, 221]),
        ("8-bit without 8BITMIME", format!("{head}Hej d\u{e5}\r\n.\r\nQUIT\r\n").into_bytes(), vec![220, 250, 250, 250, 354, 554, 221]),
        ("AUTH failures close the session", auth_fail.into_bytes(), vec![220, 250, 535, 535, 535, 421]),
        (
            "pipelined out of order",
            b"EHLO raw\r\nRCPT TO:<46701@sms.example.com>\r\nDATA\r\nMAIL FROM:<a@example.com>\r\nQUIT\r\n".to_vec(),
            vec![220, 250, 503, 503, 250, 221],
        ),
        ("DATA with no end before the timeout", format!("{head}no end in sight\r\n").into_bytes(), vec![220, 250, 250, 250, 354, 421]),
    ];
    for (what, input, want) in cases {
        let got = tokio::task::spawn_blocking({
            let addr = sink.addr;
            let received = sink.received.clone();
            move || raw(&Sink { addr, received }, &input, quiet)
        })
        .await
        .unwrap();
        assert_eq!(got, want, "{what}");
        assert!(sink.messages().is_empty(), "{what}: nothing stored");
    }
}

/// aiosmtpd as a relay, started for one test and stopped when dropped.
struct Relay {
    child: Child,
    port: u16,
    lines: mpsc::Receiver<serde_json::Value>,
}

impl Relay {
    fn start(args: &[&str]) -> Relay {
        let mut child = Command::new("python3")
            .arg(format!("{PEERS}/smtp_relay.py"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test installs it)");
        let (tx, lines) = mpsc::channel::<serde_json::Value>();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let ready = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("aiosmtpd did not start");
        let port = ready["ready"].as_u64().expect("ready line") as u16;
        Relay { child, port, lines }
    }

    fn next(&self) -> serde_json::Value {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("relay event")
    }

    fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sms_mail(text: &str) -> Outgoing {
    let to = vec!["alice@example.com".to_string()];
    let options = vec![("DLR".to_string(), "1".to_string())];
    Outgoing {
        from: "46701234567@sms.example.com".into(),
        recipients: to.clone(),
        content: build_mail(&NewMail {
            from: "46701234567@sms.example.com",
            to: &to,
            subject: Some("SMS från 46701234567"),
            text,
            date: "Tue, 1 Dec 2026 13:48:00 +0000",
            message_id: "1.2@emg.test",
            options: &options,
            ..NewMail::default()
        }),
    }
}

fn client(tls: TlsMode, auth: Option<(&str, &str)>) -> ClientConfig {
    ClientConfig {
        ehlo_name: "emg.test".into(),
        starttls: tls,
        auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_relays_to_aiosmtpd_with_starttls_and_auth() {
    let dir = tempfile::tempdir().unwrap();
    let cert = TestCert::new();
    let (c, k) = write_cert(&dir, &cert);
    let relay_peer = Relay::start(&["--tls", &c, &k, "--auth", "emg:secret"]);
    let outcomes = relay(
        relay_peer.addr(),
        client(TlsMode::Required, Some(("emg", "secret"))),
        Some(&cert),
        vec![
            sms_mail("Hej Alice, lunch på fredag? 😀"),
            sms_mail(".leading dot\nsecond line"),
        ],
    )
    .await
    .unwrap();
    assert!(
        outcomes.iter().all(|o| o.results()[0].1.is_ok()),
        "{outcomes:?}"
    );
    for want in [
        "Hej Alice, lunch på fredag? 😀",
        ".leading dot\nsecond line",
    ] {
        let ev = relay_peer.next();
        assert_eq!(ev["event"], "data");
        assert_eq!(ev["mail_from"], "46701234567@sms.example.com");
        assert_eq!(ev["rcpt_tos"], serde_json::json!(["alice@example.com"]));
        assert_eq!(ev["tls"], true);
        assert_eq!(ev["auth"], true);
        let data = base64::engine::general_purpose::STANDARD
            .decode(ev["data"].as_str().unwrap())
            .unwrap();
        let mail = read_mail(&data).unwrap();
        assert_eq!(mail.text, want);
        assert_eq!(mail.subject.as_deref(), Some("SMS från 46701234567"));
        assert_eq!(mail.options, [("DLR".to_string(), "1".to_string())]);
    }
    // Wrong password: the session fails, permanently.
    let err = relay(
        relay_peer.addr(),
        client(TlsMode::Required, Some(("emg", "nope"))),
        Some(&cert),
        vec![sms_mail("x")],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("authentication failed"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_451_then_250_delivers_once_and_a_550_is_permanent() {
    let relay_peer = Relay::start(&["--fail-first", "1", "--refuse-rcpt", "nobody"]);
    let first = relay(
        relay_peer.addr(),
        client(TlsMode::Opportunistic, None),
        None,
        vec![sms_mail("try me")],
    )
    .await
    .unwrap();
    let refusal = first[0].results()[0].1.clone().unwrap_err();
    assert!(refusal.is_transient() && refusal.code == 451, "{refusal}");
    let second = relay(
        relay_peer.addr(),
        client(TlsMode::Never, None),
        None,
        vec![sms_mail("try me")],
    )
    .await
    .unwrap();
    assert!(second[0].results()[0].1.is_ok());
    let (a, b) = (relay_peer.next(), relay_peer.next());
    assert_eq!(
        (a["answer"].as_u64(), b["answer"].as_u64()),
        (Some(451), Some(250))
    );

    let mut to_nobody = sms_mail("lost");
    to_nobody.recipients = vec!["nobody@example.com".into()];
    let third = relay(
        relay_peer.addr(),
        client(TlsMode::Never, None),
        None,
        vec![to_nobody],
    )
    .await
    .unwrap();
    let refusal = third[0].results()[0].1.clone().unwrap_err();
    assert!(refusal.is_permanent() && refusal.code == 550, "{refusal}");
    let ev = relay_peer.next();
    assert_eq!(
        (ev["event"].as_str(), ev["answer"].as_u64()),
        (Some("rcpt"), Some(550))
    );
    assert!(
        relay_peer
            .lines
            .recv_timeout(Duration::from_millis(500))
            .is_err(),
        "no DATA after the only recipient was refused"
    );
}

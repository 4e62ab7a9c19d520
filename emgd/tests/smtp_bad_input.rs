//! The incoming SMTP connector against input no well-behaved client sends, on a plain socket
//! (support/mail.rs's `RawSmtp`), and against SIGKILL after `250`: every case gets its SMTP
//! code, nothing is stored twice and nothing accepted is lost.

#[path = "support/mail.rs"]
mod mail;
mod support;

use mail::{smtplib, wait_for, wait_port, RawSmtp};
use std::time::{Duration, Instant};
use support::smsc::Smsc;
use support::Setup;
use tests::daemon::free_port;

/// `mail-in` on a free port, routed (46...) to the simulator `sim1` of the base setup, with
/// `more` keywords; returns the setup and the SMTP port.
fn gateway(more: &str, extra: &str) -> (Setup, u16) {
    let smtp = free_port();
    let text = format!(
        r#"
[connector.mail-in]
type = "incoming"
protocol = "smtp"
address = "127.0.0.1:{smtp}"
instances = 4
smtp_domains = ["sms.example.com"]
smtp_auth_plaintext = true
{more}
{extra}
"#
    );
    (Setup::new("", "", &text), smtp)
}

/// How many messages the connector logged as accepted.
fn accepted(setup: &Setup) -> usize {
    setup.log("connector.mail-in").matches("SUBMIT OK").count()
}

fn code(reply: &str) -> &str {
    reply.get(..3).unwrap_or(reply)
}

fn ehlo(port: u16) -> RawSmtp {
    let (mut s, greeting) = RawSmtp::connect(port);
    assert_eq!(code(&greeting), "220", "{greeting}");
    let r = s.command("EHLO raw.test");
    assert_eq!(code(&r), "250", "{r}");
    s
}

#[test]
fn bad_input_gets_its_smtp_code_and_nothing_is_stored_twice() {
    let (setup, port) = gateway("smtp_max_message_size = 100000\nsmtp_timeout = 3", "");
    let _d = setup.start();
    wait_port(port);

    // EHLO advertises the limits.
    let (mut s, _) = RawSmtp::connect(port);
    let caps = s.command("EHLO raw.test");
    for cap in [
        "PIPELINING",
        "8BITMIME",
        "SIZE 100000",
        "ENHANCEDSTATUSCODES",
    ] {
        assert!(caps.contains(cap), "{cap} in {caps}");
    }

    // A 2 GB mail announced with SIZE is refused before a byte of it is sent.
    let r = s.command("MAIL FROM:<big@example.com> SIZE=2147483648");
    assert!(r.starts_with("552 5.3.4"), "{r}");
    // One that does not say so is refused at the end of DATA, having been read and dropped.
    assert_eq!(code(&s.command("MAIL FROM:<big@example.com>")), "250");
    assert_eq!(
        code(&s.command("RCPT TO:<46700000001@sms.example.com>")),
        "250"
    );
    assert_eq!(code(&s.command("DATA")), "354");
    let line = format!("{}\r\n", "x".repeat(998));
    for _ in 0..200 {
        s.send(line.as_bytes());
    }
    let r = s.command(".");
    assert!(r.starts_with("552 5.3.4"), "{r}");

    // A line over 1,000 octets: as a command 500, in a message 554.
    let r = s.command(&format!("NOOP {}", "y".repeat(1200)));
    assert!(r.starts_with("500 5.5.2"), "{r}");
    assert_eq!(code(&s.command("MAIL FROM:<long@example.com>")), "250");
    assert_eq!(
        code(&s.command("RCPT TO:<46700000002@sms.example.com>")),
        "250"
    );
    assert_eq!(code(&s.command("DATA")), "354");
    s.send(format!("Subject: long\r\n\r\n{}\r\n", "z".repeat(1500)).as_bytes());
    let r = s.command(".");
    assert!(r.starts_with("554 5.6.0"), "{r}");

    // 8-bit content without BODY=8BITMIME.
    assert_eq!(code(&s.command("MAIL FROM:<raw@example.com>")), "250");
    assert_eq!(
        code(&s.command("RCPT TO:<46700000003@sms.example.com>")),
        "250"
    );
    assert_eq!(code(&s.command("DATA")), "354");
    s.send("Subject: 8bit\r\n\r\nRäksmörgås\r\n".as_bytes());
    let r = s.command(".");
    assert!(r.starts_with("554 5.6.1"), "{r}");

    // A text longer than 255 SMS parts can carry.
    assert_eq!(code(&s.command("MAIL FROM:<novel@example.com>")), "250");
    assert_eq!(
        code(&s.command("RCPT TO:<46700000003@sms.example.com>")),
        "250"
    );
    assert_eq!(code(&s.command("DATA")), "354");
    s.send(b"Subject: novel\r\n\r\n");
    for _ in 0..50 {
        s.send(format!("{}\r\n", "w".repeat(900)).as_bytes());
    }
    let r = s.command(".");
    assert!(r.starts_with("554 5.3.4 Message too long for SMS"), "{r}");

    // Pipelined out of order: RCPT before MAIL and DATA without recipients are refused, each
    // in its turn; then a proper pipelined transaction, with a bare-LF line in its content
    // and a smuggled end of data (LF.LF) that must stay content.
    s.send(
        b"RCPT TO:<46700000004@sms.example.com>\r\nDATA\r\nMAIL FROM:<pipe@example.com>\r\n\
          RCPT TO:<46700000004@sms.example.com>\r\nDATA\r\n",
    );
    let replies: Vec<String> = (0..5).map(|_| s.reply()).collect();
    let codes: Vec<&str> = replies.iter().map(|r| code(r)).collect();
    assert_eq!(codes, ["503", "503", "250", "250", "354"], "{replies:?}");
    s.send(b"Subject: pipe\r\n\r\nfirst line\nsecond\n.\nMAIL FROM:<evil@example.com>\r\n.\r\n");
    let r = s.reply();
    assert!(r.starts_with("250 2.0.0"), "{r}");
    assert_eq!(code(&s.command("QUIT")), "221");
    assert!(
        wait_for(Duration::from_secs(20), || accepted(&setup) == 1),
        "exactly one message accepted:\n{}",
        setup.log("connector.mail-in")
    );

    // A DATA that never ends: 421 after smtp_timeout, the connection closed, nothing stored.
    let mut s = ehlo(port);
    assert_eq!(code(&s.command("MAIL FROM:<slow@example.com>")), "250");
    assert_eq!(
        code(&s.command("RCPT TO:<46700000005@sms.example.com>")),
        "250"
    );
    assert_eq!(code(&s.command("DATA")), "354");
    s.send(b"Subject: slow\r\n\r\nand then nothing");
    let r = s.reply();
    assert!(r.starts_with("421 4.4.2"), "{r}");
    assert!(s.closed());

    // AUTH failures: each answered later than the one before, the third closes the session.
    let mut s = ehlo(port);
    let started = Instant::now();
    let bad = base64_plain("demo", "wrong");
    for _ in 0..2 {
        let r = s.command(&format!("AUTH PLAIN {bad}"));
        assert!(r.starts_with("535 5.7.8"), "{r}");
    }
    let r = s.command(&format!("AUTH PLAIN {bad}"));
    assert!(r.starts_with("535"), "{r}");
    let r = s.reply();
    assert!(r.starts_with("421 4.7.0"), "{r}");
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "failures are slowed down"
    );
    // The right password works (on a new connection).
    let mut s = ehlo(port);
    let r = s.command(&format!("AUTH PLAIN {}", base64_plain("demo", "demo")));
    assert!(r.starts_with("235"), "{r}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(accepted(&setup), 1, "nothing more was stored");
    let log = setup.log("connector.mail-in");
    assert!(log.contains("LOGIN ERR (info=\"demo\")"), "{log}");
    assert!(log.contains("LOGIN OK (info=\"demo\")"), "{log}");
}

fn base64_plain(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"))
}

#[test]
fn smtp_auth_required_refuses_mail_without_it() {
    let (setup, port) = gateway("smtp_auth = \"required\"", "");
    let _d = setup.start();
    wait_port(port);
    let r = smtplib(port, "plain", &[]);
    assert_eq!(r["code"], 530, "{r}");
    let r = smtplib(port, "plain", &["--auth", "demo:demo"]);
    assert_eq!(r["code"], 250, "{r}");
    let r = smtplib(port, "plain", &["--auth", "demo:demo", "--mech", "LOGIN"]);
    assert_eq!(r["code"], 250, "{r}");
}

#[test]
fn a_full_queue_answers_452_and_no_route_550() {
    // `dead` is an SMSC nobody answers for: what is routed to it stays queued.
    let (setup, port) = gateway(
        "",
        &format!(
            r#"
[connector.dead]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{}"
maxqueuesize = 1

[[route]]
prefix = "4699"
to = "dead"
"#,
            free_port()
        ),
    );
    let _d = setup.start();
    wait_port(port);
    let r = smtplib(port, "plain", &["--to", "5799000001@sms.example.com"]);
    assert_eq!(r["code"], 550, "no route: {r}");
    let r = smtplib(port, "plain", &["--to", "469900001@sms.example.com"]);
    assert_eq!(r["code"], 250, "the first fits: {r}");
    let r = smtplib(port, "plain", &["--to", "469900002@sms.example.com"]);
    assert_eq!(r["code"], 452, "the queue is full: {r}");
    assert!(
        r["message"].as_str().unwrap().contains("maxqueuesize"),
        "{r}"
    );
    assert_eq!(accepted(&setup), 1);
}

#[test]
fn a_mail_acknowledged_before_sigkill_is_sent_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let (setup, port) = gateway(
        "",
        &format!(
            r#"
[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"

[[route]]
prefix = "46"
to = "smsc"
"#
        ),
    );
    let mut d = setup.start();
    wait_port(port);
    // No SMSC yet: the message waits in the queue after its 250.
    let r = smtplib(port, "plain", &["--text", "survives a crash"]);
    assert_eq!(r["code"], 250, "{r}");
    d.kill9();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &[]);
    let _d = setup.start();
    assert!(
        wait_for(Duration::from_secs(60), || support::smsc::texts(
            &smsc.state()
        )
        .iter()
        .any(|t| t.ends_with("survives a crash"))),
        "the SMS went out after the restart: {:?}",
        support::smsc::texts(&smsc.state())
    );
}

#[test]
fn a_client_that_never_logs_in_is_closed_after_bind_timeout() {
    // smtp_timeout alone would let it sit for a minute; bind_timeout closes it after 2 s.
    let (setup, port) = gateway("bind_timeout = 2\nsmtp_timeout = 60", "");
    let _d = setup.start();
    wait_port(port);
    let started = Instant::now();
    let mut s = ehlo(port);
    let r = s.reply();
    assert!(r.starts_with("421"), "{r}");
    assert!(s.closed());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(30),
        "{waited:?}"
    );
    assert!(wait_for(Duration::from_secs(10), || setup
        .log("connector.mail-in")
        .contains("DISCONNECT (info=\"bind timeout\")")));
    // One that logs in (here: MAIL, since AUTH is not required) stays past it.
    let mut s = ehlo(port);
    assert_eq!(code(&s.command("MAIL FROM:<a@example.com>")), "250");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(code(&s.command("RSET")), "250");
}

#[test]
fn an_instance_is_taken_at_login_so_silent_clients_block_no_one() {
    // One instance: a client that connects and says nothing (nor logs in) holds none.
    let (setup, port) = gateway("bind_timeout = 60", "");
    let text = std::fs::read_to_string(&setup.config).unwrap().replace(
        &format!("address = \"127.0.0.1:{port}\"\ninstances = 4\n"),
        &format!("address = \"127.0.0.1:{port}\"\ninstances = 1\n"),
    );
    std::fs::write(&setup.config, text).unwrap();
    let _d = setup.start();
    wait_port(port);
    let silent: Vec<RawSmtp> = (0..3).map(|_| ehlo(port)).collect();
    let send = |to: &str| {
        mail::swaks(
            port,
            &[
                "--from",
                "app@example.com",
                "--to",
                to,
                "--auth",
                "PLAIN",
                "--auth-user",
                "demo",
                "--auth-password",
                "demo",
                "--body",
                "past the silent ones",
            ],
        )
    };
    let (ok, out) = send("46700000001@sms.example.com");
    assert!(ok && out.contains("250 2.0.0 Ok: queued as"), "{out}");
    assert_eq!(accepted(&setup), 1);
    // A client logged in holds the instance: the next login is refused with 421 4.3.2 and
    // the connection closed; the silent ones are still open.
    let mut holder = ehlo(port);
    let r = holder.command(&format!("AUTH PLAIN {}", base64_plain("demo", "demo")));
    assert_eq!(code(&r), "235", "{r}");
    let mut late = ehlo(port);
    let r = late.command(&format!("AUTH PLAIN {}", base64_plain("other", "pw")));
    assert!(r.starts_with("421 4.3.2 "), "{r}");
    assert!(r.contains("all 1 instances busy"), "{r}");
    assert!(late.closed());
    let (ok, out) = send("46700000002@sms.example.com");
    assert!(!ok && out.contains("421 4.3.2"), "{out}");
    assert!(setup
        .log("connector.mail-in")
        .contains("LOGIN ERR (info=\"all 1 instances busy\")"));
    // Once the holder leaves, logging in works again.
    assert_eq!(code(&holder.command("QUIT")), "221");
    assert!(wait_for(Duration::from_secs(10), || send(
        "46700000003@sms.example.com"
    )
    .0));
    assert_eq!(accepted(&setup), 2);
    drop(silent);
}

//! The SMTP connectors end to end, with the real emgd binary and third-party peers: python
//! smtplib and swaks send mail in, the npm `smpp` SMSC (tests/peers/smsc) receives the SMS,
//! python smpplib sends SMS in over SMPP, and aiosmtpd (tests/peers/smtp_relay.py) is the
//! relay mail goes out to. Bad input has its own file (smtp_bad_input.rs).
//!
//! (About 600 lines: eight scenarios over one gateway helper; bad input and reports have files of
//! their own.)

#[path = "support/mail.rs"]
mod mail;
mod support;

use mail::{content, smtplib, swaks, wait_for, wait_port, MailRelay};
use serde_json::Value;
use std::time::Duration;
use support::smsc::{self, Smsc};
use support::Setup;
use tests::daemon::free_port;

/// A gateway with `mail-in` (incoming SMTP on `smtp` for sms.example.com, QUOTEDSUBJECT `()`)
/// and the node SMSC as `smsc` for destinations starting with 46; `extra` is appended.
struct Gw {
    setup: Setup,
    smtp: u16,
}

impl Gw {
    fn new(smsc_port: u16, mail_in: &str, extra: &str) -> Gw {
        let smtp = free_port();
        let extra = format!(
            r#"
[connector.mail-in]
type = "incoming"
protocol = "smtp"
address = "127.0.0.1:{smtp}"
instances = 4
smtp_domains = ["sms.example.com"]
quotedsubject = "()"
{mail_in}

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "emg"
password = "secret"

[[route]]
prefix = "46"
to = "smsc"
{extra}
"#
        );
        Gw {
            setup: Setup::new("", "", &extra),
            smtp,
        }
    }

    fn start(&self) -> tests::daemon::Daemon {
        let d = self.setup.start();
        wait_port(self.smtp);
        d
    }
}

fn submits(state: &Value) -> Vec<Value> {
    let path = format!("{}.submits", state["out"].as_str().unwrap_or_default());
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn mail_in_reaches_the_smsc_as_sms() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &[]);
    let gw = Gw::new(smsc_port, "", "");
    let _d = gw.start();

    // Every kind of mail smtplib builds: the SMS text is the subject in () and the text parts.
    let table: &[(&str, &str)] = &[
        ("plain", "(kind plain) Lunch at 12?"),
        ("alternative", "(kind alternative) Plain text part"),
        ("html", "(kind html) Only\u{a0}HTML\nsecond&last"),
        ("base64", "(kind base64) Priset är 5 €"),
        ("utf8", "(Grüße från Åre) Hälsningar 😀"),
        ("attachment", "(kind attachment) See the attached picture"),
    ];
    for (kind, _) in table {
        let r = smtplib(gw.smtp, kind, &[]);
        assert_eq!(r["code"], 250, "{kind}: {r}");
    }
    assert!(
        wait_for(Duration::from_secs(30), || submits(&smsc.state()).len()
            >= table.len()),
        "SMSC got {:?}",
        submits(&smsc.state())
    );
    let got = submits(&smsc.state());
    for (i, (kind, text)) in table.iter().enumerate() {
        let s = &got[i];
        assert_eq!(s["text"], *text, "{kind}: {s}");
        assert_eq!(s["dest"], "46701234567", "{kind}");
        assert_eq!(s["source"], "alice@example.com", "{kind}");
        assert_eq!(
            s["source_ton"], 5,
            "{kind}: an e-mail sender is alphanumeric"
        );
    }
    let log = gw.setup.log("connector.mail-in");
    assert!(
        log.contains("discarded image/png \\\"picture.png\\\"")
            || log.contains("discarded image/png"),
        "attachments are logged as discarded:\n{log}"
    );

    // swaks: three recipients, one of them refused for its domain and one for not being a
    // number; the two numbers get one message each.
    let (_, out) = swaks(
        gw.smtp,
        &[
            "--from",
            "bob@example.org",
            "--to",
            "46700000001@sms.example.com,46700000002@SMS.example.com,bob@elsewhere.net,alice@sms.example.com",
            "--header",
            "Subject: Two at once",
            "--body",
            "Hello both",
        ],
    );
    assert!(out.contains("550 5.1.2"), "other domain refused: {out}");
    assert!(out.contains("553 5.1.3"), "not a number refused: {out}");
    assert!(out.contains("250 2.0.0 Ok: queued as"), "{out}");
    assert!(
        wait_for(Duration::from_secs(30), || submits(&smsc.state()).len()
            >= table.len() + 2),
        "two more submits"
    );
    let got = submits(&smsc.state());
    let mut two: Vec<&str> = got[table.len()..]
        .iter()
        .map(|s| s["dest"].as_str().unwrap())
        .collect();
    two.sort();
    assert_eq!(two, ["46700000001", "46700000002"]);
    for s in &got[table.len()..] {
        assert_eq!(s["text"], "(Two at once) Hello both");
        assert_eq!(s["source"], "bob@example.org");
    }

    // A long mail is one message, split by the outgoing connector into concatenated parts.
    let long = "word ".repeat(80);
    let r = smtplib(gw.smtp, "plain", &["--text", long.trim_end()]);
    assert_eq!(r["code"], 250, "{r}");
    let before = smsc::parts(&smsc.state()).len();
    assert!(
        wait_for(Duration::from_secs(30), || smsc::parts(&smsc.state()).len()
            >= before + 3
            || submits(&smsc.state()).len() >= table.len() + 5),
        "the long mail arrives in parts"
    );
    let parts = smsc::parts(&smsc.state());
    let text: String = parts[parts.len() - 3..]
        .iter()
        .map(|p| p["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(text, format!("(kind plain) {}", long.trim_end()));
}

/// Outgoing SMTP for destinations starting with 5 (relay on `relay_port`), mail addresses at
/// mail.example.net; the retry scheme retries after 1 s.
fn mail_out(relay_port: u16, more: &str) -> String {
    format!(
        r#"
[connector.mail-out]
type = "outgoing"
protocol = "smtp"
address = "127.0.0.1:{relay_port}"
smtp_domains = ["mail.example.net"]
smtp_hostname = "gw.example.net"
smtp_starttls = "no"
retryscheme = "retry.txt"
{more}

[[route]]
prefix = "5"
to = "mail-out"
"#
    )
}

#[test]
fn sms_in_leaves_as_mail_and_its_dlr_comes_back() {
    let relay = MailRelay::start(&[]);
    // QUOTEDSUBJECT on the way out: `[...]` at the start of the text is the subject.
    let gw = Gw::new(
        free_port(),
        "",
        &mail_out(relay.port, "quotedsubject = \"[]\""),
    );
    std::fs::write(gw.setup.dir.path().join("retry.txt"), "C* * 1 100 1 0 0\n").unwrap();
    let _d = gw.start();
    let r = support::smpplib(
        gw.setup.smpp_port,
        &[
            "--count",
            "1",
            "--dest",
            "5551001",
            "--text",
            "[Hälsning från Åre] Grüße, 50 € (ok)",
            "--coding",
            "8",
        ],
    );
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(1), "{r}");
    assert!(wait_for(Duration::from_secs(30), || !relay
        .taken()
        .is_empty()));
    let m = &relay.taken()[0];
    assert_eq!(m["mail_from"], "4610000@mail.example.net");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["5551001@mail.example.net"])
    );
    let text = content(m);
    assert!(
        text.contains("Content-Type: text/plain; charset=utf-8"),
        "{text}"
    );
    assert!(
        text.contains("Content-Transfer-Encoding: quoted-printable"),
        "{text}"
    );
    assert!(
        text.contains("\r\n\r\nGr=C3=BC=C3=9Fe, 50 =E2=82=AC (ok)"),
        "{text}"
    );
    // The subject in RFC 2047 encoded words, read back as it was written.
    let subject = text
        .lines()
        .find(|l| l.starts_with("Subject: "))
        .unwrap_or_default();
    assert!(subject.starts_with("Subject: =?UTF-8?B?"), "{text}");
    let parsed = common::mime::read_mail(text.as_bytes()).unwrap();
    assert_eq!(parsed.subject.as_deref(), Some("Hälsning från Åre"));
    assert!(text.contains("X-EMG-Option-ID: "), "{text}");
    assert!(text.contains("From: 4610000@mail.example.net"), "{text}");
    // The relay sends no receipts: the report says delivered once it took the mail.
    let receipts = r["receipts"].as_object().cloned().unwrap_or_default();
    assert_eq!(receipts.len(), 1, "{r}");
    let dlr = receipts.values().next().unwrap();
    assert!(
        dlr["text"].as_str().unwrap().contains("stat:DELIVRD"),
        "{dlr}"
    );
}

#[test]
fn a_relay_that_says_451_gets_the_mail_once_and_550_fails_it() {
    let relay = MailRelay::start(&["--fail-first", "1", "--refuse-rcpt", "5559"]);
    let gw = Gw::new(free_port(), "", &mail_out(relay.port, "smtp_timeout = 10"));
    std::fs::write(gw.setup.dir.path().join("retry.txt"), "C* * 1 100 1 0 0\n").unwrap();
    let _d = gw.start();
    let r = support::smpplib(
        gw.setup.smpp_port,
        &["--count", "1", "--dest", "5551002", "--text", "try again"],
    );
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(1), "{r}");
    assert!(wait_for(Duration::from_secs(30), || relay.taken().len() == 1));
    std::thread::sleep(Duration::from_secs(2));
    let data = relay.data();
    assert_eq!(
        data.iter()
            .map(|d| d["answer"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [451, 250],
        "one temporary refusal, then taken once"
    );
    let receipts = r["receipts"].as_object().cloned().unwrap_or_default();
    let dlr = receipts.values().next().expect("a receipt");
    assert!(
        dlr["text"].as_str().unwrap().contains("stat:DELIVRD"),
        "{dlr}"
    );

    // 550 at RCPT: the message fails for good, its sender hears so.
    let r = support::smpplib(
        gw.setup.smpp_port,
        &[
            "--count",
            "1",
            "--dest",
            "5559000",
            "--text",
            "no such user",
        ],
    );
    let receipts = r["receipts"].as_object().cloned().unwrap_or_default();
    let dlr = receipts.values().next().expect("a failure receipt");
    let text = dlr["text"].as_str().unwrap();
    assert!(
        text.contains("stat:UNDELIV") || text.contains("stat:REJECTD"),
        "{dlr}"
    );
    assert_eq!(relay.taken().len(), 1, "nothing more was taken");
}

#[test]
fn sat_pool_threads_mail_to_handsets_and_replies_come_back_as_mail() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &["--mo-reply"]);
    let relay = MailRelay::start(&[]);
    let extra = format!(
        r#"
[satpool.mail]
addresses = ["4670000100-4670000109"]
threaded = true

[connector.mail-out]
type = "outgoing"
protocol = "smtp"
address = "127.0.0.1:{}"
smtp_starttls = "no"

[[route]]
from = "smsc"
to = "mail-out"
"#,
        relay.port
    );
    let gw = Gw::new(smsc_port, "satpool_create_in = \"mail\"", &extra);
    // Replies arrive on the SMSC connector and are looked up there.
    let cfg = std::fs::read_to_string(&gw.setup.config).unwrap().replace(
        "password = \"secret\"\n",
        "password = \"secret\"\nsatpool_lookup_in = \"mail\"\n",
    );
    std::fs::write(&gw.setup.config, cfg).unwrap();
    let _d = gw.start();
    for (from, text) in [
        ("alice@example.com", "Lunch?"),
        ("bob@example.com", "Dinner?"),
        ("alice@example.com", "Or tea?"),
    ] {
        let r = smtplib(gw.smtp, "plain", &["--from", from, "--text", text]);
        assert_eq!(r["code"], 250, "{r}");
    }
    assert!(wait_for(Duration::from_secs(30), || submits(&smsc.state())
        .len()
        >= 2));
    let got = submits(&smsc.state());
    let pool_of = |text: &str| {
        got.iter()
            .find(|s| s["text"].as_str().unwrap().ends_with(text))
            .map(|s| {
                (
                    s["source"].as_str().unwrap().to_string(),
                    s["source_ton"].clone(),
                )
            })
            .unwrap()
    };
    let (alice_pool, ton) = pool_of("Lunch?");
    let (bob_pool, _) = pool_of("Dinner?");
    assert!(alice_pool.starts_with("46700001"), "{alice_pool}");
    assert_eq!(ton, 1, "a pool number is international");
    let (alice_again, _) = pool_of("Or tea?");
    assert_ne!(alice_pool, bob_pool, "two conversations, two pool numbers");
    assert_ne!(
        alice_again, alice_pool,
        "threaded: each mail its own number, so each reply finds the mail it answers"
    );
    // The handset answers each pool number; each reply comes back as mail to its sender.
    assert!(
        wait_for(Duration::from_secs(30), || relay.taken().len() >= 3),
        "replies mailed: {:?}",
        relay.data()
    );
    for (who, asked) in [
        ("alice@example.com", "Lunch?"),
        ("bob@example.com", "Dinner?"),
        ("alice@example.com", "Or tea?"),
    ] {
        let m = relay
            .taken()
            .into_iter()
            .find(|m| m["rcpt_tos"] == serde_json::json!([who]) && content(m).contains(asked))
            .unwrap_or_else(|| {
                panic!("no reply to {asked:?} mailed to {who}: {:?}", relay.taken())
            });
        assert_eq!(m["mail_from"], "46701234567@emg.localdomain");
        let text = content(&m);
        assert!(text.contains("re:(kind plain)"), "{text}");
    }
}

#[test]
fn starttls_and_auth_both_ways() {
    let cert = tests::smtp_peer::TestCert::new();
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, &cert.cert_pem).unwrap();
    std::fs::write(&key_path, &cert.key_pem).unwrap();
    let (c, k) = (
        cert_path.display().to_string(),
        key_path.display().to_string(),
    );
    // The relay wants STARTTLS and then AUTH.
    let relay = MailRelay::start(&["--tls", &c, &k, "--auth", "gw:relaypw"]);
    let mail_in = format!(
        "smtp_tls_cert = \"{c}\"\nsmtp_tls_key = \"{k}\"\nsmtp_starttls = \"required\"\nsmtp_auth = \"required\"\n"
    );
    let mail_out = format!(
        r#"
[connector.mail-out]
type = "outgoing"
protocol = "smtp"
address = "localhost:{}"
username = "gw"
password = "relaypw"
smtp_starttls = "required"
smtp_tls_ca = "{c}"

[[route]]
prefix = "5"
to = "mail-out"
"#,
        relay.port
    );
    let gw = Gw::new(free_port(), &mail_in, &mail_out);
    let _d = gw.start();
    // Without TLS nothing but the greeting commands; with it and AUTH the mail goes in.
    let r = smtplib(gw.smtp, "plain", &[]);
    assert_eq!(r["code"], 530, "{r}");
    assert!(r["message"].as_str().unwrap().contains("STARTTLS"), "{r}");
    let r = smtplib(
        gw.smtp,
        "plain",
        &[
            "--tls",
            &c,
            "--auth",
            "demo:demo",
            "--to",
            "5550123@sms.example.com",
        ],
    );
    assert_eq!(r["code"], 250, "{r}");
    // ... and out again to the relay, over STARTTLS with AUTH.
    assert!(
        wait_for(Duration::from_secs(30), || !relay.taken().is_empty()),
        "{:?}",
        relay.data()
    );
    let m = &relay.taken()[0];
    assert_eq!(m["tls"], true, "{m}");
    assert_eq!(m["auth"], true, "{m}");
    assert_eq!(m["mail_from"], "alice@example.com");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["5550123@emg.localdomain"])
    );
    assert!(
        content(m).contains("(kind plain) Lunch at 12?"),
        "{}",
        content(m)
    );
    let log = gw.setup.log("connector.mail-in");
    assert!(log.contains("LOGIN OK (info=\"demo\")"), "{log}");
}

#[test]
fn delivery_reports_are_mailed_to_the_sender() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &[]);
    let relay = MailRelay::start(&[]);
    let mail_in = format!(
        "smtp_dlr_relay = \"127.0.0.1:{}\"\nsmtp_dlr_from = \"reports@gw.example.net\"\nsmtp_starttls = \"no\"",
        relay.port
    );
    let gw = Gw::new(smsc_port, &mail_in, "");
    let _d = gw.start();
    let r = smtplib(gw.smtp, "plain", &["--text", "report me"]);
    assert_eq!(r["code"], 250, "{r}");
    assert!(wait_for(Duration::from_secs(30), || !relay
        .taken()
        .is_empty()));
    assert!(wait_for(Duration::from_secs(10), || smsc::count(
        &smsc.state(),
        "receipts_acked"
    ) == 1));
    let m = &relay.taken()[0];
    assert_eq!(m["mail_from"], "reports@gw.example.net");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["alice@example.com"]));
    let text = content(m);
    assert!(text.contains("Subject: Delivery report: DELIVRD"), "{text}");
    assert!(text.contains("to 46701234567 is DELIVRD"), "{text}");
    assert!(text.contains("X-EMG-Option-MSGTYPE: 5"), "{text}");
}

#[test]
fn email_messages_stay_whole_until_they_leave_on_another_type_and_mms_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &[]);
    let relay = MailRelay::start(&[]);
    let gw = Gw::new(
        smsc_port,
        "default_msgtype = \"email\"",
        &mail_out(relay.port, ""),
    );
    std::fs::write(gw.setup.dir.path().join("retry.txt"), "C* * 1 100 1 0 0\n").unwrap();
    let _d = gw.start();
    // To a handset over SMPP: read into SMS text as it leaves.
    let r = smtplib(gw.smtp, "alternative", &[]);
    assert_eq!(r["code"], 250, "{r}");
    // To a mail address over SMTP: the mail as it came, not rebuilt.
    let r = smtplib(gw.smtp, "plain", &["--to", "5551234@sms.example.com"]);
    assert_eq!(r["code"], 250, "{r}");
    assert!(wait_for(Duration::from_secs(30), || !submits(
        &smsc.state()
    )
    .is_empty()
        && !relay.taken().is_empty()));
    assert_eq!(
        submits(&smsc.state())[0]["text"],
        "(kind alternative) Plain text part"
    );
    let m = &relay.taken()[0];
    assert_eq!(m["mail_from"], "alice@example.com");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["5551234@mail.example.net"])
    );
    let text = content(m);
    assert!(
        text.contains("From: Alice Example <alice@example.com>"),
        "{text}"
    );
    assert!(text.contains("Subject: kind plain"), "{text}");
    assert!(!text.contains("X-EMG-Option-ID"), "kept whole: {text}");
    // MMS (X-EMG-Option-MSGTYPE) is stored and routed, and fails where it was routed to,
    // saying why.
    let (_, out) = swaks(
        gw.smtp,
        &[
            "--from",
            "alice@example.com",
            "--to",
            "46700000009@sms.example.com",
            "--header",
            "X-EMG-Option-MSGTYPE: MMS",
            "--body",
            "a picture",
        ],
    );
    assert!(out.contains("250 2.0.0 Ok: queued as"), "{out}");
    assert!(
        wait_for(Duration::from_secs(20), || gw
            .setup
            .log("connector.smsc")
            .contains(
                "is of type MMS, which connector smsc (Smpp) cannot send"
            )),
        "{}",
        gw.setup.log("connector.smsc")
    );
    assert_eq!(
        submits(&smsc.state()).len(),
        1,
        "the MMS never reached the SMSC"
    );
}

#[test]
fn a_relay_refusing_our_login_keeps_the_message_queued() {
    let relay = MailRelay::start(&["--auth", "gw:right"]);
    let more = "username = \"gw\"\npassword = \"wrong\"\nsmtp_timeout = 10";
    let gw = Gw::new(free_port(), "", &mail_out(relay.port, more));
    std::fs::write(gw.setup.dir.path().join("retry.txt"), "C* * 1 100 1 0 0\n").unwrap();
    let _d = gw.start();
    let r = support::smpplib(
        gw.setup.smpp_port,
        &[
            "--count",
            "1",
            "--dest",
            "5551003",
            "--text",
            "wait",
            "--timeout",
            "4",
        ],
    );
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(1), "{r}");
    // The connector's trouble, not the message's: no failure report, the message waits.
    assert_eq!(r["receipts"].as_object().map(|o| o.len()), Some(0), "{r}");
    let log = gw.setup.log("connector.mail-out");
    assert!(log.contains("authentication failed"), "{log}");
    assert!(relay.taken().is_empty());
}

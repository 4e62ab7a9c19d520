//! What leaves an incoming SMTP connector (the delivery reports mailed to the senders of its
//! mails) follows the connector semantics every path out does, end to end with the real
//! binary: python smtplib sends the mail in, the npm `smpp` SMSC (tests/peers/smsc) delivers it
//! and sends the receipt, aiosmtpd (tests/peers/smtp_relay.py) is the `smtp_dlr_relay` the
//! report is mailed through, and the operator's view is `emgclient --json`:
//! - the OUT pipeline runs on the report (`masquerade`: the handset's number is masked in it);
//! - `mode = "receive"` mails nothing back (the report waits in the queue);
//! - a report the relay answers 451 waits out its backoff in the queue, where `queue list`
//!   shows it and `msg cancel` takes it away for good.

#[path = "support/mail.rs"]
mod mail;
mod support;

use emgd::process::masquerade::Masquerade;
use mail::{content, smtplib, wait_for, wait_port, MailRelay};
use serde_json::Value;
use std::time::Duration;
use support::client::Operator;
use support::smsc::{self, Smsc};
use support::Setup;
use tests::daemon::free_port;

const KEY: &str = "smtp reports masquerade key";
/// Where smtplib_send.py's mail goes (the handset), and who sent it.
const HANDSET: &str = "46701234567";
const SENDER: &str = "alice@example.com";

/// A gateway with `mail-in` (incoming SMTP for sms.example.com, its reports mailed through
/// `relay_port`, plus `mail_in`) and `smsc` (the npm SMSC on `smsc_port`) for 46..., with MGP
/// for emgclient. Started, with its MGP port.
fn gateway(smsc_port: u16, relay_port: u16, mail_in: &str) -> (Setup, u16, u16) {
    let (smtp, mgp) = (free_port(), free_port());
    let setup = Setup::new(
        &format!("mgp_address = \"127.0.0.1:{mgp}\"\nmasquerade_key = \"{KEY}\""),
        "",
        &format!(
            r#"
[operator.admin]
password = "secret"
role = "admin"

[connector.mail-in]
type = "incoming"
protocol = "smtp"
address = "127.0.0.1:{smtp}"
smtp_domains = ["sms.example.com"]
smtp_dlr_relay = "127.0.0.1:{relay_port}"
smtp_dlr_from = "reports@gw.example.net"
smtp_starttls = "no"
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
"#
        ),
    );
    (setup, smtp, mgp)
}

/// Mail one SMS in (it asks for a report) and wait until the SMSC has had its receipt taken.
fn mail_one_and_get_its_receipt(smtp: u16, smsc: &Smsc) {
    wait_port(smtp);
    let r = smtplib(smtp, "plain", &["--text", "report me"]);
    assert_eq!(r["code"], 250, "{r}");
    assert!(
        wait_for(Duration::from_secs(30), || smsc::count(
            &smsc.state(),
            "receipts_acked"
        ) == 1),
        "{}",
        smsc.state()
    );
}

#[test]
fn the_out_pipeline_runs_on_a_mailed_report() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &[]);
    let relay = MailRelay::start(&[]);
    let (s, smtp, _mgp) = gateway(smsc_port, relay.port, "masquerade = true");
    let _d = s.start();
    mail_one_and_get_its_receipt(smtp, &smsc);
    assert!(wait_for(Duration::from_secs(30), || !relay
        .taken()
        .is_empty()));
    let m = &relay.taken()[0];
    assert_eq!(m["rcpt_tos"], serde_json::json!([SENDER]));
    let text = content(m);
    let masked = Masquerade::new(KEY).mask(HANDSET).unwrap();
    assert!(
        text.contains(&format!("to {masked} is DELIVRD")),
        "the report names the mask {masked}: {text}"
    );
    assert!(!text.contains(HANDSET), "the real number leaked: {text}");
    // The SMSC had the real number: masquerading is for the party on mail-in.
    let submits = std::fs::read_to_string(format!(
        "{}.submits",
        smsc.state()["out"].as_str().unwrap_or_default()
    ))
    .unwrap_or_default();
    assert!(submits.contains(HANDSET), "{submits}");
}

#[test]
fn a_receive_only_incoming_smtp_connector_mails_no_report() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &[]);
    let relay = MailRelay::start(&[]);
    let (s, smtp, mgp) = gateway(smsc_port, relay.port, "mode = \"receive\"");
    let _d = s.start();
    mail_one_and_get_its_receipt(smtp, &smsc);
    let op = Operator { mgp };
    // The report comes back to mail-in's queue and stays there.
    assert!(
        wait_for(Duration::from_secs(20), || op.connector("mail-in")
            ["queued"]
            == 1),
        "{}",
        op.connector("mail-in")
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(relay.data().is_empty(), "mailed: {:?}", relay.data());
    assert_eq!(op.connector("mail-in")["queued"], 1);
}

#[test]
fn a_report_waiting_out_its_backoff_is_listed_and_cancelled() {
    let tmp = tempfile::tempdir().unwrap();
    let smsc_port = free_port();
    let smsc = Smsc::start(smsc_port, tmp.path().join("smsc.json"), &[]);
    // 451 three times: the report then waits 4 s (after 1 s and 2 s) before its fourth try.
    let relay = MailRelay::start(&["--fail-first", "3"]);
    let (s, smtp, mgp) = gateway(smsc_port, relay.port, "");
    let _d = s.start();
    mail_one_and_get_its_receipt(smtp, &smsc);
    assert!(
        wait_for(Duration::from_secs(30), || relay.data().len() == 3),
        "{:?}",
        relay.data()
    );
    let op = Operator { mgp };
    let list = op.json(&["queue", "list", "mail-in"]);
    let messages: Vec<Value> = list["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(messages.len(), 1, "the waiting report is in view: {list}");
    assert_eq!(messages[0]["attempts"], 3, "{list}");
    let id = messages[0]["id"].as_u64().expect("an id");
    op.json(&["msg", "cancel", &id.to_string()]);
    assert_eq!(op.connector("mail-in")["queued"], 0);
    // Past its backoff, nothing is tried again.
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(relay.data().len(), 3, "{:?}", relay.data());
    assert!(relay.taken().is_empty());
}

//! Refusals for lack of balance end to end over the protocols the accounting test does not
//! cover, each with a real client: swaks over SMTP (554 5.7.1), the emgclient binary over MGP
//! (`no_balance`, exit 4; MGP `send` carries an account and is charged), Kannel's EMI client
//! over UCP (a 51 NACK with EC 04) and Kannel's CIMD2 client (a submit answered with error
//! code 9). Each refused message is stored nowhere but in the routelog, as REJECTED, and the
//! balance does not move. Also: the routelog names the routing entry that matched.
//!
//! Needs swaks, Debian's kannel and tshark (scripts/test installs them); a missing one fails.

#[path = "support/mail.rs"]
mod mail;
mod support;

use common::cimd2::decode_packet;
use common::ucp::{decode_frame, Body};
use mail::{swaks, wait_port};
use std::time::{Duration, Instant};
use support::client::Operator;
use support::mgp::Mgp;
use support::peers::wait_for;
use support::wire::Recorder;
use support::Setup;
use tests::daemon::free_port;
use tests::http_sink::HttpSink;
use tests::kannel::Kannel;

const WAIT: Duration = Duration::from_secs(60);

/// A gateway with MGP (operator admin/secret), a price of 0.1 a message and `extra`.
fn gateway(extra: &str) -> (Setup, u16) {
    let mgp = free_port();
    let general = format!("mgp_address = \"127.0.0.1:{mgp}\"");
    let extra = format!(
        r#"
[operator.admin]
password = "secret"
role = "admin"

[[price]]
price = "0.1"

[[route]]
name = "se-mobile"
prefix = "4670"
to = "sim1"
{extra}
"#
    );
    (Setup::new(&general, "", &extra), mgp)
}

fn balance(mgp: &mut Mgp, account: &str) -> String {
    let shown = mgp.call(&format!(r#""op":"balance_show","account":"{account}""#));
    shown["balances"][0]["balance"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn count(setup: &Setup, sql: &str) -> i64 {
    setup.db().number(sql)
}

/// The REJECTED routelog rows of `account` that name the balance as the reason.
fn refused_rows(setup: &Setup, account: &str) -> i64 {
    count(
        setup,
        &format!(
            "SELECT COUNT(*) FROM routelog WHERE account = '{account}' AND status = 'REJECTED'
             AND error LIKE '%balance of account {account} does not cover%' AND NOT charged"
        ),
    )
}

#[test]
fn smtp_and_mgp_refuse_for_lack_of_balance_and_mgp_send_is_charged() {
    let smtp = free_port();
    let (setup, mgp_port) = gateway(&format!(
        r#"
[connector.mail-in]
type = "incoming"
protocol = "smtp"
address = "127.0.0.1:{smtp}"
smtp_domains = ["sms.example.com"]
smtp_auth_plaintext = true
"#
    ));
    let _d = setup.start();
    wait_port(smtp);
    let mut mgp = Mgp::login(mgp_port);
    mgp.call(r#""op":"balance_set","account":"demo","amount":"0.25""#);
    let op = Operator { mgp: mgp_port };

    // MGP send for the account is charged: two fit, the third is refused with no_balance.
    let send = |to: &str| {
        op.run(&[
            "send",
            "--to",
            to,
            "--from",
            "4600",
            "--text",
            "hello",
            "--account",
            "demo",
        ])
    };
    let (code, out, _) = send("46701111");
    assert_eq!(code, Some(0), "{out}");
    let id: u64 = serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"]
        .as_u64()
        .expect("an id");
    assert_eq!(send("46702222").0, Some(0));
    assert_eq!(balance(&mut mgp, "demo"), "0.05");
    let (code, out, err) = send("46703333");
    assert_eq!(code, Some(4), "refused: {out} {err}");
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["error"]["code"], "no_balance", "{out}");
    assert_eq!(refused_rows(&setup, "demo"), 1);

    // The message sent shows the routing entry that took it, by name; once final, so does
    // its routelog row.
    let shown = op.json(&["msg", "show", &id.to_string()]);
    assert_eq!(shown["route_entry"], "se-mobile", "{shown}");
    assert!(wait_for(WAIT, || count(
        &setup,
        &format!(
            "SELECT COUNT(*) FROM routelog WHERE message_id = {id} AND route_entry = 'se-mobile'"
        )
    ) == 1));
    let found = op.json(&["msg", "find", "--to", "46701111"]);
    assert_eq!(found["messages"][0]["route_entry"], "se-mobile", "{found}");

    // SMTP: a mail from the account (AUTH as demo) is refused with 554 5.7.1 naming it.
    let (_, out) = swaks(
        smtp,
        &[
            "--from",
            "alice@example.com",
            "--to",
            "46704444@sms.example.com",
            "--auth",
            "PLAIN",
            "--auth-user",
            "demo",
            "--auth-password",
            "demo",
            "--body",
            "no money",
        ],
    );
    assert!(
        out.contains("554 5.7.1") && out.contains("balance of account demo"),
        "{out}"
    );
    assert_eq!(refused_rows(&setup, "demo"), 2);
    assert_eq!(balance(&mut mgp, "demo"), "0.05", "refusals cost nothing");
    // Stored: only the two MGP messages that were accepted.
    assert_eq!(count(&setup, "SELECT COUNT(*) FROM messages"), 2);
}

/// The emgd side of the Kannel tests: an incoming `protocol` connector `NAME-in` for user
/// `kannel`, whose balance is 0.
fn kannel_gateway(protocol: &str, port: u16) -> (Setup, u16) {
    gateway(&format!(
        r#"
[connector.{protocol}-in]
type = "incoming"
protocol = "{protocol}"
address = "127.0.0.1:{port}"
users = ["kannel"]

[user.kannel]
password = "secret"
"#
    ))
}

/// Kannel logged in as `kannel` over `smsc` (emi or cimd2) through `rec`; it sends three
/// messages, which its SMSC connection submits to emgd.
fn kannel_sends(setup: &Setup, smsc: &str, rec: &Recorder) -> Kannel {
    let sink = HttpSink::start(setup.dir.path()).unwrap();
    let group = format!(
        "smsc = {smsc}\nsmsc-id = k\nhost = 127.0.0.1\nport = {}\n\
         smsc-username = kannel\nsmsc-password = secret\nkeepalive = 5\nreconnect-delay = 1",
        rec.port
    );
    let kannel = Kannel::start(setup.dir.path(), &[group], &sink.url("/mo")).unwrap();
    kannel.wait_online("k", WAIT).unwrap();
    for i in 0..3 {
        kannel
            .send(
                Some("k"),
                "4242",
                &format!("4670123{i:04}"),
                "no money",
                None,
            )
            .unwrap();
    }
    kannel
}

/// Waits until `rec` has `n` frames from the server (`S`) that `refused` says are refusals.
fn wait_refusals(
    rec: &Recorder,
    n: usize,
    refused: impl Fn(&[u8]) -> bool,
    logs: impl Fn() -> String,
) {
    let deadline = Instant::now() + WAIT;
    loop {
        let seen = rec
            .frames()
            .iter()
            .filter(|(d, b)| *d == 'S' && refused(b))
            .count();
        if seen >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{seen} of {n} refusals:\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn kannel_over_ucp_gets_nack_04_for_lack_of_balance() {
    let port = free_port();
    let (setup, mgp_port) = kannel_gateway("ucp", port);
    let _d = setup.start();
    let mut mgp = Mgp::login(mgp_port);
    mgp.call(r#""op":"balance_set","account":"kannel","amount":"0""#);
    let rec = Recorder::start(port);
    let kannel = kannel_sends(&setup, "emi", &rec);
    let nack_04 = |b: &[u8]| {
        decode_frame(b).is_ok_and(|f| f.ot == 51 && matches!(&f.body, Body::Nack(n) if n.ec.0 == 4))
    };
    wait_refusals(&rec, 3, nack_04, || {
        format!("{}\n{}", setup.log("connector.ucp-in"), kannel.logs())
    });
    // The frames are well formed for Wireshark's UCP dissector too.
    let wire: Vec<Vec<u8>> = rec.frames().into_iter().map(|(_, b)| b).collect();
    for d in tests::tshark::dissect("ucp", &wire) {
        assert!(!d.malformed && d.expert.is_empty(), "{d:?}");
    }
    assert!(refused_rows(&setup, "kannel") >= 3);
    assert_eq!(
        count(&setup, "SELECT COUNT(*) FROM messages"),
        0,
        "nothing stored"
    );
    assert_eq!(balance(&mut mgp, "kannel"), "0");
}

#[test]
fn kannel_over_cimd2_gets_error_9_for_lack_of_balance() {
    let port = free_port();
    let (setup, mgp_port) = kannel_gateway("cimd2", port);
    let _d = setup.start();
    let mut mgp = Mgp::login(mgp_port);
    mgp.call(r#""op":"balance_set","account":"kannel","amount":"0""#);
    let rec = Recorder::start(port);
    let kannel = kannel_sends(&setup, "cimd2", &rec);
    // A submit's response (operation 53) carrying error code 9, requested operation failed.
    let error_9 = |b: &[u8]| decode_packet(b).is_ok_and(|p| p.op == 53 && p.error_code() == 9);
    wait_refusals(&rec, 3, error_9, || {
        format!("{}\n{}", setup.log("connector.cimd2-in"), kannel.logs())
    });
    let wire: Vec<Vec<u8>> = rec.frames().into_iter().map(|(_, b)| b).collect();
    for d in tests::tshark::dissect("cimd", &wire) {
        assert!(!d.malformed && d.expert.is_empty(), "{d:?}");
    }
    assert!(refused_rows(&setup, "kannel") >= 3);
    assert_eq!(
        count(&setup, "SELECT COUNT(*) FROM messages"),
        0,
        "nothing stored"
    );
    assert_eq!(balance(&mut mgp, "kannel"), "0");
}

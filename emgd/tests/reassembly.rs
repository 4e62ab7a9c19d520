//! Long messages received in parts are joined before they go on to a target that wants whole
//! messages (`reassemble = "auto"`: HTTP here), whatever protocol brought them: python
//! smpplib sending UDH parts over SMPP, and the GSM modem simulator (emgmodem) receiving a
//! concatenated SMS-DELIVER. The whole text arrives at an HTTP sink in one request. Parts are
//! stored as they arrive, so a SIGKILL between two parts loses nothing; a message whose last
//! part never comes is passed on part by part after `cmrexpire`.

mod support;

use std::time::Duration;
use support::modem::emgmodem;
use support::peers::wait_for;
use support::Setup;
use tests::http_sink::{HttpSink, Request};
use tests::pty::{wait_until, PtyPair, Simulator};
use tests::smpp_client::Client;

const WAIT: Duration = Duration::from_secs(60);

/// Destinations starting with 77 go to `web`, an outgoing HTTP connector posting to the sink.
fn gateway(sink: &HttpSink, general: &str, extra: &str) -> Setup {
    Setup::new(
        general,
        "",
        &format!(
            r#"
[connector.web]
type = "outgoing"
protocol = "http"
address = "{}"
http_method = "get"
http_params = {{ from = "{{from}}", to = "{{to}}", text = "{{text}}" }}

[[route]]
prefix = "77"
to = "web"
{extra}
"#,
            sink.url("/mo")
        ),
    )
}

fn texts(requests: &[Request]) -> Vec<String> {
    requests.iter().map(|r| r.query["text"].clone()).collect()
}

/// Waits a moment more and returns every request to /mo (to see that no part came alone).
fn settled(sink: &HttpSink, n: usize) -> Vec<Request> {
    sink.wait_for("/mo", n, WAIT).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    sink.wait_for("/mo", n, WAIT).unwrap()
}

#[test]
fn smpp_parts_arrive_at_an_http_target_as_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start(dir.path()).unwrap();
    let setup = gateway(&sink, "", "");
    let _d = setup.start();
    let long = "Parts of one long message, sent by smpplib as three submits. ".repeat(4);
    let long = long.trim();
    let r = support::smpplib(
        setup.smpp_port,
        &[
            "--count", "2", "--dest", "7712345", "--text", long, "--parts", "3", "--no-dlr",
        ],
    );
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(6), "{r}");
    let got = settled(&sink, 2);
    assert_eq!(
        texts(&got),
        [long, long],
        "{}",
        setup.log("connector.smpp-in")
    );
    let log = setup.log("connector.smpp-in");
    assert_eq!(
        log.matches("REASSEMBLED (info=\"3 parts").count(),
        2,
        "{log}"
    );
}

#[test]
fn a_concatenated_sms_from_the_modem_arrives_at_an_http_target_as_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start(dir.path()).unwrap();
    let pty = PtyPair::new(dir.path()).expect("socat makes a pty pair");
    let mut sim = Simulator::start(&emgmodem(), &pty.modem, &[]).expect("emgmodem starts");
    let setup = gateway(
        &sink,
        "",
        &format!(
            r#"
[connector.modem]
type = "outgoing"
protocol = "gsm"
address = "{}"
gsm_poll = 1
gsm_destaddr = "7700"

[[price]]
from = "modem"
price = "0.02"

[[price]]
from = "modem"
account = "demo"
price = "9"
"#,
            pty.host.display()
        ),
    );
    let _d = setup.start();
    sim.wait_for("emgd's set-up", WAIT, |e| {
        e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
    })
    .unwrap();
    let long = "A long reply from the handset, in more than one part. ".repeat(4);
    let long = long.trim();
    sim.control(&format!("mo +46709876543 {long}")).unwrap();
    for _ in 0..2 {
        sim.wait_for("a part deleted", WAIT, |e| e["event"] == "deleted")
            .unwrap();
    }
    let got = settled(&sink, 1);
    assert_eq!(texts(&got), [long], "{}", setup.log("connector.modem"));
    assert_eq!(got[0].query["from"], "+46709876543");
    // An MO from an SMSC (here the modem) has no account: priced by the entries that name
    // none, per part of the whole (two), summed under no account, charged to no balance.
    let store = setup.db();
    let row = |sql: &str| store.number(sql);
    assert!(wait_for(WAIT, || {
        row(
        "SELECT COUNT(*) FROM routelog WHERE in_connector = 'modem' AND account IS NULL AND parts = 2 AND price = '0.04'"
    ) == 1
    }));
    assert_eq!(row("SELECT COUNT(*) FROM routelog"), 1, "the whole, once");
    assert_eq!(
        row("SELECT price FROM hourly_summary WHERE account = ''"),
        40_000
    );
    assert_eq!(row("SELECT COUNT(*) FROM balance_history"), 0);
}

/// A raw SMPP submit of part `seq` of 2 with reference `reference`.
async fn part(c: &mut Client, reference: u8, seq: u8, text: &str) -> u32 {
    let mut body = vec![5, 0, 3, reference, 2, seq];
    body.extend_from_slice(text.as_bytes());
    let sm = common::smpp::Sm {
        source: common::smpp::SmppAddr::new(1, 1, "4610000"),
        dest: common::smpp::SmppAddr::new(1, 1, "7712345"),
        esm_class: 0x40,
        short_message: body.into(),
        ..Default::default()
    };
    let resp = c
        .request(
            common::smpp::command::SUBMIT_SM,
            common::smpp::Body::SubmitSm(sm),
        )
        .await
        .unwrap();
    resp.status
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Part 1 is answered, emgd is SIGKILLed, part 2 comes after the restart: the stored part
/// 1 is joined with it. Then a message whose part 2 never comes: after `cmrexpire` (3 s) its
/// part 1 goes on by itself, with a log line saying so.
#[test]
fn held_parts_survive_a_restart_and_a_missing_part_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start(dir.path()).unwrap();
    let setup = gateway(&sink, "cmrexpire = 3", "");
    let mut d = setup.start();
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind");
        assert_eq!(part(&mut c, 42, 1, "before the crash, ").await, 0);
    });
    d.kill9();
    let _d = setup.start();
    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind");
        assert_eq!(part(&mut c, 42, 2, "after the restart").await, 0);
    });
    let got = sink.wait_for("/mo", 1, WAIT).unwrap();
    assert_eq!(texts(&got), ["before the crash, after the restart"]);

    rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind");
        assert_eq!(part(&mut c, 43, 1, "alone").await, 0);
    });
    let got = sink.wait_for("/mo", 2, WAIT).unwrap();
    assert!(got[1].query["text"].ends_with("alone"), "{got:?}");
    assert!(wait_until(WAIT, || setup
        .log("connector.smpp-in")
        .contains(
            "REASSEMBLY TIMEOUT (info=\"1 of 2 parts from 4610000 in 3 s, part 2 missing"
        )));
}

/// A long message joined for an HTTP target is charged once it is whole, as the parts its text
/// makes (`per_part`): held parts cost nothing; when the balance does not cover the whole, the
/// last part is refused with the no-balance status and the whole message is a REJECTED
/// routelog row, its held parts dropped.
#[test]
fn a_joined_long_message_is_charged_whole_per_part() {
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start(dir.path()).unwrap();
    let mgp = tests::daemon::free_port();
    let setup = gateway(
        &sink,
        &format!("mgp_address = \"127.0.0.1:{mgp}\""),
        "[operator.admin]\npassword = \"secret\"\nrole = \"admin\"\n\n[[price]]\nprice = \"0.1\"\n",
    );
    let _d = setup.start();
    let mut op = support::mgp::Mgp::login(mgp);
    op.call(r#""op":"balance_set","account":"demo","amount":"0.5""#);
    let balance = |op: &mut support::mgp::Mgp| {
        op.call(r#""op":"balance_show","account":"demo""#)["balances"][0]["balance"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // 384 characters: three parts whole (153 each), as it is sent in three.
    let long = "Three parts, charged as three when the last one is in. ".repeat(7);
    let long = long.trim();
    let send = || {
        support::smpplib(
            setup.smpp_port,
            &[
                "--count", "1", "--dest", "7712345", "--text", long, "--parts", "3", "--no-dlr",
            ],
        )
    };
    let r = send();
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(3), "{r}");
    assert_eq!(balance(&mut op), "0.2", "three parts of 0.1");
    assert_eq!(texts(&settled(&sink, 1)), [long]);
    // The next one's first two parts are held uncharged; the whole does not fit.
    let r = send();
    assert_eq!(r["accepted"].as_array().map(|a| a.len()), Some(2), "{r}");
    assert_eq!(r["refused"], serde_json::json!([0x401]), "{r}");
    assert_eq!(balance(&mut op), "0.2");
    let store = setup.db();
    let n = |sql: &str| store.number(sql);
    assert_eq!(
        n("SELECT COUNT(*) FROM routelog WHERE status = 'REJECTED' AND parts = 3 AND NOT charged"),
        1
    );
    assert_eq!(
        n("SELECT COUNT(*) FROM concat_parts"),
        0,
        "held parts dropped"
    );
    let history = op.call(r#""op":"balance_show","account":"demo""#)["history"].clone();
    assert_eq!(history[0]["amount"], "-0.3", "{history}");
    assert_eq!(history[0]["created_by"], "charge:smpp-in", "{history}");
    assert_eq!(
        settled(&sink, 1).len(),
        1,
        "nothing more reached the target"
    );
}

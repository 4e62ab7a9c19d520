//! Accounting against the real emgd binary: prepaid and postpaid balances refused with the
//! documented codes over SMPP (python smpplib, a third-party client) and HTTP (curl), Jasmin's
//! `/balance` and `/rate`, metrics, no overspend with two sessions at full speed, a refund on
//! permanent failure, the hourly summary equal to a full recount of the routelog after a
//! SIGKILL in the middle of a load, the balance history adding up to the balance after one,
//! and a reload that keeps the store's settings until the restart.

mod support;

use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;
use support::peers::{curl, wait_for};
use support::{smpplib, Setup, StoreDb};
use tests::daemon::free_port;
use tests::smpp_client::Client;

/// The vendor-specific command_status emg.toml(5) documents for "balance does not cover it".
const ESME_RNOBALANCE: u64 = 0x401;

struct Mgp {
    w: TcpStream,
    r: BufReader<TcpStream>,
    next: u64,
}

impl Mgp {
    fn login(port: u16) -> Mgp {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let s = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) if std::time::Instant::now() > deadline => panic!("connect MGP: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut m = Mgp {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
            next: 1,
        };
        let ok = m.ask(serde_json::json!({"op":"login","user":"admin","password":"secret"}));
        assert!(ok.get("ok").is_some(), "{ok}");
        m
    }

    fn ask(&mut self, mut op: serde_json::Value) -> serde_json::Value {
        op["id"] = self.next.into();
        self.next += 1;
        self.w.write_all(format!("{op}\n").as_bytes()).unwrap();
        let mut line = String::new();
        self.r.read_line(&mut line).expect("an answer");
        serde_json::from_str(&line).unwrap()
    }

    fn ok(&mut self, op: serde_json::Value) -> serde_json::Value {
        let a = self.ask(op.clone());
        a.get("ok")
            .cloned()
            .unwrap_or_else(|| panic!("{op} failed: {a}"))
    }
}

struct Gw {
    setup: Setup,
    mgp: u16,
    http: u16,
    metrics: u16,
}

fn gateway(sim: &str, prices: &str) -> Gw {
    let (mgp, http, metrics) = (free_port(), free_port(), free_port());
    let general = format!(
        "mgp_address = \"127.0.0.1:{mgp}\"\nmetrics_address = \"127.0.0.1:{metrics}\"\ncurrency = \"SEK\""
    );
    let extra = format!(
        r#"
[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"

[connector.simfail]
type = "outgoing"
protocol = "sim"
fail_share = 1.0
fail_error = 0x45

[[route]]
prefix = "99"
to = "simfail"

[operator.admin]
password = "secret"
role = "admin"

{prices}
"#
    );
    Gw {
        setup: Setup::new(&general, sim, &extra),
        mgp,
        http,
        metrics,
    }
}

fn refused_with(report: &serde_json::Value, code: u64) -> usize {
    report["refused"]
        .as_array()
        .expect("refused list")
        .iter()
        .filter(|s| s.as_u64() == Some(code))
        .count()
}

fn accepted(report: &serde_json::Value) -> usize {
    report["accepted"].as_array().expect("accepted list").len()
}

#[test]
fn prepaid_and_postpaid_balances_refuse_over_smpp_and_http_with_their_codes() {
    let gw = gateway("", "[[price]]\nprice = \"0.1\"\ncost = \"0.02\"\n");
    let _d = gw.setup.start();
    let mut mgp = Mgp::login(gw.mgp);
    let set = mgp.ok(serde_json::json!({"op":"balance_set","account":"demo","amount":"0.5"}));
    assert_eq!(set["balances"][0]["balance"], "0.5");
    assert_eq!(set["balances"][0]["kind"], "prepaid");
    assert_eq!(set["balances"][0]["currency"], "SEK");

    // SMPP: five messages of 0.1 fit, the other three are refused with the documented code.
    let r = smpplib(gw.setup.smpp_port, &["--count", "8", "--no-dlr"]);
    assert_eq!(accepted(&r), 5, "{r}");
    assert_eq!(refused_with(&r, ESME_RNOBALANCE), 3, "{r}");
    let shown = mgp.ok(serde_json::json!({"op":"balance_show","account":"demo"}));
    assert_eq!(shown["balances"][0]["balance"], "0");

    // HTTP: topped up by 0.2, two sends go (each answer carries the balance), the third is
    // refused with 402 and its machine code.
    mgp.ok(serde_json::json!({"op":"balance_add","account":"demo","amount":"0.2"}));
    let url = |p: &str| format!("http://127.0.0.1:{}{p}", gw.http);
    let auth = ["-u", "demo:demo"];
    let send = || curl(&url("/bin/send.json?to=4670123&text=hi"), &auth);
    let (status, body) = send();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["balance"], "0.1", "{body}");
    assert_eq!(send().0, 200);
    let (status, body) = send();
    assert_eq!(status, 402, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "no_balance", "{body}");

    // Jasmin's queries.
    let (status, body) = curl(&url("/balance"), &auth);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["balance"].as_str(), v["kind"].as_str()),
        (Some("0"), Some("prepaid"))
    );
    let long = "x".repeat(200);
    let (status, body) = curl(&url(&format!("/rate?to=4670123&content={long}")), &auth);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            v["unit_rate"].as_str(),
            v["submit_sm_count"].as_u64(),
            v["price"].as_str()
        ),
        (Some("0.1"), Some(2), Some("0.2")),
        "{body}"
    );

    // Postpaid: `other` may go down to -0.3, so three messages go and the rest are refused.
    mgp.ok(serde_json::json!({"op":"balance_set","account":"other","amount":"0","postpaid_limit":"0.3"}));
    let r = smpplib(
        gw.setup.smpp_port,
        &[
            "--user",
            "other",
            "--password",
            "pw",
            "--count",
            "5",
            "--no-dlr",
        ],
    );
    assert_eq!(accepted(&r), 3, "{r}");
    assert_eq!(refused_with(&r, ESME_RNOBALANCE), 2, "{r}");
    let shown = mgp.ok(serde_json::json!({"op":"balance_show","account":"other"}));
    assert_eq!(
        (
            shown["balances"][0]["balance"].as_str(),
            shown["balances"][0]["kind"].as_str()
        ),
        (Some("-0.3"), Some("postpaid"))
    );

    // A refusal is in the routelog; the metrics count charges and refusals per account.
    let rejected = gw.setup.db().number(
        "SELECT COUNT(*) FROM routelog WHERE status = 'REJECTED' AND error LIKE '%balance%'",
    );
    assert_eq!(rejected, 6);
    let (_, metrics) = curl(&format!("http://127.0.0.1:{}/metrics", gw.metrics), &[]);
    assert!(
        metrics.contains("emg_charged_total{account=\"demo\"} 0.7"),
        "{metrics}"
    );
    assert!(
        metrics.contains("emg_charged_total{account=\"other\"} 0.3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("emg_balance_refusals_total{account=\"demo\"} 4"),
        "{metrics}"
    );
    assert!(
        metrics.contains("emg_balance_refusals_total{account=\"other\"} 2"),
        "{metrics}"
    );
}

#[test]
fn a_message_the_next_hop_refuses_for_good_is_refunded() {
    let gw = gateway("", "[[price]]\nprice = \"0.25\"\n");
    let _d = gw.setup.start();
    let mut mgp = Mgp::login(gw.mgp);
    mgp.ok(serde_json::json!({"op":"balance_set","account":"demo","amount":"1"}));
    // simfail refuses every submit with ESME_RSUBMITFAIL, which no retry rule retries.
    let r = smpplib(
        gw.setup.smpp_port,
        &["--count", "2", "--dest", "9912345", "--no-dlr"],
    );
    assert_eq!(accepted(&r), 2, "{r}");
    let store = gw.setup.db();
    let failed = || store.number("SELECT COUNT(*) FROM routelog WHERE status = 'REJECTD'");
    assert!(wait_for(Duration::from_secs(30), || failed() == 2));
    let shown = mgp.ok(serde_json::json!({"op":"balance_show","account":"demo"}));
    assert_eq!(
        shown["balances"][0]["balance"], "1",
        "both charges were given back"
    );
    // A message that was delivered keeps its charge.
    let r = smpplib(gw.setup.smpp_port, &["--count", "1", "--no-dlr"]);
    assert_eq!(accepted(&r), 1, "{r}");
    let shown = mgp.ok(serde_json::json!({"op":"balance_show","account":"demo"}));
    assert_eq!(shown["balances"][0]["balance"], "0.75");
}

/// The default policy's other half: a message that never got an attempt (its validity ended
/// while it waited for an SMSC that never answers) is refunded when it fails as EXPIRED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_expires_in_the_queue_is_refunded() {
    use common::smpp::{command, Body, Sm, SmppAddr};
    let dead = free_port();
    let gw = gateway(
        "",
        &format!(
            "[[price]]\nprice = \"0.25\"\n\n[connector.dead]\ntype = \"outgoing\"\n\
             protocol = \"smpp\"\naddress = \"127.0.0.1:{dead}\"\nstatic = true\n\n\
             [[route]]\nprefix = \"55\"\nto = \"dead\"\n"
        ),
    );
    let _d = gw.setup.start();
    let port = gw.mgp;
    let show = move || {
        tokio::task::spawn_blocking(move || {
            let shown =
                Mgp::login(port).ok(serde_json::json!({"op":"balance_show","account":"demo"}));
            shown["balances"][0]["balance"]
                .as_str()
                .unwrap()
                .to_string()
        })
    };
    tokio::task::spawn_blocking(move || {
        Mgp::login(port).ok(serde_json::json!({"op":"balance_set","account":"demo","amount":"1"}))
    })
    .await
    .unwrap();
    let mut c = Client::bind(gw.setup.smpp_port, "demo", "demo")
        .await
        .unwrap()
        .expect("bind");
    // Valid for 2 s (relative validity period).
    let sm = Sm {
        source: SmppAddr::new(1, 1, "4610000"),
        dest: SmppAddr::new(1, 1, "5550000"),
        validity_period: "000000000002000R".into(),
        short_message: b"never sent".to_vec().into(),
        ..Default::default()
    };
    let resp = c
        .request(command::SUBMIT_SM, Body::SubmitSm(sm))
        .await
        .unwrap();
    assert_eq!(resp.status, 0, "accepted");
    assert_eq!(show().await.unwrap(), "0.75", "charged when accepted");
    let store = gw.setup.db();
    assert!(wait_for(Duration::from_secs(30), || store.number(
        "SELECT COUNT(*) FROM routelog WHERE status = 'EXPIRED' AND route = 'dead' AND NOT charged"
    ) == 1));
    assert_eq!(show().await.unwrap(), "1", "given back: it was never sent");
    let refunds = store.number(
        "SELECT COUNT(*) FROM balance_history WHERE account = 'demo' AND created_by = 'refund:smpp-in' AND amount = 250000",
    );
    assert_eq!(refunds, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_of_one_account_at_full_speed_never_overspend() {
    let gw = gateway("", "[[price]]\nprice = \"0.01\"\n");
    let _d = gw.setup.start();
    let port = gw.mgp;
    tokio::task::spawn_blocking(move || {
        let mut mgp = Mgp::login(port);
        mgp.ok(serde_json::json!({"op":"balance_set","account":"demo","amount":"10"}));
    })
    .await
    .unwrap();
    // 1000 messages fit; two sessions try 1500 each, window 64.
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let port = gw.setup.smpp_port;
        sessions.push(tokio::spawn(async move {
            let mut c = Client::bind(port, "demo", "demo")
                .await
                .unwrap()
                .expect("bind");
            c.submit(1500, 64, "46701234", false, |_| true)
                .await
                .unwrap();
            (c.accepted.len(), c.refused.clone())
        }));
    }
    let mut total = 0;
    for s in sessions {
        let (ok, refused) = s.await.unwrap();
        total += ok;
        assert!(
            refused.iter().all(|s| u64::from(*s) == ESME_RNOBALANCE),
            "{refused:?}"
        );
    }
    assert_eq!(total, 1000, "exactly the balance's worth was accepted");
    let port = gw.mgp;
    let balance = tokio::task::spawn_blocking(move || {
        Mgp::login(port).ok(serde_json::json!({"op":"balance_show","account":"demo"}))
    })
    .await
    .unwrap();
    assert_eq!(balance["balances"][0]["balance"], "0");
}

/// (account, hour, prefix, connector, status) -> (messages, parts, price).
type Sums = BTreeMap<(String, i64, String, String, String), (i64, i64, Decimal)>;

fn summary(store: &StoreDb) -> Sums {
    store
        .rows("SELECT account, hour, prefix, connector, status, messages, parts, price FROM hourly_summary")
        .into_iter()
        .map(|r| {
            let n = |i: usize| r[i].parse::<i64>().unwrap();
            (
                (r[0].clone(), n(1), r[2].clone(), r[3].clone(), r[4].clone()),
                (n(5), n(6), Decimal::new(n(7), 6).normalize()),
            )
        })
        .collect()
}

/// The same sums computed from scratch from every routelog row.
fn recount(store: &StoreDb) -> Sums {
    let rows = store.rows(
        "SELECT COALESCE(account, ''), received_us, dest, COALESCE(route, ''), status, parts, CASE WHEN charged THEN price END FROM routelog",
    );
    let mut sums = Sums::new();
    for row in rows {
        let [account, received, dest, route, status, parts, price]: [String; 7] =
            row.try_into().unwrap();
        let (received, parts): (i64, i64) = (received.parse().unwrap(), parts.parse().unwrap());
        let price = Some(price).filter(|p| !p.is_empty());
        let prefix: String = dest.trim_start_matches('+').chars().take(2).collect();
        let key = (
            account,
            received.div_euclid(3_600_000_000),
            prefix,
            route,
            status,
        );
        let e = sums.entry(key).or_default();
        e.0 += 1;
        e.1 += parts;
        e.2 += price.map_or(Decimal::ZERO, |p| p.parse().unwrap());
    }
    for v in sums.values_mut() {
        v.2 = v.2.normalize();
    }
    sums
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_summary_equals_a_recount_of_the_routelog_after_a_sigkill() {
    let gw = gateway(
        "dlr_delay_ms = 50\nwindowsize = 16",
        "[[price]]\nprice = \"0.003\"\n[[price]]\nprefix = \"4670\"\nprice = \"0.007\"\n",
    );
    let mut daemon = gw.setup.start();
    let pid = daemon.pid().to_string();
    let mut client = Client::bind(gw.setup.smpp_port, "demo", "demo")
        .await
        .unwrap()
        .expect("bind");
    let mut killed = false;
    let _ = client
        .submit(20_000, 64, "46701234", true, |acked| {
            if acked >= 3_000 && !killed {
                killed = true;
                Command::new("kill").args(["-9", &pid]).status().unwrap();
                return false;
            }
            true
        })
        .await;
    assert!(killed, "killed in the middle of the load");
    daemon.kill9();
    drop(client);
    let store = gw.setup.db();
    let rows = store.number("SELECT COUNT(*) FROM routelog");
    assert!(
        rows > 0,
        "some messages reached their final state before the kill"
    );
    assert_eq!(summary(&store), recount(&store), "right after the SIGKILL");
    drop(store);

    // Restarted, the rest of the queue goes out and its receipts come in.
    let _daemon = gw.setup.start();
    let store = gw.setup.db();
    let done = |s: &StoreDb| s.number("SELECT COUNT(*) FROM routelog");
    let mut last = -1;
    assert!(wait_for(Duration::from_secs(120), || {
        let now = done(&store);
        let settled = now == last;
        last = now;
        std::thread::sleep(Duration::from_millis(900));
        settled && now >= 3_000
    }));
    let counted = recount(&store);
    assert_eq!(summary(&store), counted, "after the restart");
    let total: i64 = counted.values().map(|v| v.0).sum();
    println!("{total} routelog rows, {} summary rows", counted.len());
}

fn micros(store: &StoreDb, sql: &str) -> i64 {
    store.number(sql)
}

/// Every change to a balance is in its history (operators', charges per group commit, refunds):
/// after charged messages, refunds and a SIGKILL in the middle of the load, the history's
/// changes add up exactly to the balance, and the balance is exactly what the routelog says
/// was charged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_balance_history_adds_up_to_the_balance_after_refunds_and_a_sigkill() {
    let gw = gateway("windowsize = 16", "[[price]]\nprice = \"0.01\"\n");
    let mut daemon = gw.setup.start();
    let port = gw.mgp;
    tokio::task::spawn_blocking(move || {
        Mgp::login(port)
            .ok(serde_json::json!({"op":"balance_set","account":"demo","amount":"1000"}));
    })
    .await
    .unwrap();
    let mut client = Client::bind(gw.setup.smpp_port, "demo", "demo")
        .await
        .unwrap()
        .expect("bind");
    // Ten refunds: simfail refuses each for good before it took it.
    client
        .submit(10, 10, "9912345", false, |_| true)
        .await
        .unwrap();
    assert_eq!(client.accepted.len(), 10);
    let store = gw.setup.db();
    assert!(wait_for(Duration::from_secs(30), || micros(
        &store,
        "SELECT COUNT(*) FROM routelog WHERE status = 'REJECTD' AND NOT charged"
    ) == 10));
    drop(store);
    let pid = daemon.pid().to_string();
    let mut killed = false;
    let _ = client
        .submit(6_000, 64, "46701234", false, |acked| {
            if acked >= 1_500 && !killed {
                killed = true;
                Command::new("kill").args(["-9", &pid]).status().unwrap();
                return false;
            }
            true
        })
        .await;
    assert!(killed, "killed in the middle of the load");
    daemon.kill9();
    drop(client);

    let check = |store: &StoreDb, when: &str| {
        let balance = micros(store, "SELECT micros FROM balances WHERE account = 'demo'");
        let history = micros(
            store,
            "SELECT SUM(amount) FROM balance_history WHERE account = 'demo'",
        );
        assert_eq!(
            history, balance,
            "{when}: the history adds up to the balance"
        );
        // Charged: the routelog's counted rows, and the messages stored but not final yet.
        let counted = micros(
            store,
            "SELECT COUNT(*) FROM routelog WHERE account = 'demo' AND charged",
        );
        let under_way = micros(
            store,
            "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM routelog r WHERE r.message_id = m.id)",
        );
        assert_eq!(
            balance,
            1_000_000_000 - 10_000 * (counted + under_way),
            "{when}: {counted} charged in the routelog, {under_way} under way"
        );
        let refunds = micros(
            store,
            "SELECT SUM(amount) FROM balance_history WHERE account = 'demo' AND created_by = 'refund:smpp-in'",
        );
        assert_eq!(refunds, 10 * 10_000, "{when}: the ten refunds");
        let charge_rows = micros(
            store,
            "SELECT COUNT(*) FROM balance_history WHERE account = 'demo' AND created_by = 'charge:smpp-in'",
        );
        println!(
            "{when}: {} charges in {charge_rows} history rows",
            counted + under_way + 10
        );
    };
    check(&gw.setup.db(), "right after the SIGKILL");

    // Restarted, the rest of the queue goes out; nothing is charged or refunded twice.
    let _daemon = gw.setup.start();
    let store = gw.setup.db();
    assert!(wait_for(Duration::from_secs(120), || {
        micros(
        &store,
        "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM routelog r WHERE r.message_id = m.id)"
    ) == 0
    }));
    check(&store, "after the restart");
}

/// `refund_policy` and `summary_prefix_length` belong to the store, fixed at its start: a
/// reload that changes them says so and keeps the running values.
#[test]
fn a_reload_keeps_the_store_settings_until_the_restart() {
    let gw = gateway("", "[[price]]\nprice = \"0.25\"\n");
    let d = gw.setup.start();
    let mut mgp = Mgp::login(gw.mgp);
    mgp.ok(serde_json::json!({"op":"balance_set","account":"demo","amount":"1"}));
    let text = std::fs::read_to_string(&gw.setup.config).unwrap();
    std::fs::write(
        &gw.setup.config,
        format!("refund_policy = \"none\"\nsummary_prefix_length = 4\n{text}"),
    )
    .unwrap();
    mgp.ok(serde_json::json!({"op":"reload"}));
    let said = || format!("{}{}", d.stderr_text(), gw.setup.log("general"));
    assert!(
        wait_for(Duration::from_secs(10), || said().contains(
            "reload: refund_policy stays rejected until emgd restarts (the file now says none)"
        ) && said().contains(
            "reload: summary_prefix_length stays 2 until emgd restarts"
        )),
        "{}",
        said()
    );
    // Still refunded under `rejected`, still summed by two digits.
    let r = smpplib(
        gw.setup.smpp_port,
        &["--count", "1", "--dest", "9912345", "--no-dlr"],
    );
    assert_eq!(accepted(&r), 1, "{r}");
    let store = gw.setup.db();
    assert!(wait_for(Duration::from_secs(30), || micros(
        &store,
        "SELECT COUNT(*) FROM routelog WHERE status = 'REJECTD'"
    ) == 1));
    let shown = mgp.ok(serde_json::json!({"op":"balance_show","account":"demo"}));
    assert_eq!(shown["balances"][0]["balance"], "1", "refunded");
    let prefix = store.text("SELECT prefix FROM hourly_summary WHERE status = 'REJECTD'");
    assert_eq!(prefix, "99");
}

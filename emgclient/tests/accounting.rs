//! `emgclient balance` and `emgclient report`, the real binary against emgd in this process,
//! over a fixed data set: their exact outputs (table, CSV, JSON).

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::InProcess;
use tests::daemon::free_port;
use tests::smpp_client::Client;

const EMGCLIENT: &str = env!("CARGO_BIN_EXE_emgclient");

fn emgclient(dir: &std::path::Path, mgp: u16, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(EMGCLIENT)
        .args(["--host", &format!("127.0.0.1:{mgp}"), "--user", "admin"])
        .args(args)
        .env("EMG_PASSWORD", "secret")
        .env("XDG_CONFIG_HOME", dir)
        .env("EMGDIR", dir)
        .stdin(Stdio::null())
        .output()
        .expect("emgclient runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn submit(port: u16, count: usize, dest: &str, body_len: usize) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = Client::bind(port, "demo", "demo")
            .await
            .unwrap()
            .expect("bind");
        for _ in 0..count {
            let sm = common::smpp::pdu::Sm {
                source: common::smpp::pdu::SmppAddr::new(1, 1, "4610000"),
                dest: common::smpp::pdu::SmppAddr::new(1, 1, dest),
                short_message: vec![b'x'; body_len].into(),
                ..Default::default()
            };
            let resp = c
                .request(
                    common::smpp::command::SUBMIT_SM,
                    common::smpp::pdu::Body::SubmitSm(sm),
                )
                .await
                .unwrap();
            assert_eq!(resp.status, 0, "submit refused");
        }
        c.unbind().await;
        count
    })
}

#[test]
fn balance_and_report_outputs_over_a_fixed_data_set() {
    let dir = tempfile::tempdir().unwrap();
    let (mgp, smpp) = (free_port(), free_port());
    let config = dir.path().join("emg.toml");
    std::fs::write(
        &config,
        format!(
            r#"datadir = "data"
logdir = "log"
mgp_address = "127.0.0.1:{mgp}"
currency = "SEK"

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{smpp}"

[connector.sim1]
type = "outgoing"
protocol = "sim"

[connector.sim2]
type = "outgoing"
protocol = "sim"

[user.demo]
password = "demo"

[operator.admin]
password = "secret"
role = "admin"

[[route]]
prefix = "46"
to = "sim1"

[[route]]
prefix = "47"
to = "sim2"

[[price]]
prefix = "46"
price = "0.05"
cost = "0.01"

[[price]]
prefix = "47"
to = "sim2"
price = "0.12"
cost = "0.07"
"#
        ),
    )
    .unwrap();
    let _gw = InProcess::start(&config, mgp);
    let run = |args: &[&str]| {
        let (code, out, err) = emgclient(dir.path(), mgp, args);
        assert_eq!(code, 0, "emgclient {args:?}: {err}");
        out
    };
    assert_eq!(
        run(&["balance", "set", "demo", "10"]),
        "ACCOUNT  BALANCE  CURRENCY  KIND     POSTPAID LIMIT\n\
         demo          10  SEK       prepaid               -\n"
    );
    // 3 one-part messages to 46 (0.05 each), 2 two-part ones to 47 (0.24 each).
    submit(smpp, 3, "46701234", 10);
    submit(smpp, 2, "4712345", 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v: serde_json::Value =
            serde_json::from_str(&run(&["--json", "report", "--by", "account"])).unwrap();
        if v["rows"][0]["messages"] == 5 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the routelog never had all five: {v}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let shown = run(&["balance", "show", "demo"]);
    let (balance, history) = shown.split_once("\n\n").expect("a balance and its history");
    assert_eq!(
        balance,
        "ACCOUNT  BALANCE  CURRENCY  KIND     POSTPAID LIMIT\n\
         demo        9.37  SEK       prepaid               -"
    );
    let lines: Vec<&str> = history.lines().collect();
    assert!(lines[0].starts_with("CHANGED") && lines[0].ends_with("BEFORE  CHANGE  BY"));
    assert!(
        lines.last().unwrap().ends_with("      0      10  admin"),
        "{history}"
    );
    // The charges, summed per store commit (one message each here: each submit waits for
    // its answer), newest first, each row's before the previous row's after.
    let expected = [
        "9.61   -0.24  charge:smpp-in",
        "9.85   -0.24  charge:smpp-in",
        " 9.9   -0.05  charge:smpp-in",
        "9.95   -0.05  charge:smpp-in",
        "  10   -0.05  charge:smpp-in",
    ];
    assert_eq!(lines.len(), expected.len() + 2, "{history}");
    for (line, want) in lines[1..].iter().zip(expected) {
        assert!(
            line.ends_with(want),
            "{line:?} should end with {want:?}:\n{history}"
        );
    }
    // `balance history` lists the same, as many as asked for.
    let two = run(&["balance", "history", "demo", "--limit", "2"]);
    assert_eq!(two.lines().count(), 3, "{two}");
    assert_eq!(two.lines().nth(1), lines.get(1).copied(), "{two}");
    assert_eq!(
        run(&["report", "--by", "connector", "--csv"]),
        "connector,messages,parts,ok,failed,price,cost,currency\n\
         sim1,3,3,3,0,0.15,0.03,SEK\n\
         sim2,2,4,2,0,0.48,0.28,SEK\n"
    );
    assert_eq!(
        run(&["--json", "report", "--by", "prefix"]),
        "{\"by\":\"prefix\",\"currency\":\"SEK\",\"rows\":[\
         {\"cost\":\"0.03\",\"failed\":0,\"key\":\"46\",\"messages\":3,\"ok\":3,\"parts\":3,\"price\":\"0.15\"},\
         {\"cost\":\"0.28\",\"failed\":0,\"key\":\"47\",\"messages\":2,\"ok\":2,\"parts\":4,\"price\":\"0.48\"}]}\n"
    );
    assert_eq!(
        run(&["report", "--account", "demo", "--by", "account"]),
        "KEY   MESSAGES  PARTS  OK  FAILED  PRICE  COST\n\
         demo         5      7   5       0   0.63  0.31\n\
         (amounts in SEK)\n"
    );
    // --from and --to: a window holding the load's hour, one ending a day ago, one starting
    // in two hours.
    assert_eq!(
        run(&["report", "--by", "account", "--csv", "--from", "1d", "--to", "0s"]),
        "account,messages,parts,ok,failed,price,cost,currency\n\
         demo,5,7,5,0,0.63,0.31,SEK\n"
    );
    assert_eq!(
        run(&["report", "--by", "account", "--csv", "--to", "1d"]),
        "account,messages,parts,ok,failed,price,cost,currency\n"
    );
    let later = (chrono::Local::now() + chrono::Duration::hours(2))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    assert_eq!(
        run(&["--json", "report", "--from", &later]),
        "{\"by\":\"hour\",\"currency\":\"SEK\",\"rows\":[]}\n"
    );
    // `msg find` over the routelog by each of its criteria.
    let found = |args: &[&str]| -> Vec<(u64, String)> {
        let v: serde_json::Value =
            serde_json::from_str(&run(&[&["--json", "msg", "find"], args].concat())).unwrap();
        v["messages"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|m| {
                (
                    m["id"].as_u64().unwrap(),
                    m["dest"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let to_47 = found(&[
        "--to",
        "4712345",
        "--from",
        "4610000",
        "--since",
        "1h",
        "--account",
        "demo",
    ]);
    assert_eq!(to_47.len(), 2, "{to_47:?}");
    assert!(to_47.iter().all(|(_, d)| d == "4712345"), "{to_47:?}");
    assert_eq!(found(&["--from", "461"]).len(), 5);
    assert_eq!(found(&["--to", "4670", "--account", "demo"]).len(), 3);
    assert!(found(&["--to", "4712345", "--account", "other"]).is_empty());
    assert!(found(&["--to", "4712345", "--from", "4699"]).is_empty());
    assert!(found(&["--to", "4712345", "--since", &later]).is_empty());
    // Postpaid, and a bad amount refused with the usage exit code.
    assert_eq!(
        run(&["balance", "set", "demo", "-5", "--postpaid-limit", "100"]),
        "ACCOUNT  BALANCE  CURRENCY  KIND      POSTPAID LIMIT\n\
         demo          -5  SEK       postpaid             100\n"
    );
    let (code, _, err) = emgclient(dir.path(), mgp, &["balance", "add", "demo", "1.2.3"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("is not a decimal amount"), "{err}");
}

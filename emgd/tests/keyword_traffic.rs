//! What connector keywords do under real traffic, as one table: each row puts one keyword on
//! the incoming SMPP connector (`smpp-in`, driven by python smpplib) or on the outgoing SMPP
//! connector (`smsc`, towards the npm `smpp` SMSC), runs the real binary with traffic, and
//! checks the effect the peers see. `keywords.rs` checks where each keyword is accepted;
//! this checks that, where accepted, it acts. Rows run one after another, each bounded
//! (about 5 s; the whole table well under 60 s).

mod support;

use serde_json::Value;
use std::time::{Duration, Instant};
use support::peers::wait_for;
use support::smsc::{self, Smsc};
use support::Setup;
use tests::daemon::free_port;

/// Which connector a row's keyword goes on.
#[derive(Clone, Copy)]
enum On {
    SmppIn,
    SmppOut,
}

/// What a row sees: smpplib's report for its submits, the SMSC's state, how long from emgd
/// accepting them all to the SMSC having them all (or the wait running out), and the
/// gateway's log of `smsc`.
struct Seen {
    client: Value,
    /// The destination of every submit the SMSC accepted.
    dests: Vec<Value>,
    smsc: Value,
    took: Duration,
    log: String,
}

/// The destination of every submit the SMSC accepted (`<state>.submits`).
fn submitted_to(state: &Value) -> Vec<Value> {
    let path = format!("{}.submits", state["out"].as_str().unwrap_or_default());
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["dest"].clone())
        .collect()
}

fn accepted(v: &Value) -> usize {
    v["accepted"].as_array().map_or(0, Vec::len)
}

fn refused(v: &Value) -> Vec<u64> {
    v["refused"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

/// One row: `keyword` on `on`, `count` messages to `dest`; `expect` says what must be seen.
type Row = (
    &'static str,
    On,
    usize,
    &'static str,
    fn(&Seen) -> Result<(), String>,
);

fn rows() -> Vec<Row> {
    vec![
        (
            "replaceprefix = \"0:46\"",
            On::SmppOut,
            3,
            "0701234567",
            |s| {
                let dests = &s.dests;
                (dests.len() == 3 && dests.iter().all(|d| d == "46701234567"))
                    .then_some(())
                    .ok_or(format!("the SMSC saw {dests:?}"))
            },
        ),
        (
            "replaceprefix_in = \"0:46\"",
            On::SmppIn,
            3,
            "0701234567",
            |s| {
                let dests = &s.dests;
                (dests.len() == 3 && dests.iter().all(|d| d == "46701234567"))
                    .then_some(())
                    .ok_or(format!("the SMSC saw {dests:?}"))
            },
        ),
        ("throughput = 4", On::SmppOut, 8, "46701234567", |s| {
            // 8 at 4/s: the SMSC has them all 1.5 s after emgd took them, at the earliest.
            let n = smsc::count(&s.smsc, "accepted");
            (n == 8 && s.took >= Duration::from_millis(1500))
                .then_some(())
                .ok_or(format!("{n} sent in {:?}", s.took))
        }),
        ("mode = \"receive\"", On::SmppOut, 2, "46701234567", |s| {
            // Receive-only: accepted from the client, never sent to the SMSC.
            let n = smsc::count(&s.smsc, "accepted");
            (accepted(&s.client) == 2 && n == 0)
                .then_some(())
                .ok_or(format!(
                    "client {} accepted, SMSC got {n}",
                    accepted(&s.client)
                ))
        }),
        ("mode = \"transmit\"", On::SmppIn, 2, "46701234567", |s| {
            // Transmit-only incoming: every submit refused (ESME_RSUBMITFAIL, 0x45).
            let r = refused(&s.client);
            (r == [0x45, 0x45] && smsc::count(&s.smsc, "accepted") == 0)
                .then_some(())
                .ok_or(format!("refused {r:?}"))
        }),
        ("static = true", On::SmppOut, 0, "", |s| {
            // Connected and bound at start, with nothing to send.
            (smsc::count(&s.smsc, "binds") >= 1 && s.log.contains("LOGIN OK"))
                .then_some(())
                .ok_or(format!("SMSC {}\n{}", s.smsc, s.log))
        }),
    ]
}

fn run(keyword: &str, on: On, count: usize, dest: &str) -> Seen {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let peer = Smsc::start(port, dir.path().join("smsc.json"), &[]);
    let out_kw = if matches!(on, On::SmppOut) {
        keyword
    } else {
        ""
    };
    let extra = format!(
        "[[route]]\nprefix = \"46\"\nto = \"smsc\"\n\n[[route]]\nprefix = \"0\"\nto = \"smsc\"\n\n[connector.smsc]\ntype = \"outgoing\"\n\
         protocol = \"smpp\"\naddress = \"127.0.0.1:{port}\"\nusername = \"emg\"\n\
         password = \"secret\"\n{out_kw}\n"
    );
    let s = Setup::new("", "", &extra);
    if matches!(on, On::SmppIn) {
        let text = std::fs::read_to_string(&s.config).unwrap().replacen(
            "instances = 4\n",
            &format!("instances = 4\n{keyword}\n"),
            1,
        );
        std::fs::write(&s.config, text).unwrap();
    }
    let _d = s.start();
    let client = if count > 0 {
        support::smpplib(
            s.smpp_port,
            &[
                "--count",
                &count.to_string(),
                "--dest",
                dest,
                "--no-dlr",
                "--timeout",
                "10",
            ],
        )
    } else {
        Value::Null
    };
    // From the moment emgd accepted them all (smpplib waits for every answer).
    let started = Instant::now();
    let expected = accepted(&client) as u64;
    // Wait for the SMSC to have what was accepted (bounded: a row that expects nothing
    // to arrive waits the 3 s it takes to be sure).
    let limit = if expected == 0 || keyword.contains("receive") {
        Duration::from_secs(3)
    } else {
        Duration::from_secs(10)
    };
    wait_for(limit, || {
        let n = smsc::count(&peer.state(), "accepted");
        n >= expected && (count > 0 || smsc::count(&peer.state(), "binds") > 0)
    });
    let took = started.elapsed();
    Seen {
        client,
        dests: submitted_to(&peer.state()),
        smsc: peer.state(),
        took,
        log: s.log("connector.smsc"),
    }
}

#[test]
fn connector_keywords_act_on_traffic() {
    let started = Instant::now();
    let mut wrong = Vec::new();
    for (keyword, on, count, dest, expect) in rows() {
        let seen = run(keyword, on, count, dest);
        if let Err(why) = expect(&seen) {
            let on = match on {
                On::SmppIn => "smpp in",
                On::SmppOut => "smpp out",
            };
            wrong.push(format!("{on}: `{keyword}`: {why}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

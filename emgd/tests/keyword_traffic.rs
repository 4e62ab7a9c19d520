//! What connector keywords do under real traffic, as one table: each row puts one keyword on
//! the connector traffic comes in by or on the one it leaves by, runs the real binary with
//! traffic, and checks the effect the peers see. Traffic comes in from python smpplib
//! (`smpp-in`), curl (`http-in`, incoming HTTP) or swaks (`mail-in`, incoming SMTP), and
//! leaves to the npm `smpp` SMSC
//! (`smsc`), the HTTP provider peer tests/peers/http_provider.py (`prov`, outgoing HTTP) or
//! the simulator (`sim1`, seen through `emgclient connectors --json`). Two rows are operator
//! actions rather than keywords: `hold` (the messages stay queued while held and leave on
//! release). `keywords.rs` checks where each keyword is accepted; this checks that, where
//! accepted, it acts. Rows run one after another, each bounded (a few seconds).
//!
//! (Over 600 lines: the table, its runner and the three peers' read-outs, which are meant to be
//! read together.)

#[path = "support/mail.rs"]
mod mail;
mod support;

use emgd::process::masquerade::Masquerade;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use support::client::Operator;
use support::peers::{curl, provider, records, wait_for, Peer};
use support::smsc::{self, Smsc};
use support::Setup;
use tests::daemon::free_port;

const KEY: &str = "keyword traffic masquerade key";
const SOURCE: &str = "4610000";
const OPERATOR: &str = "[operator.admin]\npassword = \"secret\"\nrole = \"admin\"\n";

/// Where traffic comes in.
#[derive(Clone, Copy, PartialEq, Debug)]
enum In {
    /// python smpplib on `smpp-in`.
    Smpp,
    /// curl on `http-in`.
    Http,
    /// swaks on `mail-in` (incoming SMTP).
    Smtp,
}

/// Where it leaves.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Out {
    /// `smsc`, to the npm SMSC.
    Smpp,
    /// `prov`, outgoing HTTP to the provider peer.
    Http,
    /// `sim1`, the simulator.
    Sim,
}

/// Which of the two connectors carries the row's keyword.
#[derive(Clone, Copy, PartialEq, Debug)]
enum On {
    In,
    Out,
}

/// What the operator does around the traffic.
#[derive(Clone, Copy, PartialEq)]
enum Act {
    Nothing,
    /// `emgclient hold` the outgoing connector before the traffic, `release` it after.
    Hold,
}

/// What a row sees.
struct Seen {
    /// Messages the client had accepted, and the codes of those refused (SMPP command
    /// status, or HTTP status).
    accepted: usize,
    refused: Vec<u64>,
    /// How long the client took to have every answer.
    client_took: Duration,
    /// From the client's last answer to the peer having everything accepted.
    took: Duration,
    /// Destinations and sources the outgoing peer saw (the simulator shows none).
    dests: Vec<String>,
    sources: Vec<String>,
    /// Messages that left (the peer's count; the simulator's `sent`).
    delivered: u64,
    /// Held rows: what the outgoing connector had queued while held, and what had left.
    held_queued: u64,
    held_delivered: u64,
    /// The connector log of the connector carrying the keyword.
    log: String,
    /// The SMSC's binds (static).
    binds: u64,
}

struct Row {
    keyword: &'static str,
    on: On,
    input: In,
    output: Out,
    count: usize,
    dest: &'static str,
    act: Act,
    expect: fn(&Seen) -> Result<(), String>,
}

fn row(
    keyword: &'static str,
    on: On,
    (input, output): (In, Out),
    count: usize,
    dest: &'static str,
    expect: fn(&Seen) -> Result<(), String>,
) -> Row {
    Row {
        keyword,
        on,
        input,
        output,
        count,
        dest,
        act: Act::Nothing,
        expect,
    }
}

fn held(output: Out, dest: &'static str) -> Row {
    Row {
        keyword: "hold",
        act: Act::Hold,
        ..row("", On::Out, (In::Smpp, output), 3, dest, |s| {
            (s.held_queued == 3 && s.held_delivered == 0 && s.delivered == 3)
                .then_some(())
                .ok_or(format!(
                    "held: {} queued, {} left; after release {} left",
                    s.held_queued, s.held_delivered, s.delivered
                ))
        })
    }
}

fn check(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    ok.then_some(()).ok_or_else(why)
}

/// Every destination the peer saw is `want`, and it saw `n`.
fn all_dests(s: &Seen, n: usize, want: &str) -> Result<(), String> {
    check(
        s.dests.len() == n && s.dests.iter().all(|d| d == want),
        || format!("the peer saw {:?}", s.dests),
    )
}

/// The peer saw `n` messages, every one from the masked source.
fn masked_sources(s: &Seen, n: usize) -> Result<(), String> {
    let masked = Masquerade::new(KEY).mask(SOURCE).unwrap();
    check(
        s.sources.len() == n && s.sources.iter().all(|x| *x == masked),
        || format!("the peer saw sources {:?}, the mask is {masked}", s.sources),
    )
}

/// 8 at 4/s leave 1.5 s after the first at the earliest.
fn paced_out(s: &Seen) -> Result<(), String> {
    check(
        s.delivered == 8 && s.took >= Duration::from_millis(1500),
        || format!("{} sent in {:?}", s.delivered, s.took),
    )
}

/// Accepted from the client, never sent.
fn kept(s: &Seen) -> Result<(), String> {
    check(s.accepted == 2 && s.delivered == 0, || {
        format!("client {} accepted, {} sent", s.accepted, s.delivered)
    })
}

fn rows() -> Vec<Row> {
    use In as I;
    use Out as O;
    vec![
        // Outgoing SMPP.
        row(
            "replaceprefix = \"0:46\"",
            On::Out,
            (I::Smpp, O::Smpp),
            3,
            "0701234567",
            |s| all_dests(s, 3, "46701234567"),
        ),
        row(
            "throughput = 4",
            On::Out,
            (I::Smpp, O::Smpp),
            8,
            "46701234567",
            paced_out,
        ),
        row(
            "mode = \"receive\"",
            On::Out,
            (I::Smpp, O::Smpp),
            2,
            "46701234567",
            kept,
        ),
        row("static = true", On::Out, (I::Smpp, O::Smpp), 0, "", |s| {
            // Connected and bound at start, with nothing to send.
            check(s.binds >= 1 && s.log.contains("LOGIN OK"), || {
                format!("{} binds\n{}", s.binds, s.log)
            })
        }),
        row(
            "masquerade = true",
            On::Out,
            (I::Smpp, O::Smpp),
            2,
            "46701234567",
            |s| masked_sources(s, 2),
        ),
        held(O::Smpp, "46701234567"),
        // Outgoing HTTP: the OUT pipeline's copy is what the provider gets.
        row(
            "replaceprefix = \"0:46\"",
            On::Out,
            (I::Smpp, O::Http),
            3,
            "0701234567",
            |s| all_dests(s, 3, "46701234567"),
        ),
        row(
            "masquerade = true",
            On::Out,
            (I::Smpp, O::Http),
            2,
            "46701234567",
            |s| masked_sources(s, 2),
        ),
        row(
            "throughput = 4",
            On::Out,
            (I::Smpp, O::Http),
            8,
            "46701234567",
            paced_out,
        ),
        row(
            "mode = \"receive\"",
            On::Out,
            (I::Smpp, O::Http),
            2,
            "46701234567",
            kept,
        ),
        held(O::Http, "46701234567"),
        // The simulator.
        row(
            "throughput = 4",
            On::Out,
            (I::Smpp, O::Sim),
            8,
            "4712345",
            paced_out,
        ),
        row(
            "mode = \"receive\"",
            On::Out,
            (I::Smpp, O::Sim),
            2,
            "4712345",
            kept,
        ),
        held(O::Sim, "4712345"),
        // Incoming SMPP.
        row(
            "replaceprefix_in = \"0:46\"",
            On::In,
            (I::Smpp, O::Smpp),
            3,
            "0701234567",
            |s| all_dests(s, 3, "46701234567"),
        ),
        row(
            "mode = \"transmit\"",
            On::In,
            (I::Smpp, O::Smpp),
            2,
            "46701234567",
            |s| {
                // Transmit-only incoming: every submit refused (ESME_RSUBMITFAIL, 0x45).
                check(s.refused == [0x45, 0x45] && s.delivered == 0, || {
                    format!("refused {:?}", s.refused)
                })
            },
        ),
        row(
            "throughput = 4",
            On::In,
            (I::Smpp, O::Smpp),
            8,
            "46701234567",
            |s| {
                // smpplib sends all 8 at once; the answers come at 4/s: 1.5 s at least.
                check(
                    s.accepted == 8 && s.client_took >= Duration::from_millis(1500),
                    || format!("{} accepted in {:?}", s.accepted, s.client_took),
                )
            },
        ),
        // Incoming HTTP.
        row(
            "replaceprefix_in = \"0:46\"",
            On::In,
            (I::Http, O::Smpp),
            3,
            "0701234567",
            |s| all_dests(s, 3, "46701234567"),
        ),
        row(
            "mode = \"transmit\"",
            On::In,
            (I::Http, O::Smpp),
            2,
            "46701234567",
            |s| {
                // Transmit-only incoming HTTP: 403 for each, nothing sent.
                check(s.refused == [403, 403] && s.delivered == 0, || {
                    format!("refused {:?}", s.refused)
                })
            },
        ),
        // Incoming SMTP.
        row(
            "replaceprefix_in = \"0:46\"",
            On::In,
            (I::Smtp, O::Smpp),
            2,
            "0701234567",
            |s| all_dests(s, 2, "46701234567"),
        ),
        row(
            "mode = \"transmit\"",
            On::In,
            (I::Smtp, O::Smpp),
            2,
            "46701234567",
            |s| {
                // Transmit-only incoming SMTP: MAIL refused with 550, nothing sent.
                check(s.refused == [550, 550] && s.delivered == 0, || {
                    format!("refused {:?}", s.refused)
                })
            },
        ),
        row(
            "throughput = 4",
            On::In,
            (I::Http, O::Smpp),
            8,
            "46701234567",
            |s| {
                // Incoming traffic is slowed by answering later: 8 at 4/s take 1.5 s.
                check(
                    s.accepted == 8 && s.client_took >= Duration::from_millis(1500),
                    || format!("{} accepted in {:?}", s.accepted, s.client_took),
                )
            },
        ),
    ]
}

/// The outgoing peer of a row, and how to read what it saw.
enum Downstream {
    Smsc(Smsc),
    /// The provider peer (stopped when dropped) and the file it records into.
    Provider {
        _peer: Peer,
        out: std::path::PathBuf,
    },
    Sim,
}

impl Downstream {
    /// (destinations, sources) of what it took.
    fn seen(&self) -> (Vec<String>, Vec<String>) {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        match self {
            Downstream::Smsc(p) => {
                let path = format!("{}.submits", p.state()["out"].as_str().unwrap_or_default());
                records(Path::new(&path))
                    .iter()
                    .map(|v| (text(&v["dest"]), text(&v["source"])))
                    .unzip()
            }
            Downstream::Provider { out, .. } => records(out)
                .iter()
                .filter(|r| r["kind"] == "send")
                .map(|r| (text(&r["fields"]["to"]), text(&r["fields"]["from"])))
                .unzip(),
            Downstream::Sim => (Vec::new(), Vec::new()),
        }
    }

    fn delivered(&self, op: &Operator) -> u64 {
        match self {
            Downstream::Smsc(p) => smsc::count(&p.state(), "accepted"),
            Downstream::Provider { .. } => self.seen().0.len() as u64,
            Downstream::Sim => op.connector("sim1")["sent"].as_u64().unwrap_or(0),
        }
    }
}

/// The outgoing connector of `out` on `port`, its routes, with `keyword`.
fn outgoing(out: Out, port: u16, keyword: &str) -> String {
    let routes = |to: &str| {
        format!("[[route]]\nprefix = \"46\"\nto = \"{to}\"\n\n[[route]]\nprefix = \"0\"\nto = \"{to}\"\n\n")
    };
    match out {
        Out::Smpp => format!(
            "{}[connector.smsc]\ntype = \"outgoing\"\nprotocol = \"smpp\"\naddress = \"127.0.0.1:{port}\"\n\
             username = \"emg\"\npassword = \"secret\"\n{keyword}\n",
            routes("smsc")
        ),
        Out::Http => format!(
            "{}[connector.prov]\ntype = \"outgoing\"\nprotocol = \"http\"\n\
             address = \"http://127.0.0.1:{port}/send\"\n\
             http_params = {{ to = \"{{to}}\", from = \"{{from}}\", text = \"{{text}}\" }}\n\
             remote_id_json = \"/message_id\"\n{keyword}\n",
            routes("prov")
        ),
        // sim1 is the base setup's, for destinations 4...; its keyword goes in there.
        Out::Sim => String::new(),
    }
}

fn outgoing_name(out: Out) -> &'static str {
    match out {
        Out::Smpp => "smsc",
        Out::Http => "prov",
        Out::Sim => "sim1",
    }
}

/// `count` messages to `dest` from the row's client; (accepted, refused codes).
fn send(input: In, s: &Setup, ports: (u16, u16), count: usize, dest: &str) -> (usize, Vec<u64>) {
    let (http, smtp) = ports;
    match input {
        In::Smpp => {
            let n = count.to_string();
            let args = ["--count", &n, "--dest", dest, "--no-dlr", "--timeout", "10"];
            let r = support::smpplib(s.smpp_port, &args);
            let accepted = r["accepted"].as_array().map_or(0, Vec::len);
            let refused = r["refused"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            (accepted, refused)
        }
        In::Http => {
            let mut refused = Vec::new();
            let mut accepted = 0;
            for i in 0..count {
                let url = format!(
                    "http://127.0.0.1:{http}/bin/send.json?to={dest}&from={SOURCE}&text=message+{i}"
                );
                match curl(&url, &["-u", "demo:demo"]) {
                    (200, _) => accepted += 1,
                    (code, _) => refused.push(u64::from(code)),
                }
            }
            (accepted, refused)
        }
        In::Smtp => {
            let mut refused = Vec::new();
            let mut accepted = 0;
            let to = format!("{dest}@sms.example.com");
            for i in 0..count {
                let body = format!("message {i}");
                let args = ["--from", "app@example.com", "--to", &to, "--body", &body];
                let (_, out) = mail::swaks(smtp, &args);
                if out.contains("250 2.0.0 Ok: queued as") {
                    accepted += 1;
                } else {
                    // swaks marks the server's refusal `<** 550 ...`.
                    let code = out
                        .lines()
                        .find_map(|l| l.trim_start().strip_prefix("<** "))
                        .and_then(|l| l.get(..3))
                        .and_then(|c| c.parse().ok());
                    refused.push(code.unwrap_or(0));
                }
            }
            (accepted, refused)
        }
    }
}

fn run(r: &Row) -> Seen {
    let dir = tempfile::tempdir().unwrap();
    let (port, http, smtp, mgp) = (free_port(), free_port(), free_port(), free_port());
    let peer = match r.output {
        Out::Smpp => Downstream::Smsc(Smsc::start(port, dir.path().join("smsc.json"), &[])),
        Out::Http => {
            let out = dir.path().join("provider.jsonl");
            Downstream::Provider {
                _peer: provider(port, free_port(), &out),
                out,
            }
        }
        Out::Sim => Downstream::Sim,
    };
    // A held row's "keyword" names the operator's action, not a line of the file.
    let on_out = if r.on == On::Out && r.act == Act::Nothing {
        r.keyword
    } else {
        ""
    };
    let on_in = |input: In| {
        if r.on == On::In && r.input == input {
            r.keyword
        } else {
            ""
        }
    };
    let extra = format!(
        "{OPERATOR}\n[connector.http-in]\ntype = \"incoming\"\nprotocol = \"http\"\n\
         address = \"127.0.0.1:{http}\"\n{}\n\n\
         [connector.mail-in]\ntype = \"incoming\"\nprotocol = \"smtp\"\n\
         address = \"127.0.0.1:{smtp}\"\nsmtp_domains = [\"sms.example.com\"]\n{}\n\n{}",
        on_in(In::Http),
        on_in(In::Smtp),
        outgoing(r.output, port, on_out)
    );
    let sim = if r.output == Out::Sim { on_out } else { "" };
    let general = format!("mgp_address = \"127.0.0.1:{mgp}\"\nmasquerade_key = \"{KEY}\"");
    let s = Setup::new(&general, sim, &extra);
    if r.on == On::In && r.input == In::Smpp {
        let text = std::fs::read_to_string(&s.config).unwrap().replacen(
            "instances = 4\n",
            &format!("instances = 4\n{}\n", r.keyword),
            1,
        );
        std::fs::write(&s.config, text).unwrap();
    }
    let _d = s.start();
    support::peers::wait_port(http);
    let op = Operator { mgp };
    let out_name = outgoing_name(r.output);
    if r.act == Act::Hold {
        op.json(&["hold", out_name]);
    }
    let started = Instant::now();
    let (accepted, refused) = if r.count > 0 {
        send(r.input, &s, (http, smtp), r.count, r.dest)
    } else {
        (0, Vec::new())
    };
    let client_took = started.elapsed();
    let (mut held_queued, mut held_delivered) = (0, 0);
    if r.act == Act::Hold {
        // Held: nothing leaves for a while, everything stays queued.
        std::thread::sleep(Duration::from_secs(2));
        held_queued = op.connector(out_name)["queued"].as_u64().unwrap_or(0);
        held_delivered = peer.delivered(&op);
        op.json(&["release", out_name]);
    }
    let released = Instant::now();
    // Wait for the peer to have what was accepted (bounded: a row that expects nothing to
    // leave waits the 3 s it takes to be sure).
    let expected = accepted as u64;
    let limit = if expected == 0 || r.keyword.contains("receive") {
        Duration::from_secs(3)
    } else {
        Duration::from_secs(15)
    };
    let binds = |p: &Downstream| match p {
        Downstream::Smsc(p) => smsc::count(&p.state(), "binds"),
        _ => 0,
    };
    wait_for(limit, || {
        peer.delivered(&op) >= expected && (r.count > 0 || binds(&peer) > 0)
    });
    let took = released.elapsed();
    let (dests, sources) = peer.seen();
    let log_of = if r.on == On::Out {
        out_name
    } else {
        match r.input {
            In::Smpp => "smpp-in",
            In::Http => "http-in",
            In::Smtp => "mail-in",
        }
    };
    Seen {
        accepted,
        refused,
        client_took,
        took,
        dests,
        sources,
        delivered: peer.delivered(&op),
        held_queued,
        held_delivered,
        log: s.log(&format!("connector.{log_of}")),
        binds: binds(&peer),
    }
}

#[test]
fn connector_keywords_act_on_traffic() {
    let started = Instant::now();
    let mut wrong = Vec::new();
    let rows = rows();
    for r in &rows {
        let seen = run(r);
        if let Err(why) = (r.expect)(&seen) {
            wrong.push(format!(
                "{:?} in, {:?} out, on {:?}: `{}`: {why}",
                r.input, r.output, r.on, r.keyword
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    eprintln!("{} rows in {:?}", rows.len(), started.elapsed());
}

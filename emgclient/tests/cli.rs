//! End to end: the real `emgclient` binary against an emgd running in this process (Cargo
//! gives a package's tests only its own binaries, so emgd runs through `emgd::run_until`; its
//! MGP server, connectors and store are the same code the binary runs).
//!
//! Each test has its own directory and free ports, so they run in parallel.
//!
//! (Over 600 lines: one test per command family against the same in-process gateway helper; the
//! TUI's tests are in `tui_tmux.rs`.)

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::InProcess;
use tests::daemon::free_port;
use tests::smpp_client::Client;

const EMGCLIENT: &str = env!("CARGO_BIN_EXE_emgclient");

struct Gateway {
    dir: tempfile::TempDir,
    config: PathBuf,
    mgp: u16,
    smpp: u16,
    running: Option<InProcess>,
}

impl Gateway {
    /// smpp-in (user demo/demo), sim1 (routed for 4...), sim2 (DLRs after `sim2_dlr_ms`),
    /// operators admin/secret (admin), op/oppw (operator), viewer/look (readonly).
    fn new(sim2_dlr_ms: u64) -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mgp, smpp) = (free_port(), free_port());
        let text = format!(
            r#"datadir = "data"
logdir = "log"
mgp_address = "127.0.0.1:{mgp}"

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{smpp}"
instances = 2

[connector.sim1]
type = "outgoing"
protocol = "sim"
dlr_delay_ms = 50

[connector.sim2]
type = "outgoing"
protocol = "sim"
dlr_delay_ms = {sim2_dlr_ms}

[user.demo]
password = "demo"

[operator.admin]
password = "secret"
role = "admin"

[operator.op]
password = "oppw"
role = "operator"

[operator.viewer]
password = "look"

[[route]]
prefix = "4"
to = "sim1"
"#
        );
        let config = dir.path().join("emg.toml");
        std::fs::write(&config, text).expect("write config");
        let mut g = Gateway {
            dir,
            config,
            mgp,
            smpp,
            running: None,
        };
        g.start();
        g
    }

    fn start(&mut self) {
        self.running = Some(InProcess::start(&self.config, self.mgp));
    }

    fn stop(&mut self) {
        self.running.take().expect("running").stop();
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.mgp)
    }

    /// Run emgclient as `user` with `password`.
    fn run_as(&self, user: &str, password: &str, args: &[&str]) -> Output {
        Command::new(EMGCLIENT)
            .args(["--host", &self.host(), "--user", user])
            .args(args)
            .env("EMG_PASSWORD", password)
            .env("XDG_CONFIG_HOME", self.dir.path())
            .env("EMGDIR", self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("emgclient runs")
    }

    /// Run emgclient as admin; it must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run_as("admin", "secret", args);
        assert!(
            out.status.success(),
            "emgclient {args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("--json prints JSON")
    }

    fn connector(&self, name: &str) -> serde_json::Value {
        self.json(&["connector", name])
    }

    /// Poll until `cond` holds (at most 10 s).
    fn eventually(&self, what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting for: {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn submit(&self, count: usize, dest: &str) -> Vec<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut c = Client::bind(self.smpp, "demo", "demo")
                .await
                .unwrap()
                .expect("bind");
            c.submit(count, 1, dest, false, |_| true).await.unwrap();
            assert_eq!(c.accepted.len(), count, "refused: {:?}", c.refused);
            let ids = c.accepted.clone();
            c.unbind().await;
            ids
        })
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn hold_queues_release_delivers_and_queue_move() {
    let g = Gateway::new(50);
    assert_eq!(g.ok(&["hold", "sim1"]), "sim1: hold on, forceclose off\n");
    g.submit(3, "4670");
    g.submit(2, "4680");
    let q = g.json(&["queue", "list", "sim1"]);
    assert_eq!(q["queues"][0]["connector"], "sim1");
    assert_eq!(q["queues"][0]["queued"], 5, "{q}");
    assert_eq!(q["messages"].as_array().unwrap().len(), 5);
    assert_eq!(q["messages"][3]["dest"], "4680");
    assert_eq!(g.connector("sim1")["sent"], 0, "held: nothing sent");

    // Move the 468... messages to sim2, which is not held: they go out there.
    assert_eq!(
        g.ok(&["queue", "move", "sim1", "sim2", "--dest-prefix", "468"]),
        "moved 2 messages from sim1 to sim2\n"
    );
    g.eventually("sim2 sent the 2 moved messages", || {
        g.connector("sim2")["sent"] == 2
    });
    assert_eq!(g.connector("sim1")["queued"], 3);

    assert_eq!(
        g.ok(&["release", "sim1"]),
        "sim1: hold off, forceclose off\n"
    );
    g.eventually("sim1 sent its 3 messages", || {
        let c = g.connector("sim1");
        c["sent"] == 3 && c["queued"] == 0
    });

    // The human table: aligned columns.
    let table = g.ok(&["connectors"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "NAME     DIR  PROTO  STATE  BOUND  HOLD  FC  QUEUE  SENT  RECV  FAIL  SENT/S  RECV/S"
    );
    assert!(
        lines[1].starts_with("sim1     out  sim    BOUND    1/1  -     -       0     3"),
        "{table}"
    );
    assert!(
        lines[3].starts_with("smpp-in  in   smpp   IDLE     0/2  -     -       0     0     5"),
        "{table}"
    );

    let status = g.json(&["status"]);
    assert_eq!(status["sent"], 5);
    assert_eq!(status["received"], 5);
    assert_eq!(status["total_queued"], 0);
}

#[test]
fn wrong_password_unknown_connector_role_and_no_daemon_exit_codes() {
    let g = Gateway::new(50);
    let out = g.run_as("admin", "wrong", &["status"]);
    assert_eq!(out.status.code(), Some(3), "EMG: invalid login");
    assert_eq!(
        stderr(&out),
        "emgclient: login failed for user admin: wrong user or password\n"
    );
    assert!(out.stdout.is_empty());

    let out = g.run_as("admin", "secret", &["hold", "smsc9"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(
        stderr(&out),
        "emgclient: connector smsc9 does not exist (connectors: sim1, sim2, smpp-in)\n"
    );

    let out = g.run_as("viewer", "look", &["hold", "sim1"]);
    assert_eq!(out.status.code(), Some(10), "EMG: access denied");
    assert_eq!(
        stderr(&out),
        "emgclient: operator viewer (role readonly) may not hold: it needs role operator\n"
    );
    let out = g.run_as("op", "oppw", &["reload"]);
    assert_eq!(out.status.code(), Some(10));
    assert_eq!(
        g.run_as("viewer", "look", &["connectors"]).status.code(),
        Some(0)
    );

    let out = g.run_as("admin", "secret", &["msg", "show", "999"]);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(stderr(&out), "emgclient: message 999 does not exist\n");

    let nobody = format!("127.0.0.1:{}", free_port());
    let out = Command::new(EMGCLIENT)
        .args(["--host", &nobody, "status"])
        .env("EMG_PASSWORD", "x")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "cannot connect");
    assert!(
        stderr(&out).starts_with(&format!("emgclient: cannot connect to emgd at {nobody}: ")),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);

    let out = Command::new(EMGCLIENT).args(["hold"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5), "EMG: invalid argument");
}

#[test]
fn forceclose_persist_survives_a_restart() {
    let mut g = Gateway::new(50);
    assert_eq!(
        g.ok(&["forceclose", "sim1", "--persist"]),
        "sim1: hold off, forceclose on (persisted)\n"
    );
    assert_eq!(
        g.ok(&["forceclose", "sim2"]),
        "sim2: hold off, forceclose on\n"
    );
    g.eventually("sim1 closed", || g.connector("sim1")["states"][0] == "IDLE");
    g.stop();
    g.start();
    let sim1 = g.connector("sim1");
    assert_eq!(sim1["forceclose"], true, "persisted: {sim1}");
    assert_eq!(sim1["states"][0], "IDLE");
    assert_eq!(g.connector("sim2")["forceclose"], false, "not persisted");

    assert_eq!(
        g.ok(&["forceclose", "--clear", "sim1"]),
        "sim1: hold off, forceclose off\n"
    );
    g.eventually("sim1 bound again", || {
        g.connector("sim1")["states"][0] == "BOUND"
    });
    g.stop();
    g.start();
    assert_eq!(
        g.connector("sim1")["forceclose"],
        false,
        "cleared in the store too"
    );
}

#[test]
fn hold_survives_a_restart_and_nothing_leaves_until_release() {
    let mut g = Gateway::new(50);
    assert_eq!(g.ok(&["hold", "sim1"]), "sim1: hold on, forceclose off\n");
    g.submit(2, "4670");
    g.stop();
    g.start();
    let sim1 = g.connector("sim1");
    assert_eq!(sim1["hold"], true, "stored: {sim1}");
    assert_eq!(sim1["queued"], 2, "{sim1}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(g.connector("sim1")["sent"], 0, "held after the restart");
    assert_eq!(
        g.ok(&["release", "sim1"]),
        "sim1: hold off, forceclose off\n"
    );
    g.eventually("sim1 sent both", || g.connector("sim1")["sent"] == 2);
    g.stop();
    g.start();
    assert_eq!(g.connector("sim1")["hold"], false, "release is stored too");
}

#[test]
fn tail_pdu_shows_live_pdu_lines() {
    let g = Gateway::new(50);
    let child = Command::new(EMGCLIENT)
        .args([
            "--host",
            &g.host(),
            "--user",
            "viewer",
            "tail",
            "smpp-in",
            "--pdu",
            "-n",
            "2",
        ])
        .env("EMG_PASSWORD", "look")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The tail starts asynchronously: submit until it has seen two lines and exits.
    let pid = child.id();
    let waiter = std::thread::spawn(move || child.wait_with_output().unwrap());
    let deadline = Instant::now() + Duration::from_secs(15);
    while !waiter.is_finished() {
        assert!(
            Instant::now() < deadline,
            "tail (pid {pid}) saw no PDU lines"
        );
        g.submit(1, "4670");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = waiter.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for l in &lines {
        assert!(l.contains(" INFO  (smpp-in,"), "not a PDU log line: {l}");
        assert!(l.contains(" op:0x"), "not a PDU log line: {l}");
    }
}

#[test]
fn send_dlr_inject_cancel_and_reload() {
    // sim2 answers with its own receipt only after 10 minutes: the injected one wins.
    let g = Gateway::new(600_000);
    let sent = g.json(&[
        "send", "--to", "4671", "--from", "Shop", "--text", "hej då", "--via", "sim2", "--dlr",
    ]);
    assert_eq!(sent["target"], "sim2");
    assert_eq!(sent["state"], "queued");
    let id = sent["id"].as_u64().unwrap().to_string();
    g.eventually("sent to sim2", || {
        g.json(&["msg", "show", &id])["state"] == "sent"
    });
    let shown = g.json(&["msg", "show", &id]);
    assert_eq!(shown["origin"], "mgp");
    assert_eq!(shown["origin_user"], "admin");
    assert_eq!(shown["text"], "hej då");
    assert_eq!(shown["dlr_requested"], true);
    assert!(shown["remote_id"].is_string(), "{shown}");
    assert_eq!(
        g.ok(&["dlr", "inject", &id, "DELIVRD"]),
        format!("message {id}: delivery report injected, now done\n")
    );
    let shown = g.json(&["msg", "show", &id]);
    assert_eq!(shown["state"], "done");
    assert_eq!(shown["status"], "DELIVRD");
    let out = g.run_as("admin", "secret", &["dlr", "inject", &id, "DELIVRD"]);
    assert_eq!(out.status.code(), Some(4), "refused: {}", stderr(&out));

    // Cancel a message waiting behind a hold.
    g.ok(&["hold", "sim1"]);
    let out = g.ok(&["send", "--to", "4672", "--from", "Shop", "--text", "x"]);
    let id2 = out
        .strip_prefix("message ")
        .and_then(|r| r.strip_suffix(" queued on sim1\n"))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    assert_eq!(
        g.ok(&["msg", "cancel", &id2]),
        format!("message {id2} cancelled (was queued on sim1)\n")
    );
    assert_eq!(g.json(&["msg", "show", &id2])["state"], "cancelled");
    assert_eq!(g.connector("sim1")["queued"], 0);

    // queue clear
    g.submit(2, "4673");
    assert_eq!(
        g.ok(&["queue", "clear", "sim1"]),
        "cancelled 2 messages queued on sim1\n"
    );

    assert_eq!(
        g.ok(&["reload"]),
        format!(
            "configuration reloaded from {} (3 connectors)\n",
            g.config.display()
        )
    );
    std::fs::write(&g.config, "zz = 1\n").unwrap();
    let out = g.run_as("admin", "secret", &["reload"]);
    assert_eq!(out.status.code(), Some(4), "refused");
    assert!(
        stderr(&out).starts_with("emgclient: configuration not reloaded, the running one stays: "),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);
}

#[test]
fn connector_lists_its_sessions_while_bound() {
    let g = Gateway::new(50);
    let sessions = |name: &str| g.connector(name)["sessions"].as_array().cloned().unwrap();
    // sim1 binds in-process at start; smpp-in waits for a client.
    g.eventually("sim1 bound", || sessions("sim1").len() == 1);
    let sim = &sessions("sim1")[0];
    assert_eq!(
        (&sim["peer"], &sim["bind"], &sim["user"]),
        (
            &"in-process".into(),
            &"sim".into(),
            &serde_json::Value::Null
        )
    );
    assert!(sessions("smpp-in").is_empty());
    assert!(g
        .ok(&["connector", "smpp-in"])
        .contains("sessions      none"));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    let client = rt.block_on(async {
        Client::bind(g.smpp, "demo", "demo")
            .await
            .unwrap()
            .expect("bind")
    });
    let peer = client.local_addr().unwrap().to_string();
    assert!(peer.starts_with("127.0.0.1:"), "{peer}");
    let list = sessions("smpp-in");
    assert_eq!(list.len(), 1, "{list:?}");
    let s = &list[0];
    assert_eq!(s["instance"], 0);
    assert_eq!(s["peer"], peer.as_str());
    assert_eq!(s["bind"], "transceiver");
    assert_eq!(s["user"], "demo");
    let since = s["since_us"].as_i64().unwrap();
    assert!(since >= before - 1_000_000 && since <= before + 10_000_000);

    let text = g.ok(&["connector", "smpp-in"]);
    let header = text
        .lines()
        .find(|l| l.starts_with("INSTANCE"))
        .unwrap_or_else(|| panic!("no sessions table in:\n{text}"));
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["INSTANCE", "PEER", "BIND", "USER", "SINCE", "INFLIGHT"]
    );
    let row = text.lines().find(|l| l.contains(&peer)).unwrap();
    let cells: Vec<_> = row.split_whitespace().collect();
    assert_eq!(&cells[..4], ["0", peer.as_str(), "transceiver", "demo"]);
    assert!(row.contains(" UTC "), "{row}");
    assert_eq!(
        cells.last(),
        Some(&"0"),
        "nothing in flight on an idle session: {row}"
    );

    rt.block_on(client.unbind());
    g.eventually("the session gone after unbind", || {
        sessions("smpp-in").is_empty()
    });
}

/// The SMPP parameters carried through with a message are shown by `msg show`.
#[test]
fn msg_show_lists_the_tlvs_carried_through() {
    use common::smpp::{command, tlv, Body, Sm, SmppAddr, Tlv};
    let g = Gateway::new(50);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = rt.block_on(async {
        let mut c = Client::bind(g.smpp, "demo", "demo")
            .await
            .unwrap()
            .expect("bind");
        let sm = Sm {
            source: SmppAddr::new(1, 1, "4610000"),
            dest: SmppAddr::new(1, 1, "4670000"),
            short_message: b"with tlvs".to_vec().into(),
            tlvs: vec![
                Tlv::u16(tlv::USER_MESSAGE_REFERENCE, 7),
                Tlv::u16(tlv::SOURCE_PORT, 0x1234),
            ],
            ..Default::default()
        };
        let resp = c
            .request(command::SUBMIT_SM, Body::SubmitSm(sm))
            .await
            .unwrap();
        assert_eq!(resp.status, 0);
        match resp.body {
            Body::SubmitSmResp { message_id, .. } => message_id,
            other => panic!("{other:?}"),
        }
    });
    let shown = g.ok(&["msg", "show", &id]);
    assert!(
        shown.contains("tlvs          user_message_reference=0007 source_port=1234"),
        "{shown}"
    );
}

#[test]
fn send_takes_any_mgp_option_with_o() {
    let g = Gateway::new(600_000);
    // EMG's emgsend -o: the options by name, ROUTE as a hard route.
    let sent = g.json(&[
        "send",
        "-o",
        "DESTADDR=4677",
        "-o",
        "SOURCEADDR=Shop",
        "-o",
        "MESSAGE=hello there",
        "-o",
        "VP=30",
        "-o",
        "PRIORITY=1",
        "-o",
        "ROUTE=sim2",
        "-o",
        "DLR=1",
    ]);
    assert_eq!(sent["target"], "sim2", "{sent}");
    let id = sent["id"].as_u64().unwrap().to_string();
    let shown = g.json(&["msg", "show", &id]);
    assert_eq!(shown["text"], "hello there");
    assert_eq!(shown["dest"], "4677");
    assert_eq!(shown["dlr_requested"], true);
    assert_eq!(shown["origin_user"], "admin");
    // --to/--from/--text mix with options (a UDH and binary data here).
    let sent = g.json(&[
        "send",
        "--to",
        "4678",
        "--from",
        "Shop",
        "-o",
        "UDH=0605040B8423F0",
        "-o",
        "CHARCODE=2",
        "-o",
        "MESSAGE=C0FFEE",
    ]);
    let shown = g.json(&["msg", "show", &sent["id"].as_u64().unwrap().to_string()]);
    assert_eq!(shown["dest"], "4678");
    assert_eq!(shown["target"], "sim1");
    // An option emg does not take, or a bad value, is refused by name.
    let out = g.run_as(
        "admin",
        "secret",
        &[
            "send",
            "--to",
            "4679",
            "--from",
            "x",
            "--text",
            "y",
            "-o",
            "VALIDTY=5",
        ],
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("VALIDTY: not an MGP option emg takes"),
        "{}",
        stderr(&out)
    );
    let out = g.run_as(
        "admin",
        "secret",
        &[
            "send",
            "-o",
            "DESTADDR=4679",
            "-o",
            "MESSAGE=x",
            "-o",
            "VP=zero",
        ],
    );
    assert!(
        stderr(&out).contains("VP: `zero` is not a number"),
        "{}",
        stderr(&out)
    );
    let out = g.run_as("admin", "secret", &["send", "-o", "nonsense"]);
    assert_eq!(
        out.status.code(),
        Some(5),
        "invalid argument: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("`nonsense` is not OPTION=value"),
        "{}",
        stderr(&out)
    );
    // MSGTYPE=5 injects a report, only for a connector whose peer sends none (ebe, http):
    // sim2 sends its own.
    g.eventually("sent to sim2", || {
        g.json(&["msg", "show", &id])["state"] == "sent"
    });
    let out2 = g.run_as(
        "admin",
        "secret",
        &[
            "send",
            "-o",
            "MSGTYPE=5",
            "-o",
            &format!("ORIGID={id}"),
            "-o",
            "MESSAGESTATE=DELIVERED",
        ],
    );
    assert_eq!(out2.status.code(), Some(4), "{}", stderr(&out2));
    assert!(
        stderr(&out2).contains("gets its receipts from its peer"),
        "{}",
        stderr(&out2)
    );
    let out = g.run_as(
        "admin",
        "secret",
        &[
            "send",
            "-o",
            "MSGTYPE=5",
            "-o",
            "ORIGID=nope",
            "-o",
            "MESSAGESTATE=FAILED",
        ],
    );
    assert!(
        stderr(&out).contains("no message awaits a delivery report under ORIGID nope"),
        "{}",
        stderr(&out)
    );
}

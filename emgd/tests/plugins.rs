//! Plugins end to end, with the real emgd binary: python smpplib and curl as clients, Lua
//! scripts at every hook. A content filter answered with SMPP's and HTTP's errors; routing,
//! rewriting and a price tag seen on the stored message; a report held back and one changed
//! on its way out; a syntax error refused by --check-config at its line; an endless loop cut
//! at its budget; a changed script reloaded under load with nothing lost.
//!
//! (Over 600 lines: eight end-to-end tests, each a hook or a failure mode with its own
//! scripts, clients and checks.)

mod support;

use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};
use support::{smpplib, Setup};
use tests::daemon::free_port;

/// The base setup plus `http-in` (on the port returned), `sim2` (a simulated SMSC the routing
/// table never names), the `scripts` written beside the config, and `plugins` (tables).
fn setup(scripts: &[(&str, &str)], plugins: &str) -> (Setup, u16) {
    let http = free_port();
    let extra = format!(
        r#"
[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"

[connector.sim2]
type = "outgoing"
protocol = "sim"
dlr_delay_ms = 50
{plugins}
"#
    );
    let s = Setup::new("", "dlr_delay_ms = 50", &extra);
    for (name, text) in scripts {
        std::fs::write(s.dir.path().join(name), text).unwrap();
    }
    (s, http)
}

/// Run curl with `args` against `url`: (status, body).
fn curl(url: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-S", "-w", "\n%{http_code}", "--max-time", "20"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs (scripts/test installs it)");
    assert!(out.status.success(), "curl {url} failed");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// Every stored message as (id, target, the message as JSON), read from its record.
fn stored(s: &Setup) -> Vec<(u64, String, Value)> {
    s.db()
        .byte_rows("SELECT id, target, data FROM messages ORDER BY id")
        .into_iter()
        .map(|r| {
            let id: u64 = String::from_utf8_lossy(&r[0]).parse().expect("an id");
            let target = String::from_utf8_lossy(&r[1]).into_owned();
            let m = emgd::store::codec::decode(id, &target, &r[2]).expect("a message record");
            (id, target, serde_json::to_value(&m).unwrap())
        })
        .collect()
}

fn text_of(m: &Value) -> String {
    let body: Vec<u8> = serde_json::from_value(m["body"].clone()).unwrap();
    String::from_utf8(body).unwrap()
}

fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

const FILTER: &str = r#"-- A content filter: gambling is refused for good, shouting is throttled.
function before_receive(msg)
  local text = string.lower(msg.message)
  if text:find("casino") then
    return false, "gambling advertisement"
  end
  if msg.message == string.upper(msg.message) and #msg.message > 3 then
    return false, "too loud, slow down", "throttled"
  end
end
"#;

#[test]
fn a_content_filter_refuses_with_the_smpp_and_http_errors() {
    let (s, http) = setup(
        &[("filter.lua", FILTER)],
        "[plugin.filter]\nscript = \"filter.lua\"\nglobal = true\n",
    );
    let mut daemon = s.start();
    wait_for(Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", http)).is_ok()
    });
    let port = s.smpp_port;
    let refused = |text: &str| {
        smpplib(
            port,
            &[
                "--count",
                "1",
                "--no-dlr",
                "--timeout",
                "10",
                "--text",
                text,
            ],
        )["refused"]
            .clone()
    };
    // ESME_RSUBMITFAIL for a refusal, ESME_RTHROTTLED for "throttled".
    assert_eq!(refused("Win big at the Casino"), serde_json::json!([0x45]));
    assert_eq!(refused("HELLO THERE"), serde_json::json!([0x58]));
    assert_eq!(refused("hello there"), serde_json::json!([]));

    let url = |text: &str| format!("http://127.0.0.1:{http}/bin/send.json?to=4670123&text={text}");
    let (code, body) = curl(&url("casino%20night"), &["-u", "demo:demo"]);
    assert_eq!(code, 403, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"], "refused", "{body}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("refused by plugin filter: gambling advertisement"),
        "{body}"
    );
    let (code, body) = curl(&url("SHOUTING"), &["-u", "demo:demo"]);
    assert_eq!(code, 429, "{body}");
    let (code, body) = curl(&url("quiet"), &["-u", "demo:demo"]);
    assert_eq!(code, 200, "{body}");

    let log = s.log("connector.smpp-in");
    assert!(
        log.contains("PLUGIN REJECT (info=\"filter gambling advertisement\")"),
        "{log}"
    );
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let rejected: Vec<String> = s
        .db()
        .rows("SELECT error FROM routelog WHERE status = 'REJECTED' ORDER BY message_id")
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        rejected,
        [
            "refused by plugin filter: gambling advertisement",
            "refused by plugin filter: too loud, slow down",
            "refused by plugin filter: gambling advertisement",
            "refused by plugin filter: too loud, slow down",
        ]
    );
}

const FLOW: &str = r#"-- Every hook: rewrite, tag a price, route, change what is sent, hold a report back.
local received = 0
function before_receive(msg)
  received = received + 1
  if msg.destaddr:sub(1, 2) == "00" then msg.destaddr = msg.destaddr:sub(3) end
  msg.message = string.upper(msg.message) .. " #" .. received
  msg.charge = options.price
  msg.charge_cost = "0.0123"
end
function route(msg)
  if msg.destaddr:sub(1, 4) == "4699" then return "sim2" end
end
function before_send(msg)
  if msg.msgtype == 5 then msg.sourceaddr = "REPORTED" end
end
function on_dlr(msg)
  if msg.sourceaddr:sub(1, 4) == "4699" then return false end
  msg.charge = "0.01"
end
"#;

#[test]
fn routing_rewriting_price_and_reports() {
    let (s, _) = setup(
        &[("flow.lua", FLOW)],
        "[plugin.flow]\nscript = \"flow.lua\"\nglobal = true\noptions = { price = \"0.05\" }\n",
    );
    let mut daemon = s.start();
    let sent = smpplib(
        s.smpp_port,
        &["--count", "2", "--dest", "004670123", "--text", "hello"],
    );
    assert_eq!(sent["accepted"].as_array().unwrap().len(), 2, "{sent}");
    let receipts = sent["receipts"].as_object().unwrap();
    assert_eq!(receipts.len(), 2, "{sent}");
    for r in receipts.values() {
        assert_eq!(
            r["source"], "REPORTED",
            "before_send changed the report: {sent}"
        );
    }
    // Routed to sim2 by the plugin; its report held back by on_dlr.
    let held = smpplib(
        s.smpp_port,
        &["--count", "1", "--dest", "4699123", "--timeout", "5"],
    );
    assert_eq!(held["accepted"].as_array().unwrap().len(), 1, "{held}");
    assert_eq!(held["receipts"], serde_json::json!({}), "{held}");
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());

    let all = stored(&s);
    let sms: Vec<&(u64, String, Value)> = all
        .iter()
        .filter(|(_, _, m)| m["msgtype"] == "Sms")
        .collect();
    assert_eq!(sms.len(), 3);
    for (i, (_, target, m)) in sms.iter().enumerate() {
        assert_eq!(m["price"], "0.05", "{m}");
        assert_eq!(m["cost"], "0.0123", "{m}");
        // smpplib's own text for the third ("message 0"); the plugin counts every message.
        let want = ["HELLO #1", "HELLO #2", "MESSAGE 0 #3"][i];
        assert_eq!(text_of(m), want, "{m}");
        let dest = m["dest"]["addr"].as_str().unwrap();
        match i {
            0 | 1 => assert_eq!((dest, target.as_str()), ("4670123", "sim1")),
            _ => assert_eq!((dest, target.as_str()), ("4699123", "sim2")),
        }
    }
    let reports: Vec<&Value> = all
        .iter()
        .filter(|(_, _, m)| m["msgtype"] == "Dlr")
        .map(|(_, _, m)| m)
        .collect();
    assert_eq!(reports.len(), 2, "one held back");
    for r in reports {
        assert_eq!(r["price"], "0.01", "on_dlr tagged the report: {r}");
    }
}

#[test]
fn check_config_refuses_a_syntax_error_at_its_line() {
    let (s, _) = setup(
        &[(
            "bad.lua",
            "-- line 1\nfunction before_receive(msg)\n  if msg.destaddr = \"x\" then return false end\nend\n",
        )],
        "[plugin.bad]\nscript = \"bad.lua\"\n\n[plugin.good]\nscript = \"filter.lua\"\n",
    );
    std::fs::write(s.dir.path().join("filter.lua"), FILTER).unwrap();
    let out = Command::new(support::EMGD)
        .args(["--check-config", "--config"])
        .arg(&s.config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let dir = format!("{}/", s.dir.path().display());
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&dir, "");
    assert_eq!(
        stderr,
        "bad.lua:3:19: plugin.bad: syntax error: 'then' expected near '='\n"
    );
    // And emgd does not start on it.
    let run = Command::new(support::EMGD)
        .arg("--config")
        .arg(&s.config)
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("bad.lua:3:19: plugin.bad: syntax error"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn an_endless_loop_is_cut_at_its_budget_and_emgd_serves_on() {
    let spin = "function before_receive(msg)\n  if msg.message == \"spin\" then\n    while true do end\n  end\nend\n";
    let (s, _) = setup(
        &[("spin.lua", spin)],
        "[plugin.spin]\nscript = \"spin.lua\"\nglobal = true\non_error = \"closed\"\nbudget_ms = 50\n",
    );
    let mut daemon = s.start();
    let started = Instant::now();
    let spun = smpplib(
        s.smpp_port,
        &[
            "--count",
            "2",
            "--no-dlr",
            "--timeout",
            "20",
            "--text",
            "spin",
        ],
    );
    // Failing closed: a temporary refusal (ESME_RSYSERR) for each, and quickly.
    assert_eq!(spun["refused"], serde_json::json!([8, 8]), "{spun}");
    assert!(started.elapsed() < Duration::from_secs(15));
    let ok = smpplib(s.smpp_port, &["--count", "3", "--text", "hello"]);
    assert_eq!(ok["accepted"].as_array().unwrap().len(), 3, "{ok}");
    assert_eq!(ok["receipts"].as_object().unwrap().len(), 3, "{ok}");
    let log = s.log("connector.smpp-in");
    assert!(
        log.contains("PLUGIN ERR (info=\"spin before_receive: ")
            && log.contains("spin.lua:3: cut after 50 ms (its budget_ms)"),
        "{log}"
    );
    let err = daemon.stderr_text();
    assert!(
        err.contains("plugin spin before_receive: ") && err.contains("spin.lua:3: cut after 50 ms"),
        "{err}"
    );
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
}

fn priced(price: &str) -> String {
    format!("function before_receive(msg) msg.charge = \"{price}\" end\n")
}

#[test]
fn a_changed_plugin_is_reloaded_under_load_with_nothing_lost() {
    let (s, _) = setup(
        &[("price.lua", &priced("1"))],
        "[plugin.price]\nscript = \"price.lua\"\nglobal = true\n",
    );
    let daemon = s.start();
    let port = s.smpp_port;
    let load = std::thread::spawn(move || smpplib(port, &["--count", "3000", "--timeout", "120"]));
    let script = s.dir.path().join("price.lua");
    let db = s.db();
    let count = || db.number("SELECT count(*) FROM messages");
    assert!(
        wait_for(Duration::from_secs(60), || count() > 300),
        "no load"
    );
    // A broken script is refused and the running one stays...
    std::fs::write(&script, "function before_receive(msg\n").unwrap();
    let before = daemon.stderr_text().matches("not reloaded").count();
    daemon.signal(1);
    assert!(wait_for(Duration::from_secs(20), || {
        daemon.stderr_text().matches("not reloaded").count() > before
    }));
    assert!(
        daemon.stderr_text().contains("price.lua:2:"),
        "{}",
        daemon.stderr_text()
    );
    // ...a good one is taken, under the same load and sessions.
    std::fs::write(&script, priced("2")).unwrap();
    daemon.signal(1);
    assert!(wait_for(Duration::from_secs(20), || {
        daemon.stderr_text().contains("configuration reloaded")
    }));
    let report = load.join().unwrap();
    // The load may have ended before the reload (a fast machine takes 3,000 in a second):
    // more messages after it, so the new script certainly runs.
    let after = smpplib(port, &["--count", "100", "--timeout", "60"]);
    for (r, n) in [(&report, 3000), (&after, 100)] {
        assert_eq!(r["refused"], serde_json::json!([]), "{r}");
        let accepted = r["accepted"].as_array().unwrap().len();
        assert_eq!(accepted, n, "every submit accepted");
        assert_eq!(
            r["receipts"].as_object().unwrap().len(),
            n,
            "every receipt back"
        );
    }
    let mut daemon = daemon;
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let prices: Vec<String> = stored(&s)
        .iter()
        .filter(|(_, _, m)| m["msgtype"] == "Sms")
        .map(|(_, _, m)| m["price"].as_str().unwrap_or("none").to_string())
        .collect();
    assert_eq!(prices.len(), 3100);
    // Submits in flight while the reload lands may take either script (each PDU is handled on its
    // own task, so ids need not follow the switch); none may go without a price, the old script
    // ran first, and everything submitted after the reload took the new one.
    assert_eq!(prices[0], "1", "the old one ran first: {:?}", &prices[..5]);
    assert!(
        prices[..3000].iter().all(|p| p == "1" || p == "2"),
        "no message without a price: {prices:?}"
    );
    assert!(
        prices[3000..].iter().all(|p| p == "2"),
        "the new script ran on everything after the reload: {:?}",
        &prices[3000..]
    );
    let log = s.log("connector.smpp-in");
    assert_eq!(
        log.matches("LOGIN OK").count(),
        2,
        "the load's one session throughout, and the one after it:\n{log}"
    );
}

#[test]
fn before_send_on_one_connector_refuses_and_the_sender_hears_rejectd() {
    let veto = "function before_send(msg)\n  if msg.message == \"nope\" then return false, \"not on this route\" end\nend\n";
    let http = free_port();
    let s = Setup::new(
        "",
        "dlr_delay_ms = 50\nplugins = [\"veto\"]",
        &format!(
            "[plugin.veto]\nscript = \"veto.lua\"\n\n[connector.http-in]\ntype = \"incoming\"\nprotocol = \"http\"\naddress = \"127.0.0.1:{http}\"\n"
        ),
    );
    std::fs::write(s.dir.path().join("veto.lua"), veto).unwrap();
    let mut daemon = s.start();
    let refused = smpplib(s.smpp_port, &["--count", "1", "--text", "nope"]);
    let passed = smpplib(s.smpp_port, &["--count", "1", "--text", "yes"]);
    // Accepted (stored) first; refused as it was about to leave: a REJECTD receipt (state 8).
    let state = |r: &Value| -> Vec<i64> {
        r["receipts"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v["state"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        refused["accepted"].as_array().unwrap().len(),
        1,
        "{refused}"
    );
    assert_eq!(state(&refused), [8], "{refused}");
    assert_eq!(state(&passed), [2], "{passed}");
    let log = s.log("connector.sim1");
    assert!(
        log.contains("PLUGIN REJECT (info=\"veto message ")
            && log.contains(": not on this route\")"),
        "{log}"
    );
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let finished: Vec<(String, String)> = s
        .db()
        .rows("SELECT status, coalesce(error, '') FROM routelog WHERE msgtype = 1 ORDER BY message_id")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(
        finished,
        [
            (
                "REJECTD".to_string(),
                "refused by plugin veto: not on this route".to_string()
            ),
            ("DELIVRD".to_string(), String::new()),
        ]
    );
}

/// EMG's `PLUGIN=name:string`: `plugins = ["tag:shop"]` hands "shop" to the hooks of `tag`
/// on that connector as their second argument; a global plugin (and `tag` elsewhere) gets nil.
#[test]
fn a_connectors_plugin_string_reaches_its_hooks() {
    let http = free_port();
    let tag = "function before_receive(msg, arg)\n  msg.message = msg.message .. \" (\" .. tostring(arg) .. \")\"\nend\n";
    let seen = "function before_receive(msg, arg)\n  if arg ~= nil then return false, \"global plugin got \" .. arg end\nend\n";
    let s = Setup::new(
        "",
        "",
        &format!(
            r#"
[connector.shop-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http}"
plugins = ["tag:shop floor 2"]

[plugin.tag]
script = "tag.lua"

[plugin.seen]
script = "seen.lua"
global = true
"#
        ),
    );
    std::fs::write(s.dir.path().join("tag.lua"), tag).unwrap();
    std::fs::write(s.dir.path().join("seen.lua"), seen).unwrap();
    let mut daemon = s.start();
    support::peers::wait_port(http);
    let (status, body) = curl(
        &format!("http://127.0.0.1:{http}/bin/send?to=4670555&text=hi"),
        &["-u", "demo:demo"],
    );
    assert_eq!(status, 200, "{body}");
    // smpp-in runs only the global one: its message is not tagged.
    let sent = smpplib(
        s.smpp_port,
        &["--count", "1", "--text", "plain", "--no-dlr"],
    );
    assert_eq!(sent["accepted"].as_array().unwrap().len(), 1, "{sent}");
    assert!(daemon.terminate(Duration::from_secs(30)).unwrap().success());
    let texts: Vec<String> = stored(&s)
        .iter()
        .filter(|(_, _, m)| m["msgtype"] == "Sms")
        .map(|(_, _, m)| text_of(m))
        .collect();
    assert_eq!(texts, ["hi (shop floor 2)", "plain"]);
}

const REPORTER: &str = r#"-- Status messages from a provider, "STATUS <its id> <state>", report the fate of the
-- messages it took (EMG's DLR injection, from a hook) and are not delivered themselves.
function before_receive(msg)
  local id, state = string.match(msg.message, "^STATUS (%S+) (%S+)$")
  if id then
    emg.report(id, state)
    return false, "status report taken"
  end
end
"#;

/// A hook reports the fate of a message with `emg.report(origid, state)`: a message sent by
/// smpplib left on an EBE connector with `dlr_support` (the program printed its id
/// `ext-77`); a status message over HTTP names that id, the plugin injects DELIVERED, and
/// smpplib, still bound, gets its receipt. A bad state is the plugin's error, logged.
#[test]
fn a_hook_injects_a_delivery_report() {
    let ebe = tempfile::tempdir().unwrap();
    let program = ebe.path().join("send.sh");
    std::fs::write(&program, "#!/bin/sh\ncat > /dev/null\necho ext-77\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (s, http) = setup(
        &[("reporter.lua", REPORTER)],
        &format!(
            "[plugin.reporter]\nscript = \"reporter.lua\"\n\n[connector.ebe]\ntype = \"outgoing\"\n\
             protocol = \"ebe\"\naddress = \"{}\"\ndlr_support = true\n\n\
             [[route]]\nprefix = \"7\"\nto = \"ebe\"\n",
            program.display()
        ),
    );
    // The plugin on http-in: appended as its own keyword line.
    let text = std::fs::read_to_string(&s.config).unwrap().replace(
        "[connector.http-in]\n",
        "[connector.http-in]\nplugins = [\"reporter\"]\n",
    );
    std::fs::write(&s.config, text).unwrap();
    let _daemon = s.start();
    let client = Command::new("python3")
        .arg(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/peers/smpplib_client.py"),
        )
        .args([
            "--port",
            &s.smpp_port.to_string(),
            "--count",
            "1",
            "--dest",
            "7001",
            "--timeout",
            "60",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let db = s.db();
    let sent =
        || db.number("SELECT COUNT(*) FROM messages WHERE target = 'ebe' AND remote_id = 'ext-77'");
    assert!(
        wait_for(Duration::from_secs(30), || sent() == 1),
        "never sent"
    );

    let url = |text: &str| format!("http://127.0.0.1:{http}/bin/send.json?to=999&text={text}");
    let (code, body) = curl(&url("STATUS%20ext-77%20NONSENSE"), &["-u", "demo:demo"]);
    assert_ne!(code, 200, "{body}");
    let (code, body) = curl(&url("STATUS%20ext-77%20DELIVERED"), &["-u", "demo:demo"]);
    assert_eq!(
        code, 403,
        "the status message itself is not delivered: {body}"
    );

    let out = client.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = r["accepted"][0].as_str().expect("accepted").to_string();
    assert_eq!(
        r["receipts"][&id]["state"], 2,
        "the injected DELIVERED reached smpplib: {r}"
    );
    assert!(
        s.log("connector.http-in")
            .contains("is not a message state"),
        "{}",
        s.log("connector.http-in")
    );
}

const RELAY: &str = r#"-- On the send path: a message leaving with "SEND <id> <state>" reports that id's fate
-- (before_send), and the receipt of any message that left here reports ext-7002's (on_dlr).
function before_send(msg)
  local id, state = string.match(msg.message or "", "^SEND (%S+) (%S+)$")
  if id then
    emg.report(id, state)
  end
end
function on_dlr(msg)
  if msg.messagestate == "DELIVRD" then
    emg.report("ext-7002", "UNDELIVERABLE")
  end
end
"#;

/// `emg.report` on the send path: two messages from smpplib left on an EBE connector with
/// `dlr_support` (the program printed `ext-7001` and `ext-7002`); a third, to `sim1`, carries
/// "SEND ext-7001 DELIVERED", which `before_send` on `sim1` reports, and its receipt from the
/// simulator runs `on_dlr`, which reports ext-7002 UNDELIVERABLE. Both smpplib clients, still
/// bound, get those receipts; the third gets its own; emgd serves on and stops cleanly.
#[test]
fn before_send_and_on_dlr_inject_delivery_reports() {
    let ebe = tempfile::tempdir().unwrap();
    let program = ebe.path().join("send.sh");
    std::fs::write(
        &program,
        "#!/bin/sh\ncat > /dev/null\necho \"ext-$EMG_DESTADDR\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (s, _http) = setup(
        &[("relay.lua", RELAY)],
        &format!(
            "[plugin.relay]\nscript = \"relay.lua\"\n\n[connector.ebe]\ntype = \"outgoing\"\n\
             protocol = \"ebe\"\naddress = \"{}\"\ndlr_support = true\n\n\
             [[route]]\nprefix = \"7\"\nto = \"ebe\"\n",
            program.display()
        ),
    );
    let text = std::fs::read_to_string(&s.config).unwrap().replace(
        "[connector.sim1]\n",
        "[connector.sim1]\nplugins = [\"relay\"]\n",
    );
    std::fs::write(&s.config, text).unwrap();
    let mut daemon = s.start();
    let client = |dest: &str, extra: &[&str]| {
        let mut args = vec![
            "--port".to_string(),
            s.smpp_port.to_string(),
            "--count".into(),
            "1".into(),
            "--dest".into(),
            dest.into(),
            "--timeout".into(),
            "60".into(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        Command::new("python3")
            .arg(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../tests/peers/smpplib_client.py"),
            )
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs")
    };
    let first = client("7001", &[]);
    let second = client("7002", &[]);
    let db = s.db();
    let sent = || {
        db.number(
            "SELECT COUNT(*) FROM messages WHERE target = 'ebe' AND remote_id IN ('ext-7001', 'ext-7002')",
        )
    };
    assert!(
        wait_for(Duration::from_secs(30), || sent() == 2),
        "the EBE program never took both"
    );
    let trigger = client("46700", &["--text", "SEND ext-7001 DELIVERED"]);

    let report = |child: std::process::Child| -> (String, Value) {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).unwrap();
        let id = r["accepted"][0].as_str().expect("accepted").to_string();
        (id, r)
    };
    let (id, r) = report(trigger);
    assert_eq!(
        r["receipts"][&id]["state"], 2,
        "the trigger's own receipt: {r}"
    );
    let (id, r) = report(first);
    assert_eq!(
        r["receipts"][&id]["state"], 2,
        "before_send's DELIVERED reached smpplib: {r}"
    );
    let (id, r) = report(second);
    assert_eq!(
        r["receipts"][&id]["state"], 5,
        "on_dlr's UNDELIVERABLE reached smpplib: {r}"
    );
    assert!(
        daemon.terminate(Duration::from_secs(30)).unwrap().success(),
        "emgd stops cleanly"
    );
    for origid in ["ext-7001", "ext-7002"] {
        assert!(
            s.log("connector.ebe")
                .contains(&format!("DLR INJECTED (info=\"{origid}")),
            "{}",
            s.log("connector.ebe")
        );
    }
}

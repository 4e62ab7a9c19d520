//! Durable before acknowledged, for the incoming protocols other than SMPP (SMTP, MGP
//! applications, UCP, CIMD2; SMPP is crash_recovery.rs): a load client
//! (tests/peers/crash_client.py: python smtplib, or a plain socket) records every message emgd
//! acknowledged and SIGKILLs emgd half-way through the load (or SIGTERMs it: then it must exit
//! 0); after a restart the queue drains
//! to an HTTP sink (tests/peers/http_sink.py) and every acknowledged message is there.

mod support;

use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::peers::wait_port;
use support::Setup;
use tests::daemon::free_port;
use tests::http_sink::HttpSink;

const COUNT: usize = 2_000;
const KILL_AFTER: usize = 1_000;
const DRAIN: Duration = Duration::from_secs(40);

/// Runs the load client against `port`; it sends `signal` (KILL or TERM) to `pid` after
/// KILL_AFTER acknowledgements.
fn load(proto: &str, port: u16, pid: u32, signal: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/crash_client.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(["--proto", proto, "--port", &port.to_string()])
        .args(["--count", &COUNT.to_string(), "--kill-after"])
        .arg(KILL_AFTER.to_string())
        .args(["--kill-pid", &pid.to_string(), "--signal", signal])
        .output()
        .expect("python3 runs (scripts/test installs it)");
    assert!(
        out.status.success(),
        "crash_client.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "crash_client.py printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The `crash-...` texts the sink has received so far, once each for every request.
fn arrivals(sink: &HttpSink) -> Vec<String> {
    sink.requests()
        .iter()
        .filter(|r| r.path == "/mt")
        .filter_map(|r| r.query.get("text"))
        .flat_map(|t| t.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .filter(|w| w.starts_with("crash-"))
        .collect()
}

/// The distinct `crash-...` texts the sink has received so far.
fn delivered(sink: &HttpSink) -> HashSet<String> {
    arrivals(sink).into_iter().collect()
}

/// emgd with `incoming` (a connector listening on `port`) and destinations starting with 77
/// going to `web`, an outgoing HTTP connector to the sink. SIGKILL (or SIGTERM: then emgd must
/// exit 0) mid-load, restart, drain.
fn kill_restart_drain(proto: &str, port: u16, incoming: &str) {
    stop_restart_drain("KILL", proto, port, incoming);
}

fn stop_restart_drain(signal: &str, proto: &str, port: u16, incoming: &str) {
    let dir = tempfile::tempdir().unwrap();
    let sink = HttpSink::start(dir.path()).unwrap();
    let setup = Setup::new(
        "",
        "",
        &format!(
            r#"
{incoming}

[connector.web]
type = "outgoing"
protocol = "http"
address = "{}"
http_method = "get"
http_params = {{ from = "{{from}}", to = "{{to}}", text = "{{text}}" }}

[user.app]
password = "app"

[[route]]
prefix = "77"
to = "web"
"#,
            sink.url("/mt")
        ),
    );
    let mut daemon = setup.start();
    wait_port(port);
    let report = load(proto, port, daemon.pid(), signal);
    if signal == "TERM" {
        let status = daemon.terminate(Duration::from_secs(40)).unwrap();
        assert!(
            status.success(),
            "SIGTERM exits 0: {}",
            daemon.stderr_text()
        );
    } else {
        daemon.kill9();
    }
    assert_eq!(report["killed"], true, "emgd was killed mid-load: {report}");
    assert!(
        report["error"].is_string(),
        "the load ended with emgd gone: {report}"
    );
    let acknowledged: HashSet<String> = report["acknowledged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    assert!(
        acknowledged.len() >= KILL_AFTER && acknowledged.len() < COUNT,
        "{} acknowledged",
        acknowledged.len()
    );
    let before = delivered(&sink);

    let _daemon = setup.start();
    let deadline = Instant::now() + DRAIN;
    let missing = loop {
        let seen = delivered(&sink);
        let missing: Vec<String> = acknowledged.difference(&seen).cloned().collect();
        if missing.is_empty() || Instant::now() > deadline {
            break missing;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // One snapshot of the sink for both counts: it may still be receiving.
    let arrived = arrivals(&sink);
    let distinct: HashSet<String> = arrived.iter().cloned().collect();
    println!(
        "{proto} SIG{signal}: {} acknowledged, {} delivered before the stop, {} after restart \
         ({} repeated arrivals), {} missing ({})",
        acknowledged.len(),
        before.len(),
        distinct.len(),
        arrived.len() - distinct.len(),
        missing.len(),
        report["error"]
    );
    let sent: HashSet<String> = (0..COUNT).map(|i| format!("crash-{proto}-{i}")).collect();
    assert!(
        distinct.is_subset(&sent),
        "only what was sent arrives: {:?}",
        distinct.difference(&sent).take(5).collect::<Vec<_>>()
    );
    assert!(
        missing.is_empty(),
        "{proto} SIG{signal}: {} acknowledged messages lost, e.g. {:?}\n{}",
        missing.len(),
        &missing[..missing.len().min(5)],
        setup.log("connector.web")
    );
}

#[test]
fn smtp_sigkill_mid_load_loses_no_acknowledged_mail() {
    let port = free_port();
    let incoming = format!(
        r#"[connector.mail-in]
type = "incoming"
protocol = "smtp"
address = "127.0.0.1:{port}"
instances = 4
smtp_domains = ["sms.example.com"]"#
    );
    kill_restart_drain("smtp", port, &incoming);
}

#[test]
fn mgp_application_sigkill_mid_load_loses_no_acknowledged_submit() {
    let port = free_port();
    let incoming = format!(
        r#"[connector.apps]
type = "incoming"
protocol = "mgp"
address = "127.0.0.1:{port}"
instances = 2
windowsize = 50"#
    );
    kill_restart_drain("mgp", port, &incoming);
}

#[test]
fn ucp_sigkill_mid_load_loses_no_acknowledged_submit() {
    let port = free_port();
    let incoming = format!(
        r#"[connector.ucp-in]
type = "incoming"
protocol = "ucp"
address = "127.0.0.1:{port}"
instances = 2
users = ["app"]"#
    );
    kill_restart_drain("ucp", port, &incoming);
}

#[test]
fn cimd2_sigkill_mid_load_loses_no_acknowledged_submit() {
    let port = free_port();
    let incoming = format!(
        r#"[connector.cimd-in]
type = "incoming"
protocol = "cimd2"
address = "127.0.0.1:{port}"
instances = 2
users = ["app"]"#
    );
    kill_restart_drain("cimd2", port, &incoming);
}

#[test]
fn smtp_and_mgp_sigterm_mid_load_shut_down_cleanly_and_lose_nothing() {
    let port = free_port();
    let incoming = format!(
        r#"[connector.mail-in]
type = "incoming"
protocol = "smtp"
address = "127.0.0.1:{port}"
smtp_domains = ["sms.example.com"]"#
    );
    stop_restart_drain("TERM", "smtp", port, &incoming);
    let port = free_port();
    let incoming = format!(
        r#"[connector.apps]
type = "incoming"
protocol = "mgp"
address = "127.0.0.1:{port}""#
    );
    stop_restart_drain("TERM", "mgp", port, &incoming);
}

#[test]
fn ucp_and_cimd2_sigterm_mid_load_shut_down_cleanly_and_lose_nothing() {
    for (proto, name) in [("ucp", "ucp-in"), ("cimd2", "cimd-in")] {
        let port = free_port();
        let incoming = format!(
            r#"[connector.{name}]
type = "incoming"
protocol = "{proto}"
address = "127.0.0.1:{port}"
users = ["app"]"#
        );
        stop_restart_drain("TERM", proto, port, &incoming);
    }
}

//! Which session a receipt goes back on when one client binds several (`dlr_session`):
//! python smpplib clients bound as the same user at once, each submitting its own messages.
//! With `submitting` (the default) each session gets exactly the receipts of what it
//! submitted; with `same_ip` each client address gets its own; with `any` receipts go to
//! whichever session takes first, which is what made a load client that counts receipts per
//! session time out.
//!
//! Needs python3 with smpplib (scripts/test installs it).

mod support;

use std::collections::BTreeSet;
use support::Setup;
use tests::daemon::free_port;

/// The sim's receipts come two seconds after each submit: by then every client is bound.
const SIM: &str = "dlr_delay_ms = 2000";

/// A gateway whose incoming connector `clients` (on the port returned) has `policy` (none:
/// the default).
fn setup(policy: Option<&str>) -> (Setup, u16) {
    let port = free_port();
    let policy = policy.map_or(String::new(), |p| format!("dlr_session = \"{p}\""));
    let extra = format!(
        "[connector.clients]\ntype = \"incoming\"\nprotocol = \"smpp\"\naddress = \"127.0.0.1:{port}\"\ninstances = 4\n{policy}\n"
    );
    (Setup::new("", SIM, &extra), port)
}

/// Run one smpplib client per entry of `sources` (its local address) at once, each sending
/// `count` messages; their reports.
fn clients(port: u16, sources: &[&str], count: usize, timeout: &str) -> Vec<serde_json::Value> {
    std::thread::scope(|s| {
        let runs: Vec<_> = sources
            .iter()
            .map(|ip| {
                let count = count.to_string();
                s.spawn(move || {
                    support::smpplib(
                        port,
                        &[
                            "--source-ip",
                            ip,
                            "--count",
                            &count,
                            "--timeout",
                            timeout,
                            "--settle",
                            "2",
                        ],
                    )
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    })
}

fn ids(report: &serde_json::Value, field: &str) -> BTreeSet<String> {
    match &report[field] {
        serde_json::Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().into()).collect(),
        serde_json::Value::Object(o) => o.keys().cloned().collect(),
        other => panic!("{field}: {other}"),
    }
}

/// Each client got a receipt for every message it submitted and none for another's.
fn each_gets_its_own(reports: &[serde_json::Value], count: usize) {
    for (i, r) in reports.iter().enumerate() {
        let accepted = ids(r, "accepted");
        assert_eq!(accepted.len(), count, "client {i}: {r}");
        assert_eq!(
            ids(r, "receipts"),
            accepted,
            "client {i} got exactly its own"
        );
        let counts = r["receipt_counts"].as_object().unwrap();
        assert!(counts.values().all(|n| n == 1), "client {i}: each once");
    }
}

#[test]
fn with_submitting_each_of_three_sessions_gets_exactly_its_own_receipts() {
    let (setup, port) = setup(None);
    let _daemon = setup.start();
    let reports = clients(port, &["127.0.0.1"; 3], 200, "60");
    each_gets_its_own(&reports, 200);
}

/// Two clients on two addresses, the policy written as EMG's DLR_TO_SAME_IP would mean it.
#[test]
fn with_same_ip_each_client_address_gets_its_own_receipts() {
    let (setup, port) = setup(Some("same_ip"));
    let _daemon = setup.start();
    let reports = clients(port, &["127.0.0.2", "127.0.0.3"], 200, "60");
    each_gets_its_own(&reports, 200);
}

/// With `any`, receipts reach sessions that did not submit their message (and the clients,
/// waiting for their own, give up).
#[test]
fn with_any_receipts_go_to_whichever_session_takes_them() {
    let (setup, port) = setup(Some("any"));
    let _daemon = setup.start();
    let reports = clients(port, &["127.0.0.1"; 3], 200, "8");
    let strays: usize = reports
        .iter()
        .map(|r| ids(r, "receipts").difference(&ids(r, "accepted")).count())
        .sum();
    assert!(
        strays > 0,
        "some receipts went to another session: {reports:?}"
    );
    let all: BTreeSet<String> = reports.iter().flat_map(|r| ids(r, "receipts")).collect();
    assert_eq!(all.len(), 600, "every receipt reached one of the sessions");
}

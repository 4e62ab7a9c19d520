//! `emgd --migrate-store`: a stopped node's SQLite store, with messages queued and receipts
//! awaited, copied into PostgreSQL (the real server of `tests::postgres`); emgd restarted on
//! PostgreSQL sends the queued messages and matches every awaited receipt.
//!
//! SQLite to PostgreSQL by nature: it starts on SQLite whatever `EMG_TEST_BACKEND` says, so
//! scripts/test runs it once, in the ordinary pass.
//!
//! Peers: the npm `smpp` SMSC (tests/peers/smsc) holds its receipts 15 s and sends the ones
//! whose session is gone on the next bind (`--resend-unacked`), so the receipts of messages
//! sent before the migration arrive after it.

mod support;

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};
use support::smsc::{texts, Smsc};
use support::{Setup, EMGD};
use tests::daemon::free_port;
use tests::postgres::PgServer;
use tests::smpp_client::Client;

fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn outgoing(name: &str, port: u16, prefix: &str) -> String {
    format!(
        r#"
[[route]]
prefix = "{prefix}"
to = "{name}"

[connector.{name}]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{port}"
username = "emg"
password = "secret"
static = true
windowsize = 10
"#
    )
}

#[test]
fn queued_messages_and_awaited_receipts_survive_the_move_to_postgres() {
    let (sent_port, later_port) = (free_port(), free_port());
    let peers = tempfile::tempdir().unwrap();
    let smsc = Smsc::start(
        sent_port,
        peers.path().join("sent.json"),
        &["--dlr-delay", "15000", "--resend-unacked"],
    );
    let extra = format!(
        "{}{}",
        outgoing("smsc", sent_port, "5"),
        outgoing("later", later_port, "6")
    );
    // SQLite first, whatever EMG_TEST_BACKEND says.
    let setup = Setup::new("backend = \"sqlite\"", "", &extra);
    let mut daemon = setup.start();
    let per_route = 20;
    let accepted: Vec<String> = rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .unwrap();
        c.submit(per_route, 10, "5551234", true, |_| true)
            .await
            .unwrap();
        c.submit(per_route, 10, "6661234", true, |_| true)
            .await
            .unwrap();
        c.accepted.clone()
    });
    assert_eq!(accepted.len(), 2 * per_route);
    assert!(
        wait_for(Duration::from_secs(30), || texts(&smsc.state()).len()
            == per_route),
        "the SMSC got {} of {per_route}",
        texts(&smsc.state()).len()
    );
    daemon.terminate(Duration::from_secs(30)).unwrap();
    assert!(
        support::smsc::acked(&smsc.state()).is_empty(),
        "a receipt came before the stop: the test needs a longer --dlr-delay"
    );

    let (url, _) = PgServer::shared().fresh_database("migrate");
    let data = setup.dir.path().join("data");
    let out = Command::new(EMGD)
        .arg("--migrate-store")
        .arg(&data)
        .arg(&url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("dlr_open {per_route}")),
        "every awaited receipt copied: {stdout}"
    );
    // Twice is refused: the target already holds a store.
    let again = Command::new(EMGD)
        .arg("--migrate-store")
        .arg(&data)
        .arg(&url)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a store"));

    let text = std::fs::read_to_string(&setup.config).unwrap();
    let text = text.replace(
        "backend = \"sqlite\"",
        &format!("backend = \"postgres\"\ndatabase_url = \"{url}\""),
    );
    std::fs::write(&setup.config, text).unwrap();
    let later = Smsc::start(later_port, peers.path().join("later.json"), &[]);
    let _daemon = setup.start();
    let wanted: HashSet<String> = accepted.iter().cloned().collect();
    let receipts = rt().block_on(async {
        let mut c = Client::bind(setup.smpp_port, "demo", "demo")
            .await
            .unwrap()
            .unwrap();
        c.await_receipts(&wanted, Duration::from_secs(90))
            .await
            .unwrap();
        c.receipts.clone()
    });
    assert_eq!(
        texts(&later.state()).len(),
        per_route,
        "the queued messages left after the move"
    );
    let missing: Vec<&String> = wanted.difference(&receipts).collect();
    assert!(
        missing.is_empty(),
        "{} of {} receipts missing after the move: {missing:?}\n{}",
        missing.len(),
        wanted.len(),
        setup.log("connector.smsc")
    );
}

//! Queue limits, routing failures and retry schemes, seen from an SMPP client.

mod support;

use common::smpp::status;
use std::time::{Duration, Instant};
use support::Setup;
use tests::smpp_client::Client;

async fn client(setup: &Setup) -> Client {
    Client::bind(setup.smpp_port, "demo", "demo")
        .await
        .unwrap()
        .expect("bind")
}

#[tokio::test]
async fn maxtotalqueuesize_refuses_with_a_temporary_error() {
    // The SMSC takes 10 s per submit, so the queue only grows.
    let setup = Setup::new(
        "maxtotalqueuesize = 5",
        "latency_ms = 10000\nwindowsize = 1",
        "",
    );
    let _d = setup.start();
    let mut c = client(&setup).await;
    c.submit(8, 1, "4670", false, |_| true).await.unwrap();
    assert_eq!(c.accepted.len(), 5);
    assert_eq!(c.refused, vec![status::ESME_RMSGQFUL; 3]);
}

#[tokio::test]
async fn ignoremaxtotalqueuesize_exempts_the_receiving_connector() {
    let setup = Setup::new(
        "maxtotalqueuesize = 5",
        "latency_ms = 10000\nwindowsize = 1",
        "",
    );
    let text = std::fs::read_to_string(&setup.config).unwrap().replace(
        "instances = 4\n",
        "instances = 4\nignoremaxtotalqueuesize = true\n",
    );
    std::fs::write(&setup.config, text).unwrap();
    let _d = setup.start();
    let mut c = client(&setup).await;
    c.submit(8, 1, "4670", false, |_| true).await.unwrap();
    assert_eq!(c.accepted.len(), 8);
    assert!(c.refused.is_empty());
}

#[tokio::test]
async fn connector_maxqueuesize_limits_one_queue() {
    let setup = Setup::new(
        "",
        "latency_ms = 10000\nwindowsize = 1\nmaxqueuesize = 3",
        "",
    );
    let _d = setup.start();
    let mut c = client(&setup).await;
    c.submit(5, 1, "4670", false, |_| true).await.unwrap();
    assert_eq!(c.accepted.len(), 3);
    assert_eq!(c.refused, vec![status::ESME_RMSGQFUL; 2]);
}

#[tokio::test]
async fn soft_limit_slows_each_acceptance_down() {
    let setup = Setup::new("maxtotalqueuesize_soft = 0", "", "");
    let _d = setup.start();
    let mut c = client(&setup).await;
    let started = Instant::now();
    c.submit(5, 1, "4670", false, |_| true).await.unwrap();
    assert_eq!(c.accepted.len(), 5);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "0.1 s per message above the soft limit"
    );
}

#[tokio::test]
async fn no_route_gets_a_permanent_error_and_a_routelog_row() {
    let setup = Setup::new("", "", "");
    let d = setup.start();
    let mut c = client(&setup).await;
    c.submit(1, 1, "15551234", false, |_| true).await.unwrap();
    assert_eq!(c.refused, vec![status::ESME_RINVDSTADR]);
    drop(d);
    let row = setup
        .db()
        .rows("SELECT status, error FROM routelog WHERE dest = '15551234'");
    assert_eq!(row.len(), 1, "{row:?}");
    let (status, error) = (&row[0][0], &row[0][1]);
    assert_eq!(status, "REJECTED");
    assert!(
        error.starts_with("no route for destination \"15551234\" from connector smpp-in"),
        "{error}"
    );
}

#[tokio::test]
async fn without_a_retry_scheme_smsc_errors_fail_the_message_and_report_it() {
    let setup = Setup::new(
        "",
        "fail_share = 0.5\nfail_error = 0x58\ndlr_delay_ms = 10",
        "",
    );
    let _d = setup.start();
    let mut c = client(&setup).await;
    c.submit(10, 10, "4670", true, |_| true).await.unwrap();
    let wanted = c.accepted.iter().cloned().collect();
    c.await_receipts(&wanted, Duration::from_secs(20))
        .await
        .unwrap();
    let stats: Vec<&str> = c.receipt_texts.values().map(|t| stat_of(t)).collect();
    assert_eq!(
        stats.iter().filter(|s| **s == "DELIVRD").count(),
        5,
        "{stats:?}"
    );
    assert_eq!(
        stats.iter().filter(|s| **s == "REJECTD").count(),
        5,
        "{stats:?}"
    );
}

#[tokio::test]
async fn a_retry_scheme_requeues_throttled_messages_until_delivered() {
    let setup = Setup::new(
        "",
        "fail_share = 0.5\nfail_error = 0x58\ndlr_delay_ms = 10\nretryscheme = \"retry\"",
        "",
    );
    std::fs::write(
        setup.dir.path().join("retry"),
        "# requeue throttled submits at once\nM*  0x58  0  0  0  0  1\n",
    )
    .unwrap();
    let _d = setup.start();
    let mut c = client(&setup).await;
    c.submit(10, 10, "4670", true, |_| true).await.unwrap();
    let wanted = c.accepted.iter().cloned().collect();
    c.await_receipts(&wanted, Duration::from_secs(20))
        .await
        .unwrap();
    let stats: Vec<&str> = c.receipt_texts.values().map(|t| stat_of(t)).collect();
    assert_eq!(stats, vec!["DELIVRD"; 10]);
}

fn stat_of(text: &str) -> &str {
    text.split_whitespace()
        .find_map(|w| w.strip_prefix("stat:"))
        .unwrap_or("")
}

#[tokio::test]
async fn sighup_reloads_routes_and_keeps_the_running_config_when_the_new_one_is_broken() {
    let setup = Setup::new("", "", "");
    let d = setup.start();
    let mut c = client(&setup).await;
    c.submit(1, 1, "15551234", false, |_| true).await.unwrap();
    assert_eq!(
        c.refused,
        vec![status::ESME_RINVDSTADR],
        "no route before the reload"
    );

    let original = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        original.replace("prefix = \"4\"", "prefix = \"1\""),
    )
    .unwrap();
    d.signal(1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = client(&setup).await;
        c.submit(1, 1, "15551234", false, |_| true).await.unwrap();
        if c.accepted.len() == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the reload never took effect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    std::fs::write(&setup.config, "this is not toml = = =\n").unwrap();
    d.signal(1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut c = client(&setup).await;
    c.submit(1, 1, "15551234", false, |_| true).await.unwrap();
    assert_eq!(
        c.accepted.len(),
        1,
        "a broken file leaves the running configuration in place"
    );
    assert!(
        d.stderr_text().contains("configuration not reloaded"),
        "{}",
        d.stderr_text()
    );
}

#[tokio::test]
async fn a_users_throughput_limit_answers_esme_rthrottled() {
    let setup = Setup::new("", "", "");
    let text = std::fs::read_to_string(&setup.config).unwrap().replace(
        "password = \"demo\"\n",
        "password = \"demo\"\nthroughput = 5.0\n",
    );
    std::fs::write(&setup.config, text).unwrap();
    let _d = setup.start();
    let mut c = client(&setup).await;
    c.submit(30, 30, "4670", false, |_| true).await.unwrap();
    assert!(
        (1..=5).contains(&c.accepted.len()),
        "5/s lets only the first few of 30 back-to-back submits in: {}",
        c.accepted.len()
    );
    assert_eq!(c.refused.len(), 30 - c.accepted.len());
    assert!(
        c.refused.iter().all(|s| *s == status::ESME_RTHROTTLED),
        "{:?}",
        c.refused
    );
    // Another user is not affected.
    let mut other = Client::bind(setup.smpp_port, "other", "pw")
        .await
        .unwrap()
        .expect("bind");
    other.submit(10, 10, "4670", false, |_| true).await.unwrap();
    assert_eq!(other.accepted.len(), 10);
}

#[tokio::test]
async fn connector_throughput_paces_sending_and_delays_incoming_answers() {
    // Outgoing: 21 messages at 20/s take at least a second to leave.
    let setup = Setup::new("", "throughput = 20.0\ndlr_delay_ms = 0", "");
    let _d = setup.start();
    let mut c = client(&setup).await;
    let started = Instant::now();
    c.submit(21, 21, "4670", true, |_| true).await.unwrap();
    assert_eq!(c.accepted.len(), 21);
    let wanted = c.accepted.iter().cloned().collect();
    c.await_receipts(&wanted, Duration::from_secs(20))
        .await
        .unwrap();
    assert_eq!(c.receipts.len(), 21);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );

    // Incoming: the answers themselves are spaced.
    let setup = Setup::new("", "", "");
    let text = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace("instances = 4\n", "instances = 4\nthroughput = 20.0\n");
    std::fs::write(&setup.config, text).unwrap();
    let _d = setup.start();
    let mut c = client(&setup).await;
    let started = Instant::now();
    c.submit(21, 21, "4670", false, |_| true).await.unwrap();
    assert_eq!(c.accepted.len(), 21);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn maxqueuesize_holds_exactly_against_a_full_window_from_smpplib() {
    // smpplib sends its 20 submits back to back, a full window answered concurrently: the
    // limit must hold for submits whose commits are under way together.
    let setup = Setup::new(
        "",
        "latency_ms = 10000\nwindowsize = 1\nmaxqueuesize = 4",
        "",
    );
    let d = setup.start();
    let r = support::smpplib(
        setup.smpp_port,
        &["--count", "20", "--dest", "4670", "--no-dlr"],
    );
    let accepted = r["accepted"].as_array().map_or(0, Vec::len);
    let refused: Vec<u64> = r["refused"]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_u64).collect())
        .unwrap_or_default();
    assert_eq!(accepted, 4, "{r}");
    assert_eq!(refused, vec![u64::from(status::ESME_RMSGQFUL); 16], "{r}");
    drop(d);
    // Nothing accepted is lost: the four are in the store, for sim1.
    let stored: i64 = setup
        .db()
        .number("SELECT COUNT(*) FROM messages WHERE target = 'sim1'");
    assert_eq!(stored, 4);
}

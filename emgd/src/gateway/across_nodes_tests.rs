//! Two gateways (nodes 1 and 2) on one real PostgreSQL database (`tests::postgres`): a receipt
//! that arrives on node B for a message node A sent finds A's open DLR entry in the store, is
//! recorded durably (message final, entry closed, the sender's report queued) before it is
//! answered, and node A's expiry then leaves that entry alone instead of settling it UNKNOWN.

use super::receipt::ReceiptOutcome;
use super::shared::Gateway;
use crate::store::postgres::PostgresStore;
use crate::store::{MessageState, Options, Store};
use common::dlr::DlrStatus;
use common::message::{Address, Message, Origin};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
datadir = "data"
logdir = "log"
mgp_address = "127.0.0.1:0"

[connector.in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:0"

[connector.out]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:1"
username = "me"
dlr_park_seconds = 20
dlr_expire = 1

[user.demo]
password = "demo"

[[route]]
to = "out"
"#;

/// Node `nodeid` on database `url`, its files under `dir`.
async fn node(url: &str, nodeid: u16, dir: &std::path::Path) -> Arc<Gateway> {
    let text = format!("nodeid = {nodeid}\n{CONFIG}");
    let cfg = config::parse_str(&text, &dir.join("emg.toml")).expect("valid configuration");
    let store: Arc<dyn Store> = Arc::new(
        PostgresStore::open(url, nodeid, Options::of(&cfg.general))
            .await
            .expect("the test PostgreSQL server"),
    );
    let recovered = store.recover().await.unwrap();
    let logs = crate::logs::Logs::start(cfg.general.logdir.clone(), true).unwrap();
    Gateway::new(cfg, store, logs, &recovered)
}

fn count(db: &str, sql: &str) -> i64 {
    let out = tests::postgres::PgServer::shared().query(db, sql);
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{sql}: {out}"))
}

/// Node `a` accepts a message from user demo and sends it on `out` as `remote`.
async fn sent_on(a: &Gateway, remote: &str) -> u64 {
    let id = a
        .accept(Message {
            source: Address::new("4670000001"),
            dest: Address::new("46701234567"),
            body: b"hello".to_vec(),
            dlr_requested: true,
            origin: Origin {
                connector: "in".into(),
                user: Some("demo".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .expect("accepted");
    let out = a.connector("out").unwrap().clone();
    let message = a.store.load_queued(vec![id]).await.unwrap().remove(0);
    assert!(a.submitting(&out, std::slice::from_ref(&message)).await);
    a.sent(&out, Some(0), message, Some(remote.into())).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_on_node_b_for_a_message_node_a_sent_is_matched_and_a_leaves_it_alone() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let (url, db) = tests::postgres::PgServer::shared().fresh_database("xdlr");
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = node(&url, 1, dir_a.path()).await;
    // B is up before A sends: its book, read at start, does not have the entry.
    let b = node(&url, 2, dir_b.path()).await;
    let id = sent_on(&a, "AB12").await;
    assert_eq!(
        count(
            &db,
            &format!("SELECT COUNT(*) FROM dlr_open WHERE message_id = {id}")
        ),
        1
    );
    assert!(b.open_dlrs_of("out").is_empty());
    let rows = b
        .store
        .open_dlrs(vec![("out".into(), "ab12".into())])
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");

    // Parked for a receipt whose entry is not in B's book: the store lookup hands it over at
    // once, not after the 20 s window.
    let started = Instant::now();
    let outcome = b
        .record_receipt("out", "ab12", DlrStatus::Delivered, 0)
        .await;
    assert_eq!(outcome, ReceiptOutcome::Recorded);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "matched through the store, not at the end of the parking window: {:?}",
        started.elapsed()
    );
    // Durable before it is answered: final, entry closed, the report for demo queued.
    let stored = b.store.message(id).await.unwrap().unwrap();
    assert_eq!(stored.state, MessageState::Done);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM dlr_open"), 0);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM messages WHERE target = 'in' AND state = 0"
        ),
        1,
        "the report to the sender is queued"
    );
    // The same receipt again (the SMSC resends): nothing is open any more.
    assert_eq!(
        b.record_receipt_within("out", "ab12", DlrStatus::Delivered, 0, 0)
            .await,
        ReceiptOutcome::Unmatched
    );

    // A still has the entry in memory; at its expiry the store says another node settled it.
    assert_eq!(a.open_dlrs_of("out"), vec!["ab12".to_string()]);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    a.expire_dlrs().await;
    assert!(a.open_dlrs_of("out").is_empty());
    let stored = a.store.message(id).await.unwrap().unwrap();
    assert_eq!(
        stored.state,
        MessageState::Done,
        "not settled UNKNOWN over the receipt"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM messages WHERE target = 'in' AND state = 0"
        ),
        1,
        "no second report"
    );
}

/// An injected report (no parking window) on node B for node A's message, and many receipts
/// at once: all matched through batched lookups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_receipts_on_node_b_are_matched_without_a_window() {
    let (url, db) = tests::postgres::PgServer::shared().fresh_database("xdlr");
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = node(&url, 1, dir_a.path()).await;
    let b = node(&url, 2, dir_b.path()).await;
    let mut ids = Vec::new();
    for n in 0..50 {
        ids.push(sent_on(&a, &format!("{:X}", 0x1000 + n)).await);
    }
    let receipts = (0..50).map(|n| {
        let b = b.clone();
        async move {
            b.record_receipt_within(
                "out",
                &format!("{:X}", 0x1000 + n),
                DlrStatus::Undeliverable,
                7,
                0,
            )
            .await
        }
    });
    let outcomes = futures_util::future::join_all(receipts).await;
    assert!(
        outcomes.iter().all(|o| *o == ReceiptOutcome::Recorded),
        "{outcomes:?}"
    );
    for id in ids {
        let stored = b.store.message(id).await.unwrap().unwrap();
        assert_eq!(stored.state, MessageState::Failed, "message {id}");
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM dlr_open"), 0);
}

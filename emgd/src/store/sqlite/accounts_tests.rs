//! Charges, refunds, operator balance changes and the hourly summary, on a real store of each
//! backend (`test_backends`).

use super::*;
use crate::store::accounts::{BalanceChange, SummaryQuery};
use crate::store::test_backends::{both, Harness};
use crate::store::MessageState;
use crate::store::Store;
use common::message::{Address, Origin};
use rust_decimal::Decimal;
use std::sync::Arc;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn priced(id: MessageId, account: &str, price: &str) -> Message {
    Message {
        id,
        target: "out".into(),
        source: Address::new("4670"),
        dest: Address::new("+46701234"),
        body: b"hello".to_vec(),
        received_us: 1_700_000_000_000_000,
        origin: Origin {
            connector: "in".into(),
            account: Some(account.into()),
            ..Default::default()
        },
        price: Some(dec(price)),
        cost: Some(dec("0.01")),
        ..Default::default()
    }
}

fn charged(m: &Message) -> Vec<Write> {
    vec![
        Write::Charge {
            account: m.origin.account.clone().unwrap(),
            via: m.origin.connector.clone(),
            amount: m.price.unwrap(),
        },
        Write::enqueue(m),
    ]
}

async fn set(store: &Arc<dyn Store>, account: &str, amount: &str, limit: Option<&str>) {
    let change = BalanceChange::Set {
        amount: dec(amount),
        postpaid_limit: limit.map(dec),
    };
    store
        .commit(vec![Write::Balance {
            account: account.into(),
            change,
            by: "tester".into(),
        }])
        .await
        .unwrap();
}

async fn balance(store: &Arc<dyn Store>, account: &str) -> String {
    store.balances(Some(account.into())).await.unwrap()[0]
        .balance
        .to_string()
}

fn queued(h: &Harness) -> i64 {
    h.count("SELECT COUNT(*) FROM messages")
}

async fn a_prepaid_balance_is_spent_to_zero_and_the_next_message_is_refused_unstored(h: Harness) {
    let store = h.open(Options::default()).await;
    set(&store, "acme", "0.25", None).await;
    for id in 1..=2 {
        store
            .commit(charged(&priced(id, "acme", "0.1")))
            .await
            .unwrap();
    }
    let refused = store.commit(charged(&priced(3, "acme", "0.1"))).await;
    assert!(
        matches!(&refused, Err(StoreError::NoBalance { account }) if account == "acme"),
        "{refused:?}"
    );
    assert_eq!(balance(&store, "acme").await, "0.05");
    assert_eq!(queued(&h), 2, "the refused message is not stored");
    // An account without a balance is not balance-controlled.
    store
        .commit(charged(&priced(4, "free", "5")))
        .await
        .unwrap();
    assert_eq!(queued(&h), 3);
}

async fn a_postpaid_balance_goes_down_to_its_limit(h: Harness) {
    let store = h.open(Options::default()).await;
    set(&store, "big", "0", Some("1")).await;
    let mut accepted = 0;
    for id in 1..=20 {
        if store
            .commit(charged(&priced(id, "big", "0.3")))
            .await
            .is_ok()
        {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 3);
    assert_eq!(balance(&store, "big").await, "-0.9");
}

async fn concurrent_charges_in_one_group_never_overspend(h: Harness) {
    let options = Options {
        group_commit_delay: Duration::from_millis(5),
        ..Options::default()
    };
    let store = h.open(options).await;
    set(&store, "acme", "10", None).await;
    // 400 callers at once, each a message of 0.1: exactly 100 fit, in whatever groups the
    // writer makes of them.
    let mut waits = Vec::new();
    for id in 1..=400 {
        let store = store.clone();
        waits.push(tokio::spawn(async move {
            store.commit(charged(&priced(id, "acme", "0.1"))).await
        }));
    }
    let mut ok = 0;
    for w in waits {
        match w.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::NoBalance { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 100);
    assert_eq!(balance(&store, "acme").await, "0");
    assert_eq!(queued(&h), 100);
    // The history has the operator's 10 and the charges, one row per group commit: their
    // changes add up to the balance's movement exactly.
    let history = store.balance_history("acme".into(), 1000).await.unwrap();
    let charges: Vec<_> = history
        .iter()
        .filter(|h| h.created_by == "charge:in")
        .collect();
    let charged: Decimal = charges.iter().map(|h| h.amount).sum();
    assert_eq!(charged, dec("-10"));
    assert!(charges.len() <= 100, "{} charge rows", charges.len());
    for h in &charges {
        assert!(h.amount_before + h.amount >= Decimal::ZERO, "{h:?}");
    }
    println!("100 charges in {} history rows", charges.len());
}

async fn refunds_follow_the_policy_and_history_records_every_change(h: Harness) {
    let store = h.open(Options::default()).await;
    set(&store, "acme", "1", None).await;
    for id in 1..=3 {
        store
            .commit(charged(&priced(id, "acme", "0.2")))
            .await
            .unwrap();
    }
    assert_eq!(balance(&store, "acme").await, "0.4");
    // 1: refused by the next hop before it took it (still queued): refunded by default.
    let fail = |id| {
        Write::finish(
            priced(id, "acme", "0.2"),
            MessageState::Failed,
            "REJECTD",
            None,
        )
    };
    store.commit(vec![fail(1)]).await.unwrap();
    assert_eq!(balance(&store, "acme").await, "0.6");
    // 2: sent, then its receipt said UNDELIV: the default keeps the charge.
    store
        .commit(vec![Write::Sent {
            id: 2,
            connector: "out".into(),
            remote_id: "r2".into(),
        }])
        .await
        .unwrap();
    let undeliv = Write::finish(
        priced(2, "acme", "0.2"),
        MessageState::Failed,
        "UNDELIV",
        None,
    );
    store.commit(vec![undeliv]).await.unwrap();
    // 3: delivered.
    let done = Write::finish(
        priced(3, "acme", "0.2"),
        MessageState::Done,
        "DELIVRD",
        None,
    );
    store.commit(vec![done]).await.unwrap();
    assert_eq!(balance(&store, "acme").await, "0.6");
    // The summary does not count the refunded message's price.
    let rows = store.summary(SummaryQuery::default()).await.unwrap();
    let prices: Vec<(&str, String)> = rows
        .iter()
        .map(|r| (r.status.as_str(), r.price.to_string()))
        .collect();
    assert_eq!(
        prices,
        [
            ("DELIVRD", "0.2".into()),
            ("REJECTD", "0".into()),
            ("UNDELIV", "0.2".into())
        ]
    );
    store
        .commit(vec![Write::Balance {
            account: "acme".into(),
            change: BalanceChange::Add(dec("2.5")),
            by: "ops".into(),
        }])
        .await
        .unwrap();
    assert_eq!(balance(&store, "acme").await, "3.1");
    let history = store.balance_history("acme".into(), 10).await.unwrap();
    let seen: Vec<(String, String, &str)> = history
        .iter()
        .map(|h| {
            let (before, change) = (h.amount_before.to_string(), h.amount.to_string());
            (before, change, h.created_by.as_str())
        })
        .collect();
    let every_change: Vec<(String, String, &str)> = vec![
        ("0.6".into(), "2.5".into(), "ops"),
        ("0.4".into(), "0.2".into(), "refund:in"),
        ("0.6".into(), "-0.2".into(), "charge:in"),
        ("0.8".into(), "-0.2".into(), "charge:in"),
        ("1".into(), "-0.2".into(), "charge:in"),
        ("0".into(), "1".into(), "tester"),
    ];
    assert_eq!(seen, every_change);
    store.close().await.unwrap();

    // Under `failed` the UNDELIV one would have been refunded too.
    let h = h.fresh();
    let options = Options {
        refund: config::RefundPolicy::Failed,
        ..Options::default()
    };
    let store = h.open(options).await;
    set(&store, "acme", "1", None).await;
    store
        .commit(charged(&priced(1, "acme", "0.2")))
        .await
        .unwrap();
    let sent = Write::Sent {
        id: 1,
        connector: "out".into(),
        remote_id: "r1".into(),
    };
    store.commit(vec![sent]).await.unwrap();
    let undeliv = Write::finish(
        priced(1, "acme", "0.2"),
        MessageState::Failed,
        "UNDELIV",
        None,
    );
    store.commit(vec![undeliv]).await.unwrap();
    assert_eq!(balance(&store, "acme").await, "1");
}

async fn the_hourly_summary_adds_up_each_routelog_row(h: Harness) {
    let store = h.open(Options::default()).await;
    let hour = 1_700_000_000_000_000i64.div_euclid(3_600_000_000);
    let mut writes = Vec::new();
    for id in 1..=5 {
        let mut m = priced(id, "acme", "0.1");
        if id == 5 {
            m.body = vec![b'x'; 300]; // two parts
        }
        writes.push(Write::enqueue(&m));
        writes.push(Write::finish(m, MessageState::Done, "DELIVRD", None));
    }
    writes.push(Write::Rejected {
        message: Box::new(priced(6, "acme", "0.1")),
        reason: "no route".into(),
    });
    store.commit(writes).await.unwrap();
    let rows = store.summary(SummaryQuery::default()).await.unwrap();
    let seen: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.hour - hour,
                r.prefix.as_str(),
                r.connector.as_str(),
                r.status.as_str(),
                r.messages,
                r.parts,
                r.price.to_string(),
                r.cost.to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (0, "46", "", "REJECTED", 1, 1, "0".into(), "0".into()),
            (0, "46", "out", "DELIVRD", 5, 6, "0.5".into(), "0.05".into()),
        ]
    );
    let none = SummaryQuery {
        account: Some("other".into()),
        ..Default::default()
    };
    assert!(store.summary(none).await.unwrap().is_empty());
    // A later commit's rows, summed in their own transaction, add to the row already there.
    let mut writes = Vec::new();
    for id in 7..=8 {
        let m = priced(id, "acme", "0.1");
        writes.push(Write::enqueue(&m));
        writes.push(Write::finish(m, MessageState::Done, "DELIVRD", None));
    }
    store.commit(writes).await.unwrap();
    let rows = store.summary(SummaryQuery::default()).await.unwrap();
    let delivered: Vec<_> = rows
        .iter()
        .filter(|r| r.status == "DELIVRD")
        .map(|r| (r.messages, r.parts, r.price.to_string()))
        .collect();
    assert_eq!(delivered, [(7, 8, "0.7".into())]);
}

/// A store at schema 5 (routelog rows with prices, no summary yet) upgraded: its final rows are
/// folded into the hourly summary once, exactly; a message still under way is not, and counts
/// once when its final state comes.
#[tokio::test]
async fn routelog_rows_from_before_the_summary_are_folded_in_once() {
    let dir = tempfile::tempdir().unwrap();
    let t = 1_700_000_000_000_000i64;
    let hour = t.div_euclid(3_600_000_000);
    {
        let conn = Connection::open(dir.path().join("emg.sqlite")).unwrap();
        for sql in &schema::MIGRATIONS[..5] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        let row = |id: i64, dest: &str, route: Option<&str>, status: &str, price: Option<&str>| {
            conn.execute(
                "INSERT INTO routelog (message_id, received_us, in_connector, account, msgtype, source, dest, route, status, updated_us, price, cost)
                 VALUES (?1, ?2, 'in', 'acme', 1, '4670', ?3, ?4, ?5, ?2, ?6, ?6)",
                rusqlite::params![id, t + id, dest, route, status, price],
            )
            .unwrap();
        };
        row(1, "+46701", Some("out"), "DELIVRD", Some("0.1"));
        row(2, "46702", Some("out"), "DELIVRD", Some("0.25"));
        row(3, "4412", Some("out"), "UNDELIV", None);
        row(4, "46703", None, "REJECTED", None);
        // Under way: queued, its row written at acceptance (before schema 5 did that).
        row(5, "46704", Some("out"), "QUEUED", Some("0.1"));
        let data = crate::store::codec::encode(&priced(5, "acme", "0.1"));
        conn.execute(
            "INSERT INTO messages (id, target, state, data, updated_us) VALUES (5, 'out', 0, ?1, ?2)",
            rusqlite::params![data, t],
        )
        .unwrap();
    }
    let store = SqliteStore::open(dir.path(), Options::default()).unwrap();
    async fn seen(store: &SqliteStore, hour: i64) -> Vec<(String, u64, String)> {
        let rows = store.summary(SummaryQuery::default()).await.unwrap();
        rows.iter()
            .map(|r| {
                let key = format!(
                    "{}/{}/{}/{}",
                    r.hour - hour,
                    r.prefix,
                    r.connector,
                    r.status
                );
                (key, r.messages, r.price.to_string())
            })
            .collect()
    }
    assert_eq!(
        seen(&store, hour).await,
        [
            ("0/44/out/UNDELIV".to_string(), 1, "0".to_string()),
            ("0/46//REJECTED".into(), 1, "0".into()),
            ("0/46/out/DELIVRD".into(), 2, "0.35".into()),
        ]
    );
    store
        .commit(vec![Write::finish(
            Message {
                id: 5,
                received_us: t + 5,
                dest: Address::new("46704"),
                ..priced(5, "acme", "0.1")
            },
            MessageState::Done,
            "DELIVRD",
            None,
        )])
        .await
        .unwrap();
    let three = ("0/46/out/DELIVRD".to_string(), 3, "0.45".to_string());
    assert_eq!(seen(&store, hour).await[2], three);
    store.close().await.unwrap();
    drop(store);
    // Opened again, nothing is folded twice.
    let store = SqliteStore::open(dir.path(), Options::default()).unwrap();
    assert_eq!(seen(&store, hour).await[2], three);
}

both!(
    a_prepaid_balance_is_spent_to_zero_and_the_next_message_is_refused_unstored,
    a_postpaid_balance_goes_down_to_its_limit,
    concurrent_charges_in_one_group_never_overspend,
    refunds_follow_the_policy_and_history_records_every_change,
    the_hourly_summary_adds_up_each_routelog_row,
);

/// Within one group a refund before a charge pays for it, as on SQLite (which applies a
/// group's writes one by one): the PostgreSQL writer decides charges at the start of a
/// segment, so the refund must end the segment before the charge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_before_a_charge_in_one_group_pays_for_it_on_postgres() {
    let h = Harness::postgres();
    let Harness::Postgres { url, .. } = &h else {
        unreachable!()
    };
    let store = h.open(Options::default()).await;
    set(&store, "acme", "0.2", None).await;
    set(&store, "other", "1", None).await;
    store
        .commit(charged(&priced(1, "acme", "0.2")))
        .await
        .unwrap();
    assert_eq!(balance(&store, "acme").await, "0");
    // A side transaction holds another account's balance row: the writer's next group (a
    // charge to it) waits on it, and the two requests that come meanwhile queue up as one
    // group, the refund first.
    let (side, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    side.batch_execute("BEGIN; SELECT * FROM balances WHERE account = 'other' FOR UPDATE")
        .await
        .unwrap();
    let spawn = |writes: Vec<Write>| {
        let store = store.clone();
        tokio::spawn(async move { store.commit(writes).await })
    };
    let blocked = spawn(charged(&priced(2, "other", "0.1")));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.count("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the writer never waited"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let fail = Write::finish(
        priced(1, "acme", "0.2"),
        MessageState::Failed,
        "REJECTD",
        None,
    );
    let refund = spawn(vec![fail]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let charge = spawn(charged(&priced(3, "acme", "0.2")));
    tokio::time::sleep(Duration::from_millis(200)).await;
    side.batch_execute("ROLLBACK").await.unwrap();
    blocked.await.unwrap().unwrap();
    refund.await.unwrap().unwrap();
    charge.await.unwrap().unwrap();
    assert_eq!(balance(&store, "acme").await, "0");
    let history = store.balance_history("acme".into(), 10).await.unwrap();
    let seen: Vec<(String, String, &str)> = history
        .iter()
        .map(|h| {
            let (before, change) = (h.amount_before.to_string(), h.amount.to_string());
            (before, change, h.created_by.as_str())
        })
        .collect();
    // Newest first, the refund written first; as on SQLite, each sum of one group has the
    // balance after the group less its change as its amount before.
    assert_eq!(
        seen[..2],
        [
            ("0.2".into(), "-0.2".into(), "charge:in"),
            ("-0.2".into(), "0.2".into(), "refund:in"),
        ]
    );
    store.close().await.unwrap();
}

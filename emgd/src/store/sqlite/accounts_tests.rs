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
}

async fn refunds_follow_the_policy_and_history_records_operator_changes(h: Harness) {
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
    assert_eq!(
        seen,
        [
            ("0.6".into(), "2.5".into(), "ops"),
            ("0".into(), "1".into(), "tester"),
        ]
    );
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
}

both!(
    a_prepaid_balance_is_spent_to_zero_and_the_next_message_is_refused_unstored,
    a_postpaid_balance_goes_down_to_its_limit,
    concurrent_charges_in_one_group_never_overspend,
    refunds_follow_the_policy_and_history_records_operator_changes,
    the_hourly_summary_adds_up_each_routelog_row,
);

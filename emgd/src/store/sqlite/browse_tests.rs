//! The console's reads against a real store: queue pages, searches over the messages under way
//! and the routelog, a message's trail.

use super::*;
use crate::store::test_backends::{both, Harness};
use crate::store::{MessageState, Query, Store};
use common::message::Address;
use std::sync::Arc;

fn msg(id: MessageId, target: &str, dest: &str, received_us: i64) -> Message {
    let mut m = Message {
        id,
        target: target.into(),
        source: Address::new("4670"),
        dest: Address::new(dest),
        body: b"hello".to_vec(),
        received_us,
        ..Default::default()
    };
    m.origin.connector = "smpp-in".into();
    m.origin.account = Some(if id.is_multiple_of(2) { "acme" } else { "demo" }.into());
    m
}

const T0: i64 = 1_700_000_000_000_000;
const BUDGET: Duration = Duration::from_secs(5);

/// Ten messages: 1-6 queued on a (dest 4670000000N), 7-8 queued on b, 9 sent on a, 10
/// delivered on a and 11 rejected (routelog only).
async fn store(h: &Harness) -> Arc<dyn Store> {
    let store = h.open(Options::default()).await;
    let mut writes = Vec::new();
    for id in 1..=10 {
        let target = if (7..=8).contains(&id) { "b" } else { "a" };
        let m = msg(
            id,
            target,
            &format!("467000000{id:02}"),
            T0 + id as i64 * 1_000_000,
        );
        writes.push(Write::enqueue(&m));
    }
    store.commit(writes).await.unwrap();
    store
        .commit(vec![Write::Sent {
            id: 9,
            connector: "a".into(),
            remote_id: "R9".into(),
        }])
        .await
        .unwrap();
    let done = msg(10, "a", "46700000010", T0 + 10_000_000);
    store
        .commit(vec![Write::finish(
            done,
            MessageState::Done,
            "DELIVRD",
            None,
        )])
        .await
        .unwrap();
    let rejected = msg(11, "", "9990001", T0 + 11_000_000);
    store
        .commit(vec![Write::Rejected {
            message: Box::new(rejected),
            reason: "no route".into(),
        }])
        .await
        .unwrap();
    store
}

fn ids(p: &crate::store::Page) -> Vec<MessageId> {
    p.found.iter().map(|f| f.id).collect()
}

async fn a_queue_pages_oldest_first_from_the_store(h: Harness) {
    let s = store(&h).await;
    let p = s.browse_queue("a", 0, 4, BUDGET).await.unwrap();
    assert_eq!(ids(&p), [1, 2, 3, 4]);
    assert!(p.more);
    assert_eq!(p.found[0].state, "queued");
    assert_eq!(p.found[0].dest, "46700000001");
    let p = s.browse_queue("a", 4, 4, BUDGET).await.unwrap();
    assert_eq!(ids(&p), [5, 6], "9 is sent, 10 final: not in the queue");
    assert!(!p.more);
    let p = s.browse_queue("b", 0, 10, BUDGET).await.unwrap();
    assert_eq!(ids(&p), [7, 8]);
}

async fn search_finds_messages_under_way_and_finished_newest_first(h: Harness) {
    let s = store(&h).await;
    let q = |f: &dyn Fn(&mut Query)| {
        let mut q = Query {
            limit: 50,
            budget: BUDGET,
            ..Default::default()
        };
        f(&mut q);
        q
    };
    let all = s.search(q(&|_| {})).await.unwrap();
    assert_eq!(ids(&all), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    let states: Vec<&str> = all.found.iter().map(|f| f.state.as_str()).collect();
    assert_eq!(&states[..4], ["rejected", "done", "sent", "queued"]);
    assert_eq!(all.found[1].status.as_deref(), Some("DELIVRD"));
    assert_eq!(all.found[0].target, None);

    let by_dest = s
        .search(q(&|q| q.dest = Some("46700000010".into())))
        .await
        .unwrap();
    assert_eq!(ids(&by_dest), [10]);
    let by_prefix = s
        .search(q(&|q| q.dest = Some("4670000000".into())))
        .await
        .unwrap();
    assert_eq!(ids(&by_prefix), [9, 8, 7, 6, 5, 4, 3, 2, 1]);
    let by_account = s
        .search(q(&|q| q.account = Some("acme".into())))
        .await
        .unwrap();
    assert_eq!(ids(&by_account), [10, 8, 6, 4, 2]);
    let by_connector = s
        .search(q(&|q| q.connector = Some("b".into())))
        .await
        .unwrap();
    assert_eq!(ids(&by_connector), [8, 7]);
    let by_time = s
        .search(q(&|q| {
            q.since_us = Some(T0 + 3_000_000);
            q.until_us = Some(T0 + 5_000_000);
        }))
        .await
        .unwrap();
    assert_eq!(ids(&by_time), [4, 3]);
    let by_id = s.search(q(&|q| q.id = Some(9))).await.unwrap();
    assert_eq!(ids(&by_id), [9]);

    // Pages: newest first, the next one below the last id seen.
    let first = s.search(q(&|q| q.limit = 4)).await.unwrap();
    assert_eq!(ids(&first), [11, 10, 9, 8]);
    assert!(first.more);
    let next = s
        .search(q(&|q| {
            q.limit = 4;
            q.before_id = Some(8);
        }))
        .await
        .unwrap();
    assert_eq!(ids(&next), [7, 6, 5, 4]);
    let last = s
        .search(q(&|q| {
            q.limit = 4;
            q.before_id = Some(4);
        }))
        .await
        .unwrap();
    assert_eq!(ids(&last), [3, 2, 1]);
    assert!(!last.more);
    assert_eq!(last.stopped, None);
}

async fn a_search_out_of_time_says_so(h: Harness) {
    let s = store(&h).await;
    let q = Query {
        limit: 50,
        budget: Duration::ZERO,
        ..Default::default()
    };
    let p = s.search(q).await.unwrap();
    assert!(
        p.stopped.as_deref().unwrap().contains("narrow the search"),
        "{p:?}"
    );
}

async fn a_trail_has_the_row_the_routelog_and_the_open_receipts(h: Harness) {
    let s = store(&h).await;
    let t = s.trail(9, BUDGET).await.unwrap();
    assert_eq!(t.stored.unwrap().state, MessageState::Sent);
    assert!(t.log.is_none());
    assert_eq!(t.dlrs.len(), 1);
    assert_eq!(t.dlrs[0].remote_id, "R9");
    let t = s.trail(10, BUDGET).await.unwrap();
    let log = t.log.unwrap();
    assert_eq!(
        (log.status.as_str(), log.route.as_deref()),
        ("DELIVRD", Some("a"))
    );
    let t = s.trail(11, BUDGET).await.unwrap();
    assert!(t.stored.is_none());
    assert_eq!(t.log.unwrap().route, None);
    let t = s.trail(99, BUDGET).await.unwrap();
    assert!(t.stored.is_none() && t.log.is_none());
}

async fn failures_are_counted_by_status_and_error(h: Harness) {
    let s = store(&h).await;
    let now = crate::clock::now_us();
    let mut writes = Vec::new();
    for (id, error) in [(20, "0x00000058"), (21, "0x00000058"), (22, "0x00000045")] {
        let m = msg(id, "a", "4670", now);
        writes.push(Write::enqueue(&m));
        writes.push(Write::finish(
            m,
            MessageState::Failed,
            "REJECTD",
            Some(error.into()),
        ));
    }
    s.commit(writes).await.unwrap();
    let counts = s.error_counts("a", now - 60_000_000, BUDGET).await.unwrap();
    let got: Vec<(&str, Option<&str>, u64)> = counts
        .iter()
        .map(|e| (e.status.as_str(), e.error.as_deref(), e.count))
        .collect();
    assert_eq!(
        got,
        [
            ("REJECTD", Some("0x00000058"), 2),
            ("REJECTD", Some("0x00000045"), 1)
        ],
        "the delivered message 10 is no failure"
    );
    assert!(s
        .error_counts("b", now - 60_000_000, BUDGET)
        .await
        .unwrap()
        .is_empty());
}

both!(
    a_queue_pages_oldest_first_from_the_store,
    search_finds_messages_under_way_and_finished_newest_first,
    a_search_out_of_time_says_so,
    a_trail_has_the_row_the_routelog_and_the_open_receipts,
    failures_are_counted_by_status_and_error,
);

//! The queue's unit tests: users' messages, wake-ups, and spilling to the store.

use super::*;

fn msg(id: u64, user: Option<&str>) -> Message {
    Message {
        id,
        target_user: user.map(str::to_string),
        ..Default::default()
    }
}

#[tokio::test]
async fn sessions_only_take_their_users_messages() {
    let totals = Arc::new(Totals::default());
    let q = Queue::new(totals.clone());
    q.push(msg(1, Some("alice")));
    q.push(msg(2, Some("bob")));
    q.push(msg(3, None));
    assert_eq!(q.take_for(Some("bob")).unwrap().id, 2);
    assert_eq!(q.take_for(Some("bob")).unwrap().id, 3);
    assert!(q.take_for(Some("bob")).is_none());
    assert_eq!(q.len(), 3, "taken messages count until finished");
    q.finished();
    q.finished();
    assert_eq!(q.len(), 1);
    assert_eq!(totals.get(), 1);
    let rest = q.take_matching(|_| true, usize::MAX).await;
    assert_eq!(rest.len(), 1);
    assert_eq!(totals.get(), 0);
}

/// A message put back for one user reaches that user's session, whoever else waits.
#[tokio::test]
async fn put_back_wakes_the_session_it_is_for() {
    for order in [["alice", "bob"], ["bob", "alice"]] {
        let q = Arc::new(Queue::new(Arc::new(Totals::default())));
        let mut waiters = Vec::new();
        for user in order {
            let q = q.clone();
            waiters.push((
                user,
                tokio::spawn(async move { q.next_for(Some(user)).await.id }),
            ));
            tokio::task::yield_now().await;
        }
        q.put_back(msg(7, Some("bob")));
        for (user, w) in waiters {
            let got = tokio::time::timeout(Duration::from_millis(500), w).await;
            match user {
                "bob" => assert_eq!(got.expect("bob woken").unwrap(), 7, "{order:?}"),
                _ => assert!(got.is_err(), "alice takes nothing"),
            }
        }
    }
}

#[tokio::test]
async fn next_for_wakes_on_push() {
    let q = Arc::new(Queue::new(Arc::new(Totals::default())));
    let waiter = {
        let q = q.clone();
        tokio::spawn(async move { q.next_for(None).await.id })
    };
    tokio::task::yield_now().await;
    q.push(msg(9, None));
    assert_eq!(waiter.await.unwrap(), 9);
}

/// A queue longer than LOADED_MAX keeps only its head in memory and gives every message
/// back, in order, loading the rest from the store; cancel and clear reach spilled ones.
#[tokio::test]
async fn a_long_queue_spills_to_the_store_and_comes_back_in_order() {
    use crate::store::{sqlite::SqliteStore, Write};
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(dir.path(), Default::default()).unwrap());
    let n = LOADED_MAX as u64 * 2 + 500;
    let messages: Vec<Message> = (1..=n)
        .map(|id| Message {
            id,
            target: "out".into(),
            ..Default::default()
        })
        .collect();
    store
        .commit(messages.iter().map(Write::enqueue).collect())
        .await
        .unwrap();
    let totals = Arc::new(Totals::default());
    let q = Queue::with_store(totals.clone(), Some(store));
    for m in messages {
        q.push(m);
    }
    assert_eq!(q.lock().loaded.len(), LOADED_MAX, "only the head in memory");
    assert_eq!(q.waiting(), n as usize);
    // Cancel one from the spilled part and one from memory.
    assert_eq!(q.take_id(n - 3).await.map(|m| m.id), Some(n - 3));
    assert_eq!(q.take_id(5).await.map(|m| m.id), Some(5));
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < (n - 2) as usize {
        assert!(
            Instant::now() < deadline,
            "stalled after {} messages",
            got.len()
        );
        // As in a session's select!: the take is often dropped half-way (here, while a
        // refill waits for the store), and nothing may be lost by that.
        tokio::select! {
            m = q.next_on(0, Duration::from_secs(60)) => {
                got.push(m.id);
                q.finished();
            }
            _ = tokio::task::yield_now() => {}
        }
    }
    let want: Vec<u64> = (1..=n).filter(|id| *id != 5 && *id != n - 3).collect();
    assert_eq!(got, want, "in order, none lost, none twice");
    assert_eq!(q.len(), 0);
    assert_eq!(totals.get(), 0);
}

/// A message waiting out a hold delay is queued (counted, listed, cancellable, movable) but
/// not taken until it is due.
#[tokio::test]
async fn a_deferred_message_is_in_view_and_comes_back_when_due() {
    let q = Arc::new(Queue::new(Arc::new(Totals::default())));
    for id in [1, 2] {
        q.push(msg(id, None));
        let m = q.take_for(None).unwrap();
        q.defer(m, Duration::from_millis(if id == 1 { 50 } else { 60_000 }));
    }
    assert_eq!((q.len(), q.waiting()), (2, 2));
    assert!(q.take_for(None).is_none(), "held back");
    assert_eq!(q.peek(10).iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        q.take_id(2).await.map(|m| m.id),
        Some(2),
        "msg cancel finds it"
    );
    assert_eq!(q.len(), 1);
    let due = tokio::time::timeout(Duration::from_secs(10), q.next_for(None)).await;
    assert_eq!(due.unwrap().id, 1);
    q.push(msg(3, None));
    let m = q.take_for(None).unwrap();
    q.defer(m, Duration::from_secs(60));
    let moved = q.take_matching(|m| m.id == 3, 10).await;
    assert_eq!(moved.len(), 1, "queue move takes it");
}

#[tokio::test]
async fn a_reserved_place_counts_until_given_back_or_taken_by_its_message() {
    let totals = Arc::new(Totals::default());
    let q = Arc::new(Queue::new(totals.clone()));
    let a = q.reserve(Some(2), None).unwrap();
    let b = q.reserve(Some(2), Some(10)).unwrap();
    assert_eq!(q.reserve(Some(2), None).err(), Some(Full::Connector(2)));
    assert_eq!((q.len(), totals.get()), (2, 2));
    drop(b);
    assert_eq!((q.len(), totals.get()), (1, 1), "given back");
    q.push_reserved(msg(1, None), a);
    assert_eq!((q.len(), totals.get()), (1, 1), "counted once");
    assert_eq!(q.reserve(None, Some(1)).err(), Some(Full::Total(1)));
    assert_eq!(
        q.len(),
        1,
        "a refusal by the total leaves the queue's count alone"
    );
}

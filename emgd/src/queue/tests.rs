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
    assert_eq!(q.take_for(Some("bob"), &|_| true).unwrap().id, 2);
    assert_eq!(q.take_for(Some("bob"), &|_| true).unwrap().id, 3);
    assert!(q.take_for(Some("bob"), &|_| true).is_none());
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
                tokio::spawn(async move { q.next_for(Some(user), &|_| true).await.id }),
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
        tokio::spawn(async move { q.next_for(None, &|_| true).await.id })
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
    assert_eq!(
        q.lock().shared.loaded.len(),
        LOADED_MAX,
        "only the head in memory"
    );
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
        let m = q.take_for(None, &|_| true).unwrap();
        q.defer(m, Duration::from_millis(if id == 1 { 50 } else { 60_000 }));
    }
    assert_eq!((q.len(), q.waiting()), (2, 2));
    assert!(q.take_for(None, &|_| true).is_none(), "held back");
    assert_eq!(q.peek(10).iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        q.take_id(2).await.map(|m| m.id),
        Some(2),
        "msg cancel finds it"
    );
    assert_eq!(q.len(), 1);
    let due = tokio::time::timeout(Duration::from_secs(10), q.next_for(None, &|_| true)).await;
    assert_eq!(due.unwrap().id, 1);
    q.push(msg(3, None));
    let m = q.take_for(None, &|_| true).unwrap();
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

/// Part `seq` of 3 of one long message from the client, received `age` ago.
fn part(id: u64, seq: u8, age: Duration) -> Message {
    let mut body = vec![0x05, 0x00, 0x03, 0x2a, 3, seq];
    body.extend_from_slice(b"part");
    Message {
        id,
        esm_class: 0x40,
        body,
        source: common::message::Address::new("4670"),
        dest: common::message::Address::new("5551234"),
        received_us: crate::clock::now_us() - age.as_micros() as i64,
        ..Default::default()
    }
}

/// The CI failure [1, 3, 2]: under load part 3's commit finished before part 2's, and so
/// long after its reception that it was "overdue" the moment it reached the queue. A part
/// waits for the one before it from when it is first held back, not from its reception.
#[tokio::test]
async fn a_part_that_reached_the_queue_late_still_waits_for_the_part_before_it() {
    let q = Queue::new(Arc::new(Totals::default()));
    let ttl = Duration::from_secs(60);
    let slow = Duration::from_secs(10);
    q.push(part(1, 1, slow));
    assert_eq!(q.take_on(0, ttl).map(|m| m.id), Some(1));
    q.push(part(3, 3, slow));
    assert!(q.take_on(0, ttl).is_none(), "part 3 waits for part 2");
    q.push(part(2, 2, slow));
    assert_eq!(q.take_on(0, ttl).map(|m| m.id), Some(2));
    assert_eq!(q.take_on(0, ttl).map(|m| m.id), Some(3));
}

/// A part waits for the one before it while any part of its message is still being
/// accepted, however long; once none is, it goes [`PART_ORDER_WAIT`] later (the part before
/// it is lost).
#[tokio::test]
async fn a_part_waits_while_the_part_before_it_is_being_accepted() {
    let q = Queue::new(Arc::new(Totals::default()));
    let ttl = Duration::from_secs(600);
    let t0 = Instant::now();
    q.push(part(1, 1, Duration::ZERO));
    assert_eq!(q.take_on_at(0, ttl, t0).map(|m| m.id), Some(1));
    let accepting = q.accepting(PartsKey::of(&part(2, 2, Duration::ZERO)).unwrap());
    q.push(part(3, 3, Duration::ZERO));
    for s in [0, 1, 5, 30] {
        let at = t0 + Duration::from_secs(s);
        assert!(q.take_on_at(0, ttl, at).is_none(), "held at +{s} s");
    }
    drop(accepting);
    let since = t0 + Duration::from_secs(30);
    assert!(q.take_on_at(0, ttl, since + PART_ORDER_WAIT / 2).is_none());
    let late = q.take_on_at(0, ttl, since + PART_ORDER_WAIT + Duration::from_millis(1));
    assert_eq!(late.map(|m| m.id), Some(3), "part 2 is lost: part 3 goes");
}

async fn sqlite_store(dir: &std::path::Path, messages: &[Message]) -> Arc<dyn Store> {
    use crate::store::{sqlite::SqliteStore, Write};
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir, Default::default()).unwrap());
    store
        .commit(messages.iter().map(Write::enqueue).collect())
        .await
        .unwrap();
    store
}

/// Every message for `user` from `q`, in the order taken, until `n` came; the takes are
/// dropped half-way now and then, as in a session's `select!`.
async fn drain_for(q: &Queue, user: &str, n: usize) -> Vec<u64> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.len() < n {
        assert!(Instant::now() < deadline, "stalled after {}", got.len());
        tokio::select! {
            m = q.next_for(Some(user), &|_| true) => {
                got.push(m.id);
                q.finished();
            }
            _ = tokio::task::yield_now() => {}
        }
    }
    got
}

/// Reports for a client that is not bound wait in its own lane: a window in memory, the
/// rest as ids in the store, and they leave for it in order when it binds; other messages
/// are not held up behind them.
#[tokio::test]
async fn a_users_backlog_keeps_a_window_in_memory_and_comes_back_in_order() {
    let n = USER_LOADED_MAX * 5 + 7;
    let messages: Vec<Message> = (1..=n as u64)
        .map(|id| Message {
            target: "in".into(),
            ..msg(id, Some("alice"))
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path(), &messages).await;
    let q = Queue::with_store(Arc::new(Totals::default()), Some(store));
    for m in messages {
        q.push(m);
    }
    assert_eq!(q.lock().users["alice"].loaded.len(), USER_LOADED_MAX);
    assert_eq!(q.waiting(), n);
    q.push(msg(n as u64 + 1, None));
    assert_eq!(
        q.take_for(Some("bob"), &|_| true).map(|m| m.id),
        Some(n as u64 + 1),
        "another session is not held up"
    );
    q.finished();
    let got = drain_for(&q, "alice", n).await;
    assert_eq!(got, (1..=n as u64).collect::<Vec<_>>());
    assert_eq!(q.len(), 0);
    assert!(q.lock().users.is_empty(), "the emptied lane is gone");
}

/// After a restart a user's reports are ids in the shared lane (the store does not say
/// whose they are): they are sorted into the user's lane as it takes them, and one arriving
/// meanwhile waits behind them.
#[tokio::test]
async fn a_users_backlog_recovered_as_ids_comes_back_in_order_with_new_ones_behind() {
    let n = 3_000u64;
    let messages: Vec<Message> = (1..=n + 1)
        .map(|id| Message {
            target: "in".into(),
            ..msg(id, Some(if id % 3 == 0 { "bob" } else { "alice" }))
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path(), &messages).await;
    let q = Queue::with_store(Arc::new(Totals::default()), Some(store));
    for m in &messages[..n as usize] {
        q.push_spilled(Spilled {
            id: m.id,
            expires_us: None,
        });
    }
    q.push(messages[n as usize].clone());
    assert_eq!(
        q.lock().shared.spilled.len(),
        n as usize + 1,
        "behind the ids"
    );
    let want: Vec<u64> = (1..=n + 1).filter(|id| id % 3 != 0).collect();
    let got = drain_for(&q, "alice", want.len()).await;
    assert_eq!(got, want);
    let loaded = q.lock().users["bob"].loaded.len();
    assert_eq!(loaded, USER_LOADED_MAX, "bob's window, the rest ids");
    assert_eq!(q.waiting(), (n / 3) as usize);
}

/// A node fenced off (its lease lapsed) takes nothing; dropping its waiting messages leaves
/// only those in flight counted.
#[tokio::test]
async fn a_closed_fence_takes_nothing_and_drop_waiting_forgets_what_waits() {
    let totals = Arc::new(Totals::default());
    let q = Queue::new(totals.clone());
    q.push(msg(1, None));
    q.push(msg(2, Some("alice")));
    q.push(msg(3, None));
    q.push_spilled(Spilled {
        id: 4,
        expires_us: None,
    });
    let in_flight = q.take_for(None, &|_| true).expect("taken while open");
    assert_eq!(in_flight.id, 1);
    totals.fence.close();
    assert!(q.take_for(Some("alice"), &|_| true).is_none());
    assert!(q.take_on(0, Duration::from_secs(1)).is_none());
    assert!(q.take_any(10).is_empty());
    assert_eq!(q.drop_waiting(), 3, "two in memory, one as an id");
    assert_eq!(q.waiting(), 0);
    assert_eq!(q.len(), 1, "the one in flight still counts");
    q.finished();
    assert_eq!(totals.get(), 0);
    totals.fence.open_until(i64::MAX);
    q.push(msg(5, None));
    assert_eq!(q.take_for(None, &|_| true).map(|m| m.id), Some(5));
}

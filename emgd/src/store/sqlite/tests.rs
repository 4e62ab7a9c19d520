use super::*;
use crate::store::test_backends::{both, Harness};
use crate::store::{codec, MessageState};
use common::message::{Address, MsgType};
use rusqlite::params;

fn msg(id: MessageId, target: &str) -> Message {
    Message {
        id,
        target: target.into(),
        source: Address::new("4670"),
        dest: Address::new("4671"),
        body: b"hello".to_vec(),
        received_us: 1_700_000_000_000_000,
        ..Default::default()
    }
}

fn open(dir: &Path, options: Options) -> SqliteStore {
    SqliteStore::open(dir, options).unwrap()
}

fn raw(dir: &Path) -> Connection {
    Connection::open(dir.join("emg.sqlite")).unwrap()
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Run for both backends (`test_backends`).
async fn committed_messages_survive_reopen(h: Harness) {
    {
        let store = h.open(Options::default()).await;
        let mut waits = Vec::new();
        for id in 1..=50 {
            waits.push(store.commit(vec![Write::enqueue(&msg(id, "sim1"))]));
        }
        for w in waits {
            w.await.unwrap();
        }
        store
            .commit(vec![Write::Sent {
                id: 3,
                connector: "sim1".into(),
                remote_id: "abc".into(),
            }])
            .await
            .unwrap();
        store
            .commit(vec![Write::ConnectorFlags {
                connector: "sim1".into(),
                hold: false,
                forceclose: true,
            }])
            .await
            .unwrap();
        store.close().await.unwrap();
        assert!(matches!(
            store.commit(vec![]).await,
            Err(StoreError::Closed)
        ));
    }
    let store = h.open(Options::default()).await;
    let rec = store.recover().await.unwrap();
    assert_eq!(rec.queued.len(), 49);
    assert_eq!(rec.queued[0], msg(1, "sim1"));
    assert_eq!(rec.max_id, 50);
    assert_eq!(rec.open_dlrs.len(), 1);
    let open_dlr = &rec.open_dlrs[0];
    assert_eq!(
        (
            open_dlr.connector.as_str(),
            open_dlr.remote_id.as_str(),
            open_dlr.message_id,
            &open_dlr.part_done
        ),
        ("sim1", "abc", 3, &None)
    );
    assert!(open_dlr.created_us > 0);
    assert_eq!(rec.flags, vec![("sim1".to_string(), false, true)]);
    let stored = store.message(3).await.unwrap().unwrap();
    assert_eq!(stored.state, MessageState::Sent);
    assert_eq!(stored.remote_id.as_deref(), Some("abc"));
    assert_eq!(store.queued_count("sim1").await.unwrap(), 49);
}

both!(committed_messages_survive_reopen);

/// The routelog row is written once, at the final state, and reports going back get none.
#[tokio::test]
async fn the_routelog_row_comes_with_the_final_state() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Options::default());
    let mut m = msg(1, "smsc");
    m.origin.connector = "smpp-in".into();
    m.origin.account = Some("acme".into());
    store.commit(vec![Write::enqueue(&m)]).await.unwrap();
    let db = raw(dir.path());
    assert_eq!(count(&db, "SELECT COUNT(*) FROM routelog"), 0);
    let report = Message {
        msgtype: MsgType::Dlr,
        ..msg(2, "smpp-in")
    };
    store
        .commit(vec![
            Write::finish(m, MessageState::Done, "DELIVRD", None),
            Write::enqueue(&report),
        ])
        .await
        .unwrap();
    store
        .commit(vec![Write::finish(
            report,
            MessageState::Done,
            "DELIVERED",
            None,
        )])
        .await
        .unwrap();
    let row: (i64, String, String, String, String) = db
        .query_row(
            "SELECT message_id, in_connector, account, route, status FROM routelog",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        row,
        (
            1,
            "smpp-in".into(),
            "acme".into(),
            "smsc".into(),
            "DELIVRD".into()
        )
    );
    assert_eq!(count(&db, "SELECT COUNT(*) FROM routelog"), 1);
}

/// Rows the horizon has passed are found at restart through `stragglers`, which stays exact
/// as they change state.
#[tokio::test]
async fn queued_rows_below_the_horizon_are_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Options::default());
    for id in (1..=10).filter(|id| *id != 5) {
        store
            .commit(vec![Write::enqueue(&msg(id, "out"))])
            .await
            .unwrap();
    }
    store.close().await.unwrap();
    // Move the horizon past the first rows, as the writer does LAG after storing them; 5 is
    // stored late (its commit was slow), below the horizon.
    let db = raw(dir.path());
    db.execute_batch(
        "INSERT INTO stragglers SELECT id FROM messages WHERE id < 9;
         UPDATE store_meta SET value = 9 WHERE key = 'horizon';",
    )
    .unwrap();
    let store = open(dir.path(), Options::default());
    store
        .commit(vec![
            Write::Submitting {
                ids: vec![2],
                connector: "out".into(),
            },
            Write::Sent {
                id: 3,
                connector: "out".into(),
                remote_id: "r3".into(),
            },
            Write::finish(msg(4, "out"), MessageState::Cancelled, "CANCELLED", None),
            Write::requeue(&msg(3, "out")),
            Write::enqueue(&msg(5, "out")),
        ])
        .await
        .unwrap();
    let rec = store.recover().await.unwrap();
    let ids: Vec<MessageId> = rec.queued.iter().map(|m| m.id).collect();
    assert_eq!(ids, [1, 2, 3, 5, 6, 7, 8, 9, 10]);
    assert_eq!(rec.were_submitting, 1);
    assert_eq!(store.queued_count("out").await.unwrap(), 8);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM stragglers"),
        7,
        "4 left the queue"
    );
}

/// Final rows older than the retention go, in chunks, and nothing else does: not queued rows,
/// not recent final ones, not routelog rows younger than theirs.
async fn the_purge_takes_only_final_rows_past_their_retention(h: Harness) {
    let old_us = crate::clock::now_us() - 3_600_000_000;
    let n = house::CHUNK as u64 * 2 + 10;
    {
        let store = h.open(Options::default()).await;
        let mut writes = Vec::new();
        for id in 1..=n {
            writes.push(Write::enqueue(&msg(id, "out")));
        }
        store.commit(writes).await.unwrap();
        let finals = (1..=n)
            .filter(|id| id % 10 != 0)
            .map(|id| Write::finish(msg(id, "out"), MessageState::Done, "DELIVRD", None))
            .collect();
        store.commit(finals).await.unwrap();
        store.close().await.unwrap();
    }
    // An hour ago, in the store's own terms: stored in an old minute, finished then.
    h.execute(&format!(
        "UPDATE messages SET updated_us = {old_us};
         UPDATE routelog SET updated_us = {old_us};"
    ));
    // SQLite finds what is old by the first id of each minute (PostgreSQL by time).
    if h.is_sqlite() {
        h.execute(&format!(
            "DELETE FROM id_epochs;
         INSERT INTO id_epochs VALUES ({}, 1);
         INSERT INTO id_epochs VALUES ({}, {});",
            old_us / 60_000_000,
            crate::clock::now_us() / 60_000_000,
            n + 1
        ));
    }
    let options = Options {
        retention: Duration::from_secs(600),
        routelog_retention: Duration::from_secs(7200),
        ..Options::default()
    };
    let store = h.open(options).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.count("SELECT COUNT(*) FROM messages") > (n / 10) as i64 {
        assert!(Instant::now() < deadline, "purge stalled");
        // A write now and then: purge steps join group commits.
        store.commit(vec![]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        h.count("SELECT COUNT(*) FROM messages WHERE id % 10 <> 0"),
        0,
        "only queued rows stay"
    );
    assert_eq!(
        h.count("SELECT COUNT(*) FROM routelog"),
        (n - n / 10) as i64,
        "the routelog is kept longer"
    );
    assert_eq!(store.recover().await.unwrap().queued.len() as u64, n / 10);
    assert!(
        store.recover().await.unwrap().max_id >= n,
        "ids are not given out again"
    );
}

both!(the_purge_takes_only_final_rows_past_their_retention);

fn step(id: MessageId, at_us: i64, kind: crate::store::EventKind, status: &str) -> Write {
    crate::store::Event {
        message_id: id,
        at_us,
        kind,
        connector: "out".into(),
        instance: Some(1),
        status: status.into(),
        code: if status == "RETRY" { 0x58 } else { 0 },
        remote_id: (status != "RETRY").then(|| "R1".into()),
    }
    .write()
}

/// A message's steps come back with its trail in time order, and go with its routelog row
/// once that is past `routelog_retention` (not before).
async fn history_steps_are_read_in_order_and_purged_with_the_routelog(h: Harness) {
    use crate::store::EventKind::{Attempt, Receipt};
    let old_us = crate::clock::now_us() - 3_600_000_000;
    {
        let store = h.open(Options::default()).await;
        store
            .commit(vec![
                Write::enqueue(&msg(1, "out")),
                Write::enqueue(&msg(2, "out")),
            ])
            .await
            .unwrap();
        for id in [1, 2] {
            store
                .commit(vec![
                    Write::requeue(&msg(id, "out")),
                    step(id, old_us + 10, Attempt, "RETRY"),
                ])
                .await
                .unwrap();
            store
                .commit(vec![
                    step(id, old_us + 30, Receipt, "DELIVRD"),
                    step(id, old_us + 20, Attempt, "OK"),
                    Write::finish(msg(id, "out"), MessageState::Done, "DELIVRD", None),
                ])
                .await
                .unwrap();
        }
        let t = store.trail(1, Duration::from_secs(3)).await.unwrap();
        let got: Vec<(&str, u32, Option<&str>)> = t
            .events
            .iter()
            .map(|e| (e.status.as_str(), e.code, e.remote_id.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("RETRY", 0x58, None),
                ("OK", 0, Some("R1")),
                ("DELIVRD", 0, Some("R1"))
            ]
        );
        assert!(t
            .events
            .iter()
            .all(|e| e.instance == Some(1) && e.connector == "out"));
        store.close().await.unwrap();
    }
    // Message 1 ended an hour ago, message 2 just now.
    h.execute(&format!(
        "UPDATE messages SET updated_us = {old_us} WHERE id = 1;
         UPDATE routelog SET updated_us = {old_us} WHERE message_id = 1;
         UPDATE msg_events SET at_us = at_us + 3600000000 WHERE message_id = 2;"
    ));
    if h.is_sqlite() {
        h.execute(&format!(
            "DELETE FROM id_epochs;
         INSERT INTO id_epochs VALUES ({}, 1);
         INSERT INTO id_epochs VALUES ({}, 2);",
            old_us / 60_000_000,
            crate::clock::now_us() / 60_000_000,
        ));
    }
    assert_eq!(h.count("SELECT COUNT(*) FROM msg_events"), 6);
    let options = Options {
        retention: Duration::from_secs(600),
        routelog_retention: Duration::from_secs(1200),
        ..Options::default()
    };
    let store = h.open(options).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.count("SELECT COUNT(*) FROM routelog") > 1 {
        assert!(Instant::now() < deadline, "purge stalled");
        store.commit(vec![]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        h.count("SELECT COUNT(*) FROM msg_events WHERE message_id = 1"),
        0,
        "the purged message's steps went with its routelog row"
    );
    assert_eq!(
        h.count("SELECT COUNT(*) FROM msg_events WHERE message_id = 2"),
        3,
        "the recent one's stay"
    );
}

/// After a restart with no new traffic, the horizon still passes what the last run stored,
/// [`house::LAG`] after the restart (it used to wait for the first new row, so a quiet
/// restarted node scanned those rows at every later restart).
#[test]
fn a_restart_without_traffic_still_moves_the_horizon_over_the_last_runs_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open_connection(&dir.path().join("emg.sqlite"), 2, true).unwrap();
    let t0 = 1_700_000_000_000_000;
    for id in 1..=4 {
        conn.execute(
            "INSERT INTO messages (id, target, state, data, updated_us) VALUES (?1, 'out', 0, ?2, ?3)",
            params![id, codec::encode(&msg(id as u64, "out")), t0],
        )
        .unwrap();
    }
    let restart = t0 + 3_600_000_000;
    let mut horizon = house::Horizon::load(&conn, restart).unwrap();
    let tx = conn.transaction().unwrap();
    assert_eq!(
        horizon.step(&tx, restart + 1_000_000).unwrap(),
        None,
        "too soon"
    );
    let moved = horizon.step(&tx, restart + house::LAG + 1_000_000).unwrap();
    assert_eq!(moved, Some(5), "past every row the last run stored");
    assert_eq!(count(&tx, "SELECT COUNT(*) FROM stragglers"), 4);
}

both!(history_steps_are_read_in_order_and_purged_with_the_routelog);

/// Once a second the horizon moves over the rows stored [`house::LAG`] ago, listing those
/// still queued; rows stored since stay above it.
#[test]
fn the_horizon_lists_what_is_still_queued_when_it_passes() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open_connection(&dir.path().join("emg.sqlite"), 2, true).unwrap();
    let t0 = 1_700_000_000_000_000;
    let mut horizon = house::Horizon::load(&conn, t0).unwrap();
    let tx = conn.transaction().unwrap();
    for id in 1..=6 {
        let state = if id % 2 == 0 { 2 } else { 0 };
        tx.execute(
            "INSERT INTO messages (id, target, state, data, updated_us) VALUES (?1, 'out', ?2, ?3, ?4)",
            params![id, state, codec::encode(&msg(id as u64, "out")), t0],
        )
        .unwrap();
    }
    horizon.stored(&tx, t0, 1, 6).unwrap();
    horizon.stored(&tx, t0 + 5_000_000, 7, 7).unwrap();
    tx.execute(
        "INSERT INTO messages (id, target, state, data, updated_us) VALUES (7, 'out', 5, ?1, ?2)",
        params![codec::encode(&msg(7, "out")), t0],
    )
    .unwrap();
    assert_eq!(horizon.step(&tx, t0 + 1_000_000).unwrap(), None, "too soon");
    let moved = horizon.step(&tx, t0 + house::LAG + 2_000_000).unwrap();
    assert_eq!(moved, Some(7), "up to what was stored LAG ago");
    horizon.at = 7;
    let listed: Vec<i64> = tx
        .prepare("SELECT id FROM stragglers ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(listed, [1, 3, 5]);
    let stored: i64 = tx
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'horizon'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 7);
    tx.commit().unwrap();
    let ids: Vec<MessageId> = read::recover(&conn, 7)
        .unwrap()
        .queued
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(
        ids,
        [1, 3, 5, 7],
        "the listed ones, then those above the horizon"
    );
}

/// A data directory written by the previous schema (JSON records, a routelog row written at
/// acceptance, dlr_open with a rowid) carries on: queued messages, open entries and the
/// routelog row of a message under way.
#[tokio::test]
async fn a_store_from_schema_4_is_carried_forward() {
    let dir = tempfile::tempdir().unwrap();
    let now = crate::clock::now_us();
    {
        let conn = Connection::open(dir.path().join("emg.sqlite")).unwrap();
        for sql in &schema::MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        let (queued, sent) = (msg(1, "out"), msg(2, "out"));
        for (m, state) in [(&queued, 0), (&sent, 1)] {
            conn.execute(
                "INSERT INTO messages (id, target, state, data, updated_us) VALUES (?1, 'out', ?2, ?3, ?4)",
                params![m.id as i64, state, serde_json::to_vec(m).unwrap(), now],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO routelog (message_id, received_us, in_connector, msgtype, source, dest, route, status, updated_us)
                 VALUES (?1, 5, 'in', 1, '4670', '4671', 'out', 'QUEUED', ?2)",
                [m.id as i64, now],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO dlr_open (connector, remote_id, message_id, created_us) VALUES ('out', 'r2', 2, 77)",
            [],
        )
        .unwrap();
    }
    let store = open(dir.path(), Options::default());
    let rec = store.recover().await.unwrap();
    assert_eq!(rec.queued, vec![msg(1, "out")]);
    assert_eq!(rec.open_dlrs.len(), 1);
    assert_eq!(rec.open_dlrs[0].created_us, 77);
    assert_eq!(rec.max_id, 2);
    let sent = store.message(2).await.unwrap().unwrap().message;
    store
        .commit(vec![
            Write::CloseDlr {
                connector: "out".into(),
                remote_id: "r2".into(),
            },
            Write::finish(sent, MessageState::Done, "DELIVRD", None),
        ])
        .await
        .unwrap();
    let db = raw(dir.path());
    let status: String = db
        .query_row(
            "SELECT status FROM routelog WHERE message_id = 2",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, "DELIVRD");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM routelog"), 2);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM dlr_open"), 0);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM id_epochs"),
        1,
        "seeded from the rows"
    );
}

//! The embedded SQLite store: one writer thread on rusqlite, WAL, group commit.
//!
//! Every request goes over a channel to one thread that owns the connection. That thread takes
//! everything that has queued up meanwhile, runs it in one transaction and fsyncs once, then
//! answers each waiter. Should the group fail, each caller's batch is retried in a transaction
//! of its own, so one bad batch fails alone and never takes the others down with it. (A
//! savepoint per batch would do the same up front, but its statement journal copies pages on
//! every write, and groups almost never fail.)
//! sqlx's SQLite driver hops to a worker thread per statement, which others measured costing a
//! lot per statement; one rusqlite thread does not.

use super::{
    schema, MessageState, OpenDlr, Recovered, Store, StoreError, StoreFuture, StoredMessage, Write,
};
use common::message::{Message, MessageId};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use tokio::sync::oneshot;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Request {
    Commit(Vec<Write>, Reply<()>),
    Recover(Reply<Recovered>),
    Message(MessageId, Reply<Option<StoredMessage>>),
    LoadQueued(Vec<MessageId>, Reply<Vec<Message>>),
    QueuedCount(String, Reply<u64>),
    Close(Reply<()>),
}

/// Handle to the SQLite writer thread; cheap to share behind an `Arc`.
pub struct SqliteStore {
    tx: mpsc::Sender<Request>,
    path: PathBuf,
}

impl SqliteStore {
    /// Open (creating if needed) `dir/emg.sqlite`, run migrations and start the writer.
    /// `max_batch` caps how many callers' batches share one transaction.
    pub fn open(dir: &Path, max_batch: usize) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Database(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("emg.sqlite");
        let conn = open_connection(&path)?;
        let (tx, rx) = mpsc::channel();
        thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                Writer {
                    conn,
                    max_batch: max_batch.max(1),
                }
                .run(rx)
            })
            .map_err(|e| StoreError::Database(format!("cannot start store thread: {e}")))?;
        Ok(SqliteStore { tx, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn ask<T: Send + 'static>(&self, make: impl FnOnce(Reply<T>) -> Request) -> StoreFuture<'_, T> {
        let (reply, wait) = oneshot::channel();
        let sent = self.tx.send(make(reply));
        Box::pin(async move {
            sent.map_err(|_| StoreError::Closed)?;
            wait.await.map_err(|_| StoreError::Closed)?
        })
    }
}

impl Store for SqliteStore {
    fn commit(&self, writes: Vec<Write>) -> StoreFuture<'_, ()> {
        self.ask(|r| Request::Commit(writes, r))
    }
    fn recover(&self) -> StoreFuture<'_, Recovered> {
        self.ask(Request::Recover)
    }
    fn message(&self, id: MessageId) -> StoreFuture<'_, Option<StoredMessage>> {
        self.ask(|r| Request::Message(id, r))
    }
    fn load_queued(&self, ids: Vec<MessageId>) -> StoreFuture<'_, Vec<Message>> {
        self.ask(|r| Request::LoadQueued(ids, r))
    }
    fn queued_count(&self, connector: &str) -> StoreFuture<'_, u64> {
        let connector = connector.to_string();
        self.ask(|r| Request::QueuedCount(connector, r))
    }
    fn close(&self) -> StoreFuture<'_, ()> {
        self.ask(Request::Close)
    }
}

fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path).map_err(db_err)?;
    // WAL lets lookups read while the writer commits; synchronous=FULL fsyncs every commit,
    // which is what "durable before acknowledged" needs. Group commit pays for it.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db_err)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(db_err)?;
    migrate(&mut conn)?;
    // Every hot-path statement stays prepared.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let applied: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err)?;
    let known = schema::MIGRATIONS.len() as i64;
    if applied > known {
        return Err(StoreError::Database(format!(
            "the data directory has schema version {applied}, newer than this emgd knows ({known}); use a newer emgd"
        )));
    }
    for (n, sql) in schema::MIGRATIONS.iter().enumerate().skip(applied as usize) {
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute_batch(sql).map_err(db_err)?;
        tx.pragma_update(None, "user_version", (n + 1) as i64)
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
    }
    Ok(())
}

fn now_us() -> i64 {
    crate::clock::now_us()
}

struct Writer {
    conn: Connection,
    max_batch: usize,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Request>) {
        let mut pending: Option<Request> = None;
        loop {
            let first = match pending.take() {
                Some(r) => r,
                None => match rx.recv() {
                    Ok(r) => r,
                    Err(_) => return,
                },
            };
            match first {
                Request::Commit(writes, reply) => {
                    let mut group = vec![(writes, reply)];
                    while group.len() < self.max_batch {
                        match rx.try_recv() {
                            Ok(Request::Commit(w, r)) => group.push((w, r)),
                            Ok(other) => {
                                pending = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.commit_group(group);
                }
                Request::Recover(reply) => {
                    let _ = reply.send(self.recover());
                }
                Request::Message(id, reply) => {
                    let _ = reply.send(self.message(id));
                }
                Request::LoadQueued(ids, reply) => {
                    let _ = reply.send(self.load_queued(&ids));
                }
                Request::QueuedCount(connector, reply) => {
                    let _ = reply.send(self.queued_count(&connector));
                }
                Request::Close(reply) => {
                    let result = self
                        .conn
                        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                        .map_err(db_err);
                    let _ = reply.send(result);
                    // Answer anyone who raced the close, then stop.
                    while let Ok(req) = rx.try_recv() {
                        refuse(req);
                    }
                    return;
                }
            }
        }
    }

    /// One transaction, one fsync, for every batch that arrived meanwhile.
    fn commit_group(&mut self, group: Vec<(Vec<Write>, Reply<()>)>) {
        let batches: Vec<&[Write]> = group.iter().map(|(w, _)| w.as_slice()).collect();
        if group.len() == 1 || self.run_transaction(&batches).is_err() {
            // Alone, or after the group failed: each batch in a transaction of its own.
            for (writes, reply) in group {
                let _ = reply.send(self.run_transaction(&[&writes]));
            }
            return;
        }
        for (_, reply) in group {
            let _ = reply.send(Ok(()));
        }
    }

    /// Apply `batches` in one transaction: all of them or, on any error, none.
    fn run_transaction(&mut self, batches: &[&[Write]]) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let tx = self.conn.transaction().map_err(db_err)?;
        for writes in batches {
            for w in writes.iter() {
                apply(&tx, w).map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
        let accepted = batches
            .iter()
            .flat_map(|b| b.iter())
            .filter_map(|w| match w {
                Write::Enqueue { message, .. }
                    if message.msgtype != common::message::MsgType::Dlr
                        && message.received_us > 0 =>
                {
                    Some((message.origin.connector.as_str(), message.received_us))
                }
                _ => None,
            });
        crate::metrics::global().store_committed(batches.len(), started.elapsed(), accepted);
        Ok(())
    }

    fn recover(&self) -> Result<Recovered, StoreError> {
        let mut out = Recovered::default();
        // Ids first (no blobs): each queue's head is loaded, the rest stays here as ids.
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, target, state, expires_us FROM messages WHERE state IN (0, 5) ORDER BY id",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)? as MessageId,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .map_err(db_err)?;
        let mut per_queue: HashMap<String, usize> = HashMap::new();
        let mut head = Vec::new();
        for row in rows {
            let (id, target, state, expires_us) = row.map_err(db_err)?;
            if state == MessageState::Submitting as i64 {
                out.were_submitting += 1;
            }
            let n = per_queue.entry(target.clone()).or_default();
            *n += 1;
            if *n <= super::LOADED_MAX {
                head.push(id);
            } else {
                out.spilled
                    .entry(target)
                    .or_default()
                    .push(super::Spilled { id, expires_us });
            }
        }
        drop(stmt);
        out.queued = self.load_queued(&head)?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT connector, remote_id, message_id, part_status, part_error FROM dlr_open",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| {
                let status: Option<String> = r.get(3)?;
                let error = r.get::<_, i64>(4)? as u32;
                Ok(OpenDlr {
                    connector: r.get(0)?,
                    remote_id: r.get(1)?,
                    message_id: r.get::<_, i64>(2)? as MessageId,
                    part_done: status.map(|s| (s, error)),
                })
            })
            .map_err(db_err)?;
        for row in rows {
            out.open_dlrs.push(row.map_err(db_err)?);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT connector, hold, forceclose FROM connector_flags")
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db_err)?;
        for row in rows {
            out.flags.push(row.map_err(db_err)?);
        }
        let max_msg: Option<i64> = self
            .conn
            .query_row("SELECT MAX(id) FROM messages", [], |r| r.get(0))
            .map_err(db_err)?;
        let max_log: Option<i64> = self
            .conn
            .query_row("SELECT MAX(message_id) FROM routelog", [], |r| r.get(0))
            .map_err(db_err)?;
        out.max_id = max_msg.unwrap_or(0).max(max_log.unwrap_or(0)) as MessageId;
        out.sat_entries = self.sat_entries()?;
        Ok(out)
    }

    /// SAT entries that have not expired.
    fn sat_entries(&self) -> Result<Vec<super::SatEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT pool, dest, sat_addr, original, original_ton, original_npi, expires_us
                 FROM sat_entries WHERE expires_us > ?1",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([now_us()], |r| {
                Ok(super::SatEntry {
                    pool: r.get(0)?,
                    dest: r.get(1)?,
                    sat_addr: r.get(2)?,
                    original: common::message::Address {
                        ton: r.get(4)?,
                        npi: r.get(5)?,
                        addr: r.get(3)?,
                    },
                    expires_us: r.get(6)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<Result<_, _>>().map_err(db_err)
    }

    fn load_queued(&self, ids: &[MessageId]) -> Result<Vec<Message>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT data FROM messages WHERE id = ?1 AND state IN (0, 5)")
            .map_err(db_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            let data: Option<Vec<u8>> = stmt
                .query_row([id as i64], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            if let Some(data) = data {
                out.push(decode_message(id, &data)?);
            }
        }
        Ok(out)
    }

    fn message(&self, id: MessageId) -> Result<Option<StoredMessage>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT data, state, remote_id, status, updated_us FROM messages WHERE id = ?1",
                [id as i64],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(db_err)?;
        let Some((data, state, remote_id, status, updated_us)) = row else {
            return Ok(None);
        };
        Ok(Some(StoredMessage {
            message: decode_message(id, &data)?,
            state: MessageState::from_code(state)
                .ok_or_else(|| StoreError::Corrupt(id, format!("state {state}")))?,
            remote_id,
            status,
            updated_us,
        }))
    }

    fn queued_count(&self, connector: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM messages WHERE state = 0 AND target = ?1",
                [connector],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(db_err)
    }
}

fn refuse(req: Request) {
    match req {
        Request::Commit(_, r) | Request::Close(r) => drop(r.send(Err(StoreError::Closed))),
        Request::Recover(r) => drop(r.send(Err(StoreError::Closed))),
        Request::Message(_, r) => drop(r.send(Err(StoreError::Closed))),
        Request::LoadQueued(_, r) => drop(r.send(Err(StoreError::Closed))),
        Request::QueuedCount(_, r) => drop(r.send(Err(StoreError::Closed))),
    }
}

fn decode_message(id: MessageId, data: &[u8]) -> Result<Message, StoreError> {
    serde_json::from_slice(data).map_err(|e| StoreError::Corrupt(id, e.to_string()))
}

fn encode_message(m: &Message) -> Vec<u8> {
    // A Message has no maps with non-string keys and no floats: serialisation cannot fail.
    serde_json::to_vec(m).unwrap_or_default()
}

fn apply(conn: &Connection, w: &Write) -> rusqlite::Result<()> {
    let now = now_us();
    match w {
        Write::Enqueue { message, route } => {
            conn.prepare_cached(
                "INSERT INTO messages (id, target, state, data, updated_us, expires_us) VALUES (?1, ?2, 0, ?3, ?4, ?5)",
            )?
            .execute(params![message.id as i64, message.target, encode_message(message), now, message.expires_us])?;
            insert_routelog(conn, message, Some(route), "QUEUED", None, now)?;
        }
        Write::Rejected { message, reason } => {
            insert_routelog(conn, message, None, "REJECTED", Some(reason), now)?;
        }
        Write::Requeue { message } => {
            conn.prepare_cached(
                "UPDATE messages SET target = ?2, state = 0, data = ?3, updated_us = ?4, expires_us = ?5 WHERE id = ?1",
            )?
            .execute(params![message.id as i64, message.target, encode_message(message), now, message.expires_us])?;
        }
        Write::Submitting { ids, connector } => {
            let mut stmt = conn.prepare_cached(
                "UPDATE messages SET state = 5, target = ?2, updated_us = ?3 WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute(params![*id as i64, connector, now])?;
            }
        }
        Write::SentParts {
            id,
            connector,
            remote_ids,
            awaiting_dlr,
        } => {
            apply(
                conn,
                &Write::Sent {
                    id: *id,
                    connector: connector.clone(),
                    remote_id: Some(remote_ids.join(",")),
                    awaiting_dlr: false,
                },
            )?;
            if *awaiting_dlr {
                conn.prepare_cached("UPDATE messages SET state = ?2 WHERE id = ?1")?
                    .execute(params![*id as i64, MessageState::Sent as i64])?;
                let mut stmt = conn.prepare_cached(
                    "INSERT OR REPLACE INTO dlr_open (connector, remote_id, message_id, created_us) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for remote in remote_ids {
                    stmt.execute(params![connector, remote, *id as i64, now])?;
                }
            }
        }
        Write::Sent {
            id,
            connector,
            remote_id,
            awaiting_dlr,
        } => {
            let state = if *awaiting_dlr {
                MessageState::Sent
            } else {
                MessageState::Done
            };
            conn.prepare_cached(
                "UPDATE messages SET state = ?2, remote_id = ?3, status = 'SENT', updated_us = ?4 WHERE id = ?1",
            )?
            .execute(params![*id as i64, state as i64, remote_id, now])?;
            if let (true, Some(remote)) = (*awaiting_dlr, remote_id) {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO dlr_open (connector, remote_id, message_id, created_us) VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![connector, remote, *id as i64, now])?;
            }
            // The routelog row keeps its route from Enqueue and gets its final status at
            // Finish; "sent" lives in the messages table only (one statement less per message).
            if !*awaiting_dlr {
                conn.prepare_cached(
                    "UPDATE routelog SET status = 'SENT', route = ?2, updated_us = ?3 WHERE message_id = ?1",
                )?
                .execute(params![*id as i64, connector, now])?;
            }
        }
        Write::Finish {
            id,
            state,
            status,
            error,
        } => {
            conn.prepare_cached(
                "UPDATE messages SET state = ?2, status = ?3, updated_us = ?4 WHERE id = ?1",
            )?
            .execute(params![*id as i64, *state as i64, status, now])?;
            conn.prepare_cached(
                "UPDATE routelog SET status = ?2, error = ?3, updated_us = ?4 WHERE message_id = ?1",
            )?
            .execute(params![*id as i64, status, error, now])?;
        }
        Write::CloseDlr {
            connector,
            remote_id,
        } => {
            conn.prepare_cached("DELETE FROM dlr_open WHERE connector = ?1 AND remote_id = ?2")?
                .execute(params![connector, remote_id])?;
        }
        Write::PartDone {
            connector,
            remote_id,
            status,
            error,
        } => {
            conn.prepare_cached(
                "UPDATE dlr_open SET part_status = ?3, part_error = ?4 WHERE connector = ?1 AND remote_id = ?2",
            )?
            .execute(params![connector, remote_id, status, *error as i64])?;
        }
        Write::CloseDlrsOf { message_id } => {
            conn.prepare_cached("DELETE FROM dlr_open WHERE message_id = ?1")?
                .execute(params![*message_id as i64])?;
        }
        Write::ConnectorFlags {
            connector,
            hold,
            forceclose,
        } => {
            if !hold && !forceclose {
                conn.prepare_cached("DELETE FROM connector_flags WHERE connector = ?1")?
                    .execute(params![connector])?;
            } else {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO connector_flags (connector, hold, forceclose) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![connector, hold, forceclose])?;
            }
        }
        Write::SatEntry { entry } => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO sat_entries (pool, dest, sat_addr, original, original_ton, original_npi, expires_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                entry.pool,
                entry.dest,
                entry.sat_addr,
                entry.original.addr,
                entry.original.ton,
                entry.original.npi,
                entry.expires_us
            ])?;
        }
        Write::SatPurge { before_us } => {
            conn.prepare_cached("DELETE FROM sat_entries WHERE expires_us <= ?1")?
                .execute(params![before_us])?;
        }
    }
    Ok(())
}

fn insert_routelog(
    conn: &Connection,
    m: &Message,
    route: Option<&String>,
    status: &str,
    error: Option<&String>,
    now: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO routelog (message_id, received_us, in_connector, account, msgtype, source, dest, route, status, error, updated_us)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        m.id as i64,
        m.received_us,
        m.origin.connector,
        m.origin.account,
        m.msgtype.code(),
        m.source.addr,
        m.dest.addr,
        route,
        status,
        error,
        now
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::message::Address;

    fn msg(id: MessageId, target: &str) -> Message {
        Message {
            id,
            target: target.into(),
            source: Address::new("4670"),
            dest: Address::new("4671"),
            body: b"hello".to_vec(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn committed_messages_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SqliteStore::open(dir.path(), 64).unwrap();
            let mut waits = Vec::new();
            for id in 1..=50 {
                waits.push(store.commit(vec![Write::Enqueue {
                    message: Box::new(msg(id, "sim1")),
                    route: "sim1".into(),
                }]));
            }
            for w in waits {
                w.await.unwrap();
            }
            store
                .commit(vec![Write::Sent {
                    id: 3,
                    connector: "sim1".into(),
                    remote_id: Some("abc".into()),
                    awaiting_dlr: true,
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
        let store = SqliteStore::open(dir.path(), 64).unwrap();
        let rec = store.recover().await.unwrap();
        assert_eq!(rec.queued.len(), 49);
        assert_eq!(rec.max_id, 50);
        assert_eq!(
            rec.open_dlrs,
            vec![OpenDlr {
                connector: "sim1".into(),
                remote_id: "abc".into(),
                message_id: 3,
                part_done: None,
            }]
        );
        assert_eq!(rec.flags, vec![("sim1".to_string(), false, true)]);
        let stored = store.message(3).await.unwrap().unwrap();
        assert_eq!(stored.state, MessageState::Sent);
        assert_eq!(stored.remote_id.as_deref(), Some("abc"));
        assert_eq!(store.queued_count("sim1").await.unwrap(), 49);
    }
}

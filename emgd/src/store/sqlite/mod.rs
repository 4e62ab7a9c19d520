//! The embedded SQLite store: one writer thread on rusqlite, WAL, group commit.
//!
//! Every request goes over a channel to one thread that owns the connection. That thread takes
//! everything that has queued up meanwhile, runs it in one transaction and fsyncs once, then
//! answers each waiter. Should the group fail, each caller's batch is retried in a transaction
//! of its own, so one bad batch fails alone and never takes the others down with it. (A
//! savepoint per batch would do the same up front, but its statement journal copies pages on
//! every write, and groups almost never fail.)
//!
//! Writes are prepared on the caller's thread ([`ops`]: records encoded, strings moved), so
//! the writer runs nothing but SQL. Housekeeping ([`house`]: the restart horizon, the purge)
//! runs in small steps inside the group transactions, or alone when the store is idle.
//! sqlx's SQLite driver hops to a worker thread per statement, which others measured costing a
//! lot per statement; one rusqlite thread does not.

pub(in crate::store) mod accounts;
mod browse;
mod clean;
mod house;
pub(in crate::store) mod ops;
mod prepared;
mod read;

use super::{
    accounts as acct, schema, ErrorCount, Options, Page, Query, Recovered, Store, StoreError,
    StoreFuture, StoredMessage, Trail, Write,
};
use common::message::{Message, MessageId};
use ops::Op;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Request {
    Commit(Vec<Op>, Reply<()>),
    Recover(Reply<Recovered>),
    Message(MessageId, Reply<Option<StoredMessage>>),
    LoadQueued(Vec<MessageId>, Reply<Vec<Message>>),
    QueuedCount(String, Reply<u64>),
    Balance(String, Reply<Vec<acct::Balance>>),
    Ping(Reply<()>),
    Close(Reply<()>),
}

/// Handle to the SQLite writer thread; cheap to share behind an `Arc`.
pub struct SqliteStore {
    tx: mpsc::Sender<Request>,
    path: PathBuf,
}

impl SqliteStore {
    /// Open (creating if needed) `dir/emg.sqlite`, run migrations and start the writer.
    pub fn open(dir: &Path, options: Options) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Database(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("emg.sqlite");
        let check = clean::at_start(dir, options.check, !path.exists())?;
        let conn = open_connection(&path, options.summary_prefix_length, check)?;
        let horizon = house::Horizon::load(&conn, now_us())?;
        let (tx, rx) = mpsc::channel();
        let dir = dir.to_path_buf();
        thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                Writer {
                    conn,
                    max_batch: options.group_commit_max.max(1),
                    commit_delay: options.group_commit_delay,
                    last_commit: Instant::now(),
                    horizon,
                    dir,
                    purge: house::Purge::new(&options),
                    acct: ops::Accounting {
                        refund: options.refund,
                        summary_prefix_length: options.summary_prefix_length,
                    },
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
        let ops = writes.into_iter().map(Op::of).collect();
        self.ask(|r| Request::Commit(ops, r))
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
    fn browse_queue(
        &self,
        connector: &str,
        after: MessageId,
        limit: usize,
        budget: Duration,
    ) -> StoreFuture<'_, Page> {
        let (path, connector) = (self.path.clone(), connector.to_string());
        blocking(move || browse::browse_queue(&path, &connector, after, limit, budget))
    }
    fn search(&self, query: Query) -> StoreFuture<'_, Page> {
        let path = self.path.clone();
        blocking(move || browse::search(&path, &query))
    }
    fn error_counts(
        &self,
        connector: &str,
        since_us: i64,
        budget: Duration,
    ) -> StoreFuture<'_, Vec<ErrorCount>> {
        let (path, connector) = (self.path.clone(), connector.to_string());
        blocking(move || browse::error_counts(&path, &connector, since_us, budget))
    }
    fn trail(&self, id: MessageId, budget: Duration) -> StoreFuture<'_, Trail> {
        let path = self.path.clone();
        blocking(move || browse::trail(&path, id, budget))
    }
    /// One account's is a keyed read the writer answers between commits (cheaper than a
    /// connection of its own, for `/bin/send.json` answers); all of them are read aside.
    fn balances(&self, account: Option<String>) -> StoreFuture<'_, Vec<acct::Balance>> {
        match account {
            Some(account) => self.ask(|r| Request::Balance(account, r)),
            None => {
                let path = self.path.clone();
                blocking(move || accounts::balances(&path, None))
            }
        }
    }
    fn balance_history(
        &self,
        account: String,
        limit: usize,
    ) -> StoreFuture<'_, Vec<acct::HistoryEntry>> {
        let path = self.path.clone();
        blocking(move || accounts::history(&path, &account, limit))
    }
    fn summary(&self, query: acct::SummaryQuery) -> StoreFuture<'_, Vec<acct::SummaryRow>> {
        let path = self.path.clone();
        blocking(move || accounts::summary(&path, &query))
    }
    fn ping(&self) -> StoreFuture<'_, ()> {
        self.ask(Request::Ping)
    }
    fn close(&self) -> StoreFuture<'_, ()> {
        self.ask(Request::Close)
    }
}

/// An operator read on a blocking thread of its own (see [`browse`]).
fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> StoreFuture<'static, T> {
    Box::pin(async move {
        tokio::task::spawn_blocking(read)
            .await
            .map_err(|e| StoreError::Database(format!("store read failed: {e}")))?
    })
}

fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// What a corrupt store's message says to do (the steps: STORE RECOVERY in emgd(8)).
const RECOVERY: &str = "emgd does not start on it: stop emgd, move the file aside and copy \
    what is readable into a new one with sqlite3 (`.dump`, keeping PRAGMA user_version), or \
    restore a backup; the steps are under STORE RECOVERY in emgd(8)";

fn corrupt(path: &Path, what: &str) -> StoreError {
    StoreError::CorruptFile(format!(
        "{}: store is corrupt ({what}); {RECOVERY}",
        path.display()
    ))
}

/// `e` from opening `path`: SQLite's "malformed" and "not a database" say the file is corrupt.
fn open_err(path: &Path, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match e.sqlite_error_code() {
        Some(DatabaseCorrupt | NotADatabase) => corrupt(path, &e.to_string()),
        _ => db_err(e),
    }
}

/// SQLite's `quick_check`: every page and record well formed, every index entry where its
/// row says (a full read of the file, without `integrity_check`'s cross-checks of index
/// contents). Its cost on large stores is in emgd(8).
fn check_integrity(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare("PRAGMA quick_check(5)")
        .map_err(|e| open_err(path, e))?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| open_err(path, e))?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(corrupt(
        path,
        &format!("quick_check: {}", problems.join("; ")),
    ))
}

fn open_connection(
    path: &Path,
    summary_prefix_length: usize,
    check: bool,
) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path).map_err(|e| open_err(path, e))?;
    // WAL lets lookups read while the writer commits; synchronous=FULL fsyncs every commit,
    // which is what "durable before acknowledged" needs. Group commit pays for it.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| open_err(path, e))?;
    if check {
        let started = Instant::now();
        check_integrity(&conn, path)?;
        tracing::info!(
            "store checked: quick_check of {} passed in {:.1} s",
            path.display(),
            started.elapsed().as_secs_f64()
        );
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(db_err)?;
    // After a checkpoint the WAL file is cut back to this (bytes), so a burst does not leave
    // it large for ever.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        .map_err(db_err)?;
    migrate(&mut conn, summary_prefix_length).map_err(|e| match e {
        StoreError::Database(d) if d.contains("malformed") => corrupt(path, &d),
        e => e,
    })?;
    // Every hot-path statement stays prepared.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The migration that creates the hourly summary (schema 6).
const SUMMARY_MIGRATION: usize = 6;

fn migrate(conn: &mut Connection, summary_prefix_length: usize) -> Result<(), StoreError> {
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
        if n + 1 == SUMMARY_MIGRATION {
            let folded = accounts::fold_routelog(&tx, summary_prefix_length).map_err(db_err)?;
            if folded > 0 {
                tracing::info!("store: {folded} routelog rows folded into the new hourly summary");
            }
        }
        tx.pragma_update(None, "user_version", (n + 1) as i64)
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
    }
    Ok(())
}

fn now_us() -> i64 {
    crate::clock::now_us()
}

/// A group this large commits at once, delay or not.
const GATHER_ENOUGH: usize = 256;

struct Writer {
    conn: Connection,
    max_batch: usize,
    /// Least time from the end of one commit to the start of the next small one.
    commit_delay: Duration,
    last_commit: Instant,
    horizon: house::Horizon,
    /// The data directory, where the clean-shutdown marker goes at close.
    dir: PathBuf,
    purge: house::Purge,
    acct: ops::Accounting,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Request>) {
        let mut pending: Option<Request> = None;
        loop {
            let first = match pending.take() {
                Some(r) => r,
                None => match rx.recv_timeout(self.idle_wait()) {
                    Ok(r) => r,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.housekeeping_alone();
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                },
            };
            match first {
                Request::Commit(ops, reply) => {
                    let mut group = vec![(ops, reply)];
                    pending = self.gather(&rx, &mut group);
                    self.commit_group(group);
                    self.last_commit = Instant::now();
                }
                Request::Recover(reply) => {
                    let _ = reply.send(read::recover(&self.conn, self.horizon.at));
                }
                Request::Message(id, reply) => {
                    let _ = reply.send(read::message(&self.conn, id));
                }
                Request::LoadQueued(ids, reply) => {
                    let _ = reply.send(read::load_queued(&self.conn, &ids));
                }
                Request::QueuedCount(connector, reply) => {
                    let _ = reply.send(read::queued_count(&self.conn, self.horizon.at, &connector));
                }
                Request::Balance(account, reply) => {
                    let _ = reply.send(accounts::balance(&self.conn, &account));
                }
                Request::Ping(reply) => {
                    let _ = reply.send(Ok(()));
                }
                Request::Close(reply) => {
                    let result = self
                        .conn
                        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                        .map_err(db_err)
                        .and_then(|()| clean::at_exit(&self.dir));
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

    /// Add what else is waiting to `group`. A small group waits until `commit_delay` after the
    /// previous commit ended, so at moderate rates a commit (an fsync and its page writes, the
    /// dearest part of a message) carries many batches instead of a few. Returns a request
    /// that is not a commit, if one came.
    fn gather(
        &self,
        rx: &mpsc::Receiver<Request>,
        group: &mut Vec<(Vec<Op>, Reply<()>)>,
    ) -> Option<Request> {
        let mut waited = false;
        while group.len() < self.max_batch {
            match rx.try_recv() {
                Ok(Request::Commit(w, r)) => group.push((w, r)),
                Ok(other) => return Some(other),
                Err(mpsc::TryRecvError::Disconnected) => return None,
                Err(mpsc::TryRecvError::Empty) => {
                    let due = self.last_commit + self.commit_delay;
                    let now = Instant::now();
                    if waited || group.len() >= GATHER_ENOUGH || now >= due {
                        return None;
                    }
                    // One sleep, not a wake-up per arrival.
                    thread::sleep(due - now);
                    waited = true;
                }
            }
        }
        None
    }

    /// How long to wait for work before housekeeping runs on its own.
    fn idle_wait(&self) -> Duration {
        let until = self.purge.next_due().min(now_us() + 1_000_000);
        Duration::from_micros((until - now_us()).clamp(1_000, 1_000_000) as u64)
    }

    /// One transaction, one fsync, for every batch that arrived meanwhile.
    fn commit_group(&mut self, group: Vec<(Vec<Op>, Reply<()>)>) {
        let batches: Vec<&[Op]> = group.iter().map(|(w, _)| w.as_slice()).collect();
        if let Ok(outcomes) = self.run_transaction(&batches, true) {
            for ((_, reply), outcome) in group.into_iter().zip(outcomes) {
                let _ = reply.send(outcome);
            }
            return;
        }
        // After the group failed: each batch in a transaction of its own, without
        // housekeeping, so only what is wrong fails.
        for (ops, reply) in group {
            let outcome = self
                .run_transaction(&[&ops], false)
                .and_then(|mut o| o.pop().unwrap_or(Ok(())));
            let _ = reply.send(outcome);
        }
    }

    /// [`Writer::try_transaction`], recording its outcome: a failed transaction (rolled back:
    /// SQLITE_FULL on a full disk, SQLITE_READONLY, an I/O error) counts in
    /// `emg_store_commit_failures_total` and makes `/health` answer 503 until a transaction
    /// that writes commits again (a commit or [`Writer::probe`]).
    fn run_transaction(
        &mut self,
        batches: &[&[Op]],
        housekeeping: bool,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let result = self.try_transaction(batches, housekeeping);
        match &result {
            Err(e) => {
                self.horizon.rolled_back();
                if crate::metrics::global().store_commit_failed(&e.to_string()) {
                    tracing::error!(
                        "store commits fail, messages are refused until they succeed: {e}"
                    );
                }
            }
            Ok(_) if !batches.is_empty() => {
                if crate::metrics::global().store_commit_succeeded() {
                    tracing::info!("store commits again");
                }
            }
            Ok(_) => {}
        }
        result
    }

    /// Apply `batches` in one transaction: all of them or, on any error, none. A batch whose
    /// first op is a charge the balance does not cover is left out (nothing of it is applied)
    /// and its outcome is [`StoreError::NoBalance`]. With `housekeeping`, a step of it joins
    /// the transaction when one is due.
    fn try_transaction(
        &mut self,
        batches: &[&[Op]],
        housekeeping: bool,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let started = Instant::now();
        let now = now_us();
        let tx = self.conn.unchecked_transaction().map_err(db_err)?;
        let (mut min_id, mut max_id) = (i64::MAX, i64::MIN);
        let mut outcomes = Vec::with_capacity(batches.len());
        let mut ledger = accounts::Ledger::default();
        let mut summary = accounts::Summary::default();
        let mut st = prepared::Prepared::new(&tx);
        for ops in batches {
            if let Some(Op::Charge {
                account,
                via,
                micros,
            }) = ops.first()
            {
                let charged = accounts::charge(&tx, &mut ledger, (account, via), *micros, now)
                    .map_err(db_err)?;
                if !charged {
                    outcomes.push(Err(StoreError::NoBalance {
                        account: account.clone(),
                    }));
                    continue;
                }
            }
            let rest = match ops.first() {
                Some(Op::Charge { .. }) => &ops[1..],
                _ => ops,
            };
            for op in rest {
                let acct = (&self.acct, &mut ledger, &mut summary);
                ops::apply(&mut st, op, now, &self.horizon, acct).map_err(db_err)?;
                if let Some(id) = op.queued_id() {
                    (min_id, max_id) = (min_id.min(id), max_id.max(id));
                }
            }
            outcomes.push(Ok(()));
        }
        drop(st);
        ledger.flush(&tx, now).map_err(db_err)?;
        summary.flush(&tx).map_err(db_err)?;
        if max_id >= min_id {
            self.horizon
                .stored(&tx, now, min_id, max_id)
                .map_err(db_err)?;
        }
        let mut moved = None;
        let mut purged = None;
        if housekeeping {
            moved = self.horizon.step(&tx, now).map_err(db_err)?;
            if self.purge.due(now) {
                purged = Some(self.purge.step(&tx, now).map_err(db_err)?);
            }
        }
        tx.commit().map_err(db_err)?;
        if let Some(h) = moved {
            self.horizon.at = h;
        }
        if let Some(p) = purged {
            self.purge.done(&p, now);
        }
        crate::metrics::global().store_committed(batches.len(), started.elapsed());
        Ok(outcomes)
    }

    /// Nothing to commit for a while: run what housekeeping is due on its own and, while
    /// commits fail, try whether the store writes again.
    fn housekeeping_alone(&mut self) {
        if let Err(e) = self.run_transaction(&[], true) {
            tracing::error!("store housekeeping failed: {e}");
        }
        if crate::metrics::global().store_failing().is_some() {
            self.probe();
        }
    }

    /// A write of nothing that still appends a page to the WAL (the header's user_version,
    /// set to what it is): it commits once the disk has room and the data directory is
    /// writable again, so the store reports itself healthy without waiting for traffic.
    fn probe(&mut self) {
        let result = (|| {
            let version: i64 = self
                .conn
                .pragma_query_value(None, "user_version", |r| r.get(0))?;
            let tx = self.conn.unchecked_transaction()?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()
        })();
        match result {
            Ok(()) => {
                if crate::metrics::global().store_commit_succeeded() {
                    tracing::info!("store commits again");
                }
            }
            Err(e) => tracing::debug!("store still not writable: {e}"),
        }
    }
}

fn refuse(req: Request) {
    match req {
        Request::Commit(_, r) | Request::Close(r) | Request::Ping(r) => {
            drop(r.send(Err(StoreError::Closed)))
        }
        Request::Recover(r) => drop(r.send(Err(StoreError::Closed))),
        Request::Message(_, r) => drop(r.send(Err(StoreError::Closed))),
        Request::LoadQueued(_, r) => drop(r.send(Err(StoreError::Closed))),
        Request::QueuedCount(_, r) => drop(r.send(Err(StoreError::Closed))),
        Request::Balance(_, r) => drop(r.send(Err(StoreError::Closed))),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod browse_tests;

#[cfg(test)]
mod accounts_tests;

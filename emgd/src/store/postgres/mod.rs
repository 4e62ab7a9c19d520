//! The PostgreSQL store (`backend = "postgres"`, `database_url`): the same semantics as the
//! SQLite one, on a server that several nodes can share.
//!
//! One writer task owns one connection. It takes every commit request that queued up
//! meanwhile and runs them as one transaction ([`group`]: each kind of write one statement
//! over arrays), pipelined: `BEGIN`, the statements and `COMMIT` leave together and the
//! writer waits for the server once, twice when a charge or a refund must be decided first.
//! `synchronous_commit` is on, so a request resolves only once its group is durable. Should
//! the group fail, each request's batch is retried in a transaction of its own, so one bad
//! batch fails alone. A lost connection is opened again at the next group.
//!
//! Reads ([`read`], [`browse`]) run on a second connection, so they never hold commits up; an
//! operator read's time budget is the server's `statement_timeout`. Housekeeping ([`house`])
//! purges in small chunks between groups.
//!
//! Message ids: `nodeid * 10^15 + n`, handed out in memory by each node (no round trip per
//! message); the node's row in `nodes` claims its id range for its host and keeps its highest
//! id. tokio-postgres rather than sqlx: its client pipelines every query issued on one
//! connection, which is what a group commit of many statements wants (sqlx waits for each).

mod browse;
pub(in crate::store) mod group;
pub(in crate::store) mod house;
pub mod lanes;
pub mod lease;
mod read;
pub mod schema;
pub mod sessions;
mod statements;

use super::sqlite::accounts::{Cause, Ledger};
use super::sqlite::ops::{Accounting, Op};
use super::{
    accounts as acct, ErrorCount, OpenDlr, Options, Page, Query, Recovered, Store, StoreError,
    StoreFuture, StoredMessage, Trail, Write,
};
use common::message::{Message, MessageId, NODE_ID_FACTOR};
use group::{Plan, Stmt};
use statements::Statements;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{Client, NoTls};

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Request {
    Commit(Vec<Op>, Reply<()>),
    Close(Reply<()>),
}

/// Handle to the PostgreSQL writer task and the read connection; share it behind an `Arc`.
pub struct PostgresStore {
    tx: mpsc::UnboundedSender<Request>,
    reader: Arc<read::Reader>,
    node: Node,
    leases: lease::Leases,
}

/// This node: its id and the range of message ids it hands out.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub id: u16,
}

impl Node {
    /// `[low, high)`: the ids this node gives messages.
    pub fn id_range(self) -> (i64, i64) {
        let low = u64::from(self.id) * NODE_ID_FACTOR;
        (low as i64, (low + NODE_ID_FACTOR) as i64)
    }
}

pub(crate) fn db_err(e: tokio_postgres::Error) -> StoreError {
    // The server's own message says what went wrong; the driver's Display only says "db error".
    match e.as_db_error() {
        Some(d) => {
            StoreError::Database(format!("PostgreSQL: {}: {}", d.code().code(), d.message()))
        }
        None => StoreError::Database(format!("PostgreSQL: {e}")),
    }
}

/// Open a connection to `url`; its driver runs on a task of its own.
pub(crate) async fn connect(url: &str) -> Result<Client, StoreError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| StoreError::Database(format!("cannot connect to PostgreSQL: {e}")))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!("PostgreSQL connection closed: {e}");
        }
    });
    Ok(client)
}

/// `url` with this node's name for the server (`application_name`, as `pg_stat_activity`
/// shows it: `emgd-node-N`), unless it names one itself.
fn named(url: &str, nodeid: u16) -> String {
    if url.contains("application_name") {
        return url.to_string();
    }
    let name = format!("emgd-node-{nodeid}");
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}application_name={name}")
    } else {
        format!("{url} application_name={name}")
    }
}

impl PostgresStore {
    /// Connect to `url`, run the migrations, register node `nodeid` for this host and start
    /// the writer.
    pub async fn open(
        url: &str,
        nodeid: u16,
        options: Options,
    ) -> Result<PostgresStore, StoreError> {
        let url = &named(url, nodeid);
        let mut client = connect(url).await?;
        house::migrate(&mut client).await?;
        let node = Node { id: nodeid };
        let leases = lease::Leases::new(url.to_string(), node, options.node_lease);
        house::register_node(&client, node, leases.lease_us()).await?;
        let writer = Writer::connect(url).await?;
        let reader = Arc::new(read::Reader::new(url.to_string(), node));
        drop(client);
        let (tx, rx) = mpsc::unbounded_channel();
        let task = WriterTask {
            url: url.to_string(),
            conn: Some(writer),
            node,
            max_batch: options.group_commit_max.max(1),
            commit_delay: options.group_commit_delay,
            last_commit: Instant::now(),
            purge: house::Purge::new(&options),
            acct: Accounting {
                refund: options.refund,
                summary_prefix_length: options.summary_prefix_length,
            },
        };
        tokio::spawn(task.run(rx));
        Ok(PostgresStore {
            tx,
            reader,
            node,
            leases,
        })
    }

    pub fn node(&self) -> Node {
        self.node
    }

    /// This node's lease and the takeover of dead nodes' queues.
    pub fn leases(&self) -> &lease::Leases {
        &self.leases
    }
}

impl Store for PostgresStore {
    fn commit(&self, writes: Vec<Write>) -> StoreFuture<'_, ()> {
        let ops = writes.into_iter().map(Op::of).collect();
        let (reply, wait) = oneshot::channel();
        let sent = self.tx.send(Request::Commit(ops, reply));
        Box::pin(async move {
            sent.map_err(|_| StoreError::Closed)?;
            wait.await.map_err(|_| StoreError::Closed)?
        })
    }
    fn recover(&self) -> StoreFuture<'_, Recovered> {
        Box::pin(self.reader.recover())
    }
    fn message(&self, id: MessageId) -> StoreFuture<'_, Option<StoredMessage>> {
        Box::pin(self.reader.message(id))
    }
    fn load_queued(&self, ids: Vec<MessageId>) -> StoreFuture<'_, Vec<Message>> {
        Box::pin(async move { self.reader.load_queued(&ids).await })
    }
    fn queued_count(&self, connector: &str) -> StoreFuture<'_, u64> {
        let connector = connector.to_string();
        Box::pin(async move { self.reader.queued_count(&connector).await })
    }
    fn browse_queue(
        &self,
        connector: &str,
        after: MessageId,
        limit: usize,
        budget: Duration,
    ) -> StoreFuture<'_, Page> {
        let connector = connector.to_string();
        Box::pin(async move {
            browse::browse_queue(&self.reader, &connector, after, limit, budget).await
        })
    }
    fn search(&self, query: Query) -> StoreFuture<'_, Page> {
        Box::pin(async move { browse::search(&self.reader, &query).await })
    }
    fn error_counts(
        &self,
        connector: &str,
        since_us: i64,
        budget: Duration,
    ) -> StoreFuture<'_, Vec<ErrorCount>> {
        let connector = connector.to_string();
        Box::pin(
            async move { browse::error_counts(&self.reader, &connector, since_us, budget).await },
        )
    }
    fn trail(&self, id: MessageId, budget: Duration) -> StoreFuture<'_, Trail> {
        Box::pin(async move { browse::trail(&self.reader, id, budget).await })
    }
    fn balances(&self, account: Option<String>) -> StoreFuture<'_, Vec<acct::Balance>> {
        Box::pin(async move { browse::balances(&self.reader, account.as_deref()).await })
    }
    fn balance_history(
        &self,
        account: String,
        limit: usize,
    ) -> StoreFuture<'_, Vec<acct::HistoryEntry>> {
        Box::pin(async move { browse::balance_history(&self.reader, &account, limit).await })
    }
    fn summary(&self, query: acct::SummaryQuery) -> StoreFuture<'_, Vec<acct::SummaryRow>> {
        Box::pin(async move { browse::summary(&self.reader, &query).await })
    }
    fn shared(&self) -> bool {
        true
    }
    fn open_dlrs(&self, keys: Vec<(String, String)>) -> StoreFuture<'_, Vec<OpenDlr>> {
        Box::pin(async move { self.reader.open_dlrs(&keys).await })
    }
    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.reader.ping())
    }
    fn nodes(&self) -> StoreFuture<'_, Vec<super::NodeRow>> {
        Box::pin(self.leases.nodes())
    }
    fn node_sessions(&self) -> StoreFuture<'_, Vec<super::NodeSession>> {
        Box::pin(self.leases.node_sessions())
    }
    fn close(&self) -> StoreFuture<'_, ()> {
        let (reply, wait) = oneshot::channel();
        let sent = self.tx.send(Request::Close(reply));
        Box::pin(async move {
            sent.map_err(|_| StoreError::Closed)?;
            wait.await.map_err(|_| StoreError::Closed)?
        })
    }
}

/// The writer's connection and its prepared statements.
struct Writer {
    client: Client,
    stmts: Statements,
}

impl Writer {
    async fn connect(url: &str) -> Result<Writer, StoreError> {
        let client = connect(url).await?;
        // Durable before acknowledged: COMMIT returns once the WAL is flushed.
        client
            .batch_execute("SET synchronous_commit = on")
            .await
            .map_err(db_err)?;
        let stmts = Statements::prepare(&client).await.map_err(db_err)?;
        Ok(Writer { client, stmts })
    }

    /// Run `stmts` pipelined, after `BEGIN` and before `COMMIT` when asked: every one is
    /// sent before the first answer is awaited, and the server runs them in order. (A
    /// `COMMIT` after a failed statement only rolls back; the failure is what is returned.)
    async fn pipeline(&self, begin: bool, stmts: &[Stmt], commit: bool) -> Result<(), StoreError> {
        type Step<'a> = std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<(), tokio_postgres::Error>> + Send + 'a>,
        >;
        let client = &self.client;
        let mut steps: Vec<Step<'_>> = Vec::with_capacity(stmts.len() + 2);
        if begin {
            steps.push(Box::pin(client.batch_execute("BEGIN")));
        }
        for s in stmts {
            let stmt = self.stmts.get(s.kind);
            steps.push(Box::pin(async move {
                let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = s
                    .params
                    .iter()
                    .map(|p| p.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                client.execute(stmt, &params).await.map(drop)
            }));
        }
        if commit {
            steps.push(Box::pin(client.batch_execute("COMMIT")));
        }
        for r in futures_util::future::join_all(steps).await {
            r.map_err(db_err)?;
        }
        Ok(())
    }
}

/// A group this large commits at once, delay or not.
const GATHER_ENOUGH: usize = 256;

struct WriterTask {
    url: String,
    conn: Option<Writer>,
    node: Node,
    max_batch: usize,
    commit_delay: Duration,
    last_commit: Instant,
    purge: house::Purge,
    acct: Accounting,
}

impl WriterTask {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Request>) {
        loop {
            let wait = self.purge.wait();
            let first = tokio::select! {
                r = rx.recv() => match r {
                    Some(r) => r,
                    None => return,
                },
                _ = tokio::time::sleep(wait) => {
                    self.housekeeping().await;
                    continue;
                }
            };
            match first {
                Request::Commit(ops, reply) => {
                    let mut group = vec![(ops, reply)];
                    let close = self.gather(&mut rx, &mut group).await;
                    self.commit_group(group).await;
                    self.last_commit = Instant::now();
                    if self.purge.due(crate::clock::now_us()) {
                        self.housekeeping().await;
                    }
                    if let Some(reply) = close {
                        return self.close(rx, reply);
                    }
                }
                Request::Close(reply) => return self.close(rx, reply),
            }
        }
    }

    fn close(self, mut rx: mpsc::UnboundedReceiver<Request>, reply: Reply<()>) {
        let _ = reply.send(Ok(()));
        rx.close();
        while let Ok(req) = rx.try_recv() {
            match req {
                Request::Commit(_, r) | Request::Close(r) => drop(r.send(Err(StoreError::Closed))),
            }
        }
    }

    /// Add what else is waiting to `group` (see the SQLite writer's `gather`). Returns a
    /// close request, if one came.
    async fn gather(
        &self,
        rx: &mut mpsc::UnboundedReceiver<Request>,
        group: &mut Vec<(Vec<Op>, Reply<()>)>,
    ) -> Option<Reply<()>> {
        let mut waited = false;
        while group.len() < self.max_batch {
            match rx.try_recv() {
                Ok(Request::Commit(w, r)) => group.push((w, r)),
                Ok(Request::Close(r)) => return Some(r),
                Err(_) => {
                    let due = self.last_commit + self.commit_delay;
                    let now = Instant::now();
                    if waited || group.len() >= GATHER_ENOUGH || now >= due {
                        return None;
                    }
                    tokio::time::sleep(due - now).await;
                    waited = true;
                }
            }
        }
        None
    }

    async fn writer(&mut self) -> Result<&Writer, StoreError> {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            self.conn = None;
            self.conn = Some(Writer::connect(&self.url).await?);
        }
        Ok(self.conn.as_ref().expect("connected just now"))
    }

    async fn commit_group(&mut self, group: Vec<(Vec<Op>, Reply<()>)>) {
        let batches: Vec<&[Op]> = group.iter().map(|(w, _)| w.as_slice()).collect();
        if let Ok(outcomes) = self.run_transaction(&batches).await {
            for ((_, reply), outcome) in group.into_iter().zip(outcomes) {
                let _ = reply.send(outcome);
            }
            return;
        }
        for (ops, reply) in group {
            let outcome = self
                .run_transaction(&[&ops])
                .await
                .and_then(|mut o| o.pop().unwrap_or(Ok(())));
            let _ = reply.send(outcome);
        }
    }

    /// `batches` in one transaction: all of them or none. A batch whose leading charge the
    /// balance does not cover is left out with [`StoreError::NoBalance`].
    async fn run_transaction(
        &mut self,
        batches: &[&[Op]],
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let started = Instant::now();
        let now = crate::clock::now_us();
        let (acct, node) = (self.acct, self.node);
        let w = self.writer().await?;
        let result = transaction(w, acct, node, now, batches).await;
        if result.is_err() {
            // Leave no transaction open behind a failed statement.
            if let Err(e) = w.client.batch_execute("ROLLBACK").await {
                tracing::debug!("PostgreSQL rollback after a failed group: {e}");
            }
        } else {
            crate::metrics::global().store_committed(batches.len(), started.elapsed());
        }
        result
    }

    async fn housekeeping(&mut self) {
        let now = crate::clock::now_us();
        let result = match self.writer().await {
            Ok(_) => {
                let w = self.conn.as_ref().expect("connected just now");
                self.purge.step(&w.client, now).await
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(p) => self.purge.done(&p, now),
            Err(e) => {
                tracing::error!("store housekeeping failed: {e}");
                self.purge.failed(now);
            }
        }
    }
}

/// One group transaction on `w` (see [`group`]).
async fn transaction(
    w: &Writer,
    acct: Accounting,
    node: Node,
    now: i64,
    batches: &[&[Op]],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let mut begun = false;
    let mut outcomes: Vec<Result<(), StoreError>> = Vec::with_capacity(batches.len());
    let mut states = HashMap::new();
    let mut stmts = Vec::new();
    let mut max_id = 0;
    let mut ledger = Ledger::default();
    let mut start = 0;
    while start < batches.len() {
        let end = group::segment_end(batches, start, acct.refund);
        let plan = Plan {
            acct,
            now,
            batches: &batches[start..end],
        };
        let needs = plan.needs();
        if !needs.charges.is_empty() || !needs.states.is_empty() {
            // What the segment's decisions read must see the writes before it.
            w.pipeline(!begun, &std::mem::take(&mut stmts), false)
                .await?;
            begun = true;
        }
        let mut accepted = vec![true; end - start];
        if !needs.charges.is_empty() {
            let accounts: Vec<&str> = needs.charges.iter().map(|c| c.1.as_str()).collect();
            let amounts: Vec<i64> = needs.charges.iter().map(|c| c.3).collect();
            let row = w
                .client
                .query_one(&w.stmts.charge, &[&accounts, &amounts, &now])
                .await
                .map_err(db_err)?;
            let passed: Vec<bool> = row.get(0);
            for ((i, account, via, micros), ok) in needs.charges.iter().zip(passed) {
                if ok {
                    ledger.add(account, Cause::Charge, via, -micros);
                } else {
                    accepted[*i] = false;
                    outcomes_set(&mut outcomes, start + i, account);
                }
            }
        }
        let sent_before: HashSet<i64> = if needs.states.is_empty() {
            HashSet::new()
        } else {
            w.client
                .query(&w.stmts.sent_states, &[&needs.states])
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| r.get::<_, i64>(0))
                .collect()
        };
        let (mut more, top) = plan
            .statements(&accepted, &sent_before, &mut states, &mut ledger)
            .map_err(StoreError::Database)?;
        stmts.append(&mut more);
        max_id = max_id.max(top);
        start = end;
    }
    stmts.extend(group::history(&mut ledger, now));
    if max_id > 0 {
        stmts.push(group::node_max(i32::from(node.id), max_id));
    }
    w.pipeline(!begun, &stmts, true).await?;
    outcomes.resize_with(batches.len(), || Ok(()));
    Ok(outcomes)
}

/// Record batch `i`'s refusal (outcomes are filled in order; the others are `Ok`).
fn outcomes_set(outcomes: &mut Vec<Result<(), StoreError>>, i: usize, account: &str) {
    if outcomes.len() <= i {
        outcomes.resize_with(i + 1, || Ok(()));
    }
    outcomes[i] = Err(StoreError::NoBalance {
        account: account.to_string(),
    });
}

#[cfg(test)]
mod tests;

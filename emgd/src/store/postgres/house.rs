//! Housekeeping of the PostgreSQL store: the migrations at start, this node's row, and the
//! purge of finished rows after their retention, in chunks between group commits.

use super::{db_err, schema, Node};
use crate::store::{Options, StoreError};
use tokio_postgres::Client;

/// Taken while migrating, so nodes starting together apply each migration once.
const MIGRATION_LOCK: i64 = 0x656d_675f_7367; // "emg_sg"

pub async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(db_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db_err)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .await
        .map_err(db_err)?;
    let applied: i64 = match tx
        .query_opt("SELECT version::bigint FROM schema_version", &[])
        .await
        .map_err(db_err)?
    {
        Some(row) => row.get(0),
        None => {
            tx.execute("INSERT INTO schema_version VALUES (0)", &[])
                .await
                .map_err(db_err)?;
            0
        }
    };
    let known = schema::MIGRATIONS.len() as i64;
    if applied > known {
        return Err(StoreError::Database(format!(
            "the PostgreSQL database has schema version {applied}, newer than this emgd knows ({known}); use a newer emgd"
        )));
    }
    for (n, sql) in schema::MIGRATIONS.iter().enumerate().skip(applied as usize) {
        tx.batch_execute(sql).await.map_err(db_err)?;
        tx.execute(
            "UPDATE schema_version SET version = $1",
            &[&((n + 1) as i32)],
        )
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

/// This host's name, as `nodes` records it.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Claim `node`'s id range for this host. Two hosts with one `nodeid` on one database would
/// hand out the same message ids: the second is refused.
///
/// The node's lease starts here, before it reads its queue back: a live node taking over the
/// rows of this node's last run locks its row, so either it has finished (and those rows are
/// its now) or it sees the new lease and leaves them.
pub async fn register_node(client: &Client, node: Node, lease_us: i64) -> Result<(), StoreError> {
    let host = hostname();
    let now = crate::clock::now_us();
    let row = client
        .query_opt(
            "INSERT INTO nodes (nodeid, hostname, started_us, lease_until_us) VALUES ($1, $2, $3, $4)
             ON CONFLICT (nodeid) DO UPDATE SET started_us = EXCLUDED.started_us,
                lease_until_us = EXCLUDED.lease_until_us
                WHERE nodes.hostname = EXCLUDED.hostname
             RETURNING nodeid",
            &[&i32::from(node.id), &host, &now, &(now + lease_us)],
        )
        .await
        .map_err(db_err)?;
    if row.is_some() {
        return Ok(());
    }
    let holder: String = client
        .query_one(
            "SELECT hostname FROM nodes WHERE nodeid = $1",
            &[&i32::from(node.id)],
        )
        .await
        .map_err(db_err)?
        .get(0);
    Err(StoreError::Database(format!(
        "nodeid {} is taken by host {holder} in this database; give this node another `nodeid` (or, if {holder} was renamed to {host}, delete its row: DELETE FROM nodes WHERE nodeid = {})",
        node.id, node.id
    )))
}

/// Most rows of each table one purge step deletes.
pub const CHUNK: i64 = 2_048;
/// Pause between purge steps once nothing more is due (µs).
const PURGE_PAUSE: i64 = 1_000_000;

/// What one purge step did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Purged {
    pub messages: u64,
    pub routelog: u64,
}

pub struct Purge {
    retention_us: i64,
    routelog_us: i64,
    next: i64,
}

impl Purge {
    pub fn new(options: &Options) -> Purge {
        let us = |d: std::time::Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        Purge {
            retention_us: us(options.retention),
            routelog_us: us(options.routelog_retention),
            next: 0,
        }
    }

    pub fn due(&self, now: i64) -> bool {
        now >= self.next
    }

    /// How long until the next step is due.
    pub fn wait(&self) -> std::time::Duration {
        let left = self.next - crate::clock::now_us();
        std::time::Duration::from_micros(left.clamp(1_000, PURGE_PAUSE) as u64)
    }

    /// Delete a chunk of each table's rows past their retention, in a transaction of its own
    /// that need not wait for the disk (nothing is acknowledged on it).
    pub async fn step(&self, client: &Client, now: i64) -> Result<Purged, StoreError> {
        let message_cutoff = now.saturating_sub(self.retention_us);
        let routelog_cutoff = now.saturating_sub(self.routelog_us);
        let sql = "BEGIN; SET LOCAL synchronous_commit = off;";
        client.batch_execute(sql).await.map_err(db_err)?;
        let result = async {
            let messages = client
                .execute(
                    "DELETE FROM messages WHERE id IN (
                        SELECT id FROM messages WHERE state IN (2, 3, 4) AND updated_us < $1 LIMIT $2)",
                    &[&message_cutoff, &CHUNK],
                )
                .await?;
            // A message's steps go with its routelog row.
            let routelog: i64 = client
                .query_one(
                    "WITH gone AS (
                        DELETE FROM routelog WHERE message_id IN (
                            SELECT message_id FROM routelog WHERE updated_us < $1 LIMIT $2)
                        RETURNING message_id),
                     steps AS (DELETE FROM msg_events e USING gone WHERE e.message_id = gone.message_id)
                     SELECT COUNT(*) FROM gone",
                    &[&routelog_cutoff, &CHUNK],
                )
                .await?
                .get(0);
            client.batch_execute("COMMIT").await?;
            Ok::<_, tokio_postgres::Error>(Purged {
                messages,
                routelog: routelog as u64,
            })
        }
        .await;
        if result.is_err() {
            let _ = client.batch_execute("ROLLBACK").await;
        }
        result.map_err(db_err)
    }

    pub fn done(&mut self, p: &Purged, now: i64) {
        let full = p.messages as i64 >= CHUNK || p.routelog as i64 >= CHUNK;
        self.next = if full { now } else { now + PURGE_PAUSE };
        crate::metrics::global().store_purged(p.messages, p.routelog);
    }

    pub fn failed(&mut self, now: i64) {
        self.next = now + 10 * PURGE_PAUSE;
    }
}

//! Reads on a connection of their own: what a restart resumes from, queued messages loaded
//! back, lookups. An operator read runs in a read-only transaction whose
//! `statement_timeout` is its budget.

use super::{connect, db_err, Node};
use crate::store::{
    codec, MessageState, OpenDlr, Recovered, SatEntry, Spilled, StoreError, StoredMessage,
    LOADED_MAX,
};
use common::message::{Address, Message, MessageId};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::Client;

/// The read connection, opened again when it was lost.
pub struct Reader {
    url: String,
    pub node: Node,
    client: Mutex<Option<Client>>,
}

/// The reader's connection, held for one read.
pub struct Conn<'a>(MutexGuard<'a, Option<Client>>);

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.0.as_ref().expect("connected")
    }
}

/// Most ids one `ANY($1)` read takes.
const LOAD_CHUNK: usize = 10_000;

impl Reader {
    pub fn new(url: String, node: Node) -> Reader {
        Reader {
            url,
            node,
            client: Mutex::new(None),
        }
    }

    pub async fn conn(&self) -> Result<Conn<'_>, StoreError> {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(|c| c.is_closed()) {
            *guard = Some(connect(&self.url).await?);
        }
        Ok(Conn(guard))
    }

    /// The connection, in a read-only transaction whose statements stop after `budget`
    /// (the caller ends it with [`end`]).
    pub async fn budgeted(&self, budget: Duration) -> Result<Conn<'_>, StoreError> {
        let conn = self.conn().await?;
        let ms = budget.as_millis().clamp(1, i32::MAX as u128);
        conn.batch_execute(&format!(
            "BEGIN READ ONLY; SET LOCAL statement_timeout = {ms}"
        ))
        .await
        .map_err(db_err)?;
        Ok(conn)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.conn()
            .await?
            .batch_execute("SELECT 1")
            .await
            .map_err(db_err)
    }

    /// What this node resumes: its claimed queue (other nodes' rows are taken over by
    /// [`super::lease`] once their lease has run out), and the shared state.
    pub async fn recover(&self) -> Result<Recovered, StoreError> {
        let (low, high) = self.node.id_range();
        let conn = self.conn().await?;
        let mut out = Recovered::default();
        let rows = conn
            .query(
                "SELECT id, target, state, expires_us FROM messages WHERE state IN (0, 5)
                 AND COALESCE(claim_node, (id / 1000000000000000)::integer) = $1 ORDER BY id",
                &[&i32::from(self.node.id)],
            )
            .await
            .map_err(db_err)?;
        let mut per_queue: HashMap<String, usize> = HashMap::new();
        let mut head = Vec::new();
        for r in rows {
            let (id, target, state): (i64, String, i16) = (r.get(0), r.get(1), r.get(2));
            if state == MessageState::Submitting as i16 {
                out.were_submitting += 1;
            }
            let n = per_queue.entry(target.clone()).or_default();
            *n += 1;
            if *n <= LOADED_MAX {
                head.push(id as MessageId);
            } else {
                out.spilled.entry(target).or_default().push(Spilled {
                    id: id as MessageId,
                    expires_us: r.get(3),
                });
            }
        }
        out.queued = load_queued(&conn, &head).await?;
        for r in conn
            .query(
                "SELECT connector, remote_id, message_id, part_status, part_error, created_us FROM dlr_open",
                &[],
            )
            .await
            .map_err(db_err)?
        {
            out.open_dlrs.push(open_dlr(&r, r.get::<_, i64>(2) as MessageId, 3));
        }
        for r in conn
            .query(
                "SELECT connector, hold, forceclose FROM connector_flags",
                &[],
            )
            .await
            .map_err(db_err)?
        {
            out.flags.push((r.get(0), r.get(1), r.get(2)));
        }
        // The highest id this node gave out, even when the purge has deleted its rows.
        let max: i64 = conn
            .query_one(
                "SELECT GREATEST(
                    COALESCE((SELECT MAX(id) FROM messages WHERE id >= $1 AND id < $2), 0),
                    COALESCE((SELECT MAX(message_id) FROM routelog WHERE message_id >= $1 AND message_id < $2), 0),
                    COALESCE((SELECT max_id FROM nodes WHERE nodeid = $3), 0))",
                &[&low, &high, &i32::from(self.node.id)],
            )
            .await
            .map_err(db_err)?
            .get(0);
        out.max_id = max as MessageId;
        for r in conn
            .query(
                "SELECT pool, dest, sat_addr, original, original_ton, original_npi, expires_us
                 FROM sat_entries WHERE expires_us > $1",
                &[&crate::clock::now_us()],
            )
            .await
            .map_err(db_err)?
        {
            out.sat_entries.push(SatEntry {
                pool: r.get(0),
                dest: r.get(1),
                sat_addr: r.get(2),
                original: Address {
                    ton: r.get::<_, i16>(4) as u8,
                    npi: r.get::<_, i16>(5) as u8,
                    addr: r.get(3),
                },
                expires_us: r.get(6),
            });
        }
        for r in conn
            .query(
                "SELECT key, seq, id, target, data FROM concat_parts ORDER BY key, seq",
                &[],
            )
            .await
            .map_err(db_err)?
        {
            let id = r.get::<_, i64>(2) as MessageId;
            let target: String = r.get(3);
            let data: Vec<u8> = r.get(4);
            out.held_parts.push((
                r.get(0),
                r.get::<_, i16>(1) as u8,
                decode(id, &target, &data)?,
            ));
        }
        Ok(out)
    }

    pub async fn message(&self, id: MessageId) -> Result<Option<StoredMessage>, StoreError> {
        message(&*self.conn().await?, id).await
    }

    pub async fn load_queued(&self, ids: &[MessageId]) -> Result<Vec<Message>, StoreError> {
        load_queued(&*self.conn().await?, ids).await
    }

    /// Every open DLR entry of the messages with an entry among `keys` (see
    /// [`crate::store::Store::open_dlrs`]): one statement over arrays, through the primary key
    /// and the index by message.
    pub async fn open_dlrs(&self, keys: &[(String, String)]) -> Result<Vec<OpenDlr>, StoreError> {
        let (connectors, remotes): (Vec<&str>, Vec<&str>) =
            keys.iter().map(|(c, r)| (c.as_str(), r.as_str())).unzip();
        let rows = self
            .conn()
            .await?
            .query(
                "SELECT connector, remote_id, message_id, part_status, part_error, created_us
                 FROM dlr_open WHERE message_id IN (
                     SELECT d.message_id FROM dlr_open d
                     JOIN UNNEST($1::text[], $2::text[]) AS u(c, r)
                       ON d.connector = u.c AND d.remote_id = u.r)",
                &[&connectors, &remotes],
            )
            .await
            .map_err(db_err)?;
        Ok(rows
            .iter()
            .map(|r| open_dlr(r, r.get::<_, i64>(2) as MessageId, 3))
            .collect())
    }

    /// Rows queued for `connector` (not the ones being submitted).
    pub async fn queued_count(&self, connector: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .await?
            .query_one(
                "SELECT COUNT(*) FROM messages WHERE target = $1 AND state = 0",
                &[&connector],
            )
            .await
            .map_err(db_err)?
            .get(0);
        Ok(n as u64)
    }
}

/// An open DLR entry of a row whose columns from `at` are part status, part error, created.
pub fn open_dlr(r: &tokio_postgres::Row, message_id: MessageId, at: usize) -> OpenDlr {
    let status: Option<String> = r.get(at);
    let error: i64 = r.get(at + 1);
    OpenDlr {
        connector: r.get(0),
        remote_id: r.get(1),
        message_id,
        part_done: status.map(|s| (s, error as u32)),
        created_us: r.get(at + 2),
    }
}

pub fn decode(id: MessageId, target: &str, data: &[u8]) -> Result<Message, StoreError> {
    codec::decode(id, target, data).map_err(|e| StoreError::Corrupt(id, e.to_string()))
}

/// The messages among `ids` still queued (or being submitted), in the order of `ids`.
pub async fn load_queued(conn: &Client, ids: &[MessageId]) -> Result<Vec<Message>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(LOAD_CHUNK) {
        let want: Vec<i64> = chunk.iter().map(|id| *id as i64).collect();
        let rows = conn
            .query(
                "SELECT id, target, data FROM messages WHERE id = ANY($1) AND state IN (0, 5)",
                &[&want],
            )
            .await
            .map_err(db_err)?;
        let mut found: HashMap<i64, (String, Vec<u8>)> = rows
            .into_iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect();
        for id in want {
            if let Some((target, data)) = found.remove(&id) {
                out.push(decode(id as MessageId, &target, &data)?);
            }
        }
    }
    Ok(out)
}

pub async fn message(conn: &Client, id: MessageId) -> Result<Option<StoredMessage>, StoreError> {
    let row = conn
        .query_opt(
            "SELECT target, data, state, remote_id, status, updated_us FROM messages WHERE id = $1",
            &[&(id as i64)],
        )
        .await
        .map_err(db_err)?;
    let Some(r) = row else {
        return Ok(None);
    };
    let (target, data, state): (String, Vec<u8>, i16) = (r.get(0), r.get(1), r.get(2));
    Ok(Some(StoredMessage {
        message: decode(id, &target, &data)?,
        state: MessageState::from_code(i64::from(state))
            .ok_or_else(|| StoreError::Corrupt(id, format!("state {state}")))?,
        remote_id: r.get(3),
        status: r.get(4),
        updated_us: r.get(5),
    }))
}

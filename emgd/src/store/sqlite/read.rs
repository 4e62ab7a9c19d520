//! Reads: what a restart resumes from, queued messages loaded back, lookups.

use super::db_err;
use crate::store::{
    codec, MessageState, OpenDlr, Recovered, SatEntry, Spilled, StoreError, StoredMessage,
    LOADED_MAX,
};
use common::message::{Message, MessageId};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;

/// A queued row as a restart sees it.
struct QueuedRow {
    id: MessageId,
    target: String,
    state: i64,
    expires_us: Option<i64>,
}

/// Every queued (or submitting) row, oldest first, handed to `each`: the stragglers below the
/// horizon, then the rows at or above it. Streamed, so a restart with a million queued holds
/// no list of them all.
fn each_queued(
    conn: &Connection,
    horizon: i64,
    mut each: impl FnMut(QueuedRow),
) -> Result<(), StoreError> {
    let row = |r: &rusqlite::Row<'_>| {
        Ok(QueuedRow {
            id: r.get::<_, i64>(0)? as MessageId,
            target: r.get(1)?,
            state: r.get(2)?,
            expires_us: r.get(3)?,
        })
    };
    let mut stmt = conn
        .prepare(
            "SELECT m.id, m.target, m.state, m.expires_us FROM stragglers s JOIN messages m ON m.id = s.id
             WHERE m.state IN (0, 5) ORDER BY s.id",
        )
        .map_err(db_err)?;
    for r in stmt.query_map([], row).map_err(db_err)? {
        each(r.map_err(db_err)?);
    }
    let mut stmt = conn
        .prepare(
            "SELECT id, target, state, expires_us FROM messages WHERE id >= ?1 AND state IN (0, 5) ORDER BY id",
        )
        .map_err(db_err)?;
    for r in stmt.query_map([horizon], row).map_err(db_err)? {
        each(r.map_err(db_err)?);
    }
    Ok(())
}

pub fn recover(conn: &Connection, horizon: i64) -> Result<Recovered, StoreError> {
    let mut out = Recovered::default();
    // Ids first (no records): each queue's head is loaded, the rest stays here as ids.
    let mut per_queue: HashMap<String, usize> = HashMap::new();
    let mut head = Vec::new();
    each_queued(conn, horizon, |row| {
        if row.state == MessageState::Submitting as i64 {
            out.were_submitting += 1;
        }
        let n = match per_queue.get_mut(&row.target) {
            Some(n) => n,
            None => per_queue.entry(row.target.clone()).or_default(),
        };
        *n += 1;
        if *n <= LOADED_MAX {
            head.push(row.id);
        } else {
            let spilled = match out.spilled.get_mut(&row.target) {
                Some(s) => s,
                None => out.spilled.entry(row.target).or_default(),
            };
            spilled.push(Spilled {
                id: row.id,
                expires_us: row.expires_us,
            });
        }
    })?;
    out.queued = load_queued(conn, &head)?;
    let mut stmt = conn
        .prepare(
            "SELECT connector, remote_id, message_id, part_status, part_error, created_us FROM dlr_open",
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
                created_us: r.get(5)?,
            })
        })
        .map_err(db_err)?;
    for row in rows {
        out.open_dlrs.push(row.map_err(db_err)?);
    }
    let mut stmt = conn
        .prepare("SELECT connector, hold, forceclose FROM connector_flags")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(db_err)?;
    for row in rows {
        out.flags.push(row.map_err(db_err)?);
    }
    // The highest id ever given out, even when its rows are purged: the epochs remember the
    // first id of each minute.
    let max: i64 = conn
        .query_row(
            "SELECT MAX(COALESCE((SELECT MAX(id) FROM messages), 0),
                        COALESCE((SELECT MAX(message_id) FROM routelog), 0),
                        COALESCE((SELECT MAX(first_id) FROM id_epochs), 0))",
            [],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    out.max_id = max as MessageId;
    out.sat_entries = sat_entries(conn)?;
    out.held_parts = held_parts(conn)?;
    Ok(out)
}

/// Parts of long messages held for reassembly, by key and part number.
fn held_parts(conn: &Connection) -> Result<Vec<(String, u8, Message)>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT key, seq, id, target, data FROM concat_parts ORDER BY key, seq")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u8>(1)?,
                r.get::<_, i64>(2)? as MessageId,
                r.get::<_, String>(3)?,
                r.get::<_, Vec<u8>>(4)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (key, seq, id, target, data) = row.map_err(db_err)?;
        out.push((key, seq, decode(id, &target, &data)?));
    }
    Ok(out)
}

/// SAT entries that have not expired.
fn sat_entries(conn: &Connection) -> Result<Vec<SatEntry>, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT pool, dest, sat_addr, original, original_ton, original_npi, expires_us
             FROM sat_entries WHERE expires_us > ?1",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([crate::clock::now_us()], |r| {
            Ok(SatEntry {
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

pub(super) fn decode(id: MessageId, target: &str, data: &[u8]) -> Result<Message, StoreError> {
    codec::decode(id, target, data).map_err(|e| StoreError::Corrupt(id, e.to_string()))
}

pub fn load_queued(conn: &Connection, ids: &[MessageId]) -> Result<Vec<Message>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT target, data FROM messages WHERE id = ?1 AND state IN (0, 5)")
        .map_err(db_err)?;
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        let row: Option<(String, Vec<u8>)> = stmt
            .query_row([id as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_err)?;
        if let Some((target, data)) = row {
            out.push(decode(id, &target, &data)?);
        }
    }
    Ok(out)
}

pub fn message(conn: &Connection, id: MessageId) -> Result<Option<StoredMessage>, StoreError> {
    let row = conn
        .query_row(
            "SELECT target, data, state, remote_id, status, updated_us FROM messages WHERE id = ?1",
            [id as i64],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            },
        )
        .optional()
        .map_err(db_err)?;
    let Some((target, data, state, remote_id, status, updated_us)) = row else {
        return Ok(None);
    };
    Ok(Some(StoredMessage {
        message: decode(id, &target, &data)?,
        state: MessageState::from_code(state)
            .ok_or_else(|| StoreError::Corrupt(id, format!("state {state}")))?,
        remote_id,
        status,
        updated_us,
    }))
}

/// Rows queued for `connector` (not the ones being submitted).
pub fn queued_count(conn: &Connection, horizon: i64, connector: &str) -> Result<u64, StoreError> {
    let stragglers: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM stragglers s JOIN messages m ON m.id = s.id WHERE m.state = 0 AND m.target = ?1",
            [connector],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    let recent: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE id >= ?1 AND state = 0 AND target = ?2",
            params![horizon, connector],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    Ok((stragglers + recent) as u64)
}

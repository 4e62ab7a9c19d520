//! Housekeeping that keeps the SQLite store fast to restart and bounded in size, without an
//! index to maintain per message.
//!
//! - **Horizon**: a restart must find every queued row. Instead of an index on the state
//!   (two index updates per state change), the store keeps a horizon id H: rows at or above it
//!   are the last few seconds of traffic, scanned at restart; rows below it that are still
//!   queued (or being submitted) are listed in `stragglers`. The horizon advances once a second
//!   over the rows stored [`LAG`] ago, listing the ones still queued; writes to rows below it
//!   keep the list exact.
//! - **Epochs**: `id_epochs` records the first id stored in each minute, so "stored before T"
//!   is an id range.
//! - **Purge**: in chunks of [`CHUNK`] rows, final messages whose last change is older than
//!   `retention` are deleted, and routelog rows older than `routelog_retention`. Each chunk runs
//!   inside a group commit (no extra fsync), so the writer never stalls for long; freed pages
//!   are reused by new rows and the file stops growing.

use super::db_err;
use crate::store::{Options, StoreError};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::VecDeque;

/// Rows newer than this are scanned at restart instead of listed (µs).
pub const LAG: i64 = 10_000_000;
/// How often the horizon moves (µs).
const HORIZON_EVERY: i64 = 1_000_000;
/// Most rows the horizon passes in one step.
const HORIZON_CHUNK: usize = 20_000;
/// Most rows of each table one purge step looks at.
pub const CHUNK: usize = 2_048;
/// Pause between purge cycles once nothing more is due (µs).
const PURGE_PAUSE: i64 = 1_000_000;
const MINUTE: i64 = 60_000_000;

pub struct Horizon {
    /// Rows below this id are listed in `stragglers` while queued.
    pub at: i64,
    /// (time, highest id stored by then), oldest first, for the last [`LAG`] or so.
    samples: VecDeque<(i64, i64)>,
    next_step: i64,
    /// The minute of the last `id_epochs` row written.
    epoch_minute: i64,
}

impl Horizon {
    /// The horizon a restart at `now` carries on from. The rows the last run stored count as
    /// stored by `now`, so the horizon passes them [`LAG`] after the restart even when no new
    /// traffic comes (otherwise it would wait for the first new row).
    pub fn load(conn: &Connection, now: i64) -> Result<Horizon, StoreError> {
        let at = conn
            .query_row(
                "SELECT value FROM store_meta WHERE key = 'horizon'",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        let epoch_minute = conn
            .query_row("SELECT MAX(minute) FROM id_epochs", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map_err(db_err)?
            .unwrap_or(0);
        let top: Option<i64> = conn
            .query_row("SELECT MAX(id) FROM messages", [], |r| r.get(0))
            .map_err(db_err)?;
        Ok(Horizon {
            at,
            samples: top.map(|top| (now, top)).into_iter().collect(),
            next_step: 0,
            epoch_minute,
        })
    }

    /// Row `id` is queued again (stored, or requeued).
    pub fn queued(&self, conn: &Connection, id: i64) -> rusqlite::Result<()> {
        if id < self.at {
            conn.prepare_cached("INSERT OR IGNORE INTO stragglers (id) VALUES (?1)")?
                .execute([id])?;
        }
        Ok(())
    }

    /// Row `id` left the queue (sent, or final).
    pub fn left(&self, conn: &Connection, id: i64) -> rusqlite::Result<()> {
        if id < self.at {
            conn.prepare_cached("DELETE FROM stragglers WHERE id = ?1")?
                .execute([id])?;
        }
        Ok(())
    }

    /// A transaction at `now` stored rows up to `max_id` (first `min_id`); writes the minute's
    /// epoch when it is the first.
    pub fn stored(
        &mut self,
        conn: &Connection,
        now: i64,
        min_id: i64,
        max_id: i64,
    ) -> rusqlite::Result<()> {
        let minute = now / MINUTE;
        if minute != self.epoch_minute {
            conn.prepare_cached(
                "INSERT OR IGNORE INTO id_epochs (minute, first_id) VALUES (?1, ?2)",
            )?
            .execute([minute, min_id])?;
            self.epoch_minute = minute;
        }
        match self.samples.back_mut() {
            Some((t, m)) if now - *t < 250_000 => *m = (*m).max(max_id),
            _ => {
                let top = self.samples.back().map_or(max_id, |s| s.1.max(max_id));
                self.samples.push_back((now, top));
            }
        }
        Ok(())
    }

    /// The transaction that [`Horizon::stored`] wrote into was rolled back: write this
    /// minute's epoch row again with the next one.
    pub fn rolled_back(&mut self) {
        self.epoch_minute = i64::MIN;
    }

    /// Move the horizon if it is time: list the rows it passes that are still queued. Returns
    /// the new horizon, to take effect once the transaction commits.
    pub fn step(&mut self, conn: &Connection, now: i64) -> rusqlite::Result<Option<i64>> {
        if now < self.next_step {
            return Ok(None);
        }
        self.next_step = now + HORIZON_EVERY;
        while self.samples.len() > 1 && self.samples[1].0 <= now - LAG {
            self.samples.pop_front();
        }
        let Some(&(t, top)) = self.samples.front() else {
            return Ok(None);
        };
        let target = top + 1;
        if t > now - LAG || target <= self.at {
            return Ok(None);
        }
        let mut stmt = conn.prepare_cached(
            "SELECT id, state FROM messages WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows: Vec<(i64, i64)> = stmt
            .query_map(params![self.at, target, HORIZON_CHUNK as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut list = conn.prepare_cached("INSERT OR IGNORE INTO stragglers (id) VALUES (?1)")?;
        for (id, state) in &rows {
            if *state == 0 || *state == 5 {
                list.execute([id])?;
            }
        }
        let next = match rows.last() {
            Some((last, _)) if rows.len() == HORIZON_CHUNK => last + 1,
            _ => target,
        };
        conn.prepare_cached("UPDATE store_meta SET value = ?1 WHERE key = 'horizon'")?
            .execute([next])?;
        Ok(Some(next))
    }
}

/// What one purge step did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Purged {
    pub messages: u64,
    pub routelog: u64,
    message_cursor: i64,
    routelog_cursor: i64,
    /// A chunk was full: more may be due right away.
    more: bool,
}

pub struct Purge {
    retention_us: i64,
    routelog_us: i64,
    message_cursor: i64,
    routelog_cursor: i64,
    next: i64,
}

impl Purge {
    pub fn new(options: &Options) -> Purge {
        let us = |d: std::time::Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        Purge {
            retention_us: us(options.retention),
            routelog_us: us(options.routelog_retention),
            message_cursor: 0,
            routelog_cursor: 0,
            next: 0,
        }
    }

    pub fn due(&self, now: i64) -> bool {
        now >= self.next
    }

    /// When the next step is due (µs).
    pub fn next_due(&self) -> i64 {
        self.next
    }

    /// Delete up to a chunk of what is due in each table.
    pub fn step(&self, conn: &Connection, now: i64) -> rusqlite::Result<Purged> {
        let mut p = Purged {
            message_cursor: self.message_cursor,
            routelog_cursor: self.routelog_cursor,
            ..Purged::default()
        };
        let cutoff = now.saturating_sub(self.retention_us);
        let (full, deleted, cursor) = chunk(
            conn,
            "SELECT id FROM messages WHERE id > ?1 AND id < ?2 ORDER BY id LIMIT 1 OFFSET ?3",
            &["DELETE FROM messages WHERE id > ?1 AND id <= ?2 AND state IN (2, 3, 4) AND updated_us < ?3"],
            self.message_cursor,
            bound(conn, cutoff)?,
            cutoff,
        )?;
        p.messages = deleted;
        p.message_cursor = cursor;
        p.more |= full;
        let cutoff = now.saturating_sub(self.routelog_us);
        let (full, deleted, cursor) = chunk(
            conn,
            "SELECT message_id FROM routelog WHERE message_id > ?1 AND message_id < ?2 ORDER BY message_id LIMIT 1 OFFSET ?3",
            &[
                "DELETE FROM routelog WHERE message_id > ?1 AND message_id <= ?2 AND updated_us < ?3",
                // A message's steps go with its routelog row.
                "DELETE FROM msg_events WHERE message_id > ?1 AND message_id <= ?2 AND at_us < ?3",
            ],
            self.routelog_cursor,
            bound(conn, cutoff)?,
            cutoff,
        )?;
        p.routelog = deleted;
        p.routelog_cursor = cursor;
        p.more |= full;
        // Epochs older than both cutoffs' are no longer needed.
        let oldest = now.saturating_sub(self.retention_us.max(self.routelog_us)) / MINUTE;
        conn.prepare_cached(
            "DELETE FROM id_epochs WHERE minute < (SELECT MAX(minute) FROM id_epochs WHERE minute <= ?1)",
        )?
        .execute([oldest])?;
        Ok(p)
    }

    /// The step committed.
    pub fn done(&mut self, p: &Purged, now: i64) {
        self.message_cursor = p.message_cursor;
        self.routelog_cursor = p.routelog_cursor;
        self.next = if p.more { now } else { now + PURGE_PAUSE };
        crate::metrics::global().store_purged(p.messages, p.routelog);
    }
}

/// Ids below the result were stored before `cutoff` (all ids when nothing was stored since).
fn bound(conn: &Connection, cutoff: i64) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT first_id FROM id_epochs WHERE minute > ?1 ORDER BY minute LIMIT 1")?
        .query_row([cutoff / MINUTE], |r| r.get(0))
        .optional()?
        .unwrap_or(i64::MAX))
}

/// One chunk of a purge cycle: the next [`CHUNK`] rows after `cursor` below `bound`, of which
/// `delete` (statements over the range; the first one's rows are counted) removes those that
/// are due at `cutoff`. Returns
/// whether the chunk was full (more may follow), the rows deleted, and the cursor for the next
/// chunk (0 starts a new cycle).
fn chunk(
    conn: &Connection,
    end: &str,
    delete: &[&str],
    cursor: i64,
    bound: i64,
    cutoff: i64,
) -> rusqlite::Result<(bool, u64, i64)> {
    let last: Option<i64> = conn
        .prepare_cached(end)?
        .query_row(params![cursor, bound, CHUNK as i64 - 1], |r| r.get(0))
        .optional()?;
    let (upto, full) = match last {
        Some(last) => (last, true),
        None => (bound.saturating_sub(1), false),
    };
    let mut deleted = 0;
    for (i, statement) in delete.iter().enumerate() {
        let n = conn
            .prepare_cached(statement)?
            .execute(params![cursor, upto, cutoff])?;
        if i == 0 {
            deleted = n;
        }
    }
    Ok((full, deleted as u64, if full { upto } else { 0 }))
}

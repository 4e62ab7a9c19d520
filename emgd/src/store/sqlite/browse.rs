//! Operator reads for the console: a queue page by page, a search over the messages under way
//! and the routelog, one message's trail.
//!
//! These run on a read-only connection of their own on a blocking thread, never on the writer:
//! a search that scans the routelog must not hold commits up (WAL lets both go on at once).
//! Each read has a time budget enforced by SQLite's progress handler and by the decode loops;
//! when it runs out, the rows found so far come back with a note saying so.
//!
//! What is where (store v2): a message under way is a row of `messages` in state 0 (queued),
//! 5 (submitting) or 1 (sent, with its `dlr_open` entries). Rows queued are found without an
//! index: the ids at or above the restart horizon plus `stragglers`; rows sent through
//! `dlr_open`. A message in its final state has its `routelog` row (written once, then), and
//! its `messages` row until `retention` purges it.

use super::{db_err, read};
use crate::store::{
    ErrorCount, Event, EventKind, Found, LogEntry, MessageState, OpenDlr, Page, Query, StoreError,
    Trail,
};
use common::message::{Message, MessageId};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::Path;
use std::time::{Duration, Instant};

/// A read-only connection whose statements are interrupted once its budget has passed (a
/// watchdog thread; it ends when the connection is dropped).
pub(super) struct Reader {
    conn: Connection,
    started: Instant,
    _done: std::sync::mpsc::Sender<()>,
}

impl std::ops::Deref for Reader {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

pub(super) fn open(path: &Path, budget: Duration) -> Result<Reader, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db_err)?;
    conn.busy_timeout(Duration::from_secs(2)).map_err(db_err)?;
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let interrupt = conn.get_interrupt_handle();
    std::thread::Builder::new()
        .name("store-read-budget".into())
        .spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(budget) {
                interrupt.interrupt();
            }
        })
        .map_err(|e| StoreError::Database(format!("cannot start a read: {e}")))?;
    Ok(Reader {
        conn,
        started: Instant::now(),
        _done: done,
    })
}

fn is_interrupt(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::OperationInterrupted)
}

fn horizon(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT value FROM store_meta WHERE key = 'horizon'",
        [],
        |r| r.get(0),
    )
    .map_err(db_err)
}

fn live_state(code: i64) -> &'static str {
    MessageState::from_code(code).map_or("unknown", MessageState::name)
}

fn found_live(m: &Message, state: i64, status: Option<String>, updated_us: i64) -> Found {
    Found {
        id: m.id,
        state: live_state(state).to_string(),
        source: m.source.addr.clone(),
        dest: m.dest.addr.clone(),
        origin: m.origin.connector.clone(),
        account: m.origin.account.clone(),
        target: Some(m.target.clone()),
        route_entry: m.route_entry.clone(),
        status,
        received_us: m.received_us,
        updated_us,
    }
}

/// A queued row's message, or `None` for a row that is no longer queued.
struct LiveRow {
    message: Message,
    state: i64,
    status: Option<String>,
    updated_us: i64,
}

fn live_row(conn: &Connection, id: i64, states: &[i64]) -> Result<Option<LiveRow>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT target, data, state, status, updated_us FROM messages WHERE id = ?1",
        )
        .map_err(db_err)?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .optional()
        .map_err(db_err)?;
    let Some((target, data, state, status, updated_us)) = row else {
        return Ok(None);
    };
    if !states.contains(&state) {
        return Ok(None);
    }
    let message = read::decode(id as MessageId, &target, &data)?;
    Ok(Some(LiveRow {
        message,
        state,
        status,
        updated_us,
    }))
}

/// `connector`'s queue (waiting and being submitted), oldest first, `limit` rows after `after`.
pub fn browse_queue(
    path: &Path,
    connector: &str,
    after: MessageId,
    limit: usize,
    budget: Duration,
) -> Result<Page, StoreError> {
    let conn = open(path, budget)?;
    let started = conn.started;
    let horizon = horizon(&conn)?;
    let after = after as i64;
    let want = limit + 1;
    // Ids only, both ranges: the stragglers below the horizon, then the rows at or above it.
    let mut ids: Vec<i64> = Vec::new();
    let mut stopped = None;
    let queries = [
        (
            "SELECT m.id FROM stragglers s JOIN messages m ON m.id = s.id
             WHERE s.id > ?1 AND m.target = ?2 AND m.state IN (0, 5) ORDER BY s.id LIMIT ?3",
            after,
        ),
        (
            "SELECT id FROM messages WHERE id > ?1 AND target = ?2 AND state IN (0, 5) ORDER BY id LIMIT ?3",
            after.max(horizon - 1),
        ),
    ];
    for (sql, from) in queries {
        let mut stmt = conn.prepare(sql).map_err(db_err)?;
        let rows = stmt.query_map(params![from, connector, want as i64], |r| r.get(0));
        match rows.and_then(|rows| rows.collect::<Result<Vec<i64>, _>>()) {
            Ok(mut more) => ids.append(&mut more),
            Err(e) if is_interrupt(&e) => {
                stopped = Some(budget_note(budget));
                break;
            }
            Err(e) => return Err(db_err(e)),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let more = ids.len() > limit;
    ids.truncate(limit);
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if started.elapsed() > budget {
            stopped = Some(budget_note(budget));
            break;
        }
        if let Some(r) = live_row(&conn, id, &[0, 5])? {
            found.push(found_live(&r.message, r.state, r.status, r.updated_us));
        }
    }
    Ok(Page {
        found,
        more,
        stopped,
    })
}

fn budget_note(budget: Duration) -> String {
    format!(
        "stopped after {:.1} s: narrow the search (a time range, a connector, an id)",
        budget.as_secs_f64()
    )
}

fn matches(q: &Query, f: &Found) -> bool {
    let prefix = |want: &Option<String>, have: &str| {
        want.as_ref().is_none_or(|w| have.starts_with(w.as_str()))
    };
    q.id.is_none_or(|id| id == f.id)
        && prefix(&q.source, &f.source)
        && prefix(&q.dest, &f.dest)
        && q.account
            .as_ref()
            .is_none_or(|a| f.account.as_deref() == Some(a.as_str()))
        && q.connector
            .as_ref()
            .is_none_or(|c| f.origin == *c || f.target.as_deref() == Some(c.as_str()))
        && q.since_us.is_none_or(|t| f.received_us >= t)
        && q.until_us.is_none_or(|t| f.received_us < t)
}

/// The id range `[low, high)` to look in: `before_id` and `id`, and the lower bound `since_us`
/// allows, from `id_epochs` (the first id stored in each minute; a message is stored after it
/// is received, so its id is at least the first of the minute before). `until_us` gives no
/// safe upper bound that way (a row is filed under the minute it was stored in): the scan
/// walks down from the top, where the newest rows are.
fn id_bounds(conn: &Connection, q: &Query) -> Result<(i64, i64), StoreError> {
    const MINUTE: i64 = 60_000_000;
    let mut low = 0;
    let mut high = q.before_id.map_or(i64::MAX, |b| b as i64);
    if let Some(id) = q.id {
        low = low.max(id as i64);
        high = high.min(id as i64 + 1);
    }
    if let Some(since) = q.since_us {
        let first: Option<i64> = conn
            .query_row(
                "SELECT first_id FROM id_epochs WHERE minute < ?1 ORDER BY minute DESC LIMIT 1",
                [since / MINUTE],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        low = low.max(first.unwrap_or(0));
    }
    Ok((low, high))
}

/// Newest first: the messages under way that match (decoded from the store), the finished ones
/// (the routelog's columns), one page of `q.limit`.
pub fn search(path: &Path, q: &Query) -> Result<Page, StoreError> {
    let conn = open(path, q.budget)?;
    let started = conn.started;
    let (low, high) = id_bounds(&conn, q)?;
    let want = q.limit + 1;
    let mut stopped = None;
    let mut finished = Vec::new();
    if low < high {
        match search_routelog(&conn, q, low, high, want, &mut finished) {
            Ok(()) => {}
            Err(e) if is_interrupt(&e) => stopped = Some(budget_note(q.budget)),
            Err(e) => return Err(db_err(e)),
        }
    }
    let mut live = Vec::new();
    if low < high && stopped.is_none() {
        match live_ids(&conn, low, high) {
            Ok(ids) => {
                for id in ids {
                    if live.len() >= want {
                        break;
                    }
                    if started.elapsed() > q.budget {
                        stopped = Some(budget_note(q.budget));
                        break;
                    }
                    let Some(r) = live_row(&conn, id, &[0, 1, 5])? else {
                        continue;
                    };
                    let f = found_live(&r.message, r.state, r.status, r.updated_us);
                    if matches(q, &f) {
                        live.push(f);
                    }
                }
            }
            Err(e) if is_interrupt(&e) => stopped = Some(budget_note(q.budget)),
            Err(e) => return Err(db_err(e)),
        }
    }
    // Merge by id, newest first (a message that turned final between the two reads is in
    // both: keep one).
    let mut all = finished;
    all.append(&mut live);
    all.sort_by_key(|f| std::cmp::Reverse(f.id));
    all.dedup_by_key(|f| f.id);
    let more = all.len() > q.limit;
    all.truncate(q.limit);
    Ok(Page {
        found: all,
        more,
        stopped,
    })
}

fn search_routelog(
    conn: &Connection,
    q: &Query,
    low: i64,
    high: i64,
    want: usize,
    out: &mut Vec<Found>,
) -> rusqlite::Result<()> {
    // Prefixes go through LIKE with the wildcards in the value escaped.
    let like = |p: &Option<String>| {
        p.as_ref().map(|p| {
            let escaped = p
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("{escaped}%")
        })
    };
    let mut stmt = conn.prepare_cached(
        "SELECT r.message_id, r.received_us, r.in_connector, r.account, r.source, r.dest, r.route,
                r.status, r.updated_us, m.state, r.route_entry
         FROM routelog r LEFT JOIN messages m ON m.id = r.message_id
         WHERE r.message_id >= ?1 AND r.message_id < ?2
           AND (?3 IS NULL OR r.source LIKE ?3 ESCAPE '\\')
           AND (?4 IS NULL OR r.dest LIKE ?4 ESCAPE '\\')
           AND (?5 IS NULL OR r.account = ?5)
           AND (?6 IS NULL OR r.in_connector = ?6 OR r.route = ?6)
           AND (?7 IS NULL OR r.received_us >= ?7)
           AND (?8 IS NULL OR r.received_us < ?8)
         ORDER BY r.message_id DESC LIMIT ?9",
    )?;
    let rows = stmt.query_map(
        params![
            low,
            high,
            like(&q.source),
            like(&q.dest),
            q.account,
            q.connector,
            q.since_us,
            q.until_us,
            want as i64
        ],
        |r| {
            let route: Option<String> = r.get(6)?;
            let status: String = r.get(7)?;
            let state: Option<i64> = r.get(9)?;
            Ok(Found {
                id: r.get::<_, i64>(0)? as MessageId,
                state: final_state(state, route.is_some(), &status).to_string(),
                received_us: r.get(1)?,
                origin: r.get(2)?,
                account: r.get(3)?,
                source: r.get(4)?,
                dest: r.get(5)?,
                target: route,
                route_entry: r.get(10)?,
                status: Some(status),
                updated_us: r.get(8)?,
            })
        },
    )?;
    for row in rows {
        out.push(row?);
    }
    Ok(())
}

/// The state of a routelog row: its message row's while that is kept, else from the status.
fn final_state(stored: Option<i64>, routed: bool, status: &str) -> &'static str {
    if let Some(s) = stored.and_then(MessageState::from_code) {
        return s.name();
    }
    match status {
        _ if !routed => "rejected",
        "CANCELLED" => MessageState::Cancelled.name(),
        "DELIVRD" | "SENT" | "ACCEPTD" | "ENROUTE" => MessageState::Done.name(),
        _ => MessageState::Failed.name(),
    }
}

/// Ids of the rows under way in `[low, high)`, newest first: queued (the horizon's range and
/// the stragglers) and sent (their open DLR entries).
fn live_ids(conn: &Connection, low: i64, high: i64) -> rusqlite::Result<Vec<i64>> {
    let horizon: i64 = conn.query_row(
        "SELECT value FROM store_meta WHERE key = 'horizon'",
        [],
        |r| r.get(0),
    )?;
    let mut ids = Vec::new();
    for (sql, from) in [
        (
            "SELECT id FROM messages WHERE id >= ?1 AND id < ?2 AND state IN (0, 1, 5)",
            low.max(horizon),
        ),
        ("SELECT id FROM stragglers WHERE id >= ?1 AND id < ?2", low),
        (
            "SELECT DISTINCT message_id FROM dlr_open WHERE message_id >= ?1 AND message_id < ?2",
            low,
        ),
    ] {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![from, high], |r| r.get::<_, i64>(0))?;
        for r in rows {
            ids.push(r?);
        }
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.dedup();
    Ok(ids)
}

/// What the store knows of message `id`: its row, its routelog row, its open DLR entries.
pub fn trail(path: &Path, id: MessageId, budget: Duration) -> Result<Trail, StoreError> {
    let conn = open(path, budget)?;
    let stored = read::message(&conn, id)?;
    let log = conn
        .query_row(
            "SELECT received_us, in_connector, account, source, dest, route, status, error,
                    updated_us, price, cost, route_entry
             FROM routelog WHERE message_id = ?1",
            [id as i64],
            |r| {
                Ok(LogEntry {
                    received_us: r.get(0)?,
                    in_connector: r.get(1)?,
                    account: r.get(2)?,
                    source: r.get(3)?,
                    dest: r.get(4)?,
                    route: r.get(5)?,
                    route_entry: r.get(11)?,
                    status: r.get(6)?,
                    error: r.get(7)?,
                    updated_us: r.get(8)?,
                    price: r.get(9)?,
                    cost: r.get(10)?,
                })
            },
        )
        .optional()
        .map_err(db_err)?;
    // dlr_open has no index by message (store v5 dropped it): a scan, on this connection only.
    let mut dlrs = Vec::new();
    let scan = conn
        .prepare(
            "SELECT connector, remote_id, part_status, part_error, created_us FROM dlr_open WHERE message_id = ?1",
        )
        .and_then(|mut stmt| {
            let rows = stmt.query_map([id as i64], |r| {
                let status: Option<String> = r.get(2)?;
                let error = r.get::<_, i64>(3)? as u32;
                Ok(OpenDlr {
                    connector: r.get(0)?,
                    remote_id: r.get(1)?,
                    message_id: id,
                    part_done: status.map(|s| (s, error)),
                    created_us: r.get(4)?,
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()
        });
    match scan {
        Ok(rows) => dlrs = rows,
        Err(e) if is_interrupt(&e) => {}
        Err(e) => return Err(db_err(e)),
    }
    let events = match events(&conn, id) {
        Ok(rows) => rows,
        Err(e) if is_interrupt(&e) => Vec::new(),
        Err(e) => return Err(db_err(e)),
    };
    Ok(Trail {
        stored,
        log,
        dlrs,
        events,
    })
}

/// Message `id`'s recorded steps, oldest first (one range of the table's key).
fn events(conn: &Connection, id: MessageId) -> rusqlite::Result<Vec<Event>> {
    let mut stmt = conn.prepare(
        "SELECT at_us, kind, remote_id, connector, instance, status, code
         FROM msg_events WHERE message_id = ?1 ORDER BY at_us, kind",
    )?;
    let rows = stmt.query_map([id as i64], |r| {
        let remote: String = r.get(2)?;
        Ok(Event {
            message_id: id,
            at_us: r.get(0)?,
            kind: EventKind::from_code(r.get(1)?).unwrap_or(EventKind::Attempt),
            remote_id: (!remote.is_empty()).then_some(remote),
            connector: r.get(3)?,
            instance: r.get(4)?,
            status: r.get(5)?,
            code: r.get::<_, i64>(6)? as u32,
        })
    })?;
    rows.collect()
}

/// Failures (not deliveries, not operator cancellations) of messages routed to `connector`
/// that ended since `since_us`, grouped by status
/// word and error; the scan starts at the first id stored a minute before `since_us`.
pub fn error_counts(
    path: &Path,
    connector: &str,
    since_us: i64,
    budget: Duration,
) -> Result<Vec<ErrorCount>, StoreError> {
    let conn = open(path, budget)?;
    let q = Query {
        since_us: Some(since_us),
        ..Default::default()
    };
    let (low, _) = id_bounds(&conn, &q)?;
    let mut stmt = conn
        .prepare(
            "SELECT status, error, COUNT(*), MAX(updated_us) FROM routelog
             WHERE message_id >= ?1 AND route = ?2 AND updated_us >= ?3
               AND status NOT IN ('DELIVRD', 'SENT', 'ACCEPTD', 'ENROUTE', 'CANCELLED')
             GROUP BY status, error ORDER BY COUNT(*) DESC, MAX(updated_us) DESC LIMIT 20",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![low, connector, since_us], |r| {
            Ok(ErrorCount {
                status: r.get(0)?,
                error: r.get(1)?,
                count: r.get::<_, i64>(2)? as u64,
                last_us: r.get(3)?,
            })
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>());
    match rows {
        Ok(rows) => Ok(rows),
        Err(e) if is_interrupt(&e) => Ok(Vec::new()),
        Err(e) => Err(db_err(e)),
    }
}

//! Operator reads for the console and accounting on the read connection: a queue page by
//! page, a search over the messages under way and the routelog, one message's trail, error
//! counts, balances and the hourly summary. Each runs in a read-only transaction whose
//! `statement_timeout` is its budget; out of time, the rows found so far come back with a note.

use super::db_err;
use super::read::{self, decode, Conn, Reader};
use crate::store::accounts::{from_micros, Balance, HistoryEntry, SummaryQuery, SummaryRow};
use crate::store::{
    ErrorCount, Event, EventKind, Found, LogEntry, MessageState, Page, Query, StoreError, Trail,
};
use common::message::MessageId;
use std::time::{Duration, Instant};

const READ_BUDGET: Duration = Duration::from_secs(10);

fn is_timeout(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED)
}

fn budget_note(budget: Duration) -> String {
    format!(
        "stopped after {:.1} s: narrow the search (a time range, a connector, an id)",
        budget.as_secs_f64()
    )
}

/// End the read's transaction (a timed-out one is already aborted: ROLLBACK ends both).
async fn end(conn: &Conn<'_>) {
    if let Err(e) = conn.batch_execute("ROLLBACK").await {
        tracing::debug!("PostgreSQL read rollback: {e}");
    }
}

fn live_state(code: i16) -> &'static str {
    MessageState::from_code(i64::from(code)).map_or("unknown", MessageState::name)
}

/// Decoded rows of `messages` (`id, target, data, state, status, updated_us`) as found rows.
fn found_live(r: &tokio_postgres::Row) -> Result<Found, StoreError> {
    let id = r.get::<_, i64>(0) as MessageId;
    let m = decode(id, r.get(1), r.get(2))?;
    Ok(Found {
        id,
        state: live_state(r.get(3)).to_string(),
        source: m.source.addr,
        dest: m.dest.addr,
        origin: m.origin.connector,
        account: m.origin.account,
        route_entry: m.route_entry.clone(),
        target: Some(m.target),
        status: r.get(4),
        received_us: m.received_us,
        updated_us: r.get(5),
    })
}

pub async fn browse_queue(
    reader: &Reader,
    connector: &str,
    after: MessageId,
    limit: usize,
    budget: Duration,
) -> Result<Page, StoreError> {
    let conn = reader.budgeted(budget).await?;
    let rows = conn
        .query(
            "SELECT id, target, data, state, status, updated_us FROM messages
             WHERE target = $1 AND state IN (0, 5) AND id > $2 ORDER BY id LIMIT $3",
            &[&connector, &(after as i64), &(limit as i64 + 1)],
        )
        .await;
    end(&conn).await;
    let mut page = Page::default();
    match rows {
        Ok(rows) => {
            page.more = rows.len() > limit;
            for r in rows.iter().take(limit) {
                page.found.push(found_live(r)?);
            }
        }
        Err(e) if is_timeout(&e) => page.stopped = Some(budget_note(budget)),
        Err(e) => return Err(db_err(e)),
    }
    Ok(page)
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

/// The state of a routelog row: its message row's while that is kept, else from the status.
fn final_state(stored: Option<i16>, routed: bool, status: &str) -> &'static str {
    if let Some(s) = stored.and_then(|s| MessageState::from_code(i64::from(s))) {
        return s.name();
    }
    match status {
        _ if !routed => "rejected",
        "CANCELLED" => MessageState::Cancelled.name(),
        "DELIVRD" | "SENT" | "ACCEPTD" | "ENROUTE" => MessageState::Done.name(),
        _ => MessageState::Failed.name(),
    }
}

fn like(p: &Option<String>) -> Option<String> {
    p.as_ref().map(|p| {
        let escaped = p
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("{escaped}%")
    })
}

/// Newest first: the finished messages (the routelog's columns) and the ones under way
/// (decoded), one page of `q.limit`.
pub async fn search(reader: &Reader, q: &Query) -> Result<Page, StoreError> {
    let conn = reader.budgeted(q.budget).await?;
    let result = search_in(&conn, q).await;
    end(&conn).await;
    result
}

async fn search_in(conn: &Conn<'_>, q: &Query) -> Result<Page, StoreError> {
    let started = Instant::now();
    let mut low: i64 = 0;
    let mut high: i64 = q.before_id.map_or(i64::MAX, |b| b as i64);
    if let Some(id) = q.id {
        low = low.max(id as i64);
        high = high.min(id as i64 + 1);
    }
    let want = q.limit as i64 + 1;
    let mut page = Page::default();
    let mut all = Vec::new();
    let finished = conn
        .query(
            "SELECT r.message_id, r.received_us, r.in_connector, r.account, r.source, r.dest, r.route,
                    r.status, r.updated_us, m.state, r.route_entry
             FROM routelog r LEFT JOIN messages m ON m.id = r.message_id
             WHERE r.message_id >= $1 AND r.message_id < $2
               AND ($3::text IS NULL OR r.source LIKE $3 ESCAPE '\\')
               AND ($4::text IS NULL OR r.dest LIKE $4 ESCAPE '\\')
               AND ($5::text IS NULL OR r.account = $5)
               AND ($6::text IS NULL OR r.in_connector = $6 OR r.route = $6)
               AND ($7::bigint IS NULL OR r.received_us >= $7)
               AND ($8::bigint IS NULL OR r.received_us < $8)
             ORDER BY r.message_id DESC LIMIT $9",
            &[
                &low,
                &high,
                &like(&q.source),
                &like(&q.dest),
                &q.account,
                &q.connector,
                &q.since_us,
                &q.until_us,
                &want,
            ],
        )
        .await;
    match finished {
        Ok(rows) => {
            for r in rows {
                let route: Option<String> = r.get(6);
                let status: String = r.get(7);
                all.push(Found {
                    id: r.get::<_, i64>(0) as MessageId,
                    state: final_state(r.get(9), route.is_some(), &status).to_string(),
                    received_us: r.get(1),
                    origin: r.get(2),
                    account: r.get(3),
                    source: r.get(4),
                    dest: r.get(5),
                    target: route,
                    status: Some(status),
                    updated_us: r.get(8),
                    route_entry: r.get(10),
                });
            }
        }
        Err(e) if is_timeout(&e) => {
            page.stopped = Some(budget_note(q.budget));
            return Ok(page);
        }
        Err(e) => return Err(db_err(e)),
    }
    // Under way: queued or being submitted (the queue index), sent (their open DLR entries).
    let live = conn
        .query(
            "SELECT id, target, data, state, status, updated_us FROM messages
             WHERE id IN (SELECT id FROM messages WHERE state IN (0, 5) AND id >= $1 AND id < $2
                          UNION SELECT message_id FROM dlr_open WHERE message_id >= $1 AND message_id < $2)
               AND state IN (0, 1, 5)
             ORDER BY id DESC",
            &[&low, &high],
        )
        .await;
    match live {
        Ok(rows) => {
            let mut found = 0;
            for r in rows {
                if found >= want || started.elapsed() > q.budget {
                    if found < want {
                        page.stopped = Some(budget_note(q.budget));
                    }
                    break;
                }
                let f = found_live(&r)?;
                if matches(q, &f) {
                    all.push(f);
                    found += 1;
                }
            }
        }
        Err(e) if is_timeout(&e) => page.stopped = Some(budget_note(q.budget)),
        Err(e) => return Err(db_err(e)),
    }
    all.sort_by_key(|f| std::cmp::Reverse(f.id));
    all.dedup_by_key(|f| f.id);
    page.more = all.len() > q.limit;
    all.truncate(q.limit);
    page.found = all;
    Ok(page)
}

pub async fn trail(reader: &Reader, id: MessageId, budget: Duration) -> Result<Trail, StoreError> {
    let conn = reader.budgeted(budget).await?;
    let result = trail_in(&conn, id).await;
    end(&conn).await;
    result
}

async fn trail_in(conn: &Conn<'_>, id: MessageId) -> Result<Trail, StoreError> {
    let stored = read::message(conn, id).await?;
    let log = conn
        .query_opt(
            "SELECT received_us, in_connector, account, source, dest, route, status, error,
                    updated_us, price, cost, route_entry
             FROM routelog WHERE message_id = $1",
            &[&(id as i64)],
        )
        .await
        .map_err(db_err)?
        .map(|r| LogEntry {
            received_us: r.get(0),
            in_connector: r.get(1),
            account: r.get(2),
            source: r.get(3),
            dest: r.get(4),
            route: r.get(5),
            status: r.get(6),
            error: r.get(7),
            updated_us: r.get(8),
            price: r.get(9),
            cost: r.get(10),
            route_entry: r.get(11),
        });
    let dlrs = conn
        .query(
            "SELECT connector, remote_id, part_status, part_error, created_us FROM dlr_open WHERE message_id = $1",
            &[&(id as i64)],
        )
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| read::open_dlr(r, id, 2))
        .collect();
    let events = conn
        .query(
            "SELECT at_us, kind, remote_id, connector, instance, status, code
             FROM msg_events WHERE message_id = $1 ORDER BY at_us, kind",
            &[&(id as i64)],
        )
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            let remote: String = r.get(2);
            Event {
                message_id: id,
                at_us: r.get(0),
                kind: EventKind::from_code(i64::from(r.get::<_, i16>(1)))
                    .unwrap_or(EventKind::Attempt),
                remote_id: (!remote.is_empty()).then_some(remote),
                connector: r.get(3),
                instance: r.get::<_, Option<i64>>(4).map(|i| i as u32),
                status: r.get(5),
                code: r.get::<_, i64>(6) as u32,
            }
        })
        .collect();
    Ok(Trail {
        stored,
        log,
        dlrs,
        events,
    })
}

/// Failures (not deliveries, not operator cancellations) of messages routed to `connector`
/// that ended since `since_us`, by status word and error.
pub async fn error_counts(
    reader: &Reader,
    connector: &str,
    since_us: i64,
    budget: Duration,
) -> Result<Vec<ErrorCount>, StoreError> {
    let conn = reader.budgeted(budget).await?;
    let rows = conn
        .query(
            "SELECT status, error, COUNT(*), MAX(updated_us) FROM routelog
             WHERE route = $1 AND updated_us >= $2
               AND status NOT IN ('DELIVRD', 'SENT', 'ACCEPTD', 'ENROUTE', 'CANCELLED')
             GROUP BY status, error ORDER BY COUNT(*) DESC, MAX(updated_us) DESC LIMIT 20",
            &[&connector, &since_us],
        )
        .await;
    end(&conn).await;
    match rows {
        Ok(rows) => Ok(rows
            .iter()
            .map(|r| ErrorCount {
                status: r.get(0),
                error: r.get(1),
                count: r.get::<_, i64>(2) as u64,
                last_us: r.get(3),
            })
            .collect()),
        Err(e) if is_timeout(&e) => Ok(Vec::new()),
        Err(e) => Err(db_err(e)),
    }
}

pub async fn balances(reader: &Reader, account: Option<&str>) -> Result<Vec<Balance>, StoreError> {
    let conn = reader.budgeted(READ_BUDGET).await?;
    let rows = conn
        .query(
            "SELECT account, micros, postpaid_limit, updated_us FROM balances
             WHERE $1::text IS NULL OR account = $1 ORDER BY account",
            &[&account],
        )
        .await;
    end(&conn).await;
    Ok(rows
        .map_err(db_err)?
        .iter()
        .map(|r| Balance {
            account: r.get(0),
            balance: from_micros(r.get(1)),
            postpaid_limit: r.get::<_, Option<i64>>(2).map(from_micros),
            updated_us: r.get(3),
        })
        .collect())
}

pub async fn balance_history(
    reader: &Reader,
    account: &str,
    limit: usize,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let conn = reader.budgeted(READ_BUDGET).await?;
    let rows = conn
        .query(
            "SELECT account, amount_before, amount, created_us, created_by FROM balance_history
             WHERE account = $1 ORDER BY id DESC LIMIT $2",
            &[&account, &(limit as i64)],
        )
        .await;
    end(&conn).await;
    Ok(rows
        .map_err(db_err)?
        .iter()
        .map(|r| HistoryEntry {
            account: r.get(0),
            amount_before: from_micros(r.get(1)),
            amount: from_micros(r.get(2)),
            created_us: r.get(3),
            created_by: r.get(4),
        })
        .collect())
}

pub async fn summary(reader: &Reader, q: &SummaryQuery) -> Result<Vec<SummaryRow>, StoreError> {
    let conn = reader.budgeted(READ_BUDGET).await?;
    let rows = conn
        .query(
            "SELECT account, hour, prefix, connector, status, messages, parts, price, cost
             FROM hourly_summary
             WHERE ($1::text IS NULL OR account = $1) AND ($2::bigint IS NULL OR hour >= $2)
               AND ($3::bigint IS NULL OR hour < $3)
             ORDER BY account, hour, prefix, connector, status",
            &[&q.account, &q.from_hour, &q.to_hour],
        )
        .await;
    end(&conn).await;
    Ok(rows
        .map_err(db_err)?
        .iter()
        .map(|r| SummaryRow {
            account: r.get(0),
            hour: r.get(1),
            prefix: r.get(2),
            connector: r.get(3),
            status: r.get(4),
            messages: r.get::<_, i64>(5) as u64,
            parts: r.get::<_, i64>(6) as u64,
            price: from_micros(r.get(7)),
            cost: from_micros(r.get(8)),
        })
        .collect())
}

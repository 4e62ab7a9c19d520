//! Writes as the writer thread applies them.
//!
//! A [`Write`] becomes an [`Op`] on the caller's thread: records are encoded there and the
//! message's strings move into the op, so the single writer thread does nothing but SQL. Each
//! op is one or two statements on rows it names by key (no reads, no rewrite of a record
//! except for a requeue).

use super::accounts::{self, Ledger, Summary, SummaryAdd};
use super::house::Horizon;
use super::prepared::{Prepared, Sql};
use crate::store::accounts::{to_micros, BalanceChange};
use crate::store::{Event, MessageState, SatEntry, Write};
use common::message::{Message, MsgType};
use rusqlite::params;

/// The routelog row of a message in its final state (the PostgreSQL store writes the same).
#[derive(Debug, Clone)]
pub struct LogRow {
    pub(in crate::store) message_id: i64,
    pub(in crate::store) received_us: i64,
    pub(in crate::store) in_connector: String,
    pub(in crate::store) account: Option<String>,
    pub(in crate::store) msgtype: u8,
    pub(in crate::store) source: String,
    pub(in crate::store) dest: String,
    /// The connector it left through (none when it was rejected).
    pub(in crate::store) route: Option<String>,
    /// The routing-table entry that chose that connector.
    pub(in crate::store) route_entry: Option<String>,
    pub(in crate::store) status: String,
    pub(in crate::store) error: Option<String>,
    /// What the sender is charged and what sending cost, as decimal text (`"0.05"`).
    pub(in crate::store) price: Option<String>,
    pub(in crate::store) cost: Option<String>,
    /// The same in millionths, for the hourly summary and refunds.
    pub(in crate::store) price_micros: i64,
    pub(in crate::store) cost_micros: i64,
    /// Parts it is sent as (what a per-part price was multiplied by).
    pub(in crate::store) parts: u32,
}

/// What the writer needs to know about accounting.
#[derive(Debug, Clone, Copy)]
pub struct Accounting {
    pub refund: config::RefundPolicy,
    pub summary_prefix_length: usize,
}

impl LogRow {
    fn of(m: Message, route: bool, status: String, error: Option<String>) -> LogRow {
        let parts = m.parts();
        LogRow {
            price_micros: m.price.map_or(0, to_micros),
            cost_micros: m.cost.map_or(0, to_micros),
            parts,
            message_id: m.id as i64,
            received_us: m.received_us,
            msgtype: m.msgtype.code(),
            in_connector: m.origin.connector,
            account: m.origin.account,
            source: m.source.addr,
            dest: m.dest.addr,
            route: route.then_some(m.target),
            route_entry: m.route_entry,
            status,
            error,
            price: m.price.map(|d| d.to_string()),
            cost: m.cost.map(|d| d.to_string()),
        }
    }
}

#[derive(Debug)]
pub enum Op {
    Insert {
        id: i64,
        target: String,
        expires_us: Option<i64>,
        data: Vec<u8>,
    },
    Rewrite {
        id: i64,
        target: String,
        expires_us: Option<i64>,
        data: Vec<u8>,
    },
    Submitting(Vec<i64>),
    Sent {
        id: i64,
        connector: String,
        remote_id: String,
    },
    SentParts {
        id: i64,
        connector: String,
        remote_ids: Vec<String>,
    },
    Final {
        id: i64,
        state: MessageState,
        status: String,
        remote_id: Option<String>,
        log: Option<Box<LogRow>>,
    },
    Log(Box<LogRow>),
    CloseDlr {
        connector: String,
        remote_id: String,
    },
    PartDone {
        connector: String,
        remote_id: String,
        status: String,
        error: u32,
    },
    CloseDlrs {
        connector: String,
        remote_ids: Vec<String>,
    },
    Flags {
        connector: String,
        hold: bool,
        forceclose: bool,
    },
    Sat(SatEntry),
    SatPurge(i64),
    /// Run by the writer itself (it may refuse its batch), never through [`apply`].
    Charge {
        account: String,
        /// The receiving connector, for the history row.
        via: String,
        micros: i64,
    },
    Balance {
        account: String,
        change: BalanceChange,
        by: String,
    },
    Event(Box<Event>),
    HoldPart {
        key: String,
        seq: u8,
        id: i64,
        target: String,
        received_us: i64,
        data: Vec<u8>,
    },
    DropParts(String),
}

impl Op {
    /// Prepare `w` for the writer (on the caller's thread).
    pub fn of(w: Write) -> Op {
        match w {
            Write::Enqueue { record } => Op::Insert {
                id: record.id as i64,
                target: record.target,
                expires_us: record.expires_us,
                data: record.data,
            },
            Write::Requeue { record } => Op::Rewrite {
                id: record.id as i64,
                target: record.target,
                expires_us: record.expires_us,
                data: record.data,
            },
            Write::Rejected { message, reason } => Op::Log(Box::new(LogRow::of(
                *message,
                false,
                "REJECTED".into(),
                Some(reason),
            ))),
            Write::Submitting { ids, .. } => {
                Op::Submitting(ids.into_iter().map(|id| id as i64).collect())
            }
            Write::Sent {
                id,
                connector,
                remote_id,
            } => Op::Sent {
                id: id as i64,
                connector,
                remote_id,
            },
            Write::SentParts {
                id,
                connector,
                remote_ids,
            } => Op::SentParts {
                id: id as i64,
                connector,
                remote_ids,
            },
            Write::Handed { message, remote_id } => {
                final_op(*message, MessageState::Done, "SENT".into(), None, remote_id)
            }
            Write::Finish {
                message,
                state,
                status,
                error,
            } => final_op(*message, state, status, error, None),
            Write::CloseDlr {
                connector,
                remote_id,
            } => Op::CloseDlr {
                connector,
                remote_id,
            },
            Write::PartDone {
                connector,
                remote_id,
                status,
                error,
            } => Op::PartDone {
                connector,
                remote_id,
                status,
                error,
            },
            Write::CloseDlrs {
                connector,
                remote_ids,
            } => Op::CloseDlrs {
                connector,
                remote_ids,
            },
            Write::ConnectorFlags {
                connector,
                hold,
                forceclose,
            } => Op::Flags {
                connector,
                hold,
                forceclose,
            },
            Write::SatEntry { entry } => Op::Sat(entry),
            Write::SatPurge { before_us } => Op::SatPurge(before_us),
            Write::Charge {
                account,
                via,
                amount,
            } => Op::Charge {
                account,
                via,
                micros: to_micros(amount),
            },
            Write::Balance {
                account,
                change,
                by,
            } => Op::Balance {
                account,
                change,
                by,
            },
            Write::Event { event } => Op::Event(event),
            Write::HoldPart { key, seq, part } => Op::HoldPart {
                key,
                seq,
                id: part.id as i64,
                target: part.target,
                received_us: crate::clock::now_us(),
                data: part.data,
            },
            Write::DropParts { key } => Op::DropParts(key),
        }
    }

    /// The id of a message row this op puts into the queue, if any.
    pub fn queued_id(&self) -> Option<i64> {
        match self {
            Op::Insert { id, .. } => Some(*id),
            _ => None,
        }
    }
}

/// A message's final state; reports going back get no routelog row.
fn final_op(
    m: Message,
    state: MessageState,
    status: String,
    error: Option<String>,
    remote_id: Option<String>,
) -> Op {
    let id = m.id as i64;
    let log =
        (m.msgtype != MsgType::Dlr).then(|| Box::new(LogRow::of(m, true, status.clone(), error)));
    Op::Final {
        id,
        state,
        status,
        remote_id,
        log,
    }
}

/// Apply `op` at time `now`. Rows below the horizon also keep `stragglers` exact: a row there
/// is listed while it is queued or being submitted. Charges and refunds are noted in `ledger`
/// for the transaction's history rows, the routelog rows' share of the hourly summary in
/// `summary`. The hot statements come from `st`, prepared once per transaction.
pub fn apply(
    st: &mut Prepared<'_>,
    op: &Op,
    now: i64,
    horizon: &Horizon,
    (acct, ledger, summary): (&Accounting, &mut Ledger, &mut Summary),
) -> rusqlite::Result<()> {
    let conn = st.conn();
    match op {
        Op::Insert {
            id,
            target,
            expires_us,
            data,
        } => {
            st.get(Sql::Insert)?
                .execute(params![id, target, data, now, expires_us])?;
            horizon.queued(conn, *id)?;
        }
        Op::Rewrite {
            id,
            target,
            expires_us,
            data,
        } => {
            conn.prepare_cached(
                "UPDATE messages SET target = ?2, state = 0, data = ?3, updated_us = ?4, expires_us = ?5 WHERE id = ?1",
            )?
            .execute(params![id, target, data, now, expires_us])?;
            horizon.queued(conn, *id)?;
        }
        Op::Submitting(ids) => {
            let stmt = st.get(Sql::Submitting)?;
            for id in ids {
                stmt.execute(params![id, now])?;
            }
        }
        Op::Sent {
            id,
            connector,
            remote_id,
        } => {
            sent(st, *id, remote_id, now)?;
            open_dlr(st, connector, remote_id, *id, now)?;
            horizon.left(conn, *id)?;
        }
        Op::SentParts {
            id,
            connector,
            remote_ids,
        } => {
            sent(st, *id, &remote_ids.join(","), now)?;
            for remote in remote_ids {
                open_dlr(st, connector, remote, *id, now)?;
            }
            horizon.left(conn, *id)?;
        }
        Op::Final {
            id,
            state,
            status,
            remote_id,
            log,
        } => {
            let refunded = match log {
                Some(row) => {
                    let charge = (
                        row.account.as_deref(),
                        row.in_connector.as_str(),
                        row.price_micros,
                    );
                    accounts::refund(conn, ledger, acct.refund, *id, *state, charge, now)?
                }
                None => false,
            };
            st.get(Sql::Final)?
                .execute(params![id, *state as i64, status, remote_id, now])?;
            if let Some(row) = log {
                insert_log(st, summary, row, now, acct, !refunded)?;
            }
            horizon.left(conn, *id)?;
        }
        // Refused before it was accepted: never charged.
        Op::Log(row) => insert_log(st, summary, row, now, acct, false)?,
        Op::HoldPart {
            key,
            seq,
            id,
            target,
            received_us,
            data,
        } => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO concat_parts (key, seq, id, target, received_us, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![key, seq, id, target, received_us, data])?;
        }
        Op::DropParts(key) => {
            conn.prepare_cached("DELETE FROM concat_parts WHERE key = ?1")?
                .execute(params![key])?;
        }
        Op::CloseDlr {
            connector,
            remote_id,
        } => {
            st.get(Sql::CloseDlr)?
                .execute(params![connector, remote_id])?;
        }
        Op::PartDone {
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
        Op::CloseDlrs {
            connector,
            remote_ids,
        } => {
            let stmt = st.get(Sql::CloseDlr)?;
            for remote in remote_ids {
                stmt.execute(params![connector, remote])?;
            }
        }
        Op::Flags {
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
        Op::Sat(entry) => {
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
        Op::SatPurge(before_us) => {
            conn.prepare_cached("DELETE FROM sat_entries WHERE expires_us <= ?1")?
                .execute(params![before_us])?;
        }
        Op::Charge {
            account,
            via,
            micros,
        } => {
            // The writer runs a batch's leading charge itself. One further in a batch can no
            // longer leave the batch out: uncovered, it fails the batch (a constraint error).
            if !accounts::charge(conn, ledger, (account, via), *micros, now)? {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
                    Some(format!(
                        "the balance of account {account} does not cover the price"
                    )),
                ));
            }
        }
        Op::Balance {
            account,
            change,
            by,
        } => {
            // The charges before it get their history rows first, so each row's amount
            // before is the balance as that change found it.
            ledger.flush(conn, now)?;
            accounts::change_balance(conn, account, change, by, now)?
        }
        Op::Event(e) => {
            st.get(Sql::Event)?.execute(params![
                e.message_id as i64,
                e.at_us,
                e.kind as i64,
                e.remote_id.as_deref().unwrap_or(""),
                e.connector,
                e.instance,
                e.status,
                e.code as i64
            ])?;
        }
    }
    Ok(())
}

fn sent(st: &mut Prepared<'_>, id: i64, remote_id: &str, now: i64) -> rusqlite::Result<()> {
    st.get(Sql::Sent)?.execute(params![id, remote_id, now])?;
    Ok(())
}

fn open_dlr(
    st: &mut Prepared<'_>,
    connector: &str,
    remote_id: &str,
    id: i64,
    now: i64,
) -> rusqlite::Result<()> {
    st.get(Sql::OpenDlr)?
        .execute(params![connector, remote_id, id, now])?;
    Ok(())
}

/// Written once, at the final state, with its share of the hourly summary (summed in
/// `summary`, written at the transaction's end); `charged` is false
/// for a message refused before acceptance or refunded, whose price and cost the summary does
/// not count (the row keeps what it was tagged with). OR REPLACE: a store from before schema 5
/// already has a row (written at acceptance) for messages that were under way when it was
/// upgraded.
fn insert_log(
    st: &mut Prepared<'_>,
    summary: &mut Summary,
    r: &LogRow,
    now: i64,
    acct: &Accounting,
    charged: bool,
) -> rusqlite::Result<()> {
    let add = SummaryAdd {
        account: r.account.as_deref().unwrap_or(""),
        received_us: r.received_us,
        dest: &r.dest,
        connector: r.route.as_deref().unwrap_or(""),
        status: &r.status,
        parts: r.parts,
        price: if charged { r.price_micros } else { 0 },
        cost: if charged { r.cost_micros } else { 0 },
    };
    summary.add(&add, acct.summary_prefix_length);
    st.get(Sql::Routelog)?.execute(params![
        r.message_id,
        r.received_us,
        r.in_connector,
        r.account,
        r.msgtype,
        r.source,
        r.dest,
        r.route,
        r.status,
        r.error,
        now,
        r.price,
        r.cost,
        r.parts,
        charged,
        r.route_entry
    ])?;
    Ok(())
}

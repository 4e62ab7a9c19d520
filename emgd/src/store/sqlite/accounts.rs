//! Accounting in the writer's transactions (charges, refunds, the hourly summary, operator
//! balance changes) and the operators' reads of it.
//!
//! The charge is one conditional `UPDATE` on the writer thread, in the transaction that stores
//! the message: two sessions of one account cannot both spend its last unit, and a crash
//! either keeps the message and its charge or neither. The hourly summary is summed over one
//! transaction's routelog rows ([`Summary`]) and upserted in that transaction, so it is exact
//! after any crash and never needs a rescan.
//!
//! `balance_history` records every change: an operator's as a row of its own, charges and
//! refunds summed per account, cause and receiving connector over one group commit
//! ([`Ledger`]), written in that commit. A history row per message would add an insert and an
//! index entry to every charged message; one per account per commit costs a read and an
//! insert per commit, and the changes still add up exactly to the balance's movement.

use super::browse;
use super::db_err;
use crate::store::accounts::{
    from_micros, to_micros, Balance, BalanceChange, HistoryEntry, SummaryQuery, SummaryRow,
};
use crate::store::{MessageState, StoreError};
use config::RefundPolicy;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// Why a balance moved without an operator: the `created_by` of its history row is
/// `charge:CONNECTOR` or `refund:CONNECTOR` (the receiving connector).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Charge,
    Refund,
}

impl Cause {
    fn word(self) -> &'static str {
        match self {
            Cause::Charge => "charge",
            Cause::Refund => "refund",
        }
    }
}

/// The charges and refunds of one transaction, summed per account, cause and connector until
/// [`Ledger::flush`] writes them to `balance_history`.
#[derive(Debug, Default)]
pub struct Ledger {
    /// (account, cause, connector, change in millionths); a handful per commit, so a scan.
    sums: Vec<(String, Cause, String, i64)>,
}

impl Ledger {
    pub fn add(&mut self, account: &str, cause: Cause, via: &str, change: i64) {
        let found = self
            .sums
            .iter_mut()
            .find(|(a, c, v, _)| *c == cause && a == account && v == via);
        match found {
            Some(e) => e.3 += change,
            None => self
                .sums
                .push((account.to_string(), cause, via.to_string(), change)),
        }
    }

    /// The sums so far, in the order their first change came, as (account, `created_by`,
    /// change); the ledger starts again empty. (The PostgreSQL store writes them itself.)
    pub fn take(&mut self) -> Vec<(String, String, i64)> {
        self.sums
            .drain(..)
            .map(|(a, c, v, m)| (a, format!("{}:{v}", c.word()), m))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.sums.is_empty()
    }

    /// One history row per sum, its amount before read back from the balance as it is now
    /// (every change summed here has been applied, and nothing else changed it since).
    pub fn flush(&mut self, conn: &Connection, now: i64) -> rusqlite::Result<()> {
        for (account, cause, via, change) in self.sums.drain(..) {
            let after: Option<i64> = conn
                .prepare_cached("SELECT micros FROM balances WHERE account = ?1")?
                .query_row(params![account], |r| r.get(0))
                .optional()?;
            let Some(after) = after else { continue };
            conn.prepare_cached(
                "INSERT INTO balance_history (account, amount_before, amount, created_us, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                account,
                after - change,
                change,
                now,
                format!("{}:{via}", cause.word())
            ])?;
        }
        Ok(())
    }
}

/// Charges `micros` to `account` (received on `via`), noting it in `ledger`. Returns false
/// when the account has a balance that does not cover it; an account without a balance is not
/// balance-controlled and always passes.
pub fn charge(
    conn: &Connection,
    ledger: &mut Ledger,
    (account, via): (&str, &str),
    micros: i64,
    now: i64,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE balances SET micros = micros - ?2, updated_us = ?3
             WHERE account = ?1 AND micros - ?2 >= -COALESCE(postpaid_limit, 0)",
        )?
        .execute(params![account, micros, now])?;
    if changed == 1 {
        ledger.add(account, Cause::Charge, via, -micros);
        return Ok(true);
    }
    let controlled = conn
        .prepare_cached("SELECT 1 FROM balances WHERE account = ?1")?
        .exists(params![account])?;
    Ok(!controlled)
}

/// Whether a message ending in `state` gives its charge back under `policy`, and if so gives
/// it back to `account`'s balance (when it has one). Runs before the message's row takes its
/// final state: under [`RefundPolicy::Rejected`] only a message the next hop never took (its
/// row not in state sent) is refunded. A refund given is noted in `ledger` under `via`, the
/// receiving connector.
pub fn refund(
    conn: &Connection,
    ledger: &mut Ledger,
    policy: RefundPolicy,
    id: i64,
    state: MessageState,
    (account, via, micros): (Option<&str>, &str, i64),
    now: i64,
) -> rusqlite::Result<bool> {
    if micros <= 0 || !matches!(state, MessageState::Failed | MessageState::Cancelled) {
        return Ok(false);
    }
    let refundable = match policy {
        RefundPolicy::None => false,
        RefundPolicy::Failed => true,
        RefundPolicy::Rejected => !conn
            .prepare_cached("SELECT 1 FROM messages WHERE id = ?1 AND state = 1")?
            .exists(params![id])?,
    };
    if let (true, Some(account)) = (refundable, account) {
        let changed = conn
            .prepare_cached(
                "UPDATE balances SET micros = micros + ?2, updated_us = ?3 WHERE account = ?1",
            )?
            .execute(params![account, micros, now])?;
        if changed == 1 {
            ledger.add(account, Cause::Refund, via, micros);
        }
    }
    Ok(refundable)
}

/// What one routelog row adds to the hourly summary.
pub struct SummaryAdd<'a> {
    pub account: &'a str,
    pub received_us: i64,
    pub dest: &'a str,
    pub connector: &'a str,
    pub status: &'a str,
    pub parts: u32,
    pub price: i64,
    pub cost: i64,
}

/// The destination's first `len` digits (a `+` does not count).
pub fn prefix_of(dest: &str, len: usize) -> &str {
    let digits = dest.strip_prefix('+').unwrap_or(dest);
    let end = digits
        .char_indices()
        .nth(len)
        .map_or(digits.len(), |(i, _)| i);
    &digits[..end]
}

pub fn add_to_summary(
    conn: &Connection,
    add: &SummaryAdd<'_>,
    prefix_len: usize,
) -> rusqlite::Result<()> {
    let key = (
        add.account,
        add.received_us.div_euclid(HOUR_US),
        prefix_of(add.dest, prefix_len),
        add.connector,
        add.status,
    );
    upsert_summary(conn, key, [1, i64::from(add.parts), add.price, add.cost])
}

const HOUR_US: i64 = 3_600_000_000;

/// Adds `[messages, parts, price, cost]` to the summary row of `key` (account, hour, prefix,
/// connector, status).
fn upsert_summary(
    conn: &Connection,
    (account, hour, prefix, connector, status): (&str, i64, &str, &str, &str),
    [messages, parts, price, cost]: [i64; 4],
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO hourly_summary (account, hour, prefix, connector, status, messages, parts, price, cost)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (account, hour, prefix, connector, status) DO UPDATE SET
            messages = messages + excluded.messages, parts = parts + excluded.parts,
            price = price + excluded.price, cost = cost + excluded.cost",
    )?
    .execute(params![
        account, hour, prefix, connector, status, messages, parts, price, cost
    ])?;
    Ok(())
}

/// The routelog rows' additions to the hourly summary in one transaction, summed per summary
/// row until [`Summary::flush`] writes each sum with one upsert: a group commit's messages
/// mostly share a few rows, and an upsert per message was 5 % of the writer's instructions.
#[derive(Debug, Default)]
pub struct Summary {
    sums: HashMap<(String, i64, String, String, String), [i64; 4]>,
}

impl Summary {
    pub fn add(&mut self, add: &SummaryAdd<'_>, prefix_len: usize) {
        let key = (
            add.account.to_string(),
            add.received_us.div_euclid(HOUR_US),
            prefix_of(add.dest, prefix_len).to_string(),
            add.connector.to_string(),
            add.status.to_string(),
        );
        let sum = self.sums.entry(key).or_default();
        sum[0] += 1;
        sum[1] += i64::from(add.parts);
        sum[2] += add.price;
        sum[3] += add.cost;
    }

    pub fn flush(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        for ((account, hour, prefix, connector, status), sum) in self.sums.drain() {
            upsert_summary(conn, (&account, hour, &prefix, &connector, &status), sum)?;
        }
        Ok(())
    }
}

/// Schema 6 made the hourly summary: the routelog rows already there when it ran are folded
/// into it once, in the migration's transaction. A row whose message is still under way
/// (queued, being submitted, or sent and awaiting its receipt; stores before schema 5 wrote
/// the row at acceptance) is left out: its final state writes it again and adds it then.
/// Returns how many rows were folded.
pub fn fold_routelog(conn: &Connection, prefix_len: usize) -> rusqlite::Result<u64> {
    let mut stmt = conn.prepare(
        "SELECT COALESCE(r.account, ''), r.received_us, r.dest, COALESCE(r.route, ''), r.status,
                r.parts, r.price, r.cost, r.charged
         FROM routelog r
         WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = r.message_id AND m.state IN (0, 1, 5))",
    )?;
    let mut rows = stmt.query([])?;
    let mut folded = 0;
    // Amounts are decimal text; one that does not read as one counts as none.
    let micros = |text: Option<String>| {
        text.and_then(|t| t.parse::<rust_decimal::Decimal>().ok())
            .map_or(0, to_micros)
    };
    while let Some(r) = rows.next()? {
        let (account, dest, connector, status): (String, String, String, String) =
            (r.get(0)?, r.get(2)?, r.get(3)?, r.get(4)?);
        let charged: bool = r.get(8)?;
        let add = SummaryAdd {
            account: &account,
            received_us: r.get(1)?,
            dest: &dest,
            connector: &connector,
            status: &status,
            parts: r.get(5)?,
            price: if charged { micros(r.get(6)?) } else { 0 },
            cost: if charged { micros(r.get(7)?) } else { 0 },
        };
        add_to_summary(conn, &add, prefix_len)?;
        folded += 1;
    }
    Ok(folded)
}

/// An operator's balance change, with its history row.
pub fn change_balance(
    conn: &Connection,
    account: &str,
    change: &BalanceChange,
    by: &str,
    now: i64,
) -> rusqlite::Result<()> {
    let before: Option<(i64, Option<i64>)> = conn
        .prepare_cached("SELECT micros, postpaid_limit FROM balances WHERE account = ?1")?
        .query_row(params![account], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (old, old_limit) = before.unwrap_or((0, None));
    let (new, limit) = match change {
        BalanceChange::Add(d) => (old.saturating_add(to_micros(*d)), old_limit),
        BalanceChange::Set {
            amount,
            postpaid_limit,
        } => (to_micros(*amount), postpaid_limit.map(to_micros)),
    };
    conn.prepare_cached(
        "INSERT OR REPLACE INTO balances (account, micros, postpaid_limit, updated_us) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![account, new, limit, now])?;
    conn.prepare_cached(
        "INSERT INTO balance_history (account, amount_before, amount, created_us, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![account, old, new - old, now, by])?;
    Ok(())
}

const READ_BUDGET: Duration = Duration::from_secs(10);

/// `account`'s balance on the writer's connection (none, or one).
pub fn balance(conn: &Connection, account: &str) -> Result<Vec<Balance>, StoreError> {
    read_balances(conn, Some(account))
}

pub fn balances(path: &Path, account: Option<&str>) -> Result<Vec<Balance>, StoreError> {
    let reader = browse::open(path, READ_BUDGET)?;
    read_balances(&reader, account)
}

fn read_balances(conn: &Connection, account: Option<&str>) -> Result<Vec<Balance>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT account, micros, postpaid_limit, updated_us FROM balances
             WHERE ?1 IS NULL OR account = ?1 ORDER BY account",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![account], |r| {
            Ok(Balance {
                account: r.get(0)?,
                balance: from_micros(r.get(1)?),
                postpaid_limit: r.get::<_, Option<i64>>(2)?.map(from_micros),
                updated_us: r.get(3)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub fn history(path: &Path, account: &str, limit: usize) -> Result<Vec<HistoryEntry>, StoreError> {
    let conn = browse::open(path, READ_BUDGET)?;
    let mut stmt = conn
        .prepare(
            "SELECT account, amount_before, amount, created_us, created_by FROM balance_history
             WHERE account = ?1 ORDER BY id DESC LIMIT ?2",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![account, limit as i64], |r| {
            Ok(HistoryEntry {
                account: r.get(0)?,
                amount_before: from_micros(r.get(1)?),
                amount: from_micros(r.get(2)?),
                created_us: r.get(3)?,
                created_by: r.get(4)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub fn summary(path: &Path, q: &SummaryQuery) -> Result<Vec<SummaryRow>, StoreError> {
    let conn = browse::open(path, READ_BUDGET)?;
    let mut stmt = conn
        .prepare(
            "SELECT account, hour, prefix, connector, status, messages, parts, price, cost
             FROM hourly_summary
             WHERE (?1 IS NULL OR account = ?1) AND (?2 IS NULL OR hour >= ?2)
               AND (?3 IS NULL OR hour < ?3)
             ORDER BY account, hour, prefix, connector, status",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![q.account, q.from_hour, q.to_hour], |r| {
            Ok(SummaryRow {
                account: r.get(0)?,
                hour: r.get(1)?,
                prefix: r.get(2)?,
                connector: r.get(3)?,
                status: r.get(4)?,
                messages: r.get::<_, i64>(5)? as u64,
                parts: r.get::<_, i64>(6)? as u64,
                price: from_micros(r.get(7)?),
                cost: from_micros(r.get(8)?),
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

#[cfg(test)]
mod tests {
    use super::prefix_of;

    #[test]
    fn prefixes_count_digits_after_a_plus() {
        assert_eq!(prefix_of("+46701234", 2), "46");
        assert_eq!(prefix_of("46701234", 4), "4670");
        assert_eq!(prefix_of("4", 2), "4");
        assert_eq!(prefix_of("46", 0), "");
    }
}

//! A group commit as statements: every batch that arrived meanwhile, each `Write` kind as ONE
//! statement over arrays (`INSERT ... SELECT ... FROM UNNEST(...)`, `UPDATE ... WHERE id =
//! ANY($1)`), never a statement per message.
//!
//! The batches' ops are applied in arrival order, so the group is cut into *phases*: a phase
//! takes ops until one touches a row (a message, an open DLR entry, a held part, a SAT entry)
//! that the phase already touches; within a phase no row is touched twice, so the order of its
//! statements does not matter and each kind is one statement. Under load a phase holds
//! thousands of messages. Rare operator writes (connector flags, balance changes, the SAT
//! purge) are statements of their own at their place.
//!
//! What needs a decision before the writes ([`Plan::needs`]): the batches' leading charges
//! (one `emg_charge` call, in order; a refused one leaves its batch out) and, for refunds under
//! `refund_policy = rejected`, whether a failed message had been sent (its row's state, read
//! once for the group, followed through the group's own ops).
//!
//! (Over 600 lines for a reason: the phase rules and the one statement per `Write` kind they build
//! must be read side by side, or a kind's statement and its conflict keys drift apart.)

use crate::store::accounts::to_micros;
use crate::store::sqlite::accounts::{prefix_of, Cause, Ledger};
use crate::store::sqlite::ops::{Accounting, LogRow, Op};
use crate::store::{accounts::BalanceChange, MessageState};
use config::RefundPolicy;
use std::collections::{HashMap, HashSet};
use tokio_postgres::types::ToSql;

/// One parameter of a statement.
pub type Param = Box<dyn ToSql + Sync + Send>;

/// Which prepared statement (see `super::statements`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Insert,
    Rewrite,
    Submitting,
    Sent,
    OpenDlr,
    Final,
    Routelog,
    Summary,
    Refund,
    CloseDlr,
    PartDone,
    Events,
    HoldPart,
    DropParts,
    Sat,
    SatPurge,
    Flags,
    FlagsClear,
    Balance,
    History,
    NodeMax,
}

/// A statement to run, with its parameters.
pub struct Stmt {
    pub kind: Kind,
    pub params: Vec<Param>,
}

#[derive(Hash, PartialEq, Eq)]
enum Key {
    Msg(i64),
    Dlr(String, String),
    Part(String),
    Sat(String, String, String),
}

/// Message rows: id, target, record, expiry.
type RecordCols = (Vec<i64>, Vec<String>, Vec<Vec<u8>>, Vec<Option<i64>>);
/// Held parts: key, part number, id, target, received, record.
type HoldCols = (
    Vec<String>,
    Vec<i16>,
    Vec<i64>,
    Vec<String>,
    Vec<i64>,
    Vec<Vec<u8>>,
);
/// Summary keys: account, hour, prefix, connector, status.
type SummaryCols = (Vec<String>, Vec<i64>, Vec<String>, Vec<String>, Vec<String>);

/// The rows of one phase, column by column.
#[derive(Default)]
struct Phase {
    touched: HashSet<Key>,
    insert: RecordCols,
    rewrite: RecordCols,
    submitting: Vec<i64>,
    sent: (Vec<i64>, Vec<String>),
    open_dlr: (Vec<String>, Vec<String>, Vec<i64>),
    finals: (Vec<i64>, Vec<i16>, Vec<String>, Vec<Option<String>>),
    logs: Vec<(Box<LogRow>, bool)>,
    refunds: HashMap<String, i64>,
    close_dlr: (Vec<String>, Vec<String>),
    part_done: (Vec<String>, Vec<String>, Vec<String>, Vec<i64>),
    events: Events,
    hold: HoldCols,
    drop_parts: Vec<String>,
    sat: SatRows,
}

#[derive(Default)]
struct Events(
    Vec<i64>,
    Vec<i64>,
    Vec<i16>,
    Vec<String>,
    Vec<String>,
    Vec<Option<i64>>,
    Vec<String>,
    Vec<i64>,
);

#[derive(Default)]
struct SatRows(
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<String>,
    Vec<i16>,
    Vec<i16>,
    Vec<i64>,
);

/// The summary rows of a group, added up by key (one upsert cannot touch a row twice).
type SummaryKey = (String, i64, String, String, String);

/// What the writer must know before it plans a segment of the group.
#[derive(Debug, Default)]
pub struct Needs {
    /// Each batch's leading charge: (batch index, account, receiving connector,
    /// millionths), in order.
    pub charges: Vec<(usize, String, String, i64)>,
    /// Messages whose state before the group decides a refund.
    pub states: Vec<i64>,
}

/// Plans one segment of a group: batches up to and including the first one that changes a
/// balance by hand, so charges after it are decided on the changed balance.
pub struct Plan<'a> {
    pub acct: Accounting,
    pub now: i64,
    pub batches: &'a [&'a [Op]],
}

impl Plan<'_> {
    pub fn needs(&self) -> Needs {
        let mut needs = Needs::default();
        for (i, ops) in self.batches.iter().enumerate() {
            if let Some(Op::Charge {
                account,
                via,
                micros,
            }) = ops.first()
            {
                needs
                    .charges
                    .push((i, account.clone(), via.clone(), *micros));
            }
            if self.acct.refund != RefundPolicy::Rejected {
                continue;
            }
            for op in ops.iter() {
                if let Op::Final {
                    id,
                    state,
                    log: Some(row),
                    ..
                } = op
                {
                    if refundable_state(*state) && row.price_micros > 0 {
                        needs.states.push(*id);
                    }
                }
            }
        }
        needs
    }

    /// The statements of the segment, in order. `accepted[i]` says whether batch `i` is in
    /// (a refused charge leaves it out); `sent_before` holds the messages among
    /// [`Needs::states`] that were in state sent before the group; `states` follows the
    /// group's own changes across segments; `ledger` sums the group's charges and refunds
    /// for their history rows (written before an operator's change and at the end, as the
    /// SQLite store does). Returns the statements and the highest message id the segment
    /// stores.
    pub fn statements(
        &self,
        accepted: &[bool],
        sent_before: &HashSet<i64>,
        states: &mut HashMap<i64, i16>,
        ledger: &mut Ledger,
    ) -> Result<(Vec<Stmt>, i64), String> {
        let mut out = Vec::new();
        let mut phase = Phase::default();
        let mut summary: HashMap<SummaryKey, [i64; 4]> = HashMap::new();
        let mut max_id = 0;
        for (ops, _) in self.batches.iter().zip(accepted).filter(|(_, ok)| **ok) {
            let rest = match ops.first() {
                Some(Op::Charge { .. }) => &ops[1..],
                _ => ops,
            };
            for op in rest {
                let keys = keys(op);
                if keys.iter().any(|k| phase.touched.contains(k)) || barrier(op) {
                    flush(&mut phase, self.now, &mut out);
                }
                if let Some(id) = stored_id(op) {
                    max_id = max_id.max(id);
                }
                let decided = (sent_before, &mut *states, &mut *ledger);
                self.add(op, &mut phase, &mut summary, decided, &mut out)?;
                phase.touched.extend(keys);
            }
        }
        flush(&mut phase, self.now, &mut out);
        if !summary.is_empty() {
            out.push(summary_stmt(summary));
        }
        Ok((out, max_id))
    }

    fn add(
        &self,
        op: &Op,
        p: &mut Phase,
        summary: &mut HashMap<SummaryKey, [i64; 4]>,
        (sent_before, states, ledger): (&HashSet<i64>, &mut HashMap<i64, i16>, &mut Ledger),
        out: &mut Vec<Stmt>,
    ) -> Result<(), String> {
        let now = self.now;
        match op {
            Op::Insert {
                id,
                target,
                expires_us,
                data,
            } => {
                push4(&mut p.insert, *id, target, data, *expires_us);
                states.insert(*id, 0);
            }
            Op::Rewrite {
                id,
                target,
                expires_us,
                data,
            } => {
                push4(&mut p.rewrite, *id, target, data, *expires_us);
                states.insert(*id, 0);
            }
            Op::Submitting(ids) => {
                p.submitting.extend_from_slice(ids);
                for id in ids {
                    states.insert(*id, MessageState::Submitting as i16);
                }
            }
            Op::Sent {
                id,
                connector,
                remote_id,
            } => {
                p.sent.0.push(*id);
                p.sent.1.push(remote_id.clone());
                open_dlr(p, connector, remote_id, *id);
                states.insert(*id, MessageState::Sent as i16);
            }
            Op::SentParts {
                id,
                connector,
                remote_ids,
            } => {
                p.sent.0.push(*id);
                p.sent.1.push(remote_ids.join(","));
                for r in remote_ids {
                    open_dlr(p, connector, r, *id);
                }
                states.insert(*id, MessageState::Sent as i16);
            }
            Op::Final {
                id,
                state,
                status,
                remote_id,
                log,
            } => {
                let was_sent = match states.get(id) {
                    Some(s) => *s == MessageState::Sent as i16,
                    None => sent_before.contains(id),
                };
                p.finals.0.push(*id);
                p.finals.1.push(*state as i16);
                p.finals.2.push(status.clone());
                p.finals.3.push(remote_id.clone());
                states.insert(*id, *state as i16);
                if let Some(row) = log {
                    let refunded = refund(self.acct.refund, *state, row, was_sent);
                    if refunded {
                        if let Some(account) = &row.account {
                            *p.refunds.entry(account.clone()).or_default() += row.price_micros;
                            ledger.add(account, Cause::Refund, &row.in_connector, row.price_micros);
                        }
                    }
                    add_summary(summary, row, !refunded, self.acct.summary_prefix_length);
                    p.logs.push((row.clone(), !refunded));
                }
            }
            Op::Log(row) => {
                add_summary(summary, row, false, self.acct.summary_prefix_length);
                p.logs.push((row.clone(), false));
            }
            Op::CloseDlr {
                connector,
                remote_id,
            } => {
                p.close_dlr.0.push(connector.clone());
                p.close_dlr.1.push(remote_id.clone());
            }
            Op::CloseDlrs {
                connector,
                remote_ids,
            } => {
                for r in remote_ids {
                    p.close_dlr.0.push(connector.clone());
                    p.close_dlr.1.push(r.clone());
                }
            }
            Op::PartDone {
                connector,
                remote_id,
                status,
                error,
            } => {
                p.part_done.0.push(connector.clone());
                p.part_done.1.push(remote_id.clone());
                p.part_done.2.push(status.clone());
                p.part_done.3.push(i64::from(*error));
            }
            Op::Event(e) => {
                let ev = &mut p.events;
                ev.0.push(e.message_id as i64);
                ev.1.push(e.at_us);
                ev.2.push(e.kind as i16);
                ev.3.push(e.remote_id.clone().unwrap_or_default());
                ev.4.push(e.connector.clone());
                ev.5.push(e.instance.map(i64::from));
                ev.6.push(e.status.clone());
                ev.7.push(i64::from(e.code));
            }
            Op::HoldPart {
                key,
                seq,
                id,
                target,
                received_us,
                data,
            } => {
                let h = &mut p.hold;
                h.0.push(key.clone());
                h.1.push(i16::from(*seq));
                h.2.push(*id);
                h.3.push(target.clone());
                h.4.push(*received_us);
                h.5.push(data.clone());
            }
            Op::DropParts(key) => p.drop_parts.push(key.clone()),
            Op::Sat(e) => {
                let s = &mut p.sat;
                s.0.push(e.pool.clone());
                s.1.push(e.dest.clone());
                s.2.push(e.sat_addr.clone());
                s.3.push(e.original.addr.clone());
                s.4.push(i16::from(e.original.ton));
                s.5.push(i16::from(e.original.npi));
                s.6.push(e.expires_us);
            }
            Op::SatPurge(before) => out.push(stmt(Kind::SatPurge, vec![Box::new(*before)])),
            Op::Flags {
                connector,
                hold,
                forceclose,
            } => out.push(if !hold && !forceclose {
                stmt(Kind::FlagsClear, vec![Box::new(connector.clone())])
            } else {
                stmt(
                    Kind::Flags,
                    vec![
                        Box::new(connector.clone()),
                        Box::new(*hold),
                        Box::new(*forceclose),
                    ],
                )
            }),
            Op::Balance {
                account,
                change,
                by,
            } => {
                let (add, amount, limit) = match change {
                    BalanceChange::Add(d) => (true, to_micros(*d), None),
                    BalanceChange::Set {
                        amount,
                        postpaid_limit,
                    } => (false, to_micros(*amount), postpaid_limit.map(to_micros)),
                };
                // The changes before it get their history rows first, so each row's amount
                // before is the balance as that change found it.
                out.extend(history(ledger, now));
                out.push(stmt(
                    Kind::Balance,
                    vec![
                        Box::new(account.clone()),
                        Box::new(add),
                        Box::new(amount),
                        Box::new(limit),
                        Box::new(now),
                        Box::new(by.clone()),
                    ],
                ));
            }
            Op::Charge { account, .. } => {
                return Err(format!(
                    "a charge to account {account} must be its batch's first write"
                ))
            }
        }
        Ok(())
    }
}

/// Whether a message ending in `state` gives its price back under `policy` (see the SQLite
/// store's `accounts::refund`, whose rules these are).
fn refund(policy: RefundPolicy, state: MessageState, row: &LogRow, was_sent: bool) -> bool {
    if row.price_micros <= 0 || !refundable_state(state) {
        return false;
    }
    match policy {
        RefundPolicy::None => false,
        RefundPolicy::Failed => true,
        RefundPolicy::Rejected => !was_sent,
    }
}

/// Where the segment that starts at batch `start` ends (exclusive): after the first batch
/// that changes a balance by hand, or that may refund an account a later batch's leading
/// charge spends (charges are decided at the start of a segment, so a refund before a charge
/// must be in the segment before it, as the SQLite store applies them in order).
pub fn segment_end(batches: &[&[Op]], start: usize, policy: RefundPolicy) -> usize {
    let charged: Vec<Option<&str>> = batches
        .iter()
        .map(|ops| match ops.first() {
            Some(Op::Charge { account, .. }) => Some(account.as_str()),
            _ => None,
        })
        .collect();
    for (i, ops) in batches.iter().enumerate().skip(start) {
        let refunds_a_later_charge = || {
            ops.iter()
                .filter_map(|op| may_refund(policy, op))
                .any(|a| charged[i + 1..].contains(&Some(a)))
        };
        if ops.iter().any(|op| matches!(op, Op::Balance { .. })) || refunds_a_later_charge() {
            return i + 1;
        }
    }
    batches.len()
}

/// The account `op` may give a price back to.
fn may_refund(policy: RefundPolicy, op: &Op) -> Option<&str> {
    match op {
        Op::Final {
            state,
            log: Some(row),
            ..
        } if policy != RefundPolicy::None && refundable_state(*state) && row.price_micros > 0 => {
            row.account.as_deref()
        }
        _ => None,
    }
}

/// The history rows of the charges and refunds `ledger` summed, each with the balance before
/// it as the balance now less its change; none when it is empty.
pub fn history(ledger: &mut Ledger, now: i64) -> Option<Stmt> {
    if ledger.is_empty() {
        return None;
    }
    let mut cols: (Vec<String>, Vec<i64>, Vec<String>) = Default::default();
    for (account, by, change) in ledger.take() {
        cols.0.push(account);
        cols.1.push(change);
        cols.2.push(by);
    }
    Some(stmt(
        Kind::History,
        vec![
            Box::new(cols.0),
            Box::new(cols.1),
            Box::new(cols.2),
            Box::new(now),
        ],
    ))
}

fn refundable_state(state: MessageState) -> bool {
    matches!(state, MessageState::Failed | MessageState::Cancelled)
}

fn add_summary(
    summary: &mut HashMap<SummaryKey, [i64; 4]>,
    r: &LogRow,
    charged: bool,
    prefix_len: usize,
) {
    let key = (
        r.account.clone().unwrap_or_default(),
        r.received_us.div_euclid(3_600_000_000),
        prefix_of(&r.dest, prefix_len).to_string(),
        r.route.clone().unwrap_or_default(),
        r.status.clone(),
    );
    let sums = summary.entry(key).or_default();
    sums[0] += 1;
    sums[1] += i64::from(r.parts);
    if charged {
        sums[2] += r.price_micros;
        sums[3] += r.cost_micros;
    }
}

fn push4(cols: &mut RecordCols, id: i64, target: &str, data: &[u8], expires: Option<i64>) {
    cols.0.push(id);
    cols.1.push(target.to_string());
    cols.2.push(data.to_vec());
    cols.3.push(expires);
}

fn open_dlr(p: &mut Phase, connector: &str, remote_id: &str, id: i64) {
    p.open_dlr.0.push(connector.to_string());
    p.open_dlr.1.push(remote_id.to_string());
    p.open_dlr.2.push(id);
}

/// The rows `op` changes; a phase touches each at most once.
fn keys(op: &Op) -> Vec<Key> {
    let dlr = |c: &str, r: &str| Key::Dlr(c.to_string(), r.to_string());
    match op {
        Op::Insert { id, .. } | Op::Rewrite { id, .. } => vec![Key::Msg(*id)],
        Op::Submitting(ids) => ids.iter().map(|id| Key::Msg(*id)).collect(),
        Op::Sent {
            id,
            connector,
            remote_id,
        } => vec![Key::Msg(*id), dlr(connector, remote_id)],
        Op::SentParts {
            id,
            connector,
            remote_ids,
        } => std::iter::once(Key::Msg(*id))
            .chain(remote_ids.iter().map(|r| dlr(connector, r)))
            .collect(),
        Op::Final { id, .. } => vec![Key::Msg(*id)],
        Op::Log(row) => vec![Key::Msg(row.message_id)],
        Op::CloseDlr {
            connector,
            remote_id,
        }
        | Op::PartDone {
            connector,
            remote_id,
            ..
        } => vec![dlr(connector, remote_id)],
        Op::CloseDlrs {
            connector,
            remote_ids,
        } => remote_ids.iter().map(|r| dlr(connector, r)).collect(),
        Op::HoldPart { key, .. } | Op::DropParts(key) => vec![Key::Part(key.clone())],
        Op::Sat(e) => vec![Key::Sat(e.pool.clone(), e.dest.clone(), e.sat_addr.clone())],
        Op::Event(_)
        | Op::SatPurge(_)
        | Op::Flags { .. }
        | Op::Charge { .. }
        | Op::Balance { .. } => Vec::new(),
    }
}

/// Ops that run as a statement of their own at their place in the order.
fn barrier(op: &Op) -> bool {
    matches!(op, Op::SatPurge(_) | Op::Flags { .. } | Op::Balance { .. })
}

fn stored_id(op: &Op) -> Option<i64> {
    match op {
        Op::Insert { id, .. } => Some(*id),
        Op::Log(row) => Some(row.message_id),
        _ => None,
    }
}

fn stmt(kind: Kind, params: Vec<Param>) -> Stmt {
    Stmt { kind, params }
}

/// The phase's statements, one per kind that has rows; the phase starts again empty.
fn flush(p: &mut Phase, now: i64, out: &mut Vec<Stmt>) {
    let p = std::mem::take(p);
    if !p.insert.0.is_empty() {
        let (a, b, c, d) = p.insert;
        out.push(stmt(
            Kind::Insert,
            vec![
                Box::new(a),
                Box::new(b),
                Box::new(c),
                Box::new(d),
                Box::new(now),
            ],
        ));
    }
    if !p.rewrite.0.is_empty() {
        let (a, b, c, d) = p.rewrite;
        out.push(stmt(
            Kind::Rewrite,
            vec![
                Box::new(a),
                Box::new(b),
                Box::new(c),
                Box::new(d),
                Box::new(now),
            ],
        ));
    }
    if !p.submitting.is_empty() {
        out.push(stmt(
            Kind::Submitting,
            vec![Box::new(p.submitting), Box::new(now)],
        ));
    }
    if !p.sent.0.is_empty() {
        out.push(stmt(
            Kind::Sent,
            vec![Box::new(p.sent.0), Box::new(p.sent.1), Box::new(now)],
        ));
    }
    if !p.open_dlr.0.is_empty() {
        let (a, b, c) = p.open_dlr;
        out.push(stmt(
            Kind::OpenDlr,
            vec![Box::new(a), Box::new(b), Box::new(c), Box::new(now)],
        ));
    }
    if !p.refunds.is_empty() {
        let (accounts, micros): (Vec<String>, Vec<i64>) = p.refunds.into_iter().unzip();
        out.push(stmt(
            Kind::Refund,
            vec![Box::new(accounts), Box::new(micros), Box::new(now)],
        ));
    }
    if !p.finals.0.is_empty() {
        let (a, b, c, d) = p.finals;
        out.push(stmt(
            Kind::Final,
            vec![
                Box::new(a),
                Box::new(b),
                Box::new(c),
                Box::new(d),
                Box::new(now),
            ],
        ));
    }
    if !p.logs.is_empty() {
        out.push(routelog_stmt(p.logs, now));
    }
    if !p.close_dlr.0.is_empty() {
        out.push(stmt(
            Kind::CloseDlr,
            vec![Box::new(p.close_dlr.0), Box::new(p.close_dlr.1)],
        ));
    }
    if !p.part_done.0.is_empty() {
        let (a, b, c, d) = p.part_done;
        out.push(stmt(
            Kind::PartDone,
            vec![Box::new(a), Box::new(b), Box::new(c), Box::new(d)],
        ));
    }
    if !p.events.0.is_empty() {
        let Events(a, b, c, d, e, f, g, h) = p.events;
        out.push(stmt(
            Kind::Events,
            vec![
                Box::new(a),
                Box::new(b),
                Box::new(c),
                Box::new(d),
                Box::new(e),
                Box::new(f),
                Box::new(g),
                Box::new(h),
            ],
        ));
    }
    if !p.hold.0.is_empty() {
        let (a, b, c, d, e, f) = p.hold;
        out.push(stmt(
            Kind::HoldPart,
            vec![
                Box::new(a),
                Box::new(b),
                Box::new(c),
                Box::new(d),
                Box::new(e),
                Box::new(f),
            ],
        ));
    }
    if !p.drop_parts.is_empty() {
        out.push(stmt(Kind::DropParts, vec![Box::new(p.drop_parts)]));
    }
    if !p.sat.0.is_empty() {
        let SatRows(a, b, c, d, e, f, g) = p.sat;
        out.push(stmt(
            Kind::Sat,
            vec![
                Box::new(a),
                Box::new(b),
                Box::new(c),
                Box::new(d),
                Box::new(e),
                Box::new(f),
                Box::new(g),
            ],
        ));
    }
}

fn routelog_stmt(logs: Vec<(Box<LogRow>, bool)>, now: i64) -> Stmt {
    let n = logs.len();
    let mut id = Vec::with_capacity(n);
    let mut received = Vec::with_capacity(n);
    let mut in_connector = Vec::with_capacity(n);
    let mut account = Vec::with_capacity(n);
    let mut msgtype = Vec::with_capacity(n);
    let mut source = Vec::with_capacity(n);
    let mut dest = Vec::with_capacity(n);
    let mut route = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut error = Vec::with_capacity(n);
    let mut price = Vec::with_capacity(n);
    let mut cost = Vec::with_capacity(n);
    let mut parts = Vec::with_capacity(n);
    let mut charged = Vec::with_capacity(n);
    let mut route_entry = Vec::with_capacity(n);
    for (r, c) in logs {
        let r = *r;
        id.push(r.message_id);
        received.push(r.received_us);
        in_connector.push(r.in_connector);
        account.push(r.account);
        msgtype.push(i16::from(r.msgtype));
        source.push(r.source);
        dest.push(r.dest);
        route.push(r.route);
        status.push(r.status);
        error.push(r.error);
        price.push(r.price);
        cost.push(r.cost);
        parts.push(r.parts as i32);
        charged.push(c);
        route_entry.push(r.route_entry);
    }
    stmt(
        Kind::Routelog,
        vec![
            Box::new(id),
            Box::new(received),
            Box::new(in_connector),
            Box::new(account),
            Box::new(msgtype),
            Box::new(source),
            Box::new(dest),
            Box::new(route),
            Box::new(status),
            Box::new(error),
            Box::new(price),
            Box::new(cost),
            Box::new(parts),
            Box::new(charged),
            Box::new(route_entry),
            Box::new(now),
        ],
    )
}

fn summary_stmt(summary: HashMap<SummaryKey, [i64; 4]>) -> Stmt {
    let mut cols: SummaryCols = Default::default();
    let mut sums: [Vec<i64>; 4] = Default::default();
    for ((account, hour, prefix, connector, status), s) in summary {
        cols.0.push(account);
        cols.1.push(hour);
        cols.2.push(prefix);
        cols.3.push(connector);
        cols.4.push(status);
        for (col, v) in sums.iter_mut().zip(s) {
            col.push(v);
        }
    }
    let [messages, parts, price, cost] = sums;
    stmt(
        Kind::Summary,
        vec![
            Box::new(cols.0),
            Box::new(cols.1),
            Box::new(cols.2),
            Box::new(cols.3),
            Box::new(cols.4),
            Box::new(messages),
            Box::new(parts),
            Box::new(price),
            Box::new(cost),
        ],
    )
}

/// The statement that keeps the node's highest id (`nodes.max_id`).
pub fn node_max(nodeid: i32, max_id: i64) -> Stmt {
    stmt(Kind::NodeMax, vec![Box::new(nodeid), Box::new(max_id)])
}

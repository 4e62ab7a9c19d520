//! The answers of MGP's accounting operations: `balance_show`, `balance_add`, `balance_set`
//! and `report`. Amounts are decimal strings (`"12.5"`), never JSON numbers: a client reading
//! them into a float would lose cents.

use serde::{Deserialize, Serialize};

/// One account's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceInfo {
    pub account: String,
    /// Decimal string; negative for a postpaid account in debt.
    pub balance: String,
    /// `prepaid` (refused once the balance does not cover a price) or `postpaid`.
    pub kind: String,
    /// Postpaid only: how far below zero the balance may go (decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postpaid_limit: Option<String>,
    /// The price table's currency.
    pub currency: String,
    /// Last change (Unix µs).
    pub updated_us: i64,
}

/// One operator change of a balance, as EMG's balance_history records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceChange {
    pub amount_before: String,
    /// The change: after minus before.
    pub amount: String,
    pub created_us: i64,
    /// The operator who made it.
    pub created_by: String,
}

/// `balance_show`'s answer (one account, or all), and `balance_add`'s and `balance_set`'s
/// (the account after the change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceList {
    pub balances: Vec<BalanceInfo>,
    /// For one account: its latest changes, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<BalanceChange>,
}

/// One line of a report: the messages of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The group: `2026-12-01 09` (hour, UTC, EMG's format), `2026-12-01` (day), or the
    /// account, sending connector or destination prefix.
    pub key: String,
    pub messages: u64,
    /// Parts charged for.
    pub parts: u64,
    /// Delivered, or handed over with no receipt expected.
    pub ok: u64,
    /// Failed, rejected or cancelled (the rest: under way when the routelog row was written
    /// never happens; every row is final).
    pub failed: u64,
    /// Sums, decimal strings.
    pub price: String,
    pub cost: String,
}

/// `report`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// `hour`, `day`, `account`, `connector` or `prefix`.
    pub by: String,
    pub currency: String,
    pub rows: Vec<ReportRow>,
}

//! What the store keeps for accounting: balances, their history and the hourly summary of the
//! routelog, and the amounts in the unit the store counts them in.
//!
//! Amounts are kept as integers of millionths ([`MICROS`]): SQL adds and compares them exactly
//! and a balance check is one conditional `UPDATE`. The price table allows no finer amount
//! (`config::AMOUNT_DECIMALS`).

use rust_decimal::Decimal;

/// Store units in one currency unit.
pub const MICROS: i64 = 1_000_000;

/// `amount` in millionths (finer digits are dropped; the configuration allows none).
pub fn to_micros(amount: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (amount * Decimal::from(MICROS))
        .trunc()
        .to_i64()
        .unwrap_or(if amount.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        })
}

/// Millionths back to a decimal, without trailing zeros (`1500000` is `1.5`).
pub fn from_micros(micros: i64) -> Decimal {
    Decimal::new(micros, 6).normalize()
}

/// An operator's change to an account's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BalanceChange {
    /// Add (or, negative, take away) an amount; an account without a balance gets a prepaid
    /// one.
    Add(Decimal),
    /// Set the balance; `postpaid_limit` `None` makes it prepaid (refused below zero), `Some`
    /// postpaid (may go down to minus the limit).
    Set {
        amount: Decimal,
        postpaid_limit: Option<Decimal>,
    },
}

/// An account's balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub account: String,
    pub balance: Decimal,
    /// `None`: prepaid.
    pub postpaid_limit: Option<Decimal>,
    /// Last change (Unix µs).
    pub updated_us: i64,
}

/// One operator change as `balance_history` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub account: String,
    pub amount_before: Decimal,
    /// The change (after minus before).
    pub amount: Decimal,
    pub created_us: i64,
    pub created_by: String,
}

/// One row of the hourly summary: the routelog's messages of one account, hour, destination
/// prefix, sending connector and final status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// Empty when the message had no account.
    pub account: String,
    /// Hours since the Unix epoch (UTC) of the messages' reception.
    pub hour: i64,
    pub prefix: String,
    /// Empty for messages refused before routing.
    pub connector: String,
    pub status: String,
    pub messages: u64,
    pub parts: u64,
    pub price: Decimal,
    pub cost: Decimal,
}

/// Which summary rows a report reads: every criterion given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SummaryQuery {
    pub account: Option<String>,
    /// Hours since the epoch, `[from_hour, to_hour)`.
    pub from_hour: Option<i64>,
    pub to_hour: Option<i64>,
}

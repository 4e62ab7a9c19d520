//! MGP's accounting operations: balances (`balance_show`, `balance_add`, `balance_set`) and
//! `report`, the hourly summary summed by hour, day, account, connector or prefix.

use super::server::{ok, OpResult, Server};
use crate::store::accounts::{Balance, BalanceChange, SummaryQuery, SummaryRow};
use crate::store::Write;
use common::mgp::{BalanceInfo, BalanceList, ErrorBody, Report, ReportRow};

/// Changes `balance_show` lists for one account, unless it asks for another number (at most
/// [`HISTORY_MAX`]).
const HISTORY_SHOWN: usize = 20;
const HISTORY_MAX: usize = 1000;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// What `report` may sum by.
pub const REPORT_BY: [&str; 5] = ["hour", "day", "account", "connector", "prefix"];

fn info(b: Balance, currency: &str) -> BalanceInfo {
    BalanceInfo {
        account: b.account,
        balance: b.balance.to_string(),
        kind: if b.postpaid_limit.is_some() {
            "postpaid"
        } else {
            "prepaid"
        }
        .to_string(),
        postpaid_limit: b.postpaid_limit.map(|l| l.to_string()),
        currency: currency.to_string(),
        updated_us: b.updated_us,
    }
}

pub async fn show(s: &Server, account: Option<String>, history: Option<usize>) -> OpResult {
    let shown = history.unwrap_or(HISTORY_SHOWN).min(HISTORY_MAX);
    let wanted = account.clone();
    let balances =
        s.gw.store
            .balances(account)
            .await
            .map_err(|e| ErrorBody::internal(format!("balances not read: {e}")))?;
    if let (Some(name), true) = (wanted, balances.is_empty()) {
        return Err(ErrorBody::not_found(format!(
            "account {name} has no balance (it is not balance-controlled); set one with balance_set"
        )));
    }
    let history = match &balances[..] {
        [one] => {
            s.gw.store
                .balance_history(one.account.clone(), shown)
                .await
                .map_err(|e| ErrorBody::internal(format!("balance history not read: {e}")))?
        }
        _ => Vec::new(),
    };
    let currency = s.gw.config().prices.currency.clone();
    ok(BalanceList {
        balances: balances.into_iter().map(|b| info(b, &currency)).collect(),
        history: history
            .into_iter()
            .map(|h| common::mgp::BalanceChange {
                amount_before: h.amount_before.to_string(),
                amount: h.amount.to_string(),
                created_us: h.created_us,
                created_by: h.created_by,
            })
            .collect(),
    })
}

fn amount(what: &str, text: &str) -> Result<Decimal, ErrorBody> {
    let negative = text.trim().starts_with('-');
    let d = config::parse_amount(text.trim().trim_start_matches('-'))
        .map_err(|e| ErrorBody::bad_request(format!("{what}: {e}")))?;
    Ok(if negative { -d } else { d })
}

/// `balance_add` and `balance_set`: the change is committed with its history row, then the
/// balance after it is the answer.
pub async fn change(
    s: &Server,
    user: &str,
    account: String,
    amount_text: &str,
    set: Option<Option<String>>,
) -> OpResult {
    if account.is_empty() {
        return Err(ErrorBody::bad_request("account must not be empty"));
    }
    let change = match set {
        None => BalanceChange::Add(amount("amount", amount_text)?),
        Some(limit) => BalanceChange::Set {
            amount: amount("amount", amount_text)?,
            postpaid_limit: limit
                .as_deref()
                .map(|l| amount("postpaid_limit", l))
                .transpose()?
                .map(|l| l.abs()),
        },
    };
    tracing::info!(operator = user, account, ?change, "balance changed");
    s.gw.store
        .commit(vec![Write::Balance {
            account: account.clone(),
            change,
            by: user.to_string(),
        }])
        .await
        .map_err(|e| ErrorBody::internal(format!("balance not changed: {e}")))?;
    show(s, Some(account), None).await
}

pub async fn report(
    s: &Server,
    account: Option<String>,
    from_us: Option<i64>,
    to_us: Option<i64>,
    by: Option<String>,
) -> OpResult {
    let by = by.unwrap_or_else(|| "hour".into());
    if !REPORT_BY.contains(&by.as_str()) {
        return Err(ErrorBody::bad_request(format!(
            "cannot report by `{by}`: use one of {}",
            REPORT_BY.join(", ")
        )));
    }
    const HOUR_US: i64 = 3_600_000_000;
    let query = SummaryQuery {
        account,
        from_hour: from_us.map(|t| t.div_euclid(HOUR_US)),
        // An hour that has begun before `to_us` counts.
        to_hour: to_us.map(|t| (t + HOUR_US - 1).div_euclid(HOUR_US)),
    };
    let rows =
        s.gw.store
            .summary(query)
            .await
            .map_err(|e| ErrorBody::internal(format!("summary not read: {e}")))?;
    ok(Report {
        rows: group(&rows, &by),
        by,
        currency: s.gw.config().prices.currency.clone(),
    })
}

/// A status that counts as sent well.
fn is_ok(status: &str) -> bool {
    matches!(status, "DELIVRD" | "DELIVERED" | "SENT" | "ACCEPTD")
}

fn key(row: &SummaryRow, by: &str) -> String {
    use chrono::TimeZone;
    let at = || chrono::Utc.timestamp_opt(row.hour * 3600, 0).single();
    match by {
        "hour" => at().map_or(row.hour.to_string(), |t| {
            t.format("%Y-%m-%d %H").to_string()
        }),
        "day" => at().map_or(row.hour.to_string(), |t| t.format("%Y-%m-%d").to_string()),
        "account" => row.account.clone(),
        "connector" => row.connector.clone(),
        _ => row.prefix.clone(),
    }
}

/// The summary rows summed per `by` group, in the group's order.
pub fn group(rows: &[SummaryRow], by: &str) -> Vec<ReportRow> {
    let mut sums: BTreeMap<String, (u64, u64, u64, u64, Decimal, Decimal)> = BTreeMap::new();
    for r in rows {
        let e = sums.entry(key(r, by)).or_default();
        e.0 += r.messages;
        e.1 += r.parts;
        if is_ok(&r.status) {
            e.2 += r.messages;
        } else {
            e.3 += r.messages;
        }
        e.4 += r.price;
        e.5 += r.cost;
    }
    sums.into_iter()
        .map(
            |(key, (messages, parts, ok, failed, price, cost))| ReportRow {
                key,
                messages,
                parts,
                ok,
                failed,
                price: price.normalize().to_string(),
                cost: cost.normalize().to_string(),
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn rows() -> Vec<SummaryRow> {
        let r = |account: &str, hour, prefix: &str, connector: &str, status: &str, n, price| {
            SummaryRow {
                account: account.into(),
                hour,
                prefix: prefix.into(),
                connector: connector.into(),
                status: status.into(),
                messages: n,
                parts: n + 1,
                price: price_of(price),
                cost: price_of(price) / Decimal::from(10),
            }
        };
        // 2026-12-01 09:00 UTC and the next two hours.
        let h = 1_796_115_600 / 3600;
        vec![
            r("acme", h, "46", "sim1", "DELIVRD", 10, "1.5"),
            r("acme", h, "46", "sim1", "UNDELIV", 2, "0.3"),
            r("acme", h + 1, "47", "sim2", "DELIVRD", 5, "0.25"),
            r("beta", h + 1, "46", "sim1", "REJECTED", 1, "0"),
            r("beta", h + 25, "46", "sim2", "SENT", 3, "0.45"),
        ]
    }

    fn price_of(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn lines(by: &str) -> Vec<String> {
        group(&rows(), by)
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {} {} {}",
                    r.key, r.messages, r.parts, r.ok, r.failed, r.price, r.cost
                )
            })
            .collect()
    }

    #[test]
    fn reports_sum_the_summary_by_each_grouping() {
        assert_eq!(
            lines("hour"),
            [
                "2026-12-01 09 12 14 10 2 1.8 0.18",
                "2026-12-01 10 6 8 5 1 0.25 0.025",
                "2026-12-02 10 3 4 3 0 0.45 0.045",
            ]
        );
        assert_eq!(
            lines("day"),
            [
                "2026-12-01 18 22 15 3 2.05 0.205",
                "2026-12-02 3 4 3 0 0.45 0.045"
            ]
        );
        assert_eq!(
            lines("account"),
            ["acme 17 20 15 2 2.05 0.205", "beta 4 6 3 1 0.45 0.045"]
        );
        assert_eq!(
            lines("connector"),
            ["sim1 13 16 10 3 1.8 0.18", "sim2 8 10 8 0 0.7 0.07"]
        );
        assert_eq!(
            lines("prefix"),
            ["46 16 20 13 3 2.25 0.225", "47 5 6 5 0 0.25 0.025"]
        );
    }

    /// What `report --by account --json` prints for this data set, exactly.
    #[test]
    fn the_report_answer_as_json() {
        let report = Report {
            rows: group(&rows(), "account"),
            by: "account".into(),
            currency: "EUR".into(),
        };
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"by":"account","currency":"EUR","rows":[{"key":"acme","messages":17,"parts":20,"ok":15,"failed":2,"price":"2.05","cost":"0.205"},{"key":"beta","messages":4,"parts":6,"ok":3,"failed":1,"price":"0.45","cost":"0.045"}]}"#
        );
    }
}

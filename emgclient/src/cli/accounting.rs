//! `balance show|history|add|set` and `report`: balances and the hourly summary, as a table, as CSV or
//! (with --json) as emgd's answer.

use super::args::BalanceCommand;
use super::out::{self, outln, Out};
use super::table::Table;
use crate::client::Client;
use crate::exit::Failure;
use common::mgp::{BalanceList, Op, Report};

pub async fn balance(c: &mut Client, out: &Out, cmd: BalanceCommand) -> Result<(), Failure> {
    // `show` of one account lists its latest changes too; add and set print the result only.
    let with_history = matches!(cmd, BalanceCommand::Show { .. });
    let history_only = matches!(cmd, BalanceCommand::History { .. });
    let op = match cmd {
        BalanceCommand::Show { account } => Op::BalanceShow {
            account,
            history: None,
        },
        BalanceCommand::History { account, limit } => Op::BalanceShow {
            account: Some(account),
            history: Some(limit),
        },
        BalanceCommand::Add { account, amount } => Op::BalanceAdd { account, amount },
        BalanceCommand::Set {
            account,
            amount,
            postpaid_limit,
        } => Op::BalanceSet {
            account,
            amount,
            postpaid_limit,
        },
    };
    let (v, list) = c.call_as::<BalanceList>(op).await?;
    if out.raw(&v)? {
        return Ok(());
    }
    if history_only {
        return history(&list);
    }
    let mut t = Table::new(&["ACCOUNT", ">BALANCE", "CURRENCY", "KIND", ">POSTPAID LIMIT"]);
    for b in &list.balances {
        t.row(vec![
            b.account.clone(),
            b.balance.clone(),
            b.currency.clone(),
            b.kind.clone(),
            b.postpaid_limit.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    t.print()?;
    if list.history.is_empty() || !with_history {
        return Ok(());
    }
    outln!("")?;
    history(&list)
}

fn history(list: &BalanceList) -> Result<(), Failure> {
    let mut h = Table::new(&["CHANGED", ">BEFORE", ">CHANGE", "BY"]);
    for c in &list.history {
        h.row(vec![
            crate::format::time_us(c.created_us),
            c.amount_before.clone(),
            c.amount.clone(),
            c.created_by.clone(),
        ]);
    }
    h.print()
}

pub async fn report(c: &mut Client, out: &Out, op: Op, csv: bool) -> Result<(), Failure> {
    let (v, report) = c.call_as::<Report>(op).await?;
    if out.raw(&v)? {
        return Ok(());
    }
    if csv {
        return out::text(&to_csv(&report));
    }
    let mut t = Table::new(&[
        "KEY",
        ">MESSAGES",
        ">PARTS",
        ">OK",
        ">FAILED",
        ">PRICE",
        ">COST",
    ]);
    for r in &report.rows {
        t.row(vec![
            r.key.clone(),
            r.messages.to_string(),
            r.parts.to_string(),
            r.ok.to_string(),
            r.failed.to_string(),
            r.price.clone(),
            r.cost.clone(),
        ]);
    }
    t.print()?;
    outln!("(amounts in {})", report.currency)
}

/// RFC 4180 CSV: a header, one line per row; a field with a comma or quote is quoted.
pub fn to_csv(report: &Report) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = format!(
        "{},messages,parts,ok,failed,price,cost,currency\n",
        report.by
    );
    for r in &report.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            field(&r.key),
            r.messages,
            r.parts,
            r.ok,
            r.failed,
            r.price,
            r.cost,
            field(&report.currency)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::mgp::ReportRow;

    #[test]
    fn csv_has_a_header_and_quotes_what_needs_it() {
        let report = Report {
            by: "account".into(),
            currency: "EUR".into(),
            rows: vec![
                ReportRow {
                    key: "acme".into(),
                    messages: 17,
                    parts: 20,
                    ok: 15,
                    failed: 2,
                    price: "2.05".into(),
                    cost: "0.205".into(),
                },
                ReportRow {
                    key: "a,\"b\"".into(),
                    messages: 1,
                    parts: 1,
                    ok: 0,
                    failed: 1,
                    price: "0".into(),
                    cost: "0".into(),
                },
            ],
        };
        assert_eq!(
            to_csv(&report),
            "account,messages,parts,ok,failed,price,cost,currency\n\
             acme,17,20,15,2,2.05,0.205,EUR\n\
             \"a,\"\"b\"\"\",1,1,0,1,0,0,EUR\n"
        );
    }
}

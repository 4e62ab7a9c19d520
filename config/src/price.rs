//! The price table: `[[price]]` entries giving the price (what the sender is charged, EMG's
//! CHARGE) and the cost (what sending costs, CHARGE_COST) of the messages they match, and the
//! top-level `currency` both are in.
//!
//! Amounts are decimals read from strings (`"0.05"`) or integers, never from TOML floats:
//! `0.1` as a float is not one tenth, and money must add up exactly. They carry at most
//! [`AMOUNT_DECIMALS`] decimals, so a store can keep sums as integers of that unit.

use rust_decimal::Decimal;
use toml::de::DeValue;

use crate::context::Ctx;
use crate::values::{self, Sp};

/// Decimals an amount may have (the store counts in millionths).
pub const AMOUNT_DECIMALS: u32 = 6;
/// `currency` when the file names none.
pub const DEFAULT_CURRENCY: &str = "EUR";

const PRICE_KEYWORDS: &[&str] = &[
    "prefix", "account", "from", "to", "price", "cost", "per_part",
];

/// One price-table entry; absent criteria match everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceEntry {
    /// Destination address prefix (digits, optionally starting with `+`).
    pub prefix: Option<String>,
    /// Sending account.
    pub account: Option<String>,
    /// Connector the message was received on.
    pub from: Option<String>,
    /// Connector the message leaves on (a real connector, after routing).
    pub to: Option<String>,
    /// Charged to the sender, per part or per message (`per_part`).
    pub price: Decimal,
    /// What sending costs, likewise.
    pub cost: Decimal,
    /// A long message is charged once per part it is sent as (default) or once.
    pub per_part: bool,
}

/// Which failed messages give their charge back to the account's balance (`refund_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundPolicy {
    /// Never.
    None,
    /// Those the next hop never took: refused submits, expired in queue, refused on send,
    /// cancelled while queued (the default).
    Rejected,
    /// Every message that ends failed, receipts saying UNDELIV or EXPIRED included.
    Failed,
}

/// `summary_prefix_length` when the file names none: the hourly summary groups destinations
/// by their first two digits.
pub const DEFAULT_SUMMARY_PREFIX_LENGTH: usize = 2;

/// The price table in file order, the currency of its amounts, and how charges are refunded
/// and summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceTable {
    /// ISO 4217 code, three capital letters.
    pub currency: String,
    pub entries: Vec<PriceEntry>,
    pub refund: RefundPolicy,
    /// Digits of the destination (after a `+`) the hourly summary groups by.
    pub summary_prefix_length: usize,
}

impl Default for PriceTable {
    fn default() -> PriceTable {
        PriceTable {
            currency: DEFAULT_CURRENCY.to_string(),
            entries: Vec::new(),
            refund: RefundPolicy::Rejected,
            summary_prefix_length: DEFAULT_SUMMARY_PREFIX_LENGTH,
        }
    }
}

/// Reads the top-level `refund_policy` value.
pub(crate) fn read_refund(ctx: &mut Ctx<'_>, v: &values::Val<'_>) -> Option<RefundPolicy> {
    let s = values::string(&mut ctx.sink, "refund_policy", v)?;
    match s.v.as_str() {
        "none" => Some(RefundPolicy::None),
        "rejected" => Some(RefundPolicy::Rejected),
        "failed" => Some(RefundPolicy::Failed),
        other => {
            let hint = crate::suggest::hint(other, ["none", "rejected", "failed"]);
            ctx.sink.at(
                &s.span,
                "refund_policy",
                format!(
                    "unknown refund policy `{other}`{hint} (expected none, rejected or failed)"
                ),
            );
            None
        }
    }
}

/// An entry as read, with the connector names' positions for the cross-check.
pub(crate) struct RawPrice {
    pub(crate) entry: PriceEntry,
    pub(crate) from: Option<Sp<String>>,
    pub(crate) to: Option<Sp<String>>,
}

/// Reads the top-level `currency` value.
pub(crate) fn read_currency(ctx: &mut Ctx<'_>, v: &values::Val<'_>) -> Option<String> {
    let s = values::string(&mut ctx.sink, "currency", v)?;
    if s.v.len() == 3 && s.v.bytes().all(|b| b.is_ascii_uppercase()) {
        Some(s.v)
    } else {
        ctx.sink.at(
            &s.span,
            "currency",
            format!(
                "`{}` is not a currency code: write three capital letters (ISO 4217, e.g. EUR)",
                s.v
            ),
        );
        None
    }
}

/// An amount: a decimal string or an integer, not negative, at most [`AMOUNT_DECIMALS`]
/// decimals. Also used for balances and postpaid limits.
pub fn parse_amount(text: &str) -> Result<Decimal, String> {
    let d: Decimal = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a decimal amount (write it as \"0.05\")"))?;
    if d.scale() > AMOUNT_DECIMALS && d.normalize().scale() > AMOUNT_DECIMALS {
        return Err(format!("`{text}` has more than {AMOUNT_DECIMALS} decimals"));
    }
    if d.abs() > Decimal::from(1_000_000_000_000i64) {
        return Err(format!("`{text}` is too large (at most 1000000000000)"));
    }
    Ok(d.normalize())
}

fn amount(ctx: &mut Ctx<'_>, kw: &str, v: &values::Val<'_>) -> Option<Decimal> {
    let text = match v.get_ref() {
        DeValue::String(s) => s.to_string(),
        DeValue::Integer(i) => i.as_str().to_string(),
        DeValue::Float(f) => {
            ctx.sink.at(
                &v.span(),
                kw,
                format!(
                    "write the amount as a string (\"{}\"): a float is not exact",
                    f.as_str()
                ),
            );
            return None;
        }
        _ => {
            ctx.sink
                .at(&v.span(), kw, "expected a decimal string such as \"0.05\"");
            return None;
        }
    };
    match parse_amount(&text) {
        Ok(d) if d.is_sign_negative() && !d.is_zero() => {
            ctx.sink.at(&v.span(), kw, "an amount must not be negative");
            None
        }
        Ok(d) => Some(d),
        Err(msg) => {
            ctx.sink.at(&v.span(), kw, msg);
            None
        }
    }
}

/// Reads the `[[price]]` array of tables.
pub(crate) fn read(ctx: &mut Ctx<'_>, v: &values::Val<'_>, out: &mut Vec<RawPrice>) {
    let DeValue::Array(items) = v.get_ref() else {
        ctx.sink.at(
            &v.span(),
            "price",
            "expected an array of tables (write each entry as [[price]])",
        );
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("price[{i}]");
        let Some(t) = values::table(&mut ctx.sink, &prefix, item) else {
            continue;
        };
        let mut raw = RawPrice {
            entry: PriceEntry {
                prefix: None,
                account: None,
                from: None,
                to: None,
                price: Decimal::ZERO,
                cost: Decimal::ZERO,
                per_part: true,
            },
            from: None,
            to: None,
        };
        let e = &mut raw.entry;
        for (key, kw, v) in values::known_keys(&mut ctx.sink, &prefix, t, PRICE_KEYWORDS) {
            match key {
                "prefix" => {
                    if let Some(s) = values::string(&mut ctx.sink, &kw, v) {
                        match values::check_prefix(&s.v) {
                            Ok(()) => e.prefix = Some(s.v),
                            Err(msg) => ctx.sink.at(&s.span, &kw, msg),
                        }
                    }
                }
                "account" => e.account = values::string(&mut ctx.sink, &kw, v).map(|s| s.v),
                "from" => raw.from = values::string(&mut ctx.sink, &kw, v),
                "to" => raw.to = values::string(&mut ctx.sink, &kw, v),
                "price" => e.price = amount(ctx, &kw, v).unwrap_or_default(),
                "cost" => e.cost = amount(ctx, &kw, v).unwrap_or_default(),
                "per_part" => {
                    e.per_part = values::boolean(&mut ctx.sink, &kw, v).unwrap_or(true);
                }
                _ => {}
            }
        }
        if !t.contains_key("price") && !t.contains_key("cost") {
            ctx.sink.at(
                &item.span(),
                &format!("{prefix}.price"),
                "an entry needs a `price`, a `cost` or both",
            );
        }
        e.from = raw.from.as_ref().map(|s| s.v.clone());
        e.to = raw.to.as_ref().map(|s| s.v.clone());
        out.push(raw);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn errors(text: &str) -> Vec<String> {
        match crate::parse_str(text, Path::new("t.toml")) {
            Ok(_) => Vec::new(),
            Err(e) => e.diagnostics.iter().map(ToString::to_string).collect(),
        }
    }

    const CONNECTORS: &str = "[connector.out]\ntype = \"outgoing\"\nprotocol = \"sim\"\n";

    #[test]
    fn reads_entries_in_file_order_with_defaults() {
        let text = format!(
            "currency = \"SEK\"\n{CONNECTORS}[[price]]\nprice = \"0.05\"\n\
             [[price]]\nprefix = \"+46\"\nto = \"out\"\nprice = 1\ncost = \"0.004500\"\nper_part = false\n"
        );
        let cfg = crate::parse_str(&text, Path::new("t.toml")).expect("valid");
        let t = &cfg.prices;
        assert_eq!(t.currency, "SEK");
        assert_eq!(t.entries.len(), 2);
        assert_eq!(t.entries[0].price.to_string(), "0.05");
        assert!(t.entries[0].per_part);
        assert_eq!(t.entries[1].prefix.as_deref(), Some("+46"));
        assert_eq!(t.entries[1].to.as_deref(), Some("out"));
        assert_eq!(t.entries[1].cost.to_string(), "0.0045");
        assert!(!t.entries[1].per_part);
    }

    #[test]
    fn every_bad_value_is_reported_where_it_is_written() {
        let text = format!(
            "currency = \"euro\"\n{CONNECTORS}[[price]]\nprice = 0.05\n\
             [[price]]\nprice = \"-1\"\ncost = \"0.0000001\"\nto = \"ot\"\n\
             [[price]]\nprefix = \"46x\"\nprise = \"1\"\n"
        );
        assert_eq!(
            errors(&text),
            [
                "t.toml:1:12: currency: `euro` is not a currency code: write three capital letters (ISO 4217, e.g. EUR)",
                "t.toml:6:9: price[0].price: write the amount as a string (\"0.05\"): a float is not exact",
                "t.toml:8:9: price[1].price: an amount must not be negative",
                "t.toml:9:8: price[1].cost: `0.0000001` has more than 6 decimals",
                "t.toml:10:6: price[1].to: unknown connector `ot`; did you mean `out`?",
                "t.toml:11:1: price[2].price: an entry needs a `price`, a `cost` or both",
                "t.toml:12:10: price[2].prefix: prefix `46x` must be digits, optionally starting with `+`",
                "t.toml:13:1: price[2].prise: unknown keyword; did you mean `price`?",
            ]
        );
    }
}

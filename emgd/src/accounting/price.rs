//! Tags a routed message with its price and cost from the price table.
//!
//! Matching is the routing table's: among the entries whose criteria all hold (destination
//! prefix, sending account, receiving connector, sending connector) the most specific wins:
//! the longest prefix first, then an entry naming the account, then one naming the receiving
//! connector, then one naming the sending connector; a tie goes to the entry written first.
//! A price a plugin set stays: the plugin knows better than the table.

use common::message::Message;
use config::{PriceEntry, PriceTable};
use rust_decimal::Decimal;

/// How specific a matching entry is: prefix length, then account, receiving connector,
/// sending connector named.
type Specificity = (usize, bool, bool, bool);

/// The entry that prices `message`, which leaves on `message.target`.
pub fn lookup<'t>(table: &'t PriceTable, message: &Message) -> Option<&'t PriceEntry> {
    let dest = strip_plus(&message.dest.addr);
    let account = message
        .origin
        .account
        .as_deref()
        .or(message.origin.user.as_deref());
    let mut best: Option<(Specificity, &PriceEntry)> = None;
    for entry in &table.entries {
        let prefix = entry.prefix.as_deref().map(strip_plus).unwrap_or("");
        let holds = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| Some(w) == have)
        };
        if !dest.starts_with(prefix)
            || !holds(&entry.account, account)
            || !holds(&entry.from, Some(&message.origin.connector))
            || !holds(&entry.to, Some(&message.target))
        {
            continue;
        }
        let score = (
            prefix.len(),
            entry.account.is_some(),
            entry.from.is_some(),
            entry.to.is_some(),
        );
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, entry));
        }
    }
    best.map(|(_, e)| e)
}

/// Sets `message.price` and `message.cost` from the table unless a plugin set them already.
/// Returns whether an entry matched.
pub fn tag(table: &PriceTable, message: &mut Message) -> bool {
    if message.price.is_some() || message.cost.is_some() {
        return false;
    }
    let Some(entry) = lookup(table, message) else {
        return false;
    };
    let times = if entry.per_part {
        Decimal::from(message.parts())
    } else {
        Decimal::ONE
    };
    message.price = Some((entry.price * times).normalize());
    message.cost = Some((entry.cost * times).normalize());
    true
}

fn strip_plus(addr: &str) -> &str {
    addr.strip_prefix('+').unwrap_or(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::message::{Address, Origin};
    use std::path::Path;

    const CONFIG: &str = r#"
[connector.in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:2775"
[connector.in2]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:2776"
[connector.a]
type = "outgoing"
protocol = "sim"
[connector.b]
type = "outgoing"
protocol = "sim"

[[price]]
price = "0.10"
cost = "0.01"

[[price]]
prefix = "46"
price = "0.20"

[[price]]
prefix = "+4670"
price = "0.30"

[[price]]
prefix = "4670"
to = "b"
price = "0.31"

[[price]]
prefix = "4670"
from = "in2"
price = "0.32"

[[price]]
prefix = "4670"
account = "acme"
price = "0.33"

[[price]]
prefix = "4670"
account = "acme"
price = "9.99"

[[price]]
prefix = "47"
price = "0.05"
cost = "0.02"
per_part = false
"#;

    fn table() -> PriceTable {
        config::parse_str(CONFIG, Path::new("t.toml"))
            .expect("valid config")
            .prices
    }

    fn msg(dest: &str, from: &str, account: Option<&str>, to: &str) -> Message {
        Message {
            dest: Address::new(dest),
            origin: Origin {
                connector: from.into(),
                user: Some("someone".into()),
                account: account.map(str::to_string),
                ..Default::default()
            },
            target: to.into(),
            body: b"hello".to_vec(),
            ..Default::default()
        }
    }

    fn price(m: &Message) -> String {
        let t = table();
        lookup(&t, m)
            .map(|e| e.price.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn the_most_specific_entry_wins_and_ties_go_to_the_first_written() {
        let cases = [
            // (dest, receiving, account, sending, expected price)
            ("3312345", "in", None, "a", "0.1"),
            ("4612345", "in", None, "a", "0.2"),
            ("+4612345", "in", None, "a", "0.2"),
            ("46701234", "in", None, "a", "0.3"),
            ("46701234", "in", None, "b", "0.31"),
            ("46701234", "in2", None, "b", "0.32"),
            ("46701234", "in2", Some("acme"), "b", "0.33"),
            ("46701234", "in", Some("acme"), "a", "0.33"),
            ("4612345", "in", Some("acme"), "a", "0.2"),
        ];
        for (dest, from, account, to, want) in cases {
            let m = msg(dest, from, account, to);
            assert_eq!(price(&m), want, "{dest} from {from} ({account:?}) via {to}");
        }
    }

    #[test]
    fn the_user_is_the_account_when_none_is_named() {
        let mut m = msg("46701234", "in", None, "a");
        m.origin.user = Some("acme".into());
        assert_eq!(price(&m), "0.33");
    }

    #[test]
    fn long_messages_are_charged_per_part_unless_the_entry_says_once() {
        let t = table();
        let mut long = msg("4612345", "in", None, "a");
        long.body = vec![b'x'; 400]; // 3 parts of 153 septets
        assert_eq!(long.parts(), 3);
        assert!(tag(&t, &mut long));
        assert_eq!(long.price.unwrap().to_string(), "0.6");
        let mut once = msg("4712345", "in", None, "a");
        once.body = vec![b'x'; 400];
        assert!(tag(&t, &mut once));
        assert_eq!(
            (
                once.price.unwrap().to_string(),
                once.cost.unwrap().to_string()
            ),
            ("0.05".into(), "0.02".into())
        );
        let mut part = msg("4612345", "in", None, "a");
        part.esm_class = 0x40;
        assert_eq!(part.parts(), 1);
    }

    #[test]
    fn a_price_a_plugin_set_stays_and_no_entry_leaves_the_message_untagged() {
        let t = table();
        let mut m = msg("4612345", "in", None, "a");
        m.price = Some(Decimal::new(7, 0));
        assert!(!tag(&t, &mut m));
        assert_eq!(m.price.unwrap().to_string(), "7");
        let empty = PriceTable::default();
        let mut m = msg("4612345", "in", None, "a");
        assert!(!tag(&empty, &mut m));
        assert_eq!((m.price, m.cost), (None, None));
    }
}

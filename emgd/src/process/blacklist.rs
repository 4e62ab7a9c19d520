//! The system-wide blacklist, checked on every message received (after the receiving
//! connector's address rewriting, so entries are written in the gateway's own format).

use common::message::Message;
use config::{AddressField, Blacklist, BlacklistAction};

/// One listed address found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub field: AddressField,
    pub address: String,
    pub action: BlacklistAction,
}

/// Every listed address of `m`: the source first, then the destination.
pub fn check(list: &Blacklist, m: &Message) -> Vec<Hit> {
    [
        (AddressField::Source, &m.source.addr),
        (AddressField::Dest, &m.dest.addr),
    ]
    .into_iter()
    .filter_map(|(field, address)| {
        list.get(field, address).map(|action| Hit {
            field,
            address: address.clone(),
            action,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::message::Address;
    use std::path::Path;

    #[test]
    fn reject_log_source_and_dest() {
        let list = Blacklist::parse(
            "4670111\tREJECT\n4670222\tLOG\n4670333\tREJECT\tDESTADDR\n4670444\tLOG\tDESTADDR\n",
            Path::new("bl"),
        )
        .unwrap();
        let m = |from: &str, to: &str| Message {
            source: Address::new(from),
            dest: Address::new(to),
            ..Default::default()
        };
        let hit = |field, address: &str, action| Hit {
            field,
            address: address.into(),
            action,
        };
        use AddressField::{Dest, Source};
        use BlacklistAction::{Log, Reject};
        let cases = [
            // (source, dest, hits)
            ("4670111", "4670999", vec![hit(Source, "4670111", Reject)]),
            ("4670222", "4670999", vec![hit(Source, "4670222", Log)]),
            ("4670999", "4670333", vec![hit(Dest, "4670333", Reject)]),
            ("4670999", "4670444", vec![hit(Dest, "4670444", Log)]),
            // SOURCEADDR entries do not match a destination, nor DESTADDR ones a source.
            ("4670999", "4670111", vec![]),
            ("4670333", "4670999", vec![]),
            (
                "4670222",
                "4670333",
                vec![hit(Source, "4670222", Log), hit(Dest, "4670333", Reject)],
            ),
        ];
        for (from, to, hits) in cases {
            assert_eq!(check(&list, &m(from, to)), hits, "{from} -> {to}");
        }
    }
}

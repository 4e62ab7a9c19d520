//! CMR, concatenated message routing: the parts of one long message that a client sent as
//! separate short messages all go to the connector the first part was routed to, even when
//! routing would pick another (round robin in a group, a member going down). The choice is
//! remembered for `cmrexpire` seconds, as in EMG.

use crate::queue::PartsKey;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Remembered routing decisions, each until its deadline.
#[derive(Debug, Default)]
pub struct Cmr {
    routes: Mutex<HashMap<PartsKey, (String, Instant)>>,
}

impl Cmr {
    /// The connector an earlier part of this message went to, if still remembered.
    pub fn lookup(&self, key: &PartsKey, now: Instant) -> Option<String> {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        routes
            .get(key)
            .filter(|(_, until)| *until > now)
            .map(|(c, _)| c.clone())
    }

    /// Remember that this message's parts go to `connector` for `ttl`; forgets expired
    /// decisions on the way.
    pub fn remember(&self, key: PartsKey, connector: &str, now: Instant, ttl: Duration) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if routes.len() >= 1024 {
            routes.retain(|_, (_, until)| *until > now);
        }
        routes.insert(key, (connector.to_string(), now + ttl));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::gsm::{Concat, Udh};
    use common::message::{Address, Message, Origin};

    fn part(reference: u16, seq: u8) -> Message {
        let mut body = Udh::with_concat(Concat {
            reference,
            total: 3,
            seq,
            wide_ref: false,
        })
        .encode()
        .unwrap();
        body.extend_from_slice(b"text");
        Message {
            source: Address::new("461"),
            dest: Address::new("462"),
            esm_class: 0x40,
            body,
            origin: Origin {
                connector: "smpp-in".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn parts_of_one_message_share_a_key_and_follow_the_first() {
        let cmr = Cmr::default();
        let now = Instant::now();
        let ttl = Duration::from_secs(60);
        let first = PartsKey::of(&part(7, 1)).unwrap();
        assert_eq!(PartsKey::of(&part(7, 3)), Some(first.clone()));
        assert_ne!(PartsKey::of(&part(8, 1)), Some(first.clone()));
        assert_eq!(PartsKey::of(&Message::default()), None, "not a part");
        assert_eq!(cmr.lookup(&first, now), None);
        cmr.remember(first.clone(), "smsc2", now, ttl);
        assert_eq!(cmr.lookup(&first, now), Some("smsc2".into()));
        assert_eq!(
            cmr.lookup(&first, now + ttl),
            None,
            "forgotten after cmrexpire"
        );
    }
}

//! Chooses the connector a message leaves on.
//!
//! Order of precedence, as in EMG: the receiving connector's `route` keyword, then the routing
//! table. Among table entries that match (destination prefix, sending account, receiving
//! connector), the most specific wins: the longest prefix first, then an entry naming the
//! account, then one naming the receiving connector; a tie goes to the entry written first.
//! A target that is a group is served round robin, skipping members that are down.

use common::message::Message;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// No entry matched the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no route for destination {dest:?} from connector {connector} (account {account:?})")]
pub struct NoRoute {
    pub dest: String,
    pub connector: String,
    pub account: Option<String>,
}

#[derive(Debug)]
struct Group {
    members: Vec<String>,
    next: AtomicUsize,
}

/// The account a route's `account` matches: the message's, else its user's.
fn account_of(message: &Message) -> Option<&str> {
    message
        .origin
        .account
        .as_deref()
        .or(message.origin.user.as_deref())
}

/// Where [`Router::routed`] sends a message, and which entry said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub target: String,
    /// The `[[route]]` entry's name (`name`, else `FILE:LINE`), or `connector.NAME.route` for
    /// a receiving connector's own `route`.
    pub entry: String,
}

/// The entry name of connector `name`'s `route` keyword.
fn forced_entry(name: &str) -> String {
    format!("connector.{name}.route")
}

/// The routing table, built from the configuration (and rebuilt on reload).
#[derive(Debug)]
pub struct Router {
    routes: Vec<config::Route>,
    /// Some route names the user its messages are for.
    names_users: bool,
    forced: HashMap<String, String>,
    groups: HashMap<String, Group>,
}

impl Router {
    pub fn new(cfg: &config::Config) -> Router {
        let forced = cfg
            .connectors
            .values()
            .filter_map(|c| c.route.clone().map(|r| (c.name.clone(), r)))
            .collect();
        let groups = cfg
            .groups
            .values()
            .map(|g| {
                let group = Group {
                    members: g.members.clone(),
                    next: AtomicUsize::new(0),
                };
                (g.name.clone(), group)
            })
            .collect();
        Router {
            names_users: cfg.routes.iter().any(|r| r.user.is_some()),
            routes: cfg.routes.clone(),
            forced,
            groups,
        }
    }

    /// The connector `message` should be queued on. `is_up` tells whether a connector can take
    /// traffic now (not in ERROR, DEAD or force-closed).
    pub fn route(
        &self,
        message: &Message,
        is_up: impl Fn(&str) -> bool,
    ) -> Result<String, NoRoute> {
        self.routed(message, is_up).map(|r| r.target)
    }

    /// [`Router::route`], with the name of the entry that chose the connector.
    pub fn routed(
        &self,
        message: &Message,
        is_up: impl Fn(&str) -> bool,
    ) -> Result<Routed, NoRoute> {
        self.pick(message, &is_up, true)
    }

    /// The connector [`Router::route`] would choose for `message` now, without taking a
    /// group's turn: for price queries (`/rate`), which send nothing.
    pub fn peek(&self, message: &Message, is_up: impl Fn(&str) -> bool) -> Result<String, NoRoute> {
        self.pick(message, &is_up, false).map(|r| r.target)
    }

    fn pick(
        &self,
        message: &Message,
        is_up: &impl Fn(&str) -> bool,
        take_turn: bool,
    ) -> Result<Routed, NoRoute> {
        if let Some(target) = self.forced.get(&message.origin.connector) {
            return Ok(Routed {
                target: self.resolve(target, is_up, take_turn),
                entry: forced_entry(&message.origin.connector),
            });
        }
        let best = self.best(message);
        match best {
            Some(route) => Ok(Routed {
                target: self.resolve(&route.to, is_up, take_turn),
                entry: route.name.clone(),
            }),
            None => Err(NoRoute {
                dest: message.dest.addr.clone(),
                connector: message.origin.connector.clone(),
                account: account_of(message).map(str::to_string),
            }),
        }
    }

    /// The name of the entry that routes `message` (without choosing a group's member): for
    /// the later parts of a long message, which follow the first part's connector.
    pub fn entry(&self, message: &Message) -> Option<String> {
        if self.forced.contains_key(&message.origin.connector) {
            return Some(forced_entry(&message.origin.connector));
        }
        self.best(message).map(|r| r.name.clone())
    }

    /// The user the route `message` takes names (`user`): only its sessions take it, and an
    /// incoming HTTP connector pushes it to that user's `mo_url`. `None` for a forced route.
    pub fn user_for(&self, message: &Message) -> Option<String> {
        if !self.names_users || self.forced.contains_key(&message.origin.connector) {
            return None;
        }
        self.best(message).and_then(|r| r.user.clone())
    }

    /// The most specific route for `message`: longest prefix, then account, then `from`.
    fn best(&self, message: &Message) -> Option<&config::Route> {
        let dest = strip_plus(&message.dest.addr);
        let account = account_of(message);
        let mut best: Option<((usize, bool, bool), &config::Route)> = None;
        for route in &self.routes {
            let prefix = route.prefix.as_deref().map(strip_plus).unwrap_or("");
            if !dest.starts_with(prefix) {
                continue;
            }
            if route.account.is_some() && route.account.as_deref() != account {
                continue;
            }
            if route.from.is_some() && route.from.as_deref() != Some(&message.origin.connector) {
                continue;
            }
            let score = (prefix.len(), route.account.is_some(), route.from.is_some());
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, route));
            }
        }
        best.map(|(_, route)| route)
    }

    /// For a name a plugin forced: a group's next member that is up (as [`Router::route`]
    /// picks them); `None` when `name` is no group.
    pub fn group_member(&self, name: &str, is_up: impl Fn(&str) -> bool) -> Option<String> {
        self.groups
            .contains_key(name)
            .then(|| self.resolve(name, &is_up, true))
    }

    /// A connector name stays as it is; a group picks its next member that is up (or, when
    /// all are down, its next member anyway: the message waits in that queue), taking the
    /// turn when `take_turn`.
    fn resolve(&self, target: &str, is_up: &impl Fn(&str) -> bool, take_turn: bool) -> String {
        let Some(group) = self.groups.get(target) else {
            return target.to_string();
        };
        let n = group.members.len();
        if n == 0 {
            return target.to_string();
        }
        let start = if take_turn {
            group.next.fetch_add(1, Ordering::Relaxed)
        } else {
            group.next.load(Ordering::Relaxed)
        };
        for step in 0..n {
            let member = &group.members[(start + step) % n];
            if is_up(member) {
                if take_turn && step > 0 {
                    group.next.fetch_add(step, Ordering::Relaxed);
                }
                return member.clone();
            }
        }
        group.members[start % n].clone()
    }
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

[connector.forced-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:2776"
route = "c"

[connector.a]
type = "outgoing"
protocol = "sim"
[connector.b]
type = "outgoing"
protocol = "sim"
[connector.c]
type = "outgoing"
protocol = "sim"

[user.alice]
password = "x"

[group.ab]
members = ["a", "b"]

[[route]]
to = "c"

[[route]]
prefix = "46"
to = "ab"

[[route]]
prefix = "4670"
to = "a"

[[route]]
prefix = "4670"
account = "alice"
to = "b"

[[route]]
prefix = "4670"
from = "in"
to = "c"
"#;

    fn router() -> Router {
        Router::new(&config::parse_str(CONFIG, Path::new("test.toml")).expect("valid config"))
    }

    fn msg(dest: &str, connector: &str, user: Option<&str>) -> Message {
        Message {
            dest: Address::new(dest),
            origin: Origin {
                connector: connector.into(),
                user: user.map(str::to_string),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn most_specific_entry_wins() {
        let r = router();
        let up = |_: &str| true;
        assert_eq!(
            r.route(&msg("1555", "in", None), up).unwrap(),
            "c",
            "catch-all"
        );
        assert_eq!(
            r.route(&msg("4670123", "x", None), up).unwrap(),
            "a",
            "longest prefix"
        );
        assert_eq!(
            r.route(&msg("+4670123", "in", Some("alice")), up).unwrap(),
            "b",
            "account beats connector"
        );
        assert_eq!(
            r.route(&msg("4670123", "in", None), up).unwrap(),
            "c",
            "connector match"
        );
        assert_eq!(
            r.route(&msg("4670", "forced-in", Some("alice")), up)
                .unwrap(),
            "c",
            "forced route"
        );
    }

    #[test]
    fn the_entry_that_matched_is_named() {
        let cfg = CONFIG.replace(
            "prefix = \"4670\"\naccount",
            "name = \"alice-se\"\nprefix = \"4670\"\naccount",
        );
        let r = Router::new(&config::parse_str(&cfg, Path::new("conf/test.toml")).unwrap());
        let up = |_: &str| true;
        let entry = |m: &Message| r.routed(m, up).unwrap().entry;
        assert_eq!(entry(&msg("1555", "in", None)), "test.toml:29", "catch-all");
        assert_eq!(entry(&msg("4670123", "x", None)), "test.toml:36");
        assert_eq!(entry(&msg("4670123", "in", Some("alice"))), "alice-se");
        assert_eq!(
            entry(&msg("4670", "forced-in", None)),
            "connector.forced-in.route"
        );
        assert_eq!(
            r.entry(&msg("4612", "x", None)).as_deref(),
            Some("test.toml:32"),
            "a group's entry, without taking a turn"
        );
    }

    #[test]
    fn groups_round_robin_and_skip_down_members() {
        let r = router();
        let picks: Vec<String> = (0..4)
            .map(|_| r.route(&msg("4612", "x", None), |_| true).unwrap())
            .collect();
        assert_eq!(picks, ["a", "b", "a", "b"]);
        let only_b = |c: &str| c == "b";
        for _ in 0..3 {
            assert_eq!(r.route(&msg("4612", "x", None), only_b).unwrap(), "b");
        }
    }

    #[test]
    fn a_peek_names_the_next_member_without_taking_its_turn() {
        let r = router();
        let m = msg("4612", "x", None);
        for _ in 0..3 {
            assert_eq!(r.peek(&m, |_| true).unwrap(), "a");
        }
        assert_eq!(r.peek(&m, |c| c == "b").unwrap(), "b");
        assert_eq!(r.route(&m, |_| true).unwrap(), "a");
        assert_eq!(r.peek(&m, |_| true).unwrap(), "b");
        assert_eq!(r.route(&m, |_| true).unwrap(), "b");
    }

    #[test]
    fn no_route_is_an_error() {
        let cfg = config::parse_str(
            "[connector.a]\ntype = \"outgoing\"\nprotocol = \"sim\"\n[[route]]\nprefix = \"46\"\nto = \"a\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let err = Router::new(&cfg)
            .route(&msg("4412", "in", None), |_| true)
            .unwrap_err();
        assert_eq!(err.dest, "4412");
    }
}

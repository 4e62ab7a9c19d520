//! Routes must lead somewhere that can deliver: an incoming HTTP connector pushes the MO
//! messages routed to it to the `mo_url` of the user the route names (`user`), or else to
//! its own `mo_url`; with neither, `--check-config` refuses the route at its `to`. A route's
//! `user` must name a `[user.NAME]`.

use crate::context::Ctx;
use crate::kind::{Direction, Protocol};
use crate::model::Connector;
use crate::suggest;
use crate::values::Sp;
use std::collections::BTreeMap;

/// What is routed where, as the file says it.
pub(crate) struct Routing<'a> {
    /// Each `[[route]]`: its `to` and `user`.
    pub routes: Vec<(&'a Sp<String>, Option<&'a Sp<String>>)>,
    /// Each real connector's own `route`.
    pub forced: Vec<&'a Sp<String>>,
    /// The groups' members.
    pub groups: BTreeMap<&'a str, Vec<&'a str>>,
    /// The users, and whether each has a `mo_url`.
    pub users: BTreeMap<&'a str, bool>,
}

pub(crate) fn check(
    ctx: &mut Ctx<'_>,
    routing: &Routing<'_>,
    connectors: &BTreeMap<String, Connector>,
) {
    let user_url = |name: &str| routing.users.get(name).copied().unwrap_or(false);
    let cannot = |name: &str, user: Option<&str>| {
        connectors.get(name).is_some_and(|c| {
            (c.protocol, c.direction) == (Protocol::Http, Direction::Incoming)
                && c.http.mo_url.is_none()
                && !user.is_some_and(user_url)
        })
    };
    // `on_route`: a [[route]], which may name a user; else a connector's own `route`.
    let mut check = |to: &Sp<String>, user: Option<&str>, on_route: bool| {
        let members: Vec<&str> = match routing.groups.get(to.v.as_str()) {
            Some(members) => members.clone(),
            None => vec![to.v.as_str()],
        };
        if let Some(bad) = members.into_iter().find(|m| cannot(m, user)) {
            let fix = match user {
                Some(u) => format!("set `mo_url` on it or on user `{u}`"),
                None if on_route => {
                    "set `mo_url` on it, or name a `user` with one on the route".into()
                }
                None => "set `mo_url` on it".into(),
            };
            ctx.sink.at(
                &to.span,
                &to.kw,
                format!(
                    "incoming HTTP connector `{bad}` has no `mo_url` to push the messages \
                     routed to it to; {fix}"
                ),
            );
        }
    };
    for (to, user) in &routing.routes {
        check(to, user.map(|u| u.v.as_str()), true);
    }
    for to in &routing.forced {
        check(to, None, false);
    }
    for u in routing.routes.iter().filter_map(|(_, u)| *u) {
        if !routing.users.contains_key(u.v.as_str()) {
            let hint = suggest::hint(&u.v, routing.users.keys().copied());
            ctx.sink
                .at(&u.span, &u.kw, format!("unknown user `{}`{hint}", u.v));
        }
    }
}

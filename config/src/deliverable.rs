//! Routes must lead somewhere that can deliver: an incoming HTTP connector pushes the MO
//! messages routed to it to the `mo_url` of the user the route names (`user`), or else to
//! its own `mo_url`; with neither, `--check-config` refuses the route at its `to`. A route's
//! `user` must name a `[user.NAME]`.

use crate::context::Ctx;
use crate::kind::{Direction, Protocol};
use crate::model::Connector;
use crate::suggest;
use crate::validate::Raw;
use crate::values::Sp;
use std::collections::BTreeMap;

pub(crate) fn check(ctx: &mut Ctx<'_>, raw: &Raw, connectors: &BTreeMap<String, Connector>) {
    let user_url = |name: &str| {
        raw.users
            .get(name)
            .and_then(|u| u.user.as_ref())
            .is_some_and(|u| u.mo_url.is_some())
    };
    let cannot = |name: &str, user: Option<&str>| {
        connectors.get(name).is_some_and(|c| {
            (c.protocol, c.direction) == (Protocol::Http, Direction::Incoming)
                && c.http.mo_url.is_none()
                && !user.is_some_and(user_url)
        })
    };
    // `on_route`: a [[route]], which may name a user; else a connector's own `route`.
    let mut check = |to: &Sp<String>, user: Option<&str>, on_route: bool| {
        let members: Vec<&str> = match raw.groups.get(&to.v) {
            Some((_, g)) => g.members.iter().map(|m| m.v.as_str()).collect(),
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
    for r in &raw.routes {
        if let Some(to) = &r.to {
            check(to, r.user.as_ref().map(|u| u.v.as_str()), true);
        }
    }
    for p in raw.connectors.values().filter(|p| !p.is_virtual) {
        if let Some(to) = &p.route {
            check(to, None, false);
        }
    }
    for u in raw.routes.iter().filter_map(|r| r.user.as_ref()) {
        if !raw.users.contains_key(&u.v) {
            let hint = suggest::hint(&u.v, raw.users.keys().map(String::as_str));
            ctx.sink
                .at(&u.span, &u.kw, format!("unknown user `{}`{hint}", u.v));
        }
    }
}

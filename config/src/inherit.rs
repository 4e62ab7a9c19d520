//! `inherit`: each connector takes what its parent chain sets and it does not; unknown parents
//! and loops are reported where they are written.

use std::collections::{BTreeMap, BTreeSet};

use crate::connector::{finish, Partial};
use crate::context::Ctx;
use crate::model::Connector;
use crate::retry::RetryScheme;
use crate::suggest;

/// Resolves inheritance for every connector and builds the real (non-virtual) ones.
///
/// Unknown parents and loops are reported; a connector in a loop still inherits from the part of
/// the chain before the loop closes so that its other problems are reported too.
pub(crate) fn resolve(
    ctx: &mut Ctx<'_>,
    partials: &BTreeMap<String, Partial>,
    default_retry: &RetryScheme,
) -> BTreeMap<String, Connector> {
    let mut looped: BTreeSet<String> = BTreeSet::new();
    let mut out = BTreeMap::new();
    for (name, own) in partials {
        if let Some(parent) = &own.inherit {
            if !partials.contains_key(&parent.v) {
                let others = partials.keys().map(String::as_str).filter(|n| n != name);
                let hint = suggest::hint(&parent.v, others);
                ctx.sink.at(
                    &parent.span,
                    &parent.kw,
                    format!("unknown connector `{}`{hint}", parent.v),
                );
            }
        }
        let mut chain: Vec<&str> = vec![name];
        let mut merged = own.clone();
        let mut cur = own;
        // Whether the chain is cut by an unknown parent or a loop; then "missing keyword"
        // reports would only repeat that problem.
        let mut broken = own.inherit.is_none() && own.present.contains("inherit");
        while let Some(parent) = &cur.inherit {
            let Some(p) = partials.get(&parent.v) else {
                broken = true;
                break;
            };
            if let Some(pos) = chain.iter().position(|n| *n == parent.v) {
                report_loop(ctx, partials, chain.get(pos..).unwrap_or(&[]), &mut looped);
                broken = true;
                break;
            }
            chain.push(&parent.v);
            merged.inherit_from(p);
            cur = p;
        }
        if !own.is_virtual {
            if let Some(c) = finish(ctx, name, &merged, broken, default_retry) {
                out.insert(name.clone(), c);
            }
        }
    }
    out
}

/// Reports a loop once per member, at each member's `inherit` value, starting from that member.
fn report_loop(
    ctx: &mut Ctx<'_>,
    partials: &BTreeMap<String, Partial>,
    cycle: &[&str],
    looped: &mut BTreeSet<String>,
) {
    for i in 0..cycle.len() {
        let Some(&member) = cycle.get(i) else {
            continue;
        };
        if !looped.insert(member.to_string()) {
            continue;
        }
        let mut path: Vec<&str> = cycle
            .iter()
            .cycle()
            .skip(i)
            .take(cycle.len())
            .copied()
            .collect();
        path.push(member);
        if let Some(inherit) = partials.get(member).and_then(|p| p.inherit.as_ref()) {
            ctx.sink.at(
                &inherit.span,
                &inherit.kw,
                format!("inheritance loop: {}", path.join(" -> ")),
            );
        }
    }
}

//! Whole-file validation: the general options, users, groups and routes, the cross-references
//! between them, and assembly of the final [`Config`].
//!
//! (About 600 lines: one pass over the file's sections whose cross-references must be checked in
//! order; its unit tests are in `validate/tests.rs`.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use toml::de::{DeTable, DeValue};

use crate::connector::{self, Partial};
use crate::context::Ctx;
use crate::diagnostic::{Diagnostic, Sink};
use crate::general::{check_general, default_general, read_general, GENERAL_KEYWORDS};
use crate::model::{Config, Group, Route, User, BIND_TYPES};
use crate::suggest;
use crate::values::{self, Sp, Span};

/// Tables / arrays of tables allowed at the top level besides the general options.
const SECTIONS: &[&str] = &[
    "connector",
    "user",
    "group",
    "route",
    "operator",
    "satpool",
    "plugin",
    "price",
];

/// Top-level keywords read by the price table rather than the general options.
const PRICE_TOP: &[&str] = &["currency", "refund_policy", "summary_prefix_length"];

const USER_KEYWORDS: &[&str] = &[
    "password",
    "password_hash",
    "account",
    "access",
    "binds",
    "throughput",
    "mo_url",
    "mo_method",
    "allowroute",
];
const GROUP_KEYWORDS: &[&str] = &["members"];
const ROUTE_KEYWORDS: &[&str] = &["name", "prefix", "account", "from", "to", "user"];

/// A user table after type checks; `None` password = missing (already reported).
struct RawUser {
    user: Option<User>,
}

struct RawGroup {
    members: Vec<Sp<String>>,
}

struct RawRoute {
    /// `name`, else `FILE:LINE` of the entry.
    name: String,
    prefix: Option<String>,
    account: Option<String>,
    from: Option<Sp<String>>,
    to: Option<Sp<String>>,
    /// The user the routed message is for (its MO URL, its sessions).
    user: Option<Sp<String>>,
}

/// Everything read from the file before cross-references are checked.
#[derive(Default)]
struct Raw {
    connectors: BTreeMap<String, Partial>,
    users: BTreeMap<String, RawUser>,
    groups: BTreeMap<String, (Span, RawGroup)>,
    routes: Vec<RawRoute>,
    operators: BTreeMap<String, crate::model::Operator>,
    /// SAT pools by name; `None` = defined with errors (reported).
    satpools: BTreeMap<String, Option<crate::satpool::SatPool>>,
    /// Plugins by name; `None` = defined with errors (reported).
    plugins: BTreeMap<String, Option<crate::plugin::Plugin>>,
    prices: Vec<crate::price::RawPrice>,
    /// `currency`, `refund_policy` and `summary_prefix_length`, when given and valid.
    currency: Option<String>,
    refund: Option<crate::price::RefundPolicy>,
    summary_prefix_length: Option<usize>,
}

/// Parses and validates `text`; diagnostics are sorted (config file first) and deduplicated.
pub(crate) fn build(text: &str, path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        // A document that does not parse is not validated further: recovery guesses would
        // produce follow-on errors that mislead more than they help.
        let mut sink = Sink::new(path, text);
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            sink.at(&span, "syntax", e.message());
        }
        return Err(finish_diagnostics(path, sink.diagnostics));
    }
    let mut ctx = Ctx::new(path, text);
    let mut raw = Raw::default();
    let mut general = default_general(&ctx, crate::daemon::Layout::of(path));
    let mut backend_span = None;
    let mut nodeid_given = false;
    // `metrics_address` written with a value that is not "" (a wrong one is reported there).
    let mut metrics_address_written = false;
    let mut tls = crate::tls::Raw::default();
    let mut metrics_tls = crate::tls::Raw::default();
    let top: Vec<&str> = GENERAL_KEYWORDS
        .iter()
        .chain(crate::daemon::KEYWORDS)
        .chain(SECTIONS)
        .chain(PRICE_TOP)
        .copied()
        .collect();
    for (k, v) in doc.get_ref().iter() {
        let key: &str = k.get_ref();
        let kw = key.to_string();
        if !top.contains(&key) {
            let msg = if key == "general" {
                "unknown keyword; general options are written at the top level of the file, \
                 not in a [general] table"
                    .to_string()
            } else {
                format!("unknown keyword{}", suggest::hint(key, top.iter().copied()))
            };
            ctx.sink.at(&k.span(), key, msg);
            continue;
        }
        match key {
            "connector" => read_named(&mut ctx, &kw, v, |ctx, name, header, t| {
                let p = connector::read(ctx, &format!("connector.{name}"), header, t);
                raw.connectors.insert(name.to_string(), p);
            }),
            "user" => read_named(&mut ctx, &kw, v, |ctx, name, header, t| {
                let u = read_user(ctx, name, header, t);
                raw.users.insert(name.to_string(), u);
            }),
            "group" => read_named(&mut ctx, &kw, v, |ctx, name, header, t| {
                let g = read_group(ctx, name, header.clone(), t);
                raw.groups.insert(name.to_string(), (header, g));
            }),
            "route" => read_routes(&mut ctx, v, &mut raw.routes),
            "price" => crate::price::read(&mut ctx, v, &mut raw.prices),
            "currency" => raw.currency = crate::price::read_currency(&mut ctx, v),
            "refund_policy" => raw.refund = crate::price::read_refund(&mut ctx, v),
            "summary_prefix_length" => {
                raw.summary_prefix_length =
                    values::int(&mut ctx.sink, key, v, 0u8, 15).map(usize::from);
            }
            "satpool" => read_named(&mut ctx, &kw, v, |ctx, name, header, t| {
                let pool = crate::satpool::read(ctx, name, header, t);
                raw.satpools.insert(name.to_string(), pool);
            }),
            "plugin" => read_named(&mut ctx, &kw, v, |ctx, name, header, t| {
                let plugin = crate::plugin::read(ctx, name, header, t);
                raw.plugins.insert(name.to_string(), plugin);
            }),
            "operator" => read_named(&mut ctx, &kw, v, |ctx, name, header, t| {
                if let Some(op) = crate::operator::read(ctx, name, header, t) {
                    raw.operators.insert(name.to_string(), op);
                }
            }),
            "mgp_tls_cert" => tls.cert = values::string(&mut ctx.sink, &kw, v),
            "mgp_tls_key" => tls.key = values::string(&mut ctx.sink, &kw, v),
            "metrics_tls_cert" => metrics_tls.cert = values::string(&mut ctx.sink, &kw, v),
            "metrics_tls_key" => metrics_tls.key = values::string(&mut ctx.sink, &kw, v),
            _ if crate::daemon::KEYWORDS.contains(&key) => {
                crate::daemon::read(&mut ctx, key, v, &mut general.daemon);
            }
            _ => {
                if key == "backend" {
                    backend_span = Some(v.span());
                }
                nodeid_given |= key == "nodeid";
                metrics_address_written |= key == "metrics_address"
                    && !matches!(v.get_ref(), DeValue::String(s) if s.is_empty());
                read_general(&mut ctx, key, &kw, v, &mut general);
            }
        }
    }
    check_general(&mut ctx, &general, backend_span);
    if general.backend == crate::model::Backend::Postgres && !nodeid_given {
        general.nodeid = crate::general::default_nodeid(&crate::general::hostname());
    }
    general.mgp_tls = crate::tls::check(&mut ctx, tls, "mgp");
    if !metrics_address_written {
        metrics_tls = crate::tls::unused(&mut ctx, metrics_tls, "metrics_address", "metrics");
    }
    general.metrics_tls = crate::tls::check(&mut ctx, metrics_tls, "metrics");
    let names = Names::new(&raw);
    cross_check(&mut ctx, &raw, &names);
    let pools: Vec<&str> = raw.satpools.keys().map(String::as_str).collect();
    let has_key = general.masquerade_key.is_some();
    crate::process::check_refs(
        &mut ctx,
        raw.connectors.values().map(|c| &c.process),
        &pools,
        has_key,
    );
    let plugin_names: Vec<&str> = raw.plugins.keys().map(String::as_str).collect();
    let attached = raw.connectors.values().filter_map(|p| p.plugins.as_ref());
    crate::plugin::check_refs(&mut ctx, attached, &plugin_names);
    let connectors = crate::inherit::resolve(&mut ctx, &raw.connectors, &general.retryscheme);
    crate::deliverable::check(&mut ctx, &routing_of(&raw), &connectors);
    connector::check_dlr_groups(&mut ctx, &raw.connectors, &connectors);

    let mut diags = ctx.sink.diagnostics;
    diags.extend(ctx.other);
    if !diags.is_empty() {
        return Err(finish_diagnostics(path, diags));
    }
    Ok(Config {
        path: path.to_path_buf(),
        general,
        connectors,
        users: raw
            .users
            .into_iter()
            .filter_map(|(n, u)| Some((n, u.user?)))
            .collect(),
        groups: raw
            .groups
            .into_iter()
            .map(|(name, (_, g))| {
                let members = g.members.into_iter().map(|m| m.v).collect();
                (name.clone(), Group { name, members })
            })
            .collect(),
        routes: raw
            .routes
            .into_iter()
            .filter_map(|r| {
                Some(Route {
                    name: r.name,
                    prefix: r.prefix,
                    account: r.account,
                    from: r.from.map(|f| f.v),
                    user: r.user.map(|u| u.v),
                    to: r.to?.v,
                })
            })
            .collect(),
        operators: raw.operators,
        satpools: raw
            .satpools
            .into_iter()
            .filter_map(|(n, p)| Some((n, p?)))
            .collect(),
        plugins: raw
            .plugins
            .into_iter()
            .filter_map(|(n, p)| Some((n, p?)))
            .collect(),
        prices: crate::price::PriceTable {
            currency: raw
                .currency
                .unwrap_or_else(|| crate::price::DEFAULT_CURRENCY.to_string()),
            entries: raw.prices.into_iter().map(|p| p.entry).collect(),
            refund: raw.refund.unwrap_or(crate::price::RefundPolicy::Rejected),
            summary_prefix_length: raw
                .summary_prefix_length
                .unwrap_or(crate::price::DEFAULT_SUMMARY_PREFIX_LENGTH),
        },
    })
}

/// Sorts (config file first, then by file, line, column) and drops exact duplicates, which
/// arise when several children inherit the same bad value.
fn finish_diagnostics(path: &Path, mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    diags.sort_by(|a, b| {
        (
            a.file != path,
            &a.file,
            a.line,
            a.col,
            &a.keyword,
            &a.message,
        )
            .cmp(&(
                b.file != path,
                &b.file,
                b.line,
                b.col,
                &b.keyword,
                &b.message,
            ))
    });
    diags.dedup();
    diags
}

/// Reads a table of named tables (`[connector.NAME]`, `[user.NAME]`, `[group.NAME]`), handing
/// each entry's name, header span and table to `f`.
fn read_named<'i>(
    ctx: &mut Ctx<'_>,
    kw: &str,
    v: &values::Val<'i>,
    mut f: impl FnMut(&mut Ctx<'_>, &str, Span, &DeTable<'i>),
) {
    let Some(t) = values::table(&mut ctx.sink, kw, v) else {
        return;
    };
    for (name, entry) in t.iter() {
        let ekw = format!("{kw}.{}", name.get_ref());
        if name.get_ref().is_empty() {
            ctx.sink.at(&name.span(), &ekw, "name must not be empty");
            continue;
        }
        if let Some(et) = values::table(&mut ctx.sink, &ekw, entry) {
            f(ctx, name.get_ref(), entry.span(), et);
        }
    }
}

fn read_user(ctx: &mut Ctx<'_>, name: &str, header: Span, t: &DeTable<'_>) -> RawUser {
    let prefix = format!("user.{name}");
    let mut password = None;
    let mut hash = None;
    let mut user = User {
        name: name.to_string(),
        password: String::new(),
        password_hash: None,
        account: None,
        access: Vec::new(),
        binds: BIND_TYPES.iter().map(|b| b.to_string()).collect(),
        throughput: None,
        mo_url: None,
        mo_method: None,
        allowroute: false,
    };
    for (key, kw, v) in values::known_keys(&mut ctx.sink, &prefix, t, USER_KEYWORDS) {
        let sink = &mut ctx.sink;
        match key {
            "password" => password = values::string(sink, &kw, v),
            "password_hash" => {
                if let Some(s) = values::string(sink, &kw, v) {
                    match crate::operator::check_phc(&s.v) {
                        Ok(()) => hash = Some(s),
                        Err(msg) => sink.at(&s.span, &kw, msg),
                    }
                }
            }
            "account" => user.account = values::string(sink, &kw, v).map(|s| s.v),
            "access" => user.access = connector::access_list(ctx, &kw, v).unwrap_or_default(),
            "binds" => {
                let items = values::strings(sink, &kw, v).unwrap_or_default();
                user.binds.clear();
                for b in items {
                    let lc = b.v.to_ascii_lowercase();
                    if BIND_TYPES.contains(&lc.as_str()) {
                        user.binds.push(lc);
                    } else {
                        let hint = suggest::hint(&lc, BIND_TYPES);
                        sink.at(
                            &b.span,
                            &kw,
                            format!(
                                "unknown bind type `{}`{hint} (expected one of: {})",
                                b.v,
                                BIND_TYPES.join(", ")
                            ),
                        );
                    }
                }
            }
            "throughput" => {
                user.throughput = values::number(sink, &kw, v, |n| n > 0.0, "greater than 0");
            }
            "mo_url" => user.mo_url = crate::http::read_mo_url(sink, &kw, v),
            "mo_method" => user.mo_method = crate::http::read_mo_method(ctx, &kw, v),
            "allowroute" => {
                user.allowroute = values::boolean(sink, &kw, v).unwrap_or(false);
            }
            _ => {}
        }
    }
    match (password, hash) {
        (Some(p), Some(_)) => {
            ctx.sink.at(
                &p.span,
                &format!("{prefix}.password"),
                "give either `password_hash` or `password`, not both",
            );
            RawUser { user: None }
        }
        (Some(p), None) => {
            user.password = p.v;
            RawUser { user: Some(user) }
        }
        (None, Some(h)) => {
            user.password_hash = Some(h.v);
            RawUser { user: Some(user) }
        }
        (None, None) => {
            // Only report a truly missing key; a wrongly typed or malformed one was reported.
            if !t.contains_key("password") && !t.contains_key("password_hash") {
                ctx.sink.at(
                    &header,
                    &format!("{prefix}.password"),
                    "required keyword is missing (`password`, or `password_hash` from \
                     `emgclient passwd`)",
                );
            }
            RawUser { user: None }
        }
    }
}

fn read_group(ctx: &mut Ctx<'_>, name: &str, header: Span, t: &DeTable<'_>) -> RawGroup {
    let prefix = format!("group.{name}");
    let mut members = None;
    for (_, kw, v) in values::known_keys(&mut ctx.sink, &prefix, t, GROUP_KEYWORDS) {
        members = values::strings(&mut ctx.sink, &kw, v);
        if matches!(v.get_ref(), DeValue::Array(a) if a.is_empty()) {
            ctx.sink
                .at(&v.span(), &kw, "a group needs at least one member");
        }
    }
    if !t.contains_key("members") {
        ctx.sink.at(
            &header,
            &format!("{prefix}.members"),
            "required keyword is missing",
        );
    }
    RawGroup {
        members: members.unwrap_or_default(),
    }
}

fn read_routes(ctx: &mut Ctx<'_>, v: &values::Val<'_>, out: &mut Vec<RawRoute>) {
    let DeValue::Array(items) = v.get_ref() else {
        ctx.sink.at(
            &v.span(),
            "route",
            "expected an array of tables (write each route as [[route]])",
        );
        return;
    };
    // Entries without a name are named by where they are written.
    let file = ctx.sink.file.file_name().unwrap_or_default();
    let file = file.to_string_lossy().into_owned();
    let mut named: BTreeMap<String, usize> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("route[{i}]");
        let Some(t) = values::table(&mut ctx.sink, &prefix, item) else {
            continue;
        };
        let mut r = RawRoute {
            name: format!("{file}:{}", ctx.sink.line_of(&item.span())),
            prefix: None,
            account: None,
            from: None,
            to: None,
            user: None,
        };
        for (key, kw, v) in values::known_keys(&mut ctx.sink, &prefix, t, ROUTE_KEYWORDS) {
            let sink = &mut ctx.sink;
            match key {
                "prefix" => {
                    if let Some(s) = values::string(sink, &kw, v) {
                        match values::check_prefix(&s.v) {
                            Ok(()) => r.prefix = Some(s.v),
                            Err(msg) => sink.at(&s.span, &kw, msg),
                        }
                    }
                }
                "name" => {
                    if let Some(s) = values::string(sink, &kw, v) {
                        if s.v.is_empty() {
                            sink.at(&s.span, &kw, "must not be empty");
                        } else if let Some(other) = named.get(&s.v) {
                            let msg = format!("route[{other}] has this name already");
                            sink.at(&s.span, &kw, msg);
                        } else {
                            named.insert(s.v.clone(), i);
                            r.name = s.v;
                        }
                    }
                }
                "account" => r.account = values::string(sink, &kw, v).map(|s| s.v),
                "from" => r.from = values::string(sink, &kw, v),
                "to" => r.to = values::string(sink, &kw, v),
                "user" => r.user = values::string(sink, &kw, v),
                _ => {}
            }
        }
        if !t.contains_key("to") {
            ctx.sink.at(
                &item.span(),
                &format!("{prefix}.to"),
                "required keyword is missing",
            );
        }
        out.push(r);
    }
}

/// Names that references may point at.
struct Names {
    real: BTreeSet<String>,
    virtuals: BTreeSet<String>,
    groups: BTreeSet<String>,
    users: BTreeSet<String>,
}

impl Names {
    fn new(raw: &Raw) -> Self {
        let (virtuals, real): (Vec<_>, Vec<_>) =
            raw.connectors.iter().partition(|(_, p)| p.is_virtual);
        Names {
            real: real.into_iter().map(|(n, _)| n.clone()).collect(),
            virtuals: virtuals.into_iter().map(|(n, _)| n.clone()).collect(),
            groups: raw.groups.keys().cloned().collect(),
            users: raw.users.keys().cloned().collect(),
        }
    }

    /// Checks a name that must be a real connector (or, with `groups_ok`, a group).
    fn check(&self, ctx: &mut Ctx<'_>, r: &Sp<String>, groups_ok: bool) {
        let name = r.v.as_str();
        if self.real.contains(name) || (groups_ok && self.groups.contains(name)) {
            return;
        }
        let msg = if self.virtuals.contains(name) {
            format!(
                "`{name}` is a virtual connector (a template); name a connector that inherits \
                 from it"
            )
        } else if groups_ok {
            let cands = self.real.iter().chain(&self.groups).map(String::as_str);
            format!(
                "unknown connector or group `{name}`{}",
                suggest::hint(name, cands)
            )
        } else {
            let cands = self.real.iter().map(String::as_str);
            format!("unknown connector `{name}`{}", suggest::hint(name, cands))
        };
        ctx.sink.at(&r.span, &r.kw, msg);
    }
}

/// Checks every reference to a connector, group or user, at the place it is written.
fn cross_check(ctx: &mut Ctx<'_>, raw: &Raw, names: &Names) {
    for p in raw.connectors.values() {
        if let Some(r) = &p.route {
            names.check(ctx, r, true);
        }
        for u in p.users.iter().flatten() {
            if !names.users.contains(&u.v) {
                let hint = suggest::hint(&u.v, names.users.iter().map(String::as_str));
                ctx.sink
                    .at(&u.span, &u.kw, format!("unknown user `{}`{hint}", u.v));
            }
        }
    }
    for (name, (header, g)) in &raw.groups {
        if raw.connectors.contains_key(name) {
            ctx.sink.at(
                header,
                &format!("group.{name}"),
                format!("name `{name}` is already used by a connector"),
            );
        }
        for m in &g.members {
            names.check(ctx, m, false);
        }
    }
    for r in &raw.routes {
        if let Some(to) = &r.to {
            names.check(ctx, to, true);
        }
        if let Some(from) = &r.from {
            names.check(ctx, from, false);
        }
    }
    for p in &raw.prices {
        for name in p.from.iter().chain(&p.to) {
            names.check(ctx, name, false);
        }
    }
}

/// What `crate::deliverable` checks, from what was read.
fn routing_of(raw: &Raw) -> crate::deliverable::Routing<'_> {
    crate::deliverable::Routing {
        routes: raw
            .routes
            .iter()
            .filter_map(|r| Some((r.to.as_ref()?, r.user.as_ref())))
            .collect(),
        forced: raw
            .connectors
            .values()
            .filter(|p| !p.is_virtual)
            .filter_map(|p| p.route.as_ref())
            .collect(),
        groups: raw
            .groups
            .iter()
            .map(|(n, (_, g))| (n.as_str(), g.members.iter().map(|m| m.v.as_str()).collect()))
            .collect(),
        users: raw
            .users
            .iter()
            .map(|(n, u)| {
                let url = u.user.as_ref().is_some_and(|u| u.mo_url.is_some());
                (n.as_str(), url)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;

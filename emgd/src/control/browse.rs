//! The console's reads: `queue_browse`, `msg_search`, `msg_history` (from the store, on a
//! connection of their own), `users` and `routes` (from the configuration in force).

use super::connectors::find;
use super::msg::message_info;
use super::server::{ok, OpResult, Server};
use crate::store::{Event, EventKind, Found, Page, Query, Trail};
use common::mgp::{
    ConnectorStats, ErrorBody, ErrorCount, HistoryEvent, Latency, MessageHistory, MessageList,
    MessageRow, RouteInfo, RouteList, UserInfo, UserList,
};
use std::time::Duration;

/// Rows a page holds when the client names no limit, and the most it may ask for.
pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 1000;
/// How long one search may take before it answers with what it found.
pub const SEARCH_BUDGET: Duration = Duration::from_secs(3);

fn page_size(limit: Option<usize>) -> usize {
    limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

fn row(f: Found) -> MessageRow {
    MessageRow {
        id: f.id,
        state: f.state,
        source: f.source,
        dest: f.dest,
        origin: f.origin,
        account: f.account,
        target: f.target,
        route_entry: f.route_entry,
        status: f.status,
        received_us: f.received_us,
        updated_us: f.updated_us,
    }
}

fn list(p: Page) -> OpResult {
    ok(MessageList {
        messages: p.found.into_iter().map(row).collect(),
        more: p.more,
        stopped: p.stopped,
    })
}

fn store_err(what: &str) -> impl FnOnce(crate::store::StoreError) -> ErrorBody + '_ {
    move |e| ErrorBody::internal(format!("{what}: {e}"))
}

pub async fn queue_browse(
    s: &Server,
    name: &str,
    after_id: Option<u64>,
    limit: Option<usize>,
) -> OpResult {
    find(s, name)?;
    let page =
        s.gw.store
            .browse_queue(name, after_id.unwrap_or(0), page_size(limit), SEARCH_BUDGET)
            .await
            .map_err(store_err("cannot read the queue"))?;
    list(page)
}

pub async fn search(s: &Server, mut q: Query, limit: Option<usize>) -> OpResult {
    if let Some(c) = &q.connector {
        find(s, c)?;
    }
    if let (Some(a), Some(b)) = (q.since_us, q.until_us) {
        if a >= b {
            return Err(ErrorBody::bad_request(
                "since_us must be before until_us".to_string(),
            ));
        }
    }
    q.limit = page_size(limit);
    q.budget = SEARCH_BUDGET;
    let page =
        s.gw.store
            .search(q)
            .await
            .map_err(store_err("cannot search the store"))?;
    list(page)
}

pub async fn history(s: &Server, id: u64) -> OpResult {
    let trail =
        s.gw.store
            .trail(id, SEARCH_BUDGET)
            .await
            .map_err(store_err("cannot read the message"))?;
    if trail.stored.is_none() && trail.log.is_none() {
        return Err(ErrorBody::not_found(format!(
            "message {id} is neither in the store nor in the routelog (never existed, or purged after its retention)"
        )));
    }
    let events = events(&trail);
    ok(MessageHistory {
        id,
        message: trail.stored.as_ref().map(message_info),
        events,
    })
}

/// The trail as steps, oldest first.
fn events(t: &Trail) -> Vec<HistoryEvent> {
    let ev = |at_us: i64, what: &str, detail: String| HistoryEvent {
        at_us,
        what: what.to_string(),
        detail,
    };
    let mut out = Vec::new();
    let m = t.stored.as_ref().map(|s| &s.message);
    let received = m
        .map(|m| m.received_us)
        .or(t.log.as_ref().map(|l| l.received_us));
    if let Some(at) = received {
        let (origin, user, account, source, dest) = match (m, &t.log) {
            (Some(m), _) => (
                m.origin.connector.clone(),
                m.origin.user.clone(),
                m.origin.account.clone(),
                m.source.addr.clone(),
                m.dest.addr.clone(),
            ),
            (None, Some(l)) => (
                l.in_connector.clone(),
                None,
                l.account.clone(),
                l.source.clone(),
                l.dest.clone(),
            ),
            (None, None) => unreachable!("received comes from one of them"),
        };
        let mut detail = format!("on {origin}");
        if let Some(u) = user {
            detail.push_str(&format!(" from user {u}"));
        }
        if let Some(a) = account {
            detail.push_str(&format!(" (account {a})"));
        }
        detail.push_str(&format!(", {source} -> {dest}"));
        out.push(ev(at, "received", detail));
        let route = m
            .map(|m| m.target.clone())
            .or_else(|| t.log.as_ref().and_then(|l| l.route.clone()));
        match route {
            Some(r) if !r.is_empty() => out.push(ev(at, "routed", format!("to {r}"))),
            _ => {}
        }
    }
    // Stores from before the history rows (schema 6) know only the count and the last answer.
    let recorded = t.events.iter().any(|e| e.kind == EventKind::Attempt);
    for e in &t.events {
        out.push(ev(e.at_us, step_word(e.kind), step_detail(e)));
    }
    if let Some(s) = t.stored.as_ref().filter(|_| !recorded) {
        if s.message.attempts > 0 {
            out.push(ev(
                s.updated_us,
                "attempts",
                format!("{} submit attempt(s) so far", s.message.attempts),
            ));
        }
    }
    for d in t.dlrs.iter().filter(|_| !recorded) {
        out.push(ev(
            d.created_us,
            "submitted",
            format!(
                "on {}, remote id {}, a delivery report awaited",
                d.connector, d.remote_id
            ),
        ));
        if let Some((status, error)) = &d.part_done {
            out.push(ev(
                d.created_us,
                "receipt",
                format!("part {}: {status} (error {error})", d.remote_id),
            ));
        }
    }
    if t.dlrs.is_empty() && !recorded {
        if let Some(s) = t.stored.as_ref().filter(|s| s.remote_id.is_some()) {
            out.push(ev(
                s.updated_us,
                "submitted",
                format!(
                    "on {}, remote id {}",
                    s.message.target,
                    s.remote_id.as_deref().unwrap_or("-")
                ),
            ));
        }
    }
    if let Some(l) = &t.log {
        let mut detail = l.status.clone();
        if let Some(e) = &l.error {
            detail.push_str(&format!(": {e}"));
        }
        out.push(ev(l.updated_us, "final", detail));
        if l.price.is_some() || l.cost.is_some() {
            let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
            out.push(ev(
                l.updated_us,
                "price",
                format!("charged {}, cost {}", opt(&l.price), opt(&l.cost)),
            ));
        }
    } else if let Some(s) = &t.stored {
        out.push(ev(
            s.updated_us,
            "now",
            format!(
                "{}{}",
                s.state.name(),
                s.status
                    .as_ref()
                    .map(|x| format!(" ({x})"))
                    .unwrap_or_default()
            ),
        ));
    }
    out.sort_by_key(|e| e.at_us);
    out
}

/// The `what` of a recorded step.
fn step_word(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Attempt => "submit",
        EventKind::Receipt => "receipt",
        EventKind::Callback => "callback",
    }
}

/// A recorded step as one line: where, the answer, its code and remote id.
fn step_detail(e: &Event) -> String {
    let mut d = match (e.kind, e.instance) {
        (EventKind::Receipt, _) => format!("{} from {}", e.status, e.connector),
        (_, Some(i)) => format!("on {} ({i}): {}", e.connector, e.status),
        (_, None) => format!("on {}: {}", e.connector, e.status),
    };
    match (e.kind, e.code) {
        (_, 0) => {}
        // A receipt's `err:` field, as the routelog keeps it.
        (EventKind::Receipt, code) => d.push_str(&format!(", err {code}")),
        (_, code) => d.push_str(&format!(", error 0x{code:08x}")),
    }
    if let Some(r) = &e.remote_id {
        d.push_str(&format!(", remote id {r}"));
    }
    d
}

/// Failures counted over the last hour unless the client says otherwise.
const DEFAULT_STATS_WINDOW_S: u64 = 3600;

pub async fn stats(s: &Server, name: &str, since_s: Option<u64>) -> OpResult {
    find(s, name)?;
    let window = since_s.unwrap_or(DEFAULT_STATS_WINDOW_S) as i64;
    let since_us = crate::clock::now_us() - window.saturating_mul(1_000_000);
    let errors =
        s.gw.store
            .error_counts(name, since_us, SEARCH_BUDGET)
            .await
            .map_err(store_err("cannot count the errors"))?
            .into_iter()
            .map(|e| ErrorCount {
                status: e.status,
                error: e.error,
                count: e.count,
                last_us: e.last_us,
            })
            .collect();
    let latency = |h: Option<crate::metrics::HistogramCounts>| {
        h.map(|h| Latency {
            buckets: h.buckets,
            count: h.count,
            sum_s: h.sum_us as f64 / 1e6,
        })
    };
    let [submit, accept] = crate::metrics::global().latencies(name);
    ok(ConnectorStats {
        connector: name.to_string(),
        since_us,
        errors,
        submit_response: latency(submit),
        accept_commit: latency(accept),
    })
}

pub fn users(s: &Server) -> OpResult {
    let cfg = s.gw.config();
    let users = cfg
        .users
        .values()
        .map(|u| UserInfo {
            name: u.name.clone(),
            account: u.account.clone().unwrap_or_else(|| u.name.clone()),
            access: u.access.clone(),
            binds: u.binds.clone(),
            throughput: u.throughput,
            connectors: cfg
                .connectors
                .values()
                .filter(|c| c.users.contains(&u.name))
                .map(|c| c.name.clone())
                .collect(),
        })
        .collect();
    ok(UserList { users })
}

pub fn routes(s: &Server) -> OpResult {
    let cfg = s.gw.config();
    let routes = cfg
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| RouteInfo {
            order: i + 1,
            name: r.name.clone(),
            prefix: r.prefix.clone(),
            account: r.account.clone(),
            from: r.from.clone(),
            to: r.to.clone(),
        })
        .collect();
    ok(RouteList { routes })
}

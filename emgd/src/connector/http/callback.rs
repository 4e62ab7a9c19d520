//! DLR callbacks: the outgoing queue of an incoming HTTP connector.
//!
//! A delivery report for a message that came in over HTTP is queued durably on the connector it
//! came in on, like every report. This worker takes those reports and calls the URL the sender
//! gave (`dlr-url`), GET with the fields in the query or POST with a form body. A 2xx answer
//! finishes the report; anything else is retried with exponential backoff (1 s, 2 s, 4 s ... up
//! to `dlr_callback_backoff_max`, or the hold delay of a matching retry-scheme message rule)
//! until `dlr_callback_expire` seconds after the report was made. The report stays queued in
//! the store all along, so a restart loses none.

use super::client::{form, with_query, Call, Client};
use super::params::mask;
use crate::connector::{ConnectorHandle, Counters};
use crate::gateway::{stopped, Gateway};
use crate::store::{MessageState, Write};
use common::dlr::DlrStatus;
use common::message::{DlrInfo, Message};
use hyper::Method;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How often the set of users whose reports may wait here is read again (reloads).
const USERS_REFRESH: Duration = Duration::from_secs(2);

/// The retry-scheme command number of a DLR callback (matched with the HTTP status, or 110 /
/// 111 for a timeout / transport failure).
pub const CALLBACK_COMMAND: u32 = 0;

/// Kannel's dlr-mask bit for a report state.
pub fn kannel_code(s: DlrStatus) -> u8 {
    match s {
        DlrStatus::Delivered => mask::DELIVERED,
        DlrStatus::Enroute | DlrStatus::Accepted => mask::BUFFERED,
        DlrStatus::Rejected => mask::REJECTED,
        _ => mask::FAILED,
    }
}

/// Run the callbacks of `connector` until shutdown. Reports are queued for the user that sent
/// the message; one taker per user allowed on the connector shares a window of `windowsize`
/// callbacks in flight.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, client: Client) {
    let window = Arc::new(Semaphore::new(connector.config().windowsize.max(1) as usize));
    let mut shutdown = gw.shutdown_signal();
    let mut takers = tokio::task::JoinSet::new();
    let mut serving: BTreeSet<String> = BTreeSet::new();
    loop {
        let cfg = connector.config();
        let users: Vec<String> = if cfg.users.is_empty() {
            gw.config().users.keys().cloned().collect()
        } else {
            cfg.users.clone()
        };
        for user in users {
            if serving.insert(user.clone()) {
                takers.spawn(take(
                    gw.clone(),
                    connector.clone(),
                    user,
                    window.clone(),
                    client.clone(),
                ));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(USERS_REFRESH) => {}
            _ = stopped(&mut shutdown) => break,
        }
    }
    while takers.join_next().await.is_some() {}
    // Wait for the callbacks in flight to record their outcome.
    let size = connector.config().windowsize.max(1);
    let _ = window.acquire_many(size).await;
}

async fn take(
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    user: String,
    window: Arc<Semaphore>,
    client: Client,
) {
    let mut shutdown = gw.shutdown_signal();
    loop {
        let permit = tokio::select! {
            p = window.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = stopped(&mut shutdown) => return,
        };
        let message = tokio::select! {
            m = connector.next_unheld(Some(&user)) => m,
            _ = stopped(&mut shutdown) => return,
        };
        let (gw, connector, client) = (gw.clone(), connector.clone(), client.clone());
        tokio::spawn(async move {
            deliver(&gw, &connector, message, &client).await;
            drop(permit);
        });
    }
}

/// The fields a callback carries.
pub fn fields(m: &Message, d: &DlrInfo) -> Vec<(String, String)> {
    let iso = |us: i64| {
        chrono::DateTime::from_timestamp_micros(us)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    };
    vec![
        ("id".into(), d.reported_id.clone()),
        ("status".into(), d.status.stat_word().into()),
        ("error".into(), d.error.to_string()),
        ("dlr".into(), kannel_code(d.status).to_string()),
        ("to".into(), m.source.addr.clone()),
        ("from".into(), m.dest.addr.clone()),
        ("submitted".into(), iso(d.submit_us)),
        ("done".into(), iso(d.done_us)),
    ]
}

/// Kannel's `%` escapes in a dlr-url: %d report type, %I message id, %A status word,
/// %p recipient, %P sender, %T Unix time of the report, %% a percent sign.
pub fn expand(url: &str, m: &Message, d: &DlrInfo) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut out = String::with_capacity(url.len());
    let mut chars = url.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let value = match chars.peek() {
            Some('d') => kannel_code(d.status).to_string(),
            Some('I') => enc(&d.reported_id),
            Some('A') => enc(d.status.stat_word()),
            Some('p') => enc(&m.source.addr),
            Some('P') => enc(&m.dest.addr),
            Some('T') => (d.done_us / 1_000_000).to_string(),
            Some('%') => "%".into(),
            // An ordinary URL escape such as %20: leave it alone.
            _ => {
                out.push('%');
                continue;
            }
        };
        chars.next();
        out.push_str(&value);
    }
    out
}

fn call_for(m: &Message, d: &DlrInfo, url: &str) -> Call {
    let url = expand(url, m, d);
    let body = form(&fields(m, d));
    if m.origin.callback_method.as_deref() == Some("GET") {
        Call {
            method: Method::GET,
            url: with_query(&url, &body),
            headers: vec![],
            body: None,
        }
    } else {
        Call {
            method: Method::POST,
            url,
            headers: vec![],
            body: Some(("application/x-www-form-urlencoded", body.into_bytes())),
        }
    }
}

async fn deliver(gw: &Arc<Gateway>, connector: &Arc<ConnectorHandle>, m: Message, client: &Client) {
    let name = connector.name.clone();
    let metrics = crate::metrics::global();
    let (Some(d), Some(url)) = (m.dlr.clone(), m.origin.callback_url.clone()) else {
        // A report nobody asked to be called back with (the sender polls the status), or
        // a message that is not a report: nothing to call.
        metrics.callback(&name, "skipped", None);
        gw.sent(connector, m, None).await;
        return;
    };
    let wanted = if m.origin.callback_mask == 0 {
        mask::FINAL
    } else {
        m.origin.callback_mask
    };
    if wanted & kannel_code(d.status) == 0 {
        metrics.callback(&name, "skipped", None);
        gw.sent(connector, m, None).await;
        return;
    }
    let cfg = connector.config();
    let deadline_us = d.done_us + (cfg.http.dlr_callback_expire as i64) * 1_000_000;
    let call = call_for(&m, &d, &url);
    let started = Instant::now();
    let result = client
        .call(&call, Duration::from_secs(cfg.http.dlr_callback_timeout))
        .await;
    let took = started.elapsed();
    let (code, why) = match result {
        Ok(a) if (200..300).contains(&a.status) => {
            metrics.callback(&name, "ok", Some(took));
            gw.sent(connector, m, None).await;
            return;
        }
        Ok(a) => (u32::from(a.status), format!("HTTP {}", a.status)),
        Err(e) => (e.code(), e.to_string()),
    };
    gw.logs.connector(
        &name,
        0,
        format!(
            "CALLBACK ERR (info=\"report {} on message {}: {url}: {why}\")",
            m.id, d.message_id
        ),
    );
    if crate::clock::now_us() >= deadline_us {
        metrics.callback(&name, "expired", Some(took));
        give_up(gw, connector, m, &why).await;
        return;
    }
    metrics.callback(&name, "retry", Some(took));
    let delay = backoff(connector, m.attempts, code);
    let mut m = m;
    m.attempts += 1;
    let stored = gw.store.commit(vec![Write::requeue(&m)]).await;
    if let Err(e) = stored {
        tracing::error!("connector {name}: cannot record callback attempt: {e}");
    }
    let queue = connector.queue.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        // Not `put_back`: it wakes one waiting taker, which may be another user's and leave
        // this report waiting. `push` wakes them all; `finished` undoes its second count.
        queue.push(m);
        queue.finished();
    });
}

/// Wait before the next attempt: a matching retry-scheme message rule's hold delay, else
/// 1 s doubled per attempt up to `dlr_callback_backoff_max`.
pub fn backoff(connector: &ConnectorHandle, attempts: u32, code: u32) -> Duration {
    let cfg = connector.config();
    if let Some(rule) = cfg.retryscheme.message_rule(CALLBACK_COMMAND, code) {
        if rule.holddelay > 0 {
            return Duration::from_secs(rule.holddelay);
        }
    }
    let secs = 1u64
        .checked_shl(attempts.min(32))
        .unwrap_or(u64::MAX)
        .min(cfg.http.dlr_callback_backoff_max);
    Duration::from_secs(secs)
}

/// The callback could not be made before the report expired: the report fails.
async fn give_up(gw: &Gateway, connector: &ConnectorHandle, m: Message, why: &str) {
    Counters::add(&connector.counters.failed);
    gw.logs.connector(
        &connector.name,
        0,
        format!(
            "EXPIRED (info=\"report {} given up after {} callback attempts: {why}\")",
            m.id,
            m.attempts + 1
        ),
    );
    let done = gw
        .store
        .commit(vec![Write::finish(
            m,
            MessageState::Failed,
            DlrStatus::Expired.stat_word(),
            Some(format!("callback failed: {why}")),
        )])
        .await;
    if let Err(e) = done {
        tracing::error!(
            "connector {}: cannot record expired report: {e}",
            connector.name
        );
    }
    connector.queue.finished();
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::message::Address;

    fn report() -> (Message, DlrInfo) {
        let d = DlrInfo {
            message_id: 7,
            reported_id: "7".into(),
            status: DlrStatus::Delivered,
            error: 0,
            submit_us: 1_700_000_000_000_000,
            done_us: 1_700_000_001_000_000,
            text: String::new(),
        };
        let m = Message {
            source: Address::new("46701"),
            dest: Address::new("emg"),
            dlr: Some(d.clone()),
            ..Default::default()
        };
        (m, d)
    }

    #[test]
    fn kannel_escapes_expand_and_url_escapes_stay() {
        let (m, d) = report();
        assert_eq!(
            expand("http://h/d?t=%d&id=%I&s=%A&to=%p&x=%20&%%", &m, &d),
            "http://h/d?t=1&id=7&s=DELIVRD&to=46701&x=%20&%"
        );
    }

    #[test]
    fn get_and_post_carry_the_same_fields() {
        let (mut m, d) = report();
        m.origin.callback_method = Some("GET".into());
        let get = call_for(&m, &d, "http://h/d?a=1");
        assert!(get
            .url
            .starts_with("http://h/d?a=1&id=7&status=DELIVRD&error=0&dlr=1"));
        assert!(
            get.url.contains("submitted=2023-11-14T22%3A13%3A20.000Z"),
            "{}",
            get.url
        );
        m.origin.callback_method = None;
        let post = call_for(&m, &d, "http://h/d");
        assert_eq!(post.url, "http://h/d");
        let body = String::from_utf8(post.body.unwrap().1).unwrap();
        assert!(body.starts_with("id=7&status=DELIVRD"), "{body}");
    }
}

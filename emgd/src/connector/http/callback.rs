//! DLR callbacks and MO pushes: the outgoing queue of an incoming HTTP connector.
//!
//! A delivery report for a message that came in over HTTP is queued durably on the connector it
//! came in on, like every report; so is an MO message routed to the connector. One sender per
//! connector takes them, whichever user they are for, and calls the URL each sender gave
//! (`dlr-url`) for a report, or the connector's `mo_url` for an MO message ([`super::mo_push`]),
//! GET with the fields in the query or POST with a form body; each request is made from the
//! OUT pipeline's copy of the message. A 2xx answer finishes it; anything else is
//! retried with exponential backoff (1 s, 2 s, 4 s ... up to `dlr_callback_backoff_max`, or the
//! hold delay of a matching retry-scheme message rule) until `dlr_callback_expire` seconds
//! after the report was made. The report stays queued in the store all along, so a restart
//! loses none.
//!
//! The sender keeps up with acceptance by doing little per report: it wakes once for whatever
//! was queued meanwhile, keeps up to `dlr_callback_window` calls in flight to each destination
//! (scheme, host and port: one slow application cannot hold up the others) on keep-alive
//! connections, polls them all itself (no task per call), and records the finished reports of
//! a round in one store commit while the next calls go out.

use super::client::{form, with_query, Call, Client};
use super::params::mask;
use crate::connector::runtime::state::{ConnectorHandle, Counters};
use crate::gateway::{history, stopped, Gateway};
use crate::store::{MessageState, Write};
use common::dlr::DlrStatus;
use common::message::{DlrInfo, Message};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use hyper::Method;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The retry-scheme command number of a DLR callback (matched with the HTTP status, or 110 /
/// 111 for a timeout / transport failure).
pub const CALLBACK_COMMAND: u32 = 0;

/// Reports the sender holds in memory at most; the rest wait in the queue (and the store).
const MAX_HELD: usize = 20_000;
/// Reports waiting for one destination at most; more for it are put off for [`PUT_OFF`] and
/// taken again, so the others are not held behind it.
const MAX_WAITING_PER_DESTINATION: usize = 2_000;
const PUT_OFF: Duration = Duration::from_secs(1);

/// Kannel's dlr-mask bit for a report state.
pub fn kannel_code(s: DlrStatus) -> u8 {
    s.mask_bit()
}

/// A call's end: the destination, the report, what the call gave, how long it took, the URL.
type Ended = (
    String,
    Message,
    Result<super::client::Answer, super::client::ClientError>,
    Duration,
    String,
);
type CallFuture = Pin<Box<dyn Future<Output = Ended> + Send>>;

/// Reports for one destination.
#[derive(Default)]
struct Destination {
    in_flight: usize,
    waiting: VecDeque<(Message, Call, String)>,
}

/// The sender's state between wake-ups.
struct Sender {
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    client: Client,
    destinations: HashMap<String, Destination>,
    calls: FuturesUnordered<CallFuture>,
    /// Reports waiting or in flight here.
    held: usize,
    /// Delivered or skipped reports not yet recorded.
    done: Vec<Message>,
}

/// Run the callbacks of `connector` until shutdown.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, client: Client) {
    let mut shutdown = gw.shutdown_signal();
    let mut s = Sender {
        gw: gw.clone(),
        connector: connector.clone(),
        client,
        destinations: HashMap::new(),
        calls: FuturesUnordered::new(),
        held: 0,
        done: Vec::new(),
    };
    let mut recording: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        // Receive-only (`mode`): nothing goes back to the applications; reports and MO wait.
        let transmit = connector.config().mode != config::Mode::ReceiveOnly;
        let can_take = transmit && !connector.held() && s.held < MAX_HELD;
        if can_take {
            for m in connector.queue.take_any(MAX_HELD - s.held) {
                s.take(m);
            }
        }
        if transmit && !connector.held() {
            s.start_calls();
        }
        if recording.is_none() && !s.done.is_empty() {
            let batch = std::mem::take(&mut s.done);
            recording = Some(tokio::spawn(record_delivered(
                gw.clone(),
                connector.clone(),
                batch,
            )));
        }
        tokio::select! {
            _ = connector.queue.wait_any(), if can_take => {}
            Some(ended) = s.calls.next(), if !s.calls.is_empty() => {
                s.ended(ended);
                // Every call that ended meanwhile, in the same round.
                while let Some(Some(ended)) = s.calls.next().now_or_never() {
                    s.ended(ended);
                }
            }
            _ = async { if let Some(r) = recording.as_mut() { let _ = r.await; } }, if recording.is_some() => {
                recording = None;
            }
            _ = connector.wait_released(), if connector.held() => {}
            // A reload may change `mode`.
            _ = tokio::time::sleep(Duration::from_secs(1)), if !transmit => {}
            _ = stopped(&mut shutdown) => break,
        }
    }
    // Let the calls in flight end and record their outcomes; reports still waiting stay
    // queued in the store.
    while let Some(ended) = s.calls.next().await {
        s.ended(ended);
    }
    if let Some(r) = recording {
        let _ = r.await;
    }
    record_delivered(gw, connector, std::mem::take(&mut s.done)).await;
}

impl Sender {
    /// A report or MO message taken from the queue: skip it, fail it, or queue the request
    /// for it at its destination. The request is made from the OUT pipeline's copy (mapping,
    /// address rewriting, masquerade, SAT pools, then the plugins' `before_send`), as on
    /// every path a message leaves by; the queued message stays as it is.
    fn take(&mut self, m: Message) {
        let name = &self.connector.name;
        let metrics = crate::metrics::global();
        let wire = match self.gw.outbound(&self.connector, &m) {
            Ok(wire) => wire,
            Err(refusal) => {
                let (gw, connector) = (self.gw.clone(), self.connector.clone());
                tokio::spawn(async move { gw.refused_on_send(&connector, m, refusal).await });
                return;
            }
        };
        let (url, call) = match &wire.dlr {
            Some(d) => {
                let Some(url) = &wire.origin.callback_url else {
                    // A report nobody asked to be called back with (the sender polls the
                    // status): nothing to call.
                    metrics.callback(name, "skipped", None);
                    self.done.push(m);
                    return;
                };
                let wanted = if wire.origin.callback_mask == 0 {
                    mask::FINAL
                } else {
                    wire.origin.callback_mask
                };
                if wanted & kannel_code(d.status) == 0 {
                    metrics.callback(name, "skipped", None);
                    self.done.push(m);
                    return;
                }
                let url = expand(url, &wire, d);
                let call = call_for(&wire, &url);
                (url, call)
            }
            None => {
                let cfg = self.connector.config();
                // The user a route named (`user`) has its own URL, else the connector's.
                let gw_cfg = self.gw.config();
                let user = wire
                    .target_user
                    .as_deref()
                    .and_then(|u| gw_cfg.users.get(u))
                    .filter(|u| u.mo_url.is_some());
                let method = user.and_then(|u| u.mo_method).unwrap_or(cfg.http.mo_method);
                let Some(url) = user
                    .and_then(|u| u.mo_url.as_ref())
                    .or(cfg.http.mo_url.as_ref())
                else {
                    // `--check-config` refuses a route here without `mo_url`; a message can
                    // still arrive queued from before a reload that removed it.
                    let (gw, connector) = (self.gw.clone(), self.connector.clone());
                    tokio::spawn(async move {
                        give_up(&gw, &connector, m, "the connector has no mo_url").await
                    });
                    return;
                };
                let url = super::mo_push::expand(url, &wire);
                let call = super::mo_push::call_for(&wire, &url, method);
                (url, call)
            }
        };
        let dest = self.destinations.entry(destination(&url)).or_default();
        if dest.waiting.len() >= MAX_WAITING_PER_DESTINATION {
            self.connector.queue.defer(m, PUT_OFF);
            return;
        }
        dest.waiting.push_back((m, call, url));
        self.held += 1;
    }

    /// Start calls wherever a destination has room in its window.
    fn start_calls(&mut self) {
        let cfg = self.connector.config();
        let window = cfg.http.dlr_callback_window.max(1) as usize;
        let timeout = Duration::from_secs(cfg.http.dlr_callback_timeout);
        for (name, dest) in self.destinations.iter_mut() {
            while dest.in_flight < window {
                let Some((m, call, url)) = dest.waiting.pop_front() else {
                    break;
                };
                dest.in_flight += 1;
                let client = self.client.clone();
                let name = name.clone();
                self.calls.push(Box::pin(async move {
                    let started = Instant::now();
                    let result = client.call(&call, timeout).await;
                    (name, m, result, started.elapsed(), url)
                }));
            }
        }
        self.destinations
            .retain(|_, d| d.in_flight > 0 || !d.waiting.is_empty());
    }

    /// A call ended.
    fn ended(&mut self, (dest, m, result, took, url): Ended) {
        self.held -= 1;
        if let Some(d) = self.destinations.get_mut(&dest) {
            d.in_flight -= 1;
        }
        let name = &self.connector.name;
        let metrics = crate::metrics::global();
        let (code, why) = match result {
            Ok(a) if (200..300).contains(&a.status) => {
                metrics.callback(name, "ok", Some(took));
                self.done.push(m);
                return;
            }
            Ok(a) => (u32::from(a.status), format!("HTTP {}", a.status)),
            Err(e) => (e.code(), e.to_string()),
        };
        let what = match &m.dlr {
            Some(d) => format!("report {} on message {}", m.id, d.message_id),
            None => format!("MO message {}", m.id),
        };
        self.gw.logs.connector(
            name,
            0,
            format!("CALLBACK ERR (info=\"{what}: {url}: {why}\")"),
        );
        let cfg = self.connector.config();
        let made_us = m.dlr.as_ref().map_or(m.received_us, |d| d.done_us);
        let deadline_us = made_us + (cfg.http.dlr_callback_expire as i64) * 1_000_000;
        let (gw, connector) = (self.gw.clone(), self.connector.clone());
        if crate::clock::now_us() >= deadline_us {
            metrics.callback(name, "expired", Some(took));
            tokio::spawn(async move { give_up(&gw, &connector, m, &why).await });
            return;
        }
        metrics.callback(name, "retry", Some(took));
        tokio::spawn(async move { retry(&gw, &connector, m, code).await });
    }
}

/// The destination of a callback URL: its scheme, host and port.
fn destination(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    // Credentials in the URL do not make another destination.
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{}", host.to_ascii_lowercase())
}

/// Record delivered (or skipped) reports: one commit for all of them.
async fn record_delivered(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, batch: Vec<Message>) {
    if batch.is_empty() {
        return;
    }
    let n = batch.len();
    let writes = batch
        .into_iter()
        .flat_map(|m| {
            let step = history::attempt(&connector.name, None, &m, history::OK, 0, None);
            [
                Write::finish(m, MessageState::Done, "DELIVERED", None),
                step,
            ]
        })
        .collect();
    if let Err(e) = gw.store.commit(writes).await {
        tracing::error!(
            "connector {}: cannot record {n} delivered reports (they will be called back again after a restart): {e}",
            connector.name
        );
    }
    for _ in 0..n {
        Counters::add(&connector.counters.sent);
        connector.queue.finished();
    }
}

/// A failed attempt: count it, store the report again, and put it back in the queue after
/// the backoff.
async fn retry(gw: &Gateway, connector: &Arc<ConnectorHandle>, mut m: Message, code: u32) {
    let delay = backoff(connector, m.attempts, code);
    m.attempts += 1;
    let step = history::attempt(&connector.name, None, &m, history::RETRY, code, None);
    let stored = gw.store.commit(vec![Write::requeue(&m), step]).await;
    if let Err(e) = stored {
        tracing::error!(
            "connector {}: cannot record callback attempt: {e}",
            connector.name
        );
    }
    // Waits in the queue, in view of queue list, move, clear and msg cancel.
    connector.queue.defer(m, delay);
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

/// The request for report `m` to its expanded callback URL.
fn call_for(m: &Message, url: &str) -> Call {
    let fields = m.dlr.as_ref().map(|d| fields(m, d)).unwrap_or_default();
    let body = form(&fields);
    if m.origin.callback_method.as_deref() == Some("GET") {
        Call {
            method: Method::GET,
            url: with_query(url, &body),
            headers: vec![],
            body: None,
        }
    } else {
        Call {
            method: Method::POST,
            url: url.to_string(),
            headers: vec![],
            body: Some(("application/x-www-form-urlencoded", body.into_bytes())),
        }
    }
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

/// The callback could not be made before the report (or MO message) expired, or cannot be
/// made at all: it fails.
async fn give_up(gw: &Gateway, connector: &ConnectorHandle, m: Message, why: &str) {
    Counters::add(&connector.counters.failed);
    gw.logs.connector(
        &connector.name,
        0,
        format!(
            "EXPIRED (info=\"{} {} given up after {} callback attempts: {why}\")",
            if m.dlr.is_some() {
                "report"
            } else {
                "MO message"
            },
            m.id,
            m.attempts + 1
        ),
    );
    let step = history::attempt(&connector.name, None, &m, history::FAILED, 0, None);
    let done = gw
        .store
        .commit(vec![
            Write::finish(
                m,
                MessageState::Failed,
                DlrStatus::Expired.stat_word(),
                Some(format!("callback failed: {why}")),
            ),
            step,
        ])
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
    fn destinations_are_scheme_host_and_port() {
        for (url, want) in [
            ("http://127.0.0.1:9000/dlr?x=1", "http://127.0.0.1:9000"),
            ("https://user:pw@App.Example/path", "https://app.example"),
            ("http://app.example?id=7", "http://app.example"),
        ] {
            assert_eq!(destination(url), want, "{url}");
        }
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
        let get = call_for(&m, &expand("http://h/d?a=1", &m, &d));
        assert!(get
            .url
            .starts_with("http://h/d?a=1&id=7&status=DELIVRD&error=0&dlr=1"));
        assert!(
            get.url.contains("submitted=2023-11-14T22%3A13%3A20.000Z"),
            "{}",
            get.url
        );
        m.origin.callback_method = None;
        let post = call_for(&m, &expand("http://h/d", &m, &d));
        assert_eq!(post.url, "http://h/d");
        let body = String::from_utf8(post.body.unwrap().1).unwrap();
        assert!(body.starts_with("id=7&status=DELIVRD"), "{body}");
    }
}

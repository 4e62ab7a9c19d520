//! Streams: `tail` (connector or PDU log lines, live) and `watch` (state changes at once,
//! every connector's counters each second); `logs` (history) is in `control::logs`.
//!
//! A stream task pushes into its session's bounded channel with `try_send`: when the client
//! lags, events are dropped and counted, and the count goes out as a `lost` event as soon as
//! there is room again. Nothing here ever waits on a client.

use super::connectors::{all, find};
use super::server::Server;
use crate::logs::{history, LogKind as FileKind};
use common::mgp::{ErrorBody, Event, EventFrame, LogKind};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How often `watch` sends every connector's counters.
const COUNTER_EVERY: Duration = Duration::from_secs(1);

/// A stream's body, started once the session gave it a sink.
pub type StreamTask = Box<dyn FnOnce(Sink) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// Where a stream's events go, with the count of those dropped.
pub struct Sink {
    stream: u64,
    tx: mpsc::Sender<EventFrame>,
    lost: u64,
}

impl Sink {
    pub fn new(stream: u64, tx: mpsc::Sender<EventFrame>) -> Sink {
        Sink {
            stream,
            tx,
            lost: 0,
        }
    }

    fn try_push(&self, event: Event) -> Result<(), mpsc::error::TrySendError<EventFrame>> {
        self.tx.try_send(EventFrame {
            stream: self.stream,
            event,
        })
    }

    /// Push `event` or count it lost; false once the session is gone.
    pub fn emit(&mut self, event: Event) -> bool {
        if self.lost > 0 {
            match self.try_push(Event::Lost { count: self.lost }) {
                Ok(()) => self.lost = 0,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.lost += 1;
                    return true;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return false,
            }
        }
        match self.try_push(event) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lost += 1;
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Push `event`, waiting for room: for streams that must arrive whole (`logs`); false
    /// once the session is gone.
    pub async fn send(&mut self, event: Event) -> bool {
        self.tx
            .send(EventFrame {
                stream: self.stream,
                event,
            })
            .await
            .is_ok()
    }

    /// Events missed upstream (a lagging broadcast receiver).
    pub fn lose(&mut self, n: u64) {
        self.lost += n;
    }

    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// Most lines of history `tail` sends before it follows.
pub const MAX_BACKLOG: usize = 2000;

/// `tail`: the connector log (or, with `pdu`, the PDU log) of `name`, or of every connector;
/// with `backlog`, first the latest lines of the connector log files (oldest first), so that a
/// console opens on recent history rather than on an empty pane.
pub fn tail(
    s: &Server,
    name: Option<&str>,
    pdu: bool,
    backlog: Option<usize>,
) -> Result<StreamTask, ErrorBody> {
    if let Some(n) = name {
        find(s, n)?;
    }
    let names: Vec<String> = match name {
        Some(n) => vec![n.to_string()],
        None => s.gw.connectors().iter().map(|c| c.name.clone()).collect(),
    };
    let backlog = backlog.filter(|_| !pdu).map(|n| n.min(MAX_BACKLOG));
    let logdir = s.gw.config().general.logdir.clone();
    let logs = s.gw.logs.clone();
    let name: Option<Arc<str>> = name.map(Arc::from);
    let want = if pdu {
        FileKind::Pdu
    } else {
        FileKind::Connector
    };
    let kind = if pdu {
        LogKind::Pdu
    } else {
        LogKind::Connector
    };
    // Subscribe now, so that lines logged right after the answer are not missed.
    let mut feed = s.gw.logs.subscribe();
    Ok(Box::new(move |mut sink: Sink| {
        Box::pin(async move {
            // Lines of the history that the feed may carry again: skipped there.
            let mut seen: HashSet<String> = HashSet::new();
            if let Some(n) = backlog.filter(|n| *n > 0) {
                logs.flush().await;
                let read = tokio::task::spawn_blocking(move || history_of(&logdir, &names, n));
                for (connector, instance, line) in read.await.unwrap_or_default() {
                    seen.insert(line.clone());
                    let ev = Event::Log {
                        kind,
                        connector,
                        instance,
                        line,
                    };
                    if !sink.send(ev).await {
                        return;
                    }
                }
            }
            let mut checked = 0;
            loop {
                match feed.recv().await {
                    Ok(l) => {
                        if l.kind != want || name.as_ref().is_some_and(|n| *n != l.connector) {
                            continue;
                        }
                        if !seen.is_empty() {
                            checked += 1;
                            let again = seen.remove(&l.line);
                            if checked > 4096 {
                                seen.clear();
                            }
                            if again {
                                continue;
                            }
                        }
                        let ev = Event::Log {
                            kind,
                            connector: l.connector.to_string(),
                            instance: l.instance,
                            line: l.line.clone(),
                        };
                        if !sink.emit(ev) {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => sink.lose(n),
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    }))
}

/// The latest `n` lines of the connector logs of `names`, oldest first, with the connector and
/// instance each is of. The files' lines start with their timestamp, so they merge by text.
fn history_of(logdir: &Path, names: &[String], n: usize) -> Vec<(String, u32, String)> {
    let mut all = Vec::new();
    for name in names {
        let Ok(path) = history::resolve(logdir, &format!("connector.{name}")) else {
            continue; // nothing logged yet
        };
        if let Ok((lines, _)) = history::read(&path, None, n) {
            all.extend(
                lines
                    .into_iter()
                    .map(|l| (name.clone(), instance_of(&l), l)),
            );
        }
    }
    all.sort_by(|a, b| a.2.cmp(&b.2));
    let skip = all.len().saturating_sub(n);
    all.split_off(skip)
}

/// The instance of a connector-log line: `2026-05-04 10:00:00.000001 (3) ...` is 3.
fn instance_of(line: &str) -> u32 {
    line.split_once(" (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

/// `watch`: a `counters` event at once and every second, a `state` event on each change of a
/// connector's instance states, pushed by the connector as it happens (every transition, in
/// order; a listener too slow for the connector's buffer is sent its states as they are now).
pub fn watch(s: &Arc<Server>) -> StreamTask {
    let s = s.clone();
    Box::new(move |mut sink: Sink| {
        Box::pin(async move {
            let mut changes: futures_util::stream::SelectAll<_> =
                s.gw.connectors()
                    .iter()
                    .map(|c| {
                        let (name, handle) = (c.name.clone(), c.clone());
                        let rx = c.subscribe_states();
                        Box::pin(futures_util::stream::unfold(rx, move |mut rx| {
                            let (name, handle) = (name.clone(), handle.clone());
                            async move {
                                let states = match rx.recv().await {
                                    Ok(states) => states,
                                    Err(broadcast::error::RecvError::Lagged(_)) => {
                                        handle.shown_states()
                                    }
                                    Err(broadcast::error::RecvError::Closed) => return None,
                                };
                                let states: Vec<String> =
                                    states.iter().map(ToString::to_string).collect();
                                Some(((name, states), rx))
                            }
                        }))
                    })
                    .collect();
            let mut last: HashMap<String, Vec<String>> =
                s.gw.connectors()
                    .iter()
                    .map(|c| {
                        (
                            c.name.clone(),
                            c.shown_states().iter().map(ToString::to_string).collect(),
                        )
                    })
                    .collect();
            let mut counters = tokio::time::interval(COUNTER_EVERY);
            loop {
                tokio::select! {
                    _ = counters.tick() => {
                        if !sink.emit(Event::Counters {
                            total_queued: s.gw.total_queued(),
                            connectors: all(&s),
                        }) {
                            return;
                        }
                    }
                    Some((connector, states)) = futures_util::StreamExt::next(&mut changes) => {
                        if last.get(&connector) == Some(&states) {
                            continue;
                        }
                        last.insert(connector.clone(), states.clone());
                        if !sink.emit(Event::State { connector, states }) {
                            return;
                        }
                    }
                }
                if sink.is_closed() {
                    return;
                }
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_channel_counts_losses_and_reports_them_when_there_is_room() {
        let (tx, mut rx) = mpsc::channel(2);
        let mut sink = Sink::new(7, tx);
        let ev = |i: u64| Event::Lost { count: 1000 + i };
        assert!(sink.emit(ev(1)));
        assert!(sink.emit(ev(2)));
        assert!(sink.emit(ev(3)), "full: dropped and counted");
        assert!(sink.emit(ev(4)), "the lost report does not fit either");
        assert_eq!(rx.try_recv().unwrap().event, ev(1));
        assert_eq!(rx.try_recv().unwrap().event, ev(2));
        assert!(sink.emit(ev(5)));
        let lost = rx.try_recv().unwrap();
        assert_eq!(lost.stream, 7);
        assert_eq!(lost.event, Event::Lost { count: 2 });
        assert_eq!(rx.try_recv().unwrap().event, ev(5));
        drop(rx);
        assert!(!sink.emit(ev(6)), "session gone");
    }
}

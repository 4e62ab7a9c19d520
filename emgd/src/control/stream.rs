//! Streams: `tail` (connector or PDU log lines, live) and `watch` (state changes at once,
//! every connector's counters each second); `logs` (history) is in `control::logs`.
//!
//! A stream task pushes into its session's bounded channel with `try_send`: when the client
//! lags, events are dropped and counted, and the count goes out as a `lost` event as soon as
//! there is room again. Nothing here ever waits on a client.

use super::connectors::{all, find};
use super::server::Server;
use crate::logs::LogKind as FileKind;
use common::mgp::{ErrorBody, Event, EventFrame, LogKind};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// How often `watch` looks for state changes; counters go out every [`COUNTER_TICKS`] ticks.
const STATE_POLL: Duration = Duration::from_millis(250);
const COUNTER_TICKS: u32 = 4;

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

/// `tail`: the connector log (or, with `pdu`, the PDU log) of `name`, or of every connector.
pub fn tail(s: &Server, name: Option<&str>, pdu: bool) -> Result<StreamTask, ErrorBody> {
    if let Some(n) = name {
        find(s, n)?;
    }
    let name: Option<Arc<str>> = name.map(Arc::from);
    let want = if pdu {
        FileKind::Pdu
    } else {
        FileKind::Connector
    };
    // Subscribe now, so that lines logged right after the answer are not missed.
    let mut feed = s.gw.logs.subscribe();
    Ok(Box::new(move |mut sink: Sink| {
        Box::pin(async move {
            loop {
                match feed.recv().await {
                    Ok(l) => {
                        if l.kind != want || name.as_ref().is_some_and(|n| *n != l.connector) {
                            continue;
                        }
                        let ev = Event::Log {
                            kind: if pdu {
                                LogKind::Pdu
                            } else {
                                LogKind::Connector
                            },
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

/// `watch`: a `counters` event at once and every second, a `state` event on each change.
pub fn watch(s: &Arc<Server>) -> StreamTask {
    let s = s.clone();
    Box::new(move |mut sink: Sink| {
        Box::pin(async move {
            let mut last: HashMap<String, Vec<String>> = HashMap::new();
            let mut tick = tokio::time::interval(STATE_POLL);
            let mut n: u32 = 0;
            loop {
                tick.tick().await;
                if sink.is_closed() {
                    return;
                }
                for c in s.gw.connectors() {
                    let states: Vec<String> = c.states().iter().map(ToString::to_string).collect();
                    let changed = last.get(&c.name).is_some_and(|old| *old != states);
                    if changed
                        && !sink.emit(Event::State {
                            connector: c.name.clone(),
                            states: states.clone(),
                        })
                    {
                        return;
                    }
                    last.insert(c.name.clone(), states);
                }
                if n.is_multiple_of(COUNTER_TICKS)
                    && !sink.emit(Event::Counters {
                        total_queued: s.gw.total_queued(),
                        connectors: all(&s),
                    })
                {
                    return;
                }
                n = n.wrapping_add(1);
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

//! The connection to emgd: log in, open `watch` and `tail`, forward their events, perform
//! the requests the main loop sends; when the connection drops, say so and reconnect with
//! backoff, forever (the dashboard is meant to stay up while emgd restarts).

use super::state::{summarize, Action, Fetch, Update};
use crate::client::Client;
use crate::exit::Failure;
use crate::login::{connect, Creds};
use common::mgp::{ConnectorDetail, LogKind, Op, Status, StreamRef};
use std::time::Duration;
use tokio::sync::mpsc;

/// Connector-log lines a new session asks for before it follows.
const BACKLOG: usize = 200;

/// What the main loop asks of the connection.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    Run(Action),
    Detail(String),
    Fetch(Fetch),
    /// Which log the pane shows: the PDU log needs its own stream.
    Tail(LogKind),
}

/// Reconnection delays: doubling from `min` up to `max`, back to `min` once connected.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
    pub attempt: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            min,
            max,
            next: min,
            attempt: 0,
        }
    }

    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        self.attempt += 1;
        d
    }

    pub fn reset(&mut self) {
        self.next = self.min;
        self.attempt = 0;
    }
}

/// Run until the main loop drops its command sender. `first` is the session opened (and
/// logged in) before the terminal was taken over, so that a wrong password is a plain error.
pub async fn run(
    creds: Creds,
    first: Client,
    mut cmds: mpsc::Receiver<Cmd>,
    tx: mpsc::Sender<Update>,
) {
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
    let mut kind = LogKind::Connector;
    let mut client = Some(first);
    loop {
        let c = match client.take() {
            Some(c) => Ok(c),
            None => {
                let _ = tx
                    .send(Update::Connecting {
                        attempt: backoff.attempt,
                    })
                    .await;
                connect(&creds).await.map(|(c, _)| c)
            }
        };
        let reason = match c {
            Ok(mut c) => match session(&mut c, &mut kind, &mut cmds, &tx, &mut backoff).await {
                Ok(()) => return,
                Err(e) => e,
            },
            Err(e) => e.to_string(),
        };
        let retry_in = backoff.next_delay();
        let lost = Update::Lost {
            reason,
            attempt: backoff.attempt,
            retry_in,
        };
        if tx.send(lost).await.is_err() {
            return;
        }
        // Wait, answering requests with "not connected" meanwhile.
        let sleep = tokio::time::sleep(retry_in);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                cmd = cmds.recv() => match cmd {
                    None => return,
                    Some(Cmd::Run(action)) => {
                        let result = Err("not connected to emgd".to_string());
                        let _ = tx.send(Update::Done { action, result }).await;
                    }
                    Some(Cmd::Fetch(fetch)) => {
                        let result = Err("not connected to emgd".to_string());
                        let _ = tx.send(Update::Fetched { fetch, result }).await;
                    }
                    Some(Cmd::Tail(k)) => kind = k,
                    Some(Cmd::Detail(_)) => {}
                },
            }
        }
    }
}

async fn stream(c: &mut Client, op: Op) -> Result<u64, Failure> {
    Ok(c.call_as::<StreamRef>(op).await?.1.stream)
}

/// One connected session; `Ok` when the main loop is gone, `Err(reason)` when the
/// connection is.
async fn session(
    c: &mut Client,
    kind: &mut LogKind,
    cmds: &mut mpsc::Receiver<Cmd>,
    tx: &mpsc::Sender<Update>,
    backoff: &mut Backoff,
) -> Result<(), String> {
    let err = |e: Failure| e.to_string();
    let (_, status) = c.call_as::<Status>(Op::Status).await.map_err(err)?;
    backoff.reset();
    if tx.send(Update::Connected { status }).await.is_err() {
        return Ok(());
    }
    stream(c, Op::Watch).await.map_err(err)?;
    let tail = |pdu| Op::Tail {
        name: None,
        pdu,
        backlog: None,
    };
    // The connector log opens on its recent history, then follows.
    let with_backlog = Op::Tail {
        name: None,
        pdu: false,
        backlog: Some(BACKLOG),
    };
    stream(c, with_backlog).await.map_err(err)?;
    let mut pdu = match kind {
        LogKind::Pdu => Some(stream(c, tail(true)).await.map_err(err)?),
        LogKind::Connector => None,
    };
    loop {
        tokio::select! {
            ev = c.next_event() => {
                let ev = ev.map_err(err)?.ok_or("emgd closed the connection")?;
                if tx.send(Update::Event(ev.event)).await.is_err() {
                    return Ok(());
                }
            }
            cmd = cmds.recv() => {
                let Some(cmd) = cmd else { return Ok(()) };
                let update = match cmd {
                    Cmd::Run(Action::Bulk { kind, ids }) => {
                        let action = Action::Bulk { kind: kind.clone(), ids: ids.clone() };
                        let (mut done, mut failed, total) = (0, Vec::new(), ids.len());
                        for id in ids {
                            match c.call(kind.one(id).op()).await {
                                Ok(_) => done += 1,
                                Err(Failure::Server(e)) => failed.push(format!("{id}: {}", e.message)),
                                Err(e) => return Err(e.to_string()),
                            }
                            let progress = Update::Progress { done: done + failed.len(), failed: failed.len(), total };
                            if tx.send(progress).await.is_err() {
                                return Ok(());
                            }
                        }
                        let result = if failed.is_empty() {
                            Ok(format!("{}: all {done} done", action.describe()))
                        } else {
                            Err(format!("{done} of {total} done; {} refused ({})", failed.len(), failed.join("; ")))
                        };
                        Update::Done { action, result }
                    }
                    Cmd::Run(action) => {
                        let result = match c.call(action.op()).await {
                            Ok(v) => Ok(summarize(&action, &v)),
                            Err(Failure::Server(e)) => Err(e.message),
                            Err(e) => return Err(e.to_string()),
                        };
                        Update::Done { action, result }
                    }
                    Cmd::Fetch(fetch) => {
                        let result = match c.call(fetch.op()).await {
                            Ok(v) => fetch.decode(v),
                            Err(Failure::Server(e)) => Err(e.message),
                            Err(e) => return Err(e.to_string()),
                        };
                        Update::Fetched { fetch, result }
                    }
                    Cmd::Detail(name) => {
                        let stats = Fetch::Stats(name.clone());
                        let detail = match c.call_as::<ConnectorDetail>(Op::Connector { name }).await {
                            Ok((_, d)) => Update::Detail(d),
                            Err(Failure::Server(_)) => continue,
                            Err(e) => return Err(e.to_string()),
                        };
                        if tx.send(detail).await.is_err() {
                            return Ok(());
                        }
                        // The error counts and latencies beside it (an older emgd has no
                        // connector_stats: the pane then shows what the log told).
                        let result = match c.call(stats.op()).await {
                            Ok(v) => stats.decode(v),
                            Err(Failure::Server(e)) => Err(e.message),
                            Err(e) => return Err(e.to_string()),
                        };
                        Update::Fetched { fetch: stats, result }
                    }
                    Cmd::Tail(k) => {
                        *kind = k;
                        match (k, pdu) {
                            (LogKind::Pdu, None) => pdu = Some(stream(c, tail(true)).await.map_err(err)?),
                            (LogKind::Connector, Some(s)) => {
                                c.call(Op::Stop { stream: s }).await.map_err(err)?;
                                pdu = None;
                            }
                            _ => {}
                        }
                        continue;
                    }
                };
                if tx.send(update).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(5));
        let got: Vec<u64> = (0..7).map(|_| b.next_delay().as_millis() as u64).collect();
        assert_eq!(got, [500, 1000, 2000, 4000, 5000, 5000, 5000]);
        assert_eq!(b.attempt, 7);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(500));
        assert_eq!(b.attempt, 1);
    }
}

//! Outgoing connectors that send each message with a call of its own rather than over a
//! session of frames: outgoing HTTP (one request per message), the simulated SMSC, and next
//! EBE (a program run per message). The protocol supplies the call ([`Caller`]); the runtime
//! runs `instances` instances, each keeping up to `windowsize` calls in flight, paced by
//! `throughput`, and does everything around a call: hold and force-close, the expiry check,
//! the `Submitting` record, the OUT pipeline, and recording the outcome. A temporary failure
//! puts the message back (unless a retry-scheme message rule takes it) and backs the
//! instance off as the connector rule says, through IDLE or ERROR.

use super::link::Link;
use super::retry::Retry;
use super::state::{ConnState, ConnectorHandle, SessionInfo};
use crate::gateway::{stopped, Gateway};
use common::dlr::DlrStatus;
use common::message::Message;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// What became of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// The peer took it, with the id its receipts will name. `delivered`: the peer sends no
    /// receipts, so it counts as delivered now (the sender's report is made at once).
    Sent {
        remote_id: Option<String>,
        delivered: bool,
    },
    /// Refused with `error` for `command`: the retry scheme's message rules decide.
    Refused { command: u32, error: u32 },
    /// The peer could not be reached or asked us to come back later: the message goes back
    /// to the queue (unless a message rule matches) and the instance backs off.
    Temporary { command: u32, error: u32 },
}

/// How the line under a protocol whose calls share one line (a GSM modem) is doing, so that
/// the connector's state shows a dead line even when no message is there to fail on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Up,
    /// The line could not be opened or set up; `state` is what the retry scheme's connector
    /// rule makes of the failures so far (IDLE while retrying, ERROR after a round).
    Down {
        state: ConnState,
    },
}

/// What a call-per-message protocol does.
pub trait Caller: Send + Sync + 'static {
    /// Record `Submitting` before each call (anything that leaves the process).
    const RECORDS_SUBMITTING: bool;

    /// An instance comes up (again): who it talks to. Log what the protocol logs here.
    fn open(&self, link: &Link) -> SessionInfo;

    /// Send `wire`, the OUT pipeline's copy of a queued message.
    fn call(self: Arc<Self>, link: Link, wire: Message)
        -> impl Future<Output = CallOutcome> + Send;

    /// The message the peer took as `remote_id` is recorded as sent (its DLR entry is open):
    /// a receipt may come now.
    fn recorded(&self, _link: &Link, _remote_id: &str, _dlr_requested: bool) {}

    /// The shared line's health, for a protocol that has one: while it is down the instance
    /// takes no messages and shows the line's state, not BOUND. None: each call stands alone.
    fn line(&self) -> Option<watch::Receiver<Line>> {
        None
    }
}

/// The peer took `m` (naming it `remote_id`, if it gave one): what that means for its
/// delivery report, by EMG's `dlr_support` and `nodlr`. With `dlr_support` the report comes
/// later (a receipt, or one injected with MSGTYPE=5), naming the message by `remote_id` or, without one, by its emg
/// id; without it the sender's report is made now, DELIVRD, unless `nodlr` says none is made.
pub fn taken(cfg: &config::Connector, m: &Message, remote_id: Option<String>) -> CallOutcome {
    if cfg.dlr_support {
        return CallOutcome::Sent {
            remote_id: Some(remote_id.unwrap_or_else(|| m.id.to_string())),
            delivered: false,
        };
    }
    if cfg.nodlr || !m.dlr_requested {
        // Final once handed on: no entry waits for a report.
        return CallOutcome::Sent {
            remote_id: remote_id.filter(|_| !m.dlr_requested),
            delivered: false,
        };
    }
    CallOutcome::Sent {
        remote_id: Some(remote_id.unwrap_or_else(|| m.id.to_string())),
        delivered: true,
    }
}

/// Run every instance of a call-per-message connector until shutdown.
pub async fn run<C: Caller>(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, caller: Arc<C>) {
    let mut instances = JoinSet::new();
    for instance in 0..connector.config().instances {
        let link = Link::new(gw.clone(), connector.clone(), instance);
        instances.spawn(run_instance(link, caller.clone()));
    }
    while instances.join_next().await.is_some() {}
}

fn open<C: Caller>(link: &Link, caller: &C) {
    link.set_state(ConnState::Connected);
    let session = caller.open(link);
    link.bound(session);
}

fn line_state(line: &Option<watch::Receiver<Line>>) -> Line {
    line.as_ref().map_or(Line::Up, |l| *l.borrow())
}

/// Waits until the shared line is up, showing its state meanwhile. False on shutdown or
/// when the line's owner is gone.
async fn wait_line_up(link: &Link, line: &mut Option<watch::Receiver<Line>>) -> bool {
    let Some(line) = line else { return true };
    let mut shutdown = link.shutdown_signal();
    loop {
        match *line.borrow_and_update() {
            Line::Up => return true,
            Line::Down { state } => {
                link.connector.set_session(link.instance, None);
                link.set_state(state);
            }
        }
        tokio::select! {
            changed = line.changed() => if changed.is_err() { return false },
            _ = stopped(&mut shutdown) => return false,
        }
    }
}

/// Resolves when the shared line (if any) changes to down.
async fn line_went_down(line: &mut Option<watch::Receiver<Line>>) {
    match line {
        None => std::future::pending().await,
        Some(l) => loop {
            if l.changed().await.is_err() {
                return std::future::pending().await;
            }
            if *l.borrow_and_update() != Line::Up {
                return;
            }
        },
    }
}

async fn run_instance<C: Caller>(link: Link, caller: Arc<C>) {
    let connector = link.connector.clone();
    let mut shutdown = link.shutdown_signal();
    let mut inflight: JoinSet<Option<(u32, u32)>> = JoinSet::new();
    let mut retry = Retry::default();
    let takes = super::outbox::Takes::for_instance(&link);
    let mut line = caller.line();
    'session: loop {
        tokio::select! {
            _ = connector.wait_released_or_hold_only() => {}
            _ = stopped(&mut shutdown) => break 'session,
        }
        if !wait_line_up(&link, &mut line).await {
            break 'session;
        }
        open(&link, &*caller);
        loop {
            connector.set_inflight(link.instance, inflight.len());
            let window = link.config().windowsize.max(1) as usize;
            let room = inflight.len() < window && link.may_transmit();
            let pace_wait = if room {
                connector.pace_wait()
            } else {
                Duration::ZERO
            };
            tokio::select! {
                _ = stopped(&mut shutdown) => break 'session,
                Some(done) = inflight.join_next(), if !inflight.is_empty() => match done {
                    Ok(Some((command, error))) => {
                        if !retry.back_off(&link, command, error, "sends").await {
                            break 'session;
                        }
                        if line_state(&line) != Line::Up {
                            continue 'session;
                        }
                        open(&link, &*caller);
                    }
                    Ok(None) => retry.succeeded(),
                    Err(e) => tracing::error!("connector {}: send task failed: {e}", link.name()),
                },
                _ = tokio::time::sleep(pace_wait), if !pace_wait.is_zero() => {}
                m = takes.next(), if room && pace_wait.is_zero() => {
                    connector.pace_take();
                    inflight.spawn(Box::pin(send(link.clone(), caller.clone(), m)));
                }
                _ = line_went_down(&mut line) => continue 'session,
                _ = connector.forceclose_set() => {
                    link.log("DISCONNECT (info=\"force close\")");
                    link.set_state(ConnState::Idle);
                    continue 'session;
                }
            }
        }
    }
    link.set_state(ConnState::Terminating);
    while inflight.join_next().await.is_some() {}
    connector.set_inflight(link.instance, 0);
    link.set_state(ConnState::Dead);
}

/// One message, from its expiry check to its recorded outcome. `Some((command, error))` when
/// the instance should back off.
async fn send<C: Caller>(link: Link, caller: Arc<C>, m: Message) -> Option<(u32, u32)> {
    let (gw, connector) = (&link.gw, &link.connector);
    if m.expires_us.is_some_and(|t| t <= crate::clock::now_us()) {
        gw.expired(connector, m).await;
        return None;
    }
    if let Some(wait) = m.wait_before_sending(crate::clock::now_us()) {
        // Scheduled for later (loaded back from the store after a restart).
        connector.queue.defer(m, wait);
        return None;
    }
    if C::RECORDS_SUBMITTING && !gw.submitting(connector, std::slice::from_ref(&m)).await {
        gw.unsent(connector, m);
        return Some((0, 0));
    }
    let wire = match gw.outbound(connector, &m) {
        Ok(wire) => wire,
        // A plugin's `before_send` refused it: it fails without leaving.
        Err(refusal) => {
            gw.refused_on_send(connector, m, refusal).await;
            return None;
        }
    };
    match caller.clone().call(link.clone(), wire).await {
        CallOutcome::Sent {
            remote_id,
            delivered,
        } => {
            let dlr_requested = m.dlr_requested;
            gw.sent(connector, Some(link.instance), m, remote_id.clone())
                .await;
            if let Some(id) = remote_id {
                if delivered {
                    link.receipt(&id, DlrStatus::Delivered, 0).await;
                }
                caller.recorded(&link, &id, dlr_requested);
            }
            None
        }
        CallOutcome::Refused { command, error } => {
            gw.failed(connector, Some(link.instance), m, command, error)
                .await;
            None
        }
        CallOutcome::Temporary { command, error } => {
            if link
                .config()
                .retryscheme
                .message_rule(command, error)
                .is_some()
            {
                gw.failed(connector, Some(link.instance), m, command, error)
                    .await;
                return None;
            }
            gw.unsent(connector, m);
            Some((command, error))
        }
    }
}

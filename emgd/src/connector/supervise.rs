//! The connector supervisor: owns every connector's session tasks, and does what a reload asks
//! ([`Change`]): starts a connector new to the configuration; stops a removed one for good
//! after draining or rerouting its queue (`removed_queue`), showing it TERMINATING meanwhile
//! and DEAD after; restarts one whose type, protocol, address, instances or dlr_address
//! changed. At shutdown it waits for every session, as long as the grace allows.
//!
//! A connector's sessions are stopped the way an operator's force-close stops them (each
//! session closes gracefully: logs out, puts back what it had not sent), and only once none
//! is connected and no message is in flight are its tasks ended, so nothing accepted is lost.

use crate::gateway::changes::Change;
use crate::gateway::{stopped, Gateway};
use config::RemovedQueue;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::runtime::state::{ConnState, ConnectorHandle};

/// How long stopping sessions may take before their tasks are ended anyway (a peer that
/// never answers the logout); a message still in flight then stays queued in the store.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// How often a draining connector's queue is looked at.
const DRAIN_POLL: Duration = Duration::from_millis(200);

/// What a stop job ends with.
enum Next {
    /// Removed: DEAD, unless a reload put it back meanwhile.
    Dead,
    /// Start again with the settings in force.
    Restart(Box<config::Connector>),
}

struct Stopped {
    handle: Arc<ConnectorHandle>,
    next: Next,
    /// The operator's force-close before the job set it.
    forceclosed: bool,
}

#[derive(Default)]
pub struct Supervisor {
    sessions: BTreeMap<String, JoinSet<()>>,
    /// Connectors being stopped, and changes asked for them meanwhile (done after).
    busy: BTreeMap<String, Vec<Change>>,
}

impl Supervisor {
    /// Start a connector's sessions (at emgd's start: an error stops the start).
    pub async fn start(
        &mut self,
        gw: &Arc<Gateway>,
        c: &Arc<ConnectorHandle>,
    ) -> anyhow::Result<()> {
        let set = self.sessions.entry(c.name.clone()).or_default();
        super::start(gw, c, set).await
    }

    /// Connectors with sessions running.
    pub fn running(&self) -> usize {
        self.sessions.len()
    }

    /// Do what reloads ask until shutdown, then wait (at most `grace`) for every session.
    pub async fn run(
        mut self,
        gw: Arc<Gateway>,
        mut changes: mpsc::UnboundedReceiver<Change>,
        grace: Duration,
    ) {
        let mut shutdown = gw.shutdown_signal();
        let mut jobs: JoinSet<Stopped> = JoinSet::new();
        loop {
            tokio::select! {
                Some(change) = changes.recv() => self.take(&gw, change, &mut jobs).await,
                Some(Ok(done)) = jobs.join_next() => self.finish(&gw, done, &mut jobs).await,
                _ = stopped(&mut shutdown) => break,
            }
        }
        jobs.abort_all();
        let all = async {
            for set in self.sessions.values_mut() {
                while set.join_next().await.is_some() {}
            }
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                "sessions did not finish within {grace:?}; their messages stay queued in the store"
            );
            self.sessions.values_mut().for_each(JoinSet::abort_all);
        }
    }

    async fn take(&mut self, gw: &Arc<Gateway>, change: Change, jobs: &mut JoinSet<Stopped>) {
        let name = match &change {
            Change::Start(h) | Change::Remove(h) | Change::Restart(h, _) => h.name.clone(),
        };
        if let Some(waiting) = self.busy.get_mut(&name) {
            waiting.push(change);
            return;
        }
        match change {
            Change::Start(handle) => {
                if self.sessions.contains_key(&name) {
                    return;
                }
                self.start_logged(gw, &handle).await;
            }
            Change::Remove(handle) => {
                self.busy.insert(name, Vec::new());
                let general = &gw.config().general;
                let (mode, wait) = (general.removed_queue, general.drain_timeout);
                jobs.spawn(retire(gw.clone(), handle, mode, Duration::from_secs(wait)));
            }
            Change::Restart(handle, cfg) => {
                self.busy.insert(name, Vec::new());
                jobs.spawn(async move {
                    let forceclosed = stop_sessions(&handle).await;
                    Stopped {
                        handle,
                        next: Next::Restart(cfg),
                        forceclosed,
                    }
                });
            }
        }
    }

    /// A stop job is done: end the connector's tasks, then DEAD or start again, then what
    /// was asked meanwhile.
    async fn finish(&mut self, gw: &Arc<Gateway>, done: Stopped, jobs: &mut JoinSet<Stopped>) {
        let Stopped {
            handle,
            next,
            forceclosed,
        } = done;
        if let Some(mut set) = self.sessions.remove(&handle.name) {
            set.shutdown().await;
        }
        handle.set_forceclose(forceclosed);
        match next {
            Next::Dead if handle.removed() => {
                handle.set_dead();
                gw.logs
                    .connector(&handle.name, 0, "DEAD (removed from the configuration)");
                tracing::info!(
                    "connector {} stopped: removed from the configuration",
                    handle.name
                );
            }
            Next::Dead => self.start_logged(gw, &handle).await,
            Next::Restart(cfg) => {
                // A later reload may have changed it again: take what is in force now.
                let cfg = gw
                    .config()
                    .connectors
                    .get(&handle.name)
                    .cloned()
                    .unwrap_or(*cfg);
                handle.set_config(cfg);
                self.start_logged(gw, &handle).await;
            }
        }
        for change in self.busy.remove(&handle.name).unwrap_or_default() {
            Box::pin(self.take(gw, change, jobs)).await;
        }
    }

    /// Start a connector after a reload; one that cannot start is in ERROR (logged), and the
    /// rest of the gateway runs on.
    async fn start_logged(&mut self, gw: &Arc<Gateway>, handle: &Arc<ConnectorHandle>) {
        for instance in 0..handle.config().instances {
            handle.set_state(instance, ConnState::Idle);
        }
        if let Err(e) = self.start(gw, handle).await {
            tracing::error!("reload: connector {} cannot start: {e:#}", handle.name);
            for instance in 0..handle.config().instances {
                handle.set_state(instance, ConnState::Error);
            }
            return;
        }
        gw.logs.connector(&handle.name, 0, "STARTED (reload)");
    }
}

/// Close the connector's sessions as force-close does and wait until none is connected and
/// nothing is in flight (at most [`STOP_WAIT`]). Returns the operator's force-close flag from
/// before.
async fn stop_sessions(handle: &ConnectorHandle) -> bool {
    let forceclosed = handle.forceclosed();
    handle.set_forceclose(true);
    let quiet = async {
        while !handle.is_quiet() {
            tokio::time::sleep(DRAIN_POLL).await;
        }
    };
    if tokio::time::timeout(STOP_WAIT, quiet).await.is_err() {
        tracing::warn!(
            "connector {}: sessions still busy after {STOP_WAIT:?}; stopping them anyway (what they had in flight stays queued in the store)",
            handle.name
        );
    }
    forceclosed
}

/// A removed connector: drain (send what it has queued, then stop) or reroute (stop, then
/// route its queue again), then DEAD. A drain that has not emptied the queue within
/// `drain_timeout` (a peer that is down) ends as a reroute of what is left.
async fn retire(
    gw: Arc<Gateway>,
    handle: Arc<ConnectorHandle>,
    mut mode: RemovedQueue,
    drain_timeout: Duration,
) -> Stopped {
    let queued = handle.queue.len();
    gw.logs.connector(
        &handle.name,
        0,
        format!("TERMINATING (removed from the configuration; {queued} queued, {mode:?})"),
    );
    if mode == RemovedQueue::Drain {
        let deadline = tokio::time::Instant::now() + drain_timeout;
        // A removal undone by a later reload ends the wait as well.
        while handle.removed() && !handle.queue.is_empty() {
            if tokio::time::Instant::now() >= deadline {
                let left = handle.queue.len();
                gw.logs.connector(
                    &handle.name,
                    0,
                    format!("DRAIN TIMEOUT ({left} still queued after {drain_timeout:?}; routing them again)"),
                );
                tracing::warn!(
                    "connector {}: {left} messages still queued after drain_timeout ({drain_timeout:?}); routing them again",
                    handle.name
                );
                mode = RemovedQueue::Reroute;
                break;
            }
            tokio::time::sleep(DRAIN_POLL).await;
        }
    }
    let forceclosed = stop_sessions(&handle).await;
    if mode == RemovedQueue::Reroute && handle.removed() {
        let done = gw.reroute_queue(&handle).await;
        gw.logs.connector(
            &handle.name,
            0,
            format!(
                "QUEUE REROUTED {} messages, {} kept (no route)",
                done.moved, done.kept
            ),
        );
        if done.kept > 0 {
            tracing::warn!(
                "connector {}: {} queued messages have no route after its removal; they stay queued on it (move them with `emgclient queue move`)",
                handle.name,
                done.kept
            );
        }
    }
    Stopped {
        handle,
        next: Next::Dead,
        forceclosed,
    }
}

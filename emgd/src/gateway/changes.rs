//! What a reload asks of the connector supervisor (`crate::connector::supervise`), and the
//! channel it goes by: the gateway decides, the supervisor starts and stops sessions.

use crate::connector::runtime::state::ConnectorHandle;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What a reload asks of the connector supervisor.
pub enum Change {
    /// A connector new to the configuration (or back in it after a removal): start it.
    Start(Arc<ConnectorHandle>),
    /// A connector the configuration no longer has: drain or reroute its queue
    /// (`removed_queue`), then stop it for good (DEAD).
    Remove(Arc<ConnectorHandle>),
    /// Settings its sessions were started with changed: close them gracefully, take these
    /// settings, start again.
    Restart(Arc<ConnectorHandle>, Box<config::Connector>),
}

/// The channel from reloads to the supervisor; the supervisor takes its end once, at start.
pub struct ChangeQueue {
    tx: mpsc::UnboundedSender<Change>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<Change>>>,
}

impl ChangeQueue {
    /// The supervisor's end (`None` once taken).
    pub fn take(&self) -> Option<mpsc::UnboundedReceiver<Change>> {
        self.rx.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Without a supervisor (unit tests) nothing starts or stops: that is all this loses.
    pub fn send(&self, change: Change) {
        let _ = self.tx.send(change);
    }
}

impl Default for ChangeQueue {
    fn default() -> ChangeQueue {
        let (tx, rx) = mpsc::unbounded_channel();
        ChangeQueue {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }
}

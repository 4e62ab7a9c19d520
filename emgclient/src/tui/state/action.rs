//! Operations the dashboard performs on emgd, and the one-line result each reports.

use common::mgp::{Flags, MessageRef, Op, QueueCleared, QueueMoved, Reloaded};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Hold(String),
    Release(String),
    Bounce(String),
    Forceclose(String),
    /// Force-close, and store the flag so that it survives a restart.
    ForceclosePersist(String),
    ForcecloseClear(String),
    QueueClear(String),
    Reload,
    MsgCancel(u64),
    MsgMove {
        id: u64,
        to: String,
    },
    MsgResend(u64),
    DlrInject {
        id: u64,
        status: String,
    },
    /// The same operation on many messages, one request each, with a progress bar.
    Bulk {
        kind: BulkKind,
        ids: Vec<u64>,
    },
    QueueMove {
        from: String,
        to: String,
    },
    Send {
        to: String,
        from: String,
        text: String,
        via: Option<String>,
    },
}

/// What a bulk action does to each message.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkKind {
    Cancel,
    Move { to: String },
}

impl BulkKind {
    /// The single-message action for `id`.
    pub fn one(&self, id: u64) -> Action {
        match self {
            BulkKind::Cancel => Action::MsgCancel(id),
            BulkKind::Move { to } => Action::MsgMove { id, to: to.clone() },
        }
    }
}

impl Action {
    /// Must an operator confirm it first? (It stops traffic, moves or ends messages.)
    pub fn needs_confirm(&self) -> bool {
        matches!(
            self,
            Action::Hold(_)
                | Action::Bounce(_)
                | Action::Forceclose(_)
                | Action::ForceclosePersist(_)
                | Action::QueueMove { .. }
                | Action::QueueClear(_)
                | Action::Reload
                | Action::MsgCancel(_)
                | Action::MsgMove { .. }
                | Action::MsgResend(_)
                | Action::DlrInject { .. }
                | Action::Bulk { .. }
        )
    }

    /// Does it change what is queued (so that a messages view must fetch again)?
    pub fn changes_messages(&self) -> bool {
        matches!(
            self,
            Action::QueueMove { .. }
                | Action::QueueClear(_)
                | Action::MsgCancel(_)
                | Action::MsgMove { .. }
                | Action::MsgResend(_)
                | Action::DlrInject { .. }
                | Action::Bulk { .. }
                | Action::Send { .. }
        )
    }

    /// The request; a bulk action is one request per message ([`BulkKind::one`]).
    pub fn op(&self) -> Op {
        match self.clone() {
            Action::ForceclosePersist(name) => Op::Forceclose {
                name,
                persist: true,
            },
            Action::QueueClear(name) => Op::QueueClear { name },
            Action::Reload => Op::Reload,
            Action::MsgCancel(id) => Op::MsgCancel { id },
            Action::MsgMove { id, to } => Op::MsgMove { id, to },
            Action::MsgResend(id) => Op::MsgResend { id, via: None },
            Action::DlrInject { id, status } => Op::DlrInject { id, status },
            Action::Bulk { kind, ids } => kind.one(ids.first().copied().unwrap_or(0)).op(),
            Action::Hold(name) => Op::Hold { name },
            Action::Release(name) => Op::Release { name },
            Action::Bounce(name) => Op::Bounce { name },
            Action::Forceclose(name) => Op::Forceclose {
                name,
                persist: false,
            },
            Action::ForcecloseClear(name) => Op::ForcecloseClear { name },
            Action::QueueMove { from, to } => Op::QueueMove {
                from,
                to,
                dest_prefix: None,
            },
            Action::Send {
                to,
                from,
                text,
                via,
            } => Op::Send {
                to,
                from,
                text,
                via,
                dlr: false,
                account: None,
                options: Default::default(),
            },
        }
    }

    /// "hold sim1", as the confirmation and an error name it.
    pub fn describe(&self) -> String {
        match self {
            Action::Hold(n) => format!("hold {n}"),
            Action::Release(n) => format!("release {n}"),
            Action::Bounce(n) => format!("bounce {n}"),
            Action::Forceclose(n) => format!("force-close {n}"),
            Action::ForceclosePersist(n) => format!("force-close {n} (persisted)"),
            Action::QueueClear(n) => format!("clear the queue of {n}"),
            Action::Reload => "reload emgd's configuration".into(),
            Action::MsgCancel(id) => format!("cancel message {id}"),
            Action::MsgMove { id, to } => format!("move message {id} to {to}"),
            Action::MsgResend(id) => format!("resend message {id}"),
            Action::DlrInject { id, status } => {
                format!("inject a {status} delivery report for message {id}")
            }
            Action::Bulk { kind, ids } => match kind {
                BulkKind::Cancel => format!("cancel {} messages", ids.len()),
                BulkKind::Move { to } => format!("move {} messages to {to}", ids.len()),
            },
            Action::ForcecloseClear(n) => format!("clear force-close on {n}"),
            Action::QueueMove { from, to } => format!("move the queue of {from} to {to}"),
            Action::Send { to, via, .. } => match via {
                Some(v) => format!("send a test message to {to} via {v}"),
                None => format!("send a test message to {to}"),
            },
        }
    }
}

/// The status line for emgd's answer `v` to `action`.
pub fn summarize(action: &Action, v: &Value) -> String {
    let on = |b: bool| if b { "on" } else { "off" };
    match action {
        Action::QueueMove { .. } => match serde_json::from_value::<QueueMoved>(v.clone()) {
            Ok(m) => format!("moved {} messages from {} to {}", m.moved, m.from, m.to),
            Err(_) => format!("{}: done", action.describe()),
        },
        Action::Send { .. } => match serde_json::from_value::<MessageRef>(v.clone()) {
            Ok(m) => format!("message {} {} on {}", m.id, m.state, m.target),
            Err(_) => format!("{}: done", action.describe()),
        },
        Action::MsgCancel(_)
        | Action::MsgMove { .. }
        | Action::MsgResend(_)
        | Action::DlrInject { .. } => match serde_json::from_value::<MessageRef>(v.clone()) {
            Ok(m) => match action {
                Action::MsgCancel(_) => format!("message {} cancelled (was on {})", m.id, m.target),
                Action::MsgMove { .. } => format!("message {} moved to {}", m.id, m.target),
                Action::MsgResend(id) => {
                    format!(
                        "message {id} resent as {}, {} on {}",
                        m.id, m.state, m.target
                    )
                }
                _ => format!(
                    "message {}: delivery report injected, now {}",
                    m.id, m.state
                ),
            },
            Err(_) => format!("{}: done", action.describe()),
        },
        Action::QueueClear(_) => match serde_json::from_value::<QueueCleared>(v.clone()) {
            Ok(c) => format!("cleared {} messages from {}", c.cleared, c.connector),
            Err(_) => format!("{}: done", action.describe()),
        },
        Action::Reload => match serde_json::from_value::<Reloaded>(v.clone()) {
            Ok(r) => format!("reloaded {} ({} connectors)", r.config, r.connectors),
            Err(_) => format!("{}: done", action.describe()),
        },
        Action::Bulk { .. } => format!("{}: done", action.describe()),
        _ => match serde_json::from_value::<Flags>(v.clone()) {
            Ok(f) => {
                let what = match action {
                    Action::Bounce(_) => "bounced",
                    _ => "done",
                };
                format!(
                    "{}: {what}; hold {}, force-close {}",
                    f.connector,
                    on(f.hold),
                    on(f.forceclose)
                )
            }
            Err(_) => format!("{}: done", action.describe()),
        },
    }
}

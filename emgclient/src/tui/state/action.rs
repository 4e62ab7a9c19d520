//! Operations the dashboard performs on emgd, and the one-line result each reports.

use common::mgp::{Flags, MessageRef, Op, QueueMoved};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Hold(String),
    Release(String),
    Bounce(String),
    Forceclose(String),
    ForcecloseClear(String),
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

impl Action {
    /// Must an operator confirm it first? (It stops traffic or moves messages.)
    pub fn needs_confirm(&self) -> bool {
        matches!(
            self,
            Action::Hold(_) | Action::Bounce(_) | Action::Forceclose(_) | Action::QueueMove { .. }
        )
    }

    pub fn op(&self) -> Op {
        match self.clone() {
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

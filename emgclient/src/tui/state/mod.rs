//! What the dashboard shows and what each key does, without any drawing or I/O.
//!
//! The connection task feeds [`Update`]s in ([`App::on_update`]); keys go through
//! [`App::on_key`] and come out as [`Intent`]s that the main loop performs as MGP requests.
//! Views only read an `App`, so the whole model is testable without a terminal.

mod action;
mod history;
pub mod keys;
mod log;
pub mod table;

pub use action::{summarize, Action};
pub use history::{tail, History, Series, HISTORY_LEN};
pub use log::{LogLine, LogState, MAX_LOG_LINES};
pub use table::{SortKey, TableState};

use common::mgp::{ConnectorDetail, ConnectorInfo, Event, LogKind, Session, Status};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// How many error lines the detail pane keeps per connector.
pub const MAX_ERRORS: usize = 5;

/// What the main loop must do after a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Quit,
    /// Perform an operation on emgd and report its result in the status line.
    Run(Action),
    /// Fetch a connector's configuration summary for the detail pane.
    Detail(String),
    /// Follow this log (the connector log is always followed: it feeds the error list).
    Tail(LogKind),
}

/// What the connection task reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    Connecting {
        attempt: u32,
    },
    Connected {
        status: Status,
    },
    Lost {
        reason: String,
        attempt: u32,
        retry_in: Duration,
    },
    Event(Event),
    Detail(ConnectorDetail),
    Done {
        action: Action,
        result: Result<String, String>,
    },
}

/// The connection to emgd as the header shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnStatus {
    Connecting {
        attempt: u32,
    },
    Connected,
    Lost {
        reason: String,
        attempt: u32,
        retry_in_s: u64,
    },
}

/// emgd as `status` described it at (re)connection, its uptime advanced by [`App::tick`].
#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    pub version: String,
    pub node_id: u16,
    pub uptime_s: u64,
    uptime_at_connect: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Table,
    Log,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusLine {
    pub level: Level,
    pub text: String,
}

/// A window over the dashboard; at most one at a time, and it takes every key.
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Help,
    /// A destructive action waits for `y`.
    Confirm(Action),
    /// Pick the connector a queue moves to.
    MoveTarget {
        from: String,
        targets: Vec<String>,
        selected: usize,
    },
    Send(SendForm),
}

/// The test message form: to, from, text; sent on the selected connector when it is outgoing.
#[derive(Debug, Clone, PartialEq)]
pub struct SendForm {
    pub fields: [String; 3],
    pub focus: usize,
    pub via: Option<String>,
}

impl SendForm {
    pub const LABELS: [&'static str; 3] = ["to", "from", "text"];
}

#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub host: String,
    pub user: String,
    pub conn: ConnStatus,
    pub server: Option<ServerInfo>,
    /// Times emgd was seen to restart while we watched.
    pub restarts: u32,
    /// In emgd's order; [`App::rows`] gives the filtered, sorted view.
    pub connectors: Vec<ConnectorInfo>,
    pub total_queued: usize,
    pub history: History,
    pub details: HashMap<String, ConnectorDetail>,
    pub errors: HashMap<String, VecDeque<String>>,
    pub table: TableState,
    pub log: LogState,
    pub focus: Focus,
    pub popup: Option<Popup>,
    pub status: Option<StatusLine>,
    /// Wall clock (unix microseconds) as of the last tick: session ages count from it.
    pub now_us: i64,
}

impl App {
    pub fn new(host: &str, user: &str) -> App {
        App {
            host: host.to_string(),
            user: user.to_string(),
            conn: ConnStatus::Connecting { attempt: 0 },
            server: None,
            restarts: 0,
            connectors: Vec::new(),
            total_queued: 0,
            history: History::default(),
            details: HashMap::new(),
            errors: HashMap::new(),
            table: TableState::default(),
            log: LogState::default(),
            focus: Focus::Table,
            popup: None,
            status: None,
            now_us: 0,
        }
    }

    /// The selected connector's bound sessions, as its last detail listed them.
    pub fn sessions(&self) -> &[Session] {
        self.table
            .selected
            .as_deref()
            .and_then(|n| self.details.get(n))
            .map_or(&[], |d| d.sessions.as_slice())
    }

    /// How long a session has been bound, as of the last tick (`3m12s`); `-` before any.
    pub fn session_age(&self, s: &Session) -> String {
        if self.now_us <= 0 || s.since_us <= 0 {
            return "-".into();
        }
        age((self.now_us - s.since_us).max(0) as u64 / 1_000_000)
    }

    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some(StatusLine {
            level,
            text: text.into(),
        });
    }

    /// The connector under the cursor.
    pub fn selected(&self) -> Option<&ConnectorInfo> {
        let name = self.table.selected.as_deref()?;
        self.connectors.iter().find(|c| c.name == name)
    }

    /// Time passed since the (re)connection: the header's uptime follows it.
    pub fn tick(&mut self, since_connected: Duration) {
        if let Some(s) = &mut self.server {
            s.uptime_s = s.uptime_at_connect + since_connected.as_secs();
        }
    }

    /// Fold one report of the connection task in; may ask for a detail (a new selection).
    pub fn on_update(&mut self, u: Update) -> Vec<Intent> {
        match u {
            Update::Connecting { attempt } => self.conn = ConnStatus::Connecting { attempt },
            Update::Connected { status } => return self.on_connected(status),
            Update::Lost {
                reason,
                attempt,
                retry_in,
            } => {
                if self.conn == ConnStatus::Connected {
                    self.say(Level::Error, format!("connection to emgd lost: {reason}"));
                }
                self.conn = ConnStatus::Lost {
                    reason,
                    attempt,
                    retry_in_s: retry_in.as_secs_f64().ceil() as u64,
                };
            }
            Update::Event(ev) => return self.on_event(ev),
            Update::Detail(d) => {
                self.details.insert(d.info.name.clone(), d);
            }
            Update::Done { action, result } => match result {
                Ok(text) => self.say(Level::Ok, text),
                Err(e) => self.say(Level::Error, format!("{} failed: {e}", action.describe())),
            },
        }
        Vec::new()
    }

    fn on_connected(&mut self, status: Status) -> Vec<Intent> {
        let was_connected = self.server.is_some();
        if let Some(old) = &self.server {
            if status.uptime_s < old.uptime_s {
                self.restarts += 1;
                self.details.clear();
                self.say(
                    Level::Warn,
                    format!(
                        "emgd restarted (up {}s, version {}); reconnected",
                        status.uptime_s, status.version
                    ),
                );
            } else {
                self.say(Level::Ok, "reconnected to emgd");
            }
        }
        self.server = Some(ServerInfo {
            version: status.version,
            node_id: status.node_id,
            uptime_s: status.uptime_s,
            uptime_at_connect: status.uptime_s,
        });
        self.conn = ConnStatus::Connected;
        self.total_queued = status.total_queued;
        match (&self.table.selected, was_connected) {
            (Some(name), true) => vec![Intent::Detail(name.clone())],
            _ => Vec::new(),
        }
    }

    fn on_event(&mut self, ev: Event) -> Vec<Intent> {
        match ev {
            Event::Counters {
                total_queued,
                connectors,
            } => {
                self.total_queued = total_queued;
                self.history.push(&connectors);
                self.connectors = connectors;
                return self.fix_selection();
            }
            Event::State { connector, states } => {
                if let Some(c) = self.connectors.iter_mut().find(|c| c.name == connector) {
                    c.bound = states.iter().filter(|s| *s == "BOUND").count();
                    c.states = states;
                }
                // Sessions come and go with the states: refresh the detail pane's list.
                if self.table.selected.as_deref() == Some(connector.as_str()) {
                    return vec![Intent::Detail(connector)];
                }
            }
            Event::Log {
                kind,
                connector,
                instance,
                line,
            } => {
                if kind == LogKind::Connector && is_error(&line) {
                    let errs = self.errors.entry(connector.clone()).or_default();
                    errs.push_back(line.clone());
                    while errs.len() > MAX_ERRORS {
                        errs.pop_front();
                    }
                }
                if kind == self.log.kind {
                    let selected = self.table.selected.clone();
                    self.log.push(
                        LogLine {
                            connector,
                            instance,
                            line,
                        },
                        selected.as_deref(),
                    );
                }
            }
            Event::Lost { count } => self.log.lost += count,
            // The dashboard opens no `logs` stream.
            Event::Line { .. } | Event::End { .. } => {}
        }
        Vec::new()
    }

    /// The rows the table shows: filtered, then sorted.
    pub fn rows(&self) -> Vec<&ConnectorInfo> {
        self.table.rows(&self.connectors)
    }

    /// Index of the selected row in [`rows`](Self::rows).
    pub fn selected_index(&self) -> Option<usize> {
        let name = self.table.selected.as_deref()?;
        self.rows().iter().position(|c| c.name == name)
    }

    /// Keep the selection on a visible row; a new selection wants its detail.
    pub(crate) fn fix_selection(&mut self) -> Vec<Intent> {
        let rows = self.rows();
        let keep = self
            .table
            .selected
            .as_deref()
            .is_some_and(|s| rows.iter().any(|r| r.name == s));
        if keep {
            return Vec::new();
        }
        let first = rows.first().map(|r| r.name.clone());
        self.table.selected = first.clone();
        first.map(Intent::Detail).into_iter().collect()
    }
}

/// A duration as the detail pane shows ages: `45s`, `3m12s`, `2h05m`, `3d04h`.
pub fn age(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    }
}

/// A connector-log line worth listing under "last errors".
pub fn is_error(line: &str) -> bool {
    line.contains(" ERR") || line.contains("ERROR") || line.contains("FAIL")
}

#[cfg(test)]
mod tests;

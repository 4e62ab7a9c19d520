//! What the console shows and what each key does, without any drawing or I/O.
//!
//! The connection task feeds [`Update`]s in ([`App::on_update`]); keys go through
//! [`App::on_key`] (and the mouse through [`App::on_mouse`]) and come out as [`Intent`]s that
//! the main loop performs as MGP requests. Views only read an `App`, so the whole model is
//! testable without a terminal.

mod action;
pub mod command;
mod fetch;
mod filter;
mod history;
pub mod keymap;
pub mod keys;
mod log;
mod popup_keys;
pub mod table;
pub mod views;

pub use action::{summarize, Action, BulkKind};
pub use fetch::{Fetch, Fetched};
pub use history::{tail, History, Series, HISTORY_LEN};
pub use keymap::{Binding, Keymap};
pub use log::{LogLine, LogState, MAX_LOG_LINES};
pub use table::{SortKey, TableState};
pub use views::{
    Cursor, Lists, MessageSource, MessageView, MessagesState, SearchQuery, Stats, View,
};

use common::mgp::{ConnectorDetail, ConnectorInfo, Event, LogKind, Role, Session, Status};
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// Seconds between two fetches of the shown connector's detail and error counts.
pub const STATS_EVERY_S: u64 = 10;

/// How many error lines the detail pane keeps per connector.
pub const MAX_ERRORS: usize = 5;

/// What the main loop must do after a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Quit,
    /// Perform an operation on emgd and report its result in the status line.
    Run(Action),
    /// Fetch a connector's configuration summary and its error counts for the detail pane.
    Detail(String),
    /// Follow this log (the connector log is always followed: it feeds the error list).
    Tail(LogKind),
    /// Read something for a view.
    Fetch(Fetch),
    /// Write `text` to the file `path` (the log view's save).
    Save {
        path: String,
        text: String,
    },
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
    Fetched {
        fetch: Fetch,
        result: Result<Fetched, String>,
    },
    /// A bulk action got this far.
    Progress {
        done: usize,
        failed: usize,
        total: usize,
    },
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

/// A window over the console; at most one at a time, and it takes every key.
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Help,
    /// A destructive action waits for `y`.
    Confirm(Action),
    /// Force-closing waits for `y` (until released) or `p` (persisted across restarts).
    ConfirmForceclose(String),
    /// Pick one of `options`: a connector to move to, a delivery report status.
    Pick(Pick),
    Send(SendForm),
    /// A bulk action under way.
    Progress {
        title: String,
        done: usize,
        failed: usize,
        total: usize,
    },
}

/// A list to pick from, and what the pick is for.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    pub title: String,
    pub options: Vec<String>,
    pub selected: usize,
    pub purpose: Purpose,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    /// Move the queue of this connector to the pick.
    QueueMove { from: String },
    /// Move these messages to the pick.
    MsgMove { ids: Vec<u64> },
    /// Inject a delivery report with the picked status for this message.
    Dlr { id: u64 },
}

/// The `:` command line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommandLine {
    pub text: String,
    /// What Tab offered last, when it could not choose alone.
    pub candidates: Vec<String>,
}

/// Where the last frame drew the rows of the current list, so that a click can select one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Hits {
    /// Screen row of the first list row, rows drawn, index of the first one shown.
    pub top: u16,
    pub height: u16,
    pub offset: usize,
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
    /// The operator's role: a read-only one is offered no action that changes anything.
    pub role: Role,
    pub keymap: Keymap,
    /// The views walked into, the current one last; never empty.
    pub stack: Vec<View>,
    pub command: Option<CommandLine>,
    pub queues: Cursor,
    pub messages: Option<MessagesState>,
    pub message: Option<MessageView>,
    pub lists: Lists,
    pub users: Cursor,
    pub routes: Cursor,
    pub stats: Stats,
    /// Written by the view as it draws (see [`Hits`]).
    pub hits: Cell<Hits>,
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
            role: Role::Admin,
            keymap: Keymap::default(),
            stack: vec![View::Connectors],
            command: None,
            queues: Cursor::default(),
            messages: None,
            message: None,
            lists: Lists::default(),
            users: Cursor::default(),
            routes: Cursor::default(),
            stats: Stats::new(),
            hits: Cell::new(Hits::default()),
        }
    }

    /// The view on screen.
    pub fn view(&self) -> &View {
        self.stack.last().expect("the view stack is never empty")
    }

    /// May this operator change anything? (Operators and admins may.)
    pub fn may_act(&self) -> bool {
        self.role >= Role::Operator
    }

    /// The connector the current view is about: the selected row, or the one opened.
    pub fn current_connector(&self) -> Option<String> {
        match self.view() {
            View::Connector(n) => Some(n.clone()),
            View::Queues => self
                .queue_rows()
                .get(self.queues.selected)
                .map(|c| c.name.clone()),
            _ => self.table.selected.clone(),
        }
    }

    /// Every connector's queue, as the queues view lists them (filtered).
    pub fn queue_rows(&self) -> Vec<&ConnectorInfo> {
        self.connectors
            .iter()
            .filter(|c| self.queues.passes(&[&c.name, &c.direction, &c.protocol]))
            .collect()
    }

    pub fn user_rows(&self) -> Vec<&common::mgp::UserInfo> {
        self.lists.users.as_deref().map_or(Vec::new(), |u| {
            u.iter()
                .filter(|u| {
                    self.users.passes(&[
                        &u.name,
                        &u.account,
                        &u.connectors.join(" "),
                        &u.binds.join(" "),
                    ])
                })
                .collect()
        })
    }

    pub fn route_rows(&self) -> Vec<&common::mgp::RouteInfo> {
        self.lists.routes.as_deref().map_or(Vec::new(), |r| {
            r.iter()
                .filter(|r| {
                    self.routes.passes(&[
                        r.prefix.as_deref().unwrap_or("*"),
                        r.account.as_deref().unwrap_or(""),
                        r.from.as_deref().unwrap_or(""),
                        &r.to,
                    ])
                })
                .collect()
        })
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

    /// The clock's tick, `n` seconds in: every [`STATS_EVERY_S`] the connector on screen has
    /// its detail and error counts fetched again (they come from the store, not from `watch`).
    pub fn every_second(&mut self, n: u64) -> Vec<Intent> {
        if !n.is_multiple_of(STATS_EVERY_S) || self.conn != ConnStatus::Connected {
            return Vec::new();
        }
        match self.view() {
            View::Connectors | View::Connector(_) => self
                .current_connector()
                .map(Intent::Detail)
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
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
            Update::Fetched { fetch, result } => return self.on_fetched(fetch, result),
            Update::Progress {
                done,
                failed,
                total,
            } => {
                if let Some(Popup::Progress {
                    done: d,
                    failed: f,
                    total: t,
                    ..
                }) = &mut self.popup
                {
                    (*d, *f, *t) = (done, failed, total);
                }
            }
            Update::Done { action, result } => {
                if matches!(action, Action::Bulk { .. }) {
                    if let Some(Popup::Progress { .. }) = self.popup {
                        self.popup = None;
                    }
                    if let Some(m) = &mut self.messages {
                        m.marked.clear();
                    }
                }
                match result {
                    Ok(text) => self.say(Level::Ok, text),
                    Err(e) => self.say(Level::Error, format!("{} failed: {e}", action.describe())),
                }
                if action.changes_messages() {
                    return self.refetch();
                }
            }
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
        // The new session's tail starts with the log's recent history: no lines twice.
        if self.log.kind == LogKind::Connector {
            self.log.lines.clear();
            self.log.scroll = 0;
        }
        match (&self.table.selected, was_connected) {
            (Some(name), true) => {
                let mut out = vec![Intent::Detail(name.clone())];
                out.extend(self.refetch());
                out
            }
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
                if self.current_connector().as_deref() == Some(connector.as_str()) {
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
                    let selected = self.current_connector();
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
mod console_tests;
#[cfg(test)]
mod tests;

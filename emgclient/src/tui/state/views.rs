//! The console's views (k9s's "resources") and the state each keeps: a cursor over its rows,
//! its `/` filter, and for messages the page loaded and the rows marked.

use common::mgp::{ConnectorStats, MessageHistory, MessageRow, RouteInfo, UserInfo};
use std::collections::BTreeSet;

/// What fills the screen. `:` commands switch between the top-level ones; Enter drills down
/// (connector -> its queue -> a message), Esc comes back.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    Connectors,
    /// One connector in full: sessions, errors by code, latency histograms, its log.
    Connector(String),
    Queues,
    Messages,
    Message(u64),
    Users,
    Routes,
    Nodes,
    Logs,
}

impl View {
    /// Its name in the breadcrumbs and the `:` command that opens it.
    pub fn crumb(&self) -> String {
        match self {
            View::Connectors => "connectors".into(),
            View::Connector(n) => n.clone(),
            View::Queues => "queues".into(),
            View::Messages => "messages".into(),
            View::Message(id) => format!("message {id}"),
            View::Users => "users".into(),
            View::Routes => "routes".into(),
            View::Nodes => "nodes".into(),
            View::Logs => "logs".into(),
        }
    }
}

impl View {
    /// The view's kind, without its argument (for messages about the keymap).
    pub fn crumb_kind(&self) -> &'static str {
        match self {
            View::Connectors => "connectors",
            View::Connector(_) => "connector",
            View::Queues => "queues",
            View::Messages => "messages",
            View::Message(_) => "message",
            View::Users => "users",
            View::Routes => "routes",
            View::Nodes => "nodes",
            View::Logs => "logs",
        }
    }
}

/// A cursor over a list of rows with a `/` filter: selection by index into the filtered rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cursor {
    pub selected: usize,
    pub filter: String,
    pub editing: bool,
}

impl Cursor {
    /// Move by `delta` within `len` rows.
    pub fn step(&mut self, delta: isize, len: usize) {
        if len == 0 {
            self.selected = 0;
            return;
        }
        self.selected = self.selected.saturating_add_signed(delta).min(len - 1);
    }

    /// Keep the selection inside `len` rows.
    pub fn clamp(&mut self, len: usize) {
        self.selected = self.selected.min(len.saturating_sub(1));
    }

    /// Does a row whose searchable text is `fields` pass the filter (case-insensitive)?
    pub fn passes(&self, fields: &[&str]) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let f = self.filter.to_lowercase();
        fields.iter().any(|s| s.to_lowercase().contains(&f))
    }
}

/// What a messages view lists.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageSource {
    /// A connector's queue, oldest first, from the store.
    Queue(String),
    /// A search, newest first.
    Search(SearchQuery),
}

impl MessageSource {
    pub fn describe(&self) -> String {
        match self {
            MessageSource::Queue(n) => format!("queue of {n}"),
            MessageSource::Search(q) => q.describe(),
        }
    }
}

/// `:messages dest=4670 account=acme since=10m`: what `msg_search` is asked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    pub id: Option<u64>,
    pub source: Option<String>,
    pub dest: Option<String>,
    pub account: Option<String>,
    pub connector: Option<String>,
    /// As given (`10m`, `2h`, a Unix time in µs): resolved against the clock when sent.
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
}

impl SearchQuery {
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        };
        add("id", &self.id.map(|i| i.to_string()));
        add("from", &self.source);
        add("dest", &self.dest);
        add("account", &self.account);
        add("connector", &self.connector);
        add("since", &self.since_us.map(crate::format::time_us));
        add("until", &self.until_us.map(crate::format::time_us));
        if parts.is_empty() {
            "all messages".into()
        } else {
            parts.join(" ")
        }
    }
}

/// The messages view: one page at a time, more loaded on demand.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagesState {
    pub source: MessageSource,
    pub rows: Vec<MessageRow>,
    /// emgd has more beyond the loaded rows.
    pub more: bool,
    /// Why the last search stopped early.
    pub stopped: Option<String>,
    pub loading: bool,
    pub error: Option<String>,
    pub cursor: Cursor,
    /// Ids marked with space, for acting on many at once.
    pub marked: BTreeSet<u64>,
}

impl MessagesState {
    pub fn new(source: MessageSource) -> MessagesState {
        MessagesState {
            source,
            rows: Vec::new(),
            more: false,
            stopped: None,
            loading: true,
            error: None,
            cursor: Cursor::default(),
            marked: BTreeSet::new(),
        }
    }

    /// The rows the filter lets through.
    pub fn visible(&self) -> Vec<&MessageRow> {
        self.rows
            .iter()
            .filter(|m| {
                self.cursor.passes(&[
                    &m.id.to_string(),
                    &m.state,
                    &m.source,
                    &m.dest,
                    &m.origin,
                    m.target.as_deref().unwrap_or(""),
                    m.status.as_deref().unwrap_or(""),
                    m.account.as_deref().unwrap_or(""),
                ])
            })
            .collect()
    }

    pub fn current(&self) -> Option<&MessageRow> {
        self.visible().get(self.cursor.selected).copied()
    }

    /// What an action applies to: the marked ids, else the one under the cursor.
    pub fn targets(&self) -> Vec<u64> {
        if !self.marked.is_empty() {
            return self.marked.iter().copied().collect();
        }
        self.current().map(|m| m.id).into_iter().collect()
    }
}

/// The message view: its history, once fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    pub id: u64,
    pub history: Option<MessageHistory>,
    pub error: Option<String>,
    pub scroll: usize,
}

/// Lists fetched once per visit (they change only on reload).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lists {
    pub users: Option<Vec<UserInfo>>,
    pub routes: Option<Vec<RouteInfo>>,
    pub error: Option<String>,
}

/// The per-connector numbers `connector_stats` answered, newest per connector.
pub type Stats = std::collections::HashMap<String, ConnectorStats>;

//! Reads a view asks emgd for, and folding their answers in.

use super::views::{MessageSource, MessageView, MessagesState, SearchQuery, View};
use super::{App, Intent, Level};
use common::mgp::{ConnectorStats, MessageHistory, MessageList, Op, RouteList, UserList};

/// Rows asked for per page of messages.
pub const PAGE: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub enum Fetch {
    /// A page of a connector's queue, after the id given.
    Queue {
        name: String,
        after: Option<u64>,
    },
    /// A page of a search, below the id given.
    Search {
        query: SearchQuery,
        before: Option<u64>,
    },
    History(u64),
    Users,
    Routes,
    Stats(String),
}

impl Fetch {
    pub fn op(&self) -> Op {
        match self.clone() {
            Fetch::Queue { name, after } => Op::QueueBrowse {
                name,
                after_id: after,
                limit: Some(PAGE),
            },
            Fetch::Search { query: q, before } => Op::MsgSearch {
                message_id: q.id,
                source: q.source,
                dest: q.dest,
                account: q.account,
                connector: q.connector,
                since_us: q.since_us,
                until_us: q.until_us,
                before_id: before,
                limit: Some(PAGE),
            },
            Fetch::History(id) => Op::MsgHistory { id },
            Fetch::Users => Op::Users,
            Fetch::Routes => Op::Routes,
            Fetch::Stats(name) => Op::ConnectorStats {
                name,
                since_s: None,
            },
        }
    }

    /// Decode emgd's answer to [`op`](Self::op).
    pub fn decode(&self, v: serde_json::Value) -> Result<Fetched, String> {
        let bad = |e: serde_json::Error| format!("unexpected answer from emgd: {e}");
        Ok(match self {
            Fetch::Queue { .. } | Fetch::Search { .. } => {
                Fetched::Messages(serde_json::from_value(v).map_err(bad)?)
            }
            Fetch::History(_) => {
                Fetched::History(Box::new(serde_json::from_value(v).map_err(bad)?))
            }
            Fetch::Users => Fetched::Users(serde_json::from_value(v).map_err(bad)?),
            Fetch::Routes => Fetched::Routes(serde_json::from_value(v).map_err(bad)?),
            Fetch::Stats(_) => Fetched::Stats(serde_json::from_value(v).map_err(bad)?),
        })
    }

    /// Is this the first page of `source`, or a later one?
    fn source(&self) -> Option<(MessageSource, bool)> {
        match self {
            Fetch::Queue { name, after } => {
                Some((MessageSource::Queue(name.clone()), after.is_some()))
            }
            Fetch::Search { query, before } => {
                Some((MessageSource::Search(query.clone()), before.is_some()))
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    Messages(MessageList),
    History(Box<MessageHistory>),
    Users(UserList),
    Routes(RouteList),
    Stats(ConnectorStats),
}

impl App {
    /// The first page of `source`.
    pub(crate) fn first_page(source: &MessageSource) -> Fetch {
        match source {
            MessageSource::Queue(n) => Fetch::Queue {
                name: n.clone(),
                after: None,
            },
            MessageSource::Search(q) => Fetch::Search {
                query: q.clone(),
                before: None,
            },
        }
    }

    /// The page after the rows loaded, if emgd said there is one.
    pub(crate) fn next_page(&mut self) -> Vec<Intent> {
        let Some(m) = &mut self.messages else {
            return Vec::new();
        };
        if !m.more || m.loading {
            return Vec::new();
        }
        let Some(last) = m.rows.last().map(|r| r.id) else {
            return Vec::new();
        };
        m.loading = true;
        let fetch = match &m.source {
            MessageSource::Queue(n) => Fetch::Queue {
                name: n.clone(),
                after: Some(last),
            },
            MessageSource::Search(q) => Fetch::Search {
                query: q.clone(),
                before: Some(last),
            },
        };
        vec![Intent::Fetch(fetch)]
    }

    /// Fetch what the current view shows again (after an action, a reconnection, Ctrl-L).
    pub(crate) fn refetch(&mut self) -> Vec<Intent> {
        match self.view().clone() {
            View::Messages => match &mut self.messages {
                Some(m) => {
                    m.loading = true;
                    vec![Intent::Fetch(App::first_page(&m.source))]
                }
                None => Vec::new(),
            },
            View::Message(id) => vec![Intent::Fetch(Fetch::History(id))],
            View::Users => vec![Intent::Fetch(Fetch::Users)],
            View::Routes => vec![Intent::Fetch(Fetch::Routes)],
            View::Connector(n) => vec![Intent::Detail(n)],
            _ => Vec::new(),
        }
    }

    pub(crate) fn on_fetched(
        &mut self,
        fetch: Fetch,
        result: Result<Fetched, String>,
    ) -> Vec<Intent> {
        let result = match result {
            Ok(r) => r,
            Err(e) => {
                match (&fetch, &mut self.messages, &mut self.message) {
                    (Fetch::Queue { .. } | Fetch::Search { .. }, Some(m), _) => {
                        m.loading = false;
                        m.error = Some(e.clone());
                    }
                    (Fetch::History(id), _, Some(v)) if v.id == *id => v.error = Some(e.clone()),
                    (Fetch::Users | Fetch::Routes, ..) => self.lists.error = Some(e.clone()),
                    _ => {}
                }
                if !matches!(fetch, Fetch::Stats(_)) {
                    self.say(Level::Error, e);
                }
                return Vec::new();
            }
        };
        match result {
            Fetched::Messages(list) => {
                let Some((source, later)) = fetch.source() else {
                    return Vec::new();
                };
                let Some(m) = self.messages.as_mut().filter(|m| m.source == source) else {
                    return Vec::new(); // an answer for a view left since
                };
                m.loading = false;
                m.error = None;
                if later {
                    m.rows.extend(list.messages);
                } else {
                    m.rows = list.messages;
                    let ids: Vec<u64> = m.rows.iter().map(|r| r.id).collect();
                    m.marked.retain(|id| ids.contains(id));
                }
                m.more = list.more;
                m.stopped = list.stopped;
                let n = m.visible().len();
                m.cursor.clamp(n);
            }
            Fetched::History(h) => {
                if let Some(v) = self.message.as_mut().filter(|v| v.id == h.id) {
                    v.history = Some(*h);
                    v.error = None;
                }
            }
            Fetched::Users(u) => {
                self.lists.users = Some(u.users);
                self.lists.error = None;
            }
            Fetched::Routes(r) => {
                self.lists.routes = Some(r.routes);
                self.lists.error = None;
            }
            Fetched::Stats(s) => {
                self.stats.insert(s.connector.clone(), s);
            }
        }
        Vec::new()
    }

    /// Go to `view`: on top of the current one (`drill`), or as the new root (a command).
    pub(crate) fn open(&mut self, view: View, drill: bool) -> Vec<Intent> {
        if !drill {
            self.stack.clear();
        }
        if self.stack.last() != Some(&view) {
            self.stack.push(view.clone());
        }
        self.status = None;
        match view {
            View::Messages => self
                .messages
                .as_ref()
                .map(|m| vec![Intent::Fetch(App::first_page(&m.source))])
                .unwrap_or_default(),
            View::Message(id) => {
                self.message = Some(MessageView {
                    id,
                    history: None,
                    error: None,
                    scroll: 0,
                });
                vec![Intent::Fetch(Fetch::History(id))]
            }
            View::Users => vec![Intent::Fetch(Fetch::Users)],
            View::Routes => vec![Intent::Fetch(Fetch::Routes)],
            View::Connector(name) => {
                self.table.selected = Some(name.clone());
                vec![Intent::Detail(name)]
            }
            _ => Vec::new(),
        }
    }

    /// Open a messages view over `source`.
    pub(crate) fn open_messages(&mut self, source: MessageSource, drill: bool) -> Vec<Intent> {
        self.messages = Some(MessagesState::new(source));
        // The same kind of view over another source is a new step, not the old one.
        if drill && self.view() == &View::Messages {
            self.stack.pop();
        }
        self.open(View::Messages, drill)
    }

    /// Esc: the previous view, if there is one.
    pub(crate) fn back(&mut self) -> Vec<Intent> {
        if self.stack.len() <= 1 {
            self.status = None;
            return Vec::new();
        }
        self.stack.pop();
        self.refetch()
    }
}

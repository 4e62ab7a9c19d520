//! Key and mouse -> intent. Keys go through the [`Keymap`](super::Keymap) of the view on
//! screen; a read-only operator's keys never reach an action that changes anything.

use super::keymap::Binding;
use super::views::{MessageSource, SearchQuery, View};
use super::{
    Action, App, BulkKind, CommandLine, Focus, Intent, Level, Pick, Popup, Purpose, SendForm,
};
use common::dlr::DlrStatus;
use common::mgp::LogKind;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

/// Rows a page scrolls.
const PAGE: isize = 10;

impl App {
    /// One key press; returns what the main loop must do.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Intent> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            return vec![Intent::Quit];
        }
        if self.popup.is_some() {
            return self.popup_key(key);
        }
        if self.command.is_some() {
            return self.command_key(key);
        }
        if let Some(t) = self.editing() {
            return self.edit_key(t, key);
        }
        let Some(b) = self.keymap.lookup(&self.view().clone(), &key) else {
            return Vec::new();
        };
        if super::Keymap::acts(b) && !self.may_act() {
            self.say(
                Level::Warn,
                format!(
                    "operator {} is read-only: that key changes nothing here",
                    self.user
                ),
            );
            return Vec::new();
        }
        self.binding(b)
    }

    /// The mouse: the wheel scrolls, a click selects the row under it.
    pub fn on_mouse(&mut self, m: MouseEvent) -> Vec<Intent> {
        if self.popup.is_some() || self.command.is_some() {
            return Vec::new();
        }
        match m.kind {
            MouseEventKind::ScrollDown => self.binding(Binding::Down),
            MouseEventKind::ScrollUp => self.binding(Binding::Up),
            MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
                let h = self.hits.get();
                if m.row < h.top || m.row >= h.top + h.height {
                    return Vec::new();
                }
                let index = h.offset + (m.row - h.top) as usize;
                self.select_row(index)
            }
            _ => Vec::new(),
        }
    }

    /// Put the cursor of the current list on row `index` (a click).
    fn select_row(&mut self, index: usize) -> Vec<Intent> {
        match self.view().clone() {
            View::Connectors => {
                self.focus = Focus::Table;
                let at = self.selected_index().unwrap_or(0) as isize;
                self.move_selection(index as isize - at)
            }
            View::Queues => {
                let n = self.queue_rows().len();
                self.queues.selected = index.min(n.saturating_sub(1));
                Vec::new()
            }
            View::Messages => {
                if let Some(m) = &mut self.messages {
                    let n = m.visible().len();
                    m.cursor.selected = index.min(n.saturating_sub(1));
                }
                Vec::new()
            }
            View::Users => {
                let n = self.user_rows().len();
                self.users.selected = index.min(n.saturating_sub(1));
                Vec::new()
            }
            View::Routes => {
                let n = self.route_rows().len();
                self.routes.selected = index.min(n.saturating_sub(1));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn binding(&mut self, b: Binding) -> Vec<Intent> {
        let view = self.view().clone();
        match b {
            Binding::Quit => return vec![Intent::Quit],
            Binding::Help => self.popup = Some(Popup::Help),
            Binding::Command => self.command = Some(CommandLine::default()),
            Binding::Filter => self.start_filter(),
            Binding::Back => return self.back(),
            Binding::Open => return self.drill(),
            Binding::Up => return self.scroll(-1),
            Binding::Down => return self.scroll(1),
            Binding::PageUp => return self.scroll(-PAGE),
            Binding::PageDown => return self.scroll(PAGE),
            Binding::Top => return self.scroll(isize::MIN / 2),
            Binding::Bottom => return self.scroll(isize::MAX / 2),
            Binding::Focus => {
                self.focus = match (self.focus, &view) {
                    (Focus::Table, View::Connectors) => Focus::Log,
                    _ => Focus::Table,
                }
            }
            Binding::Sort => {
                self.table.sort = self.table.sort.next();
                self.say(
                    Level::Info,
                    format!("sorted by {}", self.table.sort.label()),
                );
            }
            Binding::Reverse => self.table.reverse = !self.table.reverse,
            Binding::Hold
            | Binding::Release
            | Binding::Bounce
            | Binding::Forceclose
            | Binding::ForcecloseClear
            | Binding::QueueMove
            | Binding::QueueClear
            | Binding::SendTest => return self.act_on_connector(b),
            Binding::Reload => return self.request(Action::Reload),
            Binding::Mark | Binding::MarkAll => self.mark(b == Binding::MarkAll),
            Binding::Cancel | Binding::Move | Binding::Resend | Binding::InjectDlr => {
                return self.act_on_messages(b)
            }
            Binding::MoreRows => return self.next_page(),
            Binding::Refresh => return self.refetch(),
            Binding::Pause => {
                self.log.paused = !self.log.paused;
                if !self.log.paused {
                    self.log.scroll = 0;
                }
            }
            Binding::LogScope => {
                self.log.all = !self.log.all;
                self.log.scroll = 0;
            }
            Binding::LogKind => {
                self.log.kind = match self.log.kind {
                    LogKind::Connector => LogKind::Pdu,
                    LogKind::Pdu => LogKind::Connector,
                };
                self.log.clear();
                return vec![Intent::Tail(self.log.kind)];
            }
            Binding::Highlight => {
                self.log.highlight_only = !self.log.highlight_only;
                self.log.scroll = 0;
            }
            Binding::Save => return self.save_log(),
        }
        Vec::new()
    }

    /// Move the cursor (or scroll) of the current view by `delta` rows.
    fn scroll(&mut self, delta: isize) -> Vec<Intent> {
        let sel = self.current_connector();
        let sel = sel.as_deref();
        match self.view().clone() {
            View::Connectors if self.focus == Focus::Table => return self.move_selection(delta),
            View::Connectors | View::Connector(_) | View::Logs => {
                // Rows go down, log lines go up: "down" shows newer lines.
                match delta {
                    d if d == isize::MAX / 2 => self.log.scroll = 0,
                    d => self.log.scroll_by(-d, sel),
                }
            }
            View::Queues => {
                let n = self.queue_rows().len();
                self.queues.step(delta, n);
            }
            View::Messages => {
                let Some(m) = &mut self.messages else {
                    return Vec::new();
                };
                let n = m.visible().len();
                let at_end = n > 0 && m.cursor.selected + 1 >= n;
                m.cursor.step(delta, n);
                // Past the last row loaded: the next page, as k9s would just scroll on.
                if delta > 0 && at_end {
                    return self.next_page();
                }
            }
            View::Message(_) => {
                if let Some(v) = &mut self.message {
                    v.scroll = v.scroll.saturating_add_signed(delta).min(200);
                }
            }
            View::Users => {
                let n = self.user_rows().len();
                self.users.step(delta, n);
            }
            View::Routes => {
                let n = self.route_rows().len();
                self.routes.step(delta, n);
            }
            View::Nodes => {}
        }
        Vec::new()
    }

    /// Enter: open what is under the cursor.
    fn drill(&mut self) -> Vec<Intent> {
        match self.view().clone() {
            View::Connectors => match (&self.focus, self.table.selected.clone()) {
                (Focus::Table, Some(n)) => self.open(View::Connector(n), true),
                _ => Vec::new(),
            },
            View::Connector(n) => self.open_messages(MessageSource::Queue(n), true),
            View::Queues => match self.current_connector() {
                Some(n) => self.open_messages(MessageSource::Queue(n), true),
                None => Vec::new(),
            },
            View::Messages => match self.messages.as_ref().and_then(|m| m.current()) {
                Some(m) => {
                    let id = m.id;
                    self.open(View::Message(id), true)
                }
                None => Vec::new(),
            },
            View::Users => match self.user_rows().get(self.users.selected) {
                Some(u) => {
                    let q = SearchQuery {
                        account: Some(u.account.clone()),
                        ..Default::default()
                    };
                    self.open_messages(MessageSource::Search(q), true)
                }
                None => Vec::new(),
            },
            View::Routes => {
                let Some(to) = self
                    .route_rows()
                    .get(self.routes.selected)
                    .map(|r| r.to.clone())
                else {
                    return Vec::new();
                };
                if self.connectors.iter().any(|c| c.name == to) {
                    self.open_messages(MessageSource::Queue(to), true)
                } else {
                    self.say(Level::Info, format!("{to} is a group, not a connector"));
                    Vec::new()
                }
            }
            View::Nodes => self.open(View::Connectors, true),
            View::Message(_) | View::Logs => Vec::new(),
        }
    }

    fn act_on_connector(&mut self, b: Binding) -> Vec<Intent> {
        let Some(name) = self.current_connector() else {
            self.say(Level::Warn, "no connector selected");
            return Vec::new();
        };
        let Some(info) = self.connectors.iter().find(|c| c.name == name) else {
            self.say(Level::Warn, "no connector selected");
            return Vec::new();
        };
        let outgoing = info.direction == "outgoing";
        let action = match b {
            Binding::Hold => Action::Hold(name),
            Binding::Release => Action::Release(name),
            Binding::Bounce => Action::Bounce(name),
            Binding::Forceclose => {
                self.popup = Some(Popup::ConfirmForceclose(name));
                return Vec::new();
            }
            Binding::ForcecloseClear => Action::ForcecloseClear(name),
            Binding::QueueClear => Action::QueueClear(name),
            Binding::QueueMove => {
                let targets = self.move_targets(Some(&name));
                if targets.is_empty() {
                    self.say(Level::Warn, "no other outgoing connector to move to");
                } else {
                    self.popup = Some(Popup::Pick(Pick {
                        title: format!(" move the queue of {name} to "),
                        options: targets,
                        selected: 0,
                        purpose: Purpose::QueueMove { from: name },
                    }));
                }
                return Vec::new();
            }
            _ => {
                self.popup = Some(Popup::Send(SendForm {
                    fields: ["46700000000".into(), "emgclient".into(), "test".into()],
                    focus: 0,
                    via: outgoing.then_some(name),
                }));
                return Vec::new();
            }
        };
        self.request(action)
    }

    /// Outgoing connectors other than `except`.
    fn move_targets(&self, except: Option<&str>) -> Vec<String> {
        self.connectors
            .iter()
            .filter(|c| Some(c.name.as_str()) != except && c.direction == "outgoing")
            .map(|c| c.name.clone())
            .collect()
    }

    /// The messages an action applies to: the marked rows, else the one under the cursor (or
    /// the message on screen).
    fn message_targets(&self) -> Vec<u64> {
        match self.view() {
            View::Message(id) => vec![*id],
            _ => self
                .messages
                .as_ref()
                .map(|m| m.targets())
                .unwrap_or_default(),
        }
    }

    fn act_on_messages(&mut self, b: Binding) -> Vec<Intent> {
        let ids = self.message_targets();
        let Some(&first) = ids.first() else {
            self.say(Level::Warn, "no message selected");
            return Vec::new();
        };
        match b {
            Binding::Cancel if ids.len() == 1 => self.request(Action::MsgCancel(first)),
            Binding::Cancel => self.request(Action::Bulk {
                kind: BulkKind::Cancel,
                ids,
            }),
            Binding::Move => {
                let from = self
                    .messages
                    .as_ref()
                    .and_then(|m| m.rows.iter().find(|r| r.id == first))
                    .and_then(|r| r.target.clone())
                    .or_else(|| {
                        self.message
                            .as_ref()
                            .and_then(|v| v.history.as_ref())
                            .and_then(|h| h.message.as_ref())
                            .map(|m| m.target.clone())
                    });
                let targets = self.move_targets(from.as_deref());
                if targets.is_empty() {
                    self.say(Level::Warn, "no other outgoing connector to move to");
                    return Vec::new();
                }
                let title = match ids.len() {
                    1 => format!(" move message {first} to "),
                    n => format!(" move {n} messages to "),
                };
                self.popup = Some(Popup::Pick(Pick {
                    title,
                    options: targets,
                    selected: 0,
                    purpose: Purpose::MsgMove { ids },
                }));
                Vec::new()
            }
            Binding::Resend if ids.len() == 1 => self.request(Action::MsgResend(first)),
            Binding::InjectDlr if ids.len() == 1 => {
                self.popup = Some(Popup::Pick(Pick {
                    title: format!(" delivery report for message {first} "),
                    options: DlrStatus::ALL
                        .iter()
                        .map(|s| s.stat_word().to_string())
                        .collect(),
                    selected: 0,
                    purpose: Purpose::Dlr { id: first },
                }));
                Vec::new()
            }
            _ => {
                self.say(
                    Level::Warn,
                    "that acts on one message: unmark the others first",
                );
                Vec::new()
            }
        }
    }

    fn mark(&mut self, all: bool) {
        let Some(m) = &mut self.messages else { return };
        if all {
            let shown: Vec<u64> = m.visible().iter().map(|r| r.id).collect();
            if shown.iter().all(|id| m.marked.contains(id)) {
                m.marked.clear();
            } else {
                m.marked.extend(shown);
            }
            return;
        }
        if let Some(id) = m.current().map(|r| r.id) {
            if !m.marked.remove(&id) {
                m.marked.insert(id);
            }
            let n = m.visible().len();
            m.cursor.step(1, n);
        }
    }

    /// Run `action`, or first ask when it needs confirming.
    pub(crate) fn request(&mut self, action: Action) -> Vec<Intent> {
        if action.needs_confirm() {
            self.popup = Some(Popup::Confirm(action));
            return Vec::new();
        }
        self.run(action)
    }

    pub(crate) fn run(&mut self, action: Action) -> Vec<Intent> {
        if let Action::Bulk { ids, .. } = &action {
            self.popup = Some(Popup::Progress {
                title: action.describe(),
                done: 0,
                failed: 0,
                total: ids.len(),
            });
        } else {
            self.say(Level::Info, format!("{}…", action.describe()));
        }
        vec![Intent::Run(action)]
    }

    pub(crate) fn move_selection(&mut self, delta: isize) -> Vec<Intent> {
        let rows = self.rows();
        if rows.is_empty() {
            return Vec::new();
        }
        let at = self.selected_index().unwrap_or(0);
        let to = at.saturating_add_signed(delta).min(rows.len() - 1);
        let name = rows[to].name.clone();
        if self.table.selected.as_deref() == Some(name.as_str()) {
            return Vec::new();
        }
        self.table.selected = Some(name.clone());
        if !self.log.all {
            self.log.scroll = 0;
        }
        vec![Intent::Detail(name)]
    }

    fn command_key(&mut self, key: KeyEvent) -> Vec<Intent> {
        let Some(line) = &mut self.command else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Esc => self.command = None,
            KeyCode::Enter => {
                let text = line.text.clone();
                self.command = None;
                return self.run_command(&text);
            }
            KeyCode::Tab => self.complete(),
            KeyCode::Backspace if line.text.pop().is_none() => self.command = None,
            KeyCode::Char(c) => {
                line.text.push(c);
                line.candidates.clear();
            }
            _ => {}
        }
        Vec::new()
    }

    fn save_log(&mut self) -> Vec<Intent> {
        let sel = self.current_connector();
        let lines: Vec<String> = self
            .log
            .visible(sel.as_deref())
            .map(|l| l.line.clone())
            .collect();
        if lines.is_empty() {
            self.say(Level::Warn, "no log lines to save");
            return Vec::new();
        }
        let stamp = chrono::DateTime::from_timestamp_micros(self.now_us)
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y%m%d-%H%M%S")
                    .to_string()
            })
            .unwrap_or_else(|| "now".into());
        let path = format!("emgclient-log-{stamp}.txt");
        let mut text = lines.join("\n");
        text.push('\n');
        vec![Intent::Save { path, text }]
    }
}

//! Key → intent. Every binding is listed in [`KEYS`], which the help overlay shows.

use super::{Action, App, Focus, Intent, Level, Popup, SendForm};
use common::mgp::LogKind;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// (keys, what they do), in the order the help overlay lists them.
pub const KEYS: &[(&str, &str)] = &[
    ("↑ ↓ / k j", "select a connector (table) or scroll (log)"),
    ("PgUp PgDn", "scroll the log by a page"),
    (
        "Home End / g G",
        "first / last row, or oldest / newest log line",
    ),
    ("Tab", "switch focus between table and log"),
    ("/", "filter table / search log (Enter keeps, Esc clears)"),
    ("s  S", "sort by the next column / reverse the order"),
    ("h", "hold the selected connector (asks to confirm)"),
    ("r", "release it"),
    ("b", "bounce it: reconnect its sessions (asks to confirm)"),
    (
        "f  F",
        "force-close it (asks to confirm) / clear force-close",
    ),
    ("m", "move its queue to a connector picked from a list"),
    ("t", "send a test message (on it, when it is outgoing)"),
    ("space", "pause / follow the log"),
    ("l", "log of the selected connector / of all connectors"),
    ("p", "connector log / PDU log"),
    ("Esc", "close a window, clear the status line"),
    ("?", "this help"),
    ("q  Ctrl-C", "quit"),
];

/// Rows a page of log scrolls.
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
        if self.table.editing || self.log.editing {
            return self.edit_key(key);
        }
        self.normal_key(key)
    }

    fn normal_key(&mut self, key: KeyEvent) -> Vec<Intent> {
        let selected = self.table.selected.clone();
        let sel = selected.as_deref();
        match key.code {
            KeyCode::Char('q') => return vec![Intent::Quit],
            KeyCode::Char('?') => self.popup = Some(Popup::Help),
            KeyCode::Tab | KeyCode::BackTab => {
                self.focus = match self.focus {
                    Focus::Table => Focus::Log,
                    Focus::Log => Focus::Table,
                }
            }
            KeyCode::Down | KeyCode::Char('j') => match self.focus {
                Focus::Table => return self.move_selection(1),
                Focus::Log => self.log.scroll_by(-1, sel),
            },
            KeyCode::Up | KeyCode::Char('k') => match self.focus {
                Focus::Table => return self.move_selection(-1),
                Focus::Log => self.log.scroll_by(1, sel),
            },
            KeyCode::PageUp => self.log.scroll_by(PAGE, sel),
            KeyCode::PageDown => self.log.scroll_by(-PAGE, sel),
            KeyCode::Home | KeyCode::Char('g') => match self.focus {
                Focus::Table => return self.move_selection(isize::MIN / 2),
                Focus::Log => self.log.scroll_by(isize::MAX / 2, sel),
            },
            KeyCode::End | KeyCode::Char('G') => match self.focus {
                Focus::Table => return self.move_selection(isize::MAX / 2),
                Focus::Log => self.log.scroll = 0,
            },
            KeyCode::Char('/') => match self.focus {
                Focus::Table => self.table.editing = true,
                Focus::Log => self.log.editing = true,
            },
            KeyCode::Char('s') => {
                self.table.sort = self.table.sort.next();
                self.say(
                    Level::Info,
                    format!("sorted by {}", self.table.sort.label()),
                );
            }
            KeyCode::Char('S') => self.table.reverse = !self.table.reverse,
            KeyCode::Char(' ') => {
                self.log.paused = !self.log.paused;
                if !self.log.paused {
                    self.log.scroll = 0;
                }
            }
            KeyCode::Char('l') => {
                self.log.all = !self.log.all;
                self.log.scroll = 0;
            }
            KeyCode::Char('p') => {
                self.log.kind = match self.log.kind {
                    LogKind::Connector => LogKind::Pdu,
                    LogKind::Pdu => LogKind::Connector,
                };
                self.log.clear();
                return vec![Intent::Tail(self.log.kind)];
            }
            KeyCode::Esc => {
                self.status = None;
            }
            KeyCode::Char(c @ ('h' | 'r' | 'b' | 'f' | 'F' | 'm' | 't')) => return self.act(c),
            _ => {}
        }
        Vec::new()
    }

    fn act(&mut self, c: char) -> Vec<Intent> {
        let Some(info) = self.selected() else {
            self.say(Level::Warn, "no connector selected");
            return Vec::new();
        };
        let name = info.name.clone();
        let outgoing = info.direction == "outgoing";
        let action = match c {
            'h' => Action::Hold(name),
            'r' => Action::Release(name),
            'b' => Action::Bounce(name),
            'f' => Action::Forceclose(name),
            'F' => Action::ForcecloseClear(name),
            'm' => {
                let targets: Vec<String> = self
                    .connectors
                    .iter()
                    .filter(|c| c.name != name && c.direction == "outgoing")
                    .map(|c| c.name.clone())
                    .collect();
                if targets.is_empty() {
                    self.say(Level::Warn, "no other outgoing connector to move to");
                } else {
                    self.popup = Some(Popup::MoveTarget {
                        from: name,
                        targets,
                        selected: 0,
                    });
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

    /// Run `action`, or first ask when it needs confirming.
    fn request(&mut self, action: Action) -> Vec<Intent> {
        if action.needs_confirm() {
            self.popup = Some(Popup::Confirm(action));
            return Vec::new();
        }
        self.say(Level::Info, format!("{}…", action.describe()));
        vec![Intent::Run(action)]
    }

    fn move_selection(&mut self, delta: isize) -> Vec<Intent> {
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

    fn edit_key(&mut self, key: KeyEvent) -> Vec<Intent> {
        let on_table = self.table.editing;
        let text = if on_table {
            &mut self.table.filter
        } else {
            &mut self.log.search
        };
        let mut done = false;
        match key.code {
            KeyCode::Enter => done = true,
            KeyCode::Esc => {
                text.clear();
                done = true;
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) => text.push(c),
            _ => {}
        }
        if done {
            self.table.editing = false;
            self.log.editing = false;
        }
        if on_table {
            self.fix_selection()
        } else {
            self.log.scroll = 0;
            Vec::new()
        }
    }

    fn popup_key(&mut self, key: KeyEvent) -> Vec<Intent> {
        let Some(popup) = self.popup.take() else {
            return Vec::new();
        };
        match popup {
            Popup::Help => {}
            Popup::Confirm(action) => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    self.say(Level::Info, format!("{}…", action.describe()));
                    return vec![Intent::Run(action)];
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                    self.say(Level::Info, format!("cancelled: {}", action.describe()));
                }
                _ => self.popup = Some(Popup::Confirm(action)),
            },
            Popup::MoveTarget {
                from,
                targets,
                mut selected,
            } => match key.code {
                KeyCode::Esc | KeyCode::Char('q') => {}
                KeyCode::Enter => {
                    let to = targets[selected].clone();
                    return self.request(Action::QueueMove { from, to });
                }
                code => {
                    match code {
                        KeyCode::Down | KeyCode::Char('j') => {
                            selected = (selected + 1).min(targets.len() - 1)
                        }
                        KeyCode::Up | KeyCode::Char('k') => selected = selected.saturating_sub(1),
                        _ => {}
                    }
                    self.popup = Some(Popup::MoveTarget {
                        from,
                        targets,
                        selected,
                    });
                }
            },
            Popup::Send(mut form) => match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => {
                    let [to, from, text] = form.fields.clone();
                    if to.is_empty() || text.is_empty() {
                        self.say(Level::Warn, "a test message needs a destination and a text");
                        self.popup = Some(Popup::Send(form));
                        return Vec::new();
                    }
                    return self.request(Action::Send {
                        to,
                        from,
                        text,
                        via: form.via,
                    });
                }
                code => {
                    match code {
                        KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % 3,
                        KeyCode::BackTab | KeyCode::Up => form.focus = (form.focus + 2) % 3,
                        KeyCode::Backspace => {
                            form.fields[form.focus].pop();
                        }
                        KeyCode::Char(c) => form.fields[form.focus].push(c),
                        _ => {}
                    }
                    self.popup = Some(Popup::Send(form));
                }
            },
        }
        Vec::new()
    }
}

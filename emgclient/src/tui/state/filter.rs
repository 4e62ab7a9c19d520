//! The `/` line of each view: which text it edits, and its keys.

use super::views::View;
use super::{App, Focus, Intent};
use crossterm::event::{KeyCode, KeyEvent};

/// Where the `/` key types.
enum FilterTarget {
    Table,
    Log,
    Queues,
    Messages,
    Users,
    Routes,
}

impl App {
    fn filter_target(&self) -> FilterTarget {
        match self.view() {
            View::Connectors if self.focus == Focus::Table => FilterTarget::Table,
            View::Connectors | View::Connector(_) | View::Logs | View::Message(_) | View::Nodes => {
                FilterTarget::Log
            }
            View::Queues => FilterTarget::Queues,
            View::Messages => FilterTarget::Messages,
            View::Users => FilterTarget::Users,
            View::Routes => FilterTarget::Routes,
        }
    }

    fn filter_mut(&mut self, t: &FilterTarget) -> Option<(&mut String, &mut bool)> {
        Some(match t {
            FilterTarget::Table => (&mut self.table.filter, &mut self.table.editing),
            FilterTarget::Log => (&mut self.log.search, &mut self.log.editing),
            FilterTarget::Queues => (&mut self.queues.filter, &mut self.queues.editing),
            FilterTarget::Messages => {
                let m = self.messages.as_mut()?;
                (&mut m.cursor.filter, &mut m.cursor.editing)
            }
            FilterTarget::Users => (&mut self.users.filter, &mut self.users.editing),
            FilterTarget::Routes => (&mut self.routes.filter, &mut self.routes.editing),
        })
    }

    /// Is a `/` line open, and where?
    pub fn editing(&self) -> Option<FilterTargetName> {
        let t = self.filter_target();
        let on = match t {
            FilterTarget::Table => self.table.editing,
            FilterTarget::Log => self.log.editing,
            FilterTarget::Queues => self.queues.editing,
            FilterTarget::Messages => self.messages.as_ref().is_some_and(|m| m.cursor.editing),
            FilterTarget::Users => self.users.editing,
            FilterTarget::Routes => self.routes.editing,
        };
        on.then_some(FilterTargetName(t))
    }

    pub(crate) fn start_filter(&mut self) {
        let t = self.filter_target();
        if let Some((_, editing)) = self.filter_mut(&t) {
            *editing = true;
        }
    }

    pub(crate) fn edit_key(&mut self, t: FilterTargetName, key: KeyEvent) -> Vec<Intent> {
        let t = t.0;
        let Some((text, editing)) = self.filter_mut(&t) else {
            return Vec::new();
        };
        match key.code {
            KeyCode::Enter => *editing = false,
            KeyCode::Esc => {
                text.clear();
                *editing = false;
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) => text.push(c),
            _ => {}
        }
        match t {
            FilterTarget::Table => self.fix_selection(),
            FilterTarget::Log => {
                self.log.scroll = 0;
                Vec::new()
            }
            FilterTarget::Queues => {
                let n = self.queue_rows().len();
                self.queues.clamp(n);
                Vec::new()
            }
            FilterTarget::Messages => {
                if let Some(m) = &mut self.messages {
                    let n = m.visible().len();
                    m.cursor.clamp(n);
                }
                Vec::new()
            }
            FilterTarget::Users => {
                let n = self.user_rows().len();
                self.users.clamp(n);
                Vec::new()
            }
            FilterTarget::Routes => {
                let n = self.route_rows().len();
                self.routes.clamp(n);
                Vec::new()
            }
        }
    }
}

/// Which `/` line has the keyboard (opaque outside this module).
pub struct FilterTargetName(FilterTarget);

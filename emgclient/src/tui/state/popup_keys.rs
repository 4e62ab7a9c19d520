//! Keys while a window is open over the console: it takes every key.

use super::{Action, App, BulkKind, Intent, Level, Popup, Purpose};
use crossterm::event::{KeyCode, KeyEvent};

impl App {
    pub(crate) fn popup_key(&mut self, key: KeyEvent) -> Vec<Intent> {
        let Some(popup) = self.popup.take() else {
            return Vec::new();
        };
        match popup {
            Popup::Help => {}
            // Runs on; Esc only hides the bar (the result still comes to the status line).
            Popup::Progress { .. } if key.code == KeyCode::Esc => {}
            p @ Popup::Progress { .. } => self.popup = Some(p),
            Popup::Confirm(action) => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    return self.run(action)
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                    self.say(Level::Info, format!("cancelled: {}", action.describe()));
                }
                _ => self.popup = Some(Popup::Confirm(action)),
            },
            Popup::ConfirmForceclose(name) => match key.code {
                KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                    return self.run(Action::Forceclose(name))
                }
                KeyCode::Char('p') | KeyCode::Char('P') => {
                    return self.run(Action::ForceclosePersist(name))
                }
                KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                    self.say(Level::Info, format!("cancelled: force-close {name}"));
                }
                _ => self.popup = Some(Popup::ConfirmForceclose(name)),
            },
            Popup::Pick(mut pick) => match key.code {
                KeyCode::Esc | KeyCode::Char('q') => {}
                KeyCode::Enter => {
                    let choice = pick.options[pick.selected].clone();
                    let action = match pick.purpose {
                        Purpose::QueueMove { from } => Action::QueueMove { from, to: choice },
                        Purpose::MsgMove { ids } if ids.len() == 1 => Action::MsgMove {
                            id: ids[0],
                            to: choice,
                        },
                        Purpose::MsgMove { ids } => Action::Bulk {
                            kind: BulkKind::Move { to: choice },
                            ids,
                        },
                        Purpose::Dlr { id } => Action::DlrInject { id, status: choice },
                    };
                    return self.request(action);
                }
                code => {
                    match code {
                        KeyCode::Down | KeyCode::Char('j') => {
                            pick.selected = (pick.selected + 1).min(pick.options.len() - 1)
                        }
                        KeyCode::Up | KeyCode::Char('k') => {
                            pick.selected = pick.selected.saturating_sub(1)
                        }
                        _ => {}
                    }
                    self.popup = Some(Popup::Pick(pick));
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

//! Which key does what: every binding has a name, default keys, the views it works in and
//! whether it changes anything (a read-only operator gets none of those). Operators rebind
//! keys in `~/.config/emgclient/config.toml`:
//!
//! ```toml
//! [keys]
//! hold = "H"
//! cancel = ["c", "x"]
//! ```
//!
//! The help overlay and the manual are made from this table, so they always tell the truth.
//! (Over 600 lines: most of it is [`TABLE`], one entry per action, which rustfmt lays out a
//! field to a line.)

use super::views::View;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::{BTreeMap, HashMap};

/// Where a binding works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every view.
    All,
    Connectors,
    /// The connectors list and one connector's view.
    AnyConnector,
    Messages,
    /// The messages list and one message's view.
    AnyMessage,
    /// Views of queues: connectors, one connector, queues.
    AnyQueue,
    /// Views with a log: connectors, one connector, logs.
    Log,
    LogsOnly,
}

impl Scope {
    pub fn covers(self, v: &View) -> bool {
        match self {
            Scope::All => true,
            Scope::Connectors => *v == View::Connectors,
            Scope::AnyConnector => matches!(v, View::Connectors | View::Connector(_)),
            Scope::Messages => *v == View::Messages,
            Scope::AnyMessage => matches!(v, View::Messages | View::Message(_)),
            Scope::AnyQueue => matches!(v, View::Connectors | View::Connector(_) | View::Queues),
            Scope::Log => matches!(v, View::Connectors | View::Connector(_) | View::Logs),
            Scope::LogsOnly => *v == View::Logs,
        }
    }
}

/// Every action a key can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Binding {
    Quit,
    Help,
    Command,
    Filter,
    Back,
    Open,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Focus,
    Sort,
    Reverse,
    Hold,
    Release,
    Bounce,
    Forceclose,
    ForcecloseClear,
    QueueMove,
    QueueClear,
    Reload,
    SendTest,
    Mark,
    MarkAll,
    Cancel,
    Move,
    Resend,
    InjectDlr,
    MoreRows,
    Refresh,
    Pause,
    LogScope,
    LogKind,
    Highlight,
    Save,
}

/// (binding, config name, default keys, scope, changes anything, what it does)
pub type Entry = (
    Binding,
    &'static str,
    &'static [&'static str],
    Scope,
    bool,
    &'static str,
);

pub const TABLE: &[Entry] = &[
    (
        Binding::Up,
        "up",
        &["up", "k"],
        Scope::All,
        false,
        "previous row / scroll up",
    ),
    (
        Binding::Down,
        "down",
        &["down", "j"],
        Scope::All,
        false,
        "next row / scroll down",
    ),
    (
        Binding::PageUp,
        "page_up",
        &["pgup"],
        Scope::All,
        false,
        "a page up",
    ),
    (
        Binding::PageDown,
        "page_down",
        &["pgdn"],
        Scope::All,
        false,
        "a page down",
    ),
    (
        Binding::Top,
        "top",
        &["home", "g"],
        Scope::All,
        false,
        "first row / oldest line",
    ),
    (
        Binding::Bottom,
        "bottom",
        &["end", "G"],
        Scope::All,
        false,
        "last row / newest line",
    ),
    (
        Binding::Open,
        "open",
        &["enter"],
        Scope::All,
        false,
        "open the selection (drill down)",
    ),
    (
        Binding::Back,
        "back",
        &["esc"],
        Scope::All,
        false,
        "back to the previous view",
    ),
    (
        Binding::Command,
        "command",
        &[":"],
        Scope::All,
        false,
        "command: :connectors :queues :messages ... (Tab completes)",
    ),
    (
        Binding::Filter,
        "filter",
        &["/"],
        Scope::All,
        false,
        "filter the rows / search the log (Enter keeps, Esc clears)",
    ),
    (
        Binding::Focus,
        "focus",
        &["tab"],
        Scope::AnyConnector,
        false,
        "switch focus between table and log",
    ),
    (
        Binding::Sort,
        "sort",
        &["s"],
        Scope::Connectors,
        false,
        "sort by the next column",
    ),
    (
        Binding::Reverse,
        "reverse",
        &["S"],
        Scope::Connectors,
        false,
        "reverse the order",
    ),
    (
        Binding::Hold,
        "hold",
        &["h"],
        Scope::AnyConnector,
        true,
        "hold the connector (asks to confirm)",
    ),
    (
        Binding::Release,
        "release",
        &["r"],
        Scope::AnyConnector,
        true,
        "release it",
    ),
    (
        Binding::Bounce,
        "bounce",
        &["b"],
        Scope::AnyConnector,
        true,
        "bounce it: reconnect its sessions (asks to confirm)",
    ),
    (
        Binding::Forceclose,
        "forceclose",
        &["f"],
        Scope::AnyConnector,
        true,
        "force-close it (asks; p there persists it)",
    ),
    (
        Binding::ForcecloseClear,
        "forceclose_clear",
        &["F"],
        Scope::AnyConnector,
        true,
        "clear force-close",
    ),
    (
        Binding::QueueMove,
        "queue_move",
        &["m"],
        Scope::AnyQueue,
        true,
        "move its queue to a connector picked from a list",
    ),
    (
        Binding::QueueClear,
        "queue_clear",
        &["C"],
        Scope::AnyQueue,
        true,
        "clear its queue: cancel every waiting message (asks)",
    ),
    (
        Binding::SendTest,
        "send",
        &["t"],
        Scope::AnyConnector,
        true,
        "send a test message (on it, when it is outgoing)",
    ),
    (
        Binding::Reload,
        "reload",
        &["ctrl-r"],
        Scope::All,
        true,
        "reload emgd's configuration (asks; admin)",
    ),
    (
        Binding::Mark,
        "mark",
        &["space"],
        Scope::Messages,
        false,
        "mark / unmark the message",
    ),
    (
        Binding::MarkAll,
        "mark_all",
        &["a"],
        Scope::Messages,
        false,
        "mark every row shown / unmark all",
    ),
    (
        Binding::Cancel,
        "cancel",
        &["c"],
        Scope::AnyMessage,
        true,
        "cancel the message(s) (asks)",
    ),
    (
        Binding::Move,
        "move",
        &["m"],
        Scope::AnyMessage,
        true,
        "move the message(s) to another connector",
    ),
    (
        Binding::Resend,
        "resend",
        &["R"],
        Scope::AnyMessage,
        true,
        "resend a copy of a finished message",
    ),
    (
        Binding::InjectDlr,
        "inject_dlr",
        &["d"],
        Scope::AnyMessage,
        true,
        "inject a delivery report for a sent message",
    ),
    (
        Binding::MoreRows,
        "more",
        &["n"],
        Scope::Messages,
        false,
        "load the next page",
    ),
    (
        Binding::Refresh,
        "refresh",
        &["ctrl-l"],
        Scope::All,
        false,
        "fetch the view again",
    ),
    (
        Binding::Pause,
        "pause",
        &["space"],
        Scope::Log,
        false,
        "pause / follow the log",
    ),
    (
        Binding::LogScope,
        "log_scope",
        &["l"],
        Scope::Log,
        false,
        "log of the selected connector / of all",
    ),
    (
        Binding::LogKind,
        "log_kind",
        &["p"],
        Scope::Log,
        false,
        "connector log / PDU log",
    ),
    (
        Binding::Highlight,
        "highlight",
        &["H"],
        Scope::LogsOnly,
        false,
        "search: show only matching lines / highlight them in all",
    ),
    (
        Binding::Save,
        "save",
        &["w"],
        Scope::LogsOnly,
        false,
        "save the lines shown to a file",
    ),
    (
        Binding::Help,
        "help",
        &["?"],
        Scope::All,
        false,
        "this help",
    ),
    (
        Binding::Quit,
        "quit",
        &["q", "ctrl-c"],
        Scope::All,
        false,
        "quit",
    ),
];

/// Bindings the help lists on one line, with the line's text.
const GROUPS: &[(&[Binding], &str)] = &[
    (
        &[
            Binding::Up,
            Binding::Down,
            Binding::PageUp,
            Binding::PageDown,
            Binding::Top,
            Binding::Bottom,
        ],
        "move: a row, a page, to the first / last (the log, when it has the focus)",
    ),
    (
        &[Binding::Sort, Binding::Reverse],
        "sort by the next column / reverse the order",
    ),
    (
        &[Binding::Hold, Binding::Release],
        "hold the connector (asks) / release it",
    ),
    (
        &[Binding::Forceclose, Binding::ForcecloseClear],
        "force-close it (asks; p there persists it) / clear force-close",
    ),
    (
        &[Binding::Mark, Binding::MarkAll],
        "mark the message / every row shown (again: none)",
    ),
];

/// A key as configured: `"h"`, `"H"`, `"ctrl-r"`, `"enter"`, `"space"`, `"f5"` ...
pub fn parse_key(s: &str) -> Result<(KeyCode, KeyModifiers), String> {
    let (mods, name) = match s.strip_prefix("ctrl-") {
        Some(rest) if !rest.is_empty() => (KeyModifiers::CONTROL, rest),
        _ => match s.strip_prefix("alt-") {
            Some(rest) if !rest.is_empty() => (KeyModifiers::ALT, rest),
            _ => (KeyModifiers::NONE, s),
        },
    };
    let code = match name {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pgup" => KeyCode::PageUp,
        "pgdn" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "delete" => KeyCode::Delete,
        "backspace" => KeyCode::Backspace,
        f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
            KeyCode::F(f[1..].parse().unwrap_or(1))
        }
        c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
        _ => {
            return Err(format!(
                "`{s}` is not a key (a character, ctrl-X, alt-X, enter, esc, tab, space, up, down, left, right, pgup, pgdn, home, end, delete, backspace, f1-f12)"
            ))
        }
    };
    Ok((code, mods))
}

/// How a key reads in the help: as configured.
fn key_label(s: &str) -> String {
    match s {
        "ctrl-c" => "Ctrl-C".into(),
        s if s.starts_with("ctrl-") => format!("Ctrl-{}", s[5..].to_uppercase()),
        "enter" => "Enter".into(),
        "esc" => "Esc".into(),
        "tab" => "Tab".into(),
        "space" => "space".into(),
        "up" => "↑".into(),
        "down" => "↓".into(),
        "pgup" => "PgUp".into(),
        "pgdn" => "PgDn".into(),
        "home" => "Home".into(),
        "end" => "End".into(),
        s => s.to_string(),
    }
}

/// The keys in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    keys: BTreeMap<Binding, Vec<String>>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap {
            keys: TABLE
                .iter()
                .map(|(b, _, keys, ..)| (*b, keys.iter().map(|k| k.to_string()).collect()))
                .collect(),
        }
    }
}

fn entry(
    b: Binding,
) -> &'static (
    Binding,
    &'static str,
    &'static [&'static str],
    Scope,
    bool,
    &'static str,
) {
    TABLE
        .iter()
        .find(|e| e.0 == b)
        .expect("every binding is in TABLE")
}

impl Keymap {
    /// The defaults with the `[keys]` table of the settings file applied; an unknown name, a
    /// key that is not one, or two bindings of one view on the same key is an error.
    pub fn with(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, String> {
        let mut map = Keymap::default();
        for (name, keys) in overrides {
            let Some(e) = TABLE.iter().find(|e| e.1 == name) else {
                let names: Vec<&str> = TABLE.iter().map(|e| e.1).collect();
                return Err(format!(
                    "[keys] {name}: no such action (actions: {})",
                    names.join(", ")
                ));
            };
            for k in keys {
                parse_key(k).map_err(|m| format!("[keys] {name}: {m}"))?;
            }
            map.keys.insert(e.0, keys.clone());
        }
        map.check()?;
        Ok(map)
    }

    /// No key may do two things in one view.
    fn check(&self) -> Result<(), String> {
        let views = [
            View::Connectors,
            View::Connector(String::new()),
            View::Queues,
            View::Messages,
            View::Message(0),
            View::Users,
            View::Routes,
            View::Nodes,
            View::Logs,
        ];
        for v in &views {
            let mut seen: HashMap<(KeyCode, KeyModifiers), &str> = HashMap::new();
            for (b, name, _, scope, ..) in TABLE {
                // Space marks in the messages list and pauses logs: scopes never meet there.
                if !scope.covers(v) {
                    continue;
                }
                for k in &self.keys[b] {
                    let key = parse_key(k)?;
                    if let Some(other) = seen.insert(key, name) {
                        if other != *name {
                            return Err(format!(
                                "[keys] `{k}` is bound to both {other} and {name} in the {} view",
                                v.crumb_kind()
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The binding `key` has in view `v`, if any.
    pub fn lookup(&self, v: &View, key: &KeyEvent) -> Option<Binding> {
        let mods = key.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        TABLE.iter().find_map(|(b, _, _, scope, ..)| {
            if !scope.covers(v) {
                return None;
            }
            self.keys[b]
                .iter()
                .filter_map(|k| parse_key(k).ok())
                .any(|(code, m)| code == key.code && m == mods)
                .then_some(*b)
        })
    }

    /// What the help shows in `v`: (keys, what they do), without the actions `may_act`
    /// forbids. Bindings that go together share a line, so that a view's help fits 24 lines.
    pub fn help(&self, v: &View, may_act: bool) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        for (b, _, _, scope, acts, what) in TABLE {
            if !scope.covers(v) || (*acts && !may_act) {
                continue;
            }
            let keys = |b: &Binding| -> String {
                self.keys[b]
                    .iter()
                    .map(|k| key_label(k))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            match GROUPS.iter().find(|(members, _)| members.contains(b)) {
                Some((members, text)) if members[0] == *b => {
                    let all: Vec<String> = members.iter().map(keys).collect();
                    out.push((all.join("  "), *text));
                }
                Some(_) => {} // listed with the first of its group
                None => out.push((keys(b), *what)),
            }
        }
        out
    }

    /// Does `b` change anything on emgd?
    pub fn acts(b: Binding) -> bool {
        entry(b).4
    }
}

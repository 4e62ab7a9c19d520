//! Colours, in one place. With `NO_COLOR` set the console is monochrome: every style keeps
//! its boldness, reversal and underline but loses its colours, so a state still reads by its
//! word and the selection by its reversal.

use crate::tui::state::Level;
use ratatui::style::{Color, Modifier, Style};
use std::cell::Cell;

thread_local! {
    /// Per thread: the console draws on one, and each test runs on its own.
    static MONOCHROME: Cell<bool> = const { Cell::new(false) };
}

/// Drop every colour from now on (the `NO_COLOR` convention, no-color.org).
pub fn set_monochrome(on: bool) {
    MONOCHROME.with(|m| m.set(on));
}

pub fn monochrome() -> bool {
    MONOCHROME.with(Cell::get)
}

fn paint(s: Style) -> Style {
    if monochrome() {
        Style {
            fg: None,
            bg: None,
            ..s
        }
    } else {
        s
    }
}

/// A plain foreground colour.
pub fn fg(c: Color) -> Style {
    paint(Style::new().fg(c))
}

pub fn state(word: &str) -> Style {
    let c = match word {
        "BOUND" => Color::Green,
        "CONNECTED" | "MIXED" => Color::Yellow,
        "IDLE" => Color::Gray,
        "TERMINATING" => Color::Magenta,
        "DEAD" | "ERROR" => Color::Red,
        _ => Color::Reset,
    };
    let s = Style::new().fg(c);
    // Trouble stands out in monochrome too.
    if monochrome() && matches!(word, "DEAD" | "ERROR") {
        return Style::new().add_modifier(Modifier::BOLD);
    }
    paint(s)
}

/// A message's state.
pub fn message_state(word: &str) -> Style {
    match word {
        "queued" | "submitting" => fg(Color::Yellow),
        "sent" => fg(Color::Cyan),
        "done" => fg(Color::Green),
        "failed" | "rejected" => paint(Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)),
        "cancelled" => fg(Color::Magenta),
        _ => Style::new(),
    }
}

pub fn level(l: Level) -> Style {
    match l {
        Level::Info => Style::new(),
        Level::Ok => fg(Color::Green),
        Level::Warn => fg(Color::Yellow),
        Level::Error => paint(Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)),
    }
}

pub fn title() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    if monochrome() {
        return Style::new().add_modifier(Modifier::DIM);
    }
    Style::new().fg(Color::DarkGray)
}

pub fn flag() -> Style {
    paint(Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD))
}

pub fn key() -> Style {
    paint(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD))
}

pub fn error() -> Style {
    fg(Color::Red)
}

pub fn focused(on: bool) -> Style {
    if on {
        if monochrome() {
            return Style::new().add_modifier(Modifier::BOLD);
        }
        Style::new().fg(Color::Cyan)
    } else {
        Style::new()
    }
}

pub fn selected(focus: bool) -> Style {
    if focus {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    }
}

pub fn matched() -> Style {
    if monochrome() {
        return Style::new().add_modifier(Modifier::REVERSED | Modifier::UNDERLINED);
    }
    Style::new().fg(Color::Black).bg(Color::Yellow)
}

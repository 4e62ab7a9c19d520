//! Colours, in one place.

use crate::tui::state::Level;
use ratatui::style::{Color, Modifier, Style};

pub fn state(word: &str) -> Style {
    let c = match word {
        "BOUND" => Color::Green,
        "CONNECTED" | "MIXED" => Color::Yellow,
        "IDLE" => Color::Gray,
        "TERMINATING" => Color::Magenta,
        "DEAD" | "ERROR" => Color::Red,
        _ => Color::Reset,
    };
    Style::new().fg(c)
}

pub fn level(l: Level) -> Style {
    match l {
        Level::Info => Style::new(),
        Level::Ok => Style::new().fg(Color::Green),
        Level::Warn => Style::new().fg(Color::Yellow),
        Level::Error => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

pub fn title() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn flag() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

pub fn key() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

pub fn focused(on: bool) -> Style {
    if on {
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
    Style::new().fg(Color::Black).bg(Color::Yellow)
}

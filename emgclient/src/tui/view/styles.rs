//! Colours, in one place. The views name colours by the 16 basic ANSI names (green is
//! good, yellow is waiting, red is trouble, cyan is a key or an accent, gray is idle); this
//! module maps them onto what the terminal can show ([`Palette`], detected at start):
//!
//! - `NO_COLOR` set: monochrome. Every style keeps its boldness, reversal and underline but
//!   loses its colours, so a state still reads by its word and the selection by its reversal.
//! - `COLORTERM=truecolor` (or `24bit`): 24-bit colours, the same hues as the 256 palette.
//! - `TERM` naming a 256-colour terminal (`xterm-256color`, `tmux-256color`, ...): the xterm
//!   256-colour cube. The basic colours' exact shades depend on the terminal's theme (bright
//!   yellow text on a light one, dark gray that vanishes on a dark one); these do not.
//! - otherwise the 16 basic colours, which every colour terminal has.
//!
//! `EMGCLIENT_COLORS=none|16|256|truecolor` overrides the detection.

use crate::tui::state::Level;
use ratatui::style::{Color, Modifier, Style};
use std::cell::Cell;

/// What the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    Monochrome,
    Basic16,
    Indexed256,
    TrueColor,
}

impl Palette {
    /// From the environment, as the module's documentation says.
    pub fn detect(var: impl Fn(&str) -> Option<String>) -> Palette {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        if set("NO_COLOR").is_some() {
            return Palette::Monochrome;
        }
        match set("EMGCLIENT_COLORS").as_deref() {
            Some("none") => return Palette::Monochrome,
            Some("16") => return Palette::Basic16,
            Some("256") => return Palette::Indexed256,
            Some("truecolor") | Some("24bit") => return Palette::TrueColor,
            _ => {}
        }
        if matches!(
            set("COLORTERM").as_deref(),
            Some("truecolor") | Some("24bit")
        ) {
            return Palette::TrueColor;
        }
        match set("TERM").as_deref() {
            Some("dumb") => Palette::Monochrome,
            Some(t) if t.contains("256color") => Palette::Indexed256,
            _ => Palette::Basic16,
        }
    }

    /// The colour this palette shows for the basic colour `c`.
    pub fn map(self, c: Color) -> Option<Color> {
        let (index, rgb) = match c {
            Color::Green => (71, (95, 175, 95)),
            Color::Yellow => (178, (215, 175, 0)),
            Color::Red => (167, (215, 95, 95)),
            Color::Cyan => (38, (0, 175, 215)),
            Color::Magenta => (134, (175, 95, 215)),
            Color::Gray => (248, (168, 168, 168)),
            Color::DarkGray => (244, (128, 128, 128)),
            Color::Black => (16, (0, 0, 0)),
            other => return (self != Palette::Monochrome).then_some(other),
        };
        match self {
            Palette::Monochrome => None,
            Palette::Basic16 => Some(c),
            Palette::Indexed256 => Some(Color::Indexed(index)),
            Palette::TrueColor => Some(Color::Rgb(rgb.0, rgb.1, rgb.2)),
        }
    }
}

thread_local! {
    /// Per thread: the console draws on one, and each test runs on its own.
    static PALETTE: Cell<Palette> = const { Cell::new(Palette::Basic16) };
}

/// Draw with `p` from now on.
pub fn set_palette(p: Palette) {
    PALETTE.with(|m| m.set(p));
}

/// Drop every colour from now on (the `NO_COLOR` convention, no-color.org), or go back to
/// the 16 basic ones.
pub fn set_monochrome(on: bool) {
    set_palette(if on {
        Palette::Monochrome
    } else {
        Palette::Basic16
    });
}

pub fn monochrome() -> bool {
    PALETTE.with(Cell::get) == Palette::Monochrome
}

fn paint(s: Style) -> Style {
    let p = PALETTE.with(Cell::get);
    Style {
        fg: s.fg.and_then(|c| p.map(c)),
        bg: s.bg.and_then(|c| p.map(c)),
        ..s
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
    paint(Style::new().fg(Color::DarkGray))
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
        paint(Style::new().fg(Color::Cyan))
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
    paint(Style::new().fg(Color::Black).bg(Color::Yellow))
}

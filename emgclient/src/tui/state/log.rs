//! The live log pane: a bounded buffer of tailed lines, paused or following, scrolled,
//! narrowed to the selected connector and to a search string.

use common::mgp::LogKind;
use std::collections::VecDeque;

/// Lines kept (of every connector); older ones are dropped.
pub const MAX_LOG_LINES: usize = 2000;

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub connector: String,
    pub instance: u32,
    pub line: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogState {
    pub lines: VecDeque<LogLine>,
    /// Connector log or PDU log.
    pub kind: LogKind,
    /// Every connector's lines, or only the selected connector's.
    pub all: bool,
    /// New lines are kept but the view stays where it is.
    pub paused: bool,
    /// Lines between the bottom of the view and the newest shown line.
    pub scroll: usize,
    pub search: String,
    /// The search highlights its matches in every line instead of showing only those.
    pub highlight_only: bool,
    /// The search line has the keyboard.
    pub editing: bool,
    /// Events emgd dropped because we read too slowly.
    pub lost: u64,
}

impl Default for LogState {
    fn default() -> LogState {
        LogState {
            lines: VecDeque::new(),
            kind: LogKind::Connector,
            all: false,
            paused: false,
            scroll: 0,
            search: String::new(),
            highlight_only: false,
            editing: false,
            lost: 0,
        }
    }
}

impl LogState {
    fn shows(&self, l: &LogLine, selected: Option<&str>) -> bool {
        (self.all || selected.is_none_or(|s| s == l.connector))
            && (self.search.is_empty() || self.highlight_only || l.line.contains(&self.search))
    }

    /// The lines the pane shows, oldest first, before scrolling.
    pub fn visible<'a>(&'a self, selected: Option<&'a str>) -> impl Iterator<Item = &'a LogLine> {
        self.lines.iter().filter(move |l| self.shows(l, selected))
    }

    /// Add a tailed line; a paused or scrolled-up view stays on the lines it shows.
    pub fn push(&mut self, l: LogLine, selected: Option<&str>) {
        if (self.paused || self.scroll > 0) && self.shows(&l, selected) {
            self.scroll += 1;
        }
        self.lines.push_back(l);
        while self.lines.len() > MAX_LOG_LINES {
            self.lines.pop_front();
        }
    }

    /// Scroll up (positive) or down; clamped to the lines there are.
    pub fn scroll_by(&mut self, delta: isize, selected: Option<&str>) {
        let max = self.visible(selected).count().saturating_sub(1);
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
    }

    /// Start again: a new kind of log, or a reconnection.
    pub fn clear(&mut self) {
        self.lines.clear();
        self.scroll = 0;
    }
}

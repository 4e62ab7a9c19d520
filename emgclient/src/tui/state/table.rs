//! The connector table: which rows, in which order, which one is selected.

use common::mgp::ConnectorInfo;
use std::cmp::Reverse;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// emgd's order (the configuration's).
    #[default]
    Config,
    Name,
    State,
    Queue,
    RateIn,
    RateOut,
    Errors,
}

impl SortKey {
    pub const ALL: [SortKey; 7] = [
        SortKey::Config,
        SortKey::Name,
        SortKey::State,
        SortKey::Queue,
        SortKey::RateIn,
        SortKey::RateOut,
        SortKey::Errors,
    ];

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Config => "config",
            SortKey::Name => "name",
            SortKey::State => "state",
            SortKey::Queue => "queue",
            SortKey::RateIn => "in/s",
            SortKey::RateOut => "out/s",
            SortKey::Errors => "errors",
        }
    }

    pub fn next(self) -> SortKey {
        let i = SortKey::ALL.iter().position(|k| *k == self).unwrap_or(0);
        SortKey::ALL[(i + 1) % SortKey::ALL.len()]
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableState {
    /// By name, so that the cursor stays on its connector when rows move.
    pub selected: Option<String>,
    pub sort: SortKey,
    /// Largest first (names: Z first).
    pub reverse: bool,
    /// Case-insensitive substring of name, type, protocol or state.
    pub filter: String,
    /// The filter line has the keyboard.
    pub editing: bool,
}

/// How healthy a state is, worst first: sorting by state puts trouble on top.
pub fn state_rank(states: &[String]) -> u8 {
    states
        .iter()
        .map(|s| match s.as_str() {
            "ERROR" => 0,
            "DEAD" => 1,
            "TERMINATING" => 2,
            "IDLE" => 3,
            "CONNECTED" => 4,
            "BOUND" => 5,
            _ => 0,
        })
        .min()
        .unwrap_or(3)
}

/// One word for the instance states: the state when they agree, else MIXED.
pub fn state_word(states: &[String]) -> &str {
    match states.first() {
        None => "-",
        Some(f) if states.iter().all(|s| s == f) => f,
        Some(_) => "MIXED",
    }
}

fn matches(c: &ConnectorInfo, filter: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let f = filter.to_lowercase();
    [
        c.name.as_str(),
        c.direction.as_str(),
        c.protocol.as_str(),
        state_word(&c.states),
    ]
    .iter()
    .any(|s| s.to_lowercase().contains(&f))
}

impl TableState {
    /// The rows the table shows of `connectors`: filtered, then sorted.
    pub fn rows<'a>(&self, connectors: &'a [ConnectorInfo]) -> Vec<&'a ConnectorInfo> {
        let mut rows: Vec<&ConnectorInfo> = connectors
            .iter()
            .filter(|c| matches(c, &self.filter))
            .collect();
        let cmp_f = |a: f64, b: f64| a.total_cmp(&b);
        match self.sort {
            SortKey::Config => {}
            SortKey::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
            SortKey::State => rows.sort_by_key(|c| state_rank(&c.states)),
            SortKey::Queue => rows.sort_by_key(|c| Reverse(c.queued)),
            SortKey::RateIn => rows.sort_by(|a, b| cmp_f(b.rate_received, a.rate_received)),
            SortKey::RateOut => rows.sort_by(|a, b| cmp_f(b.rate_sent, a.rate_sent)),
            SortKey::Errors => rows.sort_by_key(|c| Reverse(c.failed)),
        }
        if self.reverse {
            rows.reverse();
        }
        rows
    }
}

//! The `:` command line: what each command opens, and Tab completion.

use super::views::{MessageSource, SearchQuery, View};
use super::{App, CommandLine, Intent, Level, Popup};

/// (command, aliases, argument, what it opens), in the order completion offers them.
pub const COMMANDS: &[(&str, &[&str], &str, &str)] = &[
    (
        "connectors",
        &["co", "conn"],
        "",
        "every connector: state, queue, rates",
    ),
    (
        "connector",
        &[],
        "NAME",
        "one connector: sessions, errors, latencies, log",
    ),
    ("queues", &["qu"], "", "every queue's size"),
    (
        "queue",
        &[],
        "NAME",
        "the messages waiting in a connector's queue",
    ),
    (
        "messages",
        &["msg", "m"],
        "[dest=P] [from=P] [account=A] [connector=C] [id=N] [since=T] [until=T]",
        "search messages (T: 10m, 2h, 1d ago, or YYYY-MM-DDTHH:MM)",
    ),
    ("message", &[], "ID", "one message with its history"),
    (
        "users",
        &["accounts", "u"],
        "",
        "the configured users and their accounts",
    ),
    ("routes", &["ro"], "", "the routing table"),
    ("nodes", &["no"], "", "the node(s) this console talks to"),
    ("logs", &["log"], "", "the connector logs, full screen"),
    ("help", &["h"], "", "the keys of this view"),
    ("quit", &["q", "q!"], "", "leave the console"),
];

/// Search criteria a `:messages` argument may name.
const CRITERIA: [&str; 7] = [
    "dest=",
    "from=",
    "account=",
    "connector=",
    "id=",
    "since=",
    "until=",
];

/// The command a word names (a full name or an alias).
fn command_of(word: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|(name, aliases, ..)| *name == word || aliases.contains(&word))
        .map(|c| c.0)
}

/// `10m`, `2h`, `1d`, `30s` ago, or a local `YYYY-MM-DDTHH:MM[:SS]`, as Unix µs.
pub fn parse_time(s: &str, now_us: i64) -> Result<i64, String> {
    let unit = |c: char| match c {
        's' => Some(1),
        'm' => Some(60),
        'h' => Some(3600),
        'd' => Some(86400),
        _ => None,
    };
    if let Some(last) = s.chars().last() {
        if let (Some(mult), Ok(n)) = (unit(last), s[..s.len() - 1].parse::<i64>()) {
            return Ok(now_us - n * mult * 1_000_000);
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            if let Some(local) = t.and_local_timezone(chrono::Local).earliest() {
                return Ok(local.timestamp_micros());
            }
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(local) = d
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(chrono::Local).earliest())
        {
            return Ok(local.timestamp_micros());
        }
    }
    Err(format!(
        "`{s}` is not a time: 10m, 2h, 1d (ago) or 2026-05-04T10:00"
    ))
}

/// `:messages`'s arguments. A bare number is an id, a bare `+4670...` a destination.
pub fn parse_query(args: &[&str], now_us: i64) -> Result<SearchQuery, String> {
    let mut q = SearchQuery::default();
    for a in args {
        let (k, v) = match a.split_once('=') {
            Some((k, v)) => (k, v.to_string()),
            None if a.parse::<u64>().is_ok() && a.len() < 12 => ("id", a.to_string()),
            None => ("dest", a.to_string()),
        };
        if v.is_empty() {
            return Err(format!("`{a}`: no value after ="));
        }
        match k {
            "dest" | "to" => q.dest = Some(v),
            "from" | "source" => q.source = Some(v),
            "account" => q.account = Some(v),
            "connector" | "on" => q.connector = Some(v),
            "id" => {
                q.id = Some(
                    v.parse()
                        .map_err(|_| format!("`{v}` is not a message id"))?,
                )
            }
            "since" => q.since_us = Some(parse_time(&v, now_us)?),
            "until" => q.until_us = Some(parse_time(&v, now_us)?),
            _ => {
                return Err(format!(
                    "`{k}` is no search criterion (criteria: dest, from, account, connector, id, since, until)"
                ))
            }
        }
    }
    Ok(q)
}

impl App {
    /// Run the command line's text.
    pub(crate) fn run_command(&mut self, text: &str) -> Vec<Intent> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let Some(first) = words.first() else {
            return Vec::new();
        };
        let Some(cmd) = command_of(first) else {
            let names: Vec<&str> = COMMANDS.iter().map(|c| c.0).collect();
            self.say(
                Level::Warn,
                format!("no command `{first}` (commands: {})", names.join(", ")),
            );
            return Vec::new();
        };
        let args = &words[1..];
        let connector = |app: &mut App| -> Option<String> {
            match args.first() {
                Some(n) if app.connectors.iter().any(|c| c.name == *n) => Some(n.to_string()),
                Some(n) => {
                    app.say(Level::Warn, format!("no connector {n}"));
                    None
                }
                None => {
                    app.say(
                        Level::Warn,
                        format!(":{cmd} needs a connector name (Tab completes)"),
                    );
                    None
                }
            }
        };
        match cmd {
            "connectors" => self.open(View::Connectors, false),
            "connector" => match connector(self) {
                Some(n) => {
                    self.stack = vec![View::Connectors];
                    self.open(View::Connector(n), true)
                }
                None => Vec::new(),
            },
            "queues" => self.open(View::Queues, false),
            "queue" => match connector(self) {
                Some(n) => {
                    self.stack = vec![View::Queues];
                    self.open_messages(MessageSource::Queue(n), true)
                }
                None => Vec::new(),
            },
            "messages" => match parse_query(args, self.now_us) {
                Ok(q) => self.open_messages(MessageSource::Search(q), false),
                Err(e) => {
                    self.say(Level::Warn, e);
                    Vec::new()
                }
            },
            "message" => match args.first().and_then(|a| a.parse::<u64>().ok()) {
                Some(id) => self.open(View::Message(id), true),
                None => {
                    self.say(Level::Warn, ":message needs a message id");
                    Vec::new()
                }
            },
            "users" => self.open(View::Users, false),
            "routes" => self.open(View::Routes, false),
            "nodes" => self.open(View::Nodes, false),
            "logs" => {
                self.log.all = true;
                self.log.scroll = 0;
                self.open(View::Logs, false)
            }
            "help" => {
                self.popup = Some(Popup::Help);
                Vec::new()
            }
            _ => vec![Intent::Quit],
        }
    }

    /// Tab: complete the word under the cursor (the end of the line). One candidate is taken;
    /// several are listed, and their common start taken.
    pub(crate) fn complete(&mut self) {
        let Some(line) = &self.command else { return };
        let text = line.text.clone();
        let words: Vec<&str> = text.split(' ').collect();
        let last = *words.last().unwrap_or(&"");
        let options: Vec<String> = if words.len() <= 1 {
            COMMANDS.iter().map(|c| c.0.to_string()).collect()
        } else {
            match command_of(words[0]) {
                Some("connector" | "queue") if words.len() == 2 => {
                    self.connectors.iter().map(|c| c.name.clone()).collect()
                }
                Some("messages") => match last.split_once('=') {
                    Some(("connector" | "on", _)) => self
                        .connectors
                        .iter()
                        .map(|c| format!("connector={}", c.name))
                        .collect(),
                    Some(("account", _)) => self
                        .lists
                        .users
                        .iter()
                        .flatten()
                        .map(|u| format!("account={}", u.account))
                        .collect(),
                    _ => CRITERIA.iter().map(|c| c.to_string()).collect(),
                },
                _ => Vec::new(),
            }
        };
        let mut matching: Vec<String> = options
            .into_iter()
            .filter(|o| o.starts_with(last))
            .collect();
        matching.dedup();
        let done = match matching.len() {
            0 => last.to_string(),
            1 => {
                let one = &matching[0];
                if one.ends_with('=') {
                    one.clone()
                } else {
                    format!("{one} ")
                }
            }
            _ => common_prefix(&matching),
        };
        let mut head: Vec<&str> = words[..words.len() - 1].to_vec();
        head.push(&done);
        self.command = Some(CommandLine {
            text: head.join(" "),
            candidates: if matching.len() > 1 {
                matching
            } else {
                Vec::new()
            },
        });
    }
}

fn common_prefix(words: &[String]) -> String {
    let first = &words[0];
    let mut end = first.len();
    for w in &words[1..] {
        end = end.min(
            first
                .char_indices()
                .zip(w.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, a), _)| i + a.len_utf8()),
        );
    }
    first[..end].to_string()
}

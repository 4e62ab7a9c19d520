//! EMG retry schemes: which errors are retried, how long messages are held, and how a connector
//! backs off when connecting fails.
//!
//! A scheme file has one rule per line:
//! `<type><command> <errorcode> <retrytime> <connects> <maxsleep> <holddelay> <flags>`, where
//! type is `C` (connector) or `M` (message) written directly before the command, `*` matches any
//! command or error code, and numbers are decimal or `0x` hex. `#` starts a comment.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Sink};

/// Keyword used for every diagnostic inside a retry-scheme file.
const KEYWORD: &str = "retryscheme";

/// The flag bits EMG defines: 1 good message, 2 bad domain, 4 bad connector.
const KNOWN_FLAGS: u64 = 0b111;

/// Ordered retry rules; the first matching rule of the right kind wins.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RetryScheme {
    /// Rules in file order.
    pub rules: Vec<RetryRule>,
}

/// Whether a rule governs connection attempts or individual messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// `C` rule: reconnect behaviour after a connector-level error.
    Connector,
    /// `M` rule: requeue/hold behaviour after a message-level error.
    Message,
}

/// One line of a retry scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryRule {
    /// Rule type.
    pub kind: RuleKind,
    /// Command (e.g. SMPP command id) matched; `None` = any.
    pub command: Option<u32>,
    /// Error code matched; `None` = any.
    pub error: Option<u32>,
    /// Seconds between connect attempts (connector rules).
    pub retrytime: u64,
    /// Connect attempts per round (connector rules).
    pub connects: u32,
    /// Seconds to sleep in ERROR state before the next round (connector rules).
    pub maxsleep: u64,
    /// Seconds a requeued message is held (message rules).
    pub holddelay: u64,
    /// Bits: 1 good message, 2 bad domain, 4 bad connector.
    pub flags: u8,
}

impl RetryRule {
    fn matches(&self, kind: RuleKind, command: u32, error: u32) -> bool {
        self.kind == kind
            && self.command.is_none_or(|c| c == command)
            && self.error.is_none_or(|e| e == error)
    }

    /// What a connector does when no `C` rule matches: like EMG's sample SMPP connector, retry
    /// every 5 s, 3 connects per round, then sleep 5 minutes in ERROR.
    fn connector_default() -> Self {
        RetryRule {
            kind: RuleKind::Connector,
            command: None,
            error: None,
            retrytime: 5,
            connects: 3,
            maxsleep: 300,
            holddelay: 0,
            flags: 0,
        }
    }
}

impl RetryScheme {
    /// Parses a scheme file's text; `file` is only used in diagnostics. Reports every bad line.
    pub fn parse(text: &str, file: &Path) -> Result<RetryScheme, Vec<Diagnostic>> {
        let mut sink = Sink::new(file, text);
        let mut rules = Vec::new();
        let mut offset = 0;
        for line in text.split_inclusive('\n') {
            if let Some(rule) = parse_line(line, offset, &mut sink) {
                rules.push(rule);
            }
            offset += line.len();
        }
        if sink.diagnostics.is_empty() {
            Ok(RetryScheme { rules })
        } else {
            Err(sink.diagnostics)
        }
    }

    /// First message rule matching `command`/`error`, in file order. `None` means the message
    /// fails, which is EMG's default for message errors.
    pub fn message_rule(&self, command: u32, error: u32) -> Option<&RetryRule> {
        self.rules
            .iter()
            .find(|r| r.matches(RuleKind::Message, command, error))
    }

    /// First connector rule matching `command`/`error`, or the built-in default (retry every
    /// 5 s, 3 connects, then sleep 300 s).
    pub fn connector_rule(&self, command: u32, error: u32) -> RetryRule {
        self.rules
            .iter()
            .find(|r| r.matches(RuleKind::Connector, command, error))
            .cloned()
            .unwrap_or_else(RetryRule::connector_default)
    }
}

/// Whitespace-separated tokens of `line` with their byte offsets, up to a `#` comment.
fn tokens(line: &str) -> Vec<(usize, &str)> {
    let body = line.split('#').next().unwrap_or("");
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in body.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &body[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &body[s..]));
    }
    out
}

/// Decimal or `0x` hex.
fn number(tok: &str) -> Option<u64> {
    match tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None if tok.bytes().all(|b| b.is_ascii_digit()) => tok.parse().ok(),
        None => None,
    }
}

/// `*` (any) or a number that fits in `u32`.
fn pattern(tok: &str) -> Result<Option<u32>, ()> {
    if tok == "*" {
        return Ok(None);
    }
    number(tok)
        .and_then(|n| u32::try_from(n).ok())
        .map(Some)
        .ok_or(())
}

fn parse_line(line: &str, offset: usize, sink: &mut Sink<'_>) -> Option<RetryRule> {
    let toks = tokens(line);
    let (first_at, first) = *toks.first()?;
    let span = |at: usize| (offset + at)..(offset + at);
    let mut ok = true;

    let mut chars = first.chars();
    let kind = match chars.next() {
        Some('C' | 'c') => Some(RuleKind::Connector),
        Some('M' | 'm') => Some(RuleKind::Message),
        _ => None,
    };
    let Some(kind) = kind else {
        sink.at(
            &span(first_at),
            KEYWORD,
            format!("rule `{first}` must start with `C` (connector) or `M` (message)"),
        );
        return None;
    };
    let cmd_text = chars.as_str();
    let command = if cmd_text.is_empty() {
        sink.at(
            &span(first_at),
            KEYWORD,
            format!("rule type `{first}` must be followed directly by a command number or `*`"),
        );
        ok = false;
        None
    } else {
        pattern(cmd_text).unwrap_or_else(|()| {
            sink.at(
                &span(first_at + 1),
                KEYWORD,
                format!("command `{cmd_text}` is not `*` or a number (decimal or 0x hex)"),
            );
            ok = false;
            None
        })
    };

    if toks.len() != 7 {
        sink.at(
            &span(first_at),
            KEYWORD,
            format!(
                "expected 7 fields (<type><command> <errorcode> <retrytime> <connects> \
                 <maxsleep> <holddelay> <flags>), found {}",
                toks.len()
            ),
        );
        return None;
    }

    let error = match toks.get(1) {
        Some(&(at, tok)) => pattern(tok).unwrap_or_else(|()| {
            sink.at(
                &span(at),
                KEYWORD,
                format!("error code `{tok}` is not `*` or a number (decimal or 0x hex)"),
            );
            ok = false;
            None
        }),
        None => None,
    };

    const NAMES: [&str; 5] = ["retrytime", "connects", "maxsleep", "holddelay", "flags"];
    const MAX: [u64; 5] = [u64::MAX, u32::MAX as u64, u64::MAX, u64::MAX, KNOWN_FLAGS];
    let mut values = [0u64; 5];
    for (i, &(at, tok)) in toks.iter().skip(2).enumerate() {
        let (Some(name), Some(max), Some(slot)) = (NAMES.get(i), MAX.get(i), values.get_mut(i))
        else {
            break;
        };
        match number(tok) {
            Some(n) if n <= *max => *slot = n,
            Some(n) => {
                sink.at(
                    &span(at),
                    KEYWORD,
                    format!("{name} {n} is out of range 0..={max}"),
                );
                ok = false;
            }
            None => {
                sink.at(
                    &span(at),
                    KEYWORD,
                    format!("{name} `{tok}` is not a number (decimal or 0x hex)"),
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let [retrytime, connects, maxsleep, holddelay, flags] = values;
    Some(RetryRule {
        kind,
        command,
        error,
        retrytime,
        connects: u32::try_from(connects).unwrap_or(u32::MAX),
        maxsleep,
        holddelay,
        flags: u8::try_from(flags).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RetryScheme, Vec<String>> {
        RetryScheme::parse(text, Path::new("r.retry"))
            .map_err(|d| d.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn parses_rules_comments_and_blank_lines() {
        let s = parse("# comment\n\nM*  0x58  0  0  0  5  1\nC0x4 14 10 2 60 0 4 # trailing\n")
            .unwrap();
        assert_eq!(s.rules.len(), 2);
        assert_eq!(
            s.rules[0],
            RetryRule {
                kind: RuleKind::Message,
                command: None,
                error: Some(0x58),
                retrytime: 0,
                connects: 0,
                maxsleep: 0,
                holddelay: 5,
                flags: 1,
            }
        );
        assert_eq!(s.rules[1].kind, RuleKind::Connector);
        assert_eq!(s.rules[1].command, Some(4));
        assert_eq!(s.rules[1].error, Some(14));
        assert_eq!(s.rules[1].connects, 2);
        assert_eq!(s.rules[1].flags, 4);
    }

    #[test]
    fn message_rule_first_match_in_file_order() {
        let s = parse("M4 0x58 0 0 0 5 1\nM* * 0 0 0 60 0\nC* * 1 1 1 0 0\n").unwrap();
        assert_eq!(s.message_rule(4, 0x58).unwrap().holddelay, 5);
        assert_eq!(s.message_rule(4, 0x14).unwrap().holddelay, 60);
        assert_eq!(s.message_rule(9, 0x58).unwrap().holddelay, 60);
        assert!(RetryScheme::default().message_rule(4, 0x58).is_none());
    }

    #[test]
    fn connector_rule_falls_back_to_default() {
        let d = RetryScheme::default().connector_rule(9, 1);
        assert_eq!((d.retrytime, d.connects, d.maxsleep), (5, 3, 300));
        let s = parse("C9 1 2 7 30 0 0\n").unwrap();
        assert_eq!(s.connector_rule(9, 1).connects, 7);
        assert_eq!(s.connector_rule(9, 2).connects, 3);
        // message rules never answer connector questions
        let s = parse("M* * 0 0 0 5 1\n").unwrap();
        assert_eq!(s.connector_rule(1, 1).connects, 3);
    }

    #[test]
    fn reports_every_bad_line_with_position() {
        let errs = parse(
            "X* 1 0 0 0 0 0\nM* 1 0 0\nMfoo 1 0 0 0 0 0\n  M* zz 0 0 0 0 9\nM\u{e9} 1 0 0 0 0 0\n",
        )
        .unwrap_err();
        assert_eq!(
            errs,
            [
                "r.retry:1:1: retryscheme: rule `X*` must start with `C` (connector) or `M` (message)",
                "r.retry:2:1: retryscheme: expected 7 fields (<type><command> <errorcode> <retrytime> <connects> <maxsleep> <holddelay> <flags>), found 4",
                "r.retry:3:2: retryscheme: command `foo` is not `*` or a number (decimal or 0x hex)",
                "r.retry:4:6: retryscheme: error code `zz` is not `*` or a number (decimal or 0x hex)",
                "r.retry:4:17: retryscheme: flags 9 is out of range 0..=7",
                "r.retry:5:2: retryscheme: command `\u{e9}` is not `*` or a number (decimal or 0x hex)",
            ]
        );
    }

    #[test]
    fn rejects_missing_command_and_oversized_numbers() {
        let errs = parse("M 1 0 0 0 0 0\nC* 1 0 0x100000000 0 0 0\n").unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].contains("must be followed directly by a command"));
        assert!(errs[1].contains("connects 4294967296 is out of range"));
    }
}

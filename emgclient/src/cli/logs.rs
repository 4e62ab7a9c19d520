//! `loglevel` (emgd's general log level, at run time) and `logs` (a log file's history).

use super::out::{self, outln, Out};
use crate::client::Client;
use crate::exit::Failure;
use chrono::{Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use common::mgp::{Event, Loglevel, Op, StreamRef};

pub async fn loglevel(c: &mut Client, out: &Out, level: Option<String>) -> Result<(), Failure> {
    let setting = level.is_some();
    let (v, l) = c.call_as::<Loglevel>(Op::Loglevel { level }).await?;
    if out.raw(&v)? {
        return Ok(());
    }
    if setting && l.previous != l.level {
        outln!("general log level {} (was {})", l.level, l.previous)
    } else {
        outln!("general log level {}", l.level)
    }
}

/// Print the lines the server streams until its `end` event.
pub async fn history(
    c: &mut Client,
    out: &Out,
    name: String,
    since_us: Option<i64>,
    lines: usize,
) -> Result<(), Failure> {
    let op = Op::Logs {
        name,
        since_us,
        limit: Some(lines),
    };
    let (_, s) = c.call_as::<StreamRef>(op).await?;
    loop {
        let Some(ev) = c.next_event().await? else {
            return Err(Failure::Other(
                "the server closed the connection before the end of the log".into(),
            ));
        };
        if ev.stream != s.stream {
            continue;
        }
        match ev.event {
            Event::Line { line } if !out.json => outln!("{line}")?,
            Event::End { lines, truncated } => {
                if out.json {
                    outln!(
                        "{}",
                        serde_json::json!({"type": "end", "lines": lines, "truncated": truncated})
                    )?;
                } else if truncated {
                    eprintln!("emgclient: only the last {lines} lines are shown (-n)");
                }
                return out::flush();
            }
            ev => {
                if out.json {
                    outln!("{}", serde_json::to_string(&ev).unwrap_or_default())?;
                }
            }
        }
    }
}

/// `--since`: a local date and time (`2026-11-23 09:30`, `2026-11-23 09:30:15`, `2026-11-23`,
/// `09:30` today) or an age (`90s`, `15m`, `2h`, `3d`), as Unix microseconds.
pub fn parse_since(text: &str) -> Result<i64, Failure> {
    let t = text.trim();
    let bad = || {
        Failure::Usage(format!(
            "--since {text}: expected a local time such as `2026-11-23 09:30`, `2026-11-23` \
             or `09:30`, or an age such as `15m`, `2h`, `3d`"
        ))
    };
    if let Some(unit) = t.chars().last().filter(char::is_ascii_alphabetic) {
        let n: i64 = t[..t.len() - 1].parse().map_err(|_| bad())?;
        let secs = match unit {
            's' => n,
            'm' => n * 60,
            'h' => n * 3600,
            'd' => n * 86400,
            _ => return Err(bad()),
        };
        return Ok(Local::now().timestamp_micros() - secs * 1_000_000);
    }
    let local = if let Ok(dt) = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S") {
        dt
    } else if let Ok(dt) = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M") {
        dt
    } else if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        d.and_time(NaiveTime::MIN)
    } else if let Ok(tm) = NaiveTime::parse_from_str(t, "%H:%M") {
        Local::now().date_naive().and_time(tm)
    } else {
        return Err(bad());
    };
    Local
        .from_local_datetime(&local)
        .earliest()
        .map(|dt| dt.timestamp_micros())
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_times_and_ages() {
        let now = Local::now().timestamp_micros();
        let age = parse_since("15m").unwrap();
        assert!((now - 15 * 60_000_000 - age).abs() < 5_000_000);
        let day = parse_since("2026-11-23").unwrap();
        assert_eq!(parse_since("2026-11-23 00:00").unwrap(), day);
        assert_eq!(
            parse_since("2026-11-23 00:00:30").unwrap(),
            day + 30_000_000
        );
        let e = parse_since("yesterday").unwrap_err();
        assert_eq!(e.code(), crate::exit::INVALID_ARGUMENT);
        assert!(parse_since("5w").is_err());
    }
}

//! A log file's history, for MGP `logs` (served by emgd and by the watchdog, so that it works
//! while emgd is down): the last lines of `general`, `watchdog`, `connector.NAME` or
//! `pdu.NAME`, optionally only those from a time on.
//!
//! Every line of these files starts with EMG's local timestamp (`2026-11-23 09:31:18.520766`,
//! or in a JSON general log `{"timestamp":"2026-11-23T09:31:18.520766+01:00"`), so "since" is
//! a comparison of that prefix; a line without one (the rest of a multi-line message) goes
//! with the line before it. Rotated copies that logrotate left uncompressed (`NAME.1`,
//! `NAME.2`, ...: the packaged snippet uses `delaycompress`) are read first, oldest first,
//! and skipped whole when they end before "since".

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Most lines one request may ask for.
pub const MAX_LINES: usize = 100_000;

/// The file `name` stands for in `logdir`: `general`, `watchdog`, `connector.NAME`,
/// `pdu.NAME`, or a bare connector name for its connector log.
pub fn resolve(logdir: &Path, name: &str) -> Result<PathBuf, String> {
    let safe = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !safe {
        return Err(format!("`{name}` is not a log name"));
    }
    let file = match name {
        "general" | "watchdog" => name.to_string(),
        n if n.starts_with("connector.") || n.starts_with("pdu.") => n.to_string(),
        n => format!("connector.{n}"),
    };
    let path = logdir.join(&file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "there is no log {file} in {} (logs: general, watchdog, connector.NAME, pdu.NAME)",
            logdir.display()
        ))
    }
}

/// The last `limit` lines of `path` (and its uncompressed rotations) whose time is `since` or
/// later (`since` in the files' own format, `YYYY-MM-DD HH:MM:SS.ffffff` local time); true
/// when more lines matched than `limit`.
pub fn read(
    path: &Path,
    since: Option<&str>,
    limit: usize,
) -> std::io::Result<(Vec<String>, bool)> {
    let limit = limit.clamp(1, MAX_LINES);
    let mut files = rotations(path);
    files.push(path.to_path_buf());
    let mut kept: VecDeque<String> = VecDeque::with_capacity(limit.min(4096));
    let mut dropped = false;
    for file in files {
        if let Some(since) = since {
            if last_time(&file)?.is_some_and(|t| t.as_str() < since) {
                continue;
            }
        }
        let mut on = since.is_none();
        for line in BufReader::new(File::open(&file)?).lines() {
            let line = line?;
            if let (Some(since), Some(t)) = (since, time_of(&line)) {
                on = t.as_str() >= since;
            }
            if !on {
                continue;
            }
            if kept.len() == limit {
                kept.pop_front();
                dropped = true;
            }
            kept.push_back(line);
        }
    }
    Ok((kept.into(), dropped))
}

/// The last `n` lines of `path` alone (not its rotations), read from the end: what a tail's
/// backlog needs, at the cost of the lines it returns rather than of the file's size.
pub fn last_lines(path: &Path, n: usize) -> std::io::Result<Vec<String>> {
    const CHUNK: u64 = 64 * 1024;
    let mut f = File::open(path)?;
    let size = f.seek(SeekFrom::End(0))?;
    let mut start = size;
    let mut buf: Vec<u8> = Vec::new();
    // Back a chunk at a time until n + 1 newlines are in (the first line may be partial).
    while start > 0 && buf.iter().filter(|&&b| b == b'\n').count() <= n {
        let from = start.saturating_sub(CHUNK);
        let mut chunk = vec![0; (start - from) as usize];
        f.seek(SeekFrom::Start(from))?;
        f.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
        start = from;
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<&str> = text.lines().collect();
    if start > 0 && !lines.is_empty() {
        lines.remove(0); // began mid-line
    }
    let skip = lines.len().saturating_sub(n);
    Ok(lines[skip..].iter().map(|l| l.to_string()).collect())
}

/// `NAME.N` ... `NAME.1` that exist uncompressed, beside NAME or in `rotated/` (logrotate's
/// olddir in the packaged snippet), oldest first.
fn rotations(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for n in 1.. {
        let file = format!("{}.{n}", name.to_string_lossy());
        let Some(p) = [dir.join(&file), dir.join("rotated").join(&file)]
            .into_iter()
            .find(|p| p.is_file())
        else {
            break;
        };
        found.push(p);
    }
    found.reverse();
    found
}

/// The timestamp a line starts with, in the text files' format.
pub fn time_of(line: &str) -> Option<String> {
    let stamp = match line.strip_prefix("{\"timestamp\":\"") {
        Some(json) => json.get(..26)?.replacen('T', " ", 1),
        None => line.get(..26)?.to_string(),
    };
    let b = stamp.as_bytes();
    let shape = b[0..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[19] == b'.';
    shape.then_some(stamp)
}

/// The time of the last timestamped line within the file's last 64 KiB.
fn last_time(path: &Path) -> std::io::Result<Option<String>> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)?;
    Ok(String::from_utf8_lossy(&tail)
        .lines()
        .rev()
        .find_map(time_of))
}

/// Unix microseconds as the files' local timestamp.
pub fn local_stamp(unix_us: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_micros(unix_us)
        .earliest()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_reads_from_the_end_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("connector.x");
        let text: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, &text).unwrap();
        let got = last_lines(&path, 3).unwrap();
        assert_eq!(got, ["line 19997", "line 19998", "line 19999"]);
        let got = last_lines(&path, 15_000).unwrap();
        assert_eq!(got.len(), 15_000);
        assert_eq!(got[0], "line 5000");
        assert_eq!(last_lines(&path, 50_000).unwrap().len(), 20_000);
        std::fs::write(&path, "").unwrap();
        assert!(last_lines(&path, 3).unwrap().is_empty());
    }

    #[test]
    fn since_and_limit_pick_lines_across_rotations() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("connector.smsc1");
        std::fs::create_dir(dir.path().join("rotated")).unwrap();
        std::fs::write(
            dir.path().join("rotated/connector.smsc1.1"),
            "2026-11-23 08:00:00.000000 (0) CONNECT OK\n2026-11-23 09:00:00.000000 (0) LOGIN OK\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("connector.smsc1.2.gz"), "not read").unwrap();
        std::fs::write(
            &log,
            "2026-11-23 10:00:00.000000 (0) CONNECT ERR (info=\"111\")\nno time here\n\
             2026-11-23 11:00:00.000000 (0) CONNECT OK\n",
        )
        .unwrap();
        assert_eq!(resolve(dir.path(), "smsc1").unwrap(), log);
        assert_eq!(resolve(dir.path(), "connector.smsc1").unwrap(), log);
        assert!(resolve(dir.path(), "../etc/passwd").is_err());
        assert!(resolve(dir.path(), "pdu.smsc1")
            .unwrap_err()
            .contains("no log pdu.smsc1"));

        let (all, cut) = read(&log, None, 100).unwrap();
        assert_eq!(all.len(), 5);
        assert!(!cut);
        let (since, _) = read(&log, Some("2026-11-23 09:00:00.000000"), 100).unwrap();
        assert_eq!(
            since,
            [
                "2026-11-23 09:00:00.000000 (0) LOGIN OK",
                "2026-11-23 10:00:00.000000 (0) CONNECT ERR (info=\"111\")",
                "no time here",
                "2026-11-23 11:00:00.000000 (0) CONNECT OK",
            ]
        );
        let (last, cut) = read(&log, Some("2026-11-23 09:30:00.000000"), 2).unwrap();
        assert_eq!(
            last,
            ["no time here", "2026-11-23 11:00:00.000000 (0) CONNECT OK"]
        );
        assert!(cut);
        let (none, _) = read(&log, Some("2026-11-24 00:00:00.000000"), 2).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn json_general_lines_have_times_too() {
        let line = r#"{"timestamp":"2026-11-23T09:31:18.520766+01:00","level":"INFO"}"#;
        assert_eq!(time_of(line).as_deref(), Some("2026-11-23 09:31:18.520766"));
        assert_eq!(time_of("short"), None);
    }
}

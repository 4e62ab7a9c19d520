//! How times and durations read in tables and the dashboard.

/// `45s`, `3m 12s`, `2h 5m 0s`, `3d 4h 0m`: the two or three largest units.
pub fn duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// `MM-DD HH:MM:SS.mmm` (UTC), for the console's narrow columns; `-` for none.
pub fn short_time_us(us: i64) -> String {
    let full = time_us(us);
    full.get(5..23).map_or(full.clone(), str::to_string)
}

/// Microseconds since the epoch as UTC `YYYY-MM-DD HH:MM:SS.ffffff UTC`; `-` for none.
pub fn time_us(us: i64) -> String {
    if us <= 0 {
        return "-".into();
    }
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{micros:06} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_times() {
        assert_eq!(
            super::time_us(1_430_248_542_104_666),
            "2015-04-28 19:15:42.104666 UTC"
        );
        assert_eq!(super::time_us(0), "-");
    }

    #[test]
    fn durations_keep_the_largest_units() {
        assert_eq!(super::duration(45), "45s");
        assert_eq!(super::duration(192), "3m 12s");
        assert_eq!(super::duration(3 * 86400 + 4 * 3600 + 59), "3d 4h 0m");
    }
}

//! SMPP time fields (3.4 §7.1.1): `validity_period` and `schedule_delivery_time`.
//!
//! Absolute: `YYMMDDhhmmsstnnp`, local time `nn` quarter hours ahead (`+`) or behind (`-`) UTC.
//! Relative: `YYMMDDhhmmss000R`, an interval from now. Empty means "not set". The caller
//! passes `now`, so nothing here reads a clock. [`parse_time`] reads both formats;
//! [`relative_time`] writes the relative one.

use thiserror::Error;

/// A time field that is not empty and not in either format.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("bad SMPP time {0:?}: expected YYMMDDhhmmsstnn followed by +, - or R")]
pub struct BadTime(pub String);

const US: i64 = 1_000_000;

/// A relative period's "year" and "month", in days, as SMSCs count them (and [`parse_time`]).
const YEAR_DAYS: u64 = 365;
const MONTH_DAYS: u64 = 30;

/// The longest period a relative time can say: just under 100 of its years.
pub const MAX_RELATIVE_SECS: u64 = 100 * YEAR_DAYS * 86_400 - 1;

/// `period_secs` from now as a relative time, `YYMMDDhhmmss000R`, each field carried into the
/// next as far as it goes (90 minutes is `000000013000000R`), so a period under 30 days uses
/// no month or year, whose lengths SMSCs count differently. Longer than
/// [`MAX_RELATIVE_SECS`] says that.
pub fn relative_time(period_secs: u64) -> String {
    let secs = period_secs.min(MAX_RELATIVE_SECS);
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let (years, year_days) = (days / YEAR_DAYS, days % YEAR_DAYS);
    // 360 to 364 days into a year are 12 months and some days: a year is not 12 months.
    let (months, month_days) = (year_days / MONTH_DAYS, year_days % MONTH_DAYS);
    format!(
        "{years:02}{months:02}{month_days:02}{:02}{:02}{:02}000R",
        day_secs / 3600,
        day_secs / 60 % 60,
        day_secs % 60
    )
}

/// When `field` says, in Unix microseconds; `None` for an empty field.
pub fn parse_time(field: &str, now_us: i64) -> Result<Option<i64>, BadTime> {
    if field.is_empty() {
        return Ok(None);
    }
    let bad = || BadTime(field.to_string());
    let b = field.as_bytes();
    if b.len() != 16 || !b[..15].iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let num = |i: usize| i64::from(b[i] - b'0') * 10 + i64::from(b[i + 1] - b'0');
    let (yy, mo, dd, hh, mi, ss) = (num(0), num(2), num(4), num(6), num(8), num(10));
    let tenths = i64::from(b[12] - b'0');
    let quarters = num(13);
    match b[15] {
        b'R' => {
            let days = yy * YEAR_DAYS as i64 + mo * MONTH_DAYS as i64 + dd;
            let secs = ((days * 24 + hh) * 60 + mi) * 60 + ss;
            Ok(Some(now_us + secs * US))
        }
        sign @ (b'+' | b'-') => {
            if !(1..=12).contains(&mo)
                || !(1..=days_in_month(2000 + yy, mo)).contains(&dd)
                || hh > 23
                || mi > 59
                || ss > 59
                || quarters > 48
            {
                return Err(bad());
            }
            let local = (days_from_civil(2000 + yy, mo, dd) * 86_400 + hh * 3600 + mi * 60 + ss)
                * US
                + tenths * US / 10;
            let offset = quarters * 15 * 60 * US;
            Ok(Some(if sign == b'+' {
                local - offset
            } else {
                local + offset
            }))
        }
        _ => Err(bad()),
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-23 12:00:00 UTC.
    const NOW: i64 = 1_795_435_200 * US;

    #[test]
    fn time_fields_read_as_the_spec_says() {
        let cases: &[(&str, Option<i64>)] = &[
            ("", None),
            // Relative: 1 day 2 hours 3 minutes 4 seconds.
            (
                "000001020304000R",
                Some(NOW + (86_400 + 2 * 3600 + 3 * 60 + 4) * US),
            ),
            ("000000000010000R", Some(NOW + 10 * US)),
            // Absolute in UTC, then the same instant written one hour ahead of UTC.
            ("261123120000000+", Some(NOW)),
            ("261123130000004+", Some(NOW)),
            ("261123110000004-", Some(NOW)),
            ("261123120000500+", Some(NOW + US / 2)),
            ("240229000000000+", Some(1_709_164_800 * US)),
        ];
        for (field, want) in cases {
            assert_eq!(parse_time(field, NOW), Ok(*want), "{field:?}");
        }
    }

    #[test]
    fn relative_times_are_written_as_the_spec_says() {
        let day = 86_400;
        let cases: &[(u64, &str)] = &[
            (0, "000000000000000R"),
            (10, "000000000010000R"),
            // 3.4 §7.1.1.2's example: 2 years, 6 months, 10 days, 23:34:29.
            (
                (2 * 365 + 6 * 30 + 10) * day + 23 * 3600 + 34 * 60 + 29,
                "020610233429000R",
            ),
            (90 * 60, "000000013000000R"),
            (day + 2 * 3600 + 3 * 60 + 4, "000001020304000R"),
            (29 * day, "000029000000000R"),
            (30 * day, "000100000000000R"),
            (364 * day, "001204000000000R"),
            (365 * day, "010000000000000R"),
            (MAX_RELATIVE_SECS, "991204235959000R"),
            (u64::MAX, "991204235959000R"),
        ];
        for (secs, want) in cases {
            assert_eq!(relative_time(*secs), *want, "{secs} s");
        }
    }

    #[test]
    fn a_written_relative_time_reads_back_as_the_same_period() {
        for secs in [
            0,
            1,
            59,
            3600,
            86_399,
            86_400,
            2_591_999,
            31_535_999,
            MAX_RELATIVE_SECS,
        ] {
            let back = parse_time(&relative_time(secs), NOW).unwrap();
            assert_eq!(back, Some(NOW + secs as i64 * US), "{secs} s");
        }
    }

    #[test]
    fn malformed_time_fields_are_refused() {
        for field in [
            "1",
            "26112312000000+",
            "2611231200000000",
            "261123120000000X",
            "261323120000000+",
            "250229000000000+",
            "26112312000000a+",
            "261123126000000+",
            "261123120000049+",
        ] {
            assert!(parse_time(field, NOW).is_err(), "{field:?}");
        }
    }
}

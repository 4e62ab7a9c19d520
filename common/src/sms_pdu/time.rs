//! Time fields: the service centre time stamp (TS 23.040 §9.2.3.11) and the validity period
//! (§9.2.3.12) in its relative, absolute and enhanced forms.
//!
//! A time stamp is seven semi-octet pairs `YY MM DD hh mm ss zz`, each written low digit
//! first; `zz` is the local time's offset from UTC in quarter hours with its sign in bit 3.
//! Decoding keeps the digits that arrived even when they make no date (networks send odd
//! ones); [`Timestamp::to_unix`] says whether they do. No clock is read here: callers pass times in.

use super::{reader::Reader, PduError};
use crate::smpp::time::days_from_civil;

/// A service centre time stamp, or an absolute validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Two-digit year; 2000 + `year` (TS 23.040 has no century).
    pub year: u8,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Local time minus UTC in quarter hours (−79..=79 fits the field; real ones are ±56).
    pub tz_quarters: i8,
}

fn bcd(v: u8) -> u8 {
    ((v % 10) << 4) | ((v / 10) % 10)
}

/// Two semi-octets, low digit first. A digit above 9 (seen from broken networks) reads as 9,
/// so every decoded value can be written back.
fn from_bcd(o: u8) -> u8 {
    (o & 0x0F).min(9) * 10 + (o >> 4).min(9)
}

impl Timestamp {
    /// The time stamp for Unix time `secs` shown in a zone `tz_quarters` quarter hours east of
    /// UTC. Years outside 2000..=2099 are clamped to that range's ends.
    pub fn from_unix(secs: i64, tz_quarters: i8) -> Timestamp {
        let local = secs + i64::from(tz_quarters) * 900;
        let (days, rem) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        let (y, m, d) = match y {
            ..2000 => (2000, 1, 1),
            2100.. => (2099, 12, 31),
            _ => (y, m, d),
        };
        Timestamp {
            year: (y - 2000) as u8,
            month: m as u8,
            day: d as u8,
            hour: (rem / 3600) as u8,
            minute: (rem / 60 % 60) as u8,
            second: (rem % 60) as u8,
            tz_quarters: tz_quarters.clamp(-79, 79),
        }
    }

    /// Unix time in seconds, or `None` when the fields are not a real date and time.
    pub fn to_unix(&self) -> Option<i64> {
        let (y, m, d) = (2000 + i64::from(self.year), self.month, self.day);
        let valid = self.year <= 99
            && (1..=12).contains(&m)
            && d >= 1
            && d <= days_in_month(y, m)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60;
        if !valid {
            return None;
        }
        let local = days_from_civil(y, i64::from(m), i64::from(d)) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        Some(local - i64::from(self.tz_quarters) * 900)
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        let q = self.tz_quarters.unsigned_abs().min(79);
        let tz = bcd(q) | if self.tz_quarters < 0 { 0x08 } else { 0 };
        out.extend_from_slice(&[
            bcd(self.year),
            bcd(self.month),
            bcd(self.day),
            bcd(self.hour),
            bcd(self.minute),
            bcd(self.second),
            tz,
        ]);
    }

    pub(crate) fn read(r: &mut Reader<'_>, field: &'static str) -> Result<Timestamp, PduError> {
        let b = r.take(7, field)?;
        let tz = from_bcd(b[6] & !0x08) as i8;
        Ok(Timestamp {
            year: from_bcd(b[0]),
            month: from_bcd(b[1]),
            day: from_bcd(b[2]),
            hour: from_bcd(b[3]),
            minute: from_bcd(b[4]),
            second: from_bcd(b[5]),
            tz_quarters: if b[6] & 0x08 != 0 { -tz } else { tz },
        })
    }
}

fn days_in_month(y: i64, m: u8) -> u8 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm, the inverse
/// of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// TP-VP in the form TP-VPF announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Validity {
    /// No validity period: the service centre's default.
    #[default]
    None,
    /// One octet, a period from the time of submission.
    Relative(u8),
    /// Until a time.
    Absolute(Timestamp),
    /// The enhanced format (seven octets, TS 23.040 §9.2.3.12.3), carried as it came.
    Enhanced([u8; 7]),
}

impl Validity {
    /// The TP-VPF bits (3 and 4 of the first octet).
    pub(crate) fn vpf_bits(&self) -> u8 {
        match self {
            Validity::None => 0b00 << 3,
            Validity::Enhanced(_) => 0b01 << 3,
            Validity::Relative(_) => 0b10 << 3,
            Validity::Absolute(_) => 0b11 << 3,
        }
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match self {
            Validity::None => {}
            Validity::Relative(v) => out.push(*v),
            Validity::Absolute(t) => t.write(out),
            Validity::Enhanced(b) => out.extend_from_slice(b),
        }
    }

    pub(crate) fn read(first_octet: u8, r: &mut Reader<'_>) -> Result<Validity, PduError> {
        Ok(match (first_octet >> 3) & 0b11 {
            0b00 => Validity::None,
            0b10 => Validity::Relative(r.u8("TP-VP")?),
            0b11 => Validity::Absolute(Timestamp::read(r, "TP-VP")?),
            _ => {
                let b = r.take(7, "TP-VP")?;
                let mut e = [0u8; 7];
                e.copy_from_slice(b);
                Validity::Enhanced(e)
            }
        })
    }

    /// The shortest relative period that lasts at least `secs` seconds (5 minutes at least,
    /// 63 weeks at most), so a message never expires before the time asked for.
    pub fn relative_at_least(secs: u64) -> Validity {
        let code = (0..=255u8)
            .find(|&c| relative_secs(c) >= secs)
            .unwrap_or(255);
        Validity::Relative(code)
    }
}

/// How long a relative TP-VP lasts, in seconds.
pub fn relative_secs(code: u8) -> u64 {
    let c = u64::from(code);
    match code {
        0..=143 => (c + 1) * 300,
        144..=167 => 12 * 3600 + (c - 143) * 1800,
        168..=196 => (c - 166) * 86_400,
        197..=255 => (c - 192) * 7 * 86_400,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_and_write_semi_octets() {
        // 2026-11-23 13:45:06, one hour east of UTC (+4 quarters).
        let t = Timestamp {
            year: 26,
            month: 11,
            day: 23,
            hour: 13,
            minute: 45,
            second: 6,
            tz_quarters: 4,
        };
        let mut out = Vec::new();
        t.write(&mut out);
        assert_eq!(out, [0x62, 0x11, 0x32, 0x31, 0x54, 0x60, 0x40]);
        assert_eq!(Timestamp::read(&mut Reader::new(&out), "t").unwrap(), t);
        assert_eq!(t.to_unix(), Some(1_795_435_200 + 45 * 60 + 6));
        assert_eq!(Timestamp::from_unix(t.to_unix().unwrap(), 4), t);

        // West of UTC: the sign is bit 3 of the zone octet.
        let west = Timestamp {
            tz_quarters: -20,
            ..t
        };
        let mut out = Vec::new();
        west.write(&mut out);
        assert_eq!(out[6], 0x0A);
        assert_eq!(Timestamp::read(&mut Reader::new(&out), "t").unwrap(), west);
    }

    #[test]
    fn impossible_dates_are_kept_but_have_no_unix_time() {
        let bytes = [0x62, 0x31, 0x32, 0x31, 0x54, 0x60, 0x00]; // month 13
        let t = Timestamp::read(&mut Reader::new(&bytes), "t").unwrap();
        assert_eq!(t.month, 13);
        assert_eq!(t.to_unix(), None);
    }

    #[test]
    fn civil_dates_round_trip_over_the_century() {
        for days in (10_957..47_482).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn relative_validity_follows_the_four_ranges() {
        let cases = [
            (0, 300),
            (143, 12 * 3600),
            (144, 12 * 3600 + 1800),
            (167, 24 * 3600),
            (168, 2 * 86_400),
            (196, 30 * 86_400),
            (197, 5 * 7 * 86_400),
            (255, 63 * 7 * 86_400),
        ];
        for (code, secs) in cases {
            assert_eq!(relative_secs(code), secs, "code {code}");
            assert_eq!(Validity::relative_at_least(secs), Validity::Relative(code));
        }
        assert_eq!(Validity::relative_at_least(1), Validity::Relative(0));
        assert_eq!(Validity::relative_at_least(3601), Validity::Relative(12));
        assert_eq!(
            Validity::relative_at_least(u64::MAX),
            Validity::Relative(255)
        );
    }
}

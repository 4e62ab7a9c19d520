//! Reading and writing the positional fields of a frame, one typed helper per field shape
//! (flag, digit, fixed-width number, time stamp, hex), so each operation's layout reads like
//! the spec's table and reads and writes with the same names.

use std::fmt::Write as _;

use super::error::{EncodeError, ErrorCode};
pub use crate::hex::{from_hex, to_hex};

/// Why a field could not be read: the EC to answer and a reason naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bad {
    pub ec: ErrorCode,
    pub reason: String,
}

impl Bad {
    pub fn syntax(reason: impl Into<String>) -> Bad {
        Bad {
            ec: ErrorCode::SYNTAX,
            reason: reason.into(),
        }
    }
}

pub type R<T> = Result<T, Bad>;

/// A cursor over the fields between the header and the checksum.
pub struct Reader<'a> {
    fields: &'a [&'a str],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(fields: &'a [&'a str]) -> Reader<'a> {
        Reader { fields, pos: 0 }
    }

    pub fn next(&mut self, name: &str) -> R<&'a str> {
        let f = self
            .fields
            .get(self.pos)
            .ok_or_else(|| Bad::syntax(format!("field {name} is missing")))?;
        self.pos += 1;
        Ok(f)
    }

    /// Fields left to read.
    pub fn remaining(&self) -> usize {
        self.fields.len() - self.pos
    }

    pub fn string(&mut self, name: &str) -> R<String> {
        self.next(name).map(str::to_string)
    }

    /// `""`: absent, `"0"` / `"1"`.
    pub fn flag(&mut self, name: &str) -> R<Option<bool>> {
        match self.next(name)? {
            "" => Ok(None),
            "0" => Ok(Some(false)),
            "1" => Ok(Some(true)),
            v => Err(Bad::syntax(format!("{name} must be 0 or 1, not {v:?}"))),
        }
    }

    /// One digit from 0 to `max`, or absent.
    pub fn digit(&mut self, name: &str, max: u8) -> R<Option<u8>> {
        match self.next(name)?.as_bytes() {
            [] => Ok(None),
            &[d] if d.is_ascii_digit() && d - b'0' <= max => Ok(Some(d - b'0')),
            _ => Err(Bad::syntax(format!("{name} must be one digit 0..{max}"))),
        }
    }

    /// Up to `width` decimal digits (the spec's fixed-width numeric fields), or absent.
    pub fn number(&mut self, name: &str, width: usize) -> R<Option<u16>> {
        let v = self.next(name)?;
        if v.is_empty() {
            return Ok(None);
        }
        if v.len() > width || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Bad::syntax(format!(
                "{name} must be at most {width} digits, not {v:?}"
            )));
        }
        // At most 4 digits by every caller's width, so it fits.
        Ok(Some(v.parse().map_err(|_| {
            Bad::syntax(format!("{name} out of range"))
        })?))
    }

    /// A time stamp of exactly `len` digits (DDMMYYHHmm or DDMMYYhhmmss), or absent.
    pub fn time(&mut self, name: &str, len: usize) -> R<String> {
        let v = self.next(name)?;
        if v.is_empty() || (v.len() == len && v.bytes().all(|b| b.is_ascii_digit())) {
            Ok(v.to_string())
        } else {
            Err(Bad {
                ec: ErrorCode::SYNTAX,
                reason: format!("{name} must be {len} digits, not {v:?}"),
            })
        }
    }

    /// Hex-encoded octets (IRA-hex text, transparent data, passwords).
    pub fn hex(&mut self, name: &str) -> R<Vec<u8>> {
        let v = self.next(name)?;
        from_hex(v)
            .ok_or_else(|| Bad::syntax(format!("{name} is not an even number of hex digits")))
    }

    /// A count of list entries that follow (NPL), checked against what is left so a hostile
    /// count allocates nothing.
    pub fn count(&mut self, name: &str, then_at_least: usize) -> R<usize> {
        let n = self
            .number(name, 4)?
            .ok_or_else(|| Bad::syntax(format!("{name} is missing")))?;
        let n = usize::from(n);
        if n + then_at_least > self.remaining() {
            return Err(Bad::syntax(format!(
                "{name} says {n} entries but only {} fields follow",
                self.remaining()
            )));
        }
        Ok(n)
    }

    /// Everything after the fields the spec defines: kept, so a newer peer's additions survive
    /// a round trip through us.
    pub fn rest(&mut self) -> Vec<String> {
        let rest = self.fields[self.pos..]
            .iter()
            .map(|s| s.to_string())
            .collect();
        self.pos = self.fields.len();
        rest
    }
}

/// Accumulates the fields of a frame, each followed by `/`, checking that none breaks framing.
#[derive(Default)]
pub struct Writer {
    pub out: String,
}

impl Writer {
    pub fn str(&mut self, name: &'static str, v: &str) -> Result<(), EncodeError> {
        if let Some(found) = v.chars().find(|&c| c == '/' || !(' '..='~').contains(&c)) {
            return Err(EncodeError::BadCharacter { field: name, found });
        }
        self.out.push_str(v);
        self.out.push('/');
        Ok(())
    }

    pub fn flag(&mut self, v: Option<bool>) {
        self.out.push_str(match v {
            None => "/",
            Some(false) => "0/",
            Some(true) => "1/",
        });
    }

    pub fn digit(&mut self, name: &'static str, v: Option<u8>) -> Result<(), EncodeError> {
        self.number(name, v.map(u16::from), 1)
    }

    /// Zero-padded to `width` digits.
    pub fn number(
        &mut self,
        name: &'static str,
        v: Option<u16>,
        width: usize,
    ) -> Result<(), EncodeError> {
        if let Some(v) = v {
            if v.to_string().len() > width {
                return Err(EncodeError::TooWide {
                    field: name,
                    value: u32::from(v),
                    width,
                });
            }
            let _ = write!(self.out, "{v:0width$}");
        }
        self.out.push('/');
        Ok(())
    }

    /// A variable-width number (NB): plain digits, or empty.
    pub fn var(&mut self, v: Option<u16>) {
        if let Some(v) = v {
            let _ = write!(self.out, "{v}");
        }
        self.out.push('/');
    }

    /// A list count (NPL): plain digits, no padding.
    pub fn count(&mut self, n: usize) {
        let _ = write!(self.out, "{n}/");
    }

    pub fn hex(&mut self, v: &[u8]) {
        crate::hex::push_hex(&mut self.out, v);
        self.out.push('/');
    }

    pub fn all(&mut self, name: &'static str, vs: &[String]) -> Result<(), EncodeError> {
        vs.iter().try_for_each(|v| self.str(name, v))
    }
}

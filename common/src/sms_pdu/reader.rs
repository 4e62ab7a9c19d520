//! A bounds-checked cursor over a TPDU: every read names the field it wanted, so a short PDU
//! gives [`PduError::Truncated`] with that name instead of a panic.

use super::PduError;

/// Reads a TPDU front to back.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// One octet.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, PduError> {
        let (&b, rest) = self.rest.split_first().ok_or(PduError::Truncated(field))?;
        self.rest = rest;
        Ok(b)
    }

    /// `n` octets.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], PduError> {
        if n > self.rest.len() {
            return Err(PduError::Truncated(field));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    /// Whatever is left.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// Fails when octets are left over.
    pub fn finish(self) -> Result<(), PduError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(PduError::Trailing(n)),
        }
    }
}

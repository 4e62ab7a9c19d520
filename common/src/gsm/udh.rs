//! User data headers (TS 23.040 §9.2.3.24): parse and build, keeping every IE.
//!
//! Peers put other IEs (ports, national language shift, …) before or after the concatenation IE,
//! and gateways that only look at fixed offsets lose long messages. So the parser walks all IEs,
//! keeps them in order (unknown ones too) and the typed accessors search the list.

use thiserror::Error;

/// Concatenated short message, 8-bit reference.
pub const IE_CONCAT8: u8 = 0x00;
/// Application port addressing, 8-bit ports.
pub const IE_PORT8: u8 = 0x04;
/// Application port addressing, 16-bit ports.
pub const IE_PORT16: u8 = 0x05;
/// Concatenated short message, 16-bit reference.
pub const IE_CONCAT16: u8 = 0x08;

/// One information element: identifier and raw data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ie {
    pub id: u8,
    pub data: Vec<u8>,
}

/// A user data header: the IEs in wire order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Udh {
    pub ies: Vec<Ie>,
}

/// The concatenation IE's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Concat {
    /// Reference number; below 256 when `wide_ref` is false.
    pub reference: u16,
    /// Number of parts (1..=255).
    pub total: u8,
    /// This part's 1-based sequence number.
    pub seq: u8,
    /// 16-bit reference (IE 0x08) rather than 8-bit (IE 0x00).
    pub wide_ref: bool,
}

/// Application port addressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ports {
    pub dest: u16,
    pub src: u16,
    /// 16-bit ports (IE 0x05) rather than 8-bit (IE 0x04).
    pub wide: bool,
}

/// A malformed header.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UdhError {
    /// No octets at all, so not even a UDHL.
    #[error("user data is empty, no UDH length")]
    Empty,
    /// UDHL points past the end of the user data.
    #[error("UDH length {udhl} exceeds the {available} octets that follow it")]
    Truncated { udhl: usize, available: usize },
    /// An IE's length runs past the end of the header.
    #[error("information element at offset {offset} overruns the UDH")]
    IeOverrun { offset: usize },
    /// Building: the header (or one IE) would not fit its one-octet length.
    #[error("UDH too long to encode: {0} octets")]
    TooLong(usize),
}

impl Ie {
    /// The concatenation IE for `c` (0x08 when `wide_ref`, else 0x00 with the low 8 bits).
    pub fn concat(c: Concat) -> Ie {
        let [hi, lo] = c.reference.to_be_bytes();
        if c.wide_ref {
            Ie {
                id: IE_CONCAT16,
                data: vec![hi, lo, c.total, c.seq],
            }
        } else {
            Ie {
                id: IE_CONCAT8,
                data: vec![lo, c.total, c.seq],
            }
        }
    }

    /// The port addressing IE for `p` (0x05 when `wide`, else 0x04 with the low 8 bits).
    pub fn ports(p: Ports) -> Ie {
        let ([dh, dl], [sh, sl]) = (p.dest.to_be_bytes(), p.src.to_be_bytes());
        if p.wide {
            Ie {
                id: IE_PORT16,
                data: vec![dh, dl, sh, sl],
            }
        } else {
            Ie {
                id: IE_PORT8,
                data: vec![dl, sl],
            }
        }
    }

    /// Reads a concatenation IE. `None` if this is another IE, has the wrong length, or carries
    /// total 0 / seq 0 / seq > total, which TS 23.040 says to ignore.
    pub fn as_concat(&self) -> Option<Concat> {
        let (reference, total, seq, wide_ref) = match (self.id, self.data.as_slice()) {
            (IE_CONCAT8, &[r, t, s]) => (u16::from(r), t, s, false),
            (IE_CONCAT16, &[rh, rl, t, s]) => (u16::from_be_bytes([rh, rl]), t, s, true),
            _ => return None,
        };
        (total != 0 && seq != 0 && seq <= total).then_some(Concat {
            reference,
            total,
            seq,
            wide_ref,
        })
    }

    /// Reads a port addressing IE; `None` for other IEs or the wrong length.
    pub fn as_ports(&self) -> Option<Ports> {
        match (self.id, self.data.as_slice()) {
            (IE_PORT8, &[d, s]) => Some(Ports {
                dest: d.into(),
                src: s.into(),
                wide: false,
            }),
            (IE_PORT16, &[dh, dl, sh, sl]) => Some(Ports {
                dest: u16::from_be_bytes([dh, dl]),
                src: u16::from_be_bytes([sh, sl]),
                wide: true,
            }),
            _ => None,
        }
    }
}

impl Udh {
    /// A header with just the concatenation IE.
    pub fn with_concat(c: Concat) -> Udh {
        Udh {
            ies: vec![Ie::concat(c)],
        }
    }

    /// Parses the UDH at the start of `user_data` (UDHI set). Returns the header and its length
    /// including the UDHL octet, i.e. where the text starts.
    pub fn parse(user_data: &[u8]) -> Result<(Udh, usize), UdhError> {
        let (&udhl, rest) = user_data.split_first().ok_or(UdhError::Empty)?;
        let udhl = usize::from(udhl);
        let mut body = rest.get(..udhl).ok_or(UdhError::Truncated {
            udhl,
            available: rest.len(),
        })?;
        let mut ies = Vec::new();
        while !body.is_empty() {
            let offset = 1 + udhl - body.len();
            let (&id, after_id) = body.split_first().ok_or(UdhError::IeOverrun { offset })?;
            let (&len, after_len) = after_id
                .split_first()
                .ok_or(UdhError::IeOverrun { offset })?;
            let data = after_len
                .get(..usize::from(len))
                .ok_or(UdhError::IeOverrun { offset })?;
            ies.push(Ie {
                id,
                data: data.to_vec(),
            });
            body = &after_len[data.len()..];
        }
        Ok((Udh { ies }, 1 + udhl))
    }

    /// Parses the header and returns it with the rest of the user data (the text or data).
    pub fn split(user_data: &[u8]) -> Result<(Udh, &[u8]), UdhError> {
        let (udh, n) = Udh::parse(user_data)?;
        Ok((udh, user_data.get(n..).unwrap_or_default()))
    }

    /// Octets the encoded header takes, UDHL included.
    pub fn encoded_len(&self) -> usize {
        1 + self.ies.iter().map(|ie| 2 + ie.data.len()).sum::<usize>()
    }

    /// Appends the encoded header (UDHL first) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<(), UdhError> {
        let udhl = self.encoded_len() - 1;
        let udhl8 = u8::try_from(udhl).map_err(|_| UdhError::TooLong(udhl + 1))?;
        out.reserve(udhl + 1);
        out.push(udhl8);
        for ie in &self.ies {
            // Cannot fail: every IE fits inside a UDHL that fits in a u8.
            out.push(ie.id);
            out.push(ie.data.len() as u8);
            out.extend_from_slice(&ie.data);
        }
        Ok(())
    }

    /// The encoded header, UDHL first.
    pub fn encode(&self) -> Result<Vec<u8>, UdhError> {
        let mut out = Vec::new();
        self.write_to(&mut out)?;
        Ok(out)
    }

    /// The concatenation info; the last valid IE wins, as TS 23.040 says for repeated IEs.
    pub fn concat(&self) -> Option<Concat> {
        self.ies.iter().rev().find_map(Ie::as_concat)
    }

    /// The port addressing info; the last valid IE wins.
    pub fn ports(&self) -> Option<Ports> {
        self.ies.iter().rev().find_map(Ie::as_ports)
    }

    /// Replaces any concatenation IEs with one for `c`, at the position of the first one (or at
    /// the end), keeping all other IEs.
    pub fn set_concat(&mut self, c: Concat) {
        let is_concat = |ie: &Ie| ie.id == IE_CONCAT8 || ie.id == IE_CONCAT16;
        let at = self
            .ies
            .iter()
            .position(is_concat)
            .unwrap_or(self.ies.len());
        self.ies.retain(|ie| !is_concat(ie));
        self.ies.insert(at.min(self.ies.len()), Ie::concat(c));
    }
}

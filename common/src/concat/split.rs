//! Planning the parts of a long message.
//!
//! Sizes are exact (153/152 septets, 134/133 octets, 67/66 UCS-2 characters) because both
//! mistakes hurt: too big and the SMSC rejects or truncates, too small and the user pays for an
//! extra part. A part never ends between ESC and its character, nor between the halves of a
//! UTF-16 surrogate pair, since either would show garbage on the handset.

use thiserror::Error;

use crate::gsm::{char_septets, Coding, Concat, TextError, Udh, ESC};

/// Single-message capacity in octets of user data.
const UD_OCTETS: usize = 140;
/// Largest `message_payload` TLV value.
const MAX_PAYLOAD: usize = 0xFFFF;

/// How the parts of a long message are tied together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// UDH concatenation IE with an 8-bit reference (low 8 bits of the reference are used).
    Udh8,
    /// UDH concatenation IE with a 16-bit reference.
    Udh16,
    /// No UDH; the caller sets sar_msg_ref_num / sar_total_segments / sar_segment_seqnum.
    /// Sized as if the SMSC adds the UDH: 8-bit-reference sizes when the reference fits in
    /// 8 bits, else 16-bit ones.
    Sar,
    /// The whole message in one `message_payload` TLV (up to 65535 octets).
    Payload,
}

/// One short message to send.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Part {
    /// short_message (or message_payload) content: UDH first when `udhi`, then the text.
    pub body: Vec<u8>,
    /// `body` starts with a UDH: set esm_class bit 0x40.
    pub udhi: bool,
    /// Reference number shared by all parts (as sent: masked to 8 bits for [`Method::Udh8`]).
    pub reference: u16,
    /// Number of parts.
    pub total: u8,
    /// 1-based sequence number.
    pub seq: u8,
}

impl Part {
    /// The esm_class bits this part needs (0x40 UDHI or 0).
    pub fn esm_class_bits(&self) -> u8 {
        if self.udhi {
            0x40
        } else {
            0
        }
    }

    /// The body without its UDH.
    pub fn text(&self) -> &[u8] {
        if !self.udhi {
            return &self.body;
        }
        Udh::split(&self.body).map(|(_, t)| t).unwrap_or_default()
    }
}

/// Why a message cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SplitError {
    #[error(transparent)]
    Text(#[from] TextError),
    /// More than 255 parts would be needed.
    #[error("message needs {0} parts, at most 255 are possible")]
    TooManyParts(usize),
    /// Longer than a message_payload TLV can carry.
    #[error("message of {0} octets does not fit message_payload")]
    TooLong(usize),
    /// UCS-2 bytes of odd length cannot be split on character boundaries.
    #[error("UCS-2 body has odd length {0}")]
    OddUcs2Length(usize),
}

/// Capacities in "cost units": septets for 7-bit codings, octets otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Capacity of an unsplit message.
    pub single: usize,
    /// Capacity of each part of a split message.
    pub per_part: usize,
}

/// The capacities for `coding` when parts carry a UDH of `udh_len` octets (UDHL included).
pub fn limits_for_udh(coding: Coding, udh_len: usize) -> Limits {
    let room = UD_OCTETS.saturating_sub(udh_len);
    match coding {
        Coding::Gsm7 | Coding::Ia5 => Limits {
            single: UD_OCTETS * 8 / 7,
            per_part: room * 8 / 7,
        },
        Coding::Latin1 | Coding::Binary => Limits {
            single: UD_OCTETS,
            per_part: room,
        },
        Coding::Ucs2 => Limits {
            single: UD_OCTETS,
            per_part: room & !1,
        },
    }
}

/// The capacities for `coding` split with `method` (and `reference`, which matters for SAR).
pub fn limits(coding: Coding, method: Method, reference: u16) -> Limits {
    let wide = match method {
        Method::Udh8 => false,
        Method::Udh16 => true,
        Method::Sar => reference > 0xFF,
        Method::Payload => {
            return Limits {
                single: MAX_PAYLOAD,
                per_part: MAX_PAYLOAD,
            };
        }
    };
    limits_for_udh(coding, if wide { 7 } else { 6 })
}

/// Splits `text` for `data_coding` (encoded with [`crate::gsm::encode_text`], GSM unpacked).
pub fn split(
    text: &str,
    data_coding: u8,
    method: Method,
    reference: u16,
) -> Result<Vec<Part>, SplitError> {
    let body = crate::gsm::encode_text(data_coding, text)?;
    split_encoded(&body, data_coding, method, reference)
}

/// Splits an already encoded body (unpacked septets, octets or UTF-16BE per `data_coding`);
/// binary data (data_coding 2/4) goes through here.
pub fn split_encoded(
    body: &[u8],
    data_coding: u8,
    method: Method,
    reference: u16,
) -> Result<Vec<Part>, SplitError> {
    let coding =
        Coding::from_data_coding(data_coding).ok_or(TextError::Unsupported(data_coding))?;
    let reference = if method == Method::Udh8 {
        reference & 0xFF
    } else {
        reference
    };
    let single = |body: &[u8]| Part {
        body: body.to_vec(),
        udhi: false,
        reference,
        total: 1,
        seq: 1,
    };
    if method == Method::Payload {
        return match body.len() {
            n if n > MAX_PAYLOAD => Err(SplitError::TooLong(n)),
            _ => Ok(vec![single(body)]),
        };
    }
    let lim = limits(coding, method, reference);
    let units = units(coding, body)?;
    if units.iter().map(|u| u.cost).sum::<usize>() <= lim.single {
        return Ok(vec![single(body)]);
    }
    let ranges = pack_units(&units, lim.per_part);
    let total = u8::try_from(ranges.len()).map_err(|_| SplitError::TooManyParts(ranges.len()))?;
    let udhi = matches!(method, Method::Udh8 | Method::Udh16);
    let parts = ranges
        .into_iter()
        .zip(1..=total)
        .map(|((start, end), seq)| {
            let mut out = Vec::new();
            if udhi {
                let c = Concat {
                    reference,
                    total,
                    seq,
                    wide_ref: method == Method::Udh16,
                };
                // A lone concat IE is 6 or 7 octets, always encodable.
                Udh::with_concat(c).write_to(&mut out).ok();
            }
            out.extend_from_slice(body.get(start..end).unwrap_or_default());
            Part {
                body: out,
                udhi,
                reference,
                total,
                seq,
            }
        })
        .collect();
    Ok(parts)
}

/// Number of parts `text` needs (for reporting and per-part throttling/billing).
pub fn count_parts(text: &str, data_coding: u8, method: Method) -> Result<usize, SplitError> {
    split(text, data_coding, method, 0).map(|p| p.len())
}

/// An indivisible run of body bytes and what it costs in the coding's capacity unit.
#[derive(Debug, Clone, Copy)]
struct Unit {
    len: usize,
    cost: usize,
}

/// Cuts the body into indivisible units: ESC+septet, surrogate pairs, single characters.
fn units(coding: Coding, body: &[u8]) -> Result<Vec<Unit>, SplitError> {
    let one = Unit { len: 1, cost: 1 };
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let rest = &body[i..];
        let unit = match coding {
            Coding::Gsm7 if rest.len() >= 2 && rest[0] & 0x7F == ESC => Unit { len: 2, cost: 2 },
            // IA5 is converted to GSM by the SMSC, where {}[]~\|^ take two septets.
            Coding::Ia5 => {
                let cost = char_septets(char::from(rest[0])).map_or(1, |(_, n)| n);
                Unit { len: 1, cost }
            }
            Coding::Ucs2 => {
                if rest.len() < 2 {
                    return Err(SplitError::OddUcs2Length(body.len()));
                }
                let high = (0xD8..=0xDB).contains(&rest[0]);
                let low_follows = rest.len() >= 4 && (0xDC..=0xDF).contains(&rest[2]);
                if high && low_follows {
                    Unit { len: 4, cost: 4 }
                } else {
                    Unit { len: 2, cost: 2 }
                }
            }
            _ => one,
        };
        i += unit.len;
        out.push(unit);
    }
    Ok(out)
}

/// Greedily fills parts of `cap` cost; returns byte ranges. Every unit costs at most 4 and
/// every capacity is far above that, so each part makes progress.
fn pack_units(units: &[Unit], cap: usize) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let (mut start, mut pos, mut used) = (0, 0, 0);
    for u in units {
        if used + u.cost > cap && used > 0 {
            ranges.push((start, pos));
            start = pos;
            used = 0;
        }
        used += u.cost;
        pos += u.len;
    }
    if pos > start || ranges.is_empty() {
        ranges.push((start, pos));
    }
    ranges
}

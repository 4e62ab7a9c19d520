//! The message itself, as the MT field selects it, and the alphanumeric originator.
//!
//! - MT 2: NMsg, digits as they are.
//! - MT 3: AMsg, each octet as two hex digits ("IRA-hex"). The octets are GSM 03.38 default
//!   alphabet septets, one per octet (escape + extension septet for `€`, `{`, ...), as every
//!   SMSC and Kannel read them; [`Content::text`] and [`Content::from_text`] convert.
//! - MT 4: TMsg, hex octets, with NB the number of bits (8 per octet for whole octets).
//!
//! An alphanumeric OAdC (OTOA 5039) is a TP-OA address body: one octet with the number of
//! useful semi-octets, then the GSM septets packed 7 bits at a time, all as hex.

use super::error::{EncodeError, ErrorCode};
use super::field::{from_hex, to_hex, Bad, Reader, Writer, R};
use crate::gsm::{self, Unencodable};

/// The message of an operation, by message type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Content {
    /// MT empty: no message (inquiries, deletions, some notifications).
    #[default]
    None,
    /// MT 2: numeric message.
    Numeric(String),
    /// MT 3: alphanumeric message, unpacked GSM septets (decoded from the IRA hex).
    Alphanumeric(Vec<u8>),
    /// MT 4: transparent data; `bits` is NB (absent when the peer left NB empty).
    Transparent { bits: Option<u16>, data: Vec<u8> },
}

impl Content {
    /// MT 3 content for `text`; fails on a character outside the GSM 7-bit alphabet (send such
    /// text as UCS-2 transparent data instead).
    pub fn from_text(text: &str) -> Result<Content, Unencodable> {
        gsm::encode_gsm(text).map(Content::Alphanumeric)
    }

    /// MT 4 content of whole octets, NB = 8 × length.
    pub fn binary(data: Vec<u8>) -> Content {
        let bits = u16::try_from(data.len() * 8).ok();
        Content::Transparent { bits, data }
    }

    /// The MT digit, `None` for [`Content::None`].
    pub fn mt(&self) -> Option<u8> {
        match self {
            Content::None => None,
            Content::Numeric(_) => Some(2),
            Content::Alphanumeric(_) => Some(3),
            Content::Transparent { .. } => Some(4),
        }
    }

    /// Text of MT 2 and MT 3 content (GSM decoding is total); `None` for data or nothing.
    pub fn text(&self) -> Option<String> {
        match self {
            Content::Numeric(s) => Some(s.clone()),
            Content::Alphanumeric(septets) => Some(gsm::decode_gsm(septets)),
            _ => None,
        }
    }

    /// The octets as they travel inside the message field (after hex decoding).
    pub fn octets(&self) -> &[u8] {
        match self {
            Content::None => &[],
            Content::Numeric(s) => s.as_bytes(),
            Content::Alphanumeric(v) | Content::Transparent { data: v, .. } => v,
        }
    }
}

/// Why an alphanumeric OAdC could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadAlphanumeric {
    #[error("alphanumeric OAdC is not an even number of hex digits")]
    NotHex,
    #[error("alphanumeric OAdC is empty")]
    Empty,
    #[error("alphanumeric OAdC says {nibbles} semi-octets but carries only {octets} octets")]
    Short { nibbles: usize, octets: usize },
}

/// Most characters an alphanumeric originator carries (TP-OA: 10 octets of packed septets).
pub const MAX_ALPHANUMERIC_LEN: usize = 11;

/// Encodes `text` as an OTOA 5039 OAdC. Fails on characters outside the GSM alphabet; longer
/// text than [`MAX_ALPHANUMERIC_LEN`] septets is the caller's to refuse or cut.
pub fn encode_alphanumeric(text: &str) -> Result<String, Unencodable> {
    let septets = gsm::encode_gsm(text)?;
    let nibbles = (septets.len() * 7).div_ceil(4);
    let mut octets = Vec::with_capacity(1 + septets.len());
    octets.push(nibbles.min(255) as u8);
    octets.extend(gsm::pack_septets(&septets, 0));
    Ok(to_hex(&octets))
}

/// Decodes an OTOA 5039 OAdC to text.
pub fn decode_alphanumeric(hex: &str) -> Result<String, BadAlphanumeric> {
    let octets = from_hex(hex).ok_or(BadAlphanumeric::NotHex)?;
    let (&nibbles, packed) = octets.split_first().ok_or(BadAlphanumeric::Empty)?;
    let nibbles = usize::from(nibbles);
    if packed.len() < nibbles.div_ceil(2) {
        return Err(BadAlphanumeric::Short {
            nibbles,
            octets: packed.len(),
        });
    }
    let septets = gsm::unpack_septets(packed, 0, nibbles * 4 / 7);
    Ok(gsm::decode_gsm(&septets))
}

/// MT and message of 01, 02 and 03, which know only numeric and alphanumeric messages.
pub(crate) fn read_short_content(r: &mut Reader) -> R<Content> {
    match r.digit("MT", 9)? {
        Some(2) => numeric(r.next("NMsg")?),
        Some(3) => Ok(Content::Alphanumeric(r.hex("AMsg")?)),
        None => Err(Bad::syntax("field MT is empty")),
        Some(mt) => Err(Bad {
            ec: ErrorCode::MESSAGE_TYPE_NOT_SUPPORTED,
            reason: format!("MT {mt} is not allowed here (2 numeric or 3 alphanumeric)"),
        }),
    }
}

pub(crate) fn write_short_content(ot: u8, c: &Content, w: &mut Writer) -> Result<(), EncodeError> {
    match c {
        Content::Numeric(s) => {
            w.out.push_str("2/");
            w.str("NMsg", s)
        }
        Content::Alphanumeric(v) => {
            w.out.push_str("3/");
            w.hex(v);
            Ok(())
        }
        _ => Err(EncodeError::Mismatch {
            ot,
            reason: "only numeric (MT 2) or alphanumeric (MT 3) messages travel here".into(),
        }),
    }
}

fn numeric(s: &str) -> R<Content> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Content::Numeric(s.to_string()))
    } else {
        Err(Bad::syntax(format!("NMsg must be digits, not {s:?}")))
    }
}

/// MT, NB and message of the 5x series.
pub(crate) fn read_5x_content(r: &mut Reader) -> R<Content> {
    let mt = r.digit("MT", 9)?;
    let nb = r.number("NB", 4)?;
    if nb.is_some() && mt != Some(4) {
        return Err(Bad::syntax("NB is only for transparent data (MT 4)"));
    }
    match mt {
        None => match r.next("Msg")? {
            "" => Ok(Content::None),
            _ => Err(Bad::syntax("a message without MT")),
        },
        Some(2) => numeric(r.next("NMsg")?),
        Some(3) => Ok(Content::Alphanumeric(r.hex("AMsg")?)),
        Some(4) => {
            let data = r.hex("TMsg")?;
            if let Some(bits) = nb {
                if usize::from(bits).div_ceil(8) != data.len() {
                    return Err(Bad::syntax(format!(
                        "NB says {bits} bits but TMsg has {} octets",
                        data.len()
                    )));
                }
            }
            Ok(Content::Transparent { bits: nb, data })
        }
        Some(mt) => Err(Bad {
            ec: ErrorCode::MESSAGE_TYPE_NOT_SUPPORTED,
            reason: format!("MT {mt} is not a 5x message type (2, 3 or 4)"),
        }),
    }
}

pub(crate) fn write_5x_content(c: &Content, w: &mut Writer) -> Result<(), EncodeError> {
    match c {
        Content::None => w.out.push_str("///"),
        Content::Numeric(s) => {
            w.out.push_str("2//");
            w.str("NMsg", s)?;
        }
        Content::Alphanumeric(v) => {
            w.out.push_str("3//");
            w.hex(v);
        }
        Content::Transparent { bits, data } => {
            w.out.push_str("4/");
            w.var(*bits);
            w.hex(data);
        }
    }
    Ok(())
}

//! Text ↔ bytes for the SMPP `data_coding` values we carry as text.
//!
//! emg takes UTF-8 on every API and converts at the edge. Decoding is lenient (a receiver should
//! show *something* for a slightly wrong message); encoding is strict, so a character that does
//! not fit is reported instead of silently replaced.

use thiserror::Error;

use super::alphabet::{decode_gsm, encode_gsm, is_gsm};

/// The alphabet a `data_coding` value selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coding {
    /// GSM 03.38 default alphabet, unpacked septets (data_coding 0 and GSM 7-bit DCS values).
    Gsm7,
    /// IA5 / ASCII (data_coding 1). The SMSC sends it as 7-bit, so it is sized like GSM text.
    Ia5,
    /// ISO-8859-1 (data_coding 3).
    Latin1,
    /// 8-bit data (data_coding 2 and 4, GSM 8-bit DCS values): not text.
    Binary,
    /// UCS-2 / UTF-16BE (data_coding 8, GSM UCS-2 DCS values). Surrogate pairs are passed, since
    /// handsets decode them as UTF-16.
    Ucs2,
}

impl Coding {
    /// Maps a `data_coding` octet. Besides SMPP's own 0x00–0x0F values this accepts the GSM DCS
    /// groups SMSCs pass through (general data coding, message waiting, 0xF0 class group).
    /// `None` for compressed, reserved and national (JIS, Cyrillic, Hebrew, KS C…) codings.
    pub fn from_data_coding(dc: u8) -> Option<Coding> {
        let by_alphabet_bits = |dc: u8| match (dc >> 2) & 3 {
            0 => Some(Coding::Gsm7),
            1 => Some(Coding::Binary),
            2 => Some(Coding::Ucs2),
            _ => None,
        };
        match dc {
            0x00 => Some(Coding::Gsm7),
            0x01 => Some(Coding::Ia5),
            0x02 | 0x04 => Some(Coding::Binary),
            0x03 => Some(Coding::Latin1),
            0x08 => Some(Coding::Ucs2),
            0x05..=0x07 | 0x09..=0x0F => None,
            // General data coding / automatic deletion groups; bit 5 means compressed.
            0x10..=0x7F if dc & 0x20 == 0 => by_alphabet_bits(dc),
            // Compressed, and the reserved 0x80–0xBF groups.
            0x10..=0xBF => None,
            0xC0..=0xDF => Some(Coding::Gsm7),
            0xE0..=0xEF => Some(Coding::Ucs2),
            0xF0..=0xFF if dc & 0x04 != 0 => Some(Coding::Binary),
            0xF0..=0xFF => Some(Coding::Gsm7),
        }
    }

    /// The canonical SMPP `data_coding` for this alphabet (0, 1, 3, 4 or 8).
    pub fn data_coding(self) -> u8 {
        match self {
            Coding::Gsm7 => 0,
            Coding::Ia5 => 1,
            Coding::Latin1 => 3,
            Coding::Binary => 4,
            Coding::Ucs2 => 8,
        }
    }
}

/// Why text could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TextError {
    /// A character the chosen coding cannot represent (`index` is its byte offset).
    #[error(
        "character {ch:?} at byte {index} cannot be encoded with data_coding {data_coding:#04x}"
    )]
    Unencodable {
        ch: char,
        index: usize,
        data_coding: u8,
    },
    /// A `data_coding` value we do not convert (compressed, reserved or a national charset).
    #[error("data_coding {0:#04x} is not supported")]
    Unsupported(u8),
    /// An 8-bit data coding: the body is bytes, not text.
    #[error("data_coding {0:#04x} is binary data, not text")]
    Binary(u8),
}

/// Decodes a short message body. Lenient: bad bytes become U+FFFD (UCS-2) or are read as
/// Latin-1 (IA5 with the top bit set); only unsupported or binary codings are errors.
pub fn decode_text(data_coding: u8, bytes: &[u8]) -> Result<String, TextError> {
    match Coding::from_data_coding(data_coding) {
        Some(Coding::Gsm7) => Ok(decode_gsm(bytes)),
        Some(Coding::Ia5) | Some(Coding::Latin1) => {
            Ok(bytes.iter().map(|&b| char::from(b)).collect())
        }
        Some(Coding::Ucs2) => Ok(decode_ucs2(bytes)),
        Some(Coding::Binary) => Err(TextError::Binary(data_coding)),
        None => Err(TextError::Unsupported(data_coding)),
    }
}

/// Encodes text for `data_coding`; GSM text comes out as unpacked septets.
pub fn encode_text(data_coding: u8, text: &str) -> Result<Vec<u8>, TextError> {
    let unencodable = |(index, ch): (usize, char)| TextError::Unencodable {
        ch,
        index,
        data_coding,
    };
    match Coding::from_data_coding(data_coding) {
        Some(Coding::Gsm7) => encode_gsm(text).map_err(|e| unencodable((e.index, e.ch))),
        Some(Coding::Ia5) => match text.char_indices().find(|&(_, c)| !c.is_ascii()) {
            Some(bad) => Err(unencodable(bad)),
            None => Ok(text.as_bytes().to_vec()),
        },
        Some(Coding::Latin1) => text
            .char_indices()
            .map(|(i, c)| u8::try_from(u32::from(c)).map_err(|_| unencodable((i, c))))
            .collect(),
        Some(Coding::Ucs2) => Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        Some(Coding::Binary) => Err(TextError::Binary(data_coding)),
        None => Err(TextError::Unsupported(data_coding)),
    }
}

/// UTF-16BE → String; unpaired surrogates and an odd trailing byte become U+FFFD.
fn decode_ucs2(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]));
    let mut out: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if bytes.len() % 2 == 1 {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

/// The data_coding to send `text` with: 0 (GSM 7-bit) when every character fits, else 8 (UCS-2).
pub fn choose_coding(text: &str) -> u8 {
    if is_gsm(text) {
        0
    } else {
        8
    }
}

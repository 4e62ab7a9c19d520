//! The GSM 03.38 (3GPP TS 23.038) default 7-bit alphabet and its extension table.
//!
//! Septets are handled *unpacked* here (one septet per octet, as SMPP data_coding 0 carries them);
//! [`super::pack`] does the 7-bit packing modems and raw TPDUs need. Encoding is strict (a
//! character outside the alphabet is an error, so the caller can fall back to UCS-2 instead of
//! silently mangling text); decoding is lenient, as the spec tells a receiver to be.

use thiserror::Error;

/// The escape septet: the next septet is looked up in the extension table.
pub const ESC: u8 = 0x1B;

/// The default alphabet, indexed by septet. Index 0x1B is the escape and never decoded as itself.
pub const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table: (septet after ESC, character). Everything else after ESC is undefined.
pub const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'), // form feed (page break)
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// A character with no GSM 7-bit representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("character {ch:?} at byte {index} is not in the GSM 7-bit alphabet")]
pub struct Unencodable {
    /// The offending character.
    pub ch: char,
    /// Its byte offset in the input `str` (so `&s[index..]` starts at it).
    pub index: usize,
}

/// Marks "not encodable" in [`ASCII_MAP`].
const NONE: u16 = 0xFFFF;
/// Flag in [`ASCII_MAP`]: the low byte is an extension-table septet (emit ESC first).
const EXT_FLAG: u16 = 0x100;

/// ASCII fast path for the encoder, built at compile time from the two tables above so the
/// tables stay the single source of truth.
const ASCII_MAP: [u16; 128] = build_ascii_map();

const fn build_ascii_map() -> [u16; 128] {
    let mut map = [NONE; 128];
    let mut i = 0;
    while i < 128 {
        let c = BASIC[i] as u32;
        if i != ESC as usize && c < 128 {
            map[c as usize] = i as u16;
        }
        i += 1;
    }
    let mut j = 0;
    while j < EXTENSION.len() {
        let c = EXTENSION[j].1 as u32;
        if c < 128 {
            map[c as usize] = EXT_FLAG | EXTENSION[j].0 as u16;
        }
        j += 1;
    }
    map
}

/// The septets for one character: `Some([s, _], 1)` for the base table, `Some([ESC, s], 2)` for
/// the extension table, `None` when the character is not in the alphabet.
pub fn char_septets(c: char) -> Option<([u8; 2], usize)> {
    let code = c as u32;
    if code < 128 {
        let v = ASCII_MAP[code as usize];
        return match v {
            NONE => None,
            v if v & EXT_FLAG != 0 => Some(([ESC, v as u8], 2)),
            v => Some(([v as u8, 0], 1)),
        };
    }
    if let Some(i) = BASIC.iter().position(|&b| b == c) {
        return Some(([i as u8, 0], 1));
    }
    EXTENSION
        .iter()
        .find(|&&(_, e)| e == c)
        .map(|&(s, _)| ([ESC, s], 2))
}

/// Encodes `s` as unpacked septets (escapes take two). Fails on the first character outside the
/// default alphabet + extension table, so callers can choose UCS-2 instead.
pub fn encode_gsm(s: &str) -> Result<Vec<u8>, Unencodable> {
    let mut out = Vec::with_capacity(s.len());
    for (index, ch) in s.char_indices() {
        let (septets, n) = char_septets(ch).ok_or(Unencodable { ch, index })?;
        out.extend_from_slice(&septets[..n]);
    }
    Ok(out)
}

/// Decodes unpacked septets. Never fails, following TS 23.038's receiver rules:
/// - the top bit of each octet is ignored (septets are 7 bits);
/// - ESC followed by a septet with no extension character shows the base-table character;
/// - ESC ESC (reserved for a future table) and a trailing lone ESC show a space.
pub fn decode_gsm(septets: &[u8]) -> String {
    let mut out = String::with_capacity(septets.len());
    let mut it = septets.iter().map(|b| b & 0x7F);
    while let Some(s) = it.next() {
        if s != ESC {
            out.push(BASIC[s as usize]);
            continue;
        }
        match it.next() {
            None | Some(ESC) => out.push(' '),
            Some(n) => out.push(extension_char(n).unwrap_or(BASIC[n as usize])),
        }
    }
    out
}

/// The extension-table character for the septet after ESC, if defined.
pub fn extension_char(septet: u8) -> Option<char> {
    EXTENSION
        .iter()
        .find(|&&(s, _)| s == septet)
        .map(|&(_, c)| c)
}

/// Number of septets `s` needs (extension characters count 2), or `None` if not GSM-encodable.
pub fn septet_len(s: &str) -> Option<usize> {
    s.chars()
        .try_fold(0usize, |n, c| char_septets(c).map(|(_, k)| n + k))
}

/// Whether every character of `s` is in the default alphabet or extension table.
pub fn is_gsm(s: &str) -> bool {
    s.chars().all(|c| char_septets(c).is_some())
}

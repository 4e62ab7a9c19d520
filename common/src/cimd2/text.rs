//! The CIMD2 representation of text in User Data (033).
//!
//! CIMD2 writes GSM 03.38 septets as the ISO-8859-1 octets of the same value, except four
//! that move (`@` stands for septet 0x00, `$` for 0x02, `]` for Å 0x0E, `}` for å 0x0F) and
//! the septets whose value would be unprintable or clash, which are written as `_` and two
//! characters (`_a"` for ä, `_XX` for the escape to the extension table, ...). Octets from
//! 0x80 up are ISO-8859-1 characters themselves.
//!
//! Encoding is strict (text outside the GSM alphabet is an error, send it as UCS-2 binary);
//! decoding never fails: an unknown `_` sequence is kept as the characters it is.

use crate::gsm::{self, Unencodable};

/// Septet ↔ escape sequence (the two characters after `_`).
const ESCAPES: [(u8, [u8; 2]); 43] = [
    (0x00, *b"Oa"),
    (0x01, *b"L-"),
    (0x03, *b"Y-"),
    (0x04, *b"e`"),
    (0x05, *b"e'"),
    (0x06, *b"u`"),
    (0x07, *b"i`"),
    (0x08, *b"o`"),
    (0x09, *b"C,"),
    (0x0B, *b"O/"),
    (0x0C, *b"o/"),
    (0x0E, *b"A*"),
    (0x0F, *b"a*"),
    (0x10, *b"gd"),
    (0x11, *b"--"),
    (0x12, *b"gf"),
    (0x13, *b"gg"),
    (0x14, *b"gl"),
    (0x15, *b"go"),
    (0x16, *b"gp"),
    (0x17, *b"gi"),
    (0x18, *b"gs"),
    (0x19, *b"gt"),
    (0x1A, *b"gx"),
    (0x1B, *b"XX"),
    (0x1C, *b"AE"),
    (0x1D, *b"ae"),
    (0x1E, *b"ss"),
    (0x1F, *b"E'"),
    (0x22, *b"qq"),
    (0x24, *b"ox"),
    (0x40, *b"!!"),
    (0x5B, *b"A\""),
    (0x5C, *b"O\""),
    (0x5D, *b"N~"),
    (0x5E, *b"U\""),
    (0x5F, *b"so"),
    (0x60, *b"??"),
    (0x7B, *b"a\""),
    (0x7C, *b"o\""),
    (0x7D, *b"n~"),
    (0x7E, *b"u\""),
    (0x7F, *b"a`"),
];

/// Single characters that stand for another septet.
const MOVED: [(u8, u8); 4] = [(b'@', 0x00), (b'$', 0x02), (b']', 0x0E), (b'}', 0x0F)];

/// Text → User Data octets.
pub fn encode(text: &str) -> Result<Vec<u8>, Unencodable> {
    Ok(encode_septets(&gsm::encode_gsm(text)?))
}

/// Unpacked GSM septets → User Data octets.
pub fn encode_septets(septets: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(septets.len() + 8);
    for &s in septets {
        let s = s & 0x7F;
        if let Some((_, e)) = ESCAPES.iter().find(|(v, _)| *v == s) {
            out.push(b'_');
            out.extend_from_slice(e);
        } else if let Some((c, _)) = MOVED.iter().find(|(_, v)| *v == s) {
            out.push(*c);
        } else {
            out.push(s);
        }
    }
    out
}

/// User Data octets → text.
pub fn decode(data: &[u8]) -> String {
    // Septets collect into runs so the escape to the extension table works across them;
    // ISO-8859-1 characters (0x80 and up) end a run.
    let mut out = String::with_capacity(data.len());
    let mut run: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        if b >= 0x80 {
            out.push_str(&gsm::decode_gsm(&run));
            run.clear();
            out.push(char::from(b));
            i += 1;
            continue;
        }
        if b == b'_' {
            if let Some((s, _)) = data
                .get(i + 1..i + 3)
                .and_then(|e| ESCAPES.iter().find(|(_, x)| x == e))
            {
                run.push(*s);
                i += 3;
                continue;
            }
            // Not an escape: `_` as written. Septet 0x11 is the GSM underscore.
            run.push(0x11);
            i += 1;
            continue;
        }
        run.push(MOVED.iter().find(|(c, _)| *c == b).map_or(b, |(_, s)| *s));
        i += 1;
    }
    out.push_str(&gsm::decode_gsm(&run));
    out
}

/// The characters `text` takes as septets, or `None` outside the GSM alphabet: what the
/// 160-character limit counts.
pub fn septet_len(text: &str) -> Option<usize> {
    gsm::septet_len(text)
}

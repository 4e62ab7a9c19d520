//! Octets as hex text and back: UCP's IRA-hex fields, CIMD2's hex parameters.

/// Upper-case hex, as the UCP and CIMD2 specs' examples write it.
pub fn to_hex(v: &[u8]) -> String {
    let mut s = String::with_capacity(v.len() * 2);
    push_hex(&mut s, v);
    s
}

pub fn push_hex(s: &mut String, v: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for b in v {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// Hex (either case) to octets; `None` for an odd length or a non-hex character.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    b.chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

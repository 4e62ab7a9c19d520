//! Hex strings, the form PDUs take on an AT line (upper case, two digits an octet).

use super::PduError;

/// Upper-case hex, as modems write and expect it.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    s
}

/// Parses hex of either case. Odd lengths and other characters are errors: a PDU line that is
/// not clean hex is a line we misread, and guessing would decode garbage.
pub fn from_hex(s: &str) -> Result<Vec<u8>, PduError> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(PduError::Hex("odd number of digits"));
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(PduError::Hex("character other than 0-9, a-f, A-F")),
    };
    b.chunks_exact(2)
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_garbage() {
        assert_eq!(to_hex(&[0x00, 0x1F, 0xAB]), "001FAB");
        assert_eq!(from_hex("001fAB"), Ok(vec![0x00, 0x1F, 0xAB]));
        assert_eq!(from_hex(""), Ok(vec![]));
        assert!(from_hex("0").is_err());
        assert!(from_hex("0G").is_err());
        assert!(from_hex("0 ").is_err());
    }
}

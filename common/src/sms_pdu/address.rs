//! Address fields (TS 23.040 §9.1.2.5) and the service centre address in front of a modem PDU
//! (TS 24.011 §8.2.5.2).
//!
//! A TP address counts its length in *semi-octets* (digits), an SCA in octets; both carry a
//! type-of-address octet (`1 ton(3) npi(4)`) and then digits two an octet, low nibble first,
//! padded with F. Type of number 5 is alphanumeric: GSM 7-bit text packed into the digit
//! octets, its length the number of semi-octets the packed text fills. Values map onto
//! [`Address`] unchanged (SMPP uses the same TON and NPI numbers); the number is kept without
//! a `+`, which TON 1 (international) stands for.

use super::{reader::Reader, PduError, MAX_ADDRESS_DIGITS};
use crate::gsm::{decode_gsm, encode_gsm, pack_septets, unpack_septets};
use crate::message::Address;

/// Type of number: alphanumeric (GSM 7-bit text).
pub const ADDRESS_ALPHANUMERIC: u8 = 5;
/// Type of number: international (the `+` of `+4670...`).
const TON_INTERNATIONAL: u8 = 1;

/// Semi-octet values above 9, as TS 23.040 assigns them in address fields.
const EXTRA_DIGITS: [(u8, char); 5] = [(0xA, '*'), (0xB, '#'), (0xC, 'a'), (0xD, 'b'), (0xE, 'c')];

/// Whether `addr` can only be sent as an alphanumeric address: anything but digits (after an
/// optional leading `+`), `*` and `#`.
pub fn is_alphanumeric(addr: &str) -> bool {
    let digits = addr.strip_prefix('+').unwrap_or(addr);
    digits.is_empty()
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
}

fn nibble(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        _ => EXTRA_DIGITS.iter().find(|&&(_, d)| d == c).map(|&(n, _)| n),
    }
}

fn digit(n: u8) -> char {
    match n {
        0..=9 => char::from(b'0' + n),
        _ => EXTRA_DIGITS
            .iter()
            .find(|&&(v, _)| v == n)
            .map_or('?', |&(_, d)| d),
    }
}

/// Digits two an octet, low nibble first, an odd count padded with F.
fn pack_digits(digits: &str, addr: &str) -> Result<Vec<u8>, PduError> {
    let bad = |why| PduError::BadAddress {
        addr: addr.to_string(),
        why,
    };
    let nibbles: Vec<u8> = digits
        .chars()
        .map(|c| nibble(c).ok_or_else(|| bad("only digits, *, #, a, b, c fit a numeric address")))
        .collect::<Result<_, _>>()?;
    if nibbles.len() > MAX_ADDRESS_DIGITS {
        return Err(bad("more than 20 digits"));
    }
    Ok(nibbles
        .chunks(2)
        .map(|p| p[0] | p.get(1).copied().unwrap_or(0xF) << 4)
        .collect())
}

/// Reads up to `count` digits; an F nibble ends the number early.
fn unpack_digits(octets: &[u8], count: usize) -> String {
    octets
        .iter()
        .flat_map(|&o| [o & 0x0F, o >> 4])
        .take(count)
        .take_while(|&n| n != 0xF)
        .map(digit)
        .collect()
}

fn type_of_address(ton: u8, npi: u8) -> u8 {
    0x80 | (ton & 0x07) << 4 | (npi & 0x0F)
}

/// Appends `a` as a TP address field (TP-DA, TP-OA, TP-RA).
///
/// A leading `+` means international (TON 1) whatever `a.ton` says. TON 5 writes the text as
/// GSM 7-bit, up to 11 characters.
pub fn write_address(a: &Address, out: &mut Vec<u8>) -> Result<(), PduError> {
    let bad = |why| PduError::BadAddress {
        addr: a.addr.clone(),
        why,
    };
    if a.ton == ADDRESS_ALPHANUMERIC {
        let septets = encode_gsm(&a.addr).map_err(|_| bad("not in the GSM 7-bit alphabet"))?;
        let semi_octets = (septets.len() * 7).div_ceil(4);
        if semi_octets > MAX_ADDRESS_DIGITS {
            return Err(bad("alphanumeric address over 11 characters"));
        }
        out.push(semi_octets as u8);
        out.push(type_of_address(a.ton, a.npi));
        out.extend_from_slice(&pack_septets(&septets, 0));
        return Ok(());
    }
    let (digits, ton) = match a.addr.strip_prefix('+') {
        Some(rest) => (rest, TON_INTERNATIONAL),
        None => (a.addr.as_str(), a.ton),
    };
    let packed = pack_digits(digits, &a.addr)?;
    out.push(digits.chars().count() as u8);
    out.push(type_of_address(ton, a.npi));
    out.extend_from_slice(&packed);
    Ok(())
}

/// Reads a TP address field.
pub fn read_address(r: &mut Reader<'_>, field: &'static str) -> Result<Address, PduError> {
    let semi_octets = usize::from(r.u8(field)?);
    if semi_octets > MAX_ADDRESS_DIGITS {
        return Err(PduError::Invalid {
            field,
            why: "address length over 20 digits",
        });
    }
    let toa = r.u8(field)?;
    let octets = r.take(semi_octets.div_ceil(2), field)?;
    let (ton, npi) = ((toa >> 4) & 0x07, toa & 0x0F);
    let addr = if ton == ADDRESS_ALPHANUMERIC {
        decode_gsm(&unpack_septets(octets, 0, semi_octets * 4 / 7))
    } else {
        unpack_digits(octets, semi_octets)
    };
    Ok(Address { ton, npi, addr })
}

/// The SCA in front of a modem PDU: `[0]` (the modem's own) for `None`.
pub fn encode_sca(sca: Option<&Address>) -> Result<Vec<u8>, PduError> {
    let Some(a) = sca else {
        return Ok(vec![0]);
    };
    let (digits, ton) = match a.addr.strip_prefix('+') {
        Some(rest) => (rest, TON_INTERNATIONAL),
        None => (a.addr.as_str(), a.ton),
    };
    if ton == ADDRESS_ALPHANUMERIC || digits.is_empty() {
        return Err(PduError::BadAddress {
            addr: a.addr.clone(),
            why: "a service centre address is a number",
        });
    }
    let packed = pack_digits(digits, &a.addr)?;
    let mut out = Vec::with_capacity(2 + packed.len());
    out.push(1 + packed.len() as u8);
    out.push(type_of_address(ton, a.npi));
    out.extend_from_slice(&packed);
    Ok(out)
}

/// Splits a modem PDU into its SCA (`None` when the length octet is 0) and the TPDU after it.
pub fn decode_sca(pdu: &[u8]) -> Result<(Option<Address>, &[u8]), PduError> {
    let mut r = Reader::new(pdu);
    let len = usize::from(r.u8("SCA length")?);
    if len == 0 {
        return Ok((None, r.rest()));
    }
    if len > 1 + MAX_ADDRESS_DIGITS / 2 {
        return Err(PduError::Invalid {
            field: "SCA length",
            why: "over 11 octets",
        });
    }
    let field = r.take(len, "SCA")?;
    let (&toa, digits) = field.split_first().ok_or(PduError::Truncated("SCA"))?;
    let sca = Address {
        ton: (toa >> 4) & 0x07,
        npi: toa & 0x0F,
        addr: unpack_digits(digits, digits.len() * 2),
    };
    Ok((Some(sca), r.rest()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(ton: u8, npi: u8, s: &str) -> Address {
        Address {
            ton,
            npi,
            addr: s.into(),
        }
    }

    fn round_trip(a: &Address) -> (Vec<u8>, Address) {
        let mut out = Vec::new();
        write_address(a, &mut out).unwrap();
        let mut r = Reader::new(&out);
        let back = read_address(&mut r, "addr").unwrap();
        assert!(r.rest().is_empty());
        (out, back)
    }

    #[test]
    fn addresses_encode_as_the_spec_examples() {
        let cases: &[(Address, &[u8], Address)] = &[
            // +46 70 123 45 67: odd digit count, F padding, international.
            (
                addr(1, 1, "+46701234567"),
                &[0x0B, 0x91, 0x64, 0x07, 0x21, 0x43, 0x65, 0xF7],
                addr(1, 1, "46701234567"),
            ),
            (
                addr(2, 1, "0701234567"),
                &[0x0A, 0xA1, 0x70, 0x10, 0x32, 0x54, 0x76],
                addr(2, 1, "0701234567"),
            ),
            (
                addr(0, 1, "*100#"),
                &[0x05, 0x81, 0x1A, 0x00, 0xFB],
                addr(0, 1, "*100#"),
            ),
            // Alphanumeric "Hello": 35 bits fill 9 semi-octets.
            (
                addr(5, 0, "Hello"),
                &[0x09, 0xD0, 0xC8, 0x32, 0x9B, 0xFD, 0x06],
                addr(5, 0, "Hello"),
            ),
        ];
        for (a, bytes, back) in cases {
            let (out, decoded) = round_trip(a);
            assert_eq!(out, *bytes, "{a:?}");
            assert_eq!(decoded, *back, "{a:?}");
        }
    }

    #[test]
    fn bad_addresses_are_refused_not_truncated() {
        for a in [
            addr(1, 1, "+4670-123"),
            addr(1, 1, "123456789012345678901"),
            addr(5, 0, "TwelveChars!"),
            addr(5, 0, "Čapek"),
        ] {
            assert!(write_address(&a, &mut Vec::new()).is_err(), "{a:?}");
        }
        assert!(encode_sca(Some(&addr(5, 0, "SMSC"))).is_err());
    }

    #[test]
    fn alphanumeric_length_written_in_octets_times_two_still_reads() {
        // Some encoders write 2 * octets rather than the semi-octets used: "Hello" as 10.
        let bytes = [0x0A, 0xD0, 0xC8, 0x32, 0x9B, 0xFD, 0x06];
        let a = read_address(&mut Reader::new(&bytes), "addr").unwrap();
        assert_eq!(a.addr, "Hello");
    }

    #[test]
    fn sca_round_trips() {
        assert_eq!(encode_sca(None).unwrap(), [0x00]);
        let sca = addr(1, 1, "+46705008999");
        let bytes = encode_sca(Some(&sca)).unwrap();
        assert_eq!(bytes, [0x07, 0x91, 0x64, 0x07, 0x05, 0x80, 0x99, 0xF9]);
        let mut pdu = bytes.clone();
        pdu.push(0x11);
        let (back, rest) = decode_sca(&pdu).unwrap();
        assert_eq!(back, Some(addr(1, 1, "46705008999")));
        assert_eq!(rest, [0x11]);
        assert_eq!(decode_sca(&[0x00, 0x04]).unwrap(), (None, &[0x04][..]));
        assert!(decode_sca(&[0x07, 0x91]).is_err());
        assert!(decode_sca(&[]).is_err());
    }
}

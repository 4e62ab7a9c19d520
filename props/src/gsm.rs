//! GSM 03.38 / UCS-2 / Latin-1 text coding, 7-bit packing and user data headers.

use arbitrary::{Result, Unstructured};
use common::gsm::*;

/// The first byte is a `data_coding`, the rest a short message body.
///
/// Decoding is lenient and never fails for a text coding; what it shows must be text the same
/// coding can carry, so decode → encode → decode is stable, and exact for Latin-1, for IA5
/// without the top bit and for UCS-2 without bad surrogates.
pub fn text(data: &[u8]) {
    let Some((&dc, body)) = data.split_first() else {
        return;
    };
    let Ok(shown) = decode_text(dc, body) else {
        return;
    };
    let coding = Coding::from_data_coding(dc).expect("decoded, so the coding is known");
    match encode_text(dc, &shown) {
        Ok(again) => {
            assert_eq!(decode_text(dc, &again).as_deref(), Ok(shown.as_str()));
            let exact = match coding {
                Coding::Latin1 => true,
                Coding::Ucs2 => !shown.contains('\u{fffd}'),
                _ => false,
            };
            if exact {
                assert_eq!(again, body);
            }
        }
        // IA5 with the top bit set is shown as Latin-1, which IA5 cannot send back.
        Err(_) if coding == Coding::Ia5 && body.iter().any(|b| b & 0x80 != 0) => {}
        Err(e) => panic!("decoded text does not encode again: {e} ({shown:?})"),
    }
    if coding == Coding::Ia5 && body.is_ascii() {
        assert_eq!(encode_text(dc, &shown).as_deref(), Ok(body));
    }
    // User data read as a UDH (UDHI set), then written back: exact.
    if let Ok((udh, n)) = Udh::parse(body) {
        assert_eq!(udh.encoded_len(), n);
        assert_eq!(udh.encode().as_deref(), Ok(&body[..n]));
        let _ = (udh.concat(), udh.ports());
    }
}

/// Round-trip property: text a coding can carry encodes and decodes to itself, and septets
/// pack and unpack to themselves after any number of fill bits.
pub fn text_roundtrip(data: &[u8]) {
    let Some((dc, text, fill)) = crate::generate(data, |u| {
        let dc = *u.choose(&[0u8, 1, 3, 8, 0xF0, 0x18])?;
        let text = if u.arbitrary()? {
            // Mostly GSM characters, so the 7-bit coding gets text it can carry.
            let n = u.int_in_range(0..=200)?;
            (0..n)
                .map(|_| {
                    Ok(if u.ratio(7, 8)? {
                        alphabet::BASIC[u.int_in_range(0..=127usize)?]
                    } else {
                        u.choose(&alphabet::EXTENSION)?.1
                    })
                })
                .collect::<Result<String>>()?
        } else {
            u.arbitrary::<String>()?
        };
        Ok((dc, text, u.int_in_range(0..=7u8)?))
    }) else {
        return;
    };
    if let Ok(body) = encode_text(dc, &text) {
        assert_eq!(
            decode_text(dc, &body).as_deref(),
            Ok(text.as_str()),
            "{body:?}"
        );
        if Coding::from_data_coding(dc) == Some(Coding::Gsm7) {
            let packed = pack_septets(&body, fill);
            assert_eq!(packed.len(), packed_len(body.len(), fill));
            assert_eq!(unpack_septets(&packed, fill, body.len()), body);
        }
    }
}

/// User data headers: any bytes parse or are refused; a parsed header writes back exactly,
/// and a generated one parses back to itself.
pub fn udh(data: &[u8]) {
    if let Ok((h, n)) = Udh::parse(data) {
        assert_eq!(h.encode().as_deref(), Ok(&data[..n]));
        let (again, rest) = Udh::split(data).expect("parsed once");
        assert_eq!(again, h);
        assert_eq!(rest, &data[n..]);
        let mut h2 = h.clone();
        if let Some(c) = h.concat() {
            h2.set_concat(c);
            assert_eq!(h2.concat(), Some(c));
        }
    }
    let Some(h) = crate::generate(data, generated_udh) else {
        return;
    };
    match h.encode() {
        Ok(bytes) => assert_eq!(Udh::parse(&bytes), Ok((h, bytes.len()))),
        Err(_) => assert!(h.encoded_len() > 256),
    }
}

fn generated_udh(u: &mut Unstructured) -> Result<Udh> {
    let n = u.int_in_range(0..=6)?;
    let ies = (0..n)
        .map(|_| {
            Ok(match u.int_in_range(0..=2)? {
                0 => Ie::concat(Concat {
                    reference: u.arbitrary()?,
                    total: u.arbitrary()?,
                    seq: u.arbitrary()?,
                    wide_ref: u.arbitrary()?,
                }),
                1 => Ie::ports(Ports {
                    dest: u.arbitrary()?,
                    src: u.arbitrary()?,
                    wide: u.arbitrary()?,
                }),
                _ => {
                    let len = u.int_in_range(0..=60usize)?;
                    Ie {
                        id: u.arbitrary()?,
                        data: u.bytes(len.min(u.len()))?.to_vec(),
                    }
                }
            })
        })
        .collect::<Result<_>>()?;
    Ok(Udh { ies })
}

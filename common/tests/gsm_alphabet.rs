//! GSM 03.38 alphabet, packing and data_coding conversions, table by table.

use common::gsm::{
    alphabet::{BASIC, EXTENSION},
    choose_coding, decode_gsm, decode_text, encode_gsm, encode_text, is_gsm, pack_septets,
    packed_len, septet_len, udh_fill_bits, unpack_septets, Coding, TextError, Unencodable, ESC,
};

#[test]
fn every_base_character_round_trips() {
    for (septet, &ch) in BASIC.iter().enumerate() {
        if septet == ESC as usize {
            continue;
        }
        let s = ch.to_string();
        assert_eq!(encode_gsm(&s), Ok(vec![septet as u8]), "{ch:?}");
        assert_eq!(decode_gsm(&[septet as u8]), s, "{septet:#04x}");
        assert_eq!(septet_len(&s), Some(1));
    }
}

#[test]
fn every_extension_character_round_trips() {
    for &(septet, ch) in &EXTENSION {
        let s = ch.to_string();
        assert_eq!(encode_gsm(&s), Ok(vec![ESC, septet]), "{ch:?}");
        assert_eq!(decode_gsm(&[ESC, septet]), s);
        assert_eq!(septet_len(&s), Some(2));
    }
    let all: String = EXTENSION.iter().map(|&(_, c)| c).collect();
    assert_eq!(all, "\u{0C}^{}\\[~]|€");
}

#[test]
fn spot_values_from_the_spec() {
    let table = [
        ('@', 0x00),
        ('£', 0x01),
        ('$', 0x02),
        ('¤', 0x24),
        ('Δ', 0x10),
        ('_', 0x11),
        ('¡', 0x40),
        ('§', 0x5F),
        ('¿', 0x60),
        ('à', 0x7F),
        ('Ç', 0x09),
        ('ß', 0x1E),
        ('É', 0x1F),
    ];
    for (ch, septet) in table {
        assert_eq!(encode_gsm(&ch.to_string()), Ok(vec![septet]), "{ch:?}");
    }
}

#[test]
fn all_128_septets_decode_to_distinct_characters_except_escape() {
    let mut seen = std::collections::HashSet::new();
    for s in 0u8..128 {
        if s != ESC {
            assert!(seen.insert(decode_gsm(&[s])), "{s:#04x}");
        }
    }
    assert_eq!(seen.len(), 127);
}

#[test]
fn unencodable_characters_are_reported_with_byte_index() {
    for (s, ch, index) in [
        ("abc`", '`', 3),
        ("é€ç", 'ç', 5),
        ("\u{1B}", '\u{1B}', 0),
        ("😀", '😀', 0),
        ("Ωπ", 'π', 2),
        ("\t", '\t', 0),
    ] {
        assert_eq!(encode_gsm(s), Err(Unencodable { ch, index }), "{s:?}");
        assert!(!is_gsm(s));
        assert_eq!(septet_len(s), None);
    }
}

#[test]
fn lenient_decoding() {
    // Unknown escape: the base character. ESC ESC and a trailing ESC: a space.
    assert_eq!(decode_gsm(&[ESC, 0x41]), "A");
    assert_eq!(decode_gsm(&[ESC, 0x0D]), "\r");
    assert_eq!(decode_gsm(&[ESC, ESC, 0x41]), " A");
    assert_eq!(decode_gsm(&[0x41, ESC]), "A ");
    // The top bit is ignored.
    assert_eq!(decode_gsm(&[0xC1, 0x80]), "A@");
    // Every octet value, alone and after ESC, decodes without panicking.
    for b in 0..=255u8 {
        assert_eq!(decode_gsm(&[b]).chars().count(), 1);
        assert_eq!(decode_gsm(&[ESC, b]).chars().count(), 1);
    }
}

#[test]
fn septet_len_counts_escapes_twice() {
    assert_eq!(septet_len(""), Some(0));
    assert_eq!(septet_len("Hello"), Some(5));
    assert_eq!(septet_len("{€}"), Some(6));
    assert_eq!(septet_len("a[b]c"), Some(7));
}

#[test]
fn packing_known_vectors() {
    // "hellohello" from TS 23.038 examples / common references.
    let septets = encode_gsm("hellohello").unwrap();
    let packed = pack_septets(&septets, 0);
    assert_eq!(
        packed,
        [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
    );
    assert_eq!(unpack_septets(&packed, 0, septets.len()), septets);
    // "Hi" after a 6-octet concat UDH needs 1 fill bit.
    assert_eq!(udh_fill_bits(6), 1);
    assert_eq!(udh_fill_bits(7), 0);
    assert_eq!(udh_fill_bits(0), 0);
    assert_eq!(udh_fill_bits(1), 6);
    let packed = pack_septets(&encode_gsm("Hi").unwrap(), 1);
    // H=0x48 shifted past the fill bit, then i=0x69 on the next octet boundary.
    assert_eq!(packed, [0x90, 0x69]);
    assert_eq!(unpack_septets(&packed, 1, 2), encode_gsm("Hi").unwrap());
}

#[test]
fn packing_round_trips_for_every_length_and_fill() {
    let septets: Vec<u8> = (0..200u32).map(|i| (i * 37 % 128) as u8).collect();
    for fill in 0..=7u8 {
        for n in 0..septets.len() {
            let packed = pack_septets(&septets[..n], fill);
            assert_eq!(packed.len(), packed_len(n, fill));
            assert_eq!(
                unpack_septets(&packed, fill, n),
                &septets[..n],
                "n={n} fill={fill}"
            );
        }
    }
    // 160 septets fill exactly 140 octets.
    assert_eq!(packed_len(160, 0), 140);
    assert_eq!(packed_len(153, 1), 134);
    assert_eq!(packed_len(152, 0), 133);
}

#[test]
fn unpacking_is_total() {
    assert_eq!(unpack_septets(&[], 3, 10), Vec::<u8>::new());
    assert_eq!(unpack_septets(&[0xFF], 0, 100).len(), 1);
    assert_eq!(unpack_septets(&[0xFF; 7], 0, 1000).len(), 8);
    assert_eq!(unpack_septets(&[0xFF; 2], 200, 1000).len(), 1);
    assert_eq!(pack_septets(&[0xFF], 200), [0x80, 0x3F]);
}

#[test]
fn data_coding_map() {
    let table = [
        (0x00, Some(Coding::Gsm7)),
        (0x01, Some(Coding::Ia5)),
        (0x02, Some(Coding::Binary)),
        (0x03, Some(Coding::Latin1)),
        (0x04, Some(Coding::Binary)),
        (0x05, None),
        (0x06, None),
        (0x07, None),
        (0x08, Some(Coding::Ucs2)),
        (0x09, None),
        (0x0E, None),
        (0x11, Some(Coding::Gsm7)),
        (0x15, Some(Coding::Binary)),
        (0x18, Some(Coding::Ucs2)),
        (0x1C, None),
        (0x20, None),
        (0x48, Some(Coding::Ucs2)),
        (0x80, None),
        (0xC0, Some(Coding::Gsm7)),
        (0xD8, Some(Coding::Gsm7)),
        (0xE0, Some(Coding::Ucs2)),
        (0xF0, Some(Coding::Gsm7)),
        (0xF1, Some(Coding::Gsm7)),
        (0xF4, Some(Coding::Binary)),
        (0xF6, Some(Coding::Binary)),
    ];
    for (dc, want) in table {
        assert_eq!(Coding::from_data_coding(dc), want, "{dc:#04x}");
    }
    for c in [
        Coding::Gsm7,
        Coding::Ia5,
        Coding::Latin1,
        Coding::Binary,
        Coding::Ucs2,
    ] {
        assert_eq!(Coding::from_data_coding(c.data_coding()), Some(c));
    }
}

#[test]
fn text_conversions() {
    let table: [(u8, &str, &[u8]); 7] = [
        (0, "A€", &[0x41, ESC, 0x65]),
        (1, "Hi{", b"Hi{"),
        (3, "Åäö", &[0xC5, 0xE4, 0xF6]),
        (8, "Aж", &[0x00, 0x41, 0x04, 0x36]),
        (8, "😀", &[0xD8, 0x3D, 0xDE, 0x00]),
        (8, "", &[]),
        (0xF0, "@", &[0x00]),
    ];
    for (dc, text, bytes) in table {
        assert_eq!(encode_text(dc, text).as_deref(), Ok(bytes), "{dc} {text:?}");
        assert_eq!(decode_text(dc, bytes).as_deref(), Ok(text), "{dc} {text:?}");
    }
}

#[test]
fn text_errors() {
    assert_eq!(
        encode_text(3, "aж"),
        Err(TextError::Unencodable {
            ch: 'ж',
            index: 1,
            data_coding: 3
        })
    );
    assert_eq!(
        encode_text(1, "é"),
        Err(TextError::Unencodable {
            ch: 'é',
            index: 0,
            data_coding: 1
        })
    );
    assert_eq!(
        encode_text(0, "x😀"),
        Err(TextError::Unencodable {
            ch: '😀',
            index: 1,
            data_coding: 0
        })
    );
    assert_eq!(encode_text(4, "a"), Err(TextError::Binary(4)));
    assert_eq!(decode_text(2, b"a"), Err(TextError::Binary(2)));
    assert_eq!(encode_text(6, "a"), Err(TextError::Unsupported(6)));
    assert_eq!(decode_text(0x20, b"a"), Err(TextError::Unsupported(0x20)));
}

#[test]
fn lenient_ucs2_and_ia5_decoding() {
    assert_eq!(decode_text(8, &[0x00, 0x41, 0x00]).unwrap(), "A\u{FFFD}");
    assert_eq!(
        decode_text(8, &[0xD8, 0x3D, 0x00, 0x41]).unwrap(),
        "\u{FFFD}A"
    );
    assert_eq!(decode_text(8, &[0xDE, 0x00]).unwrap(), "\u{FFFD}");
    assert_eq!(decode_text(1, &[0x41, 0xE9]).unwrap(), "Aé");
}

#[test]
fn choosing_a_coding() {
    assert_eq!(choose_coding("Hello {world} €5"), 0);
    assert_eq!(choose_coding(""), 0);
    assert_eq!(choose_coding("Привет"), 8);
    assert_eq!(choose_coding("ok 😀"), 8);
    assert_eq!(choose_coding("ç"), 8);
}

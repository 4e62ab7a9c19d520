//! Splitting long messages: exact part sizes and the never-split-a-character rules.

use common::concat::{count_parts, split, split_encoded, Method, Part, SplitError};
use common::gsm::{decode_text, encode_text, septet_len, Udh, ESC};

fn text_lens(parts: &[Part]) -> Vec<usize> {
    parts.iter().map(|p| p.text().len()).collect()
}

#[test]
fn gsm_sizes() {
    let s160 = "a".repeat(160);
    let one = split(&s160, 0, Method::Udh8, 7).unwrap();
    assert_eq!(one.len(), 1);
    assert!(!one[0].udhi);
    assert_eq!((one[0].total, one[0].seq, one[0].body.len()), (1, 1, 160));

    let s = "a".repeat(161);
    let p8 = split(&s, 0, Method::Udh8, 7).unwrap();
    assert_eq!(text_lens(&p8), [153, 8]);
    assert_eq!(p8[0].body[..6], [5, 0, 3, 7, 2, 1]);
    assert_eq!(p8[1].body[..6], [5, 0, 3, 7, 2, 2]);
    assert!(p8.iter().all(|p| p.udhi && p.esm_class_bits() == 0x40));

    let p16 = split(&s, 0, Method::Udh16, 0x1234).unwrap();
    assert_eq!(text_lens(&p16), [152, 9]);
    assert_eq!(p16[1].body[..7], [6, 8, 4, 0x12, 0x34, 2, 2]);

    assert_eq!(
        text_lens(&split(&"a".repeat(306), 0, Method::Udh8, 1).unwrap()),
        [153, 153]
    );
    assert_eq!(
        text_lens(&split(&"a".repeat(307), 0, Method::Udh8, 1).unwrap()),
        [153, 153, 1]
    );
}

#[test]
fn escape_never_split() {
    // 152 plain septets then '€' (ESC 0x65): ESC would be the 153rd septet.
    let s = format!("{}€{}", "a".repeat(152), "b".repeat(20));
    let parts = split(&s, 0, Method::Udh8, 1).unwrap();
    assert_eq!(text_lens(&parts), [152, 22]);
    assert_eq!(parts[1].text()[..2], [ESC, 0x65]);
    // One septet earlier it fits exactly.
    let s = format!("{}€{}", "a".repeat(151), "b".repeat(20));
    let parts = split(&s, 0, Method::Udh8, 1).unwrap();
    assert_eq!(text_lens(&parts), [153, 20]);
    assert_eq!(parts[0].text()[151..], [ESC, 0x65]);
    // Same rule for the 16-bit reference (152 septets).
    let s = format!("{}{{{}", "a".repeat(151), "b".repeat(20));
    let parts = split(&s, 0, Method::Udh16, 1).unwrap();
    assert_eq!(text_lens(&parts), [151, 22]);
    // Single message: 80 escapes = 160 septets fit, 81 do not.
    assert_eq!(split(&"€".repeat(80), 0, Method::Udh8, 1).unwrap().len(), 1);
    let parts = split(&"€".repeat(81), 0, Method::Udh8, 1).unwrap();
    assert_eq!(text_lens(&parts), [152, 10]);
}

#[test]
fn ucs2_sizes_and_surrogates() {
    assert_eq!(split(&"ж".repeat(70), 8, Method::Udh8, 1).unwrap().len(), 1);
    let s = "ж".repeat(71);
    assert_eq!(text_lens(&split(&s, 8, Method::Udh8, 1).unwrap()), [134, 8]);
    assert_eq!(
        text_lens(&split(&s, 8, Method::Udh16, 1).unwrap()),
        [132, 10]
    );
    // Surrogate pair on the boundary: 66 BMP chars then an emoji (units 67 and 68).
    let s = format!("{}😀{}", "ж".repeat(66), "ж".repeat(10));
    let parts = split(&s, 8, Method::Udh8, 1).unwrap();
    assert_eq!(text_lens(&parts), [132, 24]);
    assert_eq!(parts[1].text()[..4], [0xD8, 0x3D, 0xDE, 0x00]);
    // With 65 before it, the pair ends exactly at unit 67.
    let s = format!("{}😀{}", "ж".repeat(65), "ж".repeat(10));
    assert_eq!(
        text_lens(&split(&s, 8, Method::Udh8, 1).unwrap()),
        [134, 20]
    );
    // Odd-length raw UCS-2 cannot be split safely.
    assert_eq!(
        split_encoded(&[0; 301], 8, Method::Udh8, 1),
        Err(SplitError::OddUcs2Length(301))
    );
}

#[test]
fn octet_codings() {
    let s = "é".repeat(141);
    assert_eq!(
        split(&"é".repeat(140), 3, Method::Udh8, 1).unwrap().len(),
        1
    );
    assert_eq!(text_lens(&split(&s, 3, Method::Udh8, 1).unwrap()), [134, 7]);
    assert_eq!(
        text_lens(&split(&s, 3, Method::Udh16, 1).unwrap()),
        [133, 8]
    );
    let bin = vec![0xFFu8; 300];
    assert_eq!(
        text_lens(&split_encoded(&bin, 4, Method::Udh8, 1).unwrap()),
        [134, 134, 32]
    );
    assert_eq!(
        text_lens(&split_encoded(&bin, 2, Method::Sar, 1).unwrap()),
        [134, 134, 32]
    );
}

#[test]
fn ia5_counts_gsm_escapes() {
    // IA5 is sent as GSM 7-bit by the SMSC: '{' costs two septets.
    assert_eq!(split(&"{".repeat(80), 1, Method::Udh8, 1).unwrap().len(), 1);
    assert_eq!(
        text_lens(&split(&"{".repeat(81), 1, Method::Udh8, 1).unwrap()),
        [76, 5]
    );
    assert_eq!(
        text_lens(&split(&"a".repeat(161), 1, Method::Udh8, 1).unwrap()),
        [153, 8]
    );
}

#[test]
fn sar_and_payload() {
    let s = "a".repeat(161);
    let sar = split(&s, 0, Method::Sar, 9).unwrap();
    assert_eq!(text_lens(&sar), [153, 8]);
    assert!(sar
        .iter()
        .all(|p| !p.udhi && p.reference == 9 && p.total == 2));
    assert_eq!(sar.iter().map(|p| p.seq).collect::<Vec<_>>(), [1, 2]);
    // A reference above 255 makes the SMSC use the 16-bit IE: size for it.
    assert_eq!(
        text_lens(&split(&s, 0, Method::Sar, 300).unwrap()),
        [152, 9]
    );

    let big = "a".repeat(5000);
    let p = split(&big, 0, Method::Payload, 3).unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].body.len(), p[0].udhi, p[0].total), (5000, false, 1));
    let too_big = vec![0u8; 65_536];
    assert_eq!(
        split_encoded(&too_big, 4, Method::Payload, 1),
        Err(SplitError::TooLong(65_536))
    );
}

#[test]
fn reference_and_part_count_limits() {
    let s = "a".repeat(161);
    let p = split(&s, 0, Method::Udh8, 0x1234).unwrap();
    assert!(p.iter().all(|p| p.reference == 0x34 && p.body[3] == 0x34));
    assert_eq!(
        count_parts(&"a".repeat(153 * 255), 0, Method::Udh8),
        Ok(255)
    );
    assert_eq!(
        count_parts(&"a".repeat(153 * 255 + 1), 0, Method::Udh8),
        Err(SplitError::TooManyParts(256))
    );
    assert!(matches!(
        split("ж", 0, Method::Udh8, 1),
        Err(SplitError::Text(_))
    ));
    assert!(matches!(
        split("a", 0x20, Method::Udh8, 1),
        Err(SplitError::Text(_))
    ));
    let empty = split("", 0, Method::Udh8, 1).unwrap();
    assert_eq!((empty.len(), empty[0].body.len()), (1, 0));
}

/// Deterministic xorshift64 so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const POOL: &[char] = &[
    'a', 'Z', '0', ' ', '\n', '@', '£', 'Δ', 'é', '€', '{', '}', '[', ']', '~', '^', '\\', '|',
    '\u{0C}', 'ж', 'ç', 'ß', '中', '😀', '𝄞', 'ÿ', 'Ä', '`',
];

#[test]
fn property_split_then_join_is_identity() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for round in 0..3000 {
        let len = (rng.next() % 700) as usize;
        let narrow = rng.next() % 3; // bias some strings towards GSM-only or Latin-1 text
        let text: String = (0..len)
            .map(|_| {
                let k = match narrow {
                    0 => 18,
                    1 => POOL.len(),
                    _ => 12,
                };
                POOL[(rng.next() % k as u64) as usize]
            })
            .collect();
        for dc in [0u8, 1, 3, 8] {
            let Ok(encoded) = encode_text(dc, &text) else {
                continue;
            };
            for method in [Method::Udh8, Method::Udh16, Method::Sar, Method::Payload] {
                let reference = (rng.next() % 0x1_0000) as u16;
                let parts = match split(&text, dc, method, reference) {
                    Ok(p) => p,
                    Err(SplitError::TooManyParts(_)) => continue,
                    Err(e) => panic!("round {round} dc {dc} {method:?}: {e}"),
                };
                check_parts(&parts, dc, method, round);
                let joined: Vec<u8> = parts.iter().flat_map(|p| p.text().to_vec()).collect();
                assert_eq!(joined, encoded, "round {round} dc {dc} {method:?}");
                assert_eq!(decode_text(dc, &joined).unwrap(), text);
                // Every part decodes on its own: no escape or surrogate was cut.
                let per_part: String = parts
                    .iter()
                    .map(|p| decode_text(dc, p.text()).unwrap())
                    .collect();
                assert_eq!(per_part, text, "round {round} dc {dc} {method:?}");
            }
        }
    }
}

fn check_parts(parts: &[Part], dc: u8, method: Method, round: usize) {
    let total = parts.len();
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(
            (p.seq as usize, p.total as usize),
            (i + 1, total),
            "round {round}"
        );
        let text = p.text();
        if total == 1 {
            assert!(!p.udhi);
            if method == Method::Payload {
                continue;
            }
        } else {
            assert_eq!(p.udhi, matches!(method, Method::Udh8 | Method::Udh16));
        }
        if p.udhi {
            let (udh, n) = Udh::parse(&p.body).unwrap();
            let c = udh.concat().unwrap();
            assert_eq!((c.seq, c.total, c.reference), (p.seq, p.total, p.reference));
            assert_eq!(n, if method == Method::Udh8 { 6 } else { 7 });
        }
        let wide = method == Method::Udh16 || (method == Method::Sar && p.reference > 0xFF);
        let (single, multi) = match dc {
            0 | 1 => (160, if wide { 152 } else { 153 }),
            8 => (140, if wide { 132 } else { 134 }),
            _ => (140, if wide { 133 } else { 134 }),
        };
        let limit = if total == 1 { single } else { multi };
        let cost = match dc {
            1 => septet_len(std::str::from_utf8(text).unwrap()).unwrap_or(text.len()),
            _ => text.len(),
        };
        assert!(
            cost <= limit,
            "round {round} dc {dc} {method:?}: {cost} > {limit}"
        );
        if dc == 0 {
            assert!(p.body.len() <= 140 * 8 / 7, "septets on the wire");
        } else {
            assert!(p.body.len() <= 140, "octets on the wire");
        }
        if total > 1 && i + 1 < total {
            // Parts other than the last are filled to within one character of the limit.
            assert!(
                cost + 4 > limit,
                "round {round} dc {dc} {method:?}: underfilled {cost}"
            );
        }
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    for _ in 0..2000 {
        let len = (rng.next() % 400) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let dc = rng.next() as u8;
        let _ = decode_text(dc, &bytes);
        for method in [Method::Udh8, Method::Udh16, Method::Sar, Method::Payload] {
            if let Ok(parts) = split_encoded(&bytes, dc, method, rng.next() as u16) {
                let joined: Vec<u8> = parts.iter().flat_map(|p| p.text().to_vec()).collect();
                assert_eq!(joined, bytes, "dc {dc:#04x} {method:?}");
                assert!(parts
                    .iter()
                    .all(|p| p.body.len() <= 140 * 8 / 7 || parts.len() == 1));
            }
        }
    }
}

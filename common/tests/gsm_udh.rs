//! User data header parsing and building.

use common::gsm::{udh::IE_CONCAT8, Concat, Ie, Ports, Udh, UdhError};

#[test]
fn concat_ie_8_and_16_bit() {
    let c8 = Concat {
        reference: 0x42,
        total: 3,
        seq: 2,
        wide_ref: false,
    };
    let bytes = Udh::with_concat(c8).encode().unwrap();
    assert_eq!(bytes, [0x05, 0x00, 0x03, 0x42, 0x03, 0x02]);
    let (udh, n) = Udh::parse(&bytes).unwrap();
    assert_eq!((udh.concat(), n), (Some(c8), 6));

    let c16 = Concat {
        reference: 0x1234,
        total: 3,
        seq: 3,
        wide_ref: true,
    };
    let bytes = Udh::with_concat(c16).encode().unwrap();
    assert_eq!(bytes, [0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x03]);
    let (udh, n) = Udh::parse(&bytes).unwrap();
    assert_eq!((udh.concat(), n), (Some(c16), 7));
}

#[test]
fn extra_ie_before_concat_is_walked_and_kept() {
    // Port IE (16-bit), an unknown IE 0x24, the 8-bit concat IE, an empty unknown IE 0x70,
    // then the text "hi". UDHL = 6 + 3 + 5 + 2 = 16.
    let ud = [
        0x10, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x24, 0x01, 0x07, 0x00, 0x03, 0x09, 0x02, 0x01,
        0x70, 0x00, b'h', b'i',
    ];
    let (udh, n) = Udh::parse(&ud).unwrap();
    assert_eq!(n, 17);
    assert_eq!(udh.ies.len(), 4);
    assert_eq!(
        udh.ports(),
        Some(Ports {
            dest: 0x0B84,
            src: 0x23F0,
            wide: true
        })
    );
    assert_eq!(
        udh.concat(),
        Some(Concat {
            reference: 9,
            total: 2,
            seq: 1,
            wide_ref: false
        })
    );
    assert_eq!(
        udh.ies[1],
        Ie {
            id: 0x24,
            data: vec![0x07]
        }
    );
    assert_eq!(
        udh.ies[3],
        Ie {
            id: 0x70,
            data: vec![]
        }
    );
    assert_eq!(udh.encode().unwrap(), &ud[..17]);
    let (_, text) = Udh::split(&ud).unwrap();
    assert_eq!(text, b"hi");
}

#[test]
fn invalid_concat_values_are_ignored() {
    for data in [[1u8, 0, 1], [1, 2, 0], [1, 2, 3]] {
        let udh = Udh {
            ies: vec![Ie {
                id: IE_CONCAT8,
                data: data.to_vec(),
            }],
        };
        assert_eq!(udh.concat(), None, "{data:?}");
    }
    let wrong_len = Udh {
        ies: vec![Ie {
            id: IE_CONCAT8,
            data: vec![1, 2],
        }],
    };
    assert_eq!(wrong_len.concat(), None);
    // The last valid concat IE wins.
    let two = Udh {
        ies: vec![
            Ie::concat(Concat {
                reference: 1,
                total: 2,
                seq: 1,
                wide_ref: false,
            }),
            Ie::concat(Concat {
                reference: 7,
                total: 4,
                seq: 4,
                wide_ref: true,
            }),
        ],
    };
    assert_eq!(two.concat().map(|c| c.reference), Some(7));
}

#[test]
fn ports_8_bit() {
    let p = Ports {
        dest: 0x50,
        src: 0x51,
        wide: false,
    };
    let udh = Udh {
        ies: vec![Ie::ports(p)],
    };
    assert_eq!(udh.encode().unwrap(), [0x04, 0x04, 0x02, 0x50, 0x51]);
    assert_eq!(
        Udh::parse(&udh.encode().unwrap()).unwrap().0.ports(),
        Some(p)
    );
}

#[test]
fn set_concat_replaces_in_place() {
    let mut udh = Udh {
        ies: vec![
            Ie {
                id: 0x24,
                data: vec![1],
            },
            Ie::concat(Concat {
                reference: 1,
                total: 2,
                seq: 1,
                wide_ref: false,
            }),
            Ie {
                id: 0x25,
                data: vec![2],
            },
        ],
    };
    let c = Concat {
        reference: 300,
        total: 3,
        seq: 2,
        wide_ref: true,
    };
    udh.set_concat(c);
    assert_eq!(
        udh.ies.iter().map(|i| i.id).collect::<Vec<_>>(),
        [0x24, 0x08, 0x25]
    );
    assert_eq!(udh.concat(), Some(c));
    let mut empty = Udh::default();
    empty.set_concat(c);
    assert_eq!(empty.ies.len(), 1);
}

#[test]
fn malformed_headers() {
    assert_eq!(Udh::parse(&[]), Err(UdhError::Empty));
    assert_eq!(
        Udh::parse(&[5, 0, 3, 1]),
        Err(UdhError::Truncated {
            udhl: 5,
            available: 3
        })
    );
    assert_eq!(Udh::parse(&[1, 0]), Err(UdhError::IeOverrun { offset: 1 }));
    assert_eq!(
        Udh::parse(&[4, 0, 3, 1, 2]),
        Err(UdhError::IeOverrun { offset: 1 })
    );
    assert_eq!(
        Udh::parse(&[5, 0, 0, 0, 3, 1]),
        Err(UdhError::IeOverrun { offset: 3 })
    );
    assert_eq!(Udh::parse(&[0, 9]).unwrap(), (Udh::default(), 1));
    let big = Udh {
        ies: vec![Ie {
            id: 1,
            data: vec![0; 254],
        }],
    };
    assert_eq!(big.encode(), Err(UdhError::TooLong(257)));
}

#[test]
fn parse_is_total_over_short_inputs() {
    // Every 1..=3 byte input, and a pseudo-random sweep of longer ones: no panic, and
    // a successful parse re-encodes to the same header bytes.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for a in 0..=255u8 {
        inputs.push(vec![a]);
        for b in 0..=255u8 {
            inputs.push(vec![a, b]);
        }
    }
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 24) as usize;
        inputs.push((0..len).map(|i| (x >> (i % 8 * 8)) as u8 % 12).collect());
    }
    for ud in inputs {
        if let Ok((udh, n)) = Udh::parse(&ud) {
            assert_eq!(udh.encode().unwrap(), &ud[..n]);
        }
    }
}

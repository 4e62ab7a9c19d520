//! Deterministic fuzzing of the SMS PDU codec: random, truncated and mutated PDUs never panic
//! the decoder, and whatever it accepts encodes again to a PDU that decodes to the same value.
//! Valid PDUs built from typed values round-trip to exactly their bytes.

use common::gsm::{encode_gsm, Concat, Udh};
use common::message::Address;
use common::sms_pdu::*;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// Decodes `bytes` every way a modem PDU can be read and checks the invariants.
fn check(bytes: &[u8], accepted: &mut usize) {
    for dir in [Direction::ToMs, Direction::FromMs] {
        for with_sca in [true, false] {
            let decoded = if with_sca {
                decode_with_sca(bytes, dir).map(|(_, t)| t)
            } else {
                Tpdu::decode(bytes, dir)
            };
            let Ok(tpdu) = decoded else { continue };
            *accepted += 1;
            // Re-encoding may refuse (a decoded value the encoder would not write, such as
            // text that no longer fits after lenient decoding), but must not panic; when it
            // encodes, the result reads back as the same value.
            if let Ok(again) = tpdu.encode() {
                let back = Tpdu::decode(&again, dir).expect("our own encoding decodes");
                assert_eq!(back, tpdu, "{}", to_hex(bytes));
            }
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let dest = Address::new("46701234567");
    let opts = SubmitOptions {
        status_report: true,
        validity: Validity::Relative(0xA7),
        ..SubmitOptions::default()
    };
    let mut out = Vec::new();
    for text in ["hellohello", "€uro [x]", "ж漢字", &"long text ".repeat(40)] {
        for wide in [false, true] {
            for s in submit::submit_text(&dest, text, &opts, 0x1234, wide).unwrap() {
                out.push(s.encode().unwrap());
            }
        }
    }
    let d = Deliver {
        more_messages: false,
        loop_prevention: false,
        status_report_indication: true,
        reply_path: false,
        origin: Address {
            ton: 5,
            npi: 0,
            addr: "MyBank".into(),
        },
        pid: 0,
        dcs: 0,
        scts: Timestamp::from_unix(1_795_435_200, 4),
        user_data: UserData {
            udh: Some(Udh::with_concat(Concat {
                reference: 7,
                total: 2,
                seq: 1,
                wide_ref: false,
            })),
            body: encode_gsm("part one").unwrap(),
        },
    };
    out.push(d.encode().unwrap());
    let r = StatusReport {
        more_messages: false,
        loop_prevention: false,
        on_command: false,
        message_ref: 42,
        recipient: dest,
        scts: d.scts,
        discharge: d.scts,
        status: 0,
        pid: Some(0),
        dcs: Some(8),
        user_data: Some(UserData::plain(vec![0, 0x41])),
    };
    out.push(r.encode().unwrap());
    out
}

#[test]
fn typed_values_round_trip_to_their_exact_bytes() {
    for seed in seeds() {
        let dir = if seed[0] & 3 == 1 {
            Direction::FromMs
        } else {
            Direction::ToMs
        };
        let tpdu = Tpdu::decode(&seed, dir).unwrap();
        assert_eq!(tpdu.encode().unwrap(), seed, "{}", to_hex(&seed));
        let (with_sca, len) = encode_with_sca(Some(&Address::new("46705008999")), &tpdu).unwrap();
        assert_eq!(len, seed.len());
        assert_eq!(decode_with_sca(&with_sca, dir).unwrap().1, tpdu);
    }
}

#[test]
fn random_truncated_and_mutated_pdus_never_panic() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let seeds = seeds();
    let mut accepted = 0;
    for _ in 0..20_000 {
        let len = rng.below(200);
        let random: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        check(&random, &mut accepted);
    }
    for seed in &seeds {
        for cut in 0..seed.len() {
            check(&seed[..cut], &mut accepted);
        }
        for _ in 0..3_000 {
            let mut m = seed.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(m.len());
                m[i] = match rng.below(3) {
                    0 => rng.byte(),
                    1 => m[i] ^ (1 << rng.below(8)),
                    _ => m[i].wrapping_add(1),
                };
            }
            check(&m, &mut accepted);
        }
    }
    // The mutations must reach past the first checks, or this proves little.
    assert!(accepted > 5_000, "only {accepted} mutated PDUs decoded");
}

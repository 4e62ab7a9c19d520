//! Deterministic fuzzing: random, truncated and mutated byte strings never panic the decoder,
//! and anything it accepts re-encodes to exactly the bytes it came from.

mod smpp_support;

use bytes::{BufMut, BytesMut};
use common::smpp::*;
use smpp_support::*;

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
}

/// Drains `buf` like a connection would; checks the codec's invariants on every outcome.
fn drain(mut buf: BytesMut, stats: &mut [usize; 4]) {
    let _ = log_line(Direction::Read, &Pdu::new(0, 0, Body::Empty));
    loop {
        let before = buf.len();
        match decode(&mut buf, 4096) {
            Ok(None) => {
                assert_eq!(buf.len(), before);
                stats[0] += 1;
                return;
            }
            Ok(Some(p)) => {
                stats[1] += 1;
                let consumed = before - buf.len();
                assert!(consumed >= HEADER_LEN);
                // Exactness: decoding loses nothing, except where it cannot (replacement of
                // invalid UTF-8, and error responses whose empty body decodes to empty fields).
                let lossy = format!("{p:?}").contains('\u{fffd}');
                let bodyless_resp = consumed == HEADER_LEN && p.body != Body::Empty;
                if !lossy && !bodyless_resp {
                    assert_eq!(p.encoded_len(), consumed, "{p:?}");
                    let again = to_bytes(&p);
                    let mut again2 = again.clone();
                    assert_eq!(decode(&mut again2, 4096).unwrap().unwrap(), p);
                }
                let _ = log_line(Direction::Read, &p);
                if let Body::DeliverSm(sm) = &p.body {
                    let _ = Receipt::parse(sm.payload());
                }
            }
            Err(e) => {
                let _ = (e.to_string(), e.nack_status(), e.sequence());
                if e.is_fatal() {
                    assert_eq!(buf.len(), before);
                    stats[2] += 1;
                    return;
                }
                stats[3] += 1;
                assert!(before - buf.len() >= HEADER_LEN);
            }
        }
    }
}

#[test]
fn no_panic_on_200k_inputs() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let seeds: Vec<BytesMut> = all_samples().iter().map(to_bytes).collect();
    let mut stats = [0usize; 4];
    for i in 0..200_000 {
        let buf = match i % 4 {
            // Pure noise with a plausible length prefix, so bodies get parsed.
            0 => {
                let n = rng.below(120);
                let mut b = BytesMut::new();
                b.put_u32((HEADER_LEN + n) as u32);
                let ids = command::ALL;
                b.put_u32(if rng.below(8) == 0 {
                    rng.next() as u32
                } else {
                    ids[rng.below(ids.len())]
                });
                b.put_u32(rng.next() as u32);
                b.put_u32(rng.next() as u32);
                for _ in 0..n {
                    b.put_u8(rng.next() as u8);
                }
                b
            }
            // Truncated valid PDU.
            1 => {
                let s = &seeds[rng.below(seeds.len())];
                BytesMut::from(&s[..rng.below(s.len() + 1)])
            }
            // Valid PDU with a few bytes flipped (length prefix excluded half the time).
            2 => {
                let mut b = seeds[rng.below(seeds.len())].clone();
                let from = if rng.below(2) == 0 { 4 } else { 0 };
                for _ in 0..1 + rng.below(4) {
                    if b.len() > from {
                        let at = from + rng.below(b.len() - from);
                        b[at] = rng.next() as u8;
                    }
                }
                b
            }
            // Body cut short or padded while command_length is patched to match.
            _ => {
                let s = &seeds[rng.below(seeds.len())];
                let mut b = BytesMut::from(&s[..HEADER_LEN.max(rng.below(s.len() + 1))]);
                for _ in 0..rng.below(4) {
                    b.put_u8(rng.next() as u8);
                }
                let n = b.len() as u32;
                b[..4].copy_from_slice(&n.to_be_bytes());
                b
            }
        };
        drain(buf, &mut stats);
    }
    // The generator must reach every outcome, or the test proves little.
    assert!(stats.iter().all(|&n| n > 1000), "{stats:?}");
}

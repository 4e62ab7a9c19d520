//! Deterministic fuzzing of the UCP codec: random, truncated and mutated byte strings never
//! panic the decoder, never make it buffer past its bound, and whatever it accepts encodes
//! and decodes back to the same frame; random typed frames survive encode → decode unchanged.

mod rng;
mod ucp_support;

use bytes::BytesMut;
use common::ucp::*;
use rng::XorShift;
use ucp_support::{random_frame, SPEC};

const MAX: usize = 2048;

/// Drains `buf` as a session would; checks the codec's invariants on every outcome.
/// stats: [waiting, frames, errors answered with a NACK, other errors, fatal]
fn drain(mut buf: BytesMut, stats: &mut [usize; 5]) {
    loop {
        let before = buf.len();
        match decode(&mut buf, MAX) {
            Ok(None) => {
                assert_eq!(buf.len(), before);
                assert!(before < MAX);
                stats[0] += 1;
                return;
            }
            Ok(Some(f)) => {
                stats[1] += 1;
                assert!(before - buf.len() <= MAX);
                let again = f.to_bytes().unwrap_or_else(|e| panic!("{f:?}: {e}"));
                assert_eq!(decode_frame(&again).as_ref(), Ok(&f));
                let _ = log_line(common::smpp::Direction::Read, &f);
            }
            Err(e) => {
                let _ = (e.to_string(), e.error_code());
                if e.is_fatal() {
                    assert_eq!(buf.len(), before);
                    stats[4] += 1;
                    return;
                }
                assert!(buf.len() < before, "{e}: nothing consumed");
                match e.nack() {
                    Some(n) => {
                        n.to_bytes().expect("a NACK always encodes");
                        stats[2] += 1;
                    }
                    None => stats[3] += 1,
                }
            }
        }
    }
}

/// Rewrites LEN and the checksum so a mutated body gets past framing into the field parsers.
fn refit(frame: &mut [u8]) {
    let n = frame.len();
    if n < 20 || frame[0] != STX || frame[n - 1] != ETX {
        return;
    }
    let len = format!("{:05}", n - 2);
    frame[4..9].copy_from_slice(len.as_bytes());
    let cs = checksum(&frame[1..n - 3]);
    frame[n - 3..n - 1].copy_from_slice(format!("{cs:02X}").as_bytes());
}

#[test]
fn no_panic_on_200k_inputs() {
    let mut rng = XorShift(0x243F_6A88_85A3_08D3);
    let mut seeds: Vec<Vec<u8>> = SPEC
        .iter()
        .map(|s| [&[STX][..], s.as_bytes(), &[ETX]].concat())
        .collect();
    seeds.extend((0..200).map(|_| random_frame(&mut rng).to_bytes().unwrap().to_vec()));
    let mut stats = [0usize; 5];
    for i in 0..200_000 {
        let seed = &seeds[rng.below(seeds.len())];
        let buf: Vec<u8> = match i % 5 {
            // Noise, sometimes framed.
            0 => {
                let mut v = rng.octets(200);
                if rng.chance(2) {
                    v.insert(0, STX);
                    v.push(ETX);
                }
                v
            }
            // Truncated frame.
            1 => seed[..rng.below(seed.len() + 1)].to_vec(),
            // A few octets changed, framing and sums left as they are.
            2 => {
                let mut v = seed.clone();
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(v.len());
                    v[at] = rng.next() as u8;
                }
                v
            }
            // Fields changed, dropped or added, with LEN and checksum fixed up.
            3 => {
                let mut v = seed.clone();
                let n = v.len();
                if n > 20 {
                    for _ in 0..1 + rng.below(3) {
                        let at = 15 + rng.below(n - 19);
                        match rng.below(3) {
                            0 => v[at] = [b'/', b'0', b'9', b'A', b'x', b' '][rng.below(6)],
                            1 => {
                                if v.len() > 21 {
                                    v.remove(at.min(v.len() - 5));
                                }
                            }
                            _ => v.insert(at, [b'/', b'1', b'F'][rng.below(3)]),
                        }
                    }
                }
                refit(&mut v);
                v
            }
            // Several frames back to back with junk between, then an unterminated tail.
            _ => {
                let mut v = Vec::new();
                for _ in 0..1 + rng.below(4) {
                    v.extend_from_slice(&seeds[rng.below(seeds.len())]);
                    if rng.chance(3) {
                        v.extend(rng.octets(5));
                    }
                }
                if rng.chance(4) {
                    v.push(STX);
                    v.extend(std::iter::repeat_n(b'7', rng.below(3 * MAX)));
                }
                v
            }
        };
        drain(BytesMut::from(&buf[..]), &mut stats);
    }
    // The generator must reach every outcome, or the test proves little.
    assert!(stats.iter().all(|&n| n > 1000), "{stats:?}");
}

#[test]
fn random_frames_round_trip() {
    let mut rng = XorShift(0x1319_8A2E_0370_7344);
    for _ in 0..20_000 {
        let f = random_frame(&mut rng);
        let b = f.to_bytes().unwrap_or_else(|e| panic!("{f:?}: {e}"));
        assert_eq!(b.len(), f.encoded_len() + 2);
        let mut buf = BytesMut::from(&b[..]);
        let back = decode(&mut buf, 100_002)
            .unwrap_or_else(|e| panic!("{f:?}: {e}"))
            .unwrap();
        assert_eq!(back, f);
        assert!(buf.is_empty());
    }
}

//! Deterministic fuzzing of the CIMD2 codec: random, truncated and mutated byte strings (and
//! the kind of stream Kannel's test_cimd2 --spew sends) never panic the decoder or make it
//! buffer past its bound; whatever it accepts encodes and decodes back to the same packet;
//! random typed messages survive to_packet → encode → decode → from_packet.

mod cimd2_support;
mod rng;

use bytes::BytesMut;
use cimd2_support::{wire, PACKETS};
use common::cimd2::*;
use common::cimd2::{op, param};
use rng::XorShift;

const MAX: usize = 2048;

/// stats: [waiting, packets, errors answered, errors not answered, fatal]
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
            Ok(Some(p)) => {
                stats[1] += 1;
                let again = p.encoded().unwrap_or_else(|e| panic!("{p:?}: {e}"));
                assert_eq!(decode_packet(&again).as_ref(), Ok(&p));
                let _ = log_line(common::smpp::Direction::Read, &p);
                let _ = ShortMessage::from_packet(&p);
                let _ = StatusReport::from_packet(&p);
                let _ = Login::from_packet(&p);
            }
            Err(e) => {
                let _ = e.to_string();
                if e.is_fatal() {
                    assert_eq!(buf.len(), before);
                    stats[4] += 1;
                    return;
                }
                assert!(buf.len() < before, "{e}: nothing consumed");
                match e.answer() {
                    Some(a) => {
                        a.encoded().expect("an answer always encodes");
                        stats[2] += 1;
                    }
                    None => stats[3] += 1,
                }
            }
        }
    }
}

/// Recomputes the checksum so a mutated packet reaches the parameter checks.
fn refit(v: &mut [u8]) {
    let n = v.len();
    if n >= 11 && v[0] == STX && v[n - 1] == ETX && v[n - 4] == TAB {
        let cs = checksum(&v[..n - 3]);
        v[n - 3..n - 1].copy_from_slice(format!("{cs:02X}").as_bytes());
    }
}

#[test]
fn no_panic_on_200k_inputs() {
    let mut rng = XorShift(0xA409_3822_299F_31D0);
    let seeds: Vec<Vec<u8>> = PACKETS.iter().map(|(s, _)| wire(s)).collect();
    let mut stats = [0usize; 5];
    for i in 0..200_000 {
        let seed = &seeds[rng.below(seeds.len())];
        let buf: Vec<u8> = match i % 5 {
            // test_cimd2 --spew 1: random octets, any value.
            0 => rng.octets(1021),
            1 => seed[..rng.below(seed.len() + 1)].to_vec(),
            2 => {
                let mut v = seed.clone();
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(v.len());
                    v[at] = rng.next() as u8;
                }
                v
            }
            3 => {
                let mut v = seed.clone();
                for _ in 0..1 + rng.below(3) {
                    let at = 1 + rng.below(v.len() - 4);
                    match rng.below(3) {
                        0 => v[at] = [TAB, b':', b'0', b'9', b'A', b'-'][rng.below(6)],
                        1 => {
                            if v.len() > 12 {
                                v.remove(at);
                            }
                        }
                        _ => v.insert(at, [TAB, b'5', b':'][rng.below(3)]),
                    }
                }
                refit(&mut v);
                v
            }
            _ => {
                let mut v = Vec::new();
                for _ in 0..1 + rng.below(4) {
                    v.extend_from_slice(&seeds[rng.below(seeds.len())]);
                    v.extend(rng.octets(4));
                }
                if rng.chance(4) {
                    v.push(STX);
                    v.extend(std::iter::repeat_n(b'9', rng.below(3 * MAX)));
                }
                v
            }
        };
        drain(BytesMut::from(&buf[..]), &mut stats);
    }
    assert!(stats.iter().all(|&n| n > 1000), "{stats:?}");
}

fn digits(r: &mut XorShift, max: usize) -> String {
    r.digits(max)
}

#[test]
fn random_messages_round_trip() {
    let mut r = XorShift(0x0823_0B4E_6E4E_DC3A);
    for _ in 0..20_000 {
        let text: String = common::gsm::decode_gsm(&r.septets(160));
        let user_data = match r.below(3) {
            0 => None,
            1 => Some(UserData::Text(text)),
            _ => Some(UserData::Binary(r.octets(140))),
        };
        let opt = |r: &mut XorShift, max: usize| (!r.chance(2)).then(|| digits(r, max));
        let time = |r: &mut XorShift| {
            (!r.chance(2))
                .then(|| r.fixed(12))
                .filter(|t| !t.is_empty())
        };
        let m = ShortMessage {
            destinations: (0..r.below(3)).map(|_| digits(&mut r, 20)).collect(),
            originator: opt(&mut r, 20),
            originating_imsi: opt(&mut r, 15),
            alphanumeric_originator: (!r.chance(2)).then(|| r.ira(11)),
            originated_visited_msc: opt(&mut r, 20),
            dcs: r.digit(9).map(|d| d * 25),
            udh: (!r.chance(2)).then(|| r.octets(20)),
            user_data,
            more_messages_to_send: r.flag(),
            validity_relative: r.num(255).map(|v| v as i16),
            validity_absolute: time(&mut r),
            protocol_identifier: r.num(255).map(|v| v as u8),
            first_delivery_relative: r.num(255).map(|v| v as i16),
            first_delivery_absolute: time(&mut r),
            reply_path: r.flag(),
            status_report_request: r.num(63).map(|v| v as u8),
            cancel_enabled: r.flag(),
            scts: time(&mut r),
            tariff_class: r.num(99).map(|v| v as u8),
            service_description: r.num(9).map(|v| v as u8),
            priority: r.num(8).map(|v| v as u8 + 1),
            other: (0..r.below(2))
                .map(|_| Param::new(700 + r.below(99) as u16, r.ira(10)))
                .collect(),
        };
        let ops = [op::SUBMIT, op::DELIVER_MESSAGE];
        let p = m
            .to_packet(ops[r.below(2)], r.below(256) as u8)
            .expect("GSM text encodes");
        let b = p.encoded().unwrap();
        let back = decode(&mut BytesMut::from(&b[..]), 100_000)
            .unwrap_or_else(|e| panic!("{p:?}: {e}"))
            .unwrap();
        assert_eq!(back, p);
        assert_eq!(ShortMessage::from_packet(&back).unwrap(), m);
        assert!(back.get(param::USER_DATA).is_none_or(|v| v.len() <= 480));
    }
}

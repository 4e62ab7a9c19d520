//! Between SMPP's short-message bodies and the gateway's [`Message`]: one place for both
//! SMPP connectors, so incoming submits and MO from an SMSC read the same way, and outgoing
//! submit_sm and deliver_sm write the same way.

use common::concat::{split_encoded, Method};
use common::gsm::{Concat, Udh};
use common::message::{Address, Message, Origin};
use common::smpp::{tlv, DataSm, Sm, SmppAddr, Tlv};
use config::SplitMethod;

pub fn smpp_addr(a: &Address) -> SmppAddr {
    SmppAddr::new(a.ton, a.npi, a.addr.clone())
}

pub fn address(a: &SmppAddr) -> Address {
    Address {
        ton: a.ton,
        npi: a.npi,
        addr: a.addr.clone(),
    }
}

/// A message received as submit_sm or deliver_sm, from `origin`. A part of a long message
/// tied by sar_* TLVs gets the equivalent UDH, so every part looks the same inside.
pub fn message_from_sm(sm: &Sm, origin: Origin) -> Message {
    let mut m = Message {
        source: address(&sm.source),
        dest: address(&sm.dest),
        data_coding: sm.data_coding,
        esm_class: sm.esm_class,
        protocol_id: sm.protocol_id,
        priority: sm.priority_flag,
        body: sm.payload().to_vec(),
        dlr_requested: sm.registered_delivery & 0x03 != 0,
        origin,
        ..Default::default()
    };
    if let Some(c) = sar_concat(sm).filter(|_| m.esm_class & 0x40 == 0) {
        let mut body = Udh::with_concat(c).encode().unwrap_or_default();
        body.extend_from_slice(&m.body);
        m.body = body;
        m.esm_class |= 0x40;
    }
    m
}

/// The concatenation sar_msg_ref_num / sar_total_segments / sar_segment_seqnum describe.
fn sar_concat(sm: &Sm) -> Option<Concat> {
    let num = |tag| tlv::find(&sm.tlvs, tag).and_then(|t| t.as_uint());
    let reference = u16::try_from(num(tlv::SAR_MSG_REF_NUM)?).ok()?;
    Some(Concat {
        reference,
        total: u8::try_from(num(tlv::SAR_TOTAL_SEGMENTS)?).ok()?,
        seq: u8::try_from(num(tlv::SAR_SEGMENT_SEQNUM)?).ok()?,
        wide_ref: reference > 0xFF,
    })
}

/// A message received as data_sm: the text is in message_payload.
pub fn message_from_data_sm(d: &DataSm, origin: Origin) -> Message {
    Message {
        source: address(&d.source),
        dest: address(&d.dest),
        data_coding: d.data_coding,
        esm_class: d.esm_class,
        body: d
            .tlv(tlv::MESSAGE_PAYLOAD)
            .map(|b| b.to_vec())
            .unwrap_or_default(),
        dlr_requested: d.registered_delivery & 0x03 != 0,
        origin,
        ..Default::default()
    }
}

/// The body that carries `m` onwards (long bodies move into message_payload in the encoder).
pub fn sm_from_message(m: &Message) -> Sm {
    Sm {
        source: smpp_addr(&m.source),
        dest: smpp_addr(&m.dest),
        esm_class: m.esm_class,
        protocol_id: m.protocol_id,
        priority_flag: m.priority,
        registered_delivery: u8::from(m.dlr_requested),
        data_coding: m.data_coding,
        short_message: m.body.clone().into(),
        ..Default::default()
    }
}

/// The submit_sm bodies that carry `m`: one when it fits a short message, else its parts tied
/// together as `method` says. A body that already carries a UDH, or a coding we cannot cut on
/// character boundaries, goes as it is (the encoder moves a long one into message_payload).
pub fn parts_of(m: &Message, method: SplitMethod) -> Vec<Sm> {
    let whole = sm_from_message(m);
    if m.esm_class & 0x40 != 0 || method == SplitMethod::Payload {
        return vec![whole];
    }
    let concat_method = match method {
        SplitMethod::Udh16 => Method::Udh16,
        SplitMethod::Sar => Method::Sar,
        _ => Method::Udh8,
    };
    let Ok(parts) = split_encoded(&m.body, m.data_coding, concat_method, concat_reference(m))
    else {
        return vec![whole];
    };
    if parts.len() <= 1 {
        return vec![whole];
    }
    parts
        .into_iter()
        .map(|part| {
            let mut sm = whole.clone();
            sm.esm_class |= part.esm_class_bits();
            if method == SplitMethod::Sar {
                sm.tlvs.push(Tlv::u16(tlv::SAR_MSG_REF_NUM, part.reference));
                sm.tlvs.push(Tlv::u8(tlv::SAR_TOTAL_SEGMENTS, part.total));
                sm.tlvs.push(Tlv::u8(tlv::SAR_SEGMENT_SEQNUM, part.seq));
            }
            sm.short_message = part.body.into();
            sm
        })
        .collect()
}

/// The concatenation reference for `m`'s parts: from its id, never 0, so two long messages
/// in flight to one handset do not share one.
fn concat_reference(m: &Message) -> u16 {
    (m.id % 0xFFFF) as u16 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_survives_the_round_trip_through_a_body() {
        let m = Message {
            source: Address {
                ton: 5,
                npi: 0,
                addr: "emg".into(),
            },
            dest: Address::new("46701234567"),
            data_coding: 8,
            esm_class: 0x40,
            protocol_id: 0x7f,
            priority: 2,
            body: vec![5, 0, 3, 1, 2, 1, 0, 0x41],
            dlr_requested: true,
            origin: Origin {
                connector: "smsc".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let back = message_from_sm(&sm_from_message(&m), m.origin.clone());
        assert_eq!(back, m);
    }

    fn long_text(data_coding: u8, text: &str) -> Message {
        Message {
            id: 77,
            data_coding,
            body: common::gsm::encode_text(data_coding, text).unwrap(),
            ..Default::default()
        }
    }

    #[test]
    fn long_messages_leave_in_parts_as_the_connector_says() {
        let gsm = long_text(0, &"a".repeat(400));
        let ucs2 = long_text(8, &"\u{0436}".repeat(140));
        // (message, method, parts, esm_class, sar TLVs, first part's UDH length)
        let cases: &[(&Message, SplitMethod, usize, u8, bool, usize)] = &[
            (&gsm, SplitMethod::Udh8, 3, 0x40, false, 6),
            (&gsm, SplitMethod::Udh16, 3, 0x40, false, 7),
            (&gsm, SplitMethod::Sar, 3, 0x00, true, 0),
            (&gsm, SplitMethod::Payload, 1, 0x00, false, 0),
            (&ucs2, SplitMethod::Udh8, 3, 0x40, false, 6),
        ];
        for (m, method, n, esm, sar, udh) in cases {
            let parts = parts_of(m, *method);
            assert_eq!(parts.len(), *n, "{method:?}");
            let mut text = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                assert_eq!(p.esm_class, *esm, "{method:?}");
                assert_eq!(tlv::find(&p.tlvs, tlv::SAR_SEGMENT_SEQNUM).is_some(), *sar);
                if *sar {
                    let seq = tlv::find(&p.tlvs, tlv::SAR_SEGMENT_SEQNUM).unwrap();
                    assert_eq!(seq.as_uint(), Some(i as u32 + 1));
                }
                if *udh > 0 {
                    assert_eq!(usize::from(p.short_message[0]) + 1, *udh);
                    // The concatenation element counts the parts and numbers this one.
                    assert_eq!(p.short_message[*udh - 2], *n as u8);
                    assert_eq!(p.short_message[*udh - 1], i as u8 + 1);
                }
                text.extend_from_slice(&p.payload()[*udh..]);
            }
            assert_eq!(text, m.body, "{method:?}: the parts join to the whole");
        }
    }

    #[test]
    fn sar_parts_read_as_udh_parts() {
        let sm = Sm {
            short_message: b"part two".to_vec().into(),
            tlvs: vec![
                Tlv::u16(tlv::SAR_MSG_REF_NUM, 0x1234),
                Tlv::u8(tlv::SAR_TOTAL_SEGMENTS, 3),
                Tlv::u8(tlv::SAR_SEGMENT_SEQNUM, 2),
            ],
            ..Default::default()
        };
        let m = message_from_sm(&sm, Origin::default());
        assert_eq!(m.esm_class, 0x40);
        let c = m.concat().expect("a concatenation element");
        assert_eq!(
            (c.reference, c.total, c.seq, c.wide_ref),
            (0x1234, 3, 2, true)
        );
        assert!(m.body.ends_with(b"part two"));
    }

    #[test]
    fn short_and_udh_bodies_go_as_they_are() {
        let short = long_text(0, "hello");
        assert_eq!(parts_of(&short, SplitMethod::Udh8).len(), 1);
        let mut with_udh = long_text(0, &"x".repeat(200));
        with_udh.data_coding = 4;
        with_udh.esm_class = 0x40;
        assert_eq!(parts_of(&with_udh, SplitMethod::Udh8).len(), 1);
    }
}

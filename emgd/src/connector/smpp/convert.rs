//! Between SMPP's PDUs and the gateway's [`Message`]: one place for both SMPP connectors, so
//! incoming submits and MO from an SMSC read the same way, outgoing submit_sm and deliver_sm
//! write the same way, receipts are read and written here, and a refusal has one SMPP code.

use super::passthrough;
use crate::gateway::Reject;
use crate::plugin::RefusalKind;
use common::concat::{split_encoded, Method};
use common::dlr::{mask, DlrStatus};
use common::gsm::{Concat, Udh};
use common::message::{Address, Message, Origin};
use common::smpp::{relative_time, status, tlv, Body, DataSm, Pdu, Receipt, Sm, SmppAddr, Tlv};
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
        dlr_requested: wants_reports(sm.registered_delivery),
        origin: with_report_mask(origin, sm.registered_delivery),
        tlvs: passthrough::kept(&sm.tlvs),
        sme_ack: sm.registered_delivery & SME_ACK_BITS,
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

/// registered_delivery bits: the SMSC delivery receipt (1 success and failure, 2 failure
/// only, 3 reserved and read as 1) and the intermediate notification (0x10). The SME
/// acknowledgement bits (0x04, 0x08) ask the handset's application, not the network; no
/// report of ours answers them, and they go on to an SMPP next hop as they came.
const RECEIPT_BITS: u8 = 0x03;
const SME_ACK_BITS: u8 = 0x0C;
const INTERMEDIATE_BIT: u8 = 0x10;

/// Whether a registered_delivery asks for any report of ours.
pub fn wants_reports(registered_delivery: u8) -> bool {
    registered_delivery & (RECEIPT_BITS | INTERMEDIATE_BIT) != 0
}

/// `origin` with the reports a registered_delivery asks for, as a report mask.
pub fn with_report_mask(mut origin: Origin, registered_delivery: u8) -> Origin {
    origin.callback_mask = report_mask(registered_delivery);
    origin
}

/// The report mask (`common::dlr::mask`) of a registered_delivery.
pub fn report_mask(registered_delivery: u8) -> u8 {
    let finals = match registered_delivery & RECEIPT_BITS {
        0 => 0,
        2 => mask::FAILED | mask::REJECTED,
        _ => mask::FINAL,
    };
    let intermediate = if registered_delivery & INTERMEDIATE_BIT != 0 {
        mask::BUFFERED
    } else {
        0
    };
    finals | intermediate
}

/// registered_delivery of a submit_sm to the next hop: a receipt whenever the sender wants
/// one (we need the final state to finish the message, even when only failures are passed
/// on), and intermediate notifications when the sender asked for them.
fn registered_delivery(m: &Message) -> u8 {
    let sme_ack = m.sme_ack & SME_ACK_BITS;
    if !m.dlr_requested {
        return sme_ack;
    }
    let intermediate = m.origin.callback_mask & mask::BUFFERED != 0;
    1 | sme_ack | if intermediate { INTERMEDIATE_BIT } else { 0 }
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
        dlr_requested: wants_reports(d.registered_delivery),
        origin: with_report_mask(origin, d.registered_delivery),
        tlvs: passthrough::kept(&d.tlvs),
        sme_ack: d.registered_delivery & SME_ACK_BITS,
        ..Default::default()
    }
}

/// When a data_sm's message expires: its qos_time_to_live (seconds, data_sm's stand-in for
/// validity_period) after `now_us`; `None` without one.
pub fn data_sm_expiry(d: &DataSm, now_us: i64) -> Option<i64> {
    let ttl = tlv::find(&d.tlvs, tlv::QOS_TIME_TO_LIVE)?.as_uint()?;
    Some(now_us.saturating_add(i64::from(ttl).saturating_mul(1_000_000)))
}

/// The body that carries `m` onwards (long bodies move into message_payload in the encoder).
pub fn sm_from_message(m: &Message) -> Sm {
    Sm {
        source: smpp_addr(&m.source),
        dest: smpp_addr(&m.dest),
        esm_class: m.esm_class,
        protocol_id: m.protocol_id,
        priority_flag: m.priority,
        registered_delivery: registered_delivery(m),
        data_coding: m.data_coding,
        short_message: m.body.clone().into(),
        tlvs: passthrough::to_send(&m.tlvs).collect(),
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

/// The validity_period of a submit_sm leaving at `now_us` for a message that expires at
/// `expires_us`: empty (the SMSC's default) for one without a validity, else what is left of
/// it as a relative time. Relative rather than absolute, so a clock that differs between us
/// and the SMSC moves nothing, and no time zone is involved. Whole seconds, rounded down, so
/// the SMSC never keeps it longer than the client asked; at least one, as a relative 0 can
/// read as "no validity". An expired message fails in the outbox before it gets here; one
/// that ran out while its part waited for the window goes with that one second.
pub fn validity_period(expires_us: Option<i64>, now_us: i64) -> String {
    let Some(expires_us) = expires_us else {
        return String::new();
    };
    let left = (expires_us.saturating_sub(now_us) / 1_000_000).max(1);
    relative_time(left as u64)
}

/// The concatenation reference for `m`'s parts: from its id, never 0, so two long messages
/// in flight to one handset do not share one.
fn concat_reference(m: &Message) -> u16 {
    (m.id % 0xFFFF) as u16 + 1
}

/// The command_status of a submit refused because the account's balance does not cover its
/// price: from the vendor-specific range (SMPP 3.4 has no code for it), documented in
/// emg.toml(5). Permanent until an operator tops the balance up.
pub const ESME_RNOBALANCE: u32 = 0x0000_0401;

/// Each refusal in the SMPP code a client expects: permanent for no route, temporary
/// (ESME_RMSGQFUL, "try again later") for full queues and a store that cannot commit (disk
/// full, read-only data directory); a plugin's by the kind it gave.
pub fn reject_status(reject: &Reject) -> u32 {
    match reject {
        Reject::NoRoute(_) => status::ESME_RINVDSTADR,
        Reject::QueueFull(_) | Reject::Store(_) => status::ESME_RMSGQFUL,
        Reject::ShuttingDown | Reject::Removed(_) => status::ESME_RSYSERR,
        Reject::NotReceiving(_) => status::ESME_RSUBMITFAIL,
        Reject::NoBalance(_) => ESME_RNOBALANCE,
        Reject::Refused(r) if r.field == config::AddressField::Source => status::ESME_RINVSRCADR,
        Reject::Refused(_) => status::ESME_RINVDSTADR,
        Reject::Plugin(r) => match r.kind {
            RefusalKind::Refused => status::ESME_RSUBMITFAIL,
            RefusalKind::Source => status::ESME_RINVSRCADR,
            RefusalKind::Destination => status::ESME_RINVDSTADR,
            RefusalKind::Throttled => status::ESME_RTHROTTLED,
            RefusalKind::Temporary => status::ESME_RSYSERR,
        },
    }
}

/// YYMMDDhhmm in local time, as receipts carry dates.
fn receipt_date(us: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_micros(us)
        .single()
        .map(|t| t.format("%y%m%d%H%M").to_string())
        .unwrap_or_else(|| "0000000000".into())
}

/// deliver_sm for a queued message: a delivery receipt (esm_class 0x04, receipt text,
/// receipted_message_id and message_state TLVs) or an MO message as it arrived.
pub fn deliver_body(m: &Message, v34: bool) -> Sm {
    let mut sm = Sm {
        // Only the receipt's text tells what happened: no receipt is asked of the client.
        registered_delivery: 0,
        ..sm_from_message(m)
    };
    if !v34 {
        // An SMPP 3.3 client takes no TLVs.
        sm.tlvs.clear();
    }
    if let Some(d) = &m.dlr {
        let receipt = Receipt {
            id: d.reported_id.clone(),
            sub: 1,
            dlvrd: u32::from(d.status == common::dlr::DlrStatus::Delivered),
            submit_date: receipt_date(d.submit_us),
            done_date: receipt_date(d.done_us),
            stat: d.status,
            err: format!("{:03}", d.error.min(999)),
            text: d.text.clone(),
        };
        sm.esm_class = 0x04;
        sm.data_coding = 0;
        sm.short_message = receipt.to_text().into_bytes().into();
        if v34 {
            sm.tlvs
                .push(Tlv::cstr(tlv::RECEIPTED_MESSAGE_ID, &d.reported_id));
            sm.tlvs
                .push(Tlv::u8(tlv::MESSAGE_STATE, d.status.message_state()));
            if d.error != 0 {
                let e = d.error.min(0xFFFF) as u16;
                sm.tlvs.push(Tlv::new(
                    tlv::NETWORK_ERROR_CODE,
                    vec![3, (e >> 8) as u8, e as u8],
                ));
            }
        }
    }
    sm
}

pub trait WithStatus {
    fn response_with(self, status: u32) -> Pdu;
}

impl WithStatus for Pdu {
    /// The same response with another status (an error response carries no body).
    fn response_with(mut self, code: u32) -> Pdu {
        self.status = code;
        if code != status::ESME_ROK {
            self.body = Body::Empty;
        }
        self
    }
}

/// A data_sm from the SMSC read as the deliver_sm it stands for (text in message_payload).
pub fn sm_of_data_sm(d: &DataSm) -> Sm {
    Sm {
        service_type: d.service_type.clone(),
        source: d.source.clone(),
        dest: d.dest.clone(),
        esm_class: d.esm_class,
        registered_delivery: d.registered_delivery,
        data_coding: d.data_coding,
        tlvs: d.tlvs.clone(),
        ..Default::default()
    }
}

pub fn parse_receipt(sm: &Sm) -> Option<(String, DlrStatus, u32)> {
    let text = Receipt::parse(sm.payload());
    let id = tlv::find(&sm.tlvs, tlv::RECEIPTED_MESSAGE_ID)
        .map(|t| t.as_str())
        .filter(|s| !s.trim().is_empty())
        .or_else(|| text.as_ref().map(|r| r.id.clone()))?;
    let state = tlv::find(&sm.tlvs, tlv::MESSAGE_STATE)
        .and_then(|t| t.as_uint())
        .and_then(from_message_state)
        .or_else(|| text.as_ref().map(|r| r.stat))
        .unwrap_or(DlrStatus::Unknown);
    let error = sm
        .tlv(tlv::NETWORK_ERROR_CODE)
        .filter(|v| v.len() == 3)
        .map(|v| u32::from(u16::from_be_bytes([v[1], v[2]])))
        .or_else(|| text.as_ref().and_then(|r| r.err.parse().ok()))
        .unwrap_or(0);
    Some((id, state, error))
}

/// SMPP message_state (3.4 §5.2.28) to a receipt state.
fn from_message_state(v: u32) -> Option<DlrStatus> {
    DlrStatus::ALL
        .into_iter()
        .find(|s| u32::from(s.message_state()) == v)
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
                // registered_delivery 1: every final report.
                callback_mask: mask::FINAL,
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

    fn receipt(text: &str, tlvs: Vec<Tlv>) -> Sm {
        Sm {
            esm_class: 0x04,
            short_message: text.as_bytes().to_vec().into(),
            tlvs,
            ..Default::default()
        }
    }

    const TEXT: &str = "id:0000A1B2 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:UNDELIV err:042 text:hello";

    #[test]
    fn the_validity_left_goes_on_as_a_relative_time() {
        const NOW: i64 = 1_795_435_200_000_000;
        let cases: &[(Option<i64>, &str)] = &[
            (None, ""),
            (Some(NOW + 3_600_000_000), "000000010000000R"),
            // Rounded down: the SMSC never keeps it longer than asked.
            (Some(NOW + 89_999_999), "000000000129000R"),
            (Some(NOW + 2 * 86_400_000_000), "000002000000000R"),
            // Ran out while waiting for the window: the least there is.
            (Some(NOW + 500_000), "000000000001000R"),
            (Some(NOW - 5_000_000), "000000000001000R"),
        ];
        for (expires, want) in cases {
            assert_eq!(validity_period(*expires, NOW), *want, "{expires:?}");
        }
    }

    #[test]
    fn receipt_tlvs_are_preferred() {
        let sm = receipt(
            TEXT,
            vec![
                Tlv::cstr(tlv::RECEIPTED_MESSAGE_ID, "a1b2"),
                Tlv::u8(tlv::MESSAGE_STATE, 2),
                Tlv::new(tlv::NETWORK_ERROR_CODE, vec![3, 0, 7]),
            ],
        );
        assert_eq!(
            parse_receipt(&sm).unwrap(),
            ("a1b2".into(), DlrStatus::Delivered, 7)
        );
    }

    #[test]
    fn receipt_text_alone_is_enough() {
        let sm = receipt(TEXT, vec![]);
        assert_eq!(
            parse_receipt(&sm).unwrap(),
            ("0000A1B2".into(), DlrStatus::Undeliverable, 42)
        );
        assert!(parse_receipt(&receipt("hello", vec![])).is_none());
    }

    #[test]
    fn every_message_state_maps() {
        for s in DlrStatus::ALL {
            assert_eq!(from_message_state(u32::from(s.message_state())), Some(s));
        }
        assert_eq!(from_message_state(0), None);
    }

    #[test]
    fn registered_delivery_maps_onto_report_masks() {
        use common::dlr::mask::{wants, BUFFERED, FINAL};
        let cases: &[(u8, bool, u8)] = &[
            (0x00, false, 0),
            (0x01, true, FINAL),
            (0x02, true, 2 | 16),
            (0x03, true, FINAL),
            (0x11, true, FINAL | BUFFERED),
            (0x10, true, BUFFERED),
            // SME acknowledgements only: no report of ours.
            (0x0c, false, 0),
        ];
        for (rd, wanted, mask) in cases {
            assert_eq!(wants_reports(*rd), *wanted, "{rd:#x}");
            assert_eq!(report_mask(*rd), *mask, "{rd:#x}");
        }
        assert!(!wants(report_mask(2), DlrStatus::Delivered));
        assert!(wants(report_mask(2), DlrStatus::Undeliverable));
        assert!(wants(report_mask(2), DlrStatus::Rejected));
        assert!(!wants(report_mask(1), DlrStatus::Enroute));
        assert!(wants(report_mask(0x11), DlrStatus::Accepted));
    }

    #[test]
    fn the_next_hop_is_asked_for_a_receipt_and_the_intermediate_ones_passed_on() {
        let sent = |rd: u8| {
            let m = Message {
                dlr_requested: wants_reports(rd),
                origin: with_report_mask(Origin::default(), rd),
                ..Default::default()
            };
            sm_from_message(&m).registered_delivery
        };
        assert_eq!(sent(0), 0);
        assert_eq!(sent(1), 1);
        assert_eq!(
            sent(2),
            1,
            "the final state is needed even when only failures go back"
        );
        assert_eq!(sent(0x11), 0x11);
    }
}

//! Between CIMD2's message packets and the gateway's [`Message`], for both CIMD2 connectors:
//! submits (03) and deliveries (20) written and read, status reports (23) both ways, the
//! message identity `destination:SCTS`, and the error code a refusal is answered with.
//!
//! The body of a [`Message`] is what SMPP would carry; CIMD2 splits it: the UDH goes into
//! parameter 032, GSM text into user data (033, in CIMD2's own alphabet), anything else
//! (UCS-2, 8-bit data) into user data binary (034), with the data coding in 030.

use crate::gateway::Reject;
use chrono::{Local, NaiveDate, TimeZone};
use common::cimd2::status::{code, error, report};
use common::cimd2::{ShortMessage, StatusReport, UserData};
use common::concat::{split_encoded, Method};
use common::dlr::DlrStatus;
use common::gsm::{Coding, Udh};
use common::message::{Address, Message, MessageId, Origin};
use config::SplitMethod;

/// Data coding, UDH and user data of `body`.
fn fill_user_data(data_coding: u8, esm_class: u8, body: &[u8], sm: &mut ShortMessage) {
    let (udh, payload) = match Udh::parse(body) {
        Ok((_, n)) if esm_class & 0x40 != 0 => (Some(body[..n].to_vec()), &body[n..]),
        _ => (None, body),
    };
    sm.udh = udh;
    let gsm = matches!(Coding::from_data_coding(data_coding), Some(Coding::Gsm7));
    sm.user_data = Some(if gsm {
        UserData::Text(common::gsm::decode_gsm(payload))
    } else {
        UserData::Binary(payload.to_vec())
    });
    sm.dcs = (data_coding != 0).then_some(data_coding);
}

fn set_originator(source: &Address, sm: &mut ShortMessage) {
    let digits =
        !source.addr.is_empty() && source.addr.bytes().all(|b| b.is_ascii_digit() || b == b'+');
    if source.ton == 5 || !digits {
        sm.alphanumeric_originator = (!source.addr.is_empty()).then(|| source.addr.clone());
    } else {
        sm.originator = Some(source.addr.clone());
    }
}

/// The submits (03) that carry `m`: one when it fits a short message, else its parts tied by
/// a UDH concatenation element with an 8- or 16-bit reference as `split` says.
pub fn submits(m: &Message, method: SplitMethod) -> Vec<ShortMessage> {
    let concat = match method {
        SplitMethod::Udh16 => Method::Udh16,
        _ => Method::Udh8,
    };
    let whole = || vec![(m.esm_class, m.body.clone())];
    let bodies = if m.esm_class & 0x40 != 0 {
        whole()
    } else {
        let reference = (m.id % 0xFFFF) as u16 + 1;
        match split_encoded(&m.body, m.data_coding, concat, reference) {
            Ok(parts) if parts.len() > 1 => parts
                .into_iter()
                .map(|p| (m.esm_class | p.esm_class_bits(), p.body))
                .collect(),
            _ => whole(),
        }
    };
    bodies
        .into_iter()
        .map(|(esm_class, body)| {
            let mut sm = ShortMessage {
                destinations: vec![m.dest.addr.clone()],
                status_report_request: m.dlr_requested.then_some(report::FINAL),
                protocol_identifier: (m.protocol_id != 0).then_some(m.protocol_id),
                validity_absolute: m.expires_us.map(cimd_time),
                ..ShortMessage::default()
            };
            set_originator(&m.source, &mut sm);
            fill_user_data(m.data_coding, esm_class, &body, &mut sm);
            sm
        })
        .collect()
}

/// A message received as submit (03, from a client) or deliver message (20, from an SMSC).
pub fn message_from(sm: &ShortMessage, origin: Origin) -> Message {
    let source = match (&sm.alphanumeric_originator, &sm.originator) {
        (Some(a), _) => Address {
            ton: 5,
            npi: 0,
            addr: a.clone(),
        },
        (None, Some(o)) => Address::new(o.clone()),
        (None, None) => Address::new(""),
    };
    let (data_coding, mut body) = match &sm.user_data {
        Some(UserData::Text(t)) => {
            let dc = sm
                .dcs
                .filter(|&d| matches!(Coding::from_data_coding(d), Some(Coding::Gsm7)))
                .unwrap_or(0);
            match common::gsm::encode_gsm(t) {
                Ok(septets) => (dc, septets),
                Err(_) => (8, common::gsm::encode_text(8, t).unwrap_or_default()),
            }
        }
        Some(UserData::Binary(b)) => (sm.dcs.unwrap_or(4), b.clone()),
        None => (sm.dcs.unwrap_or(0), Vec::new()),
    };
    let mut esm_class = 0;
    if let Some(udh) = &sm.udh {
        let mut with_udh = udh.clone();
        with_udh.append(&mut body);
        body = with_udh;
        esm_class = 0x40;
    }
    let wants = report::DELIVERY_SUCCESSFUL | report::DELIVERY_FAILED;
    Message {
        source,
        dest: Address::new(sm.destinations.first().cloned().unwrap_or_default()),
        data_coding,
        esm_class,
        protocol_id: sm.protocol_identifier.unwrap_or(0),
        priority: u8::from(sm.priority.is_some_and(|p| p < 5)),
        body,
        dlr_requested: sm.status_report_request.is_some_and(|r| r & wants != 0),
        expires_us: sm.validity_absolute.as_deref().and_then(parse_cimd_time),
        origin,
        ..Default::default()
    }
}

/// What a status report (23) from an SMSC says: the identity the submit's response gave
/// (`destination:SCTS`), the state and the error.
pub fn receipt_of(r: &StatusReport) -> (String, DlrStatus, u32) {
    let status = match r.status_code {
        code::DELIVERY_SUCCESSFUL => DlrStatus::Delivered,
        code::VALIDITY_PERIOD_EXPIRED => DlrStatus::Expired,
        code::MESSAGE_CANCELLED | code::MESSAGE_DELETED | code::MESSAGE_DELETED_BY_CANCEL => {
            DlrStatus::Deleted
        }
        code::DELIVERY_FAILED | code::LAST_NO_RESPONSE => DlrStatus::Undeliverable,
        code::IN_PROCESS | code::NO_RESPONSE => DlrStatus::Enroute,
        _ => DlrStatus::Unknown,
    };
    (
        identity(&r.destination, &r.scts),
        status,
        u32::from(r.status_error_code.unwrap_or(0)),
    )
}

/// How a message is named in receipts: its destination and SCTS.
pub fn identity(destination: &str, scts: &str) -> String {
    format!("{destination}:{scts}")
}

/// The SCTS (yymmddhhmmss) we give message `id`: unique to it (one second per id from
/// 2000-01-01, wrapping after 70 years of seconds), since clients such as Kannel know a
/// message by (destination, SCTS) and match its status report by them.
pub fn scts_of(id: MessageId) -> String {
    const SPAN: u64 = 70 * 365 * 86_400;
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date");
    (epoch + chrono::Duration::seconds((id % SPAN) as i64))
        .format("%y%m%d%H%M%S")
        .to_string()
}

/// A CIMD2 time (yymmddhhmmss) in local time.
pub fn cimd_time(us: i64) -> String {
    Local
        .timestamp_micros(us)
        .single()
        .map(|t| t.format("%y%m%d%H%M%S").to_string())
        .unwrap_or_default()
}

fn parse_cimd_time(t: &str) -> Option<i64> {
    let naive = chrono::NaiveDateTime::parse_from_str(t, "%y%m%d%H%M%S").ok()?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_micros())
}

/// What goes to a client: a status report for a receipt, else the MO message.
pub enum Delivery {
    Message(ShortMessage),
    Report(StatusReport),
}

/// The packet body that takes a queued message to a client.
pub fn delivery_of(m: &Message) -> Delivery {
    let Some(d) = &m.dlr else {
        let mut sm = ShortMessage {
            destinations: vec![m.dest.addr.clone()],
            protocol_identifier: (m.protocol_id != 0).then_some(m.protocol_id),
            scts: Some(scts_of(m.id)),
            ..ShortMessage::default()
        };
        set_originator(&m.source, &mut sm);
        fill_user_data(m.data_coding, m.esm_class, &m.body, &mut sm);
        return Delivery::Message(sm);
    };
    let status_code = match d.status {
        DlrStatus::Delivered => code::DELIVERY_SUCCESSFUL,
        DlrStatus::Expired => code::VALIDITY_PERIOD_EXPIRED,
        DlrStatus::Deleted => code::MESSAGE_DELETED,
        s if !s.is_final() => code::IN_PROCESS,
        _ => code::DELIVERY_FAILED,
    };
    // The report goes from the original's recipient to its originator.
    Delivery::Report(StatusReport {
        destination: m.source.addr.clone(),
        originator: Some(m.dest.addr.clone()).filter(|o| is_address(o)),
        scts: scts_of(d.message_id),
        status_code,
        status_error_code: (d.error != 0).then_some(d.error.min(999) as u16),
        discharge_time: Some(cimd_time(d.done_us)),
        other: Vec::new(),
    })
}

/// Whether `s` can travel in an address parameter (digits and `+`).
fn is_address(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'+')
}

/// The error code that answers a refused submit or delivery: a bad destination, temporary
/// congestion when the gateway cannot take it now, else "requested operation failed".
pub fn reject_code(reject: &Reject) -> u16 {
    match reject {
        Reject::NoRoute(_) => error::INCORRECT_DESTINATION_ADDRESS,
        Reject::Refused(r) if r.field == config::AddressField::Dest => {
            error::INCORRECT_DESTINATION_ADDRESS
        }
        Reject::Refused(_) => error::ORIGINATOR_ADDRESS_USAGE,
        r if r.is_temporary() => error::TEMPORARY_CONGESTION,
        _ => error::REQUESTED_OPERATION_FAILED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::cimd2::{decode_packet, op};

    #[test]
    fn gsm_text_travels_as_cimd2_user_data_and_back() {
        let m = Message {
            source: Address::new("46700000"),
            dest: Address::new("46701234567"),
            body: common::gsm::encode_gsm("hello @ {world} äö").unwrap(),
            dlr_requested: true,
            ..Default::default()
        };
        let subs = submits(&m, SplitMethod::Udh8);
        assert_eq!(subs.len(), 1);
        let packet = subs[0].to_packet(op::SUBMIT, 1).unwrap();
        let wire = packet.encoded().unwrap();
        let back = ShortMessage::from_packet(&decode_packet(&wire).unwrap()).unwrap();
        let msg = message_from(&back, Origin::default());
        assert_eq!((msg.source, msg.dest), (m.source, m.dest));
        assert_eq!(msg.body, m.body);
        assert!(msg.dlr_requested);
    }

    #[test]
    fn long_messages_go_in_parts_with_their_udh_in_032() {
        let m = Message {
            id: 9,
            source: Address {
                ton: 5,
                npi: 0,
                addr: "EMG".into(),
            },
            dest: Address::new("4670111"),
            data_coding: 8,
            body: common::gsm::encode_text(8, &"\u{0436}".repeat(100)).unwrap(),
            ..Default::default()
        };
        let subs = submits(&m, SplitMethod::Udh8);
        assert_eq!(subs.len(), 2);
        let mut joined = Vec::new();
        for sm in &subs {
            assert_eq!(sm.alphanumeric_originator.as_deref(), Some("EMG"));
            assert!(sm.udh.is_some());
            let back = message_from(sm, Origin::default());
            assert_eq!((back.data_coding, back.esm_class), (8, 0x40));
            joined.extend_from_slice(&back.body[sm.udh.as_ref().unwrap().len()..]);
        }
        assert_eq!(joined, m.body);
    }

    #[test]
    fn a_report_reads_back_as_the_receipt_it_carries() {
        let m = Message {
            source: Address::new("46701234567"),
            dest: Address::new("4242"),
            dlr: Some(common::message::DlrInfo {
                message_id: 77,
                reported_id: "77".into(),
                status: DlrStatus::Delivered,
                error: 0,
                submit_us: 0,
                done_us: 1_700_000_000_000_000,
                text: String::new(),
            }),
            ..Default::default()
        };
        let Delivery::Report(r) = delivery_of(&m) else {
            panic!("a report")
        };
        let wire = r.to_packet(2).encoded().unwrap();
        let back = StatusReport::from_packet(&decode_packet(&wire).unwrap()).unwrap();
        assert_eq!(
            receipt_of(&back),
            (
                format!("46701234567:{}", scts_of(77)),
                DlrStatus::Delivered,
                0
            )
        );
        assert_eq!(scts_of(0), "000101000000");
    }
}

//! Between UCP's 5x operations and the gateway's [`Message`], for both UCP connectors: submits
//! (51) written and read, MO messages (52) and delivery notifications (53) both ways, the
//! message identity `AdC:SCTS`, and the EC a refusal is answered with.
//!
//! The body of a [`Message`] is what SMPP would carry; UCP splits it: the UDH goes into XSer
//! (type 01), GSM text (unpacked septets) into AMsg (MT 3), anything else (UCS-2, 8-bit data)
//! into TMsg (MT 4) with its data coding in XSer (type 02).

use crate::gateway::Reject;
use chrono::{Local, NaiveDate, TimeZone};
use common::concat::{split_encoded, Method};
use common::dlr::DlrStatus;
use common::gsm::{Coding, Udh};
use common::message::{Address, Message, MessageId, Origin};
use common::ucp::ops::{OTOA_ALPHANUMERIC, OTOA_INTERNATIONAL};
use common::ucp::{xser, Content, ErrorCode, Sm};
use config::SplitMethod;

/// NPID of notifications to an application over TCP/IP.
const NPID_TCP_APPLICATION: u16 = 539;

/// Whether `addr` can only be an alphanumeric originator (OTOA 5039).
fn is_alphanumeric(a: &Address) -> bool {
    a.ton == 5 || !a.addr.bytes().all(|b| b.is_ascii_digit())
}

/// The UDH (UDHL included) and the rest, when the body starts with one.
fn split_udh(esm_class: u8, body: &[u8]) -> (Option<&[u8]>, &[u8]) {
    if esm_class & 0x40 == 0 {
        return (None, body);
    }
    match Udh::parse(body) {
        Ok((_, n)) => (Some(&body[..n]), &body[n..]),
        Err(_) => (None, body),
    }
}

/// MT and message, and XSer, for `body` in `data_coding`.
fn content_of(data_coding: u8, esm_class: u8, body: &[u8], sm: &mut Sm) {
    let (udh, payload) = split_udh(esm_class, body);
    let text = |dc| common::gsm::decode_text(dc, payload).ok();
    sm.content = match Coding::from_data_coding(data_coding) {
        Some(Coding::Gsm7) => Content::Alphanumeric(payload.to_vec()),
        // IA5 and Latin-1 travel as GSM text when they fit.
        Some(Coding::Ia5 | Coding::Latin1) => {
            match text(data_coding).and_then(|t| common::gsm::encode_gsm(&t).ok()) {
                Some(septets) => Content::Alphanumeric(septets),
                None => {
                    sm.xser.set(xser::DCS, vec![data_coding]);
                    Content::binary(payload.to_vec())
                }
            }
        }
        _ => {
            sm.xser.set(xser::DCS, vec![data_coding]);
            Content::binary(payload.to_vec())
        }
    };
    if let Some(udh) = udh {
        sm.xser.set(xser::UDH, udh.to_vec());
    }
}

/// OAdC and OTOA for an originator.
fn set_originator(source: &Address, sm: &mut Sm) {
    if is_alphanumeric(source) && sm.set_alphanumeric_originator(&source.addr).is_ok() {
        return;
    }
    sm.oadc = source.addr.clone();
    if source.ton == 1 {
        sm.otoa = OTOA_INTERNATIONAL.into();
    }
}

/// The 51 operations that carry `m`: one when it fits a short message, else its parts tied by
/// a UDH concatenation element with an 8- or 16-bit reference as `split` says (SAR and
/// payload have no UCP form: the configuration check refuses them).
pub fn submits(m: &Message, method: SplitMethod) -> Vec<Sm> {
    let concat = match method {
        SplitMethod::Udh16 => Method::Udh16,
        _ => Method::Udh8,
    };
    let bodies: Vec<(u8, Vec<u8>)> = if m.esm_class & 0x40 != 0 {
        vec![(m.esm_class, m.body.clone())]
    } else {
        let reference = (m.id % 0xFFFF) as u16 + 1;
        match split_encoded(&m.body, m.data_coding, concat, reference) {
            Ok(parts) if parts.len() > 1 => parts
                .into_iter()
                .map(|p| (m.esm_class | p.esm_class_bits(), p.body))
                .collect(),
            _ => vec![(m.esm_class, m.body.clone())],
        }
    };
    bodies
        .into_iter()
        .map(|(esm_class, body)| {
            let mut sm = Sm {
                adc: m.dest.addr.clone(),
                nrq: m.dlr_requested.then_some(true),
                // Delivered and not delivered: the final states.
                nt: m.dlr_requested.then_some(3),
                npid: m.dlr_requested.then_some(NPID_TCP_APPLICATION),
                vp: m
                    .expires_us
                    .map(|us| ucp_time(us, false))
                    .unwrap_or_default(),
                rpid: (m.protocol_id != 0).then_some(u16::from(m.protocol_id)),
                pr: (m.priority > 0).then_some(true),
                ..Sm::default()
            };
            set_originator(&m.source, &mut sm);
            content_of(m.data_coding, esm_class, &body, &mut sm);
            sm
        })
        .collect()
}

/// A message received as 51 (from a client) or 52 (from an SMSC), from `origin`.
pub fn message_from_sm(sm: &Sm, origin: Origin) -> Message {
    let source = if sm.otoa == OTOA_ALPHANUMERIC {
        Address {
            ton: 5,
            npi: 0,
            addr: sm.originator(),
        }
    } else {
        let international = sm.otoa == OTOA_INTERNATIONAL || sm.otoa.is_empty();
        Address {
            ton: if international { 1 } else { 0 },
            npi: 1,
            addr: sm.oadc.clone(),
        }
    };
    let dcs = sm.xser.dcs();
    let (data_coding, mut body) = match &sm.content {
        Content::None => (0, Vec::new()),
        Content::Numeric(digits) => (0, digits.as_bytes().to_vec()),
        Content::Alphanumeric(septets) => (0, septets.clone()),
        Content::Transparent { data, .. } => {
            // 8-bit data unless the data coding says UCS-2 (or another non-GSM alphabet).
            let dc = dcs
                .filter(|&d| !matches!(Coding::from_data_coding(d), Some(Coding::Gsm7)))
                .unwrap_or(4);
            (dc, data.clone())
        }
    };
    let mut esm_class = 0;
    if let Some(udh) = sm.xser.udh() {
        let mut with_udh = udh.to_vec();
        with_udh.append(&mut body);
        body = with_udh;
        esm_class = 0x40;
    }
    Message {
        source,
        dest: Address::new(sm.adc.clone()),
        data_coding,
        esm_class,
        protocol_id: sm.rpid.and_then(|p| u8::try_from(p).ok()).unwrap_or(0),
        priority: u8::from(sm.pr == Some(true)),
        body,
        dlr_requested: sm.nrq == Some(true) && sm.nt != Some(0),
        expires_us: parse_ucp_time(&sm.vp),
        origin,
        ..Default::default()
    }
}

/// What a delivery notification (53) from an SMSC says: the message's identity as the 51's
/// result gave it (`AdC:SCTS`, the AdC being the notification's OAdC), its state and reason.
pub fn receipt_of(sm: &Sm) -> (String, DlrStatus, u32) {
    let status = match sm.dst {
        Some(0) => DlrStatus::Delivered,
        Some(1) => DlrStatus::Enroute,
        Some(2) => DlrStatus::Undeliverable,
        _ => DlrStatus::Unknown,
    };
    (
        format!("{}:{}", sm.oadc, sm.scts),
        status,
        u32::from(sm.rsn.unwrap_or(0)),
    )
}

/// The remote id in a 51's positive result: its SM, `AdC:SCTS`.
pub fn submitted_id(sm: &str) -> Option<String> {
    let id = sm.trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// The SCTS we give message `id`: a time stamp unique to it (one second per id from
/// 2000-01-01, wrapping after 70 years of seconds), since clients such as Kannel know a
/// message by (recipient, SCTS) and match its notification by them.
pub fn scts_of(id: MessageId) -> String {
    const SPAN: u64 = 70 * 365 * 86_400;
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date");
    (epoch + chrono::Duration::seconds((id % SPAN) as i64))
        .format("%d%m%y%H%M%S")
        .to_string()
}

/// A UCP time stamp in local time: DDMMYYhhmmss, or DDMMYYHHmm without seconds.
pub fn ucp_time(us: i64, seconds: bool) -> String {
    let format = if seconds {
        "%d%m%y%H%M%S"
    } else {
        "%d%m%y%H%M"
    };
    Local
        .timestamp_micros(us)
        .single()
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

/// A DDMMYYHHmm time stamp in local time, as Unix microseconds.
fn parse_ucp_time(t: &str) -> Option<i64> {
    let naive = chrono::NaiveDateTime::parse_from_str(&format!("{t}00"), "%d%m%y%H%M%S").ok()?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_micros())
}

/// The operation that takes a queued message to a client: a delivery notification (53) for a
/// receipt, else the MO message itself (52).
pub fn delivery_of(m: &Message) -> (u8, Sm) {
    let Some(d) = &m.dlr else {
        let mut sm = Sm {
            adc: m.dest.addr.clone(),
            scts: scts_of(m.id),
            rpid: (m.protocol_id != 0).then_some(u16::from(m.protocol_id)),
            ..Sm::default()
        };
        set_originator(&m.source, &mut sm);
        content_of(m.data_coding, m.esm_class, &m.body, &mut sm);
        return (52, sm);
    };
    let (dst, words) = match d.status {
        DlrStatus::Delivered => (0, "delivered"),
        s if !s.is_final() => (1, "buffered"),
        _ => (2, "not delivered"),
    };
    // The report goes from the original's recipient to its originator.
    let (recipient, originator) = (&m.source.addr, &m.dest.addr);
    let id = scts_of(d.message_id);
    // The spec's sentence names the message by its SCTS written YYMMDDhhmmss.
    let ident = format!("{}{}{}{}", &id[4..6], &id[2..4], &id[0..2], &id[6..]);
    let text = format!("Message for {recipient}, with identification {ident} has been {words}");
    let sm = Sm {
        adc: originator.clone(),
        oadc: recipient.clone(),
        scts: id,
        dst: Some(dst),
        rsn: Some(d.error.min(999) as u16),
        dscts: ucp_time(d.done_us, true),
        content: Content::from_text(&text).unwrap_or(Content::None),
        ..Sm::default()
    };
    (53, sm)
}

/// The EC that answers a refused 51: AdC invalid for a destination we cannot route or take,
/// "operation not allowed" for everything else; the reason travels in SM.
pub fn reject_ec(reject: &Reject) -> ErrorCode {
    match reject {
        Reject::NoRoute(_) => ErrorCode::ADC_INVALID,
        Reject::Refused(r) if r.field == config::AddressField::Dest => ErrorCode::ADC_INVALID,
        _ => ErrorCode::OPERATION_NOT_ALLOWED,
    }
}

/// Text for an SM field: printable ASCII without the separator, at most 64 characters.
pub fn sm_text(s: impl std::fmt::Display) -> String {
    s.to_string()
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '/' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::ucp::{Body, Frame};

    fn encodes(sm: &Sm, ot: u8) {
        let f = Frame {
            trn: 1,
            ot,
            body: Body::Sm(Box::new(sm.clone())),
        };
        let bytes = f.to_bytes().expect("encodes");
        assert_eq!(common::ucp::decode_frame(&bytes).unwrap(), f);
    }

    #[test]
    fn a_short_gsm_message_is_one_alphanumeric_submit() {
        let m = Message {
            source: Address {
                ton: 5,
                npi: 0,
                addr: "EMG".into(),
            },
            dest: Address::new("46701234567"),
            body: common::gsm::encode_gsm("hello {world}").unwrap(),
            dlr_requested: true,
            ..Default::default()
        };
        let subs = submits(&m, SplitMethod::Udh8);
        assert_eq!(subs.len(), 1);
        let sm = &subs[0];
        assert_eq!(sm.originator(), "EMG");
        assert_eq!(sm.otoa, OTOA_ALPHANUMERIC);
        assert_eq!(sm.content.text().as_deref(), Some("hello {world}"));
        assert_eq!((sm.nrq, sm.nt, sm.npid), (Some(true), Some(3), Some(539)));
        encodes(sm, 51);
        let back = message_from_sm(sm, Origin::default());
        assert_eq!((back.source, back.dest), (m.source, m.dest));
        assert_eq!(back.body, m.body);
        assert!(back.dlr_requested);
    }

    #[test]
    fn long_and_ucs2_messages_go_in_parts_with_the_udh_in_xser() {
        for (dc, text, parts) in [(0u8, "a".repeat(400), 3), (8, "\u{0436}".repeat(100), 2)] {
            let m = Message {
                id: 41,
                source: Address::new("4670000"),
                dest: Address::new("4670111"),
                data_coding: dc,
                body: common::gsm::encode_text(dc, &text).unwrap(),
                ..Default::default()
            };
            let subs = submits(&m, SplitMethod::Udh8);
            assert_eq!(subs.len(), parts, "dc {dc}");
            let mut joined = Vec::new();
            for (i, sm) in subs.iter().enumerate() {
                let udh = sm.xser.udh().expect("a UDH");
                let c = Udh::parse(udh).unwrap().0.concat().unwrap();
                assert_eq!((c.total as usize, c.seq as usize), (parts, i + 1));
                assert_eq!(sm.content.mt(), Some(if dc == 0 { 3 } else { 4 }));
                encodes(sm, 51);
                let back = message_from_sm(sm, Origin::default());
                assert_eq!((back.data_coding, back.esm_class), (dc, 0x40));
                joined.extend_from_slice(&back.body[udh.len()..]);
            }
            assert_eq!(joined, m.body, "the parts join to the whole");
        }
    }

    #[test]
    fn a_notification_reads_back_as_the_receipt_it_carries() {
        let m = Message {
            source: Address::new("46701234567"),
            dest: Address::new("4242"),
            esm_class: 0x04,
            dlr: Some(common::message::DlrInfo {
                message_id: 12345,
                reported_id: "12345".into(),
                status: DlrStatus::Undeliverable,
                error: 42,
                submit_us: 0,
                done_us: 1_700_000_000_000_000,
                text: String::new(),
            }),
            ..Default::default()
        };
        let (ot, sm) = delivery_of(&m);
        assert_eq!(ot, 53);
        encodes(&sm, 53);
        let (id, status, error) = receipt_of(&sm);
        assert_eq!(id, format!("46701234567:{}", scts_of(12345)));
        assert_eq!((status, error), (DlrStatus::Undeliverable, 42));
        assert_eq!(sm.adc, "4242");
    }

    #[test]
    fn every_id_has_its_own_valid_time_stamp() {
        assert_eq!(scts_of(0), "010100000000");
        assert_eq!(scts_of(86_400 + 61), "020100000101");
        assert_ne!(
            scts_of(1_000_000_000_000_000_001),
            scts_of(1_000_000_000_000_000_002)
        );
        let t = scts_of(u64::MAX);
        assert!(chrono::NaiveDateTime::parse_from_str(&t, "%d%m%y%H%M%S").is_ok());
    }

    #[test]
    fn sm_text_keeps_the_frame_intact() {
        assert_eq!(sm_text("no route/for ünïcode"), "no route_for _n_code");
    }
}

//! Sample PDUs shared by the SMPP integration tests: one per command id, with non-default
//! values in every field so a field swapped or dropped by the codec shows up.
#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use common::smpp::tlv::{self, Tlv};
use common::smpp::*;

pub fn addr(ton: u8, npi: u8, a: &str) -> SmppAddr {
    SmppAddr::new(ton, npi, a)
}

pub fn sm(text: &str) -> Sm {
    Sm {
        service_type: "CMT".into(),
        source: addr(5, 0, "EMG"),
        dest: addr(1, 1, "46701234567"),
        esm_class: 0x40,
        protocol_id: 0x7f,
        priority_flag: 1,
        schedule_delivery_time: "260101120000000+".into(),
        validity_period: "000001000000000R".into(),
        registered_delivery: 1,
        replace_if_present_flag: 1,
        data_coding: 8,
        sm_default_msg_id: 3,
        short_message: Bytes::copy_from_slice(text.as_bytes()),
        tlvs: vec![
            Tlv::u16(tlv::SAR_MSG_REF_NUM, 0x1234),
            Tlv::u8(tlv::SAR_TOTAL_SEGMENTS, 2),
            Tlv::u8(tlv::SAR_SEGMENT_SEQNUM, 1),
            Tlv::new(0x1400, vec![1, 2, 3]), // vendor-specific: must survive
        ],
    }
}

fn tlvs() -> Vec<Tlv> {
    vec![
        Tlv::cstr(tlv::ADDITIONAL_STATUS_INFO_TEXT, "ok"),
        Tlv::new(0x4000, Vec::new()),
    ]
}

/// A representative body for `id`; `None` for ids the codec does not know.
pub fn sample_body(id: u32) -> Option<Body> {
    use common::smpp::command::*;
    let b = match id {
        BIND_RECEIVER | BIND_TRANSMITTER | BIND_TRANSCEIVER => Body::Bind(Bind {
            system_id: "smppclient1".into(),
            password: "password".into(),
            system_type: "VMA".into(),
            interface_version: 0x34,
            addr_ton: 1,
            addr_npi: 1,
            address_range: "^4670".into(),
        }),
        BIND_RECEIVER_RESP | BIND_TRANSMITTER_RESP | BIND_TRANSCEIVER_RESP => {
            Body::BindResp(BindResp {
                system_id: "SMSC".into(),
                tlvs: vec![Tlv::u8(tlv::SC_INTERFACE_VERSION, 0x34)],
            })
        }
        OUTBIND => Body::Outbind {
            system_id: "SMSC".into(),
            password: "pw".into(),
        },
        SUBMIT_SM => Body::SubmitSm(sm("hello")),
        DELIVER_SM => Body::DeliverSm(sm("id:1 stat:DELIVRD")),
        SUBMIT_SM_RESP => Body::SubmitSmResp {
            message_id: "0A1B2C".into(),
            tlvs: Vec::new(),
        },
        DELIVER_SM_RESP => Body::DeliverSmResp {
            message_id: String::new(),
            tlvs: tlvs(),
        },
        DATA_SM => Body::DataSm(DataSm {
            service_type: "WAP".into(),
            source: addr(1, 1, "4670"),
            dest: addr(1, 1, &"9".repeat(64)),
            esm_class: 4,
            registered_delivery: 1,
            data_coding: 4,
            tlvs: vec![Tlv::new(tlv::MESSAGE_PAYLOAD, vec![0u8; 300])],
        }),
        DATA_SM_RESP => Body::DataSmResp {
            message_id: "77".into(),
            tlvs: tlvs(),
        },
        SUBMIT_MULTI => Body::SubmitMulti(SubmitMulti {
            service_type: String::new(),
            source: addr(5, 0, "EMG"),
            dests: vec![
                MultiDest::Sme(addr(1, 1, "4670111")),
                MultiDest::DistributionList("friends".into()),
                MultiDest::Sme(addr(1, 1, "4670222")),
            ],
            esm_class: 0,
            protocol_id: 0,
            priority_flag: 2,
            schedule_delivery_time: String::new(),
            validity_period: "000001000000000R".into(),
            registered_delivery: 1,
            replace_if_present_flag: 0,
            data_coding: 0,
            sm_default_msg_id: 0,
            short_message: Bytes::from_static(b"multi"),
            tlvs: Vec::new(),
        }),
        SUBMIT_MULTI_RESP => Body::SubmitMultiResp {
            message_id: "m1".into(),
            unsuccess: vec![UnsuccessSme {
                addr: addr(1, 1, "4670222"),
                error_status: 0x0b,
            }],
            tlvs: Vec::new(),
        },
        QUERY_SM => Body::QuerySm {
            message_id: "q1".into(),
            source: addr(5, 0, "EMG"),
        },
        QUERY_SM_RESP => Body::QuerySmResp {
            message_id: "q1".into(),
            final_date: "260101120000000+".into(),
            message_state: 2,
            error_code: 7,
        },
        CANCEL_SM => Body::CancelSm {
            service_type: "CMT".into(),
            message_id: "c1".into(),
            source: addr(5, 0, "EMG"),
            dest: addr(1, 1, "4670"),
        },
        REPLACE_SM => Body::ReplaceSm(ReplaceSm {
            message_id: "r1".into(),
            source: addr(5, 0, "EMG"),
            schedule_delivery_time: String::new(),
            validity_period: String::new(),
            registered_delivery: 1,
            sm_default_msg_id: 0,
            short_message: Bytes::from_static(b"new text"),
            tlvs: Vec::new(),
        }),
        ALERT_NOTIFICATION => Body::AlertNotification {
            source: addr(1, 1, "4670"),
            esme: addr(0, 0, "EMG"),
            tlvs: vec![Tlv::u8(tlv::MS_AVAILABILITY_STATUS, 0)],
        },
        BROADCAST_SM => Body::BroadcastSm(BroadcastSm {
            service_type: String::new(),
            source: addr(5, 0, "EMG"),
            message_id: String::new(),
            priority_flag: 1,
            schedule_delivery_time: String::new(),
            validity_period: String::new(),
            replace_if_present_flag: 0,
            data_coding: 0,
            sm_default_msg_id: 0,
            tlvs: vec![
                Tlv::new(tlv::BROADCAST_AREA_IDENTIFIER, vec![0, 1, 2]),
                Tlv::new(tlv::BROADCAST_CONTENT_TYPE, vec![0, 0, 1]),
                Tlv::u16(tlv::BROADCAST_REP_NUM, 1),
                Tlv::new(tlv::BROADCAST_FREQUENCY_INTERVAL, vec![8, 0, 1]),
                Tlv::new(tlv::MESSAGE_PAYLOAD, &b"storm warning"[..]),
            ],
        }),
        BROADCAST_SM_RESP => Body::BroadcastSmResp {
            message_id: "b1".into(),
            tlvs: Vec::new(),
        },
        QUERY_BROADCAST_SM => Body::QueryBroadcastSm(QueryBroadcastSm {
            message_id: "b1".into(),
            source: addr(5, 0, "EMG"),
            tlvs: vec![Tlv::u32(tlv::USER_MESSAGE_REFERENCE, 9)],
        }),
        QUERY_BROADCAST_SM_RESP => Body::QueryBroadcastSmResp {
            message_id: "b1".into(),
            tlvs: vec![
                Tlv::u8(tlv::MESSAGE_STATE, 2),
                Tlv::new(tlv::BROADCAST_AREA_IDENTIFIER, vec![0, 1, 2]),
                Tlv::u8(tlv::BROADCAST_AREA_SUCCESS, 100),
            ],
        },
        CANCEL_BROADCAST_SM => Body::CancelBroadcastSm(CancelBroadcastSm {
            service_type: String::new(),
            message_id: "b1".into(),
            source: addr(5, 0, "EMG"),
            tlvs: Vec::new(),
        }),
        GENERIC_NACK
        | UNBIND
        | UNBIND_RESP
        | ENQUIRE_LINK
        | ENQUIRE_LINK_RESP
        | CANCEL_SM_RESP
        | REPLACE_SM_RESP
        | CANCEL_BROADCAST_SM_RESP => Body::Empty,
        _ => return None,
    };
    Some(b)
}

/// One sample PDU per known command id.
pub fn all_samples() -> Vec<Pdu> {
    command::ALL
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let mut p = Pdu::new(
                id,
                1000 + i as u32,
                sample_body(id).expect("sample for every id"),
            );
            if p.is_response() {
                p.status = if i % 3 == 0 {
                    status::ESME_RTHROTTLED
                } else {
                    0
                };
            }
            p
        })
        .collect()
}

pub fn to_bytes(p: &Pdu) -> BytesMut {
    let mut b = BytesMut::new();
    encode(p, &mut b);
    b
}

//! encode → decode is the identity for every PDU type, and framing behaves on partial input.

mod smpp_support;

use bytes::{BufMut, BytesMut};
use common::smpp::tlv::{self, Tlv};
use common::smpp::*;
use smpp_support::*;

#[test]
fn every_command_round_trips() {
    let samples = all_samples();
    assert_eq!(samples.len(), command::ALL.len());
    for p in samples {
        let mut buf = to_bytes(&p);
        assert_eq!(buf.len(), p.encoded_len(), "{}", p.name());
        let declared = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        assert_eq!(declared, buf.len(), "{}", p.name());
        let back = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap().unwrap();
        assert_eq!(back, p, "{}", p.name());
        assert!(buf.is_empty());
    }
}

#[test]
fn byte_by_byte_then_back_to_back() {
    let samples = all_samples();
    let mut wire = BytesMut::new();
    for p in &samples {
        encode(p, &mut wire);
    }
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for &b in wire.iter() {
        buf.put_u8(b);
        while let Some(p) = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap() {
            got.push(p);
        }
    }
    assert_eq!(got, samples);
    assert!(buf.is_empty());
}

#[test]
fn incomplete_frame_consumes_nothing() {
    let p = Pdu::new(command::ENQUIRE_LINK, 7, Body::Empty);
    let full = to_bytes(&p);
    for n in 0..full.len() {
        let mut buf = BytesMut::from(&full[..n]);
        assert_eq!(decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap(), None);
        assert_eq!(buf.len(), n);
    }
}

#[test]
fn response_helpers() {
    let req = Pdu::new(command::SUBMIT_SM, 42, Body::SubmitSm(sm("x")));
    assert!(!req.is_response());
    let resp = req.response(
        status::ESME_ROK,
        Body::SubmitSmResp {
            message_id: "1".into(),
            tlvs: vec![],
        },
    );
    assert_eq!(resp.command_id, command::SUBMIT_SM_RESP);
    assert_eq!(resp.sequence, 42);
    assert!(resp.is_response());
    assert_eq!(resp.name(), "SUBMIT_SM_RESP");
    let nack = Pdu::generic_nack(42, status::ESME_RINVCMDID);
    assert_eq!(to_bytes(&nack).len(), HEADER_LEN);
    assert!(nack.is_response());
}

#[test]
fn long_short_message_moves_to_message_payload() {
    let mut s = sm("");
    s.tlvs.clear();
    s.short_message = vec![b'a'; 300].into();
    let p = Pdu::new(command::SUBMIT_SM, 1, Body::SubmitSm(s));
    let mut buf = to_bytes(&p);
    assert_eq!(buf.len(), p.encoded_len());
    let Body::SubmitSm(back) = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap().unwrap().body else {
        panic!("not a submit_sm");
    };
    assert!(back.short_message.is_empty());
    assert_eq!(back.payload(), &[b'a'; 300][..]);
    assert_eq!(back.tlv(tlv::MESSAGE_PAYLOAD).map(|b| b.len()), Some(300));
}

#[test]
fn payload_prefers_short_message() {
    let mut s = sm("short");
    s.tlvs.push(Tlv::new(tlv::MESSAGE_PAYLOAD, &b"long"[..]));
    assert_eq!(s.payload(), b"short");
    s.short_message = Default::default();
    assert_eq!(s.payload(), b"long");
    assert_eq!(
        s.tlv(tlv::SAR_MSG_REF_NUM).map(|b| b.to_vec()),
        Some(vec![0x12, 0x34])
    );
    assert_eq!(s.tlv(tlv::CALLBACK_NUM), None);
}

#[test]
fn smpp33_bind_and_bodyless_bind_resp() {
    let bind = Body::Bind(Bind {
        system_id: "old".into(),
        password: "pw".into(),
        interface_version: 0x33,
        ..Default::default()
    });
    let p = Pdu::new(command::BIND_TRANSMITTER, 1, bind);
    let mut buf = to_bytes(&p);
    assert_eq!(decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap().unwrap(), p);

    // A 3.3 SMSC answers with system_id only: no sc_interface_version TLV.
    let resp = p.response(
        0,
        Body::BindResp(BindResp {
            system_id: "SMSC".into(),
            tlvs: vec![],
        }),
    );
    let mut buf = to_bytes(&resp);
    assert_eq!(buf.len(), HEADER_LEN + 5);
    assert_eq!(
        decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap().unwrap(),
        resp
    );
}

#[test]
fn error_responses_without_body() {
    use command::*;
    for id in [
        BIND_TRANSCEIVER_RESP,
        SUBMIT_SM_RESP,
        DELIVER_SM_RESP,
        DATA_SM_RESP,
        SUBMIT_MULTI_RESP,
        QUERY_SM_RESP,
        BROADCAST_SM_RESP,
        QUERY_BROADCAST_SM_RESP,
    ] {
        let p = Pdu {
            command_id: id,
            status: status::ESME_RTHROTTLED,
            sequence: 9,
            body: Body::Empty,
        };
        let mut buf = to_bytes(&p);
        assert_eq!(buf.len(), HEADER_LEN);
        let back = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap().unwrap();
        assert_eq!(back.status, status::ESME_RTHROTTLED);
        match back.body {
            Body::BindResp(b) => assert_eq!(b, BindResp::default()),
            Body::SubmitSmResp { message_id, tlvs }
            | Body::DeliverSmResp { message_id, tlvs }
            | Body::DataSmResp { message_id, tlvs }
            | Body::BroadcastSmResp { message_id, tlvs }
            | Body::QueryBroadcastSmResp { message_id, tlvs }
            | Body::SubmitMultiResp {
                message_id, tlvs, ..
            } => assert!(message_id.is_empty() && tlvs.is_empty()),
            Body::QuerySmResp { message_id, .. } => assert!(message_id.is_empty()),
            other => panic!("{id:#x}: {other:?}"),
        }
    }
}

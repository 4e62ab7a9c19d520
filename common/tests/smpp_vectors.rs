//! Hand-built wire bytes checked field by field, and every decode error path.

mod smpp_support;

use bytes::{BufMut, BytesMut};
use common::smpp::tlv;
use common::smpp::*;

/// Prepends a header whose command_length covers `body`.
fn frame(command_id: u32, status: u32, seq: u32, body: &[u8]) -> BytesMut {
    let mut b = BytesMut::new();
    b.put_u32((HEADER_LEN + body.len()) as u32);
    b.put_u32(command_id);
    b.put_u32(status);
    b.put_u32(seq);
    b.put_slice(body);
    b
}

#[rustfmt::skip]
const BIND_TRX: &[u8] = &[
    0x00, 0x00, 0x00, 0x2a,             // command_length 42
    0x00, 0x00, 0x00, 0x09,             // bind_transceiver
    0x00, 0x00, 0x00, 0x00,             // status
    0x00, 0x00, 0x2d, 0x76,             // sequence 11638
    b's', b'm', b'p', b'p', b'c', b'l', b'i', b'e', b'n', b't', b'1', 0, // system_id
    b'p', b'a', b's', b's', b'w', b'o', b'r', b'd', 0,                     // password
    0,                                  // system_type ""
    0x34,                               // interface_version 3.4
    0x01, 0x01,                         // addr_ton, addr_npi
    0,                                  // address_range ""
];

#[test]
fn bind_transceiver_vector() {
    let mut buf = BytesMut::from(BIND_TRX);
    let p = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap().unwrap();
    assert!(buf.is_empty());
    assert_eq!(p.command_id, command::BIND_TRANSCEIVER);
    assert_eq!(p.status, 0);
    assert_eq!(p.sequence, 11638);
    let Body::Bind(b) = &p.body else {
        panic!("{p:?}")
    };
    assert_eq!(b.system_id, "smppclient1");
    assert_eq!(b.password, "password");
    assert_eq!(b.system_type, "");
    assert_eq!(b.interface_version, 0x34);
    assert_eq!((b.addr_ton, b.addr_npi), (1, 1));
    assert_eq!(b.address_range, "");
    assert_eq!(&smpp_support::to_bytes(&p)[..], BIND_TRX);
}

#[rustfmt::skip]
const SUBMIT: &[u8] = &[
    0x00, 0x00, 0x00, 0x3a,             // command_length 58
    0x00, 0x00, 0x00, 0x04,             // submit_sm
    0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02,             // sequence 2
    0,                                  // service_type ""
    0x05, 0x00, b'E', b'M', b'G', 0,     // source ton 5 (alphanumeric), npi 0
    0x01, 0x01, b'4', b'6', b'7', b'0', b'1', b'2', b'3', b'4', b'5', b'6', b'7', 0,
    0x00,                               // esm_class
    0x00,                               // protocol_id
    0x00,                               // priority_flag
    0,                                  // schedule_delivery_time
    0,                                  // validity_period
    0x01,                               // registered_delivery
    0x00,                               // replace_if_present_flag
    0x00,                               // data_coding
    0x00,                               // sm_default_msg_id
    0x05, b'h', b'e', b'l', b'l', b'o', // sm_length, short_message
    0x02, 0x04, 0x00, 0x02, 0x00, 0x01, // user_message_reference = 1
];

#[test]
fn submit_sm_vector() {
    let mut buf = BytesMut::from(SUBMIT);
    let p = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap().unwrap();
    assert_eq!(p.command_id, command::SUBMIT_SM);
    assert_eq!(p.sequence, 2);
    let Body::SubmitSm(s) = &p.body else {
        panic!("{p:?}")
    };
    assert_eq!(s.service_type, "");
    assert_eq!(s.source, SmppAddr::new(5, 0, "EMG"));
    assert_eq!(s.dest, SmppAddr::new(1, 1, "46701234567"));
    assert_eq!((s.esm_class, s.protocol_id, s.priority_flag), (0, 0, 0));
    assert_eq!(s.schedule_delivery_time, "");
    assert_eq!(s.validity_period, "");
    assert_eq!(s.registered_delivery, 1);
    assert_eq!(
        (
            s.replace_if_present_flag,
            s.data_coding,
            s.sm_default_msg_id
        ),
        (0, 0, 0)
    );
    assert_eq!(&s.short_message[..], b"hello");
    assert_eq!(s.payload(), b"hello");
    assert_eq!(s.tlvs.len(), 1);
    assert_eq!(s.tlvs[0].tag, tlv::USER_MESSAGE_REFERENCE);
    assert_eq!(s.tlvs[0].as_uint(), Some(1));
    assert_eq!(&smpp_support::to_bytes(&p)[..], SUBMIT);
}

#[test]
fn bad_length_consumes_nothing_and_allocates_nothing() {
    for len in [0u32, 15, DEFAULT_MAX_PDU_LEN + 1, u32::MAX] {
        let mut buf = BytesMut::new();
        buf.put_u32(len);
        buf.put_u32(command::ENQUIRE_LINK);
        let err = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap_err();
        assert_eq!(
            err,
            DecodeError::BadLength {
                command_length: len
            }
        );
        assert!(err.is_fatal());
        assert_eq!(err.nack_status(), status::ESME_RINVCMDLEN);
        assert_eq!(err.sequence(), None);
        assert_eq!(buf.len(), 8);
        assert!(buf.capacity() < 1024);
    }
    // The caller's limit applies, not just the default.
    let mut buf = frame(command::ENQUIRE_LINK, 0, 1, &[0; 100]);
    assert!(matches!(
        decode(&mut buf, 64),
        Err(DecodeError::BadLength {
            command_length: 116
        })
    ));
}

#[test]
fn unknown_command_consumes_the_frame() {
    let mut buf = frame(0x0000_0042, 0, 77, b"junk");
    buf.extend_from_slice(&frame(command::ENQUIRE_LINK, 0, 78, &[]));
    let err = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnknownCommand {
            command_id: 0x42,
            sequence: 77
        }
    );
    assert_eq!(err.nack_status(), status::ESME_RINVCMDID);
    assert_eq!(err.sequence(), Some(77));
    assert!(!err.is_fatal());
    let next = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap().unwrap();
    assert_eq!(next.sequence, 78);
}

fn malformed(command_id: u32, body: &[u8]) -> DecodeError {
    let mut buf = frame(command_id, 0, 5, body);
    buf.extend_from_slice(&frame(command::ENQUIRE_LINK, 0, 6, &[]));
    let err = decode(&mut buf, DEFAULT_MAX_PDU_LEN).unwrap_err();
    // The bad frame is gone; the stream goes on.
    assert_eq!(
        decode(&mut buf, DEFAULT_MAX_PDU_LEN)
            .unwrap()
            .unwrap()
            .sequence,
        6
    );
    assert_eq!(err.sequence(), Some(5));
    assert!(!err.is_fatal());
    match &err {
        DecodeError::Malformed { command_id: id, .. } => assert_eq!(*id, command_id),
        other => panic!("{other:?}"),
    }
    err
}

#[test]
fn malformed_bodies() {
    // Missing NUL at the end of the body.
    let e = malformed(command::BIND_TRANSMITTER, b"user");
    assert_eq!(e.nack_status(), status::ESME_RINVCMDLEN);
    assert!(e.to_string().contains("system_id"), "{e}");
    // system_id of 16 characters: max is 15 + NUL.
    let mut body = b"abcdefghijklmnop\0pw\0\0\x34\0\0\0".to_vec();
    assert!(malformed(command::BIND_TRANSMITTER, &body)
        .to_string()
        .contains("longer"));
    // Fields missing after the strings.
    body = b"user\0pw\0\0\x34".to_vec();
    malformed(command::BIND_TRANSMITTER, &body);
    // Trailing octets where the spec allows no TLVs.
    malformed(command::ENQUIRE_LINK, &[0]);
    body = b"user\0pw\0\0\x34\0\0\0X".to_vec();
    malformed(command::BIND_TRANSCEIVER, &body);
    // sm_length runs past the end.
    let mut sm = SUBMIT[HEADER_LEN..].to_vec();
    sm.truncate(sm.len() - 6 - 5); // drop TLV and text; sm_length 5 is now the last octet
    malformed(command::SUBMIT_SM, &sm);
    // TLV length runs past the end.
    let mut sm = SUBMIT[HEADER_LEN..].to_vec();
    let n = sm.len();
    sm[n - 3] = 3; // user_message_reference claims 3 octets, 2 present
    assert!(malformed(command::SUBMIT_SM, &sm)
        .to_string()
        .contains("0x0204"));
    // Truncated TLV header.
    let mut sm = SUBMIT[HEADER_LEN..].to_vec();
    sm.extend_from_slice(&[0x02, 0x04]);
    malformed(command::SUBMIT_SM, &sm);
    // Bad dest_flag in submit_multi is a value error.
    let e = malformed(command::SUBMIT_MULTI, b"\0\0\0\0\x01\x07");
    assert_eq!(e.nack_status(), status::ESME_RSYSERR);
    // A non-empty submit_sm_resp must still be well-formed.
    malformed(command::SUBMIT_SM_RESP, b"abc");
}

#[test]
fn decode_frame_checks_declared_length() {
    let mut f = frame(command::ENQUIRE_LINK, 0, 1, &[]);
    f.put_u8(0);
    assert!(matches!(
        decode_frame(f.freeze()),
        Err(DecodeError::BadLength { command_length: 16 })
    ));
    assert!(decode_frame(bytes::Bytes::from_static(&[0; 3])).is_err());
}

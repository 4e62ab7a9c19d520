//! SMPP PDUs: the framing decoder on a byte stream, and encode → decode on generated PDUs.

use arbitrary::{Result, Unstructured};
use bytes::{Bytes, BytesMut};
use common::smpp::command as cmd;
use common::smpp::*;

/// Largest command_length the checks accept; small, so bodies get parsed rather than awaited.
const MAX_LEN: u32 = 4096;

fn to_bytes(p: &Pdu) -> BytesMut {
    let mut b = BytesMut::new();
    encode(p, &mut b);
    b
}

/// Decoder property: `data` is drained like a connection's read buffer. Whatever comes out
/// keeps the framing contract (nothing consumed while incomplete or on a fatal error, whole
/// frames otherwise), every decoded PDU re-encodes to the bytes it came from and decodes to
/// itself, and the log line and receipt parser take what the decoder accepted.
pub fn decode_stream(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    loop {
        let before = buf.len();
        match decode(&mut buf, MAX_LEN) {
            Ok(None) => {
                assert_eq!(buf.len(), before, "an incomplete frame consumed bytes");
                return;
            }
            Ok(Some(p)) => {
                let consumed = before - buf.len();
                assert!(consumed >= HEADER_LEN);
                // Exact except where it cannot be: invalid UTF-8 in a C-octet string is
                // replaced, and a response's empty body decodes to empty fields.
                let lossy = format!("{p:?}").contains('\u{fffd}');
                let bodyless_resp = consumed == HEADER_LEN && p.body != Body::Empty;
                if !lossy && !bodyless_resp {
                    assert_eq!(p.encoded_len(), consumed, "{p:?}");
                    let mut again = to_bytes(&p);
                    assert_eq!(decode(&mut again, MAX_LEN), Ok(Some(p.clone())));
                }
                let _ = log_line(Direction::Read, &p);
                if let Body::DeliverSm(sm) = &p.body {
                    let _ = Receipt::parse(sm.payload());
                }
            }
            Err(e) => {
                let _ = (e.to_string(), e.nack_status(), e.sequence());
                if e.is_fatal() {
                    assert_eq!(buf.len(), before, "a fatal error consumed bytes");
                    return;
                }
                assert!(before - buf.len() >= HEADER_LEN);
            }
        }
    }
}

/// Round-trip property: a PDU inside the spec's limits encodes to exactly `encoded_len`
/// octets and decodes to itself; and a relative time written for a period (a validity we
/// pass on) reads back as that period.
pub fn roundtrip(data: &[u8]) {
    relative_time_roundtrip(data);
    let Some(p) = crate::generate(data, pdu) else {
        return;
    };
    let mut wire = to_bytes(&p);
    assert_eq!(wire.len(), p.encoded_len(), "{p:?}");
    assert_eq!(decode(&mut wire, u32::MAX), Ok(Some(p)));
    assert!(wire.is_empty());
}

fn relative_time_roundtrip(data: &[u8]) {
    let Some((period, now)) = crate::generate(data, |u| {
        Ok((
            u.int_in_range(0..=time::MAX_RELATIVE_SECS)?,
            u.int_in_range(0..=4_102_444_800_000_000i64)?,
        ))
    }) else {
        return;
    };
    let field = relative_time(period);
    assert_eq!(field.len(), 16, "{field:?}");
    let back = parse_time(&field, now).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, Some(now + period as i64 * 1_000_000), "{field:?}");
}

/// A C-octet string of at most `max` octets with its NUL, as the decoder's limits say.
fn cstr(u: &mut Unstructured, max: usize) -> Result<String> {
    crate::string(u, max - 1, |c| c != '\0')
}

fn addr(u: &mut Unstructured, max: usize) -> Result<SmppAddr> {
    Ok(SmppAddr {
        ton: u.arbitrary()?,
        npi: u.arbitrary()?,
        addr: cstr(u, max)?,
    })
}

fn octets(u: &mut Unstructured, max: usize) -> Result<Bytes> {
    let n = u.int_in_range(0..=max)?;
    Ok(Bytes::copy_from_slice(u.bytes(n.min(u.len()))?))
}

fn tlvs(u: &mut Unstructured) -> Result<Vec<Tlv>> {
    let n = u.int_in_range(0..=4)?;
    (0..n)
        .map(|_| {
            Ok(Tlv {
                tag: u.arbitrary()?,
                value: octets(u, 300)?,
            })
        })
        .collect()
}

// The decoder's C-octet string limits, NUL included (SMPP 3.4 §5.2 / 5.0 §4.7).
const SYSTEM_ID: usize = 16;
const PASSWORD: usize = 9;
const SYSTEM_TYPE: usize = 13;
const ADDRESS_RANGE: usize = 41;
const SERVICE_TYPE: usize = 6;
const ADDR: usize = 21;
const ADDR_65: usize = 65;
const TIME: usize = 17;
const MESSAGE_ID: usize = 65;
const DL_NAME: usize = 21;

fn sm(u: &mut Unstructured) -> Result<Sm> {
    Ok(Sm {
        service_type: cstr(u, SERVICE_TYPE)?,
        source: addr(u, ADDR)?,
        dest: addr(u, ADDR)?,
        esm_class: u.arbitrary()?,
        protocol_id: u.arbitrary()?,
        priority_flag: u.arbitrary()?,
        schedule_delivery_time: cstr(u, TIME)?,
        validity_period: cstr(u, TIME)?,
        registered_delivery: u.arbitrary()?,
        replace_if_present_flag: u.arbitrary()?,
        data_coding: u.arbitrary()?,
        sm_default_msg_id: u.arbitrary()?,
        short_message: octets(u, 255)?,
        tlvs: tlvs(u)?,
    })
}

fn id_tlvs(u: &mut Unstructured) -> Result<(String, Vec<Tlv>)> {
    Ok((cstr(u, MESSAGE_ID)?, tlvs(u)?))
}

/// A PDU whose every field is within the decoder's limits, with a command_id that matches
/// its body layout.
pub fn pdu(u: &mut Unstructured) -> Result<Pdu> {
    let command_id = *u.choose(cmd::ALL)?;
    let body = match command_id {
        cmd::BIND_RECEIVER | cmd::BIND_TRANSMITTER | cmd::BIND_TRANSCEIVER => Body::Bind(Bind {
            system_id: cstr(u, SYSTEM_ID)?,
            password: cstr(u, PASSWORD)?,
            system_type: cstr(u, SYSTEM_TYPE)?,
            interface_version: u.arbitrary()?,
            addr_ton: u.arbitrary()?,
            addr_npi: u.arbitrary()?,
            address_range: cstr(u, ADDRESS_RANGE)?,
        }),
        cmd::BIND_RECEIVER_RESP | cmd::BIND_TRANSMITTER_RESP | cmd::BIND_TRANSCEIVER_RESP => {
            Body::BindResp(BindResp {
                system_id: cstr(u, SYSTEM_ID)?,
                tlvs: tlvs(u)?,
            })
        }
        cmd::OUTBIND => Body::Outbind {
            system_id: cstr(u, SYSTEM_ID)?,
            password: cstr(u, PASSWORD)?,
        },
        cmd::SUBMIT_SM => Body::SubmitSm(sm(u)?),
        cmd::DELIVER_SM => Body::DeliverSm(sm(u)?),
        cmd::SUBMIT_SM_RESP => {
            let (message_id, tlvs) = id_tlvs(u)?;
            Body::SubmitSmResp { message_id, tlvs }
        }
        cmd::DELIVER_SM_RESP => {
            let (message_id, tlvs) = id_tlvs(u)?;
            Body::DeliverSmResp { message_id, tlvs }
        }
        cmd::DATA_SM => Body::DataSm(DataSm {
            service_type: cstr(u, SERVICE_TYPE)?,
            source: addr(u, ADDR_65)?,
            dest: addr(u, ADDR_65)?,
            esm_class: u.arbitrary()?,
            registered_delivery: u.arbitrary()?,
            data_coding: u.arbitrary()?,
            tlvs: tlvs(u)?,
        }),
        cmd::DATA_SM_RESP => {
            let (message_id, tlvs) = id_tlvs(u)?;
            Body::DataSmResp { message_id, tlvs }
        }
        cmd::SUBMIT_MULTI => {
            let service_type = cstr(u, SERVICE_TYPE)?;
            let source = addr(u, ADDR)?;
            let n = u.int_in_range(0..=5)?;
            let dests = (0..n)
                .map(|_| {
                    Ok(if u.arbitrary()? {
                        MultiDest::Sme(addr(u, ADDR)?)
                    } else {
                        MultiDest::DistributionList(cstr(u, DL_NAME)?)
                    })
                })
                .collect::<Result<_>>()?;
            let s = sm(u)?;
            Body::SubmitMulti(SubmitMulti {
                service_type,
                source,
                dests,
                esm_class: s.esm_class,
                protocol_id: s.protocol_id,
                priority_flag: s.priority_flag,
                schedule_delivery_time: s.schedule_delivery_time,
                validity_period: s.validity_period,
                registered_delivery: s.registered_delivery,
                replace_if_present_flag: s.replace_if_present_flag,
                data_coding: s.data_coding,
                sm_default_msg_id: s.sm_default_msg_id,
                short_message: s.short_message,
                tlvs: s.tlvs,
            })
        }
        cmd::SUBMIT_MULTI_RESP => {
            let message_id = cstr(u, MESSAGE_ID)?;
            let n = u.int_in_range(0..=5)?;
            let unsuccess = (0..n)
                .map(|_| {
                    Ok(UnsuccessSme {
                        addr: addr(u, ADDR)?,
                        error_status: u.arbitrary()?,
                    })
                })
                .collect::<Result<_>>()?;
            Body::SubmitMultiResp {
                message_id,
                unsuccess,
                tlvs: tlvs(u)?,
            }
        }
        cmd::QUERY_SM => Body::QuerySm {
            message_id: cstr(u, MESSAGE_ID)?,
            source: addr(u, ADDR)?,
        },
        cmd::QUERY_SM_RESP => Body::QuerySmResp {
            message_id: cstr(u, MESSAGE_ID)?,
            final_date: cstr(u, TIME)?,
            message_state: u.arbitrary()?,
            error_code: u.arbitrary()?,
        },
        cmd::CANCEL_SM => Body::CancelSm {
            service_type: cstr(u, SERVICE_TYPE)?,
            message_id: cstr(u, MESSAGE_ID)?,
            source: addr(u, ADDR)?,
            dest: addr(u, ADDR)?,
        },
        cmd::REPLACE_SM => Body::ReplaceSm(ReplaceSm {
            message_id: cstr(u, MESSAGE_ID)?,
            source: addr(u, ADDR)?,
            schedule_delivery_time: cstr(u, TIME)?,
            validity_period: cstr(u, TIME)?,
            registered_delivery: u.arbitrary()?,
            sm_default_msg_id: u.arbitrary()?,
            short_message: octets(u, 255)?,
            tlvs: tlvs(u)?,
        }),
        cmd::ALERT_NOTIFICATION => Body::AlertNotification {
            source: addr(u, ADDR_65)?,
            esme: addr(u, ADDR_65)?,
            tlvs: tlvs(u)?,
        },
        cmd::BROADCAST_SM => Body::BroadcastSm(BroadcastSm {
            service_type: cstr(u, SERVICE_TYPE)?,
            source: addr(u, ADDR)?,
            message_id: cstr(u, MESSAGE_ID)?,
            priority_flag: u.arbitrary()?,
            schedule_delivery_time: cstr(u, TIME)?,
            validity_period: cstr(u, TIME)?,
            replace_if_present_flag: u.arbitrary()?,
            data_coding: u.arbitrary()?,
            sm_default_msg_id: u.arbitrary()?,
            tlvs: tlvs(u)?,
        }),
        cmd::BROADCAST_SM_RESP => {
            let (message_id, tlvs) = id_tlvs(u)?;
            Body::BroadcastSmResp { message_id, tlvs }
        }
        cmd::QUERY_BROADCAST_SM => Body::QueryBroadcastSm(QueryBroadcastSm {
            message_id: cstr(u, MESSAGE_ID)?,
            source: addr(u, ADDR)?,
            tlvs: tlvs(u)?,
        }),
        cmd::QUERY_BROADCAST_SM_RESP => {
            let (message_id, tlvs) = id_tlvs(u)?;
            Body::QueryBroadcastSmResp { message_id, tlvs }
        }
        cmd::CANCEL_BROADCAST_SM => Body::CancelBroadcastSm(CancelBroadcastSm {
            service_type: cstr(u, SERVICE_TYPE)?,
            message_id: cstr(u, MESSAGE_ID)?,
            source: addr(u, ADDR)?,
            tlvs: tlvs(u)?,
        }),
        _ => Body::Empty,
    };
    Ok(Pdu {
        command_id,
        status: u.arbitrary()?,
        sequence: u.arbitrary()?,
        body,
    })
}

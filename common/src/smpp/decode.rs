//! Bytes → PDU.
//!
//! Framing first, as in mini-redis: [`decode()`] looks at command_length and returns `Ok(None)`
//! until the whole frame is buffered, so a slow peer never makes us parse half a PDU. The
//! length is validated before anything is reserved, so a hostile 4 GiB command_length costs
//! nothing. Once a frame is complete it is removed from the buffer whatever happens next:
//! a bad body is the peer's problem for that one PDU, not for the session.
//!
//! Body parsing is strict — field overruns, missing NULs, C-octet strings longer than their
//! spec maximum, TLVs running past the end and trailing bytes are all errors — with one
//! tolerance: responses that normally carry a message_id / system_id may arrive with an empty
//! body (SMPP 3.4 says error responses omit it, and many SMSCs do so even on success).

use bytes::{Bytes, BytesMut};

use super::command as cmd;
use super::pdu::*;
use super::status;
use super::tlv::Tlv;

/// Why a frame could not be turned into a [`Pdu`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// command_length is below 16 or above the configured maximum. Nothing was consumed and the
    /// stream cannot be resynchronised: answer generic_nack(ESME_RINVCMDLEN) and close.
    #[error("bad command_length {command_length}")]
    BadLength { command_length: u32 },
    /// The frame was consumed; answer generic_nack(ESME_RINVCMDID).
    #[error("unknown command_id {command_id:#010x} (sequence {sequence})")]
    UnknownCommand { command_id: u32, sequence: u32 },
    /// The frame was consumed but its body does not follow the spec. Answer the command's
    /// response (or generic_nack) with [`DecodeError::nack_status`]. Reasons starting with
    /// `"invalid"` are bad field values (ESME_RSYSERR); the rest are length/layout errors
    /// (ESME_RINVCMDLEN).
    #[error("malformed {} (sequence {sequence}): {reason}", cmd::name(*command_id))]
    Malformed {
        command_id: u32,
        sequence: u32,
        reason: String,
    },
}

impl DecodeError {
    /// The command_status to put in the nack / response.
    pub fn nack_status(&self) -> u32 {
        match self {
            DecodeError::BadLength { .. } => status::ESME_RINVCMDLEN,
            DecodeError::UnknownCommand { .. } => status::ESME_RINVCMDID,
            DecodeError::Malformed { reason, .. } if reason.starts_with("invalid") => {
                status::ESME_RSYSERR
            }
            DecodeError::Malformed { .. } => status::ESME_RINVCMDLEN,
        }
    }

    /// The sequence number to answer with, when the header could be read.
    pub fn sequence(&self) -> Option<u32> {
        match self {
            DecodeError::BadLength { .. } => None,
            DecodeError::UnknownCommand { sequence, .. }
            | DecodeError::Malformed { sequence, .. } => Some(*sequence),
        }
    }

    /// True when the session must be closed (framing is lost).
    pub fn is_fatal(&self) -> bool {
        matches!(self, DecodeError::BadLength { .. })
    }
}

/// Takes one PDU off the front of `buf`.
///
/// `Ok(None)`: not enough bytes yet, nothing consumed. `Err(BadLength)`: nothing consumed.
/// Any other result consumed exactly one frame.
pub fn decode(buf: &mut BytesMut, max_len: u32) -> Result<Option<Pdu>, DecodeError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let command_length = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if (command_length as usize) < HEADER_LEN || command_length > max_len {
        return Err(DecodeError::BadLength { command_length });
    }
    let len = command_length as usize;
    if buf.len() < len {
        buf.reserve(len - buf.len());
        return Ok(None);
    }
    let frame = buf.split_to(len).freeze();
    decode_frame(frame).map(Some)
}

/// Decodes exactly one complete frame (header included); its command_length must equal its
/// length. For callers that do their own framing, and for tests.
pub fn decode_frame(frame: Bytes) -> Result<Pdu, DecodeError> {
    if frame.len() < HEADER_LEN || frame.len() > u32::MAX as usize {
        return Err(DecodeError::BadLength {
            command_length: frame.len().min(u32::MAX as usize) as u32,
        });
    }
    let be = |i: usize| u32::from_be_bytes([frame[i], frame[i + 1], frame[i + 2], frame[i + 3]]);
    let (command_length, command_id, status, sequence) = (be(0), be(4), be(8), be(12));
    if command_length as usize != frame.len() {
        return Err(DecodeError::BadLength { command_length });
    }
    let mut r = Reader {
        data: frame.slice(HEADER_LEN..),
        pos: 0,
    };
    let body = match body(command_id, &mut r) {
        Some(parsed) => parsed.and_then(|b| r.finish().map(|()| b)),
        None => {
            return Err(DecodeError::UnknownCommand {
                command_id,
                sequence,
            })
        }
    };
    body.map(|body| Pdu {
        command_id,
        status,
        sequence,
        body,
    })
    .map_err(|reason| DecodeError::Malformed {
        command_id,
        sequence,
        reason,
    })
}

type R<T> = Result<T, String>;

// Maximum C-octet string sizes, terminating NUL included (SMPP 3.4 §5.2 / 5.0 §4.7).
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

/// A cursor over one body. Errors are reasons for [`DecodeError::Malformed`].
struct Reader {
    data: Bytes,
    pos: usize,
}

impl Reader {
    fn rest(&self) -> &[u8] {
        &self.data[self.pos..]
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn take(&mut self, n: usize, field: &str) -> R<Bytes> {
        if self.rest().len() < n {
            return Err(format!("{field} runs past the end of the body"));
        }
        let b = self.data.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(b)
    }

    fn u8(&mut self, field: &str) -> R<u8> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &str) -> R<u16> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, field: &str) -> R<u32> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A C-octet string of at most `max` octets including its NUL.
    fn cstr(&mut self, field: &str, max: usize) -> R<String> {
        let rest = self.rest();
        let window = &rest[..rest.len().min(max)];
        match window.iter().position(|&b| b == 0) {
            Some(n) => {
                let s = String::from_utf8_lossy(&window[..n]).into_owned();
                self.pos += n + 1;
                Ok(s)
            }
            None if rest.len() >= max => Err(format!("{field} longer than {} octets", max - 1)),
            None => Err(format!("{field} has no NUL terminator")),
        }
    }

    fn addr(&mut self, field: &str, max: usize) -> R<SmppAddr> {
        Ok(SmppAddr {
            ton: self.u8(field)?,
            npi: self.u8(field)?,
            addr: self.cstr(field, max)?,
        })
    }

    /// sm_length then short_message.
    fn short_message(&mut self) -> R<Bytes> {
        let n = self.u8("sm_length")?;
        self.take(usize::from(n), "short_message")
    }

    /// Every remaining octet as TLVs.
    fn tlvs(&mut self) -> R<Vec<Tlv>> {
        let mut out = Vec::new();
        while !self.is_empty() {
            if self.rest().len() < 4 {
                return Err("truncated TLV header".into());
            }
            let tag = self.u16("tlv tag")?;
            let len = self.u16("tlv length")?;
            let value = self
                .take(usize::from(len), "tlv value")
                .map_err(|_| format!("TLV {tag:#06x} length {len} runs past the end"))?;
            out.push(Tlv { tag, value });
        }
        Ok(out)
    }

    fn finish(&self) -> R<()> {
        match self.rest().len() {
            0 => Ok(()),
            n => Err(format!("{n} unexpected trailing octets")),
        }
    }
}

/// `None` for an unknown command id.
fn body(id: u32, r: &mut Reader) -> Option<R<Body>> {
    let parsed = match id {
        cmd::BIND_RECEIVER | cmd::BIND_TRANSMITTER | cmd::BIND_TRANSCEIVER => bind(r),
        cmd::BIND_RECEIVER_RESP | cmd::BIND_TRANSMITTER_RESP | cmd::BIND_TRANSCEIVER_RESP => {
            bind_resp(r)
        }
        cmd::OUTBIND => outbind(r),
        cmd::SUBMIT_SM => sm(r).map(Body::SubmitSm),
        cmd::DELIVER_SM => sm(r).map(Body::DeliverSm),
        cmd::SUBMIT_SM_RESP => {
            id_resp(r).map(|(message_id, tlvs)| Body::SubmitSmResp { message_id, tlvs })
        }
        cmd::DELIVER_SM_RESP => {
            id_resp(r).map(|(message_id, tlvs)| Body::DeliverSmResp { message_id, tlvs })
        }
        cmd::DATA_SM => data_sm(r),
        cmd::DATA_SM_RESP => {
            id_resp(r).map(|(message_id, tlvs)| Body::DataSmResp { message_id, tlvs })
        }
        cmd::SUBMIT_MULTI => submit_multi(r),
        cmd::SUBMIT_MULTI_RESP => submit_multi_resp(r),
        cmd::QUERY_SM => query_sm(r),
        cmd::QUERY_SM_RESP => query_sm_resp(r),
        cmd::CANCEL_SM => cancel_sm(r),
        cmd::REPLACE_SM => replace_sm(r),
        cmd::ALERT_NOTIFICATION => alert_notification(r),
        cmd::BROADCAST_SM => broadcast_sm(r),
        cmd::BROADCAST_SM_RESP => {
            id_resp(r).map(|(message_id, tlvs)| Body::BroadcastSmResp { message_id, tlvs })
        }
        cmd::QUERY_BROADCAST_SM => query_broadcast_sm(r),
        cmd::QUERY_BROADCAST_SM_RESP => {
            id_resp(r).map(|(message_id, tlvs)| Body::QueryBroadcastSmResp { message_id, tlvs })
        }
        cmd::CANCEL_BROADCAST_SM => cancel_broadcast_sm(r),
        cmd::GENERIC_NACK
        | cmd::UNBIND
        | cmd::UNBIND_RESP
        | cmd::ENQUIRE_LINK
        | cmd::ENQUIRE_LINK_RESP
        | cmd::CANCEL_SM_RESP
        | cmd::REPLACE_SM_RESP
        | cmd::CANCEL_BROADCAST_SM_RESP => Ok(Body::Empty),
        _ => return None,
    };
    Some(parsed)
}

fn bind(r: &mut Reader) -> R<Body> {
    Ok(Body::Bind(Bind {
        system_id: r.cstr("system_id", SYSTEM_ID)?,
        password: r.cstr("password", PASSWORD)?,
        system_type: r.cstr("system_type", SYSTEM_TYPE)?,
        interface_version: r.u8("interface_version")?,
        addr_ton: r.u8("addr_ton")?,
        addr_npi: r.u8("addr_npi")?,
        address_range: r.cstr("address_range", ADDRESS_RANGE)?,
    }))
}

fn bind_resp(r: &mut Reader) -> R<Body> {
    if r.is_empty() {
        return Ok(Body::BindResp(BindResp::default()));
    }
    Ok(Body::BindResp(BindResp {
        system_id: r.cstr("system_id", SYSTEM_ID)?,
        tlvs: r.tlvs()?,
    }))
}

fn outbind(r: &mut Reader) -> R<Body> {
    Ok(Body::Outbind {
        system_id: r.cstr("system_id", SYSTEM_ID)?,
        password: r.cstr("password", PASSWORD)?,
    })
}

fn sm(r: &mut Reader) -> R<Sm> {
    Ok(Sm {
        service_type: r.cstr("service_type", SERVICE_TYPE)?,
        source: r.addr("source_addr", ADDR)?,
        dest: r.addr("destination_addr", ADDR)?,
        esm_class: r.u8("esm_class")?,
        protocol_id: r.u8("protocol_id")?,
        priority_flag: r.u8("priority_flag")?,
        schedule_delivery_time: r.cstr("schedule_delivery_time", TIME)?,
        validity_period: r.cstr("validity_period", TIME)?,
        registered_delivery: r.u8("registered_delivery")?,
        replace_if_present_flag: r.u8("replace_if_present_flag")?,
        data_coding: r.u8("data_coding")?,
        sm_default_msg_id: r.u8("sm_default_msg_id")?,
        short_message: r.short_message()?,
        tlvs: r.tlvs()?,
    })
}

/// message_id + TLVs, tolerating an empty body.
fn id_resp(r: &mut Reader) -> R<(String, Vec<Tlv>)> {
    if r.is_empty() {
        return Ok((String::new(), Vec::new()));
    }
    Ok((r.cstr("message_id", MESSAGE_ID)?, r.tlvs()?))
}

fn data_sm(r: &mut Reader) -> R<Body> {
    Ok(Body::DataSm(DataSm {
        service_type: r.cstr("service_type", SERVICE_TYPE)?,
        source: r.addr("source_addr", ADDR_65)?,
        dest: r.addr("destination_addr", ADDR_65)?,
        esm_class: r.u8("esm_class")?,
        registered_delivery: r.u8("registered_delivery")?,
        data_coding: r.u8("data_coding")?,
        tlvs: r.tlvs()?,
    }))
}

fn submit_multi(r: &mut Reader) -> R<Body> {
    let service_type = r.cstr("service_type", SERVICE_TYPE)?;
    let source = r.addr("source_addr", ADDR)?;
    let n = r.u8("number_of_dests")?;
    let mut dests = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        match r.u8("dest_flag")? {
            1 => dests.push(MultiDest::Sme(r.addr("destination_addr", ADDR)?)),
            2 => dests.push(MultiDest::DistributionList(r.cstr("dl_name", DL_NAME)?)),
            f => return Err(format!("invalid dest_flag {f}")),
        }
    }
    Ok(Body::SubmitMulti(SubmitMulti {
        service_type,
        source,
        dests,
        esm_class: r.u8("esm_class")?,
        protocol_id: r.u8("protocol_id")?,
        priority_flag: r.u8("priority_flag")?,
        schedule_delivery_time: r.cstr("schedule_delivery_time", TIME)?,
        validity_period: r.cstr("validity_period", TIME)?,
        registered_delivery: r.u8("registered_delivery")?,
        replace_if_present_flag: r.u8("replace_if_present_flag")?,
        data_coding: r.u8("data_coding")?,
        sm_default_msg_id: r.u8("sm_default_msg_id")?,
        short_message: r.short_message()?,
        tlvs: r.tlvs()?,
    }))
}

fn submit_multi_resp(r: &mut Reader) -> R<Body> {
    if r.is_empty() {
        return Ok(Body::SubmitMultiResp {
            message_id: String::new(),
            unsuccess: Vec::new(),
            tlvs: Vec::new(),
        });
    }
    let message_id = r.cstr("message_id", MESSAGE_ID)?;
    let n = r.u8("no_unsuccess")?;
    let mut unsuccess = Vec::with_capacity(usize::from(n));
    for _ in 0..n {
        unsuccess.push(UnsuccessSme {
            addr: r.addr("unsuccess dest_addr", ADDR)?,
            error_status: r.u32("error_status_code")?,
        });
    }
    Ok(Body::SubmitMultiResp {
        message_id,
        unsuccess,
        tlvs: r.tlvs()?,
    })
}

fn query_sm(r: &mut Reader) -> R<Body> {
    Ok(Body::QuerySm {
        message_id: r.cstr("message_id", MESSAGE_ID)?,
        source: r.addr("source_addr", ADDR)?,
    })
}

fn query_sm_resp(r: &mut Reader) -> R<Body> {
    if r.is_empty() {
        return Ok(Body::QuerySmResp {
            message_id: String::new(),
            final_date: String::new(),
            message_state: 0,
            error_code: 0,
        });
    }
    Ok(Body::QuerySmResp {
        message_id: r.cstr("message_id", MESSAGE_ID)?,
        final_date: r.cstr("final_date", TIME)?,
        message_state: r.u8("message_state")?,
        error_code: r.u8("error_code")?,
    })
}

fn cancel_sm(r: &mut Reader) -> R<Body> {
    Ok(Body::CancelSm {
        service_type: r.cstr("service_type", SERVICE_TYPE)?,
        message_id: r.cstr("message_id", MESSAGE_ID)?,
        source: r.addr("source_addr", ADDR)?,
        dest: r.addr("destination_addr", ADDR)?,
    })
}

fn replace_sm(r: &mut Reader) -> R<Body> {
    Ok(Body::ReplaceSm(ReplaceSm {
        message_id: r.cstr("message_id", MESSAGE_ID)?,
        source: r.addr("source_addr", ADDR)?,
        schedule_delivery_time: r.cstr("schedule_delivery_time", TIME)?,
        validity_period: r.cstr("validity_period", TIME)?,
        registered_delivery: r.u8("registered_delivery")?,
        sm_default_msg_id: r.u8("sm_default_msg_id")?,
        short_message: r.short_message()?,
        tlvs: r.tlvs()?,
    }))
}

fn alert_notification(r: &mut Reader) -> R<Body> {
    Ok(Body::AlertNotification {
        source: r.addr("source_addr", ADDR_65)?,
        esme: r.addr("esme_addr", ADDR_65)?,
        tlvs: r.tlvs()?,
    })
}

fn broadcast_sm(r: &mut Reader) -> R<Body> {
    Ok(Body::BroadcastSm(BroadcastSm {
        service_type: r.cstr("service_type", SERVICE_TYPE)?,
        source: r.addr("source_addr", ADDR)?,
        message_id: r.cstr("message_id", MESSAGE_ID)?,
        priority_flag: r.u8("priority_flag")?,
        schedule_delivery_time: r.cstr("schedule_delivery_time", TIME)?,
        validity_period: r.cstr("validity_period", TIME)?,
        replace_if_present_flag: r.u8("replace_if_present_flag")?,
        data_coding: r.u8("data_coding")?,
        sm_default_msg_id: r.u8("sm_default_msg_id")?,
        tlvs: r.tlvs()?,
    }))
}

fn query_broadcast_sm(r: &mut Reader) -> R<Body> {
    Ok(Body::QueryBroadcastSm(QueryBroadcastSm {
        message_id: r.cstr("message_id", MESSAGE_ID)?,
        source: r.addr("source_addr", ADDR)?,
        tlvs: r.tlvs()?,
    }))
}

fn cancel_broadcast_sm(r: &mut Reader) -> R<Body> {
    Ok(Body::CancelBroadcastSm(CancelBroadcastSm {
        service_type: r.cstr("service_type", SERVICE_TYPE)?,
        message_id: r.cstr("message_id", MESSAGE_ID)?,
        source: r.addr("source_addr", ADDR)?,
        tlvs: r.tlvs()?,
    }))
}

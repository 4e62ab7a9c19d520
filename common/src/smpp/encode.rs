//! PDU → bytes.
//!
//! One body writer runs over an `Out` sink; the same code both counts (`encoded_len`) and
//! writes ([`encode()`]), so the two can never disagree. Encoding never fails: values that cannot
//! be represented are adjusted so the frame stays well-formed (documented on each helper) —
//! a corrupt length field would desynchronise the whole session, which is worse.

use bytes::{BufMut, BytesMut};

use super::pdu::{Body, MultiDest, Pdu, SmppAddr, HEADER_LEN};
use super::tlv::{self, Tlv};

trait Out {
    fn bytes(&mut self, b: &[u8]);

    fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_be_bytes());
    }
    /// C-octet string: the text up to any embedded NUL (which would end it on the wire anyway)
    /// and the terminating NUL.
    fn cstr(&mut self, s: &str) {
        let b = s.as_bytes();
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        self.bytes(&b[..end]);
        self.u8(0);
    }
    fn addr(&mut self, a: &SmppAddr) {
        self.u8(a.ton);
        self.u8(a.npi);
        self.cstr(&a.addr);
    }
    /// A TLV value longer than 65535 octets cannot be framed; it is cut to fit.
    fn tlv(&mut self, t: &Tlv) {
        let n = t.value.len().min(usize::from(u16::MAX));
        self.u16(t.tag);
        self.u16(n as u16);
        self.bytes(&t.value[..n]);
    }
    fn tlvs(&mut self, tlvs: &[Tlv]) {
        for t in tlvs {
            self.tlv(t);
        }
    }
    /// sm_length + short_message + TLVs. sm_length is one octet, so content over 255 octets
    /// moves to a `message_payload` TLV (sm_length 0), or is cut to 255 if one already exists.
    fn short_message(&mut self, sm: &[u8], tlvs: &[Tlv]) {
        if sm.len() <= 255 {
            self.u8(sm.len() as u8);
            self.bytes(sm);
            self.tlvs(tlvs);
        } else if tlv::find(tlvs, tlv::MESSAGE_PAYLOAD).is_some() {
            self.u8(255);
            self.bytes(&sm[..255]);
            self.tlvs(tlvs);
        } else {
            self.u8(0);
            self.tlvs(tlvs);
            self.tlv(&Tlv::new(tlv::MESSAGE_PAYLOAD, sm.to_vec()));
        }
    }
}

impl Out for BytesMut {
    fn bytes(&mut self, b: &[u8]) {
        self.put_slice(b);
    }
}

/// Counts instead of writing.
struct Count(usize);

impl Out for Count {
    fn bytes(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
}

fn body<O: Out>(b: &Body, o: &mut O) {
    match b {
        Body::Bind(x) => {
            o.cstr(&x.system_id);
            o.cstr(&x.password);
            o.cstr(&x.system_type);
            o.u8(x.interface_version);
            o.u8(x.addr_ton);
            o.u8(x.addr_npi);
            o.cstr(&x.address_range);
        }
        Body::BindResp(x) => {
            o.cstr(&x.system_id);
            o.tlvs(&x.tlvs);
        }
        Body::Outbind {
            system_id,
            password,
        } => {
            o.cstr(system_id);
            o.cstr(password);
        }
        Body::SubmitSm(x) | Body::DeliverSm(x) => {
            o.cstr(&x.service_type);
            o.addr(&x.source);
            o.addr(&x.dest);
            o.u8(x.esm_class);
            o.u8(x.protocol_id);
            o.u8(x.priority_flag);
            o.cstr(&x.schedule_delivery_time);
            o.cstr(&x.validity_period);
            o.u8(x.registered_delivery);
            o.u8(x.replace_if_present_flag);
            o.u8(x.data_coding);
            o.u8(x.sm_default_msg_id);
            o.short_message(&x.short_message, &x.tlvs);
        }
        Body::SubmitSmResp { message_id, tlvs }
        | Body::DeliverSmResp { message_id, tlvs }
        | Body::DataSmResp { message_id, tlvs }
        | Body::BroadcastSmResp { message_id, tlvs }
        | Body::QueryBroadcastSmResp { message_id, tlvs } => {
            o.cstr(message_id);
            o.tlvs(tlvs);
        }
        Body::DataSm(x) => {
            o.cstr(&x.service_type);
            o.addr(&x.source);
            o.addr(&x.dest);
            o.u8(x.esm_class);
            o.u8(x.registered_delivery);
            o.u8(x.data_coding);
            o.tlvs(&x.tlvs);
        }
        Body::SubmitMulti(x) => {
            o.cstr(&x.service_type);
            o.addr(&x.source);
            let n = x.dests.len().min(255);
            o.u8(n as u8);
            for d in &x.dests[..n] {
                match d {
                    MultiDest::Sme(a) => {
                        o.u8(1);
                        o.addr(a);
                    }
                    MultiDest::DistributionList(name) => {
                        o.u8(2);
                        o.cstr(name);
                    }
                }
            }
            o.u8(x.esm_class);
            o.u8(x.protocol_id);
            o.u8(x.priority_flag);
            o.cstr(&x.schedule_delivery_time);
            o.cstr(&x.validity_period);
            o.u8(x.registered_delivery);
            o.u8(x.replace_if_present_flag);
            o.u8(x.data_coding);
            o.u8(x.sm_default_msg_id);
            o.short_message(&x.short_message, &x.tlvs);
        }
        Body::SubmitMultiResp {
            message_id,
            unsuccess,
            tlvs,
        } => {
            o.cstr(message_id);
            let n = unsuccess.len().min(255);
            o.u8(n as u8);
            for u in &unsuccess[..n] {
                o.addr(&u.addr);
                o.u32(u.error_status);
            }
            o.tlvs(tlvs);
        }
        Body::QuerySm { message_id, source } => {
            o.cstr(message_id);
            o.addr(source);
        }
        Body::QuerySmResp {
            message_id,
            final_date,
            message_state,
            error_code,
        } => {
            o.cstr(message_id);
            o.cstr(final_date);
            o.u8(*message_state);
            o.u8(*error_code);
        }
        Body::CancelSm {
            service_type,
            message_id,
            source,
            dest,
        } => {
            o.cstr(service_type);
            o.cstr(message_id);
            o.addr(source);
            o.addr(dest);
        }
        Body::ReplaceSm(x) => {
            o.cstr(&x.message_id);
            o.addr(&x.source);
            o.cstr(&x.schedule_delivery_time);
            o.cstr(&x.validity_period);
            o.u8(x.registered_delivery);
            o.u8(x.sm_default_msg_id);
            o.short_message(&x.short_message, &x.tlvs);
        }
        Body::AlertNotification { source, esme, tlvs } => {
            o.addr(source);
            o.addr(esme);
            o.tlvs(tlvs);
        }
        Body::BroadcastSm(x) => {
            o.cstr(&x.service_type);
            o.addr(&x.source);
            o.cstr(&x.message_id);
            o.u8(x.priority_flag);
            o.cstr(&x.schedule_delivery_time);
            o.cstr(&x.validity_period);
            o.u8(x.replace_if_present_flag);
            o.u8(x.data_coding);
            o.u8(x.sm_default_msg_id);
            o.tlvs(&x.tlvs);
        }
        Body::QueryBroadcastSm(x) => {
            o.cstr(&x.message_id);
            o.addr(&x.source);
            o.tlvs(&x.tlvs);
        }
        Body::CancelBroadcastSm(x) => {
            o.cstr(&x.service_type);
            o.cstr(&x.message_id);
            o.addr(&x.source);
            o.tlvs(&x.tlvs);
        }
        Body::Empty => {}
    }
}

impl Pdu {
    /// Length of the encoded PDU including the 16-octet header (= command_length). Defined
    /// here, with the encoder it measures, so the PDU types need nothing of the encoder.
    pub fn encoded_len(&self) -> usize {
        encoded_len(self)
    }
}

/// command_length of `pdu` once encoded.
pub(crate) fn encoded_len(pdu: &Pdu) -> usize {
    let mut c = Count(HEADER_LEN);
    body(&pdu.body, &mut c);
    c.0
}

/// Appends `pdu` to `out`, header first, with command_length set to the real frame length.
///
/// The body is written as given: the header's `command_id` is not checked against the body
/// variant, so a mismatch produces a frame the peer will reject. An error response may use
/// [`Body::Empty`] to omit the body, as SMPP 3.4 prescribes.
pub fn encode(pdu: &Pdu, out: &mut BytesMut) {
    let len = encoded_len(pdu);
    out.reserve(len);
    out.put_u32(len as u32);
    out.put_u32(pdu.command_id);
    out.put_u32(pdu.status);
    out.put_u32(pdu.sequence);
    body(&pdu.body, out);
}

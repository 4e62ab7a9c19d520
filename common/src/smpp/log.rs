//! One-line PDU rendering in EMG's log format, so operators can grep our logs as they did EMG's.
//!
//! `Write op:0x00000009 (BIND_TRANSCEIVER) status:0 trn:11638 datalen:22 INTERFACEVERSION:52
//! PASSWORD:******** SYSTEMID:user` — header first, then the body fields EMG-style: names upper
//! case without underscores, only non-empty / non-zero values, sorted by name (as EMG does),
//! TLVs by their spec name. Passwords are always masked, unlike EMG: logs get shared.

use std::fmt::Write as _;

use super::pdu::{Body, MultiDest, Pdu, SmppAddr, HEADER_LEN};
use super::tlv::{self, Tlv};

/// Which way the PDU travelled, from our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Read,
    Write,
}

/// What replaces any password in the log.
const MASK: &str = "********";

/// Collects `NAME:value` pairs, skipping empty and zero values.
#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn s(&mut self, name: &str, v: &str) {
        if !v.is_empty() {
            self.0.push((name.to_string(), v.to_string()));
        }
    }
    fn n(&mut self, name: &str, v: impl Into<u64>) {
        let v = v.into();
        if v != 0 {
            self.0.push((name.to_string(), v.to_string()));
        }
    }
    fn addr(&mut self, name: &str, a: &SmppAddr) {
        self.n(&format!("{name}TON"), a.ton);
        self.n(&format!("{name}NPI"), a.npi);
        self.s(name, &a.addr);
    }
    fn octets(&mut self, name: &str, v: &[u8]) {
        if !v.is_empty() {
            self.0.push((name.to_string(), printable(v)));
        }
    }
    fn tlvs(&mut self, tlvs: &[Tlv]) {
        for t in tlvs {
            let name = match tlv::name(t.tag) {
                "UNKNOWN" => format!("TLV{:#06x}", t.tag),
                n => n.replace('_', ""),
            };
            let value = match t.as_uint() {
                Some(v) if tlv::is_integer(t.tag) => v.to_string(),
                _ => printable(&t.value),
            };
            self.0.push((name, value));
        }
    }
}

/// Text when every octet is printable ASCII (a trailing NUL is dropped), else lower-case hex.
fn printable(v: &[u8]) -> String {
    let text = v.strip_suffix(&[0]).unwrap_or(v);
    if !text.is_empty() && text.iter().all(|b| (0x20..0x7f).contains(b)) {
        String::from_utf8_lossy(text).into_owned()
    } else {
        v.iter()
            .fold(String::with_capacity(v.len() * 2), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }
}

/// The PDU log line without timestamp and connector prefix. `datalen` is the body length
/// (command_length - 16) of the PDU as this codec encodes it.
pub fn log_line(dir: Direction, pdu: &Pdu) -> String {
    let mut f = Fields::default();
    fields(&pdu.body, &mut f);
    f.0.sort_by(|a, b| a.0.cmp(&b.0));
    let mut line = format!(
        "{} op:{:#010x} ({}) status:{} trn:{} datalen:{}",
        match dir {
            Direction::Read => "Read",
            Direction::Write => "Write",
        },
        pdu.command_id,
        pdu.name(),
        pdu.status,
        pdu.sequence,
        pdu.encoded_len() - HEADER_LEN
    );
    for (name, value) in f.0 {
        let _ = write!(line, " {name}:{value}");
    }
    line
}

fn fields(body: &Body, f: &mut Fields) {
    match body {
        Body::Bind(b) => {
            f.s("SYSTEMID", &b.system_id);
            if !b.password.is_empty() {
                f.s("PASSWORD", MASK);
            }
            f.s("SYSTEMTYPE", &b.system_type);
            f.n("INTERFACEVERSION", b.interface_version);
            f.n("ADDRTON", b.addr_ton);
            f.n("ADDRNPI", b.addr_npi);
            f.s("ADDRESSRANGE", &b.address_range);
        }
        Body::BindResp(b) => {
            f.s("SYSTEMID", &b.system_id);
            f.tlvs(&b.tlvs);
        }
        Body::Outbind {
            system_id,
            password,
        } => {
            f.s("SYSTEMID", system_id);
            if !password.is_empty() {
                f.s("PASSWORD", MASK);
            }
        }
        Body::SubmitSm(s) | Body::DeliverSm(s) => {
            f.s("SERVICETYPE", &s.service_type);
            f.addr("SOURCEADDR", &s.source);
            f.addr("DESTADDR", &s.dest);
            f.n("ESMCLASS", s.esm_class);
            f.n("PROTOCOLID", s.protocol_id);
            f.n("PRIORITYFLAG", s.priority_flag);
            f.s("SCHEDULEDELIVERYTIME", &s.schedule_delivery_time);
            f.s("VALIDITYPERIOD", &s.validity_period);
            f.n("REGISTEREDDELIVERY", s.registered_delivery);
            f.n("REPLACEIFPRESENTFLAG", s.replace_if_present_flag);
            f.n("DATACODING", s.data_coding);
            f.n("SMDEFAULTMSGID", s.sm_default_msg_id);
            f.octets("SHORTMESSAGE", &s.short_message);
            f.tlvs(&s.tlvs);
        }
        Body::SubmitSmResp { message_id, tlvs }
        | Body::DeliverSmResp { message_id, tlvs }
        | Body::DataSmResp { message_id, tlvs }
        | Body::BroadcastSmResp { message_id, tlvs }
        | Body::QueryBroadcastSmResp { message_id, tlvs } => {
            f.s("MESSAGEID", message_id);
            f.tlvs(tlvs);
        }
        Body::DataSm(d) => {
            f.s("SERVICETYPE", &d.service_type);
            f.addr("SOURCEADDR", &d.source);
            f.addr("DESTADDR", &d.dest);
            f.n("ESMCLASS", d.esm_class);
            f.n("REGISTEREDDELIVERY", d.registered_delivery);
            f.n("DATACODING", d.data_coding);
            f.tlvs(&d.tlvs);
        }
        Body::SubmitMulti(m) => {
            f.s("SERVICETYPE", &m.service_type);
            f.addr("SOURCEADDR", &m.source);
            f.n("NUMBEROFDESTS", m.dests.len() as u64);
            let dests: Vec<String> = m
                .dests
                .iter()
                .map(|d| match d {
                    MultiDest::Sme(a) => a.addr.clone(),
                    MultiDest::DistributionList(n) => format!("dl:{n}"),
                })
                .collect();
            f.s("DESTADDR", &dests.join(","));
            f.n("ESMCLASS", m.esm_class);
            f.n("PROTOCOLID", m.protocol_id);
            f.n("PRIORITYFLAG", m.priority_flag);
            f.s("SCHEDULEDELIVERYTIME", &m.schedule_delivery_time);
            f.s("VALIDITYPERIOD", &m.validity_period);
            f.n("REGISTEREDDELIVERY", m.registered_delivery);
            f.n("REPLACEIFPRESENTFLAG", m.replace_if_present_flag);
            f.n("DATACODING", m.data_coding);
            f.n("SMDEFAULTMSGID", m.sm_default_msg_id);
            f.octets("SHORTMESSAGE", &m.short_message);
            f.tlvs(&m.tlvs);
        }
        Body::SubmitMultiResp {
            message_id,
            unsuccess,
            tlvs,
        } => {
            f.s("MESSAGEID", message_id);
            f.n("NOUNSUCCESS", unsuccess.len() as u64);
            let list: Vec<String> = unsuccess
                .iter()
                .map(|u| format!("{}/{}", u.addr.addr, u.error_status))
                .collect();
            f.s("UNSUCCESSSME", &list.join(","));
            f.tlvs(tlvs);
        }
        Body::QuerySm { message_id, source } => {
            f.s("MESSAGEID", message_id);
            f.addr("SOURCEADDR", source);
        }
        Body::QuerySmResp {
            message_id,
            final_date,
            message_state,
            error_code,
        } => {
            f.s("MESSAGEID", message_id);
            f.s("FINALDATE", final_date);
            f.n("MESSAGESTATE", *message_state);
            f.n("ERRORCODE", *error_code);
        }
        Body::CancelSm {
            service_type,
            message_id,
            source,
            dest,
        } => {
            f.s("SERVICETYPE", service_type);
            f.s("MESSAGEID", message_id);
            f.addr("SOURCEADDR", source);
            f.addr("DESTADDR", dest);
        }
        Body::ReplaceSm(r) => {
            f.s("MESSAGEID", &r.message_id);
            f.addr("SOURCEADDR", &r.source);
            f.s("SCHEDULEDELIVERYTIME", &r.schedule_delivery_time);
            f.s("VALIDITYPERIOD", &r.validity_period);
            f.n("REGISTEREDDELIVERY", r.registered_delivery);
            f.n("SMDEFAULTMSGID", r.sm_default_msg_id);
            f.octets("SHORTMESSAGE", &r.short_message);
            f.tlvs(&r.tlvs);
        }
        Body::AlertNotification { source, esme, tlvs } => {
            f.addr("SOURCEADDR", source);
            f.addr("ESMEADDR", esme);
            f.tlvs(tlvs);
        }
        Body::BroadcastSm(b) => {
            f.s("SERVICETYPE", &b.service_type);
            f.addr("SOURCEADDR", &b.source);
            f.s("MESSAGEID", &b.message_id);
            f.n("PRIORITYFLAG", b.priority_flag);
            f.s("SCHEDULEDELIVERYTIME", &b.schedule_delivery_time);
            f.s("VALIDITYPERIOD", &b.validity_period);
            f.n("REPLACEIFPRESENTFLAG", b.replace_if_present_flag);
            f.n("DATACODING", b.data_coding);
            f.n("SMDEFAULTMSGID", b.sm_default_msg_id);
            f.tlvs(&b.tlvs);
        }
        Body::QueryBroadcastSm(q) => {
            f.s("MESSAGEID", &q.message_id);
            f.addr("SOURCEADDR", &q.source);
            f.tlvs(&q.tlvs);
        }
        Body::CancelBroadcastSm(c) => {
            f.s("SERVICETYPE", &c.service_type);
            f.s("MESSAGEID", &c.message_id);
            f.addr("SOURCEADDR", &c.source);
            f.tlvs(&c.tlvs);
        }
        Body::Empty => {}
    }
}

//! The typed PDU: header fields plus one [`Body`] variant per body layout.
//!
//! Several commands share a layout (the three binds, submit_sm/deliver_sm, the empty bodies);
//! they share a variant and the header's `command_id` says which command it is. That keeps the
//! enum small and lets the daemon handle e.g. every bind in one match arm.

use bytes::Bytes;

use super::command;
use super::tlv::{self, Tlv};

/// Size of the PDU header: command_length, command_id, command_status, sequence_number.
pub const HEADER_LEN: usize = 16;

/// Type of number, numbering plan indicator and address, as they appear together on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SmppAddr {
    pub ton: u8,
    pub npi: u8,
    pub addr: String,
}

impl SmppAddr {
    /// Shorthand for building addresses in code and tests.
    pub fn new(ton: u8, npi: u8, addr: impl Into<String>) -> SmppAddr {
        SmppAddr {
            ton,
            npi,
            addr: addr.into(),
        }
    }
}

/// bind_transmitter / bind_receiver / bind_transceiver body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bind {
    pub system_id: String,
    pub password: String,
    pub system_type: String,
    /// 0x33 for SMPP 3.3, 0x34 for 3.4, 0x50 for 5.0.
    pub interface_version: u8,
    pub addr_ton: u8,
    pub addr_npi: u8,
    pub address_range: String,
}

/// Body of the three bind responses. Empty (`system_id` empty, no TLVs) when a peer sends an
/// error response without a body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BindResp {
    pub system_id: String,
    /// Usually only `sc_interface_version`; SMPP 3.3 peers send none.
    pub tlvs: Vec<Tlv>,
}

/// submit_sm and deliver_sm body (identical layouts).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sm {
    pub service_type: String,
    pub source: SmppAddr,
    pub dest: SmppAddr,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: String,
    pub validity_period: String,
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    /// Up to 255 octets on the wire (sm_length is one octet); the encoder moves longer content
    /// into a `message_payload` TLV rather than emit a corrupt frame.
    pub short_message: Bytes,
    pub tlvs: Vec<Tlv>,
}

impl Sm {
    /// The value of the first TLV with `tag`.
    pub fn tlv(&self, tag: u16) -> Option<&Bytes> {
        tlv::find(&self.tlvs, tag).map(|t| &t.value)
    }

    /// The user data: the `message_payload` TLV when present and `short_message` is empty
    /// (the spec forbids using both), else `short_message`.
    pub fn payload(&self) -> &[u8] {
        payload(&self.short_message, &self.tlvs)
    }
}

fn payload<'a>(short_message: &'a Bytes, tlvs: &'a [Tlv]) -> &'a [u8] {
    if short_message.is_empty() {
        if let Some(t) = tlv::find(tlvs, tlv::MESSAGE_PAYLOAD) {
            return &t.value;
        }
    }
    short_message
}

/// data_sm body: addresses and a few flags; everything else travels in TLVs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataSm {
    pub service_type: String,
    pub source: SmppAddr,
    pub dest: SmppAddr,
    pub esm_class: u8,
    pub registered_delivery: u8,
    pub data_coding: u8,
    pub tlvs: Vec<Tlv>,
}

impl DataSm {
    /// The value of the first TLV with `tag`.
    pub fn tlv(&self, tag: u16) -> Option<&Bytes> {
        tlv::find(&self.tlvs, tag).map(|t| &t.value)
    }

    /// The `message_payload` TLV, or empty.
    pub fn payload(&self) -> &[u8] {
        self.tlv(tlv::MESSAGE_PAYLOAD).map_or(&[][..], |b| b)
    }
}

/// One destination of a submit_multi (dest_flag 1 or 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiDest {
    /// dest_flag 1: an SME address.
    Sme(SmppAddr),
    /// dest_flag 2: a distribution list name defined on the SMSC.
    DistributionList(String),
}

/// submit_multi body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmitMulti {
    pub service_type: String,
    pub source: SmppAddr,
    /// At most 255 (number_of_dests is one octet); the encoder writes the first 255.
    pub dests: Vec<MultiDest>,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    pub schedule_delivery_time: String,
    pub validity_period: String,
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    pub short_message: Bytes,
    pub tlvs: Vec<Tlv>,
}

impl SubmitMulti {
    /// Same rule as [`Sm::payload`].
    pub fn payload(&self) -> &[u8] {
        payload(&self.short_message, &self.tlvs)
    }
}

/// A destination the SMSC refused, in submit_multi_resp.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnsuccessSme {
    pub addr: SmppAddr,
    /// A `command_status` value saying why.
    pub error_status: u32,
}

/// replace_sm body. TLVs (only `message_payload`) exist from SMPP 5.0 on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplaceSm {
    pub message_id: String,
    pub source: SmppAddr,
    pub schedule_delivery_time: String,
    pub validity_period: String,
    pub registered_delivery: u8,
    pub sm_default_msg_id: u8,
    pub short_message: Bytes,
    pub tlvs: Vec<Tlv>,
}

/// broadcast_sm body (SMPP 5.0 §4.4.1). The broadcast area, content type, repetition and
/// frequency are mandatory TLVs; they stay in `tlvs` in wire order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BroadcastSm {
    pub service_type: String,
    pub source: SmppAddr,
    pub message_id: String,
    pub priority_flag: u8,
    pub schedule_delivery_time: String,
    pub validity_period: String,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    pub tlvs: Vec<Tlv>,
}

/// query_broadcast_sm body (SMPP 5.0 §4.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryBroadcastSm {
    pub message_id: String,
    pub source: SmppAddr,
    pub tlvs: Vec<Tlv>,
}

/// cancel_broadcast_sm body (SMPP 5.0 §4.6.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CancelBroadcastSm {
    pub service_type: String,
    pub message_id: String,
    pub source: SmppAddr,
    pub tlvs: Vec<Tlv>,
}

/// A PDU body, one variant per wire layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// bind_transmitter / bind_receiver / bind_transceiver.
    Bind(Bind),
    /// The three bind responses.
    BindResp(BindResp),
    Outbind {
        system_id: String,
        password: String,
    },
    SubmitSm(Sm),
    DeliverSm(Sm),
    /// `message_id` is empty when an error response came without a body.
    SubmitSmResp {
        message_id: String,
        tlvs: Vec<Tlv>,
    },
    DeliverSmResp {
        message_id: String,
        tlvs: Vec<Tlv>,
    },
    DataSm(DataSm),
    DataSmResp {
        message_id: String,
        tlvs: Vec<Tlv>,
    },
    SubmitMulti(SubmitMulti),
    SubmitMultiResp {
        message_id: String,
        unsuccess: Vec<UnsuccessSme>,
        tlvs: Vec<Tlv>,
    },
    QuerySm {
        message_id: String,
        source: SmppAddr,
    },
    QuerySmResp {
        message_id: String,
        final_date: String,
        message_state: u8,
        error_code: u8,
    },
    CancelSm {
        service_type: String,
        message_id: String,
        source: SmppAddr,
        dest: SmppAddr,
    },
    ReplaceSm(ReplaceSm),
    AlertNotification {
        source: SmppAddr,
        esme: SmppAddr,
        tlvs: Vec<Tlv>,
    },
    BroadcastSm(BroadcastSm),
    BroadcastSmResp {
        message_id: String,
        tlvs: Vec<Tlv>,
    },
    QueryBroadcastSm(QueryBroadcastSm),
    /// message_state, broadcast_area_identifier and broadcast_area_success are mandatory TLVs.
    QueryBroadcastSmResp {
        message_id: String,
        tlvs: Vec<Tlv>,
    },
    CancelBroadcastSm(CancelBroadcastSm),
    /// unbind(_resp), enquire_link(_resp), generic_nack, cancel_sm_resp, replace_sm_resp,
    /// cancel_broadcast_sm_resp. Also valid for any response whose error carries no body.
    Empty,
}

/// One SMPP PDU: the header fields (command_length is derived when encoding) and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    pub command_id: u32,
    pub status: u32,
    pub sequence: u32,
    pub body: Body,
}

impl Pdu {
    /// A request (status 0).
    pub fn new(command_id: u32, sequence: u32, body: Body) -> Pdu {
        Pdu {
            command_id,
            status: 0,
            sequence,
            body,
        }
    }

    /// The response to this PDU: `command_id | 0x8000_0000`, same sequence.
    pub fn response(&self, status: u32, body: Body) -> Pdu {
        Pdu {
            command_id: self.command_id | command::RESPONSE_BIT,
            status,
            sequence: self.sequence,
            body,
        }
    }

    /// A generic_nack carrying `status` for the PDU numbered `sequence` (0 when unknown).
    pub fn generic_nack(sequence: u32, status: u32) -> Pdu {
        Pdu {
            command_id: command::GENERIC_NACK,
            status,
            sequence,
            body: Body::Empty,
        }
    }

    /// True when the response bit is set (generic_nack included).
    pub fn is_response(&self) -> bool {
        self.command_id & command::RESPONSE_BIT != 0
    }

    /// The command's spec name, e.g. `"SUBMIT_SM_RESP"`.
    pub fn name(&self) -> &'static str {
        command::name(self.command_id)
    }
}

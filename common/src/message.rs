//! The message as it travels through the gateway, independent of any protocol.

use serde::{Deserialize, Serialize};

/// Gateway-wide message id. With several nodes sharing a store, the top digits carry the
/// node id (EMG's NODEID), so ids never collide.
pub type MessageId = u64;

/// Largest node id; `id = nodeid * NODE_ID_FACTOR + sequence`.
pub const MAX_NODE_ID: u64 = 8999;
/// Multiplier that places the node id in the top digits of a message id.
pub const NODE_ID_FACTOR: u64 = 1_000_000_000_000_000;

/// EMG's MSGTYPE values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum MsgType {
    #[default]
    Sms,
    Dlr,
    Email,
    Mms,
    WapPush,
}

impl MsgType {
    /// The numeric MSGTYPE EMG uses (SMS 1, DLR 5, EMAIL 6, MMS 7, WAPPUSH 9).
    pub fn code(self) -> u8 {
        match self {
            MsgType::Sms => 1,
            MsgType::Dlr => 5,
            MsgType::Email => 6,
            MsgType::Mms => 7,
            MsgType::WapPush => 9,
        }
    }
}

/// An address with its SMPP type of number and numbering plan indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Address {
    pub ton: u8,
    pub npi: u8,
    pub addr: String,
}

impl Address {
    pub fn new(addr: impl Into<String>) -> Self {
        Address {
            ton: 1,
            npi: 1,
            addr: addr.into(),
        }
    }
}

/// Where a message entered the gateway: used to send its delivery report back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Origin {
    /// Receiving connector.
    pub connector: String,
    /// Authenticated user (system id / HTTP user), if the protocol has one.
    pub user: Option<String>,
    /// Account charged for the message (the user's account, or the user itself).
    pub account: Option<String>,
    /// The id the sender knows this message by, when the sender chose it.
    pub client_ref: Option<String>,
    /// HTTP senders: the URL their delivery reports are called back on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// HTTP senders: `GET` or `POST` (default) for the callback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_method: Option<String>,
    /// HTTP senders: which reports to call back, as Kannel's dlr-mask bits (1 delivered,
    /// 2 failed, 4 intermediate, 16 rejected); 0 means the final ones.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub callback_mask: u8,
    /// The client session it was submitted on (incoming SMPP), for the receipt session
    /// policy (`dlr_session`): its report goes back on that session, or one from its IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionRef>,
}

/// One client session of an incoming connector, as long as it stays bound: the connector
/// instance it holds and when it bound (an instance serves one session at a time), and the
/// client's IP address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRef {
    pub instance: u32,
    /// Unix time, microseconds, of the bind.
    pub bound_us: i64,
    pub ip: String,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

/// A message queued for, or travelling to, one connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Message {
    pub id: MessageId,
    pub msgtype: MsgType,
    pub source: Address,
    pub dest: Address,
    /// Data coding scheme as in SMPP (0 default alphabet, 3 Latin-1, 4 binary, 8 UCS-2...).
    pub data_coding: u8,
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority: u8,
    /// The user data exactly as it will be encoded (UDH included when `esm_class & 0x40`).
    pub body: Vec<u8>,
    /// The sender asked for a delivery report.
    pub dlr_requested: bool,
    pub origin: Origin,
    /// Connector whose queue holds the message.
    pub target: String,
    /// For an addressed-back message (DLR or MO) on an incoming connector: only a session
    /// of this user may take it.
    pub target_user: Option<String>,
    /// For a DLR: the message it reports on, and what it reports.
    pub dlr: Option<DlrInfo>,
    /// Unix time, microseconds, when the gateway accepted the message.
    pub received_us: i64,
    /// Unix time, microseconds; after it the message expires in queue.
    pub expires_us: Option<i64>,
    /// Number of delivery attempts so far.
    pub attempts: u32,
    /// What the sender is charged (EMG's CHARGE), as a plugin tagged it. A decimal, never a
    /// float: money adds up exactly. Stored with the message as a string such as `"0.05"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<rust_decimal::Decimal>,
    /// What sending it costs (EMG's CHARGE_COST), as a plugin tagged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<rust_decimal::Decimal>,
    /// Optional parameters the sender gave that emgd carries to the next hop without acting
    /// on them (SMPP TLVs such as user_message_reference, the ports, callback_num).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlvs: Vec<PassedTlv>,
    /// Unix time, microseconds, before which the message must not leave (SMPP
    /// schedule_delivery_time, EMG's DELTIME): it waits in its queue until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_at_us: Option<i64>,
    /// The routing-table entry that chose `target` (its `name`, else `FILE:LINE`), for the
    /// routelog; `None` before routing and for messages routed otherwise (reports, replies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_entry: Option<String>,
    /// The SME acknowledgement bits (0x04 delivery, 0x08 manual/user) of the sender's SMPP
    /// registered_delivery: they ask the handset's application, not us, so they are passed
    /// to an SMPP next hop as they came.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sme_ack: u8,
}

/// One optional parameter carried through: its SMPP tag and value as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassedTlv {
    pub tag: u16,
    pub value: Vec<u8>,
}

impl Message {
    /// How long the message must still wait before it may leave (its `deliver_at_us`).
    pub fn wait_before_sending(&self, now_us: i64) -> Option<std::time::Duration> {
        self.deliver_at_us
            .filter(|&t| t > now_us)
            .map(|t| std::time::Duration::from_micros((t - now_us) as u64))
    }

    /// For one part of a long message (a UDH concatenation element in the body): which long
    /// message it belongs to and which part it is.
    pub fn concat(&self) -> Option<crate::gsm::Concat> {
        if self.esm_class & 0x40 == 0 {
            return None;
        }
        crate::gsm::Udh::split(&self.body).ok()?.0.concat()
    }

    /// How many parts the message is sent as (what a per-part price multiplies): a body
    /// longer than one short message is split (with an 8-bit concatenation header, the common
    /// case); a body that already is one part of a long message, or one that cannot be split,
    /// counts once.
    pub fn parts(&self) -> u32 {
        // 140 octets fit one short message in every coding (GSM text is one byte a septet
        // here, 160 of them fit): the common case needs no split.
        if self.esm_class & 0x40 != 0 || self.body.len() <= 140 {
            return 1;
        }
        crate::concat::split::split_encoded(
            &self.body,
            self.data_coding,
            crate::concat::split::Method::Udh8,
            0,
        )
        .map(|p| p.len().max(1) as u32)
        .unwrap_or(1)
    }
}

/// The report a DLR message carries about an earlier message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DlrInfo {
    /// Our id of the message this report is about.
    pub message_id: MessageId,
    /// The id the origin knows that message by (our id unless it chose its own).
    pub reported_id: String,
    pub status: crate::dlr::DlrStatus,
    /// Protocol error code from the far end, 0 when none.
    pub error: u32,
    /// Unix time, microseconds, when the original was submitted.
    pub submit_us: i64,
    /// Unix time, microseconds, of the final state.
    pub done_us: i64,
    /// First characters of the original text, for the receipt's `text:` field.
    pub text: String,
}

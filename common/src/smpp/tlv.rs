//! Optional-parameter (TLV) tags (SMPP 3.4 §5.3.2, SMPP 5.0 §4.8.4) and the [`Tlv`] value type.
//!
//! TLVs are kept raw (tag + bytes) and in wire order: a gateway must forward parameters it does
//! not understand, and re-encoding must not reorder what a peer sent. Typed accessors exist for
//! the few the daemon reads.

use bytes::Bytes;

macro_rules! tags {
    ($($name:ident = $val:expr),* $(,)?) => {
        $(#[allow(missing_docs)] pub const $name: u16 = $val;)*

        /// Every tag this module names.
        pub const ALL: &[u16] = &[$($name),*];

        /// The spec name in upper case (`"SC_INTERFACE_VERSION"`), or `"UNKNOWN"`.
        pub fn name(tag: u16) -> &'static str {
            match tag {
                $($name => stringify!($name),)*
                _ => "UNKNOWN",
            }
        }
    };
}

tags! {
    DEST_ADDR_SUBUNIT = 0x0005,
    DEST_NETWORK_TYPE = 0x0006,
    DEST_BEARER_TYPE = 0x0007,
    DEST_TELEMATICS_ID = 0x0008,
    SOURCE_ADDR_SUBUNIT = 0x000D,
    SOURCE_NETWORK_TYPE = 0x000E,
    SOURCE_BEARER_TYPE = 0x000F,
    SOURCE_TELEMATICS_ID = 0x0010,
    QOS_TIME_TO_LIVE = 0x0017,
    PAYLOAD_TYPE = 0x0019,
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D,
    RECEIPTED_MESSAGE_ID = 0x001E,
    MS_MSG_WAIT_FACILITIES = 0x0030,
    PRIVACY_INDICATOR = 0x0201,
    SOURCE_SUBADDRESS = 0x0202,
    DEST_SUBADDRESS = 0x0203,
    USER_MESSAGE_REFERENCE = 0x0204,
    USER_RESPONSE_CODE = 0x0205,
    SOURCE_PORT = 0x020A,
    DESTINATION_PORT = 0x020B,
    SAR_MSG_REF_NUM = 0x020C,
    LANGUAGE_INDICATOR = 0x020D,
    SAR_TOTAL_SEGMENTS = 0x020E,
    SAR_SEGMENT_SEQNUM = 0x020F,
    SC_INTERFACE_VERSION = 0x0210,
    CALLBACK_NUM_PRES_IND = 0x0302,
    CALLBACK_NUM_ATAG = 0x0303,
    NUMBER_OF_MESSAGES = 0x0304,
    CALLBACK_NUM = 0x0381,
    DPF_RESULT = 0x0420,
    SET_DPF = 0x0421,
    MS_AVAILABILITY_STATUS = 0x0422,
    NETWORK_ERROR_CODE = 0x0423,
    MESSAGE_PAYLOAD = 0x0424,
    DELIVERY_FAILURE_REASON = 0x0425,
    MORE_MESSAGES_TO_SEND = 0x0426,
    MESSAGE_STATE = 0x0427,
    CONGESTION_STATE = 0x0428,
    USSD_SERVICE_OP = 0x0501,
    BROADCAST_CHANNEL_INDICATOR = 0x0600,
    BROADCAST_CONTENT_TYPE = 0x0601,
    BROADCAST_CONTENT_TYPE_INFO = 0x0602,
    BROADCAST_MESSAGE_CLASS = 0x0603,
    BROADCAST_REP_NUM = 0x0604,
    BROADCAST_FREQUENCY_INTERVAL = 0x0605,
    BROADCAST_AREA_IDENTIFIER = 0x0606,
    BROADCAST_ERROR_STATUS = 0x0607,
    BROADCAST_AREA_SUCCESS = 0x0608,
    BROADCAST_END_TIME = 0x0609,
    BROADCAST_SERVICE_GROUP = 0x060A,
    BILLING_IDENTIFICATION = 0x060B,
    SOURCE_NETWORK_ID = 0x060D,
    DEST_NETWORK_ID = 0x060E,
    SOURCE_NODE_ID = 0x060F,
    DEST_NODE_ID = 0x0610,
    DEST_ADDR_NP_RESOLUTION = 0x0611,
    DEST_ADDR_NP_INFORMATION = 0x0612,
    DEST_ADDR_NP_COUNTRY = 0x0613,
    DISPLAY_TIME = 0x1201,
    SMS_SIGNAL = 0x1203,
    MS_VALIDITY = 0x1204,
    ALERT_ON_MESSAGE_DELIVERY = 0x130C,
    ITS_REPLY_TYPE = 0x1380,
    ITS_SESSION_INFO = 0x1383,
}

/// Tags whose value is an unsigned integer (1, 2 or 4 octets); the PDU log prints them in decimal.
/// How an operator reads a TLV: its name in lower case (or its tag) and its value in hex,
/// `user_message_reference=0007`.
pub fn describe(tag: u16, value: &[u8]) -> String {
    let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
    match name(tag) {
        "UNKNOWN" => format!("0x{tag:04x}={hex}"),
        n => format!("{}={hex}", n.to_ascii_lowercase()),
    }
}

pub fn is_integer(tag: u16) -> bool {
    matches!(
        tag,
        DEST_ADDR_SUBUNIT
            | DEST_NETWORK_TYPE
            | DEST_BEARER_TYPE
            | DEST_TELEMATICS_ID
            | SOURCE_ADDR_SUBUNIT
            | SOURCE_NETWORK_TYPE
            | SOURCE_BEARER_TYPE
            | SOURCE_TELEMATICS_ID
            | QOS_TIME_TO_LIVE
            | PAYLOAD_TYPE
            | MS_MSG_WAIT_FACILITIES
            | PRIVACY_INDICATOR
            | USER_MESSAGE_REFERENCE
            | USER_RESPONSE_CODE
            | SOURCE_PORT
            | DESTINATION_PORT
            | SAR_MSG_REF_NUM
            | LANGUAGE_INDICATOR
            | SAR_TOTAL_SEGMENTS
            | SAR_SEGMENT_SEQNUM
            | SC_INTERFACE_VERSION
            | CALLBACK_NUM_PRES_IND
            | NUMBER_OF_MESSAGES
            | DPF_RESULT
            | SET_DPF
            | MS_AVAILABILITY_STATUS
            | DELIVERY_FAILURE_REASON
            | MORE_MESSAGES_TO_SEND
            | MESSAGE_STATE
            | CONGESTION_STATE
            | USSD_SERVICE_OP
            | BROADCAST_CHANNEL_INDICATOR
            | BROADCAST_MESSAGE_CLASS
            | BROADCAST_REP_NUM
            | DEST_ADDR_NP_RESOLUTION
            | DISPLAY_TIME
            | SMS_SIGNAL
            | ITS_REPLY_TYPE
    )
}

/// One optional parameter as it appeared on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u16,
    pub value: Bytes,
}

impl Tlv {
    /// A TLV with raw bytes.
    pub fn new(tag: u16, value: impl Into<Bytes>) -> Tlv {
        Tlv {
            tag,
            value: value.into(),
        }
    }

    /// A one-octet integer TLV (`sc_interface_version`, `message_state`, ...).
    pub fn u8(tag: u16, v: u8) -> Tlv {
        Tlv::new(tag, vec![v])
    }

    /// A two-octet big-endian integer TLV (`sar_msg_ref_num`, `user_message_reference`, ...).
    pub fn u16(tag: u16, v: u16) -> Tlv {
        Tlv::new(tag, v.to_be_bytes().to_vec())
    }

    /// A four-octet big-endian integer TLV (`qos_time_to_live`).
    pub fn u32(tag: u16, v: u32) -> Tlv {
        Tlv::new(tag, v.to_be_bytes().to_vec())
    }

    /// A C-octet string TLV (`receipted_message_id`): the text plus the NUL the spec requires.
    pub fn cstr(tag: u16, s: &str) -> Tlv {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        Tlv::new(tag, v)
    }

    /// The value as an unsigned integer when it is 1, 2 or 4 octets long.
    pub fn as_uint(&self) -> Option<u32> {
        match self.value.len() {
            1 => Some(u32::from(self.value[0])),
            2 => Some(u32::from(u16::from_be_bytes([
                self.value[0],
                self.value[1],
            ]))),
            4 => Some(u32::from_be_bytes([
                self.value[0],
                self.value[1],
                self.value[2],
                self.value[3],
            ])),
            _ => None,
        }
    }

    /// The value as text, without the trailing NUL(s). Tolerates peers that omit the NUL.
    pub fn as_str(&self) -> String {
        let end = self
            .value
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.value.len());
        String::from_utf8_lossy(&self.value[..end]).into_owned()
    }
}

/// The first TLV with `tag`, if any.
pub fn find(tlvs: &[Tlv], tag: u16) -> Option<&Tlv> {
    tlvs.iter().find(|t| t.tag == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        assert_eq!(Tlv::u8(SC_INTERFACE_VERSION, 0x34).as_uint(), Some(0x34));
        assert_eq!(Tlv::u16(SAR_MSG_REF_NUM, 0x1234).as_uint(), Some(0x1234));
        assert_eq!(Tlv::u32(QOS_TIME_TO_LIVE, 7).as_uint(), Some(7));
        assert_eq!(Tlv::new(NETWORK_ERROR_CODE, vec![3, 0, 1]).as_uint(), None);
        assert_eq!(Tlv::cstr(RECEIPTED_MESSAGE_ID, "abc").as_str(), "abc");
        assert_eq!(Tlv::new(RECEIPTED_MESSAGE_ID, &b"abc"[..]).as_str(), "abc");
        assert_eq!(name(0x0424), "MESSAGE_PAYLOAD");
        assert_eq!(name(0x1400), "UNKNOWN");
    }
}

//! `command_id` values (SMPP 3.4 §5.1.2, SMPP 5.0 §4.7.5).
//!
//! Plain `u32` constants: the header carries the raw id, and an unknown id must still be
//! reported (and nacked) with the value the peer sent.

/// Bit set in every response `command_id`.
pub const RESPONSE_BIT: u32 = 0x8000_0000;

macro_rules! ids {
    ($($name:ident = $val:expr),* $(,)?) => {
        $(#[allow(missing_docs)] pub const $name: u32 = $val;)*

        /// Every command id this codec knows, requests and responses.
        pub const ALL: &[u32] = &[$($name),*];

        /// The spec name in upper case (`"BIND_TRANSCEIVER"`, `"SUBMIT_SM_RESP"`), or `"UNKNOWN"`.
        pub fn name(id: u32) -> &'static str {
            match id {
                $($name => stringify!($name),)*
                _ => "UNKNOWN",
            }
        }
    };
}

ids! {
    GENERIC_NACK = 0x8000_0000,
    BIND_RECEIVER = 0x0000_0001,
    BIND_RECEIVER_RESP = 0x8000_0001,
    BIND_TRANSMITTER = 0x0000_0002,
    BIND_TRANSMITTER_RESP = 0x8000_0002,
    QUERY_SM = 0x0000_0003,
    QUERY_SM_RESP = 0x8000_0003,
    SUBMIT_SM = 0x0000_0004,
    SUBMIT_SM_RESP = 0x8000_0004,
    DELIVER_SM = 0x0000_0005,
    DELIVER_SM_RESP = 0x8000_0005,
    UNBIND = 0x0000_0006,
    UNBIND_RESP = 0x8000_0006,
    REPLACE_SM = 0x0000_0007,
    REPLACE_SM_RESP = 0x8000_0007,
    CANCEL_SM = 0x0000_0008,
    CANCEL_SM_RESP = 0x8000_0008,
    BIND_TRANSCEIVER = 0x0000_0009,
    BIND_TRANSCEIVER_RESP = 0x8000_0009,
    OUTBIND = 0x0000_000B,
    ENQUIRE_LINK = 0x0000_0015,
    ENQUIRE_LINK_RESP = 0x8000_0015,
    SUBMIT_MULTI = 0x0000_0021,
    SUBMIT_MULTI_RESP = 0x8000_0021,
    ALERT_NOTIFICATION = 0x0000_0102,
    DATA_SM = 0x0000_0103,
    DATA_SM_RESP = 0x8000_0103,
    // SMPP 5.0 cell broadcast.
    BROADCAST_SM = 0x0000_0111,
    BROADCAST_SM_RESP = 0x8000_0111,
    QUERY_BROADCAST_SM = 0x0000_0112,
    QUERY_BROADCAST_SM_RESP = 0x8000_0112,
    CANCEL_BROADCAST_SM = 0x0000_0113,
    CANCEL_BROADCAST_SM_RESP = 0x8000_0113,
}

/// True for the ids of the three bind requests.
pub fn is_bind(id: u32) -> bool {
    matches!(id, BIND_RECEIVER | BIND_TRANSMITTER | BIND_TRANSCEIVER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(name(BIND_TRANSCEIVER), "BIND_TRANSCEIVER");
        assert_eq!(name(SUBMIT_SM | RESPONSE_BIT), "SUBMIT_SM_RESP");
        assert_eq!(name(GENERIC_NACK), "GENERIC_NACK");
        assert_eq!(name(0x42), "UNKNOWN");
    }
}

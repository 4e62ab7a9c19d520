//! Delivery-report states, as SMPP receipts spell them, plus the gateway's own failures.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The state a delivery report tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DlrStatus {
    Enroute,
    Delivered,
    Expired,
    Deleted,
    Undeliverable,
    Accepted,
    Unknown,
    Rejected,
    Skipped,
}

impl DlrStatus {
    /// All states, for tables and tests.
    pub const ALL: [DlrStatus; 9] = [
        DlrStatus::Enroute,
        DlrStatus::Delivered,
        DlrStatus::Expired,
        DlrStatus::Deleted,
        DlrStatus::Undeliverable,
        DlrStatus::Accepted,
        DlrStatus::Unknown,
        DlrStatus::Rejected,
        DlrStatus::Skipped,
    ];

    /// The `stat:` word of an SMPP receipt text.
    pub fn stat_word(self) -> &'static str {
        match self {
            DlrStatus::Enroute => "ENROUTE",
            DlrStatus::Delivered => "DELIVRD",
            DlrStatus::Expired => "EXPIRED",
            DlrStatus::Deleted => "DELETED",
            DlrStatus::Undeliverable => "UNDELIV",
            DlrStatus::Accepted => "ACCEPTD",
            DlrStatus::Unknown => "UNKNOWN",
            DlrStatus::Rejected => "REJECTD",
            DlrStatus::Skipped => "SKIPPED",
        }
    }

    /// SMPP `message_state` TLV value (SMPP 3.4 §5.2.28).
    pub fn message_state(self) -> u8 {
        match self {
            DlrStatus::Enroute => 1,
            DlrStatus::Delivered => 2,
            DlrStatus::Expired => 3,
            DlrStatus::Deleted => 4,
            DlrStatus::Undeliverable => 5,
            DlrStatus::Accepted => 6,
            DlrStatus::Unknown => 7,
            DlrStatus::Rejected => 8,
            DlrStatus::Skipped => 9,
        }
    }

    /// A final state ends the message's life; ENROUTE and ACCEPTD do not.
    /// This state's bit in a report mask ([`mask`]).
    pub fn mask_bit(self) -> u8 {
        match self {
            DlrStatus::Delivered => mask::DELIVERED,
            DlrStatus::Enroute | DlrStatus::Accepted => mask::BUFFERED,
            DlrStatus::Rejected => mask::REJECTED,
            _ => mask::FAILED,
        }
    }

    pub fn is_final(self) -> bool {
        !matches!(self, DlrStatus::Enroute | DlrStatus::Accepted)
    }
}

/// Which delivery reports a sender wants, as Kannel's dlr-mask bits: HTTP senders name them,
/// an SMPP sender's registered_delivery maps onto them. 0 means the final ones.
pub mod mask {
    pub const DELIVERED: u8 = 1;
    pub const FAILED: u8 = 2;
    /// Intermediate: ENROUTE, ACCEPTD (SMPP's intermediate notification).
    pub const BUFFERED: u8 = 4;
    pub const REJECTED: u8 = 16;
    /// Final reports only: what a sender gets when it names no mask.
    pub const FINAL: u8 = DELIVERED | FAILED | REJECTED;

    /// Whether a sender whose mask is `wanted` (0: the final ones) wants a report of `status`.
    pub fn wants(wanted: u8, status: super::DlrStatus) -> bool {
        let wanted = if wanted == 0 { FINAL } else { wanted };
        wanted & status.mask_bit() != 0
    }
}

impl fmt::Display for DlrStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stat_word())
    }
}

/// Parse error for a receipt state word.
#[derive(Debug, thiserror::Error)]
#[error("unknown delivery state {0:?}")]
pub struct UnknownState(pub String);

impl FromStr for DlrStatus {
    type Err = UnknownState;
    /// Accepts the receipt words and the long names operators type (`delivered`, `undeliverable`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase();
        let found = match up.as_str() {
            "ENROUTE" => DlrStatus::Enroute,
            "DELIVRD" | "DELIVERED" => DlrStatus::Delivered,
            "EXPIRED" => DlrStatus::Expired,
            "DELETED" => DlrStatus::Deleted,
            "UNDELIV" | "UNDELIVERABLE" => DlrStatus::Undeliverable,
            "ACCEPTD" | "ACCEPTED" => DlrStatus::Accepted,
            "UNKNOWN" => DlrStatus::Unknown,
            "REJECTD" | "REJECTED" => DlrStatus::Rejected,
            "SKIPPED" => DlrStatus::Skipped,
            _ => return Err(UnknownState(s.to_string())),
        };
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for s in DlrStatus::ALL {
            assert_eq!(s.stat_word().parse::<DlrStatus>().unwrap(), s);
        }
        assert_eq!(
            "delivered".parse::<DlrStatus>().unwrap(),
            DlrStatus::Delivered
        );
        assert!("DELIVERD".parse::<DlrStatus>().is_err());
    }

    #[test]
    fn message_states_are_distinct_and_match_smpp() {
        let states: Vec<u8> = DlrStatus::ALL.iter().map(|s| s.message_state()).collect();
        assert_eq!(states, vec![1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
}

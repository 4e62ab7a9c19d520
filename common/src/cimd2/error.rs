//! What can go wrong between bytes and packets, and how each is answered.
//!
//! CIMD2 has three ways to refuse: NACK (99) for a packet whose checksum is wrong (the sender
//! retransmits), the general error response (98) for an operation that is unknown or cannot
//! be read (error 1 or 2), and the operation's own response with an error code in 900 for a
//! bad parameter. Responses are never answered; only requests are.

use super::op;

/// The readable part of a packet's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub op: u8,
    pub number: u8,
}

/// Why bytes could not be turned into a [`Packet`](super::frame::Packet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Octets between packets were skipped (the spec says to ignore them).
    #[error("{skipped} octets outside any packet were skipped")]
    Garbage { skipped: usize },
    /// An STX came before the ETX of the packet it started: that start was dropped.
    #[error("packet of {skipped} octets without ETX dropped at the next STX")]
    Unterminated { skipped: usize },
    /// No ETX within the bound. Nothing was consumed and framing cannot be trusted: close.
    #[error("no ETX within {max} octets ({len} buffered)")]
    Oversized { len: usize, max: usize },
    /// The packet was consumed but its operation code or packet number is unreadable.
    #[error("unreadable packet header: {reason}")]
    BadHeader { reason: String },
    /// The checksum does not match: answer NACK.
    #[error("bad checksum in {} packet {:03}: it says {declared}, the content sums to {computed:02X}", op::name(.header.op), .header.number)]
    BadChecksum {
        header: Header,
        declared: String,
        computed: u8,
    },
    /// An operation code this codec does not know: answer error 1.
    #[error("operation {:02} is not known (packet {:03})", .header.op, .header.number)]
    UnsupportedOperation { header: Header },
    /// A parameter is not `PPP:value`, or the checksum field is neither empty nor two hex
    /// digits: answer error 2.
    #[error("malformed {} packet {:03}: {reason}", op::name(.header.op), .header.number)]
    Malformed { header: Header, reason: String },
    /// A known parameter's value breaks its type or length: answer the operation's response
    /// with error 8.
    #[error("{} packet {:03}: {reason}", op::name(.header.op), .header.number)]
    BadParameter {
        header: Header,
        code: u16,
        reason: String,
    },
}

impl DecodeError {
    /// True when the session must be closed.
    pub fn is_fatal(&self) -> bool {
        matches!(self, DecodeError::Oversized { .. })
    }

    pub fn header(&self) -> Option<Header> {
        match self {
            DecodeError::BadChecksum { header, .. }
            | DecodeError::UnsupportedOperation { header }
            | DecodeError::Malformed { header, .. }
            | DecodeError::BadParameter { header, .. } => Some(*header),
            _ => None,
        }
    }
}

/// Why a packet could not be written. Nothing is written when encoding fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A value holds TAB, STX or ETX, which would end it early.
    #[error("parameter {code:03} holds {found:#04x}, which cannot appear in a CIMD2 value")]
    BadOctet { code: u16, found: u8 },
    /// Codes are three digits.
    #[error("parameter code {0} is above 999")]
    BadCode(u16),
    /// Operation codes are two digits.
    #[error("operation code {0} is above 99")]
    BadOperation(u8),
}

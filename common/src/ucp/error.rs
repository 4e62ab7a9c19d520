//! What can go wrong between bytes and frames, and the EC codes a negative result carries.
//!
//! Every decode error says whether the session can go on ([`DecodeError::is_fatal`]) and, when
//! the broken frame was an operation whose header could still be read, which negative result
//! answers it ([`DecodeError::nack`]): a bad checksum is EC 01, a wrong length or bad field
//! EC 02, an unknown operation EC 03, as the spec's error table says.

use super::ot::{Kind, Ot};

/// The EC field of a negative result (two digits on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub u8);

impl ErrorCode {
    pub const CHECKSUM: ErrorCode = ErrorCode(1);
    pub const SYNTAX: ErrorCode = ErrorCode(2);
    pub const OPERATION_NOT_SUPPORTED: ErrorCode = ErrorCode(3);
    pub const OPERATION_NOT_ALLOWED: ErrorCode = ErrorCode(4);
    pub const CALL_BARRING_ACTIVE: ErrorCode = ErrorCode(5);
    pub const ADC_INVALID: ErrorCode = ErrorCode(6);
    pub const AUTHENTICATION_FAILURE: ErrorCode = ErrorCode(7);
    pub const LEGITIMISATION_CODE_ALL_CALLS: ErrorCode = ErrorCode(8);
    pub const GA_NOT_VALID: ErrorCode = ErrorCode(9);
    pub const REPETITION_NOT_ALLOWED: ErrorCode = ErrorCode(10);
    pub const PRIORITY_NOT_ALLOWED: ErrorCode = ErrorCode(12);
    pub const DEFERRED_DELIVERY_NOT_ALLOWED: ErrorCode = ErrorCode(18);
    pub const TIME_PERIOD_NOT_VALID: ErrorCode = ErrorCode(22);
    pub const MESSAGE_TYPE_NOT_SUPPORTED: ErrorCode = ErrorCode(23);
    pub const MESSAGE_TOO_LONG: ErrorCode = ErrorCode(24);
    pub const MESSAGE_NOT_FOUND: ErrorCode = ErrorCode(27);

    /// The spec's name for the code, or `"unknown error code"`.
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "checksum error",
            2 => "syntax error",
            3 => "operation not supported by system",
            4 => "operation not allowed",
            5 => "call barring active",
            6 => "AdC invalid",
            7 => "authentication failure",
            8 => "legitimisation code for all calls, failure",
            9 => "GA not valid",
            10 => "repetition not allowed",
            11 => "legitimisation code for repetition, failure",
            12 => "priority call not allowed",
            13 => "legitimisation code for priority call, failure",
            14 => "urgent message not allowed",
            15 => "legitimisation code for urgent message, failure",
            16 => "reverse charging not allowed",
            17 => "legitimisation code for reverse charging, failure",
            18 => "deferred delivery not allowed",
            19 => "new AC not valid",
            20 => "new legitimisation code not valid",
            21 => "standard text not valid",
            22 => "time period not valid",
            23 => "message type not supported by system",
            24 => "message too long",
            25 => "requested standard text not valid",
            26 => "message type not valid for the pager type",
            27 => "message not found in SMSC",
            30 => "subscriber hang-up",
            31 => "fax group not supported",
            32 => "fax message type not supported",
            33 => "address already in list",
            34 => "address not in list",
            35 => "list full, cannot add address to list",
            36 => "RPID already in use",
            37 => "delivery in progress",
            38 => "message forwarded",
            _ => "unknown error code",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02} ({})", self.0, self.name())
    }
}

/// The part of a frame's header that was readable: enough to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub trn: u8,
    pub kind: Kind,
    pub ot: u8,
}

/// Why bytes could not be turned into a [`Frame`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Octets before the next STX were thrown away. Nothing to answer; the stream goes on.
    #[error("{skipped} octets outside any frame were skipped")]
    Garbage { skipped: usize },
    /// An STX came before the ETX of the frame it started: the unterminated start was dropped
    /// and decoding resumes at the new STX.
    #[error("frame of {skipped} octets without ETX dropped at the next STX")]
    Unterminated { skipped: usize },
    /// No ETX within the bound. Nothing was consumed and framing cannot be trusted: close.
    #[error("no ETX within {max} octets ({len} buffered)")]
    Oversized { len: usize, max: usize },
    /// The frame was consumed but its TRN, O/R or OT could not be read, so it cannot be
    /// answered.
    #[error("unreadable frame header: {reason}")]
    BadHeader { reason: String },
    /// The checksum does not match the frame: answer EC 01.
    #[error("bad checksum in {} trn {:02}: frame says {declared}, content sums to {computed:02X}", op_name(.header), .header.trn)]
    BadChecksum {
        header: Header,
        declared: String,
        computed: u8,
    },
    /// LEN disagrees with the frame: answer EC 02.
    #[error("bad length in {} trn {:02}: LEN says {declared}, the frame has {actual} characters", op_name(.header), .header.trn)]
    BadLength {
        header: Header,
        declared: String,
        actual: usize,
    },
    /// An operation type this codec does not know: answer EC 03.
    #[error("operation {:02} is not supported (trn {:02})", .header.ot, .header.trn)]
    UnsupportedOperation { header: Header },
    /// The frame is framed and checksummed correctly but a field breaks the spec: answer
    /// with `ec` (usually EC 02).
    #[error("malformed {} trn {:02}: {reason}", op_name(.header), .header.trn)]
    Malformed {
        header: Header,
        ec: ErrorCode,
        reason: String,
    },
}

fn op_name(h: &Header) -> String {
    let name = Ot::from_code(h.ot).map_or("unknown operation", |o| o.name());
    match h.kind {
        Kind::Operation => format!("{name} operation"),
        Kind::Result => format!("{name} result"),
    }
}

impl DecodeError {
    /// True when the session must be closed.
    pub fn is_fatal(&self) -> bool {
        matches!(self, DecodeError::Oversized { .. })
    }

    /// The header of the frame, when it could be read.
    pub fn header(&self) -> Option<Header> {
        match self {
            DecodeError::BadChecksum { header, .. }
            | DecodeError::BadLength { header, .. }
            | DecodeError::UnsupportedOperation { header }
            | DecodeError::Malformed { header, .. } => Some(*header),
            _ => None,
        }
    }

    /// The EC that answers this error.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            DecodeError::BadChecksum { .. } => ErrorCode::CHECKSUM,
            DecodeError::UnsupportedOperation { .. } => ErrorCode::OPERATION_NOT_SUPPORTED,
            DecodeError::Malformed { ec, .. } => *ec,
            _ => ErrorCode::SYNTAX,
        }
    }
}

/// Why a frame could not be written. Nothing is written when encoding fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A field holds a character that would break the framing (`/`, STX, ETX) or is not
    /// printable ASCII (IRA): send such content hex-encoded, as the message fields are.
    #[error("field {field} holds {found:?}, which cannot appear in a UCP field")]
    BadCharacter { field: &'static str, found: char },
    /// The TRN is two digits.
    #[error("transaction reference {0} is above 99")]
    BadTrn(u8),
    /// The frame would be longer than LEN's five digits can say.
    #[error("frame of {0} characters is too long for UCP's 5-digit length")]
    TooLong(usize),
    /// The body does not belong to the operation type (for instance an MVP in the result of
    /// an operation whose result has none, or 5x fields under OT 60).
    #[error("operation {ot:02}: {reason}")]
    Mismatch { ot: u8, reason: String },
    /// A number does not fit its fixed-width field.
    #[error("field {field}: {value} does not fit in {width} digits")]
    TooWide {
        field: &'static str,
        value: u32,
        width: usize,
    },
    /// An extra-services item longer than its one-octet length can say.
    #[error("XSer item {kind:#04x} has {len} octets, more than 255")]
    XSerTooLong { kind: u8, len: usize },
}

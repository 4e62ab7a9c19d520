//! Sans-io UCP/EMI codec (CMG/LogicaCMG "EMI - UCP Interface" 4.x): bytes in, typed [`Frame`]s
//! out, and back.
//!
//! A UCP frame is text: `STX TRN/LEN/O|R/OT/field/field/.../CS ETX`, with a two-digit
//! transaction reference, a five-digit length (every character between STX and ETX), the
//! operation type and a two-hex-digit checksum (the low byte of the sum of everything from the
//! TRN up to the last `/`). Fields are positional and each operation has its own list, so the
//! typed bodies in [`ops`] mirror the spec's tables one field at a time.
//!
//! - [`decode()`] / [`encode()`]: framing, length and checksum checks ([`mod@frame`]).
//! - [`ops`]: the bodies of operations 01, 02, 03, 30, 31, 51–58, 60 and 61, and of their
//!   positive and negative results.
//! - [`content`]: the message field by MT (numeric, IRA-hex alphanumeric, transparent data)
//!   and the GSM-packed alphanumeric originator (OTOA 5039).
//! - [`xser`]: the extra services field (UDH, DCS, billing identifier, ...).
//! - [`ErrorCode`]: the EC values a negative result carries.
//! - [`log_line`]: PDU log lines in the shape of EMG's SMPP lines.
//!
//! Nothing here touches a socket or a clock; the daemon owns the session and its window.

pub mod content;
pub mod error;
pub mod field;
pub mod frame;
pub mod log;
pub mod ops;
pub mod ot;
pub mod xser;

pub use content::{decode_alphanumeric, encode_alphanumeric, Content};
pub use error::{DecodeError, EncodeError, ErrorCode, Header};
pub use frame::{checksum, decode, decode_frame, encode, Body, Frame, Kind, Ot};
pub use log::log_line;
pub use ops::{Ack, Alert, CallInput, CallInputSs, MultipleCallInput, Nack, Session, Sm, Transfer};
pub use xser::{XSer, XSerItem};

/// Start of a frame.
pub const STX: u8 = 0x02;
/// End of a frame.
pub const ETX: u8 = 0x03;
/// The field separator.
pub const SEP: u8 = b'/';

/// Default bound on a frame, STX and ETX included. The longest real frames (a 5x with a full
/// transparent message and a UDH in XSer) stay under 2 KiB; the bound stops a peer that never
/// sends ETX from making us buffer without end. The wire format allows up to 100 001 octets.
pub const DEFAULT_MAX_FRAME_LEN: usize = 4096;

/// The next transaction reference after `trn`: 00..99, then round again.
pub fn next_trn(trn: u8) -> u8 {
    (trn + 1) % 100
}

//! Sans-io CIMD2 codec (Nokia "CIMD Interface Specification", CIMD 2): bytes in, typed
//! [`Packet`]s out, and back.
//!
//! A packet is text: `STX ZZ:NNN TAB (PPP:value TAB)* [CC] ETX`, with a two-digit operation
//! code, a three-digit packet number (odd from the client, even from the SMSC), parameters by
//! three-digit code and an optional two-hex-digit checksum (the low byte of the sum of every
//! octet from STX to the last TAB). Parameters are not positional, so a packet is a list of
//! them; [`message`] gives typed views of the packets that carry messages.
//!
//! - [`decode()`] / [`encode()`]: framing, header, checksum, and the format of every known
//!   parameter ([`mod@frame`], [`param`]).
//! - [`op`]: the operation codes and their names.
//! - [`text`]: the CIMD2 representation of the GSM alphabet inside User Data (033).
//! - [`message`]: login, submit / deliver, status report views.
//! - [`status`]: error codes, status codes and status report request bits.
//! - [`log_line`]: PDU log lines in the shape of EMG's SMPP lines.

pub mod error;
pub mod frame;
pub mod log;
pub mod message;
pub mod op;
pub mod param;
pub mod status;
pub mod text;

pub use error::{DecodeError, EncodeError, Header};
pub use frame::{checksum, decode, decode_packet, encode, Packet, Param};
pub use log::log_line;
pub use message::{Login, ShortMessage, StatusReport, UserData};

/// Start of a packet.
pub const STX: u8 = 0x02;
/// End of a packet.
pub const ETX: u8 = 0x03;
/// Ends the header and every parameter.
pub const TAB: u8 = 0x09;

/// Default bound on a packet, STX and ETX included: the longest parameters (user data 480,
/// UDH and binary data 280 each as hex) and the rest stay well under 2 KiB.
pub const DEFAULT_MAX_PACKET_LEN: usize = 4096;

/// The packet number after `n` on the same side: the client counts 1, 3, ..., 255, 1; the
/// SMSC 0, 2, ..., 254, 0.
pub fn next_number(n: u8) -> u8 {
    match n {
        254 => 0,
        255 => 1,
        n => n + 2,
    }
}

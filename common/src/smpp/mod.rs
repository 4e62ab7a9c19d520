//! Sans-io SMPP 3.3 / 3.4 / 5.0 codec: bytes in, typed [`Pdu`]s out, and back.
//!
//! Nothing here touches a socket or a clock, so the whole protocol surface is testable with
//! byte strings (and fuzzable). The daemon owns the session state machine; this module only
//! knows the wire format.
//!
//! - [`decode()`] / [`encode()`]: framing and body layouts (modules [`mod@decode`], [`mod@encode`]).
//! - [`pdu`]: the typed PDU and its bodies.
//! - [`command`], [`status`], [`tlv`]: the spec's number spaces with their names.
//! - [`log_line`]: EMG-compatible PDU log lines.
//! - [`Receipt`]: the delivery receipt text inside deliver_sm.

pub mod command;
pub mod decode;
pub mod encode;
pub mod log;
pub mod pdu;
pub mod receipt;
pub mod status;
pub mod time;
pub mod tlv;

pub use decode::{decode, decode_frame, DecodeError};
pub use encode::encode;
pub use log::{log_line, Direction};
pub use pdu::{
    Bind, BindResp, Body, BroadcastSm, CancelBroadcastSm, DataSm, MultiDest, Pdu, QueryBroadcastSm,
    ReplaceSm, Sm, SmppAddr, SubmitMulti, UnsuccessSme, HEADER_LEN,
};
pub use receipt::Receipt;
pub use time::{parse_time, relative_time, BadTime};
pub use tlv::Tlv;

/// Default upper bound on command_length. Real PDUs stay far below (a submit_sm with a full
/// message_payload is ~64 KiB); the bound stops a peer from making us buffer gigabytes.
pub const DEFAULT_MAX_PDU_LEN: u32 = 65_536;

/// A decoded frame. [`decode()`] returns `Option<Pdu>` directly; this wrapper exists for callers
/// that want to extend the set of decode outcomes without changing their signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Pdu(Pdu),
}

impl From<Pdu> for Decoded {
    fn from(p: Pdu) -> Decoded {
        Decoded::Pdu(p)
    }
}

//! Sans-io SMS TPDU codec (3GPP TS 23.040) as GSM modems speak it in PDU mode (TS 27.005).
//!
//! A modem takes and gives short messages as hex strings of one TPDU, usually preceded by the
//! service centre address (SCA, TS 24.011 RP-address). This module turns those bytes into typed
//! values and back; the AT dialogue around them is [`crate::at`], the modem connector lives in
//! `emgd`. Text coding, packing and UDHs come from [`crate::gsm`], long-message splitting from
//! [`crate::concat`].
//!
//! - [`Submit`] (MS → SC): what we send with `AT+CMGS`. Encoded by us, decoded too (the test
//!   modem reads what real software sends it).
//! - [`Deliver`] (SC → MS): a received message; [`StatusReport`] (SC → MS): a delivery report
//!   matched by message reference and recipient.
//! - [`Tpdu::decode`] needs the direction because the message type indicator means different
//!   things each way; [`decode_with_sca`] / [`encode_with_sca`] handle the SCA in front.
//!
//! Decoding is bounded and total: any byte string gives a value or a [`PduError`], never a
//! panic. Encoding refuses what the wire cannot carry (user data over 140 octets, addresses
//! over 20 digits) rather than truncating.

pub mod address;
pub mod dcs;
pub mod deliver;
pub mod hex;
pub mod reader;
pub mod status_report;
pub mod submit;
pub mod time;
pub mod user_data;

pub use address::{decode_sca, encode_sca, is_alphanumeric, ADDRESS_ALPHANUMERIC};
pub use dcs::{coding_of_dcs, dcs_for_coding};
pub use deliver::Deliver;
pub use hex::{from_hex, to_hex};
pub use status_report::{ReportStatus, StatusReport};
pub use submit::{submit_parts, submit_text, Submit, SubmitOptions};
pub use time::{Timestamp, Validity};
pub use user_data::UserData;

use crate::message::Address;
use thiserror::Error;

/// User data carries at most 140 octets (160 packed septets).
pub const MAX_USER_DATA: usize = 140;

/// An address field carries at most 20 digits (10 octets after its length and type octets).
pub const MAX_ADDRESS_DIGITS: usize = 20;

/// Why a PDU could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PduError {
    /// The PDU ended inside the named field.
    #[error("PDU ends inside {0}")]
    Truncated(&'static str),
    /// Octets left over after the last field (a wrong length somewhere).
    #[error("{0} octets after the end of the TPDU")]
    Trailing(usize),
    /// A message type this codec does not handle in that direction.
    #[error("unsupported message type {mti:#04b} ({name})")]
    Unsupported { mti: u8, name: &'static str },
    /// A field value the spec does not allow.
    #[error("{field}: {why}")]
    Invalid {
        field: &'static str,
        why: &'static str,
    },
    /// Encoding: the user data does not fit one short message.
    #[error("user data of {0} octets is over the 140 a short message carries")]
    UserDataTooLong(usize),
    /// Encoding: the address cannot be written as an address field.
    #[error("address {addr:?}: {why}")]
    BadAddress { addr: String, why: &'static str },
    /// Encoding: the text or body does not fit the coding or cannot be split.
    #[error(transparent)]
    Split(#[from] crate::concat::SplitError),
    /// A UDH that the UDHI flag announced but could not be parsed, or could not be encoded.
    #[error(transparent)]
    Udh(#[from] crate::gsm::UdhError),
    /// A hex string with a character that is not a hex digit, or of odd length.
    #[error("not a hex string: {0}")]
    Hex(&'static str),
}

/// Which way a TPDU travels. The two-bit message type indicator is read according to it:
/// 00 is SMS-DELIVER towards the MS and SMS-DELIVER-REPORT from it, 01 SMS-SUBMIT from the MS
/// and SMS-SUBMIT-REPORT towards it, 10 SMS-STATUS-REPORT towards it and SMS-COMMAND from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Service centre to mobile station: what a modem has received.
    ToMs,
    /// Mobile station to service centre: what a modem sends (or keeps as a stored draft).
    FromMs,
}

/// One decoded TPDU of a type this codec handles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tpdu {
    Deliver(Deliver),
    Submit(Submit),
    StatusReport(StatusReport),
}

impl Tpdu {
    /// Decodes one TPDU (no SCA in front) travelling `dir`.
    pub fn decode(tpdu: &[u8], dir: Direction) -> Result<Tpdu, PduError> {
        let first = *tpdu.first().ok_or(PduError::Truncated("first octet"))?;
        match (first & 0x03, dir) {
            (0b00, Direction::ToMs) => Deliver::decode(tpdu).map(Tpdu::Deliver),
            (0b01, Direction::FromMs) => Submit::decode(tpdu).map(Tpdu::Submit),
            (0b10, Direction::ToMs) => StatusReport::decode(tpdu).map(Tpdu::StatusReport),
            (mti, dir) => Err(PduError::Unsupported {
                mti,
                name: match (mti, dir) {
                    (0b00, _) => "SMS-DELIVER-REPORT",
                    (0b01, _) => "SMS-SUBMIT-REPORT",
                    (0b10, _) => "SMS-COMMAND",
                    _ => "reserved",
                },
            }),
        }
    }

    /// Encodes the TPDU (no SCA in front).
    pub fn encode(&self) -> Result<Vec<u8>, PduError> {
        match self {
            Tpdu::Deliver(d) => d.encode(),
            Tpdu::Submit(s) => s.encode(),
            Tpdu::StatusReport(r) => r.encode(),
        }
    }
}

/// Decodes a modem PDU: SCA first (`None` when its length octet is 0, "the modem's default"),
/// then the TPDU.
pub fn decode_with_sca(pdu: &[u8], dir: Direction) -> Result<(Option<Address>, Tpdu), PduError> {
    let (sca, tpdu) = decode_sca(pdu)?;
    Ok((sca, Tpdu::decode(tpdu, dir)?))
}

/// Encodes SCA + TPDU as `AT+CMGS` wants them, returning the PDU and the TPDU length that
/// `AT+CMGS=<length>` announces (the SCA does not count). `sca: None` writes the one-octet
/// "use the modem's SCA"; a modem that wants no SCA octet at all (EMG's `nosca`) gets
/// [`Tpdu::encode`] alone.
pub fn encode_with_sca(sca: Option<&Address>, tpdu: &Tpdu) -> Result<(Vec<u8>, usize), PduError> {
    let mut out = encode_sca(sca)?;
    let body = tpdu.encode()?;
    let len = body.len();
    out.extend_from_slice(&body);
    Ok((out, len))
}

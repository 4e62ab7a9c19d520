//! SMPP frames for the runtime: `common::smpp`'s sans-io codec as a [`Codec`], and which PDUs
//! answer our requests.

use crate::connector::runtime::driver::{BadFrame, Codec, Dir, Kind};
use crate::connector::runtime::window::SeqSpace;
use bytes::BytesMut;
use common::smpp::{command, decode, encode, log_line, Direction, Pdu, DEFAULT_MAX_PDU_LEN};

/// SMPP sequence numbers: 1 to 0x7FFFFFFF, then 1 again (3.4 §5.1.4).
pub const SEQUENCES: SeqSpace = SeqSpace {
    first: 1,
    last: 0x7FFF_FFFF,
    step: 1,
};

pub struct SmppCodec;

impl Codec for SmppCodec {
    type Frame = Pdu;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Pdu>, BadFrame<Pdu>> {
        decode(buf, DEFAULT_MAX_PDU_LEN).map_err(|e| BadFrame {
            info: e.to_string(),
            reply: Some(Pdu::generic_nack(
                e.sequence().unwrap_or(0),
                e.nack_status(),
            )),
            fatal: e.is_fatal(),
        })
    }

    fn encode(&mut self, pdu: &Pdu, out: &mut BytesMut) {
        encode(pdu, out);
    }

    fn log_line(&self, dir: Dir, pdu: &Pdu) -> String {
        let dir = match dir {
            Dir::Read => Direction::Read,
            Dir::Write => Direction::Write,
        };
        log_line(dir, pdu)
    }
}

/// A response (generic_nack included) answers our request with its sequence number.
pub fn kind(pdu: &Pdu) -> Kind {
    if pdu.command_id & command::RESPONSE_BIT != 0 {
        Kind::Response(pdu.sequence)
    } else {
        Kind::Request
    }
}

/// The response to an unknown or unsupported request: generic_nack when the command has no
/// response of its own.
pub fn unsupported(pdu: &Pdu, code: u32) -> Pdu {
    if command::name(pdu.command_id | command::RESPONSE_BIT) == "UNKNOWN" {
        Pdu::generic_nack(pdu.sequence, code)
    } else {
        pdu.response(code, common::smpp::Body::Empty)
    }
}

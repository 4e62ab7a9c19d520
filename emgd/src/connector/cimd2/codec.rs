//! CIMD2 packets for the runtime: `common::cimd2`'s sans-io codec as a [`Codec`], and which
//! packets answer our requests.

use crate::connector::runtime::driver::{BadFrame, Codec, Dir, Kind};
use crate::connector::runtime::window::SeqSpace;
use bytes::BytesMut;
use common::cimd2::{decode, encode, log_line, op, Packet, DEFAULT_MAX_PACKET_LEN};
use common::smpp::Direction;

/// The client numbers its packets 1, 3, ..., 255 (then 1 again).
pub const CLIENT_NUMBERS: SeqSpace = SeqSpace {
    first: 1,
    last: 255,
    step: 2,
};

/// The SMSC numbers its packets 0, 2, ..., 254.
pub const SMSC_NUMBERS: SeqSpace = SeqSpace {
    first: 0,
    last: 254,
    step: 2,
};

pub struct Cimd2Codec;

impl Codec for Cimd2Codec {
    type Frame = Packet;

    /// A bad packet gets the answer the codec names (NACK for a bad checksum, the general
    /// error response for an unknown operation or a malformed packet, the operation's own
    /// response with error 8 for a bad parameter); a packet longer than the bound without
    /// ETX closes the session.
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Packet>, BadFrame<Packet>> {
        decode(buf, DEFAULT_MAX_PACKET_LEN).map_err(|e| BadFrame {
            info: e.to_string(),
            reply: e.answer(),
            fatal: e.is_fatal(),
        })
    }

    fn encode(&mut self, packet: &Packet, out: &mut BytesMut) {
        if let Err(e) = encode(packet, out) {
            tracing::error!(
                "CIMD2 operation {:02} packet {:03} cannot be encoded: {e}",
                packet.op,
                packet.number
            );
        }
    }

    fn log_line(&self, dir: Dir, packet: &Packet) -> String {
        let dir = match dir {
            Dir::Read => Direction::Read,
            Dir::Write => Direction::Write,
        };
        log_line(dir, packet)
    }
}

/// Responses (51 and up, the general error response 98 and NACK 99) carry the number of the
/// request they answer.
pub fn kind(packet: &Packet) -> Kind {
    if op::is_request(packet.op) {
        Kind::Request
    } else {
        Kind::Response(u32::from(packet.number))
    }
}

/// The packet number the runtime gave a request.
pub fn number(seq: u32) -> u8 {
    (seq % 256) as u8
}

/// Whether a response says the request succeeded (its own response code, no error).
pub fn succeeded(request_op: u8, response: &Packet) -> bool {
    response.op == request_op + op::RESPONSE && response.error_code() == 0
}

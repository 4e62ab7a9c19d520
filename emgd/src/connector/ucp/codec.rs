//! UCP/EMI frames for the runtime: `common::ucp`'s sans-io codec as a [`Codec`], and which
//! frames answer our operations.

use crate::connector::runtime::driver::{BadFrame, Codec, Dir, Kind};
use crate::connector::runtime::window::SeqSpace;
use bytes::BytesMut;
use common::smpp::Direction;
use common::ucp::{decode, encode, log_line, Frame, DEFAULT_MAX_FRAME_LEN};

/// Transaction references: two digits, 00 to 99, then 00 again. Each side numbers its own
/// operations; a result carries the TRN of the operation it answers.
pub const SEQUENCES: SeqSpace = SeqSpace {
    first: 0,
    last: 99,
    step: 1,
};

pub struct UcpCodec;

impl Codec for UcpCodec {
    type Frame = Frame;

    /// A bad frame is answered with the NACK the codec names (EC 01 checksum, 02 syntax or
    /// length, 03 unknown operation) when its header could be read; a frame longer than the
    /// bound without ETX closes the session, so an endless frame is never buffered.
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, BadFrame<Frame>> {
        decode(buf, DEFAULT_MAX_FRAME_LEN).map_err(|e| BadFrame {
            info: e.to_string(),
            reply: e.nack(),
            fatal: e.is_fatal(),
        })
    }

    fn encode(&mut self, frame: &Frame, out: &mut BytesMut) {
        // The drivers build frames from checked fields; one that still cannot be written is
        // a bug, logged rather than sent half-made.
        if let Err(e) = encode(frame, out) {
            tracing::error!(
                "UCP operation {:02} trn {:02} cannot be encoded: {e}",
                frame.ot,
                frame.trn
            );
        }
    }

    fn log_line(&self, dir: Dir, frame: &Frame) -> String {
        let dir = match dir {
            Dir::Read => Direction::Read,
            Dir::Write => Direction::Write,
        };
        log_line(dir, frame)
    }
}

/// A result (positive or negative) answers our operation with its TRN.
pub fn kind(frame: &Frame) -> Kind {
    match frame.kind() {
        common::ucp::Kind::Result => Kind::Response(u32::from(frame.trn)),
        common::ucp::Kind::Operation => Kind::Request,
    }
}

/// The TRN of our operation numbered `seq` by the runtime.
pub fn trn(seq: u32) -> u8 {
    (seq % 100) as u8
}

//! MGP frames for the runtime: `common::mgp`'s newline-delimited JSON codec as a [`Codec`].
//! Each side numbers its own requests; an answer (`ok` or `error`) carries the `id` of the
//! request it answers, so emgd's deliveries and keepalives are told from the client's
//! requests by what the frame is.

use crate::connector::runtime::driver::{BadFrame, Codec, Dir, Kind};
use crate::connector::runtime::window::SeqSpace;
use bytes::BytesMut;
use common::mgp::{decode_line, encode, Frame, MAX_LINE};

/// The ids of emgd's requests on an application session.
pub const SEQUENCES: SeqSpace = SeqSpace {
    first: 1,
    last: 0x7fff_ffff,
    step: 1,
};

pub struct MgpCodec;

fn line(frame: &Frame) -> Vec<u8> {
    match frame {
        Frame::Request(r) => encode(r),
        Frame::Response(r) => encode(r),
        Frame::Event(e) => encode(e),
    }
}

impl Codec for MgpCodec {
    type Frame = Frame;

    /// A line that is not an MGP frame is answered with its error and the session goes on; a
    /// line over [`MAX_LINE`] closes it.
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, BadFrame<Frame>> {
        decode_line(buf, MAX_LINE).map_err(|e| BadFrame {
            info: e.to_string(),
            reply: Some(Frame::Response(e.response())),
            fatal: e.is_fatal(),
        })
    }

    fn encode(&mut self, frame: &Frame, out: &mut BytesMut) {
        out.extend_from_slice(&line(frame));
    }

    fn log_line(&self, dir: Dir, frame: &Frame) -> String {
        let dir = match dir {
            Dir::Read => "Read",
            Dir::Write => "Write",
        };
        let text = line(frame);
        let text = String::from_utf8_lossy(&text[..text.len().saturating_sub(1)]);
        format!("{dir} {text}")
    }
}

/// An answer names our request by its id; anything else is the client's.
pub fn kind(frame: &Frame) -> Kind {
    match frame {
        Frame::Response(r) => Kind::Response(
            r.id.and_then(|id| u32::try_from(id).ok())
                .unwrap_or(u32::MAX),
        ),
        Frame::Request(_) | Frame::Event(_) => Kind::Request,
    }
}

//! UCP/EMI frames on a byte stream.

use bytes::BytesMut;
use common::smpp::Direction;
use common::ucp::*;

/// Frame bound for the checks: small, so the fuzzer reaches the oversized path.
const MAX: usize = 2048;

/// Decoder property: `data` is drained like a connection's read buffer. An incomplete frame
/// consumes nothing, every other error but the fatal one consumes something (no loop), and a
/// decoded frame encodes again, to a frame that decodes to itself.
pub fn decode_stream(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    loop {
        let before = buf.len();
        match decode(&mut buf, MAX) {
            Ok(None) => {
                assert_eq!(buf.len(), before, "an incomplete frame consumed bytes");
                return;
            }
            Ok(Some(f)) => {
                assert!(buf.len() < before);
                let _ = log_line(Direction::Read, &f);
                let wire = f
                    .to_bytes()
                    .unwrap_or_else(|e| panic!("decoded but cannot encode ({e}): {f:?}"));
                assert_eq!(decode_frame(&wire).as_ref(), Ok(&f), "{wire:?}");
            }
            Err(e) => {
                let _ = e.to_string();
                if e.is_fatal() {
                    assert_eq!(buf.len(), before, "a fatal error consumed bytes");
                    return;
                }
                assert!(buf.len() < before, "{e} consumed nothing");
            }
        }
    }
}

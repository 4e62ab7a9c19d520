//! CIMD2 packets on a byte stream, and the typed views (login, short message, status report)
//! read from them.

use bytes::BytesMut;
use common::cimd2::*;
use common::smpp::Direction;

/// Packet bound for the checks: small, so the fuzzer reaches the oversized path.
const MAX: usize = 2048;

/// Decoder property: `data` is drained like a connection's read buffer. An incomplete packet
/// consumes nothing, every other error but the fatal one consumes something (no loop), and a
/// decoded packet encodes again, to a packet that decodes to itself. A view read from a packet
/// whose text is GSM writes back to a packet that reads as the same view.
pub fn decode_stream(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    loop {
        let before = buf.len();
        match decode(&mut buf, MAX) {
            Ok(None) => {
                assert_eq!(buf.len(), before, "an incomplete packet consumed bytes");
                return;
            }
            Ok(Some(p)) => {
                assert!(buf.len() < before);
                let _ = log_line(Direction::Read, &p);
                let mut wire = BytesMut::new();
                encode(&p, &mut wire)
                    .unwrap_or_else(|e| panic!("decoded but cannot encode ({e}): {p:?}"));
                assert_eq!(decode_packet(&wire).as_ref(), Ok(&p), "{wire:?}");
                views(&p);
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

fn views(p: &Packet) {
    if let Ok(l) = Login::from_packet(p) {
        assert_eq!(Login::from_packet(&l.to_packet(p.number)).as_ref(), Ok(&l));
    }
    if let Ok(m) = ShortMessage::from_packet(p) {
        match m.to_packet(p.op, p.number) {
            Ok(again) => {
                assert_eq!(
                    ShortMessage::from_packet(&again).as_ref(),
                    Ok(&m),
                    "{again:?}"
                )
            }
            // Reading is lenient (octets from 0x80 up are ISO-8859-1), writing takes GSM text
            // only: a text with other characters is sent as UCS-2 binary instead.
            Err(e) => assert!(
                common::gsm::char_septets(e.ch).is_none(),
                "refused a GSM character ({e}): {m:?}"
            ),
        }
    }
    if let Ok(r) = StatusReport::from_packet(p) {
        assert_eq!(
            StatusReport::from_packet(&r.to_packet(p.number)).as_ref(),
            Ok(&r)
        );
    }
}

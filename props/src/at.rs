//! A GSM modem's AT responses.

use common::at::{Event, Parser};

/// The first byte sets a chunk size, the rest is what the modem wrote. The events must not
/// depend on how reads cut the bytes (one read, or many small ones), and a PDU line the parser
/// hands out is within its line bound.
pub fn responses(data: &[u8]) {
    let Some((&k, bytes)) = data.split_first() else {
        return;
    };
    let whole = Parser::new().feed(bytes);
    let mut parser = Parser::new();
    let mut pieces = Vec::new();
    for chunk in bytes.chunks(usize::from(k % 16) + 1) {
        pieces.extend(parser.feed(chunk));
    }
    assert_eq!(pieces, whole, "the events depend on how the reads were cut");
    for e in &whole {
        if let Event::Listed { pdu, .. } | Event::Read { pdu, .. } | Event::Delivered { pdu, .. } =
            e
        {
            assert!(pdu.len() <= common::at::MAX_LINE, "{e:?}");
        }
    }
}

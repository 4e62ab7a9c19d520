//! SMTP: the server session (commands, DATA, AUTH, pipelining) and the client's reply parser.

use common::smtp::*;

/// The first byte sets a chunk size, the rest is what a client sent. A session that accepts
/// everything it is asked about answers with well-formed replies only, and answers the same
/// whether the client's bytes came in one read or in many small ones.
pub fn server(data: &[u8]) {
    let Some((&k, bytes)) = data.split_first() else {
        return;
    };
    let whole = session(bytes, bytes.len().max(1));
    let pieces = session(bytes, usize::from(k % 32) + 1);
    assert_eq!(
        pieces, whole,
        "the session depends on how the reads were cut"
    );
    let mut out = whole.0;
    loop {
        match parse_reply(&mut out) {
            Ok(Some(r)) => assert!((200..600).contains(&r.code), "{r:?}"),
            Ok(None) => break,
            Err(e) => panic!("the server wrote a bad reply ({e}): {out:?}"),
        }
    }
    assert!(
        out.is_empty(),
        "the server's output ends inside a reply: {out:?}"
    );
}

/// Runs a session on `bytes` fed `chunk` octets at a time: (output, events).
fn session(bytes: &[u8], chunk: usize) -> (Vec<u8>, Vec<String>) {
    let config = ServerConfig {
        max_line_len: 256,
        max_message_size: 4096,
        max_recipients: 4,
        auth_available: true,
        tls_available: true,
        ..ServerConfig::default()
    };
    let max_size = config.max_message_size;
    let mut s = Server::new(config);
    let mut out = s.take_output();
    let mut events = Vec::new();
    for c in bytes.chunks(chunk) {
        s.feed(c);
        while let Some(ev) = s.poll() {
            events.push(format!("{ev:?}"));
            match ev {
                // After STARTTLS the peer's next bytes are a TLS handshake, and what it sent
                // before the server's 220 is thrown away (RFC 3207 §4.2): where the reads cut
                // matters there, so the session ends here.
                Event::Close | Event::StartTls => {
                    out.extend(s.take_output());
                    return (out, events);
                }
                Event::Message { content, .. } => {
                    assert!(content.len() as u64 <= max_size, "a message over SIZE");
                    s.accept(Some("queued"));
                }
                Event::Auth(_) | Event::Mail { .. } | Event::Rcpt { .. } => s.accept(None),
            }
        }
        out.extend(s.take_output());
    }
    (out, events)
}

/// Replies as a server sends them, read by the client's parser: a reply parsed from the
/// stream writes back to bytes that parse to the same reply.
pub fn replies(data: &[u8]) {
    let mut buf = data.to_vec();
    loop {
        let before = buf.len();
        match parse_reply(&mut buf) {
            Ok(None) => {
                assert_eq!(buf.len(), before, "an incomplete reply consumed bytes");
                return;
            }
            Ok(Some(r)) => {
                assert!(buf.len() < before);
                let mut again = r.to_bytes();
                // The line bound counts octets as received; invalid UTF-8 comes back as
                // U+FFFD, three octets for one, so a line near the bound may outgrow it.
                let longest = again.split(|&b| b == b'\n').map(<[u8]>::len).max();
                if longest.unwrap_or(0) > common::smtp::reply::MAX_REPLY_LINE {
                    continue;
                }
                assert_eq!(parse_reply(&mut again), Ok(Some(r.clone())), "{r:?}");
                assert!(again.is_empty());
            }
            Err(_) => return,
        }
    }
}

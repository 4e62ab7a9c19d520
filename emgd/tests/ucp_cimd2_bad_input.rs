//! Bad input on the incoming UCP and CIMD2 connectors, from a raw socket: a bad checksum, a
//! wrong length (UCP) or a parameter out of its bounds (CIMD2, which has no length field), an
//! unknown operation, a submit before the login each get the protocol's negative answer and
//! the session goes on; a frame without ETX followed by silence ends the session when the
//! keepalive goes unanswered; 1 MB without ETX ends it at once. A message accepted before
//! any of it stays stored.

mod support;

use common::cimd2::{decode_packet, op, param, Packet};
use common::ucp::{decode_frame, Body, Frame, Session, Sm};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::Setup;
use tests::daemon::free_port;

fn setup(ucp: u16, cimd: u16) -> Setup {
    Setup::new(
        "",
        "",
        &format!(
            r#"
[connector.ucp-in]
type = "incoming"
protocol = "ucp"
address = "127.0.0.1:{ucp}"
instances = 4
keepalive = 1
users = ["client"]

[connector.cimd-in]
type = "incoming"
protocol = "cimd2"
address = "127.0.0.1:{cimd}"
instances = 4
keepalive = 1
users = ["client"]

[user.client]
password = "secret"
"#
        ),
    )
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// The next frame from STX to ETX; `None` once the peer closed.
fn read_frame(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut frame = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match s.read(&mut byte) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("read: {e}"),
        }
        if byte[0] == 0x02 {
            frame.clear();
        }
        frame.push(byte[0]);
        if byte[0] == 0x03 {
            return Some(frame);
        }
    }
}

/// Whether the peer closes the connection within `within` (our keepalive answers nothing).
fn closes(s: &mut TcpStream, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if read_frame(s).is_none() {
            return true;
        }
    }
    false
}

// --- UCP ---------------------------------------------------------------------------------

fn ucp_bytes(f: &Frame) -> Vec<u8> {
    f.to_bytes().unwrap().to_vec()
}

/// The next UCP result (alerts of emgd's keepalive are skipped).
fn ucp_result(s: &mut TcpStream) -> Frame {
    loop {
        let raw = read_frame(s).expect("an answer, not a closed connection");
        let f = decode_frame(&raw).unwrap();
        if matches!(f.body, Body::Ack(_) | Body::Nack(_)) {
            return f;
        }
    }
}

fn ucp_login(trn: u8, password: &str) -> Frame {
    Frame {
        trn,
        ot: 60,
        body: Body::Session(Session {
            oadc: "client".into(),
            oton: Some(6),
            onpi: Some(5),
            styp: Some(1),
            pwd: password.as_bytes().to_vec(),
            vers: "0100".into(),
            ..Session::default()
        }),
    }
}

fn ucp_submit(trn: u8, text: &str) -> Frame {
    Frame {
        trn,
        ot: 51,
        body: Body::Sm(Box::new(Sm {
            adc: "46701234567".into(),
            oadc: "4242".into(),
            content: common::ucp::Content::from_text(text).unwrap(),
            ..Sm::default()
        })),
    }
}

/// `frame` with its text between STX and the checksum rewritten by `edit`, and the checksum
/// made right again.
fn ucp_rewrite(frame: &[u8], edit: impl Fn(&str) -> String) -> Vec<u8> {
    let text = std::str::from_utf8(&frame[1..frame.len() - 3]).unwrap();
    let body = edit(text);
    let cs = common::ucp::checksum(body.as_bytes());
    let mut out = vec![0x02];
    out.extend_from_slice(format!("{body}{cs:02X}").as_bytes());
    out.push(0x03);
    out
}

fn nack_ec(f: &Frame) -> Option<u8> {
    match &f.body {
        Body::Nack(n) => Some(n.ec.0),
        _ => None,
    }
}

#[test]
fn ucp_bad_frames_get_nacks_and_broken_framing_closes_the_session() {
    let (ucp, cimd) = (free_port(), free_port());
    let setup = setup(ucp, cimd);
    let _daemon = setup.start();
    let mut s = connect(ucp);

    // Before a login, a submit is refused: 07 authentication failure.
    s.write_all(&ucp_bytes(&ucp_submit(1, "too early")))
        .unwrap();
    let r = ucp_result(&mut s);
    assert_eq!((r.trn, r.ot, nack_ec(&r)), (1, 51, Some(7)));
    s.write_all(&ucp_bytes(&ucp_login(2, "wrong"))).unwrap();
    let r = ucp_result(&mut s);
    assert_eq!((r.trn, r.ot, nack_ec(&r)), (2, 60, Some(7)));
    s.write_all(&ucp_bytes(&ucp_login(3, "secret"))).unwrap();
    let r = ucp_result(&mut s);
    assert_eq!((r.trn, nack_ec(&r)), (3, None), "{r:?}");
    s.write_all(&ucp_bytes(&ucp_submit(4, "kept"))).unwrap();
    let r = ucp_result(&mut s);
    let Body::Ack(ack) = &r.body else {
        panic!("{r:?}")
    };
    assert!(ack.sm.starts_with("46701234567:"), "{ack:?}");

    let good = ucp_bytes(&ucp_submit(5, "bad"));
    // A bad checksum: NACK 01.
    let mut bad_cs = good.clone();
    let n = bad_cs.len();
    bad_cs[n - 3] = if bad_cs[n - 3] == b'0' { b'1' } else { b'0' };
    s.write_all(&bad_cs).unwrap();
    let r = ucp_result(&mut s);
    assert_eq!((r.trn, r.ot, nack_ec(&r)), (5, 51, Some(1)));
    // A LEN that disagrees with the frame: NACK 02.
    let bad_len = ucp_rewrite(&good, |t| t.replacen(&t[3..8], "00999", 1));
    s.write_all(&bad_len).unwrap();
    let r = ucp_result(&mut s);
    assert_eq!((r.trn, r.ot, nack_ec(&r)), (5, 51, Some(2)));
    // An operation UCP does not have: NACK 03.
    let unknown = ucp_rewrite(&ucp_bytes(&ucp_login(6, "x")), |t| {
        t.replacen("/O/60/", "/O/77/", 1)
    });
    s.write_all(&unknown).unwrap();
    // (Our codec reads no result of an operation it does not know, so read the text.)
    let raw = loop {
        let raw = read_frame(&mut s).expect("an answer");
        if !raw.starts_with(b"\x02") || raw.get(9..12) == Some(b"/R/") {
            break String::from_utf8(raw).unwrap();
        }
    };
    assert!(
        raw.starts_with("\u{2}06/") && raw.contains("/R/77/N/03/"),
        "{raw:?}"
    );
    // The session goes on.
    s.write_all(&ucp_bytes(&ucp_submit(7, "still here")))
        .unwrap();
    assert!(matches!(ucp_result(&mut s).body, Body::Ack(_)));

    // Half a frame, then silence: the keepalive (1 s) goes unanswered and the session ends.
    s.write_all(&good[..20]).unwrap();
    assert!(closes(&mut s, Duration::from_secs(40)), "the session stays");

    // 1 MB without ETX: the session ends at the bound, nothing more is buffered.
    let mut s = connect(ucp);
    s.write_all(&ucp_bytes(&ucp_login(0, "secret"))).unwrap();
    assert_eq!(nack_ec(&ucp_result(&mut s)), None);
    let mut junk = vec![0x02];
    junk.extend(std::iter::repeat_n(b'A', 1 << 20));
    let _ = s.write_all(&junk);
    assert!(closes(&mut s, Duration::from_secs(20)), "the session stays");

    // The connector log is written behind the sessions: wait for the last line.
    let deadline = Instant::now() + Duration::from_secs(20);
    while setup.log("connector.ucp-in").matches("DISCONNECT").count() < 2 {
        assert!(
            Instant::now() < deadline,
            "{}",
            setup.log("connector.ucp-in")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = setup.log("connector.ucp-in");
    assert!(log.contains("PDU ERR (info=\"bad checksum"), "{log}");
    assert!(
        log.contains("PDU ERR (info=\"no ETX within 4096 octets"),
        "{log}"
    );
    assert!(
        log.contains("DISCONNECT (info=\"alert (31) not answered\")"),
        "{log}"
    );
    let stored: i64 = setup
        .db()
        .number("SELECT COUNT(*) FROM routelog WHERE in_connector = 'ucp-in'");
    assert_eq!(stored, 2, "the two accepted submits stay stored");
}

// --- CIMD2 -------------------------------------------------------------------------------

fn cimd_bytes(p: &Packet) -> Vec<u8> {
    p.encoded().unwrap().to_vec()
}

/// The next CIMD2 response (alive requests of emgd's keepalive are skipped).
fn cimd_response(s: &mut TcpStream) -> Packet {
    loop {
        let raw = read_frame(s).expect("an answer, not a closed connection");
        let p = decode_packet(&raw).unwrap();
        if !op::is_request(p.op) {
            return p;
        }
    }
}

fn cimd_login(number: u8, password: &str) -> Packet {
    common::cimd2::Login {
        user: "client".into(),
        password: password.into(),
        ..Default::default()
    }
    .to_packet(number)
}

fn cimd_submit(number: u8, destination: &str) -> Packet {
    Packet::new(op::SUBMIT, number)
        .with(param::DESTINATION_ADDRESS, destination)
        .with(param::USER_DATA, "hello")
}

#[test]
fn cimd2_bad_packets_get_error_answers_and_broken_framing_closes_the_session() {
    let (ucp, cimd) = (free_port(), free_port());
    let setup = setup(ucp, cimd);
    let _daemon = setup.start();
    let mut s = connect(cimd);

    s.write_all(&cimd_bytes(&cimd_submit(1, "46701234567")))
        .unwrap();
    let r = cimd_response(&mut s);
    assert_eq!((r.op, r.number, r.error_code()), (53, 1, 100), "{r:?}");
    s.write_all(&cimd_bytes(&cimd_login(3, "wrong"))).unwrap();
    let r = cimd_response(&mut s);
    assert_eq!((r.op, r.number, r.error_code()), (51, 3, 100), "{r:?}");
    s.write_all(&cimd_bytes(&cimd_login(5, "secret"))).unwrap();
    let r = cimd_response(&mut s);
    assert_eq!((r.op, r.error_code()), (51, 0), "{r:?}");
    s.write_all(&cimd_bytes(&cimd_submit(7, "46701234567")))
        .unwrap();
    let r = cimd_response(&mut s);
    assert_eq!((r.op, r.number, r.error_code()), (53, 7, 0), "{r:?}");
    assert!(r.get(param::SERVICE_CENTRE_TIME_STAMP).is_some(), "{r:?}");

    let good = cimd_bytes(&cimd_submit(9, "46701234567"));
    // A bad checksum: NACK (99), asking for the packet again.
    let mut bad_cs = good.clone();
    let n = bad_cs.len();
    bad_cs[n - 2] = if bad_cs[n - 2] == b'0' { b'1' } else { b'0' };
    s.write_all(&bad_cs).unwrap();
    let r = cimd_response(&mut s);
    assert_eq!((r.op, r.number), (99, 9), "{r:?}");
    // A destination longer than the spec allows: the submit's response with error 8.
    s.write_all(&cimd_bytes(&cimd_submit(11, &"4".repeat(30))))
        .unwrap();
    let r = cimd_response(&mut s);
    assert_eq!((r.op, r.number, r.error_code()), (53, 11, 8), "{r:?}");
    // An operation CIMD2 does not have: the general error response, error 1.
    s.write_all(&cimd_bytes(&Packet::new(33, 13))).unwrap();
    let r = cimd_response(&mut s);
    assert_eq!((r.op, r.number, r.error_code()), (98, 13, 1), "{r:?}");
    // The session goes on.
    s.write_all(&cimd_bytes(&cimd_submit(15, "46701234567")))
        .unwrap();
    assert_eq!(cimd_response(&mut s).error_code(), 0);

    // Half a packet, then silence: the keepalive (alive, 1 s) goes unanswered.
    s.write_all(&good[..12]).unwrap();
    assert!(closes(&mut s, Duration::from_secs(40)), "the session stays");

    // 1 MB without ETX.
    let mut s = connect(cimd);
    s.write_all(&cimd_bytes(&cimd_login(1, "secret"))).unwrap();
    assert_eq!(cimd_response(&mut s).error_code(), 0);
    let mut junk = vec![0x02];
    junk.extend(std::iter::repeat_n(b'A', 1 << 20));
    let _ = s.write_all(&junk);
    assert!(closes(&mut s, Duration::from_secs(20)), "the session stays");

    // The connector log is written behind the sessions: wait for the last line.
    let deadline = Instant::now() + Duration::from_secs(20);
    while setup.log("connector.cimd-in").matches("DISCONNECT").count() < 2 {
        assert!(
            Instant::now() < deadline,
            "{}",
            setup.log("connector.cimd-in")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = setup.log("connector.cimd-in");
    assert!(log.contains("PDU ERR (info=\"bad checksum"), "{log}");
    assert!(
        log.contains("PDU ERR (info=\"no ETX within 4096 octets"),
        "{log}"
    );
    assert!(
        log.contains("DISCONNECT (info=\"alive (40) not answered\")"),
        "{log}"
    );
    let stored: i64 = setup
        .db()
        .number("SELECT COUNT(*) FROM routelog WHERE in_connector = 'cimd-in'");
    assert_eq!(stored, 2, "the two accepted submits stay stored");
}

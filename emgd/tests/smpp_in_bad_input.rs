//! Bad bytes on an incoming SMPP session get the protocol's answer, never a panic, and
//! cost nothing already accepted.

mod support;

use common::smpp::{command, encode, status, Body, Pdu, Sm, SmppAddr};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::Setup;

fn header(len: u32, id: u32, status: u32, seq: u32) -> Vec<u8> {
    [len, id, status, seq]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect()
}

/// Read one PDU header (and skip its body); None when the peer closed.
fn read_pdu(s: &mut TcpStream) -> Option<(u32, u32, u32, u32)> {
    let mut h = [0u8; 16];
    s.read_exact(&mut h).ok()?;
    let word = |i: usize| u32::from_be_bytes(h[i..i + 4].try_into().unwrap());
    let mut body = vec![0u8; (word(0) as usize).saturating_sub(16)];
    s.read_exact(&mut body).ok()?;
    Some((word(0), word(4), word(8), word(12)))
}

fn connect(setup: &Setup) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", setup.smpp_port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

#[test]
fn an_unknown_command_gets_generic_nack_and_the_session_goes_on() {
    let setup = Setup::new("", "", "");
    let _d = setup.start();
    let mut s = connect(&setup);
    s.write_all(&header(16, 0x0000_0123, 0, 7)).unwrap();
    let (_, id, st, seq) = read_pdu(&mut s).expect("an answer");
    assert_eq!(
        (id, st, seq),
        (command::GENERIC_NACK, status::ESME_RINVCMDID, 7)
    );
    s.write_all(&header(16, command::ENQUIRE_LINK, 0, 8))
        .unwrap();
    let (_, id, st, seq) = read_pdu(&mut s).expect("still served");
    assert_eq!((id, st, seq), (command::ENQUIRE_LINK_RESP, 0, 8));
}

#[test]
fn an_impossible_command_length_gets_generic_nack_then_the_session_closes() {
    let setup = Setup::new("", "", "");
    let d = setup.start();
    for len in [8u32, 0x7fff_ffff] {
        let mut s = connect(&setup);
        s.write_all(&header(len, command::ENQUIRE_LINK, 0, 1))
            .unwrap();
        let (_, id, st, _) = read_pdu(&mut s).expect("a nack before closing");
        assert_eq!(
            (id, st),
            (command::GENERIC_NACK, status::ESME_RINVCMDLEN),
            "length {len}"
        );
        assert!(
            read_pdu(&mut s).is_none(),
            "closed after an impossible length {len}"
        );
    }
    // The daemon is unharmed.
    let mut s = connect(&setup);
    s.write_all(&header(16, command::ENQUIRE_LINK, 0, 2))
        .unwrap();
    assert_eq!(read_pdu(&mut s).unwrap().1, command::ENQUIRE_LINK_RESP);
    drop(d);
}

#[test]
fn submit_before_bind_is_refused_with_esme_rinvbndsts() {
    let setup = Setup::new("", "", "");
    let _d = setup.start();
    let mut s = connect(&setup);
    let mut pdu = bytes::BytesMut::new();
    let sm = Sm {
        dest: SmppAddr::new(1, 1, "4670"),
        ..Default::default()
    };
    encode(
        &Pdu::new(command::SUBMIT_SM, 3, Body::SubmitSm(sm)),
        &mut pdu,
    );
    s.write_all(&pdu).unwrap();
    let (_, id, st, seq) = read_pdu(&mut s).expect("an answer");
    assert_eq!(
        (id, st, seq),
        (command::SUBMIT_SM_RESP, status::ESME_RINVBNDSTS, 3)
    );
}

use super::*;

fn buf(s: &str) -> BytesMut {
    BytesMut::from(s.as_bytes())
}

#[test]
fn waits_for_a_whole_line_and_keeps_the_rest() {
    let mut b = buf("{\"id\":1,\"op\":\"hold\",\"na");
    assert_eq!(decode_line(&mut b, MAX_LINE), Ok(None));
    assert_eq!(b.len(), 23, "nothing consumed");
    b.extend_from_slice(b"me\":\"sim1\"}\r\n\n{\"id\":2,\"op\":\"status\"}\n{\"id\"");
    assert_eq!(
        decode_line(&mut b, MAX_LINE),
        Ok(Some(Frame::Request(Request {
            id: 1,
            op: Op::Hold {
                name: "sim1".into()
            }
        })))
    );
    assert_eq!(
        decode_line(&mut b, MAX_LINE),
        Ok(Some(Frame::Request(Request {
            id: 2,
            op: Op::Status
        }))),
        "the blank line is skipped"
    );
    assert_eq!(decode_line(&mut b, MAX_LINE), Ok(None));
    assert_eq!(&b[..], b"{\"id\"");
}

#[test]
fn oversize_line_is_fatal_even_without_newline() {
    let mut b = BytesMut::from(&[b'x'; 17][..]);
    let e = decode_line(&mut b, 16).unwrap_err();
    assert_eq!(e, MgpError::FrameTooLarge { max: 16 });
    assert!(e.is_fatal());
    assert_eq!(
            String::from_utf8(encode(&e.response())).unwrap(),
            "{\"id\":null,\"error\":{\"code\":\"frame_too_large\",\"message\":\"line longer than 16 bytes\"}}\n"
        );
    // Exactly at the limit is fine.
    let mut ok = BytesMut::from(&b"{\"id\":1,\"op\":\"watch\"}\n"[..]);
    assert!(decode_line(&mut ok, 21).unwrap().is_some());
}

/// Found by fuzzing: a limit of `usize::MAX` (no limit) overflowed `max + 1`.
#[test]
fn a_limit_of_usize_max_does_not_overflow() {
    let mut partial = BytesMut::from(&b"{\"id\":1"[..]);
    assert_eq!(decode_line(&mut partial, usize::MAX), Ok(None));
    let mut whole = BytesMut::from(&b"{\"id\":1,\"op\":\"watch\"}\n"[..]);
    assert!(decode_line(&mut whole, usize::MAX).unwrap().is_some());
}

#[test]
fn bad_json_is_consumed_and_not_fatal() {
    let mut b = buf("{nope\n{\"id\":3,\"op\":\"stauts\"}\n{\"id\":4,\"op\":\"forceclose\",\"name\":\"a\",\"persits\":true}\n[1]\n{\"id\":5,\"op\":\"reload\"}\n");
    let e = decode_line(&mut b, MAX_LINE).unwrap_err();
    assert!(!e.is_fatal());
    assert!(
        matches!(&e, MgpError::BadRequest { id: None, message } if message.starts_with("not JSON")),
        "{e:?}"
    );
    let e = decode_line(&mut b, MAX_LINE).unwrap_err();
    assert!(
        matches!(&e, MgpError::BadRequest { id: Some(3), message } if message.contains("unknown variant `stauts`")),
        "{e:?}"
    );
    let e = decode_line(&mut b, MAX_LINE).unwrap_err();
    assert!(
        matches!(&e, MgpError::BadRequest { id: Some(4), message } if message.contains("unknown field `persits`")),
        "{e:?}"
    );
    let e = decode_line(&mut b, MAX_LINE).unwrap_err();
    assert_eq!(e, bad(None, "a frame must be a JSON object"));
    assert_eq!(
            String::from_utf8(encode(&e.response())).unwrap(),
            "{\"id\":null,\"error\":{\"code\":\"bad_request\",\"message\":\"a frame must be a JSON object\"}}\n"
        );
    assert_eq!(
        decode_line(&mut b, MAX_LINE).unwrap(),
        Some(Frame::Request(Request {
            id: 5,
            op: Op::Reload
        }))
    );
}

#[test]
fn requests_responses_and_events_round_trip() {
    let req = Request {
        id: 7,
        op: Op::Forceclose {
            name: "sim1".into(),
            persist: true,
        },
    };
    let line = encode(&req);
    assert_eq!(
        std::str::from_utf8(&line).unwrap(),
        "{\"id\":7,\"op\":\"forceclose\",\"name\":\"sim1\",\"persist\":true}\n"
    );
    let mut b = BytesMut::from(&line[..]);
    assert_eq!(decode_line(&mut b, MAX_LINE), Ok(Some(Frame::Request(req))));

    let resp = Response {
        id: Some(7),
        outcome: Outcome::Error(ErrorBody::new(
            ErrorCode::NotFound,
            "connector smsc9 does not exist",
        )),
    };
    let line = encode(&resp);
    assert_eq!(
            std::str::from_utf8(&line).unwrap(),
            "{\"id\":7,\"error\":{\"code\":\"not_found\",\"message\":\"connector smsc9 does not exist\"}}\n"
        );
    let mut b = BytesMut::from(&line[..]);
    assert_eq!(
        decode_line(&mut b, MAX_LINE),
        Ok(Some(Frame::Response(resp)))
    );

    let ev = EventFrame {
        stream: 2,
        event: Event::Lost { count: 12 },
    };
    let line = encode(&ev);
    assert_eq!(
        std::str::from_utf8(&line).unwrap(),
        "{\"stream\":2,\"event\":{\"type\":\"lost\",\"count\":12}}\n"
    );
    let mut b = BytesMut::from(&line[..]);
    assert_eq!(decode_line(&mut b, MAX_LINE), Ok(Some(Frame::Event(ev))));
}

/// Rates travel as f64; a parsed float one unit in the last place off what was sent was
/// found by the props crate's mgp_roundtrip (serde_json needs its `float_roundtrip`).
#[test]
fn floats_cross_exactly() {
    for x in [-1.9112450687914747e-74, 2.2574818004030047e144, 0.1 + 0.2] {
        let resp = Response {
            id: Some(1),
            outcome: Outcome::Ok(serde_json::json!({ "rate_sent": x })),
        };
        let mut b = BytesMut::from(&encode(&resp)[..]);
        assert_eq!(
            decode_line(&mut b, MAX_LINE),
            Ok(Some(Frame::Response(resp))),
            "{x:e}"
        );
    }
}

#[test]
fn message_ids_do_not_clash_with_request_ids() {
    let req = Request {
        id: 9,
        op: Op::MsgShow { id: 42 },
    };
    let line = encode(&req);
    assert_eq!(
        std::str::from_utf8(&line).unwrap(),
        "{\"id\":9,\"op\":\"msg_show\",\"message_id\":42}\n"
    );
    let mut b = BytesMut::from(&line[..]);
    assert_eq!(decode_line(&mut b, MAX_LINE), Ok(Some(Frame::Request(req))));
}

#[test]
fn optional_arguments_default() {
    let mut b = buf("{\"id\":1,\"op\":\"queue_list\"}\n{\"op\":\"tail\",\"id\":2,\"pdu\":true}\n");
    assert_eq!(
        decode_line(&mut b, MAX_LINE).unwrap(),
        Some(Frame::Request(Request {
            id: 1,
            op: Op::QueueList {
                name: None,
                limit: None
            }
        }))
    );
    assert_eq!(
        decode_line(&mut b, MAX_LINE).unwrap(),
        Some(Frame::Request(Request {
            id: 2,
            op: Op::Tail {
                name: None,
                pdu: true,
                backlog: None
            }
        }))
    );
}

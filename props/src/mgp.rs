//! MGP frames: the line decoder on a byte stream, and encode → decode on generated frames.

use arbitrary::{Result, Unstructured};
use bytes::BytesMut;
use common::mgp::*;
use serde_json::Value;

/// Line limit for the checks: small, so the fuzzer reaches the too-long path.
const MAX: usize = 4096;

/// Decoder property: `data` is drained like a connection's read buffer. An incomplete line
/// consumes nothing, an error answer always serialises, and every decoded frame re-encodes to
/// a line that decodes to the same frame.
pub fn decode_lines(data: &[u8]) {
    let mut buf = BytesMut::from(data);
    loop {
        let before = buf.len();
        match decode_line(&mut buf, MAX) {
            Ok(None) => {
                assert!(buf.len() <= before);
                return;
            }
            Ok(Some(frame)) => {
                assert!(buf.len() < before, "a frame consumed nothing");
                assert_eq!(reencode(&frame), frame);
            }
            Err(e) => {
                let _ = encode(&e.response());
                if e.is_fatal() {
                    return;
                }
                assert!(buf.len() < before, "a bad line was not consumed");
            }
        }
    }
}

fn reencode(frame: &Frame) -> Frame {
    let line = match frame {
        Frame::Request(r) => encode(r),
        Frame::Response(r) => encode(r),
        Frame::Event(e) => encode(e),
    };
    let mut b = BytesMut::from(&line[..]);
    decode_line(&mut b, MAX_LINE)
        .unwrap_or_else(|e| panic!("{e} for {}", String::from_utf8_lossy(&line)))
        .unwrap_or_else(|| panic!("no line in {line:?}"))
}

/// Round-trip property: a generated request, response or event encodes to one line that
/// decodes to the same frame.
pub fn roundtrip(data: &[u8]) {
    let Some(frame) = crate::generate(data, frame) else {
        return;
    };
    assert_eq!(reencode(&frame), frame);
}

fn text(u: &mut Unstructured) -> Result<String> {
    crate::string(u, 64, |_| true)
}

fn opt_text(u: &mut Unstructured) -> Result<Option<String>> {
    Ok(if u.arbitrary()? { Some(text(u)?) } else { None })
}

fn op(u: &mut Unstructured) -> Result<Op> {
    Ok(match u.int_in_range(0..=27)? {
        0 => Op::Login {
            user: text(u)?,
            password: text(u)?,
        },
        1 => Op::Status,
        2 => Op::Connectors,
        3 => Op::Connector { name: text(u)? },
        4 => Op::Hold { name: text(u)? },
        5 => Op::Release { name: text(u)? },
        6 => Op::Bounce { name: text(u)? },
        7 => Op::Forceclose {
            name: text(u)?,
            persist: u.arbitrary()?,
        },
        8 => Op::ForcecloseClear { name: text(u)? },
        9 => Op::QueueList {
            name: opt_text(u)?,
            limit: u.arbitrary()?,
        },
        10 => Op::QueueMove {
            from: text(u)?,
            to: text(u)?,
            dest_prefix: opt_text(u)?,
        },
        11 => Op::QueueClear { name: text(u)? },
        12 => Op::MsgShow { id: u.arbitrary()? },
        13 => Op::MsgCancel { id: u.arbitrary()? },
        14 => Op::Send {
            to: text(u)?,
            from: text(u)?,
            text: text(u)?,
            via: opt_text(u)?,
            dlr: u.arbitrary()?,
            account: opt_text(u)?,
            options: Default::default(),
        },
        15 => Op::DlrInject {
            id: u.arbitrary()?,
            status: text(u)?,
        },
        16 => Op::Reload,
        17 => Op::Tail {
            name: opt_text(u)?,
            pdu: u.arbitrary()?,
            backlog: u.arbitrary()?,
        },
        18 => Op::Watch,
        19 => Op::MsgMove {
            id: u.arbitrary()?,
            to: text(u)?,
        },
        20 => Op::MsgResend {
            id: u.arbitrary()?,
            via: opt_text(u)?,
        },
        21 => Op::MsgHistory { id: u.arbitrary()? },
        22 => Op::MsgSearch {
            message_id: u.arbitrary()?,
            source: opt_text(u)?,
            dest: opt_text(u)?,
            account: opt_text(u)?,
            connector: opt_text(u)?,
            since_us: u.arbitrary()?,
            until_us: u.arbitrary()?,
            before_id: u.arbitrary()?,
            limit: u.arbitrary()?,
        },
        23 => Op::QueueBrowse {
            name: text(u)?,
            after_id: u.arbitrary()?,
            limit: u.arbitrary()?,
        },
        24 => Op::Users,
        25 => Op::Routes,
        26 => Op::ConnectorStats {
            name: text(u)?,
            since_s: u.arbitrary()?,
        },
        _ => Op::Stop {
            stream: u.arbitrary()?,
        },
    })
}

/// A JSON value of bounded depth; numbers are integers or finite floats (JSON has no others).
fn json(u: &mut Unstructured, depth: u32) -> Result<Value> {
    let kind = u.int_in_range(0..=if depth == 0 { 4 } else { 6 })?;
    Ok(match kind {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        4 => Value::String(text(u)?),
        5 => Value::Array(
            (0..u.int_in_range(0..=3)?)
                .map(|_| json(u, depth - 1))
                .collect::<Result<_>>()?,
        ),
        _ => Value::Object(
            (0..u.int_in_range(0..=3)?)
                .map(|_| Ok((text(u)?, json(u, depth - 1)?)))
                .collect::<Result<_>>()?,
        ),
    })
}

fn event(u: &mut Unstructured) -> Result<Event> {
    Ok(match u.int_in_range(0..=2)? {
        0 => Event::Log {
            kind: if u.arbitrary()? {
                LogKind::Connector
            } else {
                LogKind::Pdu
            },
            connector: text(u)?,
            instance: u.arbitrary()?,
            line: text(u)?,
        },
        1 => Event::State {
            connector: text(u)?,
            states: (0..u.int_in_range(0..=3)?)
                .map(|_| text(u))
                .collect::<Result<_>>()?,
        },
        _ => Event::Lost {
            count: u.arbitrary()?,
        },
    })
}

fn error_code(u: &mut Unstructured) -> Result<ErrorCode> {
    use ErrorCode::*;
    let all = [
        BadRequest,
        NotAuthenticated,
        AuthFailed,
        Forbidden,
        NotFound,
        Refused,
        Internal,
        FrameTooLarge,
    ];
    u.choose(&all).copied()
}

/// A request, response or event as a client or server could send it.
pub fn frame(u: &mut Unstructured) -> Result<Frame> {
    Ok(match u.int_in_range(0..=2)? {
        0 => Frame::Request(Request {
            id: u.arbitrary()?,
            op: op(u)?,
        }),
        1 => Frame::Response(Response {
            id: u.arbitrary()?,
            outcome: if u.arbitrary()? {
                Outcome::Ok(json(u, 3)?)
            } else {
                Outcome::Error(ErrorBody::new(error_code(u)?, text(u)?))
            },
        }),
        _ => Frame::Event(EventFrame {
            stream: u.arbitrary()?,
            event: event(u)?,
        }),
    })
}

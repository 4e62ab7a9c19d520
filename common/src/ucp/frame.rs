//! Bytes ↔ frames: STX/ETX framing, the header, LEN and the checksum.
//!
//! Framing first, as in mini-redis: [`decode()`] returns `Ok(None)` until a whole frame (up to
//! ETX) is buffered, and refuses to wait for one past the bound. Octets outside frames are
//! skipped with an error the caller can log; a frame that is complete is consumed whatever
//! happens next, so one bad frame costs that frame, not the session. Checks run in the order
//! that gives the right negative result: header readable, checksum (EC 01), length (EC 02),
//! operation known (EC 03), then every field (EC 02, or EC 23 for an MT the operation does
//! not carry).

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{DecodeError, EncodeError, Header};
use super::field::{Bad, Reader, Writer};
use super::ops::{
    Ack, Alert, CallInput, CallInputSs, MultipleCallInput, Nack, Session, Sm, Transfer,
};
use super::{ETX, STX};

pub use super::ot::{Kind, Ot};

impl DecodeError {
    /// The negative result to send back: only for operations (a broken result is logged, never
    /// answered) whose header could be read.
    pub fn nack(&self) -> Option<Frame> {
        let h = self.header().filter(|h| h.kind == Kind::Operation)?;
        Some(Frame {
            trn: h.trn,
            ot: h.ot,
            body: Body::Nack(Nack {
                ec: self.error_code(),
                sm: String::new(),
                extra: Vec::new(),
            }),
        })
    }
}

/// A frame's body: an operation's fields, or a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    CallInput(CallInput),
    MultipleCallInput(MultipleCallInput),
    CallInputSs(CallInputSs),
    Transfer(Transfer),
    Alert(Alert),
    /// Any of 51..58; the frame's OT says which. Boxed: it is five times the size of the
    /// others.
    Sm(Box<Sm>),
    /// 60 or 61; the frame's OT says which.
    Session(Session),
    Ack(Ack),
    Nack(Nack),
}

/// One UCP frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Transaction reference, 0..=99; a result carries its operation's.
    pub trn: u8,
    /// Operation type (01, 51, ...); a result carries its operation's.
    pub ot: u8,
    pub body: Body,
}

impl Frame {
    pub fn kind(&self) -> Kind {
        match self.body {
            Body::Ack(_) | Body::Nack(_) => Kind::Result,
            _ => Kind::Operation,
        }
    }

    /// The positive result of this operation.
    pub fn ack(&self, mvp: impl Into<String>, sm: impl Into<String>) -> Frame {
        Frame {
            trn: self.trn,
            ot: self.ot,
            body: Body::Ack(Ack {
                mvp: mvp.into(),
                sm: sm.into(),
                extra: Vec::new(),
            }),
        }
    }

    /// The negative result of this operation.
    pub fn nack(&self, ec: super::ErrorCode, sm: impl Into<String>) -> Frame {
        Frame {
            trn: self.trn,
            ot: self.ot,
            body: Body::Nack(Nack::new(ec, sm)),
        }
    }

    /// The encoded frame.
    pub fn to_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut b = BytesMut::new();
        encode(self, &mut b)?;
        Ok(b.freeze())
    }

    /// LEN of this frame as it encodes (characters between STX and ETX); 0 if it cannot be
    /// encoded.
    pub fn encoded_len(&self) -> usize {
        inner(self).map_or(0, |s| s.len())
    }
}

/// The checksum of the characters from TRN through the last `/`.
pub fn checksum(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |s, &b| s.wrapping_add(b))
}

/// Takes one frame off the front of `buf`.
///
/// `Ok(None)`: no whole frame yet, nothing consumed. `Err(Oversized)`: nothing consumed; close
/// the session. `Err(Garbage | Unterminated)`: the skipped octets were consumed; call again.
/// Any other result consumed exactly one frame.
pub fn decode(buf: &mut BytesMut, max_len: usize) -> Result<Option<Frame>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first != STX {
        let skipped = buf.iter().position(|&b| b == STX).unwrap_or(buf.len());
        let _ = buf.split_to(skipped);
        return Err(DecodeError::Garbage { skipped });
    }
    let end = buf.iter().skip(1).position(|&b| b == ETX || b == STX);
    match end.map(|i| (i + 1, buf[i + 1])) {
        Some((i, STX)) => {
            let _ = buf.split_to(i);
            Err(DecodeError::Unterminated { skipped: i })
        }
        Some((i, _)) if i < max_len => {
            let frame = buf.split_to(i + 1).freeze();
            decode_frame(&frame).map(Some)
        }
        None if buf.len() < max_len => Ok(None),
        _ => Err(DecodeError::Oversized {
            len: buf.len(),
            max: max_len,
        }),
    }
}

/// Decodes exactly one complete frame, STX and ETX included.
pub fn decode_frame(frame: &[u8]) -> Result<Frame, DecodeError> {
    let inner = match frame {
        [STX, inner @ .., ETX] => inner,
        _ => return Err(bad_header("a frame runs from STX to ETX")),
    };
    // TRN/LEN/O/OT/ ... /CS: read the header before anything else can fail, so every later
    // error can be answered with the right TRN and OT.
    let mut parts = inner.split(|&b| b == b'/');
    let (trn, _len, kind, ot) = (parts.next(), parts.next(), parts.next(), parts.next());
    let trn = two_digits(trn).ok_or_else(|| bad_header("TRN is not two digits"))?;
    let kind = match kind {
        Some(b"O") => Kind::Operation,
        Some(b"R") => Kind::Result,
        _ => return Err(bad_header("O/R is neither O nor R")),
    };
    let ot_code = two_digits(ot).ok_or_else(|| bad_header("OT is not two digits"))?;
    let header = Header {
        trn,
        kind,
        ot: ot_code,
    };
    // Every field is printable IRA; the checksum is the last two characters.
    if let Some(&b) = inner.iter().find(|&&b| !(0x20..0x7f).contains(&b)) {
        return Err(malformed(
            header,
            format!("octet {b:#04x} is not an IRA character"),
        ));
    }
    let text = std::str::from_utf8(inner).expect("checked to be ASCII");
    let Some((body, cs)) = text.rsplit_once('/') else {
        return Err(malformed(header, "no checksum field".into()));
    };
    let computed = checksum(&inner[..body.len() + 1]);
    if cs.len() != 2 || u8::from_str_radix(cs, 16).ok() != Some(computed) {
        return Err(DecodeError::BadChecksum {
            header,
            declared: cs.to_string(),
            computed,
        });
    }
    let declared = text.split('/').nth(1).unwrap_or_default();
    if declared.len() != 5 || declared.parse::<usize>().ok() != Some(inner.len()) {
        return Err(DecodeError::BadLength {
            header,
            declared: declared.to_string(),
            actual: inner.len(),
        });
    }
    let ot = Ot::from_code(ot_code).ok_or(DecodeError::UnsupportedOperation { header })?;
    // Fields between "TRN/LEN/O/OT/" (14 characters) and the checksum's '/'.
    let fields: Vec<&str> = match body.get(14..) {
        Some(f) => f.split('/').collect(),
        None => Vec::new(),
    };
    let mut r = Reader::new(&fields);
    let parsed = match kind {
        Kind::Result => match r.next("ACK") {
            Ok("A") => Ack::read(ot.result_has_mvp(), &mut r).map(Body::Ack),
            Ok("N") => Nack::read(&mut r).map(Body::Nack),
            Ok(v) => Err(Bad::syntax(format!("ACK must be A or N, not {v:?}"))),
            Err(e) => Err(e),
        },
        Kind::Operation => match ot {
            Ot::CallInput => CallInput::read(&mut r).map(Body::CallInput),
            Ot::MultipleCallInput => MultipleCallInput::read(&mut r).map(Body::MultipleCallInput),
            Ot::CallInputSs => CallInputSs::read(&mut r).map(Body::CallInputSs),
            Ot::Transfer => Transfer::read(&mut r).map(Body::Transfer),
            Ot::Alert => Alert::read(&mut r).map(Body::Alert),
            Ot::SessionManagement | Ot::ListManagement => {
                Session::read(ot_code, &mut r).map(Body::Session)
            }
            _ => Sm::read(&mut r).map(|s| Body::Sm(Box::new(s))),
        },
    };
    parsed
        .map(|body| Frame {
            trn,
            ot: ot_code,
            body,
        })
        .map_err(|b| DecodeError::Malformed {
            header,
            ec: b.ec,
            reason: b.reason,
        })
}

fn bad_header(reason: &str) -> DecodeError {
    DecodeError::BadHeader {
        reason: reason.into(),
    }
}

fn malformed(header: Header, reason: String) -> DecodeError {
    DecodeError::Malformed {
        header,
        ec: super::ErrorCode::SYNTAX,
        reason,
    }
}

fn two_digits(f: Option<&[u8]>) -> Option<u8> {
    match f? {
        &[a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

/// Appends the encoded frame to `out`; on error nothing is appended.
pub fn encode(frame: &Frame, out: &mut BytesMut) -> Result<(), EncodeError> {
    let inner = inner(frame)?;
    out.reserve(inner.len() + 2);
    out.put_u8(STX);
    out.put_slice(inner.as_bytes());
    out.put_u8(ETX);
    Ok(())
}

/// Everything between STX and ETX.
fn inner(frame: &Frame) -> Result<String, EncodeError> {
    if frame.trn > 99 {
        return Err(EncodeError::BadTrn(frame.trn));
    }
    let ot = frame.ot;
    if ot > 99 {
        return Err(EncodeError::Mismatch {
            ot,
            reason: "OT is two digits".into(),
        });
    }
    let mut w = Writer::default();
    let mismatch = |what: &str| EncodeError::Mismatch {
        ot,
        reason: format!("a {what} body does not belong here"),
    };
    // Results of unknown operations can be written (the NACK that refuses them); operations
    // only with their own body.
    let known = Ot::from_code(ot);
    match (&frame.body, known) {
        (Body::Ack(a), o) => a.write(ot, o.is_some_and(Ot::result_has_mvp), &mut w)?,
        (Body::Nack(n), _) => n.write(&mut w)?,
        (_, None) => return Err(mismatch("operation")),
        (Body::CallInput(b), Some(Ot::CallInput)) => b.write(ot, &mut w)?,
        (Body::MultipleCallInput(b), Some(Ot::MultipleCallInput)) => b.write(ot, &mut w)?,
        (Body::CallInputSs(b), Some(Ot::CallInputSs)) => b.write(ot, &mut w)?,
        (Body::Transfer(b), Some(Ot::Transfer)) => b.write(&mut w)?,
        (Body::Alert(b), Some(Ot::Alert)) => b.write(&mut w)?,
        (Body::Session(b), Some(Ot::SessionManagement | Ot::ListManagement)) => {
            b.write(ot, &mut w)?
        }
        (Body::Sm(b), Some(o)) if o.result_has_mvp() && o != Ot::Transfer => b.write(&mut w)?,
        (Body::CallInput(_), _) => return Err(mismatch("01")),
        (Body::MultipleCallInput(_), _) => return Err(mismatch("02")),
        (Body::CallInputSs(_), _) => return Err(mismatch("03")),
        (Body::Transfer(_), _) => return Err(mismatch("30")),
        (Body::Alert(_), _) => return Err(mismatch("31")),
        (Body::Session(_), _) => return Err(mismatch("60/61")),
        (Body::Sm(_), _) => return Err(mismatch("5x")),
    }
    // 14 header characters + fields + 2 checksum digits.
    let len = 14 + w.out.len() + 2;
    if len > 99_999 {
        return Err(EncodeError::TooLong(len));
    }
    let mut s = format!(
        "{:02}/{len:05}/{}/{ot:02}/{}",
        frame.trn,
        frame.kind().letter(),
        w.out
    );
    let cs = checksum(s.as_bytes());
    s.push_str(&format!("{cs:02X}"));
    Ok(s)
}

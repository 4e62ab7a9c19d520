//! Bytes ↔ packets: STX/ETX framing, the `ZZ:NNN` header, parameters, the checksum.
//!
//! Framing first: [`decode()`] returns `Ok(None)` until an ETX is buffered and refuses to wait
//! past the bound. A complete packet is consumed whatever happens next. Checks run in the
//! order that gives the right answer: header readable, checksum (NACK), operation known
//! (error 1), parameters well formed (error 2), known parameters within their type and length
//! (the operation's response with error 8).

use bytes::{BufMut, Bytes, BytesMut};

use super::error::{DecodeError, EncodeError, Header};
use super::param::{self, ERROR_CODE, ERROR_TEXT};
use super::status::error;
use super::{op, ETX, STX, TAB};

/// One parameter: its three-digit code and its value as the octets on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub code: u16,
    pub value: Vec<u8>,
}

impl Param {
    pub fn new(code: u16, value: impl Into<Vec<u8>>) -> Param {
        Param {
            code,
            value: value.into(),
        }
    }

    /// The value as text (values are ISO-8859-1).
    pub fn text(&self) -> String {
        self.value.iter().map(|&b| char::from(b)).collect()
    }
}

/// One CIMD2 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Operation code (03 submit, 53 its response, ...).
    pub op: u8,
    /// Packet number, 0..=255: odd from the client, even from the SMSC; a response carries
    /// its request's.
    pub number: u8,
    /// In wire order; a code may repeat (several destination addresses).
    pub params: Vec<Param>,
}

impl Packet {
    pub fn new(op: u8, number: u8) -> Packet {
        Packet {
            op,
            number,
            params: Vec::new(),
        }
    }

    /// Adds a parameter (builder style).
    pub fn with(mut self, code: u16, value: impl Into<Vec<u8>>) -> Packet {
        self.params.push(Param::new(code, value));
        self
    }

    /// The response to this request, without parameters.
    pub fn response(&self) -> Packet {
        Packet::new(self.op + op::RESPONSE, self.number)
    }

    /// The response to this request carrying error `code` (900) and its text (901).
    pub fn error_response(&self, code: u16) -> Packet {
        self.response()
            .with(param::ERROR_CODE, code.to_string())
            .with(param::ERROR_TEXT, super::status::error::text(code))
    }

    /// The first parameter with `code`.
    pub fn get(&self, code: u16) -> Option<&[u8]> {
        self.params
            .iter()
            .find(|p| p.code == code)
            .map(|p| p.value.as_slice())
    }

    /// Every parameter with `code`, in order.
    pub fn all(&self, code: u16) -> impl Iterator<Item = &[u8]> {
        self.params
            .iter()
            .filter(move |p| p.code == code)
            .map(|p| p.value.as_slice())
    }

    /// The first parameter with `code` as text.
    pub fn text(&self, code: u16) -> Option<String> {
        self.get(code)
            .map(|v| v.iter().map(|&b| char::from(b)).collect())
    }

    /// The first parameter with `code` as an integer (`None` if absent or not a number).
    pub fn int(&self, code: u16) -> Option<i32> {
        std::str::from_utf8(self.get(code)?).ok()?.parse().ok()
    }

    /// The error code (900) of a response; 0 when absent.
    pub fn error_code(&self) -> u16 {
        self.int(param::ERROR_CODE)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(0)
    }

    pub fn encoded(&self) -> Result<Bytes, EncodeError> {
        let mut b = BytesMut::new();
        encode(self, &mut b)?;
        Ok(b.freeze())
    }

    /// Octets this packet takes on the wire; 0 if it cannot be encoded.
    pub fn encoded_len(&self) -> usize {
        self.encoded().map_or(0, |b| b.len())
    }
}

/// The checksum of the octets from STX through the last TAB.
pub fn checksum(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |s, &b| s.wrapping_add(b))
}

/// Takes one packet off the front of `buf`.
///
/// `Ok(None)`: no whole packet yet, nothing consumed. `Err(Oversized)`: nothing consumed;
/// close the session. `Err(Garbage | Unterminated)`: the skipped octets were consumed; call
/// again. Any other result consumed exactly one packet.
pub fn decode(buf: &mut BytesMut, max_len: usize) -> Result<Option<Packet>, DecodeError> {
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
            let packet = buf.split_to(i + 1).freeze();
            decode_packet(&packet).map(Some)
        }
        None if buf.len() < max_len => Ok(None),
        _ => Err(DecodeError::Oversized {
            len: buf.len(),
            max: max_len,
        }),
    }
}

/// Decodes exactly one complete packet, STX and ETX included.
pub fn decode_packet(packet: &[u8]) -> Result<Packet, DecodeError> {
    let inner = match packet {
        [STX, inner @ .., ETX] => inner,
        _ => return Err(bad_header("a packet runs from STX to ETX")),
    };
    let header = match inner {
        [a, b, b':', c, d, e, TAB, ..] => {
            let op =
                digits(&[*a, *b]).ok_or_else(|| bad_header("operation code is not two digits"))?;
            let number = digits(&[*c, *d, *e])
                .filter(|n| *n <= 255)
                .ok_or_else(|| bad_header("packet number is not three digits 000..255"))?;
            Header {
                op: op as u8,
                number: number as u8,
            }
        }
        _ => return Err(bad_header("no ZZ:NNN<TAB> header")),
    };
    // After the header TAB: parameters, each ended by TAB, then the optional checksum.
    let last_tab = inner
        .iter()
        .rposition(|&b| b == TAB)
        .expect("the header ends with TAB");
    let cs = &inner[last_tab + 1..];
    let computed = checksum(&packet[..last_tab + 2]);
    match cs {
        [] => {}
        [_, _]
            if std::str::from_utf8(cs)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                == Some(computed) => {}
        [h, l] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
            return Err(DecodeError::BadChecksum {
                header,
                declared: String::from_utf8_lossy(cs).into_owned(),
                computed,
            })
        }
        _ => {
            return Err(DecodeError::Malformed {
                header,
                reason: "the checksum is neither empty nor two hex digits".into(),
            })
        }
    }
    if !op::is_known(header.op) {
        return Err(DecodeError::UnsupportedOperation { header });
    }
    let mut params = Vec::new();
    if last_tab > 6 {
        for p in inner[7..last_tab].split(|&b| b == TAB) {
            let code = match p {
                [a, b, c, b':', ..] => digits(&[*a, *b, *c]),
                _ => None,
            }
            .ok_or_else(|| DecodeError::Malformed {
                header,
                reason: format!(
                    "parameter {:?} is not PPP:value",
                    String::from_utf8_lossy(&p[..p.len().min(12)])
                ),
            })? as u16;
            let value = &p[4..];
            param::check(code, value).map_err(|reason| DecodeError::BadParameter {
                header,
                code,
                reason,
            })?;
            params.push(Param::new(code, value));
        }
    }
    Ok(Packet {
        op: header.op,
        number: header.number,
        params,
    })
}

fn bad_header(reason: &str) -> DecodeError {
    DecodeError::BadHeader {
        reason: reason.into(),
    }
}

fn digits(d: &[u8]) -> Option<u32> {
    d.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// Appends the encoded packet, with its checksum, to `out`; on error nothing is appended.
pub fn encode(packet: &Packet, out: &mut BytesMut) -> Result<(), EncodeError> {
    if packet.op > 99 {
        return Err(EncodeError::BadOperation(packet.op));
    }
    for p in &packet.params {
        if p.code > 999 {
            return Err(EncodeError::BadCode(p.code));
        }
        if let Some(&found) = p.value.iter().find(|&&b| b == TAB || b == STX || b == ETX) {
            return Err(EncodeError::BadOctet {
                code: p.code,
                found,
            });
        }
    }
    let start = out.len();
    let len = 8
        + packet
            .params
            .iter()
            .map(|p| 5 + p.value.len())
            .sum::<usize>()
        + 3;
    out.reserve(len);
    out.put_u8(STX);
    out.put_slice(format!("{:02}:{:03}", packet.op, packet.number).as_bytes());
    out.put_u8(TAB);
    for p in &packet.params {
        out.put_slice(format!("{:03}:", p.code).as_bytes());
        out.put_slice(&p.value);
        out.put_u8(TAB);
    }
    let cs = checksum(&out[start..]);
    out.put_slice(format!("{cs:02X}").as_bytes());
    out.put_u8(ETX);
    Ok(())
}
impl DecodeError {
    /// The packet that answers this error: NACK, general error response or the operation's
    /// response with an error code. `None` for responses (never answered) and unreadable
    /// headers (nothing to answer to).
    pub fn answer(&self) -> Option<Packet> {
        let h = self.header()?;
        let with_error = |op: u8, code: u16| Packet {
            op,
            number: h.number,
            params: vec![
                Param::new(ERROR_CODE, code.to_string()),
                Param::new(ERROR_TEXT, error::text(code)),
            ],
        };
        match self {
            // An unknown code may be a response we do not know; answering it would not help,
            // but a request (< 50) we cannot perform gets its refusal.
            DecodeError::UnsupportedOperation { .. } if op::is_request(h.op) => Some(with_error(
                op::GENERAL_ERROR_RESPONSE,
                error::UNEXPECTED_OPERATION,
            )),
            _ if !op::is_request(h.op) => None,
            DecodeError::BadChecksum { .. } => Some(Packet {
                op: op::NACK,
                number: h.number,
                params: Vec::new(),
            }),
            DecodeError::Malformed { .. } => {
                Some(with_error(op::GENERAL_ERROR_RESPONSE, error::SYNTAX_ERROR))
            }
            DecodeError::BadParameter { .. } => Some(with_error(
                h.op + op::RESPONSE,
                error::PARAMETER_FORMATTING_ERROR,
            )),
            _ => None,
        }
    }
}

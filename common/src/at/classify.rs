//! What one complete line means, on its own. Lines that announce a PDU on the next line come
//! back as a [`PduHeader`] for the [`super::Parser`] to pair with it.

use super::fields::{split, Field};
use super::{ErrorCode, Event, Final, Storage};

/// A line after which the modem sends a PDU line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PduHeader {
    Listed { index: u32, stat: u8, length: usize },
    Read { stat: u8, length: usize },
    Delivered { length: usize },
    StatusReport { length: usize },
}

impl PduHeader {
    /// The event once its PDU has arrived.
    pub fn with_pdu(self, pdu: Vec<u8>) -> Event {
        match self {
            PduHeader::Listed {
                index,
                stat,
                length,
            } => Event::Listed {
                index,
                stat,
                length,
                pdu,
            },
            PduHeader::Read { stat, length } => Event::Read { stat, length, pdu },
            PduHeader::Delivered { length } => Event::Delivered { length, pdu },
            PduHeader::StatusReport { length } => Event::StatusReport { length, pdu },
        }
    }
}

/// A classified line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Event(Event),
    PduHeader(PduHeader),
}

fn malformed(line: &str, why: &'static str) -> Line {
    Line::Event(Event::Malformed {
        line: line.to_string(),
        why,
    })
}

fn error_code(s: &str) -> ErrorCode {
    let s = s.trim();
    match s.parse() {
        Ok(n) => ErrorCode::Code(n),
        Err(_) => ErrorCode::Text(s.to_string()),
    }
}

/// Classifies one line (without its terminator; not empty).
pub fn classify(line: &str) -> Line {
    let ev = |e| Line::Event(e);
    match line {
        "OK" => return ev(Event::Final(Final::Ok)),
        "ERROR" => return ev(Event::Final(Final::Error)),
        "NO CARRIER" => return ev(Event::Final(Final::NoCarrier)),
        "NO DIALTONE" => return ev(Event::Final(Final::NoDialtone)),
        "BUSY" => return ev(Event::Final(Final::Busy)),
        "NO ANSWER" => return ev(Event::Final(Final::NoAnswer)),
        "RING" => return ev(Event::Ring),
        _ => {}
    }
    if let Some(rest) = line.strip_prefix("CONNECT") {
        if rest.is_empty() || rest.starts_with(' ') {
            return ev(Event::Final(Final::Connect(rest.trim().to_string())));
        }
    }
    let Some((name, params)) = line.split_once(':') else {
        return ev(Event::Info(line.to_string()));
    };
    let f = split(params);
    let num = |i: usize| f.get(i).and_then(Field::number);
    let text = |i: usize| f.get(i).and_then(Field::text).map(str::to_string);
    match name {
        "+CMS ERROR" => ev(Event::Final(Final::CmsError(error_code(params)))),
        "+CME ERROR" => ev(Event::Final(Final::CmeError(error_code(params)))),
        "+CMGS" => match num(0).and_then(|n| u8::try_from(n).ok()) {
            Some(mr) => ev(Event::Sent { mr }),
            None => malformed(line, "+CMGS without a message reference of 0..255"),
        },
        // Some modems leave out the empty <alpha>: take the last field as the length.
        "+CMGL" => match (num(0), num(1), f.len(), num(f.len() - 1)) {
            (Some(index), Some(stat), 3 | 4, Some(length)) if stat <= 3 => {
                Line::PduHeader(PduHeader::Listed {
                    index,
                    stat: stat as u8,
                    length: length as usize,
                })
            }
            _ => malformed(
                line,
                "+CMGL is not <index>,<stat>,[<alpha>],<length> (PDU mode)",
            ),
        },
        "+CMGR" => match (num(0), f.len(), num(f.len() - 1)) {
            (Some(stat), 2 | 3, Some(length)) if stat <= 3 => Line::PduHeader(PduHeader::Read {
                stat: stat as u8,
                length: length as usize,
            }),
            _ => malformed(line, "+CMGR is not <stat>,[<alpha>],<length> (PDU mode)"),
        },
        "+CMT" => match (f.len(), num(f.len() - 1)) {
            (1 | 2, Some(length)) => Line::PduHeader(PduHeader::Delivered {
                length: length as usize,
            }),
            _ => malformed(line, "+CMT is not [<alpha>],<length> (PDU mode)"),
        },
        "+CDS" => match (f.len(), num(0)) {
            (1, Some(length)) => Line::PduHeader(PduHeader::StatusReport {
                length: length as usize,
            }),
            _ => malformed(line, "+CDS is not <length> (PDU mode)"),
        },
        "+CMTI" | "+CDSI" => match (text(0), num(1)) {
            (Some(mem), Some(index)) if name == "+CMTI" => ev(Event::Stored { mem, index }),
            (Some(mem), Some(index)) => ev(Event::ReportStored { mem, index }),
            _ => malformed(line, "not <mem>,<index>"),
        },
        "+CPMS" => storages(line, &f),
        "+CPIN" => match text(0) {
            Some(code) => ev(Event::Pin(code)),
            None => malformed(line, "+CPIN without a code"),
        },
        "+CSQ" => match (num(0), num(1)) {
            (Some(rssi), Some(ber)) if rssi <= 255 && ber <= 255 => ev(Event::Signal {
                rssi: rssi as u8,
                ber: ber as u8,
            }),
            _ => malformed(line, "+CSQ is not <rssi>,<ber>"),
        },
        "+CSCA" => match text(0) {
            Some(address) => ev(Event::ServiceCentre {
                address,
                toa: num(1).and_then(|n| u8::try_from(n).ok()),
            }),
            None => malformed(line, "+CSCA without an address"),
        },
        _ => ev(Event::Info(line.to_string())),
    }
}

/// `+CPMS: "SM",3,30,...` (query) or `+CPMS: 3,30,...` (set); the `=?` form with lists is
/// left as information.
fn storages(line: &str, f: &[Field]) -> Line {
    if line.contains('(') {
        return Line::Event(Event::Info(line.to_string()));
    }
    let named = matches!(f.first(), Some(Field::Quoted(_)));
    let step = if named { 3 } else { 2 };
    if f.is_empty() || !f.len().is_multiple_of(step) {
        return malformed(line, "+CPMS is not groups of [<mem>,]<used>,<total>");
    }
    let mut out = Vec::new();
    for g in f.chunks(step) {
        let (mem, nums) = if named {
            (g[0].text().map(str::to_string), &g[1..])
        } else {
            (None, g)
        };
        match (nums[0].number(), nums[1].number()) {
            (Some(used), Some(total)) => out.push(Storage { mem, used, total }),
            _ => return malformed(line, "+CPMS used or total is not a number"),
        }
    }
    Line::Event(Event::Storages(out))
}

//! Splitting the modem's byte stream into lines and pairing PDU lines with their headers.
//!
//! Modems end lines with CR LF, echo commands ending in CR, and send the `> ` prompt with no
//! line end at all; so CR, LF and Ctrl-Z all end a line, empty lines are skipped, and a `>` at
//! the start of a line is the prompt at once.

use super::classify::{classify, Line, PduHeader};
use super::Event;
use crate::sms_pdu::from_hex;

/// Longest line kept. A PDU line is at most 2 × (12 + 164) hex digits; anything longer is
/// not a line we can use, and buffering it would let a babbling modem grow our memory.
pub const MAX_LINE: usize = 1024;

/// The parser's state between reads.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    /// Octets dropped from the current line because it ran over [`MAX_LINE`].
    dropping: usize,
    /// The header whose PDU line comes next.
    pending: Option<(String, PduHeader)>,
    /// A prompt was just seen: the space after `>` belongs to it.
    after_prompt: bool,
    /// The last command sent, to recognise its echo.
    echo: Option<String>,
}

fn is_end(b: u8) -> bool {
    matches!(b, b'\r' | b'\n' | 0x1A)
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Tells the parser which command line was just written, so its echo (with `ATE1`) is
    /// reported as [`Event::Echo`] instead of information.
    pub fn sent(&mut self, command: &str) {
        self.echo = Some(command.trim().to_ascii_uppercase());
    }

    /// Whether a PDU line is still due (a header arrived, its PDU not yet).
    pub fn awaiting_pdu(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes the next bytes from the modem and returns the events they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        for &b in bytes {
            if std::mem::take(&mut self.after_prompt) && b == b' ' {
                continue;
            }
            if is_end(b) {
                self.end_line(&mut out);
            } else if b == b'>' && self.line.is_empty() && self.dropping == 0 {
                if let Some((line, _)) = self.pending.take() {
                    out.push(Event::Malformed {
                        line,
                        why: "prompt instead of the PDU line",
                    });
                }
                out.push(Event::Prompt);
                self.after_prompt = true;
            } else if self.line.len() < MAX_LINE && self.dropping == 0 {
                self.line.push(b);
            } else {
                self.dropping += self.line.len() + 1;
                self.line.clear();
            }
        }
        out
    }

    fn end_line(&mut self, out: &mut Vec<Event>) {
        if self.dropping > 0 {
            out.push(Event::Overlong {
                dropped: std::mem::take(&mut self.dropping),
            });
            if let Some((line, _)) = self.pending.take() {
                out.push(Event::Malformed {
                    line,
                    why: "the PDU line after it was too long",
                });
            }
            return;
        }
        if self.line.is_empty() {
            return;
        }
        let raw = std::mem::take(&mut self.line);
        let line = String::from_utf8_lossy(&raw).trim().to_string();
        if line.is_empty() {
            return;
        }
        if let Some((header_line, header)) = self.pending.take() {
            match from_hex(&line) {
                Ok(pdu) => {
                    out.push(header.with_pdu(pdu));
                    return;
                }
                Err(_) => out.push(Event::Malformed {
                    line: header_line,
                    why: "the line after it is not a hex PDU",
                }),
            }
        }
        if self.echo.as_deref() == Some(line.to_ascii_uppercase().as_str()) {
            self.echo = None;
            out.push(Event::Echo(line));
            return;
        }
        match classify(&line) {
            Line::Event(e) => out.push(e),
            Line::PduHeader(h) => self.pending = Some((line, h)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::at::{ErrorCode, Final, Storage};

    fn events(chunks: &[&[u8]]) -> Vec<Event> {
        let mut p = Parser::new();
        p.sent("AT+CMGS=23");
        chunks.iter().flat_map(|c| p.feed(c)).collect()
    }

    #[test]
    fn a_send_dialogue_with_echo_and_prompt() {
        let got = events(&[b"AT+CMGS=23\r", b"\r\n> ", b"\r\n+CMGS: 42\r\n\r\nOK\r\n"]);
        assert_eq!(
            got,
            [
                Event::Echo("AT+CMGS=23".into()),
                Event::Prompt,
                Event::Sent { mr: 42 },
                Event::Final(Final::Ok),
            ]
        );
    }

    #[test]
    fn every_byte_boundary_gives_the_same_events() {
        let wire: &[u8] = b"\r\n+CMTI: \"SM\",3\r\n\r\n+CMGL: 1,0,,5\r\n0011223344\r\n\r\n> \r\n+CMS ERROR: 38\r\n";
        let whole = events(&[wire]);
        assert_eq!(whole.len(), 4);
        for cut in 0..wire.len() {
            let (a, b) = wire.split_at(cut);
            assert_eq!(events(&[a, b]), whole, "cut at {cut}");
        }
        let one_by_one: Vec<&[u8]> = wire.chunks(1).collect();
        assert_eq!(events(&one_by_one), whole);
    }

    #[test]
    fn lines_are_typed() {
        let cases: &[(&str, Event)] = &[
            ("ERROR", Event::Final(Final::Error)),
            (
                "+CMS ERROR: 500",
                Event::Final(Final::CmsError(ErrorCode::Code(500))),
            ),
            (
                "+CME ERROR: SIM PIN required",
                Event::Final(Final::CmeError(ErrorCode::Text("SIM PIN required".into()))),
            ),
            ("CONNECT 9600", Event::Final(Final::Connect("9600".into()))),
            ("CONNECT", Event::Final(Final::Connect(String::new()))),
            ("NO CARRIER", Event::Final(Final::NoCarrier)),
            ("RING", Event::Ring),
            (
                "+CDSI: \"SR\",7",
                Event::ReportStored {
                    mem: "SR".into(),
                    index: 7,
                },
            ),
            ("+CPIN: SIM PIN", Event::Pin("SIM PIN".into())),
            ("+CSQ: 17,99", Event::Signal { rssi: 17, ber: 99 }),
            (
                "+CSCA: \"+46705008999\",145",
                Event::ServiceCentre {
                    address: "+46705008999".into(),
                    toa: Some(145),
                },
            ),
            (
                "+CPMS: \"SM\",3,30,\"ME\",0,100,\"SM\",3,30",
                Event::Storages(vec![
                    Storage {
                        mem: Some("SM".into()),
                        used: 3,
                        total: 30,
                    },
                    Storage {
                        mem: Some("ME".into()),
                        used: 0,
                        total: 100,
                    },
                    Storage {
                        mem: Some("SM".into()),
                        used: 3,
                        total: 30,
                    },
                ]),
            ),
            (
                "+CPMS: 1,30,1,30",
                Event::Storages(vec![
                    Storage {
                        mem: None,
                        used: 1,
                        total: 30,
                    };
                    2
                ]),
            ),
            ("Quectel", Event::Info("Quectel".into())),
            ("+CREG: 0,1", Event::Info("+CREG: 0,1".into())),
            (
                "+CMGS: 300",
                Event::Malformed {
                    line: "+CMGS: 300".into(),
                    why: "+CMGS without a message reference of 0..255",
                },
            ),
        ];
        for (line, want) in cases {
            let got = Parser::new().feed(format!("\r\n{line}\r\n").as_bytes());
            assert_eq!(got, std::slice::from_ref(want), "{line:?}");
        }
    }

    #[test]
    fn pdu_lines_pair_with_their_headers() {
        let mut p = Parser::new();
        let got = p.feed(b"+CMGR: 1,,2\r\n0A0B\r\nOK\r\n+CDS: 1\r\nFF\r\n+CMT: ,1\r\n00\r\n");
        assert_eq!(
            got,
            [
                Event::Read {
                    stat: 1,
                    length: 2,
                    pdu: vec![0x0A, 0x0B]
                },
                Event::Final(Final::Ok),
                Event::StatusReport {
                    length: 1,
                    pdu: vec![0xFF]
                },
                Event::Delivered {
                    length: 1,
                    pdu: vec![0x00]
                },
            ]
        );
        // A header followed by something else is reported, and the something else kept.
        let got = p.feed(b"+CMGL: 1,1,,3\r\nOK\r\n");
        assert!(matches!(got[0], Event::Malformed { .. }), "{got:?}");
        assert_eq!(got[1], Event::Final(Final::Ok));
        assert!(!p.awaiting_pdu());
    }

    #[test]
    fn overlong_lines_are_dropped_and_memory_stays_bounded() {
        let mut p = Parser::new();
        let mut got = Vec::new();
        for _ in 0..100 {
            got.extend(p.feed(&[b'A'; 1000]));
            assert!(p.line.len() <= MAX_LINE);
        }
        got.extend(p.feed(b"\r\nOK\r\n"));
        assert_eq!(
            got,
            [
                Event::Overlong { dropped: 100_000 },
                Event::Final(Final::Ok)
            ]
        );
    }

    #[test]
    fn the_echo_is_only_the_command_sent() {
        let mut p = Parser::new();
        p.sent("ATE0");
        assert_eq!(
            p.feed(b"ATE0\r\r\nOK\r\nATE0\r\n"),
            [
                Event::Echo("ATE0".into()),
                Event::Final(Final::Ok),
                Event::Info("ATE0".into())
            ]
        );
    }
}

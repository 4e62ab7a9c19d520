//! The message content of DATA: reading it (dot-unstuffing, the end marker, limits) on the
//! server, and writing it (dot-stuffing, CRLF) on the client.
//!
//! Only `CRLF . CRLF` ends the content. A line ending in a bare LF is never part of the end
//! marker, whatever the policy, so `LF . LF` and `CRLF . LF` cannot end a message early: that
//! is what "SMTP smuggling" (2023) exploits between servers that disagree on the end.

use super::reply::{Enhanced, Reply};

/// What to do with lines that end in a bare LF instead of CRLF.
///
/// The default is [`BareLf::Normalize`], as in Postfix 3.9 and later: real applications send
/// bare LFs (python's `smtplib.sendmail(from, to, msg.as_bytes())` does, as the smtplib
/// test found), and the smuggling risk lies only in the end marker, which stays strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BareLf {
    /// Refuse the command or the whole message (RFC 5321 §2.3.8: CR and LF only as a pair).
    Reject,
    /// Read the line as if it ended in CRLF (the end-of-data marker still needs CRLF).
    #[default]
    Normalize,
}

/// Why a message whose content was read to its end is refused anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    #[error("message larger than {limit} octets")]
    TooBig { limit: u64 },
    #[error("a line is longer than {limit} octets")]
    LineTooLong { limit: usize },
    #[error("a line ends in a bare LF")]
    BareLf,
    #[error("8-bit data without BODY=8BITMIME")]
    EightBit,
}

impl ContentError {
    /// The reply that refuses the message.
    pub fn reply(&self) -> Reply {
        match self {
            ContentError::TooBig { limit } => Reply::new(
                552,
                Enhanced(5, 3, 4),
                format!("Message size exceeds fixed maximum message size ({limit} octets)"),
            ),
            ContentError::LineTooLong { limit } => Reply::new(
                554,
                Enhanced(5, 6, 0),
                format!("Message has a line longer than {} octets", limit - 2),
            ),
            ContentError::BareLf => Reply::new(
                554,
                Enhanced(5, 6, 0),
                "Message has bare LF line endings; lines must end with CRLF",
            ),
            ContentError::EightBit => Reply::new(
                554,
                Enhanced(5, 6, 1),
                "Message has 8-bit data; declare BODY=8BITMIME in MAIL FROM",
            ),
        }
    }
}

/// Reads content lines until the end marker. Holds at most `max_size` octets of content and
/// never more than one partial line of input, whatever the peer sends.
#[derive(Debug)]
pub struct DataReader {
    max_size: u64,
    max_line: usize,
    bare_lf: BareLf,
    eight_bit_allowed: bool,
    content: Vec<u8>,
    /// Octets received for the message, counted even after `content` stopped growing.
    size: u64,
    /// The previous line ended in CRLF (the start of content counts as such).
    after_crlf: bool,
    /// Inside a line longer than the limit: skip to its LF.
    skipping: bool,
    /// The last skipped byte was a CR (the skipped line may still end in CRLF).
    skipped_cr: bool,
    error: Option<ContentError>,
}

/// One step of [`DataReader::read`].
#[derive(Debug, PartialEq, Eq)]
pub enum DataStep {
    /// All buffered bytes were taken; more are needed.
    NeedMore,
    /// The end marker was read: the content, or why the message is refused.
    Done(Result<Vec<u8>, ContentError>),
}

impl DataReader {
    pub fn new(max_size: u64, max_line: usize, bare_lf: BareLf, eight_bit_allowed: bool) -> Self {
        DataReader {
            max_size,
            max_line: max_line.max(3),
            bare_lf,
            eight_bit_allowed,
            content: Vec::new(),
            size: 0,
            after_crlf: true,
            skipping: false,
            skipped_cr: false,
            error: None,
        }
    }

    fn fail(&mut self, e: ContentError) {
        // The first problem is the one reported; the content is no longer needed.
        self.error.get_or_insert(e);
        self.content = Vec::new();
    }

    /// Consumes whole lines from the front of `input` (a trailing partial line stays there,
    /// unless it is already too long, in which case it is dropped and its rest skipped).
    pub fn read(&mut self, input: &mut Vec<u8>) -> DataStep {
        let mut pos = 0;
        let step = loop {
            let rest = &input[pos..];
            let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                if rest.len() > self.max_line || (self.skipping && !rest.is_empty()) {
                    self.size += rest.len() as u64;
                    if !self.skipping {
                        self.fail(ContentError::LineTooLong {
                            limit: self.max_line,
                        });
                    }
                    self.skipping = true;
                    self.skipped_cr = rest.ends_with(b"\r");
                    pos = input.len();
                }
                break DataStep::NeedMore;
            };
            let line = &rest[..nl];
            pos += nl + 1;
            if self.skipping {
                self.skipping = false;
                self.size += line.len() as u64 + 1;
                self.after_crlf = line.ends_with(b"\r") || (line.is_empty() && self.skipped_cr);
                continue;
            }
            let (text, crlf) = match line.strip_suffix(b"\r") {
                Some(t) => (t, true),
                None => (line, false),
            };
            if crlf && self.after_crlf && text == b"." {
                let result = match self.error.take() {
                    Some(e) => Err(e),
                    None => Ok(std::mem::take(&mut self.content)),
                };
                break DataStep::Done(result);
            }
            self.after_crlf = crlf;
            self.size += line.len() as u64 + 1;
            if line.len() + 1 > self.max_line {
                self.fail(ContentError::LineTooLong {
                    limit: self.max_line,
                });
            }
            if !crlf && self.bare_lf == BareLf::Reject {
                self.fail(ContentError::BareLf);
            }
            if !self.eight_bit_allowed && text.iter().any(|&b| b >= 0x80) {
                self.fail(ContentError::EightBit);
            }
            if self.size > self.max_size {
                self.fail(ContentError::TooBig {
                    limit: self.max_size,
                });
            }
            if self.error.is_none() {
                // RFC 5321 §4.5.2: the first dot goes when other characters follow it.
                let text = match text.strip_prefix(b".") {
                    Some(rest) if !rest.is_empty() => rest,
                    _ => text,
                };
                self.content.extend_from_slice(text);
                self.content.extend_from_slice(b"\r\n");
            }
        };
        input.drain(..pos);
        step
    }
}

/// The content as it goes on the wire after DATA's 354: every line ending turned into CRLF,
/// a leading dot doubled (RFC 5321 §4.5.2), a final CRLF added when missing, then `.` CRLF.
pub fn stuff(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + content.len() / 64 + 5);
    let mut at_line_start = true;
    let mut i = 0;
    while i < content.len() {
        let b = content[i];
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        at_line_start = false;
        match b {
            b'\r' if content.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 1;
                at_line_start = true;
            }
            b'\r' | b'\n' => {
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], bare_lf: BareLf, eight: bool) -> (DataStep, Vec<u8>) {
        let mut r = DataReader::new(1000, 100, bare_lf, eight);
        let mut buf = input.to_vec();
        let step = r.read(&mut buf);
        (step, buf)
    }

    #[test]
    fn unstuffs_and_stops_at_the_marker_only() {
        let (step, rest) = read_all(
            b"Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n",
            BareLf::Reject,
            false,
        );
        assert_eq!(
            step,
            DataStep::Done(Ok(b"Subject: x\r\n\r\n.leading dot\r\n".to_vec()))
        );
        assert_eq!(rest, b"QUIT\r\n");
    }

    #[test]
    fn smuggling_markers_do_not_end_the_content() {
        for input in [
            &b"a\n.\nMAIL FROM:<x@y>\r\n"[..],
            b"a\r\n.\nRCPT\r\n",
            b"a\n.\r\n",
        ] {
            let (step, rest) = read_all(input, BareLf::Normalize, false);
            assert_eq!(step, DataStep::NeedMore, "{input:?}");
            assert!(rest.is_empty());
        }
        let mut r = DataReader::new(1000, 100, BareLf::Normalize, false);
        let mut buf = b"a\n.\nb\r\n.\r\n".to_vec();
        assert_eq!(
            r.read(&mut buf),
            DataStep::Done(Ok(b"a\r\n.\r\nb\r\n".to_vec()))
        );
    }

    #[test]
    fn refusals_wait_for_the_end_and_report_the_first_problem() {
        let cases: &[(&[u8], BareLf, bool, ContentError)] = &[
            (
                b"a\nb\r\n.\r\n",
                BareLf::Reject,
                false,
                ContentError::BareLf,
            ),
            (
                b"caf\xc3\xa9\r\n.\r\n",
                BareLf::Reject,
                false,
                ContentError::EightBit,
            ),
        ];
        for (input, lf, eight, want) in cases {
            assert_eq!(read_all(input, *lf, *eight).0, DataStep::Done(Err(*want)));
        }
        let long = [vec![b'x'; 150], b"\r\nok\r\n.\r\n".to_vec()].concat();
        assert_eq!(
            read_all(&long, BareLf::Reject, false).0,
            DataStep::Done(Err(ContentError::LineTooLong { limit: 100 }))
        );
        let mut r = DataReader::new(1000, 100, BareLf::Reject, true);
        let mut total = 0;
        for _ in 0..50 {
            let mut buf = [vec![b'y'; 60], b"\r\n".to_vec()].concat();
            total += buf.len();
            assert_eq!(r.read(&mut buf), DataStep::NeedMore);
        }
        assert!(total > 1000);
        assert_eq!(r.content.len(), 0, "stops holding content once too big");
        let mut buf = b".\r\n".to_vec();
        assert_eq!(
            r.read(&mut buf),
            DataStep::Done(Err(ContentError::TooBig { limit: 1000 }))
        );
    }

    #[test]
    fn a_partial_line_waits_and_an_endless_one_is_not_buffered() {
        let mut r = DataReader::new(1_000_000, 100, BareLf::Reject, true);
        let mut buf = b"hel".to_vec();
        assert_eq!(r.read(&mut buf), DataStep::NeedMore);
        assert_eq!(buf, b"hel");
        buf.extend_from_slice(b"lo\r\n.");
        assert_eq!(r.read(&mut buf), DataStep::NeedMore);
        assert_eq!(buf, b".");
        for _ in 0..100 {
            buf.extend_from_slice(&[b'z'; 1000]);
            assert_eq!(r.read(&mut buf), DataStep::NeedMore);
            assert!(buf.is_empty());
        }
        buf.extend_from_slice(b"\r\n.\r\n");
        assert_eq!(
            r.read(&mut buf),
            DataStep::Done(Err(ContentError::LineTooLong { limit: 100 }))
        );
    }

    #[test]
    fn stuffing_round_trips() {
        let content = b"line\n.dot\r\n..two\rlast";
        let wire = stuff(content);
        assert_eq!(wire, b"line\r\n..dot\r\n...two\r\nlast\r\n.\r\n");
        let mut r = DataReader::new(1000, 100, BareLf::Reject, false);
        let mut buf = wire.clone();
        assert_eq!(
            r.read(&mut buf),
            DataStep::Done(Ok(b"line\r\n.dot\r\n..two\r\nlast\r\n".to_vec()))
        );
        assert_eq!(stuff(b""), b".\r\n");
        assert_eq!(stuff(b".\r\n"), b"..\r\n.\r\n");
    }
}

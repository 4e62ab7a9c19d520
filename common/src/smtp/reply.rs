//! SMTP replies: the three-digit code, the RFC 3463 enhanced status and the text, formatted
//! for the wire (one line or the `250-` continuation form) and parsed back by the client.

use std::fmt;

/// An RFC 3463 enhanced status code (`class.subject.detail`, e.g. `5.1.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Enhanced(pub u8, pub u16, pub u16);

impl fmt::Display for Enhanced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Enhanced {
    /// Reads `2.1.0` at the start of a reply line; `None` when the text does not start so.
    fn parse_prefix(text: &str) -> Option<(Enhanced, &str)> {
        let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
        let mut it = word.split('.');
        let class: u8 = it.next()?.parse().ok()?;
        let subject: u16 = it.next()?.parse().ok()?;
        let detail: u16 = it.next()?.parse().ok()?;
        if it.next().is_some() || !matches!(class, 2 | 4 | 5) || subject > 999 || detail > 999 {
            return None;
        }
        Some((Enhanced(class, subject, detail), rest))
    }
}

/// One SMTP reply, possibly of several lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// 200..=599.
    pub code: u16,
    /// Written before the text of every line when set (RFC 2034).
    pub enhanced: Option<Enhanced>,
    /// At least one line; none contains CR or LF.
    pub lines: Vec<String>,
}

impl Reply {
    /// A one-line reply with an enhanced status code.
    pub fn new(code: u16, enhanced: Enhanced, text: impl Into<String>) -> Reply {
        Reply {
            code,
            enhanced: Some(enhanced),
            lines: vec![text.into()],
        }
    }

    /// A reply without enhanced status (greeting, EHLO, 354, AUTH challenges).
    pub fn plain(code: u16, text: impl Into<String>) -> Reply {
        Reply {
            code,
            enhanced: None,
            lines: vec![text.into()],
        }
    }

    /// A multi-line reply (EHLO's capability list).
    pub fn multi(code: u16, lines: Vec<String>) -> Reply {
        Reply {
            code,
            enhanced: None,
            lines,
        }
    }

    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 3xx: the server waits for more (DATA's 354, AUTH's 334).
    pub fn is_intermediate(&self) -> bool {
        (300..400).contains(&self.code)
    }

    /// 4xx: try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5xx: do not try again as it is.
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// The text of every line joined with a space, without the enhanced code.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// Appends the wire form (`CODE-line` for all but the last line, `CODE line` for the last,
    /// each with CRLF). CR and LF inside a line are replaced by spaces so a text built from
    /// peer input can never inject a reply line.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let last = self.lines.len().saturating_sub(1);
        let empty = [String::new()];
        let lines = if self.lines.is_empty() {
            &empty[..]
        } else {
            &self.lines[..]
        };
        for (i, line) in lines.iter().enumerate() {
            let sep = if i == last { ' ' } else { '-' };
            let mut text = String::with_capacity(line.len() + 12);
            if let Some(e) = self.enhanced {
                text.push_str(&e.to_string());
                if !line.is_empty() {
                    text.push(' ');
                }
            }
            text.push_str(line);
            let text = text.replace(['\r', '\n'], " ");
            out.extend_from_slice(format!("{}{}{}\r\n", self.code, sep, text).as_bytes());
        }
    }

    /// The wire form as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.enhanced {
            Some(e) => write!(f, "{} {} {}", self.code, e, self.text()),
            None => write!(f, "{} {}", self.code, self.text()),
        }
    }
}

/// Why a server's reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply line does not start with a three-digit code: {0:?}")]
    Syntax(String),
    #[error("reply line changes code in the middle of a multi-line reply ({first} then {then})")]
    CodeChanged { first: u16, then: u16 },
    #[error("reply longer than {0} lines")]
    TooManyLines(usize),
    #[error("reply line longer than {0} octets")]
    LineTooLong(usize),
}

/// Most lines one reply may have: a server's EHLO lists a few dozen at most.
pub const MAX_REPLY_LINES: usize = 256;
/// Longest reply line accepted (RFC 5321 says 512; real servers stay well inside).
pub const MAX_REPLY_LINE: usize = 2048;

/// Takes one complete reply off the front of `buf`. `Ok(None)` until its last line arrived
/// (nothing consumed); on success the reply's bytes are removed. Lines may end in CRLF or a
/// bare LF (servers are not always strict; the client need not be either).
pub fn parse_reply(buf: &mut Vec<u8>) -> Result<Option<Reply>, ReplyError> {
    let mut pos = 0;
    let mut code = None;
    let mut lines = Vec::new();
    let mut enhanced_all = true;
    let mut enhanced = None;
    loop {
        let Some(nl) = buf[pos..].iter().position(|&b| b == b'\n') else {
            if buf.len() - pos > MAX_REPLY_LINE {
                return Err(ReplyError::LineTooLong(MAX_REPLY_LINE));
            }
            return Ok(None);
        };
        let raw = &buf[pos..pos + nl];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_REPLY_LINE {
            return Err(ReplyError::LineTooLong(MAX_REPLY_LINE));
        }
        let line = String::from_utf8_lossy(raw);
        let bytes = line.as_bytes();
        let digits_ok = bytes.len() >= 3 && bytes[..3].iter().all(u8::is_ascii_digit);
        let sep = bytes.get(3).copied();
        if !digits_ok || !matches!(sep, None | Some(b' ') | Some(b'-')) {
            return Err(ReplyError::Syntax(line.into_owned()));
        }
        let this: u16 = line[..3]
            .parse()
            .map_err(|_| ReplyError::Syntax(line.to_string()))?;
        if !(200..600).contains(&this) {
            return Err(ReplyError::Syntax(line.into_owned()));
        }
        match code {
            None => code = Some(this),
            Some(first) if first != this => {
                return Err(ReplyError::CodeChanged { first, then: this })
            }
            _ => {}
        }
        // A line holds no CR (see `Reply::lines`): one that is not part of the CRLF is a space,
        // before anything else reads the line, as it will be when the reply is written again.
        let full = line.get(4..).unwrap_or("").replace('\r', " ");
        let text = match Enhanced::parse_prefix(&full) {
            Some((e, rest)) if u16::from(e.0) == this / 100 => {
                enhanced.get_or_insert(e);
                rest.to_string()
            }
            _ => {
                enhanced_all = false;
                full.clone()
            }
        };
        // Both forms are kept: the code is taken off only if every line has one.
        lines.push((full, text));
        if lines.len() > MAX_REPLY_LINES {
            return Err(ReplyError::TooManyLines(MAX_REPLY_LINES));
        }
        pos += nl + 1;
        if sep != Some(b'-') {
            buf.drain(..pos);
            let lines = lines
                .into_iter()
                .map(|(full, text)| if enhanced_all { text } else { full })
                .collect();
            return Ok(Some(Reply {
                code: this,
                enhanced: if enhanced_all { enhanced } else { None },
                lines,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_one_and_many_lines() {
        let r = Reply::new(250, Enhanced(2, 1, 0), "Sender <a@b> ok");
        assert_eq!(r.to_bytes(), b"250 2.1.0 Sender <a@b> ok\r\n");
        let r = Reply::multi(
            250,
            vec!["mx.example".into(), "PIPELINING".into(), "SIZE 10".into()],
        );
        assert_eq!(
            r.to_bytes(),
            b"250-mx.example\r\n250-PIPELINING\r\n250 SIZE 10\r\n"
        );
    }

    #[test]
    fn text_from_the_peer_cannot_add_lines() {
        let r = Reply::new(550, Enhanced(5, 1, 1), "no such user a\r\n250 ok");
        assert_eq!(r.to_bytes(), b"550 5.1.1 no such user a  250 ok\r\n");
    }

    /// A CR inside a server's line (not its CRLF) would otherwise end up in the reply text,
    /// and from there in logs and DLR texts; found by the props smtp_replies fuzz target.
    #[test]
    fn a_stray_cr_in_a_line_becomes_a_space() {
        let mut buf = b"250-first\r\xff\r\n250 2.0.0 queued\ras 17\r\n".to_vec();
        let r = parse_reply(&mut buf).unwrap().unwrap();
        assert_eq!(r.lines, ["first \u{fffd}", "2.0.0 queued as 17"]);
        assert_eq!(parse_reply(&mut r.to_bytes()), Ok(Some(r)));
        let mut cut = b"421 4.2.4\r?\n".to_vec();
        let r = parse_reply(&mut cut).unwrap().unwrap();
        assert_eq!(
            (r.enhanced, &r.lines[..]),
            (Some(Enhanced(4, 2, 4)), &["?".to_string()][..])
        );
        assert_eq!(parse_reply(&mut r.to_bytes()), Ok(Some(r)));
    }

    /// An enhanced code on some lines only is text, not taken off (it was lost, and a reply
    /// read back from its own bytes lost another; found by the smtp_replies fuzz target).
    #[test]
    fn an_enhanced_code_on_some_lines_stays_in_the_text() {
        let mut buf = b"250-first\r\n250 2.0.8 2.0.8 second\r\n".to_vec();
        let r = parse_reply(&mut buf).unwrap().unwrap();
        assert_eq!(
            (r.enhanced, &r.lines[..]),
            (
                None,
                &["first".to_string(), "2.0.8 2.0.8 second".to_string()][..]
            )
        );
        assert_eq!(parse_reply(&mut r.to_bytes()), Ok(Some(r)));
        let mut all = b"250-2.1.0 first\r\n250 2.1.0 second\r\n".to_vec();
        let r = parse_reply(&mut all).unwrap().unwrap();
        assert_eq!(
            (r.enhanced, &r.lines[..]),
            (
                Some(Enhanced(2, 1, 0)),
                &["first".to_string(), "second".to_string()][..]
            )
        );
    }

    #[test]
    fn parses_what_it_writes() {
        for r in [
            Reply::new(452, Enhanced(4, 5, 3), "Too many recipients"),
            Reply::multi(250, vec!["x".into(), "AUTH PLAIN LOGIN".into()]),
            Reply::plain(354, "End data with <CR><LF>.<CR><LF>"),
        ] {
            let mut buf = r.to_bytes();
            buf.extend_from_slice(b"221 ");
            assert_eq!(parse_reply(&mut buf).unwrap().unwrap(), r);
            assert_eq!(buf, b"221 ");
            assert_eq!(parse_reply(&mut buf).unwrap(), None);
        }
    }

    #[test]
    fn partial_and_broken_replies() {
        let mut buf = b"250-first\r\n250-sec".to_vec();
        assert_eq!(parse_reply(&mut buf).unwrap(), None);
        assert_eq!(buf.len(), 18);
        let mut buf = b"250-first\r\n251 second\r\n".to_vec();
        assert!(matches!(
            parse_reply(&mut buf),
            Err(ReplyError::CodeChanged { .. })
        ));
        let mut buf = b"hello\r\n".to_vec();
        assert!(matches!(parse_reply(&mut buf), Err(ReplyError::Syntax(_))));
        let mut buf = b"250\n".to_vec();
        assert_eq!(
            parse_reply(&mut buf).unwrap().unwrap().lines,
            vec![String::new()]
        );
        let mut buf = vec![b'2'; MAX_REPLY_LINE + 10];
        assert!(matches!(
            parse_reply(&mut buf),
            Err(ReplyError::LineTooLong(_))
        ));
    }
}

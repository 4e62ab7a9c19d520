//! An outgoing mail: RFC 5322 headers with RFC 2047 encoded words where the text is not
//! ASCII, a UTF-8 text/plain body (7bit when it can be, quoted-printable otherwise, so any
//! relay takes it), and EMG's `X-EMG-Option-<name>` headers for the message options.
//!
//! Sans-io and clockless: the caller supplies the Date and Message-ID.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::read::OPTION_HEADER_PREFIX;

/// What goes into the mail.
#[derive(Debug, Clone, Default)]
pub struct NewMail<'a> {
    pub from: &'a str,
    pub from_name: Option<&'a str>,
    pub to: &'a [String],
    pub subject: Option<&'a str>,
    pub text: &'a str,
    /// RFC 5322 date-time, e.g. `Tue, 1 Dec 2026 13:48:00 +0000`.
    pub date: &'a str,
    /// Without angle brackets, e.g. `17.1764596880@emg.example`.
    pub message_id: &'a str,
    /// The Message-ID this mail answers (threading in the user's mail program).
    pub in_reply_to: Option<&'a str>,
    /// Message options as `X-EMG-Option-<name>` headers.
    pub options: &'a [(String, String)],
}

/// Longest encoded word (RFC 2047 §2) and longest body line before a soft break.
const MAX_ENCODED_WORD: usize = 75;
const MAX_QP_LINE: usize = 76;

/// The mail, CRLF line ends, ready for [`crate::smtp::Client::send`].
pub fn build_mail(m: &NewMail<'_>) -> Vec<u8> {
    let mut h = String::new();
    let mut header = |name: &str, value: &str| {
        h.push_str(name);
        h.push_str(": ");
        h.push_str(value);
        h.push_str("\r\n");
    };
    header("Date", &clean(m.date));
    header("From", &mailbox(m.from_name, m.from));
    header(
        "To",
        &m.to
            .iter()
            .map(|a| clean(a))
            .collect::<Vec<_>>()
            .join(",\r\n "),
    );
    if let Some(s) = m.subject {
        header("Subject", &encode_header_text(s, "Subject: ".len()));
    }
    header("Message-ID", &format!("<{}>", clean(m.message_id)));
    if let Some(id) = m.in_reply_to {
        header("In-Reply-To", &format!("<{}>", clean(id)));
        header("References", &format!("<{}>", clean(id)));
    }
    for (name, value) in m.options {
        let name: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if !name.is_empty() {
            let name = format!("{OPTION_HEADER_PREFIX}{name}");
            let value = encode_header_text(value, name.len() + 2);
            header(&name, &value);
        }
    }
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=utf-8");
    let text = m.text.replace("\r\n", "\n");
    let plain = text.is_ascii()
        && text
            .split('\n')
            .all(|l| l.len() <= 998 && !l.ends_with(' '));
    let body = if plain {
        header("Content-Transfer-Encoding", "7bit");
        text.replace('\n', "\r\n")
    } else {
        header("Content-Transfer-Encoding", "quoted-printable");
        quoted_printable(text.as_bytes())
    };
    let mut out = h.into_bytes();
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// CR and LF out of a header value built from message data (no header injection).
fn clean(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// `"Name" <addr>`, `=?UTF-8?B?...?= <addr>` or `addr`.
fn mailbox(name: Option<&str>, addr: &str) -> String {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => clean(addr),
        Some(n) if n.is_ascii() => {
            let quoted = clean(n).replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{quoted}\" <{}>", clean(addr))
        }
        Some(n) => format!(
            "{} <{}>",
            encoded_words(&clean(n), "From: ".len()),
            clean(addr)
        ),
    }
}

/// A header's text as it is when printable ASCII, else as encoded words (folded) for a
/// header whose value starts at column `column`.
pub fn encode_header_text(text: &str, column: usize) -> String {
    let text = clean(text);
    let printable = text.bytes().all(|b| (0x20..0x7f).contains(&b));
    if printable && !text.contains("=?") && text.len() <= 900 {
        text
    } else {
        encoded_words(&text, column)
    }
}

/// RFC 2047 B-encoding in words separated by CRLF SP (folding), never splitting a character,
/// so that no line is longer than 76 characters (RFC 2047 §2) when the first word starts at
/// `column`.
pub fn encoded_words(text: &str, column: usize) -> String {
    // "=?UTF-8?B?" + "?=" = 12 characters around the base64; 4 base64 characters carry 3 octets.
    let octets_for = |room: usize| (room.saturating_sub(12) / 4 * 3).max(6);
    let mut max_octets = octets_for(MAX_ENCODED_WORD.min(76usize.saturating_sub(column)));
    let mut words = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if i + c.len_utf8() - start > max_octets {
            words.push(&text[start..end]);
            start = i;
            max_octets = octets_for(MAX_ENCODED_WORD);
        }
        end = i + c.len_utf8();
    }
    if start < text.len() || words.is_empty() {
        words.push(&text[start..]);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", STANDARD.encode(w)))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// Quoted-printable (RFC 2045 §6.7) of text whose line ends are LF; lines come out with CRLF.
pub fn quoted_printable(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    for (n, line) in lines.iter().enumerate() {
        let mut col = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let literal =
                matches!(b, 0x21..=0x3c | 0x3e..=0x7e) || (matches!(b, b' ' | b'\t') && !last);
            let piece = if literal {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if col + piece.len() > MAX_QP_LINE - 1 {
                out.push_str("=\r\n");
                col = 0;
            }
            out.push_str(&piece);
            col += piece.len();
        }
        if n + 1 < lines.len() {
            out.push_str("\r\n");
        }
    }
    out
}

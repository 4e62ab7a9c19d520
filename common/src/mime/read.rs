//! An incoming mail (RFC 5322 + MIME) → the text an SMS can carry.
//!
//! Parsing is mail-parser's (see the module page for why); this file decides what of the
//! parsed mail becomes SMS text: every inline text part (text/plain as it is, text/html reduced
//! to text, one of each multipart/alternative), text attachments after them, and nothing of
//! the rest, which is listed in [`MailText::discarded`] so the connector can log it.

use mail_parser::parsers::MessageStream;
use mail_parser::{MessageParser, MimeHeaders, PartType};

/// A part that did not become text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discarded {
    /// `image/png`, `application/pdf`...
    pub content_type: String,
    /// The attachment's file name, when it has one.
    pub name: Option<String>,
    /// Decoded size in octets.
    pub size: usize,
}

/// What an SMS needs from a mail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailText {
    /// The From header's address (the envelope sender is the SMTP session's business).
    pub from: Option<String>,
    /// The From header's display name.
    pub from_name: Option<String>,
    /// Decoded Subject (encoded-words and folding undone).
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// The body as text, lines joined with `\n`, trimmed.
    pub text: String,
    /// Non-text parts left out.
    pub discarded: Vec<Discarded>,
    /// `X-EMG-Option-<name>: value` headers, names as written after the prefix.
    pub options: Vec<(String, String)>,
}

/// The header prefix carrying EMG message options.
pub const OPTION_HEADER_PREFIX: &str = "X-EMG-Option-";

/// Why a mail could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("the message has no RFC 5322 header")]
    NoHeader,
}

/// Reads a mail. Lenient like any mail reader: what cannot be decoded is replaced, never an
/// error; only input that is not a mail at all is refused.
pub fn read_mail(raw: &[u8]) -> Result<MailText, MailError> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(MailError::NoHeader)?;
    let from = msg.from().and_then(|a| a.first());
    let mut out = MailText {
        from: from.and_then(|a| a.address()).map(str::to_string),
        from_name: from.and_then(|a| a.name()).map(str::to_string),
        subject: msg.subject().map(|s| s.trim().to_string()),
        message_id: msg.message_id().map(str::to_string),
        ..MailText::default()
    };
    for header in msg.headers() {
        let name = header.name();
        let option = name
            .get(..OPTION_HEADER_PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(OPTION_HEADER_PREFIX))
            .map(|p| &name[p.len()..])
            .filter(|o| !o.is_empty());
        if let Some(option) = option {
            // Unknown headers are kept raw; decode them as unstructured text (unfolding,
            // encoded words).
            let raw = msg
                .raw_message()
                .get(header.offset_start as usize..header.offset_end as usize)
                .unwrap_or_default();
            let value = MessageStream::new(raw).parse_unstructured();
            let value = value.as_text().unwrap_or_default().trim().to_string();
            out.options.push((option.to_string(), value));
        }
    }
    let mut texts: Vec<String> = Vec::new();
    for i in 0..msg.text_body_count() {
        if let Some(t) = msg.body_text(i) {
            texts.push(t.into_owned());
        }
    }
    for part in msg.attachments() {
        match &part.body {
            PartType::Text(t) => texts.push(t.to_string()),
            PartType::Html(h) => texts.push(mail_parser::decoders::html::html_to_text(h)),
            _ => {
                let content_type = part
                    .content_type()
                    .map(|c| match c.subtype() {
                        Some(sub) => format!("{}/{}", c.ctype(), sub),
                        None => c.ctype().to_string(),
                    })
                    .unwrap_or_else(|| "application/octet-stream".into())
                    .to_ascii_lowercase();
                out.discarded.push(Discarded {
                    content_type,
                    name: part.attachment_name().map(str::to_string),
                    size: part.len(),
                });
            }
        }
    }
    let joined: Vec<String> = texts
        .iter()
        .map(|t| tidy(t))
        .filter(|t| !t.is_empty())
        .collect();
    out.text = joined.join("\n\n");
    Ok(out)
}

/// Text as a handset should see it: LF line ends, no trailing blanks, at most one empty line
/// in a row, no signature (after the RFC 3676 `-- ` line), trimmed.
pub fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line == "-- " {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

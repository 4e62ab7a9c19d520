//! Server side: one command line (CRLF already removed) → a typed [`Command`], or the reply
//! that says what is wrong with it.
//!
//! Lenient where real clients differ (verbs in any case, a space after `FROM:`, source routes
//! in paths) and strict where the spec protects us: path lengths (RFC 5321 §4.5.3.1), only the
//! MAIL parameters we advertise, a number that fits for SIZE.

use super::reply::{Enhanced, Reply};

/// Longest local part and domain of an address, and longest path (RFC 5321 §4.5.3.1).
pub const MAX_LOCAL_PART: usize = 64;
pub const MAX_DOMAIN: usize = 255;
pub const MAX_PATH: usize = 256;

/// What MAIL FROM's BODY parameter declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Body {
    #[default]
    SevenBit,
    EightBitMime,
}

/// The MAIL FROM parameters we support.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailParams {
    /// The client's estimate of the message size (RFC 1870).
    pub size: Option<u64>,
    pub body: Body,
}

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ehlo(String),
    Helo(String),
    /// The reverse path, empty for the null sender `<>`.
    Mail {
        from: String,
        params: MailParams,
    },
    Rcpt {
        to: String,
    },
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Help,
    StartTls,
    Auth {
        mechanism: String,
        initial: Option<String>,
    },
}

/// Why a command line was refused, with its reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("command unrecognized: {0}")]
    Unrecognized(String),
    #[error("command not implemented: {0}")]
    NotImplemented(String),
    #[error("syntax error in arguments: {0}")]
    Syntax(&'static str),
    #[error("bad sender address syntax")]
    BadSender,
    #[error("bad recipient address syntax")]
    BadRecipient,
    #[error("unsupported parameter {0}")]
    UnsupportedParameter(String),
}

impl CommandError {
    /// The reply RFC 5321 gives for this error.
    pub fn reply(&self) -> Reply {
        match self {
            CommandError::Unrecognized(_) => {
                Reply::new(500, Enhanced(5, 5, 2), "Command unrecognized")
            }
            CommandError::NotImplemented(v) => {
                Reply::new(502, Enhanced(5, 5, 1), format!("{v} not implemented"))
            }
            CommandError::Syntax(what) => {
                Reply::new(501, Enhanced(5, 5, 4), format!("Syntax error: {what}"))
            }
            CommandError::BadSender => {
                Reply::new(501, Enhanced(5, 1, 7), "Bad sender address syntax")
            }
            CommandError::BadRecipient => {
                Reply::new(501, Enhanced(5, 1, 3), "Bad recipient address syntax")
            }
            CommandError::UnsupportedParameter(p) => {
                Reply::new(555, Enhanced(5, 5, 4), format!("Unsupported parameter {p}"))
            }
        }
    }
}

/// Parses one command line (without its CRLF).
pub fn parse_command(line: &[u8]) -> Result<Command, CommandError> {
    let line = std::str::from_utf8(line).map_err(|_| CommandError::Syntax("not ASCII"))?;
    if !line.is_ascii() {
        return Err(CommandError::Syntax("not ASCII"));
    }
    let (verb, rest) = match line.find(' ') {
        Some(i) => (&line[..i], line[i + 1..].trim()),
        None => (line, ""),
    };
    let verb = verb.to_ascii_uppercase();
    let no_args = |cmd: Command| {
        if rest.is_empty() {
            Ok(cmd)
        } else {
            Err(CommandError::Syntax("this command takes no arguments"))
        }
    };
    match verb.as_str() {
        "EHLO" | "HELO" => {
            let domain = rest.split(' ').next().unwrap_or("");
            if domain.is_empty() || domain.len() > MAX_DOMAIN {
                return Err(CommandError::Syntax(
                    "a domain or address literal is needed",
                ));
            }
            Ok(if verb == "EHLO" {
                Command::Ehlo(domain.to_string())
            } else {
                Command::Helo(domain.to_string())
            })
        }
        "MAIL" => {
            let (from, params) = path_arg(rest, "FROM:").ok_or(CommandError::BadSender)?;
            let from = check_path(from, true).ok_or(CommandError::BadSender)?;
            Ok(Command::Mail {
                from,
                params: mail_params(params)?,
            })
        }
        "RCPT" => {
            let (to, params) = path_arg(rest, "TO:").ok_or(CommandError::BadRecipient)?;
            let to = check_path(to, false).ok_or(CommandError::BadRecipient)?;
            if let Some(p) = params.split_whitespace().next() {
                return Err(CommandError::UnsupportedParameter(p.to_string()));
            }
            Ok(Command::Rcpt { to })
        }
        "DATA" => no_args(Command::Data),
        "RSET" => no_args(Command::Rset),
        "NOOP" => Ok(Command::Noop),
        "QUIT" => no_args(Command::Quit),
        "VRFY" => Ok(Command::Vrfy),
        "HELP" => Ok(Command::Help),
        "STARTTLS" => no_args(Command::StartTls),
        "AUTH" => {
            let mut words = rest.split_whitespace();
            let mechanism = words
                .next()
                .ok_or(CommandError::Syntax("AUTH needs a mechanism"))?
                .to_ascii_uppercase();
            let initial = words.next().map(str::to_string);
            if words.next().is_some() {
                return Err(CommandError::Syntax(
                    "AUTH takes a mechanism and one response",
                ));
            }
            Ok(Command::Auth { mechanism, initial })
        }
        "EXPN" | "TURN" | "ETRN" | "BDAT" | "SEND" | "SOML" | "SAML" | "ATRN" => {
            Err(CommandError::NotImplemented(verb))
        }
        _ => Err(CommandError::Unrecognized(verb)),
    }
}

/// Splits `FROM:<path> params` (keyword case-insensitive, optional space after the colon).
fn path_arg<'a>(rest: &'a str, keyword: &str) -> Option<(&'a str, &'a str)> {
    let head = rest.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let after = rest[keyword.len()..].trim_start();
    let after = after.strip_prefix('<')?;
    // A quoted local part may contain '>'; find the closing bracket outside quotes.
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in after.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '>' if !quoted => {
                let params = &after[i + 1..];
                if !params.is_empty() && !params.starts_with(' ') {
                    return None;
                }
                return Some((&after[..i], params.trim()));
            }
            _ => {}
        }
    }
    None
}

/// Validates a path between the brackets; drops a source route (`@a,@b:`). The null path is
/// allowed for senders only; `postmaster` without a domain for recipients only.
fn check_path(path: &str, sender: bool) -> Option<String> {
    if path.len() > MAX_PATH {
        return None;
    }
    let path = match path.strip_prefix('@') {
        Some(route) => &route[route.find(':')? + 1..],
        None => path,
    };
    if path.is_empty() {
        return sender.then(String::new);
    }
    if !sender && path.eq_ignore_ascii_case("postmaster") {
        return Some(path.to_string());
    }
    let at = path.rfind('@')?;
    let (local, domain) = (&path[..at], &path[at + 1..]);
    let local_ok = !local.is_empty()
        && local.len() <= MAX_LOCAL_PART
        && (is_quoted(local) || local.split('.').all(is_atom));
    let domain_ok = !domain.is_empty()
        && domain.len() <= MAX_DOMAIN
        && (is_literal(domain) || domain.split('.').all(is_label));
    (local_ok && domain_ok).then(|| path.to_string())
}

fn is_atom(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b))
}

fn is_quoted(s: &str) -> bool {
    s.len() >= 2 && s.starts_with('"') && s.ends_with('"')
}

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_literal(s: &str) -> bool {
    s.len() > 2 && s.starts_with('[') && s.ends_with(']')
}

fn mail_params(params: &str) -> Result<MailParams, CommandError> {
    let mut out = MailParams::default();
    for p in params.split_whitespace() {
        let (key, value) = p.split_once('=').unwrap_or((p, ""));
        match key.to_ascii_uppercase().as_str() {
            "SIZE" => {
                let n = value
                    .parse::<u64>()
                    .map_err(|_| CommandError::Syntax("SIZE needs a number"))?;
                out.size = Some(n);
            }
            "BODY" => {
                out.body = match value.to_ascii_uppercase().as_str() {
                    "7BIT" => Body::SevenBit,
                    "8BITMIME" => Body::EightBitMime,
                    _ => return Err(CommandError::UnsupportedParameter(p.to_string())),
                }
            }
            // RFC 4954: the submitter's identity; we know who authenticated, so it is ignored.
            "AUTH" => {}
            _ => return Err(CommandError::UnsupportedParameter(p.to_string())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_table() {
        let ok: &[(&str, Command)] = &[
            (
                "EHLO client.example",
                Command::Ehlo("client.example".into()),
            ),
            ("helo [127.0.0.1]", Command::Helo("[127.0.0.1]".into())),
            (
                "MAIL FROM:<alice@example.com>",
                Command::Mail {
                    from: "alice@example.com".into(),
                    params: MailParams::default(),
                },
            ),
            (
                "mail from: <alice@example.com> SIZE=1200 BODY=8BITMIME",
                Command::Mail {
                    from: "alice@example.com".into(),
                    params: MailParams {
                        size: Some(1200),
                        body: Body::EightBitMime,
                    },
                },
            ),
            (
                "MAIL FROM:<>",
                Command::Mail {
                    from: String::new(),
                    params: MailParams::default(),
                },
            ),
            (
                "RCPT TO:<@relay.example:46701234567@sms.example.com>",
                Command::Rcpt {
                    to: "46701234567@sms.example.com".into(),
                },
            ),
            (
                "RCPT TO:<Postmaster>",
                Command::Rcpt {
                    to: "Postmaster".into(),
                },
            ),
            (
                "RCPT TO:<\"odd>name\"@example.com>",
                Command::Rcpt {
                    to: "\"odd>name\"@example.com".into(),
                },
            ),
            ("DATA", Command::Data),
            ("rset", Command::Rset),
            ("NOOP anything", Command::Noop),
            ("QUIT", Command::Quit),
            ("STARTTLS", Command::StartTls),
            (
                "AUTH plain AGFsaWNlAHNlY3JldA==",
                Command::Auth {
                    mechanism: "PLAIN".into(),
                    initial: Some("AGFsaWNlAHNlY3JldA==".into()),
                },
            ),
            (
                "AUTH LOGIN",
                Command::Auth {
                    mechanism: "LOGIN".into(),
                    initial: None,
                },
            ),
        ];
        for (line, want) in ok {
            assert_eq!(parse_command(line.as_bytes()).as_ref(), Ok(want), "{line}");
        }
    }

    #[test]
    fn errors_table() {
        let bad: &[(&str, u16)] = &[
            ("FOO", 500),
            ("", 500),
            ("EXPN list", 502),
            ("BDAT 100 LAST", 502),
            ("EHLO", 501),
            ("MAIL alice@example.com", 501),
            ("MAIL FROM:alice@example.com", 501),
            ("MAIL FROM:<alice>", 501),
            ("MAIL FROM:<alice@ex ample.com>", 501),
            ("MAIL FROM:<a@b.c>SIZE=1", 501),
            ("MAIL FROM:<a@b.c> SIZE=big", 501),
            ("MAIL FROM:<a@b.c> SIZE=99999999999999999999999", 501),
            ("MAIL FROM:<a@b.c> SMTPUTF8", 555),
            ("MAIL FROM:<a@b.c> BODY=BINARYMIME", 555),
            ("RCPT TO:<>", 501),
            ("RCPT TO:<a@b.c> NOTIFY=NEVER", 555),
            ("DATA now", 501),
            ("AUTH", 501),
            ("MAIL FROM:<caf\u{e9}@b.c>", 501),
        ];
        for (line, code) in bad {
            let err = parse_command(line.as_bytes()).expect_err(line);
            assert_eq!(err.reply().code, *code, "{line}: {err}");
        }
        let long_local = format!("MAIL FROM:<{}@b.c>", "a".repeat(65));
        assert_eq!(
            parse_command(long_local.as_bytes()),
            Err(CommandError::BadSender)
        );
    }
}

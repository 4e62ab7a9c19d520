//! The client side of an SMTP session (we relay to a mail server) as a state machine: the
//! greeting, EHLO (HELO when EHLO is refused), STARTTLS, AUTH PLAIN or LOGIN, then one
//! transaction after another (MAIL, RCPT, DATA with dot-stuffing, pipelined when the server
//! offers PIPELINING), and QUIT. Replies in, commands out, [`ClientEvent`]s for the session.

use std::collections::VecDeque;

use super::auth;
use super::data::stuff;
use super::reply::{parse_reply, Reply, ReplyError};

/// When to use STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsMode {
    /// Never: the transport is plain text or already TLS (implicit TLS, port 465).
    #[default]
    Never,
    /// When the server offers it.
    Opportunistic,
    /// Fail the session when the server does not offer it.
    Required,
}

#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    /// Our name in EHLO.
    pub ehlo_name: String,
    pub starttls: TlsMode,
    /// Username and password for AUTH (PLAIN when offered, else LOGIN).
    pub auth: Option<(String, String)>,
}

/// What the server said it can do in its EHLO reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub pipelining: bool,
    pub size: Option<u64>,
    pub eight_bit_mime: bool,
    pub starttls: bool,
    pub auth: Vec<String>,
}

impl Capabilities {
    fn parse(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "PIPELINING" => caps.pipelining = true,
                "8BITMIME" => caps.eight_bit_mime = true,
                "STARTTLS" => caps.starttls = true,
                "SIZE" => caps.size = words.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0),
                "AUTH" => caps.auth = words.map(str::to_ascii_uppercase).collect(),
                _ => {}
            }
        }
        caps
    }
}

/// One message to hand over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Reverse path, empty for `<>`.
    pub from: String,
    pub recipients: Vec<String>,
    /// RFC 5322 message, lines ending in CRLF or LF (turned into CRLF on the wire).
    pub content: Vec<u8>,
}

/// How a transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendOutcome {
    /// MAIL FROM's reply.
    pub mail: Reply,
    /// Each recipient with its RCPT reply (absent when MAIL was refused without pipelining).
    pub recipients: Vec<(String, Option<Reply>)>,
    /// The reply after the content (or to DATA itself when it was refused).
    pub data: Option<Reply>,
}

impl SendOutcome {
    /// Per recipient: `Ok` when the server took the message for it, else the reply that
    /// refused it (MAIL's, RCPT's or DATA's, whichever came first).
    pub fn results(&self) -> Vec<(String, Result<(), Reply>)> {
        self.recipients
            .iter()
            .map(|(rcpt, r)| {
                let refusal = if !self.mail.is_positive() {
                    Some(self.mail.clone())
                } else {
                    match (r, &self.data) {
                        (Some(r), _) if !r.is_positive() => Some(r.clone()),
                        (_, Some(d)) if d.is_positive() => None,
                        (_, Some(d)) => Some(d.clone()),
                        (_, None) => Some(self.mail.clone()),
                    }
                };
                (rcpt.clone(), refusal.map_or(Ok(()), Err))
            })
            .collect()
    }
}

/// Why a session cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("server refused the session: {0}")]
    Refused(Reply),
    #[error("server closes the session: {0}")]
    Closing(Reply),
    #[error("server refused EHLO and HELO: {0}")]
    Hello(Reply),
    #[error("server does not offer STARTTLS, which is required")]
    TlsUnavailable,
    #[error("STARTTLS refused: {0}")]
    TlsRefused(Reply),
    #[error("server offers no AUTH mechanism we speak (PLAIN, LOGIN)")]
    AuthUnavailable,
    #[error("authentication failed: {0}")]
    AuthFailed(Reply),
    #[error("message of {size} octets is larger than the server's limit of {limit}")]
    TooBig { size: u64, limit: u64 },
    #[error("message has 8-bit content and the server does not offer 8BITMIME")]
    EightBitRefused,
    /// An address that would break the command line (CR, LF, `<`, `>`, space, control
    /// characters, not ASCII): written as it is, it could inject commands.
    #[error("address {0:?} cannot be sent in an SMTP command")]
    BadAddress(String),
    #[error("unreadable reply: {0}")]
    Reply(#[from] ReplyError),
    #[error("unexpected reply {0} in state {1}")]
    Unexpected(Reply, &'static str),
}

impl ClientError {
    /// Worth trying again later (a 4xx, a closing server, a garbled reply), as opposed to a
    /// permanent refusal or a configuration problem.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Refused(r)
            | ClientError::Hello(r)
            | ClientError::TlsRefused(r)
            | ClientError::AuthFailed(r)
            | ClientError::Unexpected(r, _) => !r.is_permanent(),
            ClientError::Closing(_) | ClientError::Reply(_) => true,
            ClientError::TlsUnavailable
            | ClientError::AuthUnavailable
            | ClientError::TooBig { .. }
            | ClientError::EightBitRefused
            | ClientError::BadAddress(_) => false,
        }
    }
}

/// What the session must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// Greeting, EHLO, STARTTLS and AUTH are done: [`Client::send`] may be called.
    Ready,
    /// Write the output, start TLS on the transport, then call [`Client::tls_started`].
    StartTls,
    /// A transaction ended (per-recipient results in [`SendOutcome::results`]); ready again.
    Sent(SendOutcome),
    /// The session is over; close the connection (a transaction in progress has failed).
    Failed(ClientError),
    /// QUIT was answered: close the connection.
    Closed,
}

/// What the next reply answers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    AuthPlain,
    AuthLoginUser,
    AuthLoginPass,
    AuthDone,
    Mail,
    Rcpt(usize),
    Data,
    Content,
    Rset,
    Quit,
}

/// One SMTP client session.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    input: Vec<u8>,
    output: Vec<u8>,
    events: VecDeque<ClientEvent>,
    /// Replies expected, in order (several when pipelining).
    expect: VecDeque<Expect>,
    caps: Capabilities,
    tls: bool,
    ready: bool,
    done: bool,
    current: Option<(Outgoing, SendOutcome)>,
}

impl Client {
    /// A session on a fresh connection: it waits for the server's greeting.
    pub fn new(config: ClientConfig) -> Client {
        Client {
            config,
            input: Vec::new(),
            output: Vec::new(),
            events: VecDeque::new(),
            expect: VecDeque::from([Expect::Greeting]),
            caps: Capabilities::default(),
            tls: false,
            ready: false,
            done: false,
            current: None,
        }
    }

    /// The server's EHLO capabilities (empty after HELO).
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// Bytes read from the server.
    pub fn feed(&mut self, bytes: &[u8]) {
        if !self.done {
            self.input.extend_from_slice(bytes);
        }
    }

    /// Command bytes to write.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// Ready for [`Client::send`]: no transaction in progress.
    pub fn is_ready(&self) -> bool {
        self.ready && self.current.is_none() && !self.done
    }

    /// The session is waiting for the server (a read timeout applies).
    pub fn is_waiting(&self) -> bool {
        !self.expect.is_empty() && !self.done
    }

    /// The next event, after reading every complete reply buffered.
    pub fn poll(&mut self) -> Option<ClientEvent> {
        while self.events.is_empty() && !self.done && !self.expect.is_empty() {
            match parse_reply(&mut self.input) {
                Ok(Some(reply)) => self.on_reply(reply),
                Ok(None) => break,
                Err(e) => self.fail(e.into()),
            }
        }
        self.events.pop_front()
    }

    /// TLS is up after [`ClientEvent::StartTls`]: EHLO again (RFC 3207 §4.2).
    pub fn tls_started(&mut self) {
        self.tls = true;
        self.input.clear();
        self.caps = Capabilities::default();
        self.ehlo();
    }

    /// Starts a transaction. `Err(None)` when the session is not ready ([`Client::is_ready`]),
    /// `Err(Some(_))` for a refusal that needs no server (too big for SIZE, 8-bit without
    /// 8BITMIME); the session goes on either way.
    pub fn send(&mut self, mail: Outgoing) -> Result<(), Option<ClientError>> {
        if !self.is_ready() {
            return Err(None);
        }
        let unsafe_address = |a: &String| {
            a.len() > super::command::MAX_PATH
                || a.bytes()
                    .any(|b| b <= b' ' || b >= 0x7f || b == b'<' || b == b'>')
        };
        if let Some(a) = std::iter::once(&mail.from)
            .chain(&mail.recipients)
            .find(|a| unsafe_address(a))
        {
            return Err(Some(ClientError::BadAddress(a.clone())));
        }
        if mail.recipients.is_empty() {
            return Err(Some(ClientError::BadAddress(String::new())));
        }
        let stuffed_len = mail.content.len() as u64;
        if let Some(limit) = self.caps.size.filter(|&l| stuffed_len > l) {
            let size = stuffed_len;
            return Err(Some(ClientError::TooBig { size, limit }));
        }
        let eight_bit = mail.content.iter().any(|&b| b >= 0x80);
        if eight_bit && !self.caps.eight_bit_mime {
            return Err(Some(ClientError::EightBitRefused));
        }
        let mut params = String::new();
        if self.caps.size.is_some() {
            params.push_str(&format!(" SIZE={stuffed_len}"));
        }
        if eight_bit {
            params.push_str(" BODY=8BITMIME");
        }
        let mut lines = vec![format!("MAIL FROM:<{}>{params}", mail.from)];
        self.expect.push_back(Expect::Mail);
        if self.caps.pipelining {
            for (i, rcpt) in mail.recipients.iter().enumerate() {
                lines.push(format!("RCPT TO:<{rcpt}>"));
                self.expect.push_back(Expect::Rcpt(i));
            }
            lines.push("DATA".into());
            self.expect.push_back(Expect::Data);
        }
        for line in lines {
            self.line(&line);
        }
        let outcome = SendOutcome {
            mail: Reply::plain(250, ""),
            recipients: mail.recipients.iter().map(|r| (r.clone(), None)).collect(),
            data: None,
        };
        self.current = Some((mail, outcome));
        Ok(())
    }

    /// Ends the session politely.
    pub fn quit(&mut self) {
        if !self.done {
            self.line("QUIT");
            self.expect.push_back(Expect::Quit);
            self.ready = false;
        }
    }

    fn line(&mut self, line: &str) {
        self.output.extend_from_slice(line.as_bytes());
        self.output.extend_from_slice(b"\r\n");
    }

    fn fail(&mut self, e: ClientError) {
        self.done = true;
        self.ready = false;
        self.expect.clear();
        self.events.push_back(ClientEvent::Failed(e));
    }

    fn ehlo(&mut self) {
        let line = format!("EHLO {}", self.config.ehlo_name);
        self.line(&line);
        self.expect.push_back(Expect::Ehlo);
    }

    fn on_reply(&mut self, reply: Reply) {
        let Some(expect) = self.expect.pop_front() else {
            return;
        };
        // 421 may come at any time: the server is going away.
        if reply.code == 421 && expect != Expect::Quit {
            return self.fail(ClientError::Closing(reply));
        }
        match expect {
            Expect::Greeting if reply.code == 220 => self.ehlo(),
            Expect::Greeting => self.fail(ClientError::Refused(reply)),
            Expect::Ehlo if reply.is_positive() => {
                self.caps = Capabilities::parse(&reply);
                self.after_hello();
            }
            Expect::Ehlo if reply.is_permanent() => {
                let line = format!("HELO {}", self.config.ehlo_name);
                self.line(&line);
                self.expect.push_back(Expect::Helo);
            }
            Expect::Ehlo | Expect::Helo if !reply.is_positive() => {
                self.fail(ClientError::Hello(reply))
            }
            Expect::Ehlo | Expect::Helo => self.after_hello(),
            Expect::StartTls if reply.code == 220 => self.events.push_back(ClientEvent::StartTls),
            Expect::StartTls => self.fail(ClientError::TlsRefused(reply)),
            Expect::AuthPlain | Expect::AuthDone if reply.code == 235 => self.now_ready(),
            Expect::AuthLoginUser | Expect::AuthLoginPass if reply.code == 334 => {
                let (user, pass) = self.config.auth.clone().unwrap_or_default();
                let next = if expect == Expect::AuthLoginUser {
                    user
                } else {
                    pass
                };
                self.line(&auth::encode_text(&next));
                self.expect.push_back(if expect == Expect::AuthLoginUser {
                    Expect::AuthLoginPass
                } else {
                    Expect::AuthDone
                });
            }
            Expect::AuthPlain
            | Expect::AuthLoginUser
            | Expect::AuthLoginPass
            | Expect::AuthDone => self.fail(ClientError::AuthFailed(reply)),
            Expect::Mail => self.on_mail(reply),
            Expect::Rcpt(i) => {
                if let Some((_, outcome)) = self.current.as_mut() {
                    if let Some(slot) = outcome.recipients.get_mut(i) {
                        slot.1 = Some(reply);
                    }
                }
                if !self.caps.pipelining {
                    self.next_rcpt_or_data(i + 1);
                }
            }
            Expect::Data => self.on_data(reply),
            Expect::Content => {
                if let Some((_, outcome)) = self.current.as_mut() {
                    outcome.data = Some(reply);
                }
                self.finish_transaction(false);
            }
            Expect::Rset => {}
            Expect::Quit => {
                self.done = true;
                self.events.push_back(ClientEvent::Closed);
            }
        }
    }

    fn after_hello(&mut self) {
        let want_tls = self.config.starttls != TlsMode::Never && !self.tls;
        if want_tls && self.caps.starttls {
            self.line("STARTTLS");
            self.expect.push_back(Expect::StartTls);
            return;
        }
        if want_tls && self.config.starttls == TlsMode::Required {
            return self.fail(ClientError::TlsUnavailable);
        }
        let Some((user, pass)) = self.config.auth.clone() else {
            return self.now_ready();
        };
        if self.caps.auth.iter().any(|m| m == "PLAIN") {
            let line = format!("AUTH PLAIN {}", auth::encode_plain(&user, &pass));
            self.line(&line);
            self.expect.push_back(Expect::AuthPlain);
        } else if self.caps.auth.iter().any(|m| m == "LOGIN") {
            self.line("AUTH LOGIN");
            self.expect.push_back(Expect::AuthLoginUser);
        } else {
            self.fail(ClientError::AuthUnavailable);
        }
    }

    fn now_ready(&mut self) {
        self.ready = true;
        self.events.push_back(ClientEvent::Ready);
    }

    fn on_mail(&mut self, reply: Reply) {
        let positive = reply.is_positive();
        if let Some((_, outcome)) = self.current.as_mut() {
            outcome.mail = reply;
        }
        if self.caps.pipelining {
            // The RCPT and DATA replies follow and are collected; the outcome is decided at DATA.
            return;
        }
        if positive {
            self.next_rcpt_or_data(0);
        } else {
            self.finish_transaction(false);
        }
    }

    /// Without pipelining: the next RCPT, or DATA once every recipient had its turn.
    fn next_rcpt_or_data(&mut self, i: usize) {
        let Some((mail, outcome)) = self.current.as_ref() else {
            return;
        };
        if let Some(rcpt) = mail.recipients.get(i) {
            let line = format!("RCPT TO:<{rcpt}>");
            self.line(&line);
            self.expect.push_back(Expect::Rcpt(i));
        } else if outcome
            .recipients
            .iter()
            .any(|(_, r)| r.as_ref().is_some_and(Reply::is_positive))
        {
            self.line("DATA");
            self.expect.push_back(Expect::Data);
        } else {
            self.finish_transaction(true);
        }
    }

    fn on_data(&mut self, reply: Reply) {
        let Some((mail, outcome)) = self.current.as_mut() else {
            return;
        };
        if reply.code != 354 {
            outcome.data = Some(reply);
            return self.finish_transaction(true);
        }
        let any_rcpt = outcome
            .recipients
            .iter()
            .any(|(_, r)| r.as_ref().is_some_and(Reply::is_positive));
        // A server that says 354 with no accepted recipient (RFC 2920 §3.1) gets an empty
        // message, and the outcome refuses every recipient by its RCPT reply.
        let wire = if any_rcpt && outcome.mail.is_positive() {
            stuff(&mail.content)
        } else {
            b".\r\n".to_vec()
        };
        self.output.extend_from_slice(&wire);
        self.expect.push_back(Expect::Content);
    }

    /// The transaction is over; `reset` sends RSET first (the server may hold a half-open
    /// transaction after a refused MAIL, RCPT or DATA).
    fn finish_transaction(&mut self, reset: bool) {
        let Some((_, outcome)) = self.current.take() else {
            return;
        };
        let refused =
            !outcome.mail.is_positive() || outcome.data.as_ref().is_some_and(|d| !d.is_positive());
        if reset || refused {
            self.line("RSET");
            self.expect.push_back(Expect::Rset);
        }
        self.events.push_back(ClientEvent::Sent(outcome));
    }
}

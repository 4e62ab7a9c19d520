//! The server side of an SMTP session as a state machine: bytes in ([`Server::feed`]),
//! replies out ([`Server::take_output`]) and the decisions it cannot make itself out as
//! [`Event`]s ([`Server::poll`]), answered with [`Server::accept`] or [`Server::reject`].
//!
//! Commands are handled strictly in arrival order: while an event waits for its answer no
//! later command is looked at, so pipelined commands (RFC 2920) are answered in order however
//! they arrived. The session task stops reading while [`Server::wants_input`] is false, so a
//! client that floods pipelined commands is held at one bounded buffer.
//!
//! Limits are the MTA's usual ones and each has its own reply: line length (500 for a command,
//! 554 for the message), message size (552, at MAIL when SIZE says so, else at the end of
//! DATA), recipients per message (452), commands without a message and protocol errors per
//! session, and AUTH failures (421 and close). Timeouts are the session's clock; it asks
//! [`Server::phase`] which one applies and calls [`Server::timed_out`] when it expires.

use super::auth::{self, Credentials, Mechanism};
use super::command::{parse_command, Body, Command, MailParams};
use super::data::{BareLf, DataReader, DataStep};
use super::reply::{Enhanced, Reply};

/// The server's limits and offers.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Our name in the greeting and EHLO reply.
    pub hostname: String,
    /// Longest line, CRLF included (RFC 5321: 1000 for text; commands are held to it too).
    pub max_line_len: usize,
    /// Largest message content in octets, advertised as SIZE.
    pub max_message_size: u64,
    /// Recipients one message may have.
    pub max_recipients: usize,
    /// Commands accepted between two messages (and before the first).
    pub max_commands: usize,
    /// Refused commands per session before it is closed.
    pub max_errors: usize,
    /// Failed AUTH exchanges per session before it is closed.
    pub max_auth_failures: usize,
    pub bare_lf: BareLf,
    /// Accept 8-bit content without BODY=8BITMIME (RFC 6152 says the client must declare it).
    pub lenient_8bit: bool,
    /// STARTTLS can be offered (the session has a TLS acceptor).
    pub tls_available: bool,
    /// Only EHLO, STARTTLS, NOOP, RSET and QUIT before TLS is up.
    pub tls_required: bool,
    /// AUTH is offered (the connector has users).
    pub auth_available: bool,
    /// MAIL needs a successful AUTH first.
    pub auth_required: bool,
    /// AUTH is offered over a connection that is not encrypted.
    pub auth_without_tls: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: "localhost".into(),
            max_line_len: 1000,
            max_message_size: 10 * 1024 * 1024,
            max_recipients: 100,
            max_commands: 100,
            max_errors: 10,
            max_auth_failures: 3,
            bare_lf: BareLf::Reject,
            lenient_8bit: false,
            tls_available: false,
            tls_required: false,
            auth_available: false,
            auth_required: false,
            auth_without_tls: false,
        }
    }
}

/// Most unprocessed command bytes buffered before the session stops reading.
const MAX_PIPELINE_BUFFER: usize = 64 * 1024;

/// The envelope of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    /// EHLO/HELO argument.
    pub helo: String,
    /// Reverse path, empty for `<>`.
    pub from: String,
    pub params: MailParams,
    /// Accepted forward paths, in order.
    pub recipients: Vec<String>,
    /// The user AUTH accepted, if any.
    pub user: Option<String>,
    /// The session is encrypted.
    pub tls: bool,
}

/// What the session must decide or do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Check these credentials: accept gives 235, reject the reply given (535 usually).
    Auth(Credentials),
    /// May this sender send? Accept gives 250.
    Mail { from: String, params: MailParams },
    /// May this recipient get the message (address mapping, routing)? Accept gives 250;
    /// reject per recipient (550/553 permanent, 450/451/452 temporary).
    Rcpt { to: String },
    /// A complete message: accept (250, with the text given) only once it is stored.
    Message {
        envelope: Envelope,
        content: Vec<u8>,
    },
    /// Write the output (its 220), start TLS on the transport, then call
    /// [`Server::tls_started`].
    StartTls,
    /// Write the output and close the connection.
    Close,
}

/// Which timeout applies now (RFC 5321 §4.5.3.2 suggests 5 minutes for commands, 3 for a
/// DATA block, 10 for the end of DATA; the session chooses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Command,
    Data,
    /// Waiting for the session's own answer: no read timeout.
    Deciding,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Auth,
    Mail,
    Rcpt,
    Message,
}

#[derive(Debug)]
enum Mode {
    Command,
    /// The next line is a base64 AUTH response.
    AuthPlain,
    AuthLoginUser,
    AuthLoginPass(String),
    Data(Box<DataReader>),
    Closed,
}

/// One SMTP server session.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    input: Vec<u8>,
    output: Vec<u8>,
    events: std::collections::VecDeque<Event>,
    mode: Mode,
    pending: Option<Pending>,
    greeted: bool,
    tls: bool,
    user: Option<String>,
    /// A transaction is open (MAIL accepted).
    envelope: Option<Envelope>,
    helo: String,
    /// Pending decisions' subjects.
    pending_mail: Option<(String, MailParams)>,
    pending_rcpt: Option<String>,
    pending_auth_user: Option<String>,
    /// Discarding the rest of an overlong command line.
    skipping_line: bool,
    commands: usize,
    errors: usize,
    auth_failures: usize,
}

impl Server {
    /// A session; [`Server::take_output`] holds the 220 greeting at once.
    pub fn new(config: ServerConfig) -> Server {
        let mut s = Server {
            config,
            input: Vec::new(),
            output: Vec::new(),
            events: Default::default(),
            mode: Mode::Command,
            pending: None,
            greeted: false,
            tls: false,
            user: None,
            envelope: None,
            helo: String::new(),
            pending_mail: None,
            pending_rcpt: None,
            pending_auth_user: None,
            skipping_line: false,
            commands: 0,
            errors: 0,
            auth_failures: 0,
        };
        let greeting = format!("{} ESMTP emg", s.config.hostname);
        s.send(Reply::plain(220, greeting));
        s
    }

    /// A session that refuses service (all instances busy, access denied): 554 (RFC 5321
    /// §3.1), then QUIT is the only command it answers with anything but 503.
    pub fn refusing(config: ServerConfig, reply: Reply) -> Server {
        let mut s = Server::new(config);
        s.output.clear();
        s.send(reply);
        s.events.push_back(Event::Close);
        s.mode = Mode::Closed;
        s
    }

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Bytes read from the peer.
    pub fn feed(&mut self, bytes: &[u8]) {
        if !matches!(self.mode, Mode::Closed) {
            self.input.extend_from_slice(bytes);
        }
    }

    /// Reply bytes to write, in order.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// The next event, after handling as much buffered input as possible. `None` means: write
    /// the output and read more (or wait for the answer to the last event).
    pub fn poll(&mut self) -> Option<Event> {
        if self.events.is_empty() {
            self.process();
        }
        self.events.pop_front()
    }

    /// False while a decision is pending or the buffered input is too large: stop reading.
    pub fn wants_input(&self) -> bool {
        self.pending.is_none()
            && !matches!(self.mode, Mode::Closed)
            && self.input.len() < MAX_PIPELINE_BUFFER
    }

    pub fn phase(&self) -> Phase {
        match (&self.mode, self.pending) {
            (Mode::Closed, _) => Phase::Closed,
            (_, Some(_)) => Phase::Deciding,
            (Mode::Data(_), _) => Phase::Data,
            _ => Phase::Command,
        }
    }

    /// The user AUTH accepted, if any.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The peer was silent too long: 421 and close.
    pub fn timed_out(&mut self) {
        let text = format!("{} Error: timeout exceeded", self.config.hostname);
        self.close_with(Reply::new(421, Enhanced(4, 4, 2), text));
    }

    /// The server is shutting down: 421 and close.
    pub fn shutting_down(&mut self) {
        let text = format!(
            "{} Service shutting down, try again later",
            self.config.hostname
        );
        self.close_with(Reply::new(421, Enhanced(4, 3, 2), text));
    }

    /// TLS is up: forget everything learnt before it (RFC 3207 §4.2), the client starts again
    /// with EHLO.
    pub fn tls_started(&mut self) {
        self.tls = true;
        self.input.clear();
        self.greeted = false;
        self.envelope = None;
        self.user = None;
        self.mode = Mode::Command;
    }

    /// Accepts the pending event's subject. For a message, `text` follows `250 2.0.0`
    /// (`Ok: queued as 17`); other events have fixed texts.
    pub fn accept(&mut self, text: Option<&str>) {
        match self.pending.take() {
            Some(Pending::Auth) => {
                self.user = self.pending_auth_user.take();
                self.send(Reply::new(
                    235,
                    Enhanced(2, 7, 0),
                    "Authentication successful",
                ));
            }
            Some(Pending::Mail) => {
                if let Some((from, params)) = self.pending_mail.take() {
                    let reply = Reply::new(250, Enhanced(2, 1, 0), format!("Sender <{from}> ok"));
                    self.envelope = Some(Envelope {
                        helo: self.helo.clone(),
                        from,
                        params,
                        recipients: Vec::new(),
                        user: self.user.clone(),
                        tls: self.tls,
                    });
                    self.send(reply);
                }
            }
            Some(Pending::Rcpt) => {
                if let (Some(to), Some(env)) = (self.pending_rcpt.take(), self.envelope.as_mut()) {
                    let reply = Reply::new(250, Enhanced(2, 1, 5), format!("Recipient <{to}> ok"));
                    env.recipients.push(to);
                    self.send(reply);
                }
            }
            Some(Pending::Message) => {
                let text = text.unwrap_or("Ok: queued");
                self.send(Reply::new(250, Enhanced(2, 0, 0), text));
            }
            None => {}
        }
    }

    /// Refuses the pending event's subject with `reply`.
    pub fn reject(&mut self, reply: Reply) {
        match self.pending.take() {
            Some(Pending::Auth) => {
                self.pending_auth_user = None;
                self.auth_failures += 1;
                if self.auth_failures >= self.config.max_auth_failures {
                    self.send(reply);
                    self.close_with(Reply::new(
                        421,
                        Enhanced(4, 7, 0),
                        "Too many authentication failures, closing connection",
                    ));
                    return;
                }
            }
            Some(Pending::Mail) => self.pending_mail = None,
            Some(Pending::Rcpt) => self.pending_rcpt = None,
            Some(Pending::Message) | None => {}
        }
        self.send(reply);
    }

    fn send(&mut self, reply: Reply) {
        reply.write_to(&mut self.output);
    }

    fn close_with(&mut self, reply: Reply) {
        if matches!(self.mode, Mode::Closed) {
            return;
        }
        self.send(reply);
        self.mode = Mode::Closed;
        self.pending = None;
        self.input.clear();
        self.events.push_back(Event::Close);
    }

    fn wait_for(&mut self, pending: Pending, event: Event) {
        self.pending = Some(pending);
        self.events.push_back(event);
    }

    /// Handles buffered input until an event is raised, more bytes are needed or the session
    /// closes.
    fn process(&mut self) {
        while self.pending.is_none() && self.events.is_empty() {
            if let Mode::Data(reader) = &mut self.mode {
                match reader.read(&mut self.input) {
                    DataStep::NeedMore => return,
                    DataStep::Done(result) => {
                        self.mode = Mode::Command;
                        self.commands = 0;
                        let envelope = self.envelope.take().unwrap_or_default();
                        match result {
                            Ok(content) => self
                                .wait_for(Pending::Message, Event::Message { envelope, content }),
                            Err(e) => self.send(e.reply()),
                        }
                        continue;
                    }
                }
            }
            if matches!(self.mode, Mode::Closed) {
                return;
            }
            let Some(line) = self.next_line() else {
                return;
            };
            match line {
                Line::TooLong => self.error(Reply::new(500, Enhanced(5, 5, 2), "Line too long")),
                Line::BareLf => self.error(Reply::new(
                    500,
                    Enhanced(5, 5, 2),
                    "Bare LF received; lines must end with CRLF",
                )),
                Line::Text(text) => match std::mem::replace(&mut self.mode, Mode::Command) {
                    Mode::AuthPlain => self.auth_plain(&text),
                    Mode::AuthLoginUser => self.auth_login_user(&text),
                    Mode::AuthLoginPass(user) => self.auth_login_pass(user, &text),
                    _ => self.command(&text),
                },
            }
        }
    }

    /// One command-mode line off the input, `None` when it is not complete yet.
    fn next_line(&mut self) -> Option<Line> {
        let max = self.config.max_line_len;
        let Some(nl) = self.input.iter().position(|&b| b == b'\n') else {
            if self.input.len() > max {
                self.input.clear();
                self.skipping_line = true;
            }
            return None;
        };
        let raw: Vec<u8> = self.input.drain(..=nl).collect();
        if std::mem::take(&mut self.skipping_line) || raw.len() > max {
            return Some(Line::TooLong);
        }
        let text = &raw[..raw.len() - 1];
        match text.strip_suffix(b"\r") {
            Some(t) => Some(Line::Text(t.to_vec())),
            None if self.config.bare_lf == BareLf::Normalize => Some(Line::Text(text.to_vec())),
            None => Some(Line::BareLf),
        }
    }

    /// A refused command: counts towards the error limit.
    fn error(&mut self, reply: Reply) {
        self.errors += 1;
        self.send(reply);
        if self.errors >= self.config.max_errors {
            self.close_with(Reply::new(
                421,
                Enhanced(4, 7, 0),
                "Too many errors, closing connection",
            ));
        }
    }

    fn command(&mut self, line: &[u8]) {
        let cmd = match parse_command(line) {
            Ok(cmd) => cmd,
            Err(e) => return self.error(e.reply()),
        };
        self.commands += 1;
        if self.commands > self.config.max_commands && !matches!(cmd, Command::Quit) {
            return self.close_with(Reply::new(
                421,
                Enhanced(4, 7, 0),
                "Too many commands without a message, closing connection",
            ));
        }
        let before_tls_ok = matches!(
            cmd,
            Command::Ehlo(_)
                | Command::Helo(_)
                | Command::StartTls
                | Command::Noop
                | Command::Rset
                | Command::Quit
        );
        if self.config.tls_required && !self.tls && !before_tls_ok {
            return self.error(Reply::new(
                530,
                Enhanced(5, 7, 0),
                "Must issue a STARTTLS command first",
            ));
        }
        match cmd {
            Command::Ehlo(domain) => self.hello(domain, true),
            Command::Helo(domain) => self.hello(domain, false),
            Command::Mail { from, params } => self.mail(from, params),
            Command::Rcpt { to } => self.rcpt(to),
            Command::Data => self.data(),
            Command::Rset => {
                self.envelope = None;
                self.send(Reply::new(250, Enhanced(2, 0, 0), "Ok"));
            }
            Command::Noop => self.send(Reply::new(250, Enhanced(2, 0, 0), "Ok")),
            Command::Vrfy => self.send(Reply::new(
                252,
                Enhanced(2, 5, 0),
                "Cannot VRFY user, but will accept message and attempt delivery",
            )),
            Command::Help => self.send(Reply::new(
                214,
                Enhanced(2, 0, 0),
                "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP AUTH STARTTLS",
            )),
            Command::Quit => {
                let text = format!("{} closing connection", self.config.hostname);
                self.close_with(Reply::new(221, Enhanced(2, 0, 0), text));
            }
            Command::StartTls => self.starttls(),
            Command::Auth { mechanism, initial } => self.auth(&mechanism, initial),
        }
    }

    fn auth_offered(&self) -> bool {
        self.config.auth_available && (self.tls || self.config.auth_without_tls)
    }

    fn hello(&mut self, domain: String, extended: bool) {
        self.envelope = None;
        self.greeted = true;
        self.helo = domain;
        let first = format!("{} Hello {}", self.config.hostname, self.helo);
        if !extended {
            return self.send(Reply::plain(250, first));
        }
        let mut lines = vec![
            first,
            "PIPELINING".to_string(),
            format!("SIZE {}", self.config.max_message_size),
            "8BITMIME".to_string(),
            "ENHANCEDSTATUSCODES".to_string(),
        ];
        if self.config.tls_available && !self.tls {
            lines.push("STARTTLS".into());
        }
        if self.auth_offered() {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        self.send(Reply::multi(250, lines));
    }

    fn sequence_error(&mut self, text: &str) {
        self.error(Reply::new(503, Enhanced(5, 5, 1), text));
    }

    fn mail(&mut self, from: String, params: MailParams) {
        if !self.greeted {
            return self.sequence_error("Send EHLO or HELO first");
        }
        if self.envelope.is_some() {
            return self.sequence_error("Nested MAIL command");
        }
        if self.config.auth_required && self.user.is_none() {
            return self.error(Reply::new(
                530,
                Enhanced(5, 7, 0),
                "Authentication required",
            ));
        }
        if params
            .size
            .is_some_and(|n| n > self.config.max_message_size)
        {
            return self.send(Reply::new(
                552,
                Enhanced(5, 3, 4),
                format!(
                    "Message size exceeds fixed maximum message size ({} octets)",
                    self.config.max_message_size
                ),
            ));
        }
        self.pending_mail = Some((from.clone(), params.clone()));
        self.wait_for(Pending::Mail, Event::Mail { from, params });
    }

    fn rcpt(&mut self, to: String) {
        let Some(env) = &self.envelope else {
            return self.sequence_error("Need MAIL before RCPT");
        };
        if env.recipients.len() >= self.config.max_recipients {
            return self.send(Reply::new(452, Enhanced(4, 5, 3), "Too many recipients"));
        }
        self.pending_rcpt = Some(to.clone());
        self.wait_for(Pending::Rcpt, Event::Rcpt { to });
    }

    fn data(&mut self) {
        let Some(env) = &self.envelope else {
            return self.sequence_error("Need MAIL before DATA");
        };
        if env.recipients.is_empty() {
            // RFC 2920 §3.1: with pipelining the DATA may come after refused recipients.
            return self.send(Reply::new(554, Enhanced(5, 5, 1), "No valid recipients"));
        }
        let eight_bit = env.params.body == Body::EightBitMime || self.config.lenient_8bit;
        self.mode = Mode::Data(Box::new(DataReader::new(
            self.config.max_message_size,
            self.config.max_line_len,
            self.config.bare_lf,
            eight_bit,
        )));
        self.send(Reply::plain(354, "End data with <CR><LF>.<CR><LF>"));
    }

    fn starttls(&mut self) {
        if self.tls {
            return self.sequence_error("TLS already active");
        }
        if !self.config.tls_available {
            return self.error(Reply::new(502, Enhanced(5, 5, 1), "STARTTLS not available"));
        }
        // Anything pipelined behind STARTTLS was sent in clear text: never act on it
        // (CVE-2011-0411).
        self.input.clear();
        self.send(Reply::new(220, Enhanced(2, 0, 0), "Ready to start TLS"));
        self.events.push_back(Event::StartTls);
    }

    fn auth(&mut self, mechanism: &str, initial: Option<String>) {
        if !self.config.auth_available {
            return self.error(Reply::new(502, Enhanced(5, 5, 1), "AUTH not available"));
        }
        if !self.auth_offered() {
            return self.error(Reply::new(
                538,
                Enhanced(5, 7, 11),
                "Encryption required for requested authentication mechanism",
            ));
        }
        if self.user.is_some() {
            return self.sequence_error("Already authenticated");
        }
        if self.envelope.is_some() {
            return self.sequence_error("AUTH not allowed during a mail transaction");
        }
        if !self.greeted {
            return self.sequence_error("Send EHLO first");
        }
        match (Mechanism::from_name(mechanism), initial) {
            (None, _) => self.error(Reply::new(
                504,
                Enhanced(5, 5, 4),
                "Unrecognized authentication mechanism",
            )),
            (Some(Mechanism::Plain), Some(resp)) => self.auth_plain(resp.as_bytes()),
            (Some(Mechanism::Plain), None) => {
                self.mode = Mode::AuthPlain;
                self.send(Reply::plain(334, ""));
            }
            (Some(Mechanism::Login), Some(resp)) => self.auth_login_user(resp.as_bytes()),
            (Some(Mechanism::Login), None) => {
                self.mode = Mode::AuthLoginUser;
                self.send(Reply::plain(334, auth::encode_text("Username:")));
            }
        }
    }

    /// Reads a client's base64 response; `None` after answering a cancel or garbage.
    fn auth_response(&mut self, line: &[u8]) -> Option<String> {
        let text = String::from_utf8_lossy(line);
        if text.trim() == "*" {
            self.error(Reply::new(
                501,
                Enhanced(5, 7, 0),
                "Authentication cancelled",
            ));
            return None;
        }
        match auth::decode_text(&text) {
            Ok(t) => Some(t),
            Err(e) => {
                self.error(Reply::new(
                    501,
                    Enhanced(5, 5, 2),
                    format!("Invalid response: {e}"),
                ));
                None
            }
        }
    }

    fn auth_plain(&mut self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        if text.trim() == "*" {
            return self.error(Reply::new(
                501,
                Enhanced(5, 7, 0),
                "Authentication cancelled",
            ));
        }
        match auth::decode_plain(&text) {
            Ok(creds) => {
                self.pending_auth_user = Some(creds.username.clone());
                self.wait_for(Pending::Auth, Event::Auth(creds));
            }
            Err(e) => self.error(Reply::new(
                501,
                Enhanced(5, 5, 2),
                format!("Invalid response: {e}"),
            )),
        }
    }

    fn auth_login_user(&mut self, line: &[u8]) {
        if let Some(user) = self.auth_response(line) {
            self.mode = Mode::AuthLoginPass(user);
            self.send(Reply::plain(334, auth::encode_text("Password:")));
        }
    }

    fn auth_login_pass(&mut self, user: String, line: &[u8]) {
        if let Some(password) = self.auth_response(line) {
            self.pending_auth_user = Some(user.clone());
            self.wait_for(
                Pending::Auth,
                Event::Auth(Credentials {
                    mechanism: Mechanism::Login,
                    authzid: String::new(),
                    username: user,
                    password,
                }),
            );
        }
    }
}

enum Line {
    Text(Vec<u8>),
    TooLong,
    BareLf,
}

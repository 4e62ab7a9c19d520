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

mod commands;
mod types;

pub use types::{Envelope, Event, Phase, ServerConfig};

use super::command::MailParams;
use super::data::{BareLf, DataReader, DataStep};
use super::reply::{Enhanced, Reply};

/// Most unprocessed command bytes buffered before the session stops reading.
const MAX_PIPELINE_BUFFER: usize = 64 * 1024;

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

    /// Answers the pending event's subject with `reply` (a 421: all instances busy) and
    /// closes the session.
    pub fn close(&mut self, reply: Reply) {
        match self.pending.take() {
            Some(Pending::Auth) => self.pending_auth_user = None,
            Some(Pending::Mail) => self.pending_mail = None,
            Some(Pending::Rcpt) => self.pending_rcpt = None,
            Some(Pending::Message) | None => {}
        }
        self.close_with(reply);
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
}

enum Line {
    Text(Vec<u8>),
    TooLong,
    BareLf,
}

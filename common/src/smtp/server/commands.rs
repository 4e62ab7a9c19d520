//! The commands, one method each, and the AUTH exchanges.

use super::super::auth::{self, Credentials, Mechanism};
use super::super::command::{parse_command, Body, Command, MailParams};
use super::super::data::DataReader;
use super::super::reply::{Enhanced, Reply};
use super::{Event, Mode, Pending, Server};

impl Server {
    pub(super) fn command(&mut self, line: &[u8]) {
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

    pub(super) fn auth_plain(&mut self, line: &[u8]) {
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

    pub(super) fn auth_login_user(&mut self, line: &[u8]) {
        if let Some(user) = self.auth_response(line) {
            self.mode = Mode::AuthLoginPass(user);
            self.send(Reply::plain(334, auth::encode_text("Password:")));
        }
    }

    pub(super) fn auth_login_pass(&mut self, user: String, line: &[u8]) {
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

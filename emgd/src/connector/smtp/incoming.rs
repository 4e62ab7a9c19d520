//! Incoming SMTP: we are the mail server applications and users send to. Each accepted
//! connection is checked against `access` and runs as one task ([`super::session`]); it takes
//! one of the connector's `instances` only once its client has logged in (AUTH, or MAIL where
//! AUTH is not required), so silent connections hold none, and a login while all are busy is
//! answered `421 4.3.2` and closed. This file makes the session's decisions:
//!
//! - AUTH PLAIN/LOGIN against `[user.NAME]` (the same rules as SMPP binds and HTTP), each
//!   failure answered a little later than the one before (a password guesser gets three
//!   tries a connection, slowly);
//! - MAIL: `smtp_auth = "required"` wants AUTH first;
//! - RCPT: the address must be a number by `smtp_domains` and `smtp_local_prefix` (`550`
//!   other domain, `553` not a number); a full server-wide queue answers `452`;
//! - the message: read (MIME, [`super::convert`]), one message per recipient accepted by the
//!   gateway (IN pipeline, routing, durable enqueue), and only then `250`; a temporary
//!   refusal answers `451`, a permanent one `550`/`554`, nothing half done (see
//!   [`answer_for`]).

use super::convert;
use super::session::{self, Decide, End};
use crate::connector::runtime::link::Link;
use crate::connector::runtime::slots::{Claim, Slots};
use crate::connector::runtime::state::{ConnState, ConnectorHandle, SessionInfo};
use crate::gateway::{stopped, Gateway, Reject};
use crate::logs::NO_INSTANCE;
use common::smtp::{BareLf, Enhanced, Envelope, Event, Reply, Server, ServerConfig};
use config::SmtpAuth;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Open the connector's listening socket.
pub async fn bind(cfg: &config::Connector) -> std::io::Result<TcpListener> {
    crate::connector::runtime::incoming::listen(cfg, "0.0.0.0:25").await
}

/// Accept sessions until shutdown, at most `instances` at a time; DLRs for mails sent in are
/// mailed back by [`super::reports`] meanwhile.
pub async fn run(
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
) {
    let reports = tokio::spawn(super::reports::run(gw.clone(), connector.clone()));
    let slots = Slots::new(connector.config().instances.max(1));
    let mut shutdown = gw.shutdown_signal();
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!("connector {}: accept failed: {e}", connector.name);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                if connector.forceclosed() {
                    gw.logs.connector(&connector.name, NO_INSTANCE, format!(
                        "CONNECT ERR (info=\"{peer}: connector force-closed\")"));
                    let cfg = connector.config();
                    let reply = unavailable(&cfg, "closed by the operator");
                    sessions.spawn(refuse(stream, cfg, reply));
                    continue;
                }
                let admitted = match connector.admission.admit(peer.ip(), &connector.config()) {
                    Ok(a) => a,
                    Err(why) => {
                        gw.logs.connector(&connector.name, NO_INSTANCE, format!(
                            "CONNECT ERR (info=\"{peer}: {why}\")"));
                        let cfg = connector.config();
                        let reply = unavailable(&cfg, "too many connections");
                        sessions.spawn(refuse(stream, cfg, reply));
                        continue;
                    }
                };
                // No instance until the client logs in ([`Decisions::log_in`]).
                let link = Link::new(gw.clone(), connector.clone(), NO_INSTANCE);
                let claim = Claim::pending(slots.clone());
                let acceptor = acceptor.clone();
                sessions.spawn(async move {
                    serve(link, claim, stream, peer, acceptor).await;
                    drop(admitted);
                });
            }
            _ = stopped(&mut shutdown) => break,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    drop(listener);
    while sessions.join_next().await.is_some() {}
    let _ = reports.await;
    for instance in 0..slots.count() as u32 {
        connector.set_state(instance, ConnState::Dead);
    }
}

/// The state machine's settings for a session of `cfg`.
fn server_config(cfg: &config::Connector) -> ServerConfig {
    let s = &cfg.smtp;
    ServerConfig {
        hostname: s.hostname.clone(),
        max_message_size: s.max_message_size,
        max_recipients: s.max_recipients,
        bare_lf: BareLf::Normalize,
        tls_available: s.tls_cert.is_some() && s.starttls != config::StartTls::No,
        tls_required: s.starttls == config::StartTls::Required,
        auth_available: s.auth != SmtpAuth::No,
        auth_required: s.auth == SmtpAuth::Required,
        auth_without_tls: s.auth_plaintext,
        ..ServerConfig::default()
    }
}

/// A client that is not served: `reply` (421 busy or closed, 554 not allowed), then the
/// connection closes.
async fn refuse(stream: TcpStream, cfg: Arc<config::Connector>, reply: Reply) {
    use tokio::io::AsyncWriteExt;
    let mut s = Server::refusing(server_config(&cfg), reply);
    let mut stream = stream;
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.write_all(&s.take_output())).await;
}

/// `421`: come back later.
fn unavailable(cfg: &config::Connector, why: &str) -> Reply {
    let text = format!(
        "{} Service not available ({why}), try again later",
        cfg.smtp.hostname
    );
    Reply::new(421, Enhanced(4, 3, 2), text)
}

async fn serve(
    link: Link,
    claim: Claim,
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: Option<TlsAcceptor>,
) {
    let cfg = link.config();
    if !crate::access::allowed(&cfg.access, peer.ip()) {
        link.log(format!("CONNECT ERR (info=\"{peer}: not in access\")"));
        let text = format!("{} Access denied", cfg.smtp.hostname);
        refuse(stream, cfg, Reply::new(554, Enhanced(5, 7, 1), text)).await;
        return;
    }
    let _ = stream.set_nodelay(true);
    link.log(format!("CONNECT OK (info=\"{peer}\")"));
    let server = Server::new(server_config(&cfg));
    let logged_in = Arc::new(AtomicBool::new(false));
    let mut decisions = Decisions {
        link: link.clone(),
        claim,
        logged_in: logged_in.clone(),
        peer,
        account: None,
        auth_failures: 0,
    };
    let (gw, connector) = (link.gw.clone(), link.connector.clone());
    // As on every incoming connector: a client that has not logged in (AUTH, or MAIL where
    // AUTH is not required) within `bind_timeout` is closed, with a 421.
    let login_wait = Duration::from_secs(cfg.bind_timeout);
    let login_expired = Arc::new(AtomicBool::new(false));
    let expired = login_expired.clone();
    let stop = async move {
        let mut shutdown = gw.shutdown_signal();
        let login = async {
            tokio::time::sleep(login_wait).await;
            if logged_in.load(Ordering::Relaxed) {
                std::future::pending::<()>().await;
            }
            expired.store(true, Ordering::Relaxed);
        };
        tokio::select! {
            _ = stopped(&mut shutdown) => {}
            _ = connector.forceclose_set() => {}
            _ = login => {}
        }
    };
    let timeout = Duration::from_secs(cfg.smtp.timeout);
    let end = session::run(
        Box::new(stream),
        server,
        acceptor,
        timeout,
        stop,
        &mut decisions,
    )
    .await;
    // The session's link now names the instance it took, if it logged in.
    let link = decisions.link;
    if login_expired.load(Ordering::Relaxed) {
        link.log("DISCONNECT (info=\"bind timeout\")");
    } else {
        link.log(format!("DISCONNECT (info=\"{end}\")"));
    }
    if matches!(end, End::Error(_)) {
        tracing::debug!(connector = %link.name(), "SMTP session from {peer}: {end}");
    }
    if decisions.claim.instance().is_some() {
        link.connector.set_session(link.instance, None);
        link.set_state(ConnState::Idle);
    }
    // Dropping the claim gives the instance back.
}

/// The decisions of one session.
struct Decisions {
    /// Under [`NO_INSTANCE`] until the client logs in, then under the instance it took.
    link: Link,
    claim: Claim,
    /// Read by the `bind_timeout` watch.
    logged_in: Arc<AtomicBool>,
    peer: SocketAddr,
    account: Option<String>,
    auth_failures: u32,
}

impl Decide for Decisions {
    async fn decide(&mut self, server: &mut Server, event: Event) {
        self.link.log_pdu(|| match &event {
            Event::Auth(c) => format!("Read AUTH {:?} user:{}", c.mechanism, c.username),
            Event::Mail { from, params } => {
                format!(
                    "Read MAIL FROM:<{from}> size:{:?} body:{:?}",
                    params.size, params.body
                )
            }
            Event::Rcpt { to } => format!("Read RCPT TO:<{to}>"),
            Event::Message { envelope, content } => format!(
                "Read DATA from:<{}> rcpts:{} octets:{}",
                envelope.from,
                envelope.recipients.len(),
                content.len()
            ),
            Event::StartTls => "Read STARTTLS".into(),
            Event::Close => "Close".into(),
        });
        match event {
            Event::Auth(c) => self.auth(server, c).await,
            Event::Mail { from, .. } => self.mail(server, &from),
            Event::Rcpt { to } => self.rcpt(server, &to),
            Event::Message { envelope, content } => self.message(server, envelope, content).await,
            Event::StartTls | Event::Close => {}
        }
    }
}

impl Decisions {
    async fn auth(&mut self, server: &mut Server, c: common::smtp::Credentials) {
        let cfg = self.link.gw.config();
        let user = self
            .link
            .authenticate(&cfg, &c.username, &c.password, self.peer.ip())
            .ok();
        match user {
            Some(user) if c.authzid.is_empty() || c.authzid == c.username => {
                if !self.log_in(server, Some(&user.name)) {
                    return;
                }
                self.account = Some(crate::users::account_of(user));
                server.accept(None);
            }
            _ => {
                self.auth_failures += 1;
                self.link
                    .log(format!("LOGIN ERR (info=\"{}\")", c.username));
                // Each failure costs the guesser more time than the one before.
                tokio::time::sleep(Duration::from_millis(300 * u64::from(self.auth_failures)))
                    .await;
                server.reject(Reply::new(
                    535,
                    Enhanced(5, 7, 8),
                    "Authentication credentials invalid",
                ));
            }
        }
    }

    fn mail(&mut self, server: &mut Server, from: &str) {
        if !self.link.may_receive() {
            let text = format!(
                "connector {} takes no messages (transmit-only)",
                self.link.name()
            );
            return server.reject(Reply::new(550, Enhanced(5, 7, 1), text));
        }
        if server.user().is_none() && self.link.config().smtp.auth == SmtpAuth::Required {
            return server.reject(Reply::new(
                530,
                Enhanced(5, 7, 0),
                "Authentication required",
            ));
        }
        if let Some(user) = server.user() {
            if !self.link.gw.user_allows(user) {
                return server.reject(Reply::new(
                    451,
                    Enhanced(4, 7, 0),
                    format!("user {user} is over its throughput, try again later"),
                ));
            }
        }
        if from.len() > 256 {
            return server.reject(Reply::new(
                553,
                Enhanced(5, 1, 7),
                "Sender address too long",
            ));
        }
        // Where AUTH is not required, the first MAIL is the login.
        let user = server.user().map(str::to_string);
        if self.claim.instance().is_none() && !self.log_in(server, user.as_deref()) {
            return;
        }
        server.accept(None);
    }

    /// The client logged in (as `user`, or anonymously by its first MAIL): take the lowest
    /// free instance and show the session BOUND on it. False when every instance is busy:
    /// the pending command is answered `421 4.3.2` and the connection closed.
    fn log_in(&mut self, server: &mut Server, user: Option<&str>) -> bool {
        if !self.claim.claim() {
            let busy = format!("all {} instances busy", self.claim.count());
            self.link.log(format!("LOGIN ERR (info=\"{busy}\")"));
            server.close(unavailable(&self.link.config(), &busy));
            return false;
        }
        if let Some(instance) = self.claim.instance() {
            self.link = Link::new(self.link.gw.clone(), self.link.connector.clone(), instance);
        }
        self.logged_in.store(true, Ordering::Relaxed);
        if let Some(user) = user {
            self.link.log(format!("LOGIN OK (info=\"{user}\")"));
        }
        self.link.bound(SessionInfo {
            instance: self.link.instance,
            peer: Some(self.peer.to_string()),
            bind: Some("smtp".into()),
            user: user.map(str::to_string),
            since_us: crate::clock::now_us(),
        });
        true
    }

    fn rcpt(&mut self, server: &mut Server, to: &str) {
        let cfg = self.link.config();
        if let Err(e) = convert::address_rules(&cfg).number_of(to) {
            self.link.log(format!("SUBMIT ERR (info=\"{e}\")"));
            return server.reject(e.reply());
        }
        let gcfg = self.link.gw.config();
        if let Some(max) = gcfg.general.maxtotalqueuesize {
            let total = self.link.gw.total_queued() as u64;
            if total >= max && !cfg.ignoremaxtotalqueuesize {
                return server.reject(Reply::new(
                    452,
                    Enhanced(4, 3, 1),
                    format!("Queue full ({total} messages queued), try again later"),
                ));
            }
        }
        server.accept(None);
    }

    async fn message(&mut self, server: &mut Server, envelope: Envelope, content: Vec<u8>) {
        let cfg = self.link.config();
        let dlr = cfg.smtp.dlr_relay.is_some();
        // AUTH before STARTTLS is forgotten with the rest of the session (RFC 3207).
        let account = self.account.clone().filter(|_| envelope.user.is_some());
        let received = match convert::received(&cfg, &envelope, &content, account, dlr) {
            Ok(r) => r,
            Err(e) => {
                self.link.log(format!("SUBMIT ERR (info=\"{e}\")"));
                return server.reject(Reply::new(
                    554,
                    Enhanced(5, 6, 0),
                    format!("Message refused: {e}"),
                ));
            }
        };
        for note in &received.notes {
            self.link.log(format!("SUBMIT NOTE (info=\"{note}\")"));
        }
        // A text no SMS can carry, even in 255 parts, is refused now rather than failed later.
        let sms = received.messages.first().map(|(_, m)| m);
        if let Some(m) = sms.filter(|m| m.msgtype == common::message::MsgType::Sms) {
            let method = common::concat::Method::Udh8;
            if let Err(e) = common::concat::split_encoded(&m.body, m.data_coding, method, 0) {
                self.link.log(format!("SUBMIT ERR (info=\"{e}\")"));
                let text = format!("Message too long for SMS: {e}");
                return server.reject(Reply::new(554, Enhanced(5, 3, 4), text));
            }
        }
        let mut outcomes = Vec::new();
        for (rcpt, message) in received.messages {
            let outcome = self.link.receive(message).await;
            match &outcome {
                Ok(id) => self.link.log(format!(
                    "SUBMIT OK (id={id}, info=\"{} -> {rcpt}\")",
                    envelope.from
                )),
                Err(e) => self.link.log(format!("SUBMIT ERR (info=\"{rcpt}: {e}\")")),
            }
            let temporary = outcome.as_ref().err().is_some_and(Reject::is_temporary);
            outcomes.push((rcpt, outcome));
            if temporary {
                // The client will send the whole mail again: stop before storing more.
                break;
            }
        }
        match answer_for(&outcomes) {
            Ok(text) => server.accept(Some(&text)),
            Err(reply) => server.reject(reply),
        }
    }
}

/// The reply after DATA for what became of each recipient's message. Every stored one gives
/// `250` (the client must not send it again); nothing stored: the first refusal's code
/// (`451`/`452` temporary, `550`/`554` permanent). Some stored and one refused for a while:
/// `451` all the same, since the rest must not be lost, and the stored ones are logged
/// (a retry duplicates them, as with any MTA that answers one reply for many recipients).
pub fn answer_for(outcomes: &[(String, Result<u64, Reject>)]) -> Result<String, Reply> {
    let stored: Vec<String> = outcomes
        .iter()
        .filter_map(|(_, o)| o.as_ref().ok().map(u64::to_string))
        .collect();
    let refused: Vec<(&String, &Reject)> = outcomes
        .iter()
        .filter_map(|(r, o)| o.as_ref().err().map(|e| (r, e)))
        .collect();
    let temporary = refused.iter().find(|(_, e)| e.is_temporary());
    if let Some((rcpt, e)) = temporary {
        let code = if matches!(e, Reject::QueueFull(_) | Reject::Store(_)) {
            452
        } else {
            451
        };
        let enhanced = if code == 452 {
            Enhanced(4, 3, 1)
        } else {
            Enhanced(4, 3, 0)
        };
        return Err(Reply::new(
            code,
            enhanced,
            format!("<{rcpt}>: {e}, try again later"),
        ));
    }
    if stored.is_empty() {
        let text = match refused.first() {
            Some((rcpt, e)) => format!("<{rcpt}>: {e}"),
            None => "No recipient to deliver to".to_string(),
        };
        let no_route = refused.iter().all(|(_, e)| matches!(e, Reject::NoRoute(_)));
        let (code, enhanced) = if no_route && !refused.is_empty() {
            (550, Enhanced(5, 1, 1))
        } else {
            (554, Enhanced(5, 7, 1))
        };
        return Err(Reply::new(code, enhanced, text));
    }
    let mut text = format!("Ok: queued as {}", stored.join(","));
    for (rcpt, e) in refused {
        text.push_str(&format!("; not for <{rcpt}>: {e}"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::NoRoute;

    fn no_route() -> Reject {
        Reject::NoRoute(NoRoute {
            dest: "4799".into(),
            connector: "mail-in".into(),
            account: None,
        })
    }

    #[test]
    fn one_reply_for_every_recipient() {
        let ok = |r: &str, id| (r.to_string(), Ok(id));
        let err = |r: &str, e| (r.to_string(), Err(e));
        assert_eq!(
            answer_for(&[ok("a", 17), ok("b", 18)]).unwrap(),
            "Ok: queued as 17,18"
        );
        let full = answer_for(&[err("a", Reject::QueueFull("x".into()))]).unwrap_err();
        assert_eq!((full.code, full.enhanced), (452, Some(Enhanced(4, 3, 1))));
        let gone = answer_for(&[err("a", Reject::ShuttingDown)]).unwrap_err();
        assert_eq!(gone.code, 451);
        assert_eq!(answer_for(&[err("a", no_route())]).unwrap_err().code, 550);
        let refused = answer_for(&[err("a", Reject::NotReceiving("x".into()))]).unwrap_err();
        assert_eq!(refused.code, 554);
        // Stored for one, no route for the other: the stored one must not be sent again.
        let mixed = answer_for(&[ok("a", 17), err("b", no_route())]).unwrap();
        assert!(
            mixed.starts_with("Ok: queued as 17; not for <b>: no route"),
            "{mixed}"
        );
        // Stored for one, refused for a while for the other: sent again, both.
        let again = answer_for(&[ok("a", 17), err("b", Reject::ShuttingDown)]).unwrap_err();
        assert_eq!(again.code, 451);
    }
}

//! Outgoing SMTP: every message leaves as a mail handed to the relay at `address`
//! (SOURCEADDR as MAIL FROM, DESTADDR as RCPT TO, [`super::convert::mail_of`]), over
//! STARTTLS and AUTH when configured. The runtime runs the instances, each with up to
//! `windowsize` mails in flight ([`calls`]); sessions stay open between mails and are reused.
//!
//! The relay's answer decides: `250` sent (a relay sends no receipts, so the sender's report
//! says delivered at once, EMG's DLR_SUPPORT=0); a `4xx`, a lost connection or a timeout is
//! temporary: the message goes back to the queue and the instance backs off by the retry
//! scheme (command 0, the reply code or 111 as error), and so does a session that cannot be
//! had (connect, STARTTLS, AUTH refused: the connector's trouble, not the message's); a `5xx`
//! for the message fails it, with a DLR to its sender, unless a message rule of the retry
//! scheme says otherwise.

use super::convert::{mail_of, now_date};
use super::relay::{Relay, RelayError, Target};
use crate::connector::runtime::calls::{self, CallOutcome, Caller};
use crate::connector::runtime::link::Link;
use crate::connector::runtime::state::{ConnectorHandle, SessionInfo};
use crate::gateway::Gateway;
use common::message::Message;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_rustls::TlsConnector;

/// The retry-scheme command number of an SMTP send.
pub const SMTP_COMMAND: u32 = 0;
/// The error a failed connection is given for the retry scheme (ECONNREFUSED, as HTTP).
pub const CONNECT_ERROR: u32 = 111;

/// Run every instance until shutdown.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>, tls: TlsConnector) {
    let caller = Arc::new(SmtpOut {
        tls,
        idle: Mutex::new(Vec::new()),
    });
    calls::run(gw, connector, caller.clone()).await;
    let idle: Vec<Relay> =
        std::mem::take(&mut *caller.idle.lock().unwrap_or_else(|p| p.into_inner()));
    for relay in idle {
        relay.quit().await;
    }
}

/// Hands each message to the relay, on an idle session when there is one.
pub struct SmtpOut {
    tls: TlsConnector,
    idle: Mutex<Vec<Relay>>,
}

/// How to reach the relay of `cfg`.
pub fn target<'a>(
    cfg: &'a config::Connector,
    address: &'a str,
    tls: &'a TlsConnector,
) -> Target<'a> {
    Target {
        address,
        ehlo: &cfg.smtp.hostname,
        starttls: cfg.smtp.starttls,
        auth: cfg.username.clone().zip(cfg.password.clone()),
        tls,
        timeout: Duration::from_secs(cfg.smtp.timeout),
    }
}

impl SmtpOut {
    fn take_idle(&self) -> Option<Relay> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    fn give_back(&self, relay: Relay, window: usize) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < window {
            idle.push(relay);
        }
    }

    /// One mail over a session: a reused one that turns out to be closed is replaced once by
    /// a fresh one.
    async fn hand_over(
        &self,
        cfg: &config::Connector,
        mail: common::smtp::Outgoing,
    ) -> Result<common::smtp::SendOutcome, RelayError> {
        let address = cfg.address.as_deref().unwrap_or("127.0.0.1:25");
        let t = target(cfg, address, &self.tls);
        if let Some(mut relay) = self.take_idle() {
            match relay.send(mail.clone()).await {
                Ok(outcome) => {
                    self.give_back(relay, cfg.windowsize as usize);
                    return Ok(outcome);
                }
                Err(RelayError::Io(_)) | Err(RelayError::Timeout(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let mut relay = Relay::open(&t).await?;
        let outcome = relay.send(mail).await?;
        self.give_back(relay, cfg.windowsize as usize);
        Ok(outcome)
    }
}

impl Caller for SmtpOut {
    const RECORDS_SUBMITTING: bool = true;

    fn open(&self, link: &Link) -> SessionInfo {
        let cfg = link.config();
        SessionInfo {
            instance: link.instance,
            peer: cfg.address.clone(),
            bind: Some("smtp".into()),
            user: cfg.username.clone(),
            since_us: crate::clock::now_us(),
        }
    }

    async fn call(self: Arc<Self>, link: Link, m: Message) -> CallOutcome {
        let cfg = link.config();
        let mail = match mail_of(&cfg, &m, &now_date(), None) {
            Ok(mail) => mail,
            Err(why) => {
                link.log(format!("SUBMIT ERR (info=\"{why}\")"));
                return CallOutcome::Refused {
                    command: SMTP_COMMAND,
                    error: 554,
                };
            }
        };
        let (from, to) = (mail.from.clone(), mail.recipients.join(","));
        let started = Instant::now();
        let result = self.hand_over(&cfg, mail).await;
        let took = started.elapsed();
        crate::metrics::global().submit_response(link.name(), took);
        let result = result.map(|o| o.results().into_iter().next().map(|(_, r)| r));
        link.log_pdu(|| {
            let answer = match &result {
                Ok(Some(Ok(()))) => "250".to_string(),
                Ok(Some(Err(r))) => r.to_string(),
                Ok(None) => "no recipient".to_string(),
                Err(e) => format!("error:\"{e}\""),
            };
            format!(
                "Write MAIL FROM:<{from}> RCPT TO:<{to}> id:{} -> {answer} ({} ms)",
                m.id,
                took.as_millis()
            )
        });
        match result {
            Ok(Some(Ok(()))) => CallOutcome::Sent {
                remote_id: m.dlr_requested.then(|| m.id.to_string()),
                delivered: true,
            },
            Ok(Some(Err(reply))) => {
                let error = u32::from(reply.code);
                link.log(format!(
                    "SUBMIT ERR (info=\"message {}: {}\")",
                    m.id,
                    reply.to_string().trim_end()
                ));
                if reply.is_permanent() {
                    CallOutcome::Refused {
                        command: SMTP_COMMAND,
                        error,
                    }
                } else {
                    CallOutcome::Temporary {
                        command: SMTP_COMMAND,
                        error,
                    }
                }
            }
            Ok(None) => CallOutcome::Refused {
                command: SMTP_COMMAND,
                error: 554,
            },
            Err(e) => {
                link.log(format!("SUBMIT ERR (info=\"message {}: {e}\")", m.id));
                match e.fails_the_message() {
                    Some(error) => CallOutcome::Refused {
                        command: SMTP_COMMAND,
                        error,
                    },
                    None => CallOutcome::Temporary {
                        command: SMTP_COMMAND,
                        error: CONNECT_ERROR,
                    },
                }
            }
        }
    }
}

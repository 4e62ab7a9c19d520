//! Incoming UCP/EMI: we are the SMSC for client applications (Kannel's `smsc = emi`, ...).
//!
//! The runtime accepts each connection in a free instance and runs its session; this driver
//! checks operation 60 logins against the users (OAdC the user name, PWD its password; a
//! wrong one gets NACK 07), takes submits (51) and answers each only once the gateway stored
//! it, with `AdC:SCTS` in SM where the SCTS is unique to the message, and writes what is
//! queued for the logged-in user: delivery notifications (53, naming the message by that
//! SCTS and its recipient, as clients match them) and MO messages (52). Nothing is taken from
//! the queue before a login, so a user's messages wait while it is away.

use super::codec::{self, UcpCodec};
use super::convert::{delivery_of, message_from_sm, reject_ec, scts_of, sm_text};
use super::outgoing::alert;
use crate::connector::runtime::driver::{Ctl, Driver, Flow, Kind, Login};
use crate::connector::runtime::incoming::Incoming;
use crate::connector::runtime::outbox::Answer;
use crate::connector::runtime::window::SeqSpace;
use common::message::{Message, Origin};
use common::ucp::{Body, ErrorCode, Frame, Session, Sm};
use std::net::SocketAddr;

/// The incoming UCP connector: an [`Smsc`] per client session.
pub struct UcpIn;

impl Incoming for UcpIn {
    type Driver = Smsc;

    fn session(&self, _cfg: &config::Connector, peer: SocketAddr) -> (UcpCodec, Smsc) {
        (UcpCodec, Smsc { peer, bound: None })
    }
}

struct Bound {
    user: String,
    account: String,
}

/// One client session.
pub struct Smsc {
    peer: SocketAddr,
    bound: Option<Bound>,
}

impl Driver for Smsc {
    type Codec = UcpCodec;
    /// The operation (52 or 53) and its fields.
    type Part = (u8, Sm);
    const SEQUENCES: SeqSpace = codec::SEQUENCES;
    const KEEPALIVE: &'static str = "alert (31)";

    fn kind(&self, frame: &Frame) -> Kind {
        codec::kind(frame)
    }

    fn keepalive(&mut self, seq: u32) -> Frame {
        let user = self.bound.as_ref().map(|b| b.user.clone());
        alert(seq, user.unwrap_or_default())
    }

    fn logout(&mut self, _seq: u32) -> Option<Frame> {
        None
    }

    fn parts(&mut self, _cfg: &config::Connector, wire: &Message) -> Vec<(u8, Sm)> {
        vec![delivery_of(wire)]
    }

    fn request(&mut self, (ot, sm): (u8, Sm), seq: u32) -> Frame {
        Frame {
            trn: codec::trn(seq),
            ot,
            body: Body::Sm(Box::new(sm)),
        }
    }

    fn answer(&mut self, result: &Frame) -> Answer {
        match &result.body {
            Body::Ack(_) => Answer::Accepted(None),
            Body::Nack(n) => Answer::Refused {
                command: u32::from(result.ot),
                error: u32::from(n.ec.0),
            },
            _ => Answer::Unsent,
        }
    }

    fn on_request(&mut self, frame: Frame, s: &mut Ctl<'_, UcpCodec>) -> Flow {
        match (&frame.body, frame.ot) {
            (Body::Session(login), 60) => {
                let login = login.clone();
                self.login(&frame, &login, s);
            }
            (Body::Alert(_), _) => s.reply(frame.ack("", "")),
            _ if self.bound.is_none() => {
                s.reply(frame.nack(ErrorCode::AUTHENTICATION_FAILURE, "log in first"))
            }
            (Body::Sm(sm), 51) => {
                let sm = sm.clone();
                self.submit(&frame, &sm, s);
            }
            _ => s.reply(frame.nack(ErrorCode::OPERATION_NOT_SUPPORTED, "")),
        }
        Flow::Continue
    }
}

impl Smsc {
    /// Operation 60, STYP 1 (open session): the account and password against the users.
    fn login(&mut self, frame: &Frame, login: &Session, s: &mut Ctl<'_, UcpCodec>) {
        if login.styp != Some(1) || self.bound.is_some() {
            let why = if self.bound.is_some() {
                "already logged in"
            } else {
                "only STYP 1 (open session) is supported"
            };
            s.login_refused(why);
            s.reply(frame.nack(ErrorCode::OPERATION_NOT_ALLOWED, why));
            return;
        }
        let gcfg = s.link.gw.config();
        let password = String::from_utf8_lossy(&login.pwd);
        let found = s
            .link
            .authenticate(&gcfg, &login.oadc, &password, self.peer.ip())
            .ok();
        let Some(user) = found else {
            s.login_refused(format!("07 {}", login.oadc));
            s.reply(frame.nack(ErrorCode::AUTHENTICATION_FAILURE, ""));
            return;
        };
        // Authenticated: only now does the session take one of the connector's instances.
        if !s.claim_instance() {
            let busy = s.link.config().instances;
            s.login_refused(format!("all {busy} instances busy"));
            s.reply(frame.nack(ErrorCode::OPERATION_NOT_ALLOWED, "all instances busy"));
            return;
        }
        s.reply(frame.ack("", ""));
        self.bound = Some(Bound {
            user: user.name.clone(),
            account: crate::users::account_of(user),
        });
        s.logged_in(Login {
            peer: Some(self.peer.to_string()),
            bind: Some("session".into()),
            user: Some(user.name.clone()),
            info: format!("0 {}", login.oadc),
            transmit: true,
            queue_user: Some(user.name.clone()),
        });
    }

    /// A 51 from the client: checked, stored, and answered once stored.
    fn submit(&mut self, frame: &Frame, sm: &Sm, s: &mut Ctl<'_, UcpCodec>) {
        s.traffic();
        let bound = self.bound.as_ref().expect("checked by on_request");
        if !s.link.may_receive() {
            s.reply(frame.nack(ErrorCode::OPERATION_NOT_ALLOWED, "connector only sends"));
            return;
        }
        if !s.link.gw.user_allows(&bound.user) {
            s.reply(frame.nack(ErrorCode::OPERATION_NOT_ALLOWED, "throttled"));
            return;
        }
        let origin = Origin {
            connector: s.link.name().to_string(),
            user: Some(bound.user.clone()),
            account: Some(bound.account.clone()),
            ..Default::default()
        };
        let message = message_from_sm(sm, origin);
        let (link, frame, adc) = (s.link.clone(), frame.clone(), sm.adc.clone());
        s.spawn(async move {
            Some(match link.receive(message).await {
                Ok(id) => frame.ack("", format!("{adc}:{}", scts_of(id))),
                Err(reject) => {
                    link.log(format!("SUBMIT ERR (info=\"{reject}\")"));
                    frame.nack(reject_ec(&reject), sm_text(&reject))
                }
            })
        });
    }
}

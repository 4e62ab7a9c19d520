//! Incoming CIMD2: we are the SMSC for client applications (Kannel's `smsc = cimd2`, ...).
//!
//! The runtime accepts each connection in a free instance and runs its session; this driver
//! checks logins (01) against the users (a wrong one gets error 100, invalid login), takes
//! submits (03) and answers each only once the gateway stored it, with the destination and
//! an SCTS unique to the message (060), and writes what is queued for the logged-in user:
//! status reports (23, naming the message by that destination and SCTS, as clients match
//! them) and MO messages (20). Nothing is taken from the queue before a login, so a user's
//! messages wait while it is away.

use super::codec::{self, Cimd2Codec};
use super::convert::{delivery_of, message_from, reject_code, scts_of, Delivery};
use crate::connector::runtime::driver::{Ctl, Driver, Flow, Kind, Login};
use crate::connector::runtime::incoming::Incoming;
use crate::connector::runtime::outbox::Answer;
use crate::connector::runtime::window::SeqSpace;
use common::cimd2::param::{DESTINATION_ADDRESS, SERVICE_CENTRE_TIME_STAMP};
use common::cimd2::status::error;
use common::cimd2::{op, Packet, ShortMessage};
use common::message::{Message, Origin};
use std::net::SocketAddr;

/// The incoming CIMD2 connector: an [`Smsc`] per client session.
pub struct Cimd2In;

impl Incoming for Cimd2In {
    type Driver = Smsc;

    fn session(&self, _cfg: &config::Connector, peer: SocketAddr) -> (Cimd2Codec, Smsc) {
        (Cimd2Codec, Smsc { peer, bound: None })
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
    type Codec = Cimd2Codec;
    type Part = Delivery;
    const SEQUENCES: SeqSpace = codec::SMSC_NUMBERS;
    const KEEPALIVE: &'static str = "alive (40)";

    fn kind(&self, packet: &Packet) -> Kind {
        codec::kind(packet)
    }

    fn keepalive(&mut self, seq: u32) -> Packet {
        Packet::new(op::ALIVE, codec::number(seq))
    }

    /// CIMD2's logout is the client's to send.
    fn logout(&mut self, _seq: u32) -> Option<Packet> {
        None
    }

    fn parts(&mut self, _cfg: &config::Connector, wire: &Message) -> Vec<Delivery> {
        vec![delivery_of(wire)]
    }

    fn request(&mut self, part: Delivery, seq: u32) -> Packet {
        let number = codec::number(seq);
        match part {
            Delivery::Report(r) => r.to_packet(number),
            // Text comes from GSM septets, so it always fits the CIMD2 alphabet.
            Delivery::Message(sm) => sm
                .to_packet(op::DELIVER_MESSAGE, number)
                .unwrap_or_else(|_| Packet::new(op::DELIVER_MESSAGE, number)),
        }
    }

    fn answer(&mut self, response: &Packet) -> Answer {
        match response.op {
            op::NACK => Answer::Unsent,
            o if o > op::RESPONSE && o < op::GENERAL_ERROR_RESPONSE => {
                match response.error_code() {
                    0 => Answer::Accepted(None),
                    e => Answer::Refused {
                        command: u32::from(o - op::RESPONSE),
                        error: u32::from(e),
                    },
                }
            }
            _ => Answer::Refused {
                command: u32::from(op::DELIVER_MESSAGE),
                error: u32::from(response.error_code()),
            },
        }
    }

    fn on_request(&mut self, packet: Packet, s: &mut Ctl<'_, Cimd2Codec>) -> Flow {
        match packet.op {
            op::LOGIN => self.login(&packet, s),
            op::ALIVE => s.reply(packet.response()),
            op::LOGOUT => {
                s.reply(packet.response());
                return Flow::Close("logged out");
            }
            _ if self.bound.is_none() => s.reply(packet.error_response(error::INVALID_LOGIN)),
            op::SUBMIT => self.submit(packet, s),
            _ => s.reply(
                Packet::new(op::GENERAL_ERROR_RESPONSE, packet.number)
                    .with(
                        common::cimd2::param::ERROR_CODE,
                        error::UNEXPECTED_OPERATION.to_string(),
                    )
                    .with(
                        common::cimd2::param::ERROR_TEXT,
                        error::text(error::UNEXPECTED_OPERATION),
                    ),
            ),
        }
        Flow::Continue
    }
}

impl Smsc {
    fn login(&mut self, packet: &Packet, s: &mut Ctl<'_, Cimd2Codec>) {
        if self.bound.is_some() {
            s.login_refused("already logged in");
            return s.reply(packet.error_response(error::UNEXPECTED_OPERATION));
        }
        let login = match common::cimd2::Login::from_packet(packet) {
            Ok(l) => l,
            Err(e) => {
                s.login_refused(&e);
                return s.reply(packet.error_response(e.code));
            }
        };
        let gcfg = s.link.gw.config();
        let found = s
            .link
            .authenticate(&gcfg, &login.user, &login.password, self.peer.ip())
            .ok();
        let Some(user) = found else {
            s.login_refused(format!("{} {}", error::INVALID_LOGIN, login.user));
            return s.reply(packet.error_response(error::INVALID_LOGIN));
        };
        // Authenticated: only now does the session take one of the connector's instances.
        if !s.claim_instance() {
            let busy = s.link.config().instances;
            s.login_refused(format!("all {busy} instances busy"));
            return s.reply(packet.error_response(error::TOO_MANY_USERS));
        }
        s.reply(packet.response());
        self.bound = Some(Bound {
            user: user.name.clone(),
            account: crate::users::account_of(user),
        });
        s.logged_in(Login {
            peer: Some(self.peer.to_string()),
            bind: Some("session".into()),
            user: Some(user.name.clone()),
            info: format!("0 {}", login.user),
            transmit: true,
            queue_user: Some(user.name.clone()),
        });
    }

    /// A submit (03) from the client: checked, stored, and answered (53) once stored.
    fn submit(&mut self, packet: Packet, s: &mut Ctl<'_, Cimd2Codec>) {
        s.traffic();
        let bound = self.bound.as_ref().expect("checked by on_request");
        let refusal = if !s.link.may_receive() {
            Some(error::REQUESTED_OPERATION_FAILED)
        } else if !s.link.gw.user_allows(&bound.user) {
            Some(error::TEMPORARY_CONGESTION)
        } else {
            None
        };
        if let Some(code) = refusal {
            return s.reply(packet.error_response(code));
        }
        let sm = match ShortMessage::from_packet(&packet) {
            Ok(sm) if sm.destinations.len() == 1 => sm,
            Ok(_) => {
                return s.reply(packet.error_response(error::INCORRECT_NUMBER_OF_DESTINATIONS))
            }
            Err(e) => {
                s.link.log(format!("SUBMIT ERR (info=\"{e}\")"));
                return s.reply(packet.error_response(e.code));
            }
        };
        let origin = Origin {
            connector: s.link.name().to_string(),
            user: Some(bound.user.clone()),
            account: Some(bound.account.clone()),
            ..Default::default()
        };
        let message = message_from(&sm, origin);
        let destination = sm.destinations[0].clone();
        let link = s.link.clone();
        s.spawn(async move {
            Some(match link.receive(message).await {
                Ok(id) => packet
                    .response()
                    .with(DESTINATION_ADDRESS, destination)
                    .with(SERVICE_CENTRE_TIME_STAMP, scts_of(id)),
                Err(reject) => {
                    link.log(format!("SUBMIT ERR (info=\"{reject}\")"));
                    packet.error_response(reject_code(&reject))
                }
            })
        });
    }
}

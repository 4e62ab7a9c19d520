//! Outgoing CIMD2: we are the client of an SMSC.
//!
//! The runtime connects each instance over TCP and keeps the window (odd packet numbers),
//! keepalive, `idletimeout`, retries and closing; this driver logs in (01, `username` and
//! `password`), sends alive (40) as the keepalive and logout (02) when closing, submits each
//! message as 03 (long ones in parts with their UDH in 032, a status report asked for with
//! 056 when the sender wants one), and takes the SMSC's deliveries (20) and status reports
//! (23), each answered once the gateway has recorded it.

use super::codec::{self, succeeded, Cimd2Codec};
use super::convert::{identity, message_from, receipt_of, reject_code, submits};
use crate::connector::runtime::driver::{Ctl, Driver, Flow, Kind, Login, LoginRefused};
use crate::connector::runtime::outbox::Answer;
use crate::connector::runtime::outgoing::{Outgoing, Tcp};
use crate::connector::runtime::window::SeqSpace;
use common::cimd2::param::SERVICE_CENTRE_TIME_STAMP;
use common::cimd2::status::error;
use common::cimd2::{op, Packet, ShortMessage, StatusReport};
use common::message::{Message, Origin};
use std::collections::HashMap;

/// The outgoing CIMD2 connector: TCP, and a [`Client`] per session.
pub struct Cimd2Out;

impl Outgoing for Cimd2Out {
    type Dialer = Tcp;
    type Driver = Client;

    fn dialer(&self) -> &Tcp {
        &Tcp
    }

    fn session(&self, _cfg: &config::Connector) -> (Cimd2Codec, Client) {
        (Cimd2Codec, Client::default())
    }
}

/// One session with the SMSC.
#[derive(Default)]
pub struct Client {
    /// Destination of each submit in flight, by packet number: the submit's response names
    /// the message by its SCTS only, and its status report by destination and SCTS.
    destinations: HashMap<u8, String>,
}

impl Driver for Client {
    type Codec = Cimd2Codec;
    type Part = ShortMessage;
    const SEQUENCES: SeqSpace = codec::CLIENT_NUMBERS;
    const KEEPALIVE: &'static str = "alive (40)";

    fn kind(&self, packet: &Packet) -> Kind {
        codec::kind(packet)
    }

    fn login(&mut self, cfg: &config::Connector, seq: u32) -> Option<Packet> {
        let login = common::cimd2::Login {
            user: cfg.username.clone().unwrap_or_default(),
            password: cfg.password.clone().unwrap_or_default(),
            ..Default::default()
        };
        Some(login.to_packet(codec::number(seq)))
    }

    fn logged_in(
        &mut self,
        cfg: &config::Connector,
        answer: Packet,
    ) -> Result<Login, LoginRefused> {
        if succeeded(op::LOGIN, &answer) {
            return Ok(Login {
                peer: cfg.address.clone(),
                bind: Some("session".into()),
                user: cfg.username.clone(),
                info: "0".into(),
                transmit: true,
                queue_user: None,
            });
        }
        let code = answer.error_code();
        Err(LoginRefused {
            command: u32::from(op::LOGIN),
            error: u32::from(code),
            info: format!("{code} {}", error::text(code)),
        })
    }

    fn login_lost(&mut self, _cfg: &config::Connector, why: &str) -> LoginRefused {
        LoginRefused {
            command: u32::from(op::LOGIN),
            error: 0,
            info: why.to_string(),
        }
    }

    fn keepalive(&mut self, seq: u32) -> Packet {
        Packet::new(op::ALIVE, codec::number(seq))
    }

    fn logout(&mut self, seq: u32) -> Option<Packet> {
        Some(Packet::new(op::LOGOUT, codec::number(seq)))
    }

    fn parts(&mut self, cfg: &config::Connector, wire: &Message) -> Vec<ShortMessage> {
        submits(wire, cfg.split)
    }

    fn request(&mut self, sm: ShortMessage, seq: u32) -> Packet {
        let number = codec::number(seq);
        self.destinations
            .insert(number, sm.destinations.first().cloned().unwrap_or_default());
        // Text comes from GSM septets, so it always fits the CIMD2 alphabet.
        sm.to_packet(op::SUBMIT, number)
            .unwrap_or_else(|_| Packet::new(op::SUBMIT, number))
    }

    fn answer(&mut self, response: &Packet) -> Answer {
        let destination = self.destinations.remove(&response.number);
        if succeeded(op::SUBMIT, response) {
            let id = response
                .text(SERVICE_CENTRE_TIME_STAMP)
                .map(|scts| identity(&destination.unwrap_or_default(), &scts));
            return Answer::Accepted(id);
        }
        match response.op {
            // A NACK asks for the packet again: it was not taken.
            op::NACK => Answer::Unsent,
            _ => Answer::Refused {
                command: u32::from(op::SUBMIT),
                error: u32::from(response.error_code()),
            },
        }
    }

    fn on_request(&mut self, packet: Packet, s: &mut Ctl<'_, Cimd2Codec>) -> Flow {
        match packet.op {
            op::DELIVER_MESSAGE => deliver(packet, s),
            op::DELIVER_STATUS_REPORT => status_report(packet, s),
            op::ALIVE => s.reply(packet.response()),
            op::LOGOUT => {
                s.reply(packet.response());
                return Flow::Close("logged out by the SMSC");
            }
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

/// A deliver message (20): routed and stored, then answered (70).
fn deliver(packet: Packet, s: &mut Ctl<'_, Cimd2Codec>) {
    s.traffic();
    let sm = match ShortMessage::from_packet(&packet) {
        Ok(sm) => sm,
        Err(e) => {
            s.link.log(format!("RECEIVE ERR (info=\"{e}\")"));
            return s.reply(packet.error_response(e.code));
        }
    };
    let link = s.link.clone();
    let message = message_from(
        &sm,
        Origin {
            connector: link.name().to_string(),
            ..Default::default()
        },
    );
    s.spawn(async move {
        Some(match link.receive(message).await {
            Ok(_) => packet.response(),
            Err(reject) => {
                link.log(format!("RECEIVE ERR (info=\"{reject}\")"));
                packet.error_response(reject_code(&reject))
            }
        })
    });
}

/// A status report (23): matched to its message and recorded, then answered (73).
fn status_report(packet: Packet, s: &mut Ctl<'_, Cimd2Codec>) {
    s.traffic();
    let report = match StatusReport::from_packet(&packet) {
        Ok(r) => r,
        Err(e) => {
            s.link.log(format!("RECEIPT ERR (info=\"{e}\")"));
            return s.reply(packet.error_response(e.code));
        }
    };
    let link = s.link.clone();
    let (id, status, error) = receipt_of(&report);
    s.spawn(async move {
        if !link.receipt(&id, status, error).await {
            tracing::debug!(
                "connector {}: status report for {id} not matched yet",
                link.name()
            );
        }
        Some(packet.response())
    });
}

//! Incoming SMPP: we are the SMSC for client applications.
//!
//! The runtime accepts each connection in a free instance and runs its session (window,
//! keepalive, idle timeout, closing, deliveries from the queue); this driver checks binds
//! against the users, hands submits to the gateway (answering each only once it is stored),
//! answers query_sm, cancel_sm, replace_sm and submit_multi ([`super::requests`]), and writes
//! the messages queued for the bound user (delivery reports, MO) as deliver_sm.

use super::codec::{self, SmppCodec};
use super::convert::{
    data_sm_expiry, deliver_body, message_from_data_sm, message_from_sm, reject_status,
};
use super::requests;
use crate::connector::runtime::driver::{Ctl, Driver, Flow, Kind, Login};
use crate::connector::runtime::incoming::Incoming;
use crate::connector::runtime::link::Link;
use crate::connector::runtime::link::Refused;
use crate::connector::runtime::outbox::Answer;
use crate::connector::runtime::window::SeqSpace;
use crate::gateway::Reject;
use common::message::{Message, MessageId, Origin};
use common::smpp::{command, parse_time, status, tlv, BindResp, Body, Pdu, Sm, Tlv};
use config::Mode;
use std::net::SocketAddr;

/// Our system id in bind responses.
const SYSTEM_ID: &str = "emg";

/// The incoming SMPP connector: an [`Smsc`] per client session.
pub struct SmppIn;

impl Incoming for SmppIn {
    type Driver = Smsc;

    fn session(&self, _cfg: &config::Connector, peer: SocketAddr) -> (SmppCodec, Smsc) {
        (SmppCodec, Smsc { peer, bound: None })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BindKind {
    Transmitter,
    Receiver,
    Transceiver,
}

impl BindKind {
    fn from_command(id: u32) -> Option<BindKind> {
        match id {
            command::BIND_TRANSMITTER => Some(BindKind::Transmitter),
            command::BIND_RECEIVER => Some(BindKind::Receiver),
            command::BIND_TRANSCEIVER => Some(BindKind::Transceiver),
            _ => None,
        }
    }
    fn word(self) -> &'static str {
        match self {
            BindKind::Transmitter => "transmitter",
            BindKind::Receiver => "receiver",
            BindKind::Transceiver => "transceiver",
        }
    }
    fn may_submit(self) -> bool {
        self != BindKind::Receiver
    }
    fn may_receive(self) -> bool {
        self != BindKind::Transmitter
    }
}

struct Bound {
    user: String,
    account: String,
    kind: BindKind,
    interface_version: u8,
}

/// One client session.
pub struct Smsc {
    peer: SocketAddr,
    bound: Option<Bound>,
}

impl Driver for Smsc {
    type Codec = SmppCodec;
    type Part = Sm;
    const SEQUENCES: SeqSpace = codec::SEQUENCES;
    const KEEPALIVE: &'static str = "enquire_link";

    fn kind(&self, pdu: &Pdu) -> Kind {
        codec::kind(pdu)
    }

    fn keepalive(&mut self, seq: u32) -> Pdu {
        Pdu::new(command::ENQUIRE_LINK, seq, Body::Empty)
    }

    fn logout(&mut self, seq: u32) -> Option<Pdu> {
        Some(Pdu::new(command::UNBIND, seq, Body::Empty))
    }

    fn parts(&mut self, _cfg: &config::Connector, wire: &Message) -> Vec<Sm> {
        let v34 = self
            .bound
            .as_ref()
            .is_some_and(|b| b.interface_version >= 0x34);
        vec![deliver_body(wire, v34)]
    }

    fn request(&mut self, sm: Sm, seq: u32) -> Pdu {
        Pdu::new(command::DELIVER_SM, seq, Body::DeliverSm(sm))
    }

    fn answer(&mut self, resp: &Pdu) -> Answer {
        if resp.command_id == command::GENERIC_NACK {
            Answer::Unsent
        } else if resp.status == status::ESME_ROK {
            Answer::Accepted(None)
        } else {
            Answer::Refused {
                command: command::DELIVER_SM,
                error: resp.status,
            }
        }
    }

    fn on_request(&mut self, pdu: Pdu, s: &mut Ctl<'_, SmppCodec>) -> Flow {
        if let Some(kind) = BindKind::from_command(pdu.command_id) {
            self.bind(kind, &pdu, s);
            return Flow::Continue;
        }
        match pdu.command_id {
            command::ENQUIRE_LINK => s.reply(pdu.response(status::ESME_ROK, Body::Empty)),
            command::UNBIND => {
                s.reply(pdu.response(status::ESME_ROK, Body::Empty));
                return Flow::Close("unbound");
            }
            command::SUBMIT_SM | command::DATA_SM => self.submit(pdu, s),
            command::SUBMIT_MULTI
            | command::QUERY_SM
            | command::CANCEL_SM
            | command::REPLACE_SM => self.other_request(pdu, s),
            // SMPP 5.0 cell broadcast: not a service we offer. A 5.0 session hears so with
            // the operation's own response; before 5.0 the commands do not exist.
            command::BROADCAST_SM | command::QUERY_BROADCAST_SM | command::CANCEL_BROADCAST_SM
                if self
                    .bound
                    .as_ref()
                    .is_some_and(|b| b.interface_version >= 0x50) =>
            {
                s.reply(codec::unsupported(&pdu, status::ESME_RPROHIBITED));
            }
            _ => {
                let code = if self.bound.is_none() {
                    status::ESME_RINVBNDSTS
                } else {
                    status::ESME_RINVCMDID
                };
                s.reply(codec::unsupported(&pdu, code));
            }
        }
        Flow::Continue
    }
}

impl Smsc {
    fn bind(&mut self, kind: BindKind, pdu: &Pdu, s: &mut Ctl<'_, SmppCodec>) {
        let Body::Bind(bind) = &pdu.body else { return };
        let refuse = |s: &mut Ctl<'_, SmppCodec>, code: u32| {
            s.login_refused(code);
            s.reply(pdu.response(
                code,
                Body::BindResp(BindResp {
                    system_id: SYSTEM_ID.into(),
                    tlvs: vec![],
                }),
            ));
        };
        if self.bound.is_some() {
            return refuse(s, status::ESME_RALYBND);
        }
        let cfg = s.link.config();
        let gcfg = s.link.gw.config();
        let found = s
            .link
            .authenticate(&gcfg, &bind.system_id, &bind.password, self.peer.ip());
        let user = match found {
            Ok(user) => user,
            Err(Refused::Wrong) => return refuse(s, status::ESME_RINVPASWD),
            // Logged already; refused without a look at the password.
            Err(Refused::Blocked(_)) => {
                s.reply(pdu.response(
                    status::ESME_RBINDFAIL,
                    Body::BindResp(BindResp {
                        system_id: SYSTEM_ID.into(),
                        tlvs: vec![],
                    }),
                ));
                return;
            }
        };
        let mode_allows = match cfg.mode {
            Mode::Both => true,
            Mode::TransmitOnly => kind != BindKind::Transmitter,
            Mode::ReceiveOnly => kind != BindKind::Receiver,
        };
        if !mode_allows || !user.binds.iter().any(|b| b == kind.word()) {
            return refuse(s, status::ESME_RBINDFAIL);
        }
        // Authenticated: only now does the session take one of the connector's instances.
        if !s.claim_instance() {
            let busy = s.link.config().instances;
            s.link
                .log(format!("CONNECT ERR (info=\"all {busy} instances busy\")"));
            return refuse(s, status::ESME_RBINDFAIL);
        }
        // We speak 3.3, 3.4 and 5.0: answer with the client's version, or the highest below it
        // (a 3.3 client expects no TLV at all).
        let mut tlvs = Vec::new();
        if bind.interface_version >= 0x34 {
            let ours = if bind.interface_version >= 0x50 {
                0x50
            } else {
                0x34
            };
            tlvs.push(Tlv::u8(tlv::SC_INTERFACE_VERSION, ours));
        }
        s.reply(pdu.response(
            status::ESME_ROK,
            Body::BindResp(BindResp {
                system_id: SYSTEM_ID.into(),
                tlvs,
            }),
        ));
        self.bound = Some(Bound {
            user: user.name.clone(),
            account: crate::users::account_of(user),
            kind,
            interface_version: bind.interface_version,
        });
        s.logged_in(Login {
            peer: Some(self.peer.to_string()),
            bind: Some(kind.word().to_string()),
            user: Some(user.name.clone()),
            info: format!("0 {}", bind.system_id),
            transmit: kind.may_receive(),
            queue_user: Some(user.name.clone()),
        });
    }

    /// submit_sm or data_sm from the client: checked, stored, and answered once stored.
    fn submit(&mut self, pdu: Pdu, s: &mut Ctl<'_, SmppCodec>) {
        s.traffic();
        let resp_command = pdu.command_id | command::RESPONSE_BIT;
        let refuse = |code: u32| Pdu {
            command_id: resp_command,
            status: code,
            sequence: pdu.sequence,
            body: Body::Empty,
        };
        let refusal = match &self.bound {
            None => Some(status::ESME_RINVBNDSTS),
            Some(b) if !b.kind.may_submit() => Some(status::ESME_RINVBNDSTS),
            Some(_) if !s.link.may_receive() => Some(status::ESME_RSUBMITFAIL),
            Some(_) => None,
        };
        if let Some(code) = refusal {
            s.reply(refuse(code));
            return;
        }
        let bound = self.bound.as_ref().expect("checked above");
        if !s.link.gw.user_allows(&bound.user) {
            s.reply(refuse(status::ESME_RTHROTTLED));
            return;
        }
        let origin = Origin {
            connector: s.link.name().to_string(),
            user: Some(bound.user.clone()),
            account: Some(bound.account.clone()),
            client_ref: None,
            // Its receipt goes back on this session (`dlr_session`).
            session: s.link.connector.session_ref(s.link.instance),
            ..Default::default()
        };
        let message = match &pdu.body {
            Body::SubmitSm(sm) => {
                let expires = match parse_time(&sm.validity_period, crate::clock::now_us()) {
                    Ok(t) => t,
                    Err(e) => {
                        s.link.log(format!("SUBMIT ERR (info=\"{e}\")"));
                        s.reply(refuse(status::ESME_RINVEXPIRY));
                        return;
                    }
                };
                let Ok(deliver_at) = parse_time(&sm.schedule_delivery_time, crate::clock::now_us())
                else {
                    s.link
                        .log("SUBMIT ERR (info=\"bad schedule_delivery_time\")");
                    s.reply(refuse(status::ESME_RINVSCHED));
                    return;
                };
                let mut m = message_from_sm(sm, origin);
                m.expires_us = expires;
                m.deliver_at_us = deliver_at;
                m
            }
            Body::DataSm(d) => {
                let mut m = message_from_data_sm(d, origin);
                m.expires_us = data_sm_expiry(d, crate::clock::now_us());
                m
            }
            _ => return,
        };
        let link = s.link.clone();
        let seq = pdu.sequence;
        s.spawn(async move {
            let result = link.receive(message).await;
            Some(submit_resp(&link, seq, resp_command, result))
        });
    }

    /// submit_multi, query_sm, cancel_sm, replace_sm: answered by [`requests`] once done.
    fn other_request(&mut self, pdu: Pdu, s: &mut Ctl<'_, SmppCodec>) {
        let may = match (&self.bound, pdu.command_id) {
            (None, _) => false,
            (Some(_), command::QUERY_SM) => true,
            (Some(b), _) => b.kind.may_submit(),
        };
        let Some(bound) = self.bound.as_ref().filter(|_| may) else {
            s.reply(Pdu {
                command_id: pdu.command_id | command::RESPONSE_BIT,
                status: status::ESME_RINVBNDSTS,
                sequence: pdu.sequence,
                body: Body::Empty,
            });
            return;
        };
        if pdu.command_id == command::SUBMIT_MULTI {
            s.traffic();
        }
        let asker = requests::Asker {
            connector: s.link.name().to_string(),
            user: bound.user.clone(),
            account: bound.account.clone(),
        };
        let link = s.link.clone();
        s.spawn(async move {
            let gw = &link.gw;
            let resp = match pdu.command_id {
                command::QUERY_SM => requests::query(gw, &asker, &pdu).await,
                command::CANCEL_SM => requests::cancel(gw, &asker, &pdu).await,
                command::REPLACE_SM => requests::replace(gw, &asker, &pdu).await,
                _ => requests::submit_multi(&link, &asker, &pdu).await,
            };
            Some(resp)
        });
    }
}

/// The answer to a submit_sm or data_sm: its message id once stored, or why not.
fn submit_resp(link: &Link, seq: u32, resp_command: u32, result: Result<MessageId, Reject>) -> Pdu {
    let (code, message_id) = match result {
        Ok(id) => (status::ESME_ROK, id.to_string()),
        Err(reject) => {
            link.log(format!("SUBMIT ERR (info=\"{reject}\")"));
            (reject_status(&reject), String::new())
        }
    };
    let body = if code != status::ESME_ROK {
        Body::Empty
    } else if resp_command == command::DATA_SM_RESP {
        Body::DataSmResp {
            message_id,
            tlvs: vec![],
        }
    } else {
        Body::SubmitSmResp {
            message_id,
            tlvs: vec![],
        }
    };
    Pdu {
        command_id: resp_command,
        status: code,
        sequence: seq,
        body,
    }
}

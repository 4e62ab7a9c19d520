//! Outgoing SMPP: we are the client (ESME) of an SMSC.
//!
//! The runtime connects each instance over TCP, keeps the window, the keepalive
//! (enquire_link), `idletimeout`, retries and closing; this driver binds (transceiver,
//! transmitter or receiver, SMPP 3.3/3.4/5.0), submits each message as submit_sm (its parts
//! as `split` says, each with what is left of the message's validity), reads the SMSC's answers, and takes delivery receipts and MO messages
//! (deliver_sm, data_sm), each answered once the gateway has recorded it.

use super::codec::{self, SmppCodec};
use super::congestion::{self, Congestion};
use super::convert::{
    message_from_sm, parse_receipt, parts_of, sm_of_data_sm, validity_period, WithStatus,
};
use crate::connector::runtime::driver::{Ctl, Driver, Flow, Kind, Login, LoginRefused};
use crate::connector::runtime::link::Link;
use crate::connector::runtime::outbox::Answer;
use crate::connector::runtime::outgoing::{Outgoing, Tcp};
use crate::connector::runtime::window::SeqSpace;
use crate::gateway::ReceiptOutcome;
use common::message::{Message, Origin};
use common::smpp::{command, status, tlv, Bind, Body, Pdu, Sm};
use config::BindMode;
use std::time::Duration;
use tokio::time::Instant;

/// The outgoing SMPP connector: TCP, and an [`Esme`] per session.
pub struct SmppOut;

impl Outgoing for SmppOut {
    type Dialer = Tcp;
    type Driver = Esme;

    fn dialer(&self) -> &Tcp {
        &Tcp
    }

    fn session(&self, cfg: &config::Connector) -> (SmppCodec, Esme) {
        let bind_command = match cfg.bindmode {
            BindMode::Transceiver => command::BIND_TRANSCEIVER,
            BindMode::Transmitter => command::BIND_TRANSMITTER,
            BindMode::Receiver => command::BIND_RECEIVER,
        };
        (
            SmppCodec,
            Esme {
                bind_command,
                congestion: Congestion::default(),
                note: None,
            },
        )
    }

    /// A receiver bind never has queue work to wake it.
    fn only_receives(&self, cfg: &config::Connector) -> bool {
        cfg.bindmode == BindMode::Receiver
    }
}

/// esm_class message type bits (3.4 §5.2.12) of a deliver_sm.
const MESSAGE_TYPE: u8 = 0x3C;
const SMSC_RECEIPT: u8 = 0x04;
const SME_DELIVERY_ACK: u8 = 0x08;
const SME_USER_ACK: u8 = 0x10;
const INTERMEDIATE_NOTIFICATION: u8 = 0x20;

/// interface_version of SMPP 3.3.
const SMPP_3_3: u8 = 0x33;

/// A submit_sm waiting for the window, with when its message expires: its validity_period
/// is written as it leaves, so the time it waited is not given to the SMSC as well.
pub struct Submit {
    sm: Sm,
    expires_us: Option<i64>,
}

/// One session with the SMSC.
pub struct Esme {
    bind_command: u32,
    /// What the SMSC's congestion_state asks of our sending.
    congestion: Congestion,
    /// A connector log line for the runtime to write.
    note: Option<String>,
}

fn bind_word(mode: BindMode) -> &'static str {
    match mode {
        BindMode::Transceiver => "transceiver",
        BindMode::Transmitter => "transmitter",
        BindMode::Receiver => "receiver",
    }
}

impl Driver for Esme {
    type Codec = SmppCodec;
    type Part = Submit;
    const SEQUENCES: SeqSpace = codec::SEQUENCES;
    const KEEPALIVE: &'static str = "enquire_link";

    fn kind(&self, pdu: &Pdu) -> Kind {
        codec::kind(pdu)
    }

    fn login(&mut self, cfg: &config::Connector, seq: u32) -> Option<Pdu> {
        Some(Pdu::new(
            self.bind_command,
            seq,
            Body::Bind(Bind {
                system_id: cfg.username.clone().unwrap_or_default(),
                password: cfg.password.clone().unwrap_or_default(),
                system_type: cfg.system_type.clone(),
                interface_version: cfg.interface_version,
                ..Default::default()
            }),
        ))
    }

    fn logged_in(&mut self, cfg: &config::Connector, resp: Pdu) -> Result<Login, LoginRefused> {
        if resp.status != status::ESME_ROK || resp.command_id == command::GENERIC_NACK {
            return Err(LoginRefused {
                command: self.bind_command,
                error: resp.status,
                info: resp.status.to_string(),
            });
        }
        let system_id = match &resp.body {
            Body::BindResp(b) => b.system_id.clone(),
            _ => String::new(),
        };
        Ok(Login {
            peer: cfg.address.clone(),
            bind: Some(bind_word(cfg.bindmode).to_string()),
            user: cfg.username.clone(),
            info: format!("0 {system_id}"),
            transmit: cfg.bindmode != BindMode::Receiver,
            queue_user: None,
        })
    }

    fn login_lost(&mut self, _cfg: &config::Connector, why: &str) -> LoginRefused {
        LoginRefused {
            command: self.bind_command,
            error: status::ESME_RBINDFAIL,
            info: why.to_string(),
        }
    }

    fn keepalive(&mut self, seq: u32) -> Pdu {
        Pdu::new(command::ENQUIRE_LINK, seq, Body::Empty)
    }

    fn logout(&mut self, seq: u32) -> Option<Pdu> {
        Some(Pdu::new(command::UNBIND, seq, Body::Empty))
    }

    fn parts(&mut self, cfg: &config::Connector, wire: &Message) -> Vec<Submit> {
        let mut parts = parts_of(wire, cfg.split);
        if cfg.interface_version == SMPP_3_3 {
            // SMPP 3.3 has no optional parameters: an SMSC of that version may refuse them.
            parts.iter_mut().for_each(|sm| sm.tlvs.clear());
        }
        parts
            .into_iter()
            .map(|sm| Submit {
                sm,
                expires_us: wire.expires_us,
            })
            .collect()
    }

    fn request(&mut self, part: Submit, seq: u32) -> Pdu {
        self.congestion.sent(Instant::now());
        let sm = Sm {
            validity_period: validity_period(part.expires_us, crate::clock::now_us()),
            ..part.sm
        };
        Pdu::new(command::SUBMIT_SM, seq, Body::SubmitSm(sm))
    }

    fn send_wait(&self) -> Duration {
        self.congestion.wait(Instant::now())
    }

    fn take_note(&mut self) -> Option<String> {
        self.note.take()
    }

    fn answer(&mut self, resp: &Pdu) -> Answer {
        let state = match &resp.body {
            Body::SubmitSmResp { tlvs, .. } => {
                tlv::find(tlvs, tlv::CONGESTION_STATE).and_then(|t| t.value.first().copied())
            }
            _ => None,
        };
        if let Some(changed) = self.congestion.answered(state, Instant::now()) {
            self.note = Some(congestion::log_line(changed));
        }
        if resp.status != status::ESME_ROK {
            return Answer::Refused {
                command: command::SUBMIT_SM,
                error: resp.status,
            };
        }
        match &resp.body {
            Body::SubmitSmResp { message_id, .. } if !message_id.is_empty() => {
                Answer::Accepted(Some(message_id.clone()))
            }
            _ => Answer::Accepted(None),
        }
    }

    fn on_request(&mut self, pdu: Pdu, s: &mut Ctl<'_, SmppCodec>) -> Flow {
        match pdu.command_id {
            command::DELIVER_SM | command::DATA_SM => deliver(pdu, s),
            command::ENQUIRE_LINK => s.reply(pdu.response(status::ESME_ROK, Body::Empty)),
            command::UNBIND => {
                s.reply(pdu.response(status::ESME_ROK, Body::Empty));
                return Flow::Close("unbound by the SMSC");
            }
            // The SMSC says a handset is reachable again; it wants no answer (3.4 §4.12).
            command::ALERT_NOTIFICATION => {
                if let Body::AlertNotification { esme, .. } = &pdu.body {
                    s.link
                        .log(format!("ALERT (info=\"{} available\")", esme.addr));
                }
            }
            _ => s.reply(codec::unsupported(&pdu, status::ESME_RINVCMDID)),
        }
        Flow::Continue
    }
}

/// deliver_sm or data_sm from the SMSC: a delivery receipt, matched to its message, or an MO
/// message, routed and stored; answered once that is done.
fn deliver(pdu: Pdu, s: &mut Ctl<'_, SmppCodec>) {
    s.traffic();
    let (mut sm, ok) = match &pdu.body {
        Body::DeliverSm(sm) => (
            sm.clone(),
            pdu.response(
                status::ESME_ROK,
                Body::DeliverSmResp {
                    message_id: String::new(),
                    tlvs: vec![],
                },
            ),
        ),
        Body::DataSm(d) => (
            sm_of_data_sm(d),
            pdu.response(
                status::ESME_ROK,
                Body::DataSmResp {
                    message_id: String::new(),
                    tlvs: vec![],
                },
            ),
        ),
        _ => return,
    };
    let link = s.link.clone();
    if link.config().interface_version == SMPP_3_3 {
        // A 3.3 receipt is its text (id:, stat:, err:); TLVs are not 3.3, whatever an SMSC
        // adds.
        sm.tlvs.clear();
    }
    match sm.esm_class & MESSAGE_TYPE {
        SMSC_RECEIPT | INTERMEDIATE_NOTIFICATION => receipt(&sm, ok, link, s),
        SME_DELIVERY_ACK | SME_USER_ACK => {
            // The handset's application acknowledged (3.4 §5.2.12): not the network's
            // receipt, so it neither finishes the message nor is an MO message.
            link.log(format!(
                "SME ACK (info=\"esm_class 0x{:02x} from {}; not a delivery receipt, not passed on\")",
                sm.esm_class, sm.source.addr
            ));
            s.reply(ok);
        }
        _ => mo(sm, ok, link, s),
    }
}

/// A delivery receipt (or intermediate notification) from the SMSC, answered only once it is
/// recorded: one that came before its submit_sm_resp waits for its entry, so a crash
/// meanwhile leaves it unanswered and the SMSC sends it again.
fn receipt(sm: &Sm, ok: Pdu, link: Link, s: &mut Ctl<'_, SmppCodec>) {
    let Some((id, state, error)) = parse_receipt(sm) else {
        link.log("RECEIPT ERR (info=\"no message id in receipt\")");
        s.reply(ok);
        return;
    };
    s.spawn(async move {
        let code = match link.record_receipt(&id, state, error).await {
            ReceiptOutcome::Recorded => status::ESME_ROK,
            ReceiptOutcome::Unmatched => {
                tracing::debug!(
                    "connector {}: receipt for {id} matched no message",
                    link.name()
                );
                status::ESME_ROK
            }
            ReceiptOutcome::NotStored => status::ESME_RX_T_APPN,
        };
        Some(ok.response_with(code))
    });
}

/// An MO message from the SMSC: routed and stored, then answered.
fn mo(sm: Sm, ok: Pdu, link: Link, s: &mut Ctl<'_, SmppCodec>) {
    let message = message_from_sm(
        &sm,
        Origin {
            connector: link.name().to_string(),
            ..Default::default()
        },
    );
    s.spawn(async move {
        let code = match link.receive(message).await {
            Ok(_) => status::ESME_ROK,
            // No route, blacklisted: retrying cannot help.
            Err(r) if !r.is_temporary() => status::ESME_RX_P_APPN,
            Err(_) => status::ESME_RX_T_APPN,
        };
        Some(ok.response_with(code))
    });
}

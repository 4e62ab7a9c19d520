//! Outgoing UCP/EMI: we are the client (the "SMT") of an SMSC.
//!
//! The runtime connects each instance over TCP and keeps the window (TRN 00..99), keepalive,
//! `idletimeout`, retries and closing; this driver logs in with operation 60 (OAdC `username`,
//! OTON/ONPI `oton`/`onpi`, STYP 1, PWD `password`, VERS 0100) when a username is set, sends
//! alerts (31) as keepalives, submits each message as 51 (long ones in parts with their UDH
//! in XSer), and takes the SMSC's MO messages (52) and delivery notifications (53), each
//! acknowledged once the gateway has recorded it. UCP has no logout: closing disconnects.
//! With `phone` and `tty` the same sessions run over a dial-up call ([`super::dialup`]).

use super::codec::{self, UcpCodec};
use super::convert::{message_from_sm, receipt_of, sm_text, submits, submitted_id};
use crate::connector::runtime::driver::{Ctl, Driver, Flow, Kind, Login, LoginRefused};
use crate::connector::runtime::outbox::Answer;
use crate::connector::runtime::outgoing::{Outgoing, Tcp};
use crate::connector::runtime::window::SeqSpace;
use common::message::{Message, Origin};
use common::ucp::{Alert, Body, ErrorCode, Frame, Session, Sm};

/// Operation numbers the retry scheme's rules name.
pub const OP_SUBMIT: u32 = 51;
pub const OP_SESSION: u32 = 60;

/// PID of an application over TCP/IP (alerts).
const PID_TCP_APPLICATION: u16 = 539;

/// The outgoing UCP connector: TCP, and a [`Smt`] per session.
pub struct UcpOut;

impl Outgoing for UcpOut {
    type Dialer = Tcp;
    type Driver = Smt;

    fn dialer(&self) -> &Tcp {
        &Tcp
    }

    fn session(&self, cfg: &config::Connector) -> (UcpCodec, Smt) {
        let account = cfg.username.clone().unwrap_or_default();
        (UcpCodec, Smt { account })
    }
}

/// The outgoing UCP connector that dials its SMSC over a modem (`phone`, `tty`): the same
/// [`Smt`] sessions, over the call [`super::dialup::Dialup`] makes.
pub struct UcpDialupOut;

impl Outgoing for UcpDialupOut {
    type Dialer = super::dialup::Dialup;
    type Driver = Smt;

    fn dialer(&self) -> &super::dialup::Dialup {
        &super::dialup::Dialup
    }

    fn session(&self, cfg: &config::Connector) -> (UcpCodec, Smt) {
        UcpOut.session(cfg)
    }
}

/// One session with the SMSC.
pub struct Smt {
    /// The account alerts name (AdC of 31).
    account: String,
}

impl Driver for Smt {
    type Codec = UcpCodec;
    type Part = Sm;
    const SEQUENCES: SeqSpace = codec::SEQUENCES;
    const KEEPALIVE: &'static str = "alert (31)";

    fn kind(&self, frame: &Frame) -> Kind {
        codec::kind(frame)
    }

    /// Operation 60 when there is an account to log in with; an SMSC that knows its clients
    /// by address needs none.
    fn login(&mut self, cfg: &config::Connector, seq: u32) -> Option<Frame> {
        let user = cfg.username.clone().filter(|u| !u.is_empty())?;
        Some(Frame {
            trn: codec::trn(seq),
            ot: 60,
            body: Body::Session(Session {
                oadc: user,
                oton: Some(cfg.oton),
                onpi: Some(cfg.onpi),
                styp: Some(1),
                pwd: cfg.password.clone().unwrap_or_default().into_bytes(),
                vers: "0100".into(),
                ..Session::default()
            }),
        })
    }

    fn logged_in(&mut self, cfg: &config::Connector, answer: Frame) -> Result<Login, LoginRefused> {
        match answer.body {
            Body::Ack(a) => Ok(Login {
                peer: cfg.address.clone(),
                bind: Some("session".into()),
                user: cfg.username.clone(),
                info: format!("0 {}", a.sm),
                transmit: true,
                queue_user: None,
            }),
            Body::Nack(n) => Err(LoginRefused {
                command: OP_SESSION,
                error: u32::from(n.ec.0),
                info: n.ec.to_string(),
            }),
            _ => Err(LoginRefused {
                command: OP_SESSION,
                error: 0,
                info: "unexpected answer to operation 60".into(),
            }),
        }
    }

    fn login_lost(&mut self, _cfg: &config::Connector, why: &str) -> LoginRefused {
        LoginRefused {
            command: OP_SESSION,
            error: 0,
            info: why.to_string(),
        }
    }

    fn keepalive(&mut self, seq: u32) -> Frame {
        alert(seq, self.account.clone())
    }

    fn logout(&mut self, _seq: u32) -> Option<Frame> {
        None
    }

    fn parts(&mut self, cfg: &config::Connector, wire: &Message) -> Vec<Sm> {
        let default_source = cfg.dialup.as_ref().and_then(|d| d.sourceaddr.as_ref());
        match default_source {
            Some(source) if wire.source.addr.is_empty() => {
                let mut m = wire.clone();
                m.source.addr = source.clone();
                submits(&m, cfg.split)
            }
            _ => submits(wire, cfg.split),
        }
    }

    /// A dial-up pool takes `dial_messages` per call: then the line hangs up.
    fn session_messages(&self, cfg: &config::Connector) -> Option<u32> {
        cfg.dialup.as_ref().map(|d| d.messages)
    }

    fn request(&mut self, sm: Sm, seq: u32) -> Frame {
        Frame {
            trn: codec::trn(seq),
            ot: 51,
            body: Body::Sm(Box::new(sm)),
        }
    }

    fn answer(&mut self, result: &Frame) -> Answer {
        match &result.body {
            Body::Ack(a) => Answer::Accepted(submitted_id(&a.sm)),
            Body::Nack(n) => Answer::Refused {
                command: OP_SUBMIT,
                error: u32::from(n.ec.0),
            },
            _ => Answer::Unsent,
        }
    }

    fn on_request(&mut self, frame: Frame, s: &mut Ctl<'_, UcpCodec>) -> Flow {
        match (&frame.body, frame.ot) {
            (Body::Sm(sm), 52) => {
                let sm = sm.clone();
                mo(frame, *sm, s)
            }
            (Body::Sm(sm), 53) => {
                let sm = sm.clone();
                notification(frame, &sm, s)
            }
            // The SMSC checks the link, or says a handset is reachable: acknowledge.
            (Body::Alert(_), _) => s.reply(frame.ack("", "")),
            _ => s.reply(frame.nack(ErrorCode::OPERATION_NOT_SUPPORTED, "")),
        }
        Flow::Continue
    }
}

/// An alert (31) for the keepalive: AdC the account, PID 0539.
pub fn alert(seq: u32, adc: String) -> Frame {
    Frame {
        trn: codec::trn(seq),
        ot: 31,
        body: Body::Alert(Alert {
            adc,
            pid: Some(PID_TCP_APPLICATION),
            extra: Vec::new(),
        }),
    }
}

/// A 52 from the SMSC: routed and stored, then acknowledged.
fn mo(frame: Frame, sm: Sm, s: &mut Ctl<'_, UcpCodec>) {
    s.traffic();
    let link = s.link.clone();
    let message = message_from_sm(
        &sm,
        Origin {
            connector: link.name().to_string(),
            ..Default::default()
        },
    );
    let identity = format!("{}:{}", sm.adc, sm.scts);
    s.spawn(async move {
        Some(match link.receive(message).await {
            Ok(_) => frame.ack("", identity),
            Err(reject) => {
                link.log(format!("RECEIVE ERR (info=\"{reject}\")"));
                frame.nack(super::convert::reject_ec(&reject), sm_text(&reject))
            }
        })
    });
}

/// A 53 from the SMSC: matched to its message and recorded, then acknowledged.
fn notification(frame: Frame, sm: &Sm, s: &mut Ctl<'_, UcpCodec>) {
    s.traffic();
    let link = s.link.clone();
    let (id, status, error) = receipt_of(sm);
    s.spawn(async move {
        if !link.receipt(&id, status, error).await {
            tracing::debug!(
                "connector {}: notification for {id} not matched yet",
                link.name()
            );
        }
        Some(frame.ack("", ""))
    });
}

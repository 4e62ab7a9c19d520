//! Incoming MGP for applications: a client logs in as a `[user.NAME]` (not an operator),
//! submits messages as MGP options (`submit`, answered with the message's id only once it is
//! stored), asks after its own messages (`msg_show`, `msg_cancel`: another user's are
//! "not found"), injects delivery reports (`submit` with `MSGTYPE`=5), and is delivered what is
//! queued for it, its delivery reports and MO messages (`deliver`, our requests, which the
//! client answers `ok`; only then is the message done in the store). Reports for a user who is
//! away wait in the connector's queue, durably, as an SMPP client's do. Everything else MGP
//! has is the operators' control plane (`mgp_address`) and is refused here.

use super::codec::{self, MgpCodec};
use super::options::{deliver_options, state_name, submission, Submission};
use crate::connector::runtime::driver::{Ctl, Driver, Flow, Kind, Login};
use crate::connector::runtime::incoming::Incoming;
use crate::connector::runtime::link::Link;
use crate::connector::runtime::outbox::Answer;
use crate::connector::runtime::window::SeqSpace;
use crate::gateway::{InjectError, QueuedError, Reject};
use common::message::{Message, MessageId, Origin};
use common::mgp::{ErrorBody, ErrorCode, Frame, Op, Outcome, Request, Response};
use serde_json::{json, Value};
use std::net::SocketAddr;

/// The error number a client's refusal of a delivery is recorded with (retry scheme rules
/// match command 0).
pub const DELIVER_REFUSED: u32 = 1;

/// The incoming MGP connector: an [`App`] per client session.
pub struct MgpIn;

impl Incoming for MgpIn {
    type Driver = App;

    fn session(&self, _cfg: &config::Connector, peer: SocketAddr) -> (MgpCodec, App) {
        (MgpCodec, App { peer, bound: None })
    }
}

struct Bound {
    user: String,
    account: String,
}

/// One application session.
pub struct App {
    peer: SocketAddr,
    bound: Option<Bound>,
}

fn answer(id: u64, outcome: Result<Value, ErrorBody>) -> Frame {
    Frame::Response(Response {
        id: Some(id),
        outcome: match outcome {
            Ok(v) => Outcome::Ok(v),
            Err(e) => Outcome::Error(e),
        },
    })
}

fn reject_error(r: Reject) -> ErrorBody {
    match r {
        Reject::Store(e) => ErrorBody::internal(format!("message not stored: {e}")),
        r @ Reject::NoBalance(_) => {
            ErrorBody::new(ErrorCode::NoBalance, format!("message not accepted: {r}"))
        }
        other => ErrorBody::refused(format!("message not accepted: {other}")),
    }
}

impl Driver for App {
    type Codec = MgpCodec;
    /// The options of one delivery.
    type Part = serde_json::Map<String, Value>;
    const SEQUENCES: SeqSpace = codec::SEQUENCES;
    const KEEPALIVE: &'static str = "ping";

    fn kind(&self, frame: &Frame) -> Kind {
        codec::kind(frame)
    }

    fn keepalive(&mut self, seq: u32) -> Frame {
        Frame::Request(Request {
            id: u64::from(seq),
            op: Op::Ping,
        })
    }

    fn logout(&mut self, _seq: u32) -> Option<Frame> {
        None
    }

    fn parts(&mut self, _cfg: &config::Connector, wire: &Message) -> Vec<Self::Part> {
        vec![deliver_options(wire)]
    }

    fn request(&mut self, options: Self::Part, seq: u32) -> Frame {
        Frame::Request(Request {
            id: u64::from(seq),
            op: Op::Deliver { options },
        })
    }

    fn answer(&mut self, response: &Frame) -> Answer {
        match response {
            Frame::Response(Response {
                outcome: Outcome::Ok(_),
                ..
            }) => Answer::Accepted(None),
            _ => Answer::Refused {
                command: 0,
                error: DELIVER_REFUSED,
            },
        }
    }

    fn on_request(&mut self, frame: Frame, s: &mut Ctl<'_, MgpCodec>) -> Flow {
        let Frame::Request(req) = frame else {
            s.reply(answer(
                0,
                Err(ErrorBody::bad_request(
                    "clients send requests (objects with \"op\") and answers to emgd's requests, not events",
                )),
            ));
            return Flow::Continue;
        };
        let id = req.id;
        match req.op {
            Op::Login { user, password } => self.login(id, &user, &password, s),
            Op::Ping => s.reply(answer(id, Ok(json!({})))),
            _ if self.bound.is_none() => s.reply(answer(id, Err(not_logged_in()))),
            Op::Submit { options } => self.submit(id, options, s),
            Op::MsgShow { id: message } => self.show(id, message, s),
            Op::MsgCancel { id: message } => self.cancel(id, message, s),
            op => {
                let user = self.bound.as_ref().map_or("", |b| b.user.as_str());
                s.reply(answer(
                    id,
                    Err(ErrorBody::new(
                        ErrorCode::Forbidden,
                        format!(
                            "`{}` is an operator operation (emgd's control listener, mgp_address); \
                             application user {user} on connector {} may submit, msg_show, msg_cancel and ping",
                            op.name(),
                            s.link.name()
                        ),
                    )),
                ));
            }
        }
        Flow::Continue
    }
}

impl App {
    fn login(&mut self, id: u64, user: &str, password: &str, s: &mut Ctl<'_, MgpCodec>) {
        if self.bound.is_some() {
            s.reply(answer(
                id,
                Err(ErrorBody::refused("this session is already logged in")),
            ));
            return;
        }
        let (cfg, gcfg) = (s.link.config(), s.link.gw.config());
        let Some(found) = s
            .link
            .authenticate(&gcfg, user, password, self.peer.ip())
            .ok()
        else {
            s.login_refused(format!(
                "{user}: wrong user or password, or not allowed here"
            ));
            s.reply(answer(
                id,
                Err(ErrorBody::new(
                    ErrorCode::AuthFailed,
                    format!("login failed for user {user}: wrong user or password"),
                )),
            ));
            return;
        };
        if !s.claim_instance() {
            let busy = cfg.instances;
            s.login_refused(format!("all {busy} instances busy"));
            s.reply(answer(
                id,
                Err(ErrorBody::refused(format!(
                    "all {busy} instances of connector {} are busy",
                    s.link.name()
                ))),
            ));
            return;
        }
        let name = found.name.clone();
        s.reply(answer(
            id,
            Ok(json!({
                "user": name,
                "connector": s.link.name(),
                "version": env!("CARGO_PKG_VERSION"),
            })),
        ));
        self.bound = Some(Bound {
            user: name.clone(),
            account: crate::users::account_of(found),
        });
        s.logged_in(Login {
            peer: Some(self.peer.to_string()),
            bind: Some("mgp".into()),
            user: Some(name.clone()),
            info: format!("0 {name}"),
            transmit: true,
            queue_user: Some(name),
        });
    }

    fn submit(
        &mut self,
        id: u64,
        options: serde_json::Map<String, Value>,
        s: &mut Ctl<'_, MgpCodec>,
    ) {
        s.traffic();
        let Some(bound) = self.bound.as_ref() else {
            s.reply(answer(id, Err(not_logged_in())));
            return;
        };
        if !s.link.may_receive() {
            let r = Reject::NotReceiving(s.link.name().to_string());
            s.reply(answer(id, Err(ErrorBody::refused(r.to_string()))));
            return;
        }
        if !s.link.gw.user_allows(&bound.user) {
            s.reply(answer(
                id,
                Err(ErrorBody::refused(format!(
                    "throttled: user {} is over its throughput",
                    bound.user
                ))),
            ));
            return;
        }
        let origin = Origin {
            connector: s.link.name().to_string(),
            user: Some(bound.user.clone()),
            account: Some(bound.account.clone()),
            ..Default::default()
        };
        let parsed = match submission(&options, origin) {
            Ok(p) => p,
            Err(e) => {
                s.link.log(format!("SUBMIT ERR (info=\"{e}\")"));
                s.reply(answer(id, Err(ErrorBody::bad_request(e.to_string()))));
                return;
            }
        };
        if let Submission::Message { route: Some(r), .. } = &parsed {
            let gcfg = s.link.gw.config();
            if !gcfg.users.get(&bound.user).is_some_and(|u| u.allowroute) {
                let e = format!(
                    "ROUTE={r}: user {} may not route its messages (set `allowroute = true` \
                     in [user.{}])",
                    bound.user, bound.user
                );
                s.link.log(format!("SUBMIT ERR (info=\"{e}\")"));
                s.reply(answer(id, Err(ErrorBody::new(ErrorCode::Forbidden, e))));
                return;
            }
        }
        let link = s.link.clone();
        s.spawn(async move { Some(answer(id, submitted(&link, parsed).await)) });
    }

    fn show(&mut self, id: u64, message: MessageId, s: &mut Ctl<'_, MgpCodec>) {
        let user = self.bound.as_ref().map(|b| b.user.clone());
        let link = s.link.clone();
        s.spawn(async move {
            let found = match link.gw.store.message(message).await {
                Ok(Some(st)) if st.message.origin.user == user => Ok(json!({
                    "message_id": message,
                    "state": st.state.name(),
                    "status": st.status,
                    "source": st.message.source.addr,
                    "dest": st.message.dest.addr,
                    "received_us": st.message.received_us,
                    "updated_us": st.updated_us,
                    "attempts": st.message.attempts,
                })),
                Ok(_) => Err(not_yours(message)),
                Err(e) => Err(ErrorBody::internal(format!(
                    "cannot read message {message}: {e}"
                ))),
            };
            Some(answer(id, found))
        });
    }

    fn cancel(&mut self, id: u64, message: MessageId, s: &mut Ctl<'_, MgpCodec>) {
        let user = self.bound.as_ref().map(|b| b.user.clone());
        let link = s.link.clone();
        s.spawn(async move {
            let why = format!(
                "cancelled by application user {}",
                user.as_deref().unwrap_or("")
            );
            let done = link
                .gw
                .cancel_queued(message, why, |m| m.origin.user == user)
                .await;
            Some(answer(
                id,
                match done {
                    Ok(_) => Ok(json!({"message_id": message, "state": "cancelled"})),
                    Err(QueuedError::NotFound(_) | QueuedError::NotOwner(_)) => {
                        Err(not_yours(message))
                    }
                    Err(e @ QueuedError::Store(_)) => Err(ErrorBody::internal(format!(
                        "message {message} not cancelled: {e}"
                    ))),
                    Err(e) => Err(ErrorBody::refused(format!("{e}; it cannot be cancelled"))),
                },
            ))
        });
    }
}

/// A request other than login or ping on a session that has not logged in.
fn not_logged_in() -> ErrorBody {
    ErrorBody::new(
        ErrorCode::NotAuthenticated,
        "log in first: the first request must be {\"op\":\"login\",\"user\":...,\"password\":...}",
    )
}

/// Another user's message reads as one that does not exist.
fn not_yours(message: MessageId) -> ErrorBody {
    ErrorBody::not_found(format!("message {message} does not exist"))
}

/// Store the submitted message (routed, or on its `ROUTE`), or record the injected report.
async fn submitted(link: &Link, parsed: Submission) -> Result<Value, ErrorBody> {
    match parsed {
        Submission::Message { message, route } => {
            let accepted = match &route {
                Some(r) if link.gw.connector(r).is_none() => {
                    return Err(ErrorBody::not_found(format!(
                        "ROUTE: connector {r} does not exist"
                    )))
                }
                Some(r) => {
                    link.connector.pace().await;
                    link.gw.accept_via(*message, r).await
                }
                None => link.receive(*message).await,
            };
            match accepted {
                Ok(id) => Ok(json!({ "message_id": id })),
                Err(r) => {
                    link.log(format!("SUBMIT ERR (info=\"{r}\")"));
                    Err(reject_error(r))
                }
            }
        }
        Submission::Report { origid, status } => {
            match link.gw.inject_report(&origid, status).await {
                Ok(id) => Ok(json!({
                    "origid": origid,
                    "message_id": id,
                    "messagestate": state_name(status),
                })),
                Err(e @ InjectError::NotFound(_)) => Err(ErrorBody::not_found(e.to_string())),
                Err(e @ InjectError::NotInjectable { .. }) => {
                    Err(ErrorBody::refused(e.to_string()))
                }
                Err(e @ InjectError::NotStored(_)) => Err(ErrorBody::internal(e.to_string())),
            }
        }
    }
}

//! emgd's control plane as a [`Service`]: who may call what ([`required_role`]) and which
//! handler answers each operation.

use super::auth::Limiter;
use super::server::{OpResult, Server};
use super::session::{Service, Streams};
use super::{accounting, admin, browse, connectors, logs, msg, nodes, queue, stream};
use common::mgp::{ErrorBody, Op, Role};
use std::sync::Arc;
use tokio::sync::watch;

/// Which role an operation needs.
pub fn required_role(op: &Op) -> Role {
    match op {
        Op::Login { .. }
        | Op::LoginPeer
        | Op::Status
        | Op::Connectors
        | Op::Connector { .. }
        | Op::QueueList { .. }
        | Op::MsgShow { .. }
        | Op::MsgHistory { .. }
        | Op::MsgSearch { .. }
        | Op::QueueBrowse { .. }
        | Op::ConnectorStats { .. }
        | Op::Users
        | Op::Routes
        | Op::Nodes
        | Op::Tail { .. }
        | Op::Watch
        | Op::Stop { .. }
        | Op::Loglevel { level: None }
        | Op::Logs { .. }
        | Op::BalanceShow { .. }
        | Op::Report { .. }
        | Op::Ping => Role::Readonly,
        Op::Hold { .. }
        | Op::Release { .. }
        | Op::Bounce { .. }
        | Op::Forceclose { .. }
        | Op::ForcecloseClear { .. }
        | Op::QueueMove { .. }
        | Op::QueueClear { .. }
        | Op::MsgCancel { .. }
        | Op::MsgMove { .. }
        | Op::MsgResend { .. }
        | Op::Send { .. }
        | Op::DlrInject { .. }
        | Op::Submit { .. }
        | Op::Deliver { .. } => Role::Operator,
        Op::Reload
        | Op::BalanceAdd { .. }
        | Op::BalanceSet { .. }
        | Op::Loglevel { level: Some(_) }
        | Op::ServerStatus
        | Op::ServerStart
        | Op::ServerStop
        | Op::ServerRestart => Role::Admin,
    }
}

/// The error for an operation that exists in the protocol but is not emgd's control plane's to
/// answer (the watchdog's, or an application's on an incoming `mgp` connector).
fn not_here(op: &Op) -> Option<ErrorBody> {
    match op {
        Op::ServerStatus | Op::ServerStart | Op::ServerStop | Op::ServerRestart => {
            Some(ErrorBody::bad_request(format!(
                "{} is an operation of the watchdog (emgd watchdog), not of emgd",
                op.name()
            )))
        }
        Op::Submit { .. } | Op::Deliver { .. } | Op::Ping => Some(ErrorBody::bad_request(format!(
            "{} is an operation of applications on an incoming `mgp` connector, not of the \
             control listener (operators use `send`)",
            op.name()
        ))),
        _ => None,
    }
}

impl Service for Server {
    fn config(&self) -> Arc<config::Config> {
        self.gw.config()
    }

    fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.gw.shutdown_signal()
    }

    fn required_role(&self, op: &Op) -> Result<Role, ErrorBody> {
        match not_here(op) {
            Some(e) => Err(e),
            None => Ok(required_role(op)),
        }
    }

    async fn call(self: &Arc<Self>, op: Op, user: &str, streams: &mut Streams) -> OpResult {
        let s = &**self;
        match op {
            Op::Login { .. } | Op::LoginPeer | Op::Stop { .. } => {
                Err(ErrorBody::bad_request(format!(
                    "{} is answered by the session itself, not dispatched",
                    op.name()
                )))
            }
            Op::ServerStatus
            | Op::ServerStart
            | Op::ServerStop
            | Op::ServerRestart
            | Op::Submit { .. }
            | Op::Deliver { .. }
            | Op::Ping => Err(not_here(&op).unwrap_or_else(|| {
                ErrorBody::bad_request(format!("{} is not a control operation", op.name()))
            })),
            Op::Status => connectors::status(s),
            Op::Connectors => connectors::list(s).await,
            Op::Connector { name } => connectors::detail(s, &name),
            Op::Hold { name } => connectors::hold(s, user, &name, true).await,
            Op::Release { name } => connectors::hold(s, user, &name, false).await,
            Op::Bounce { name } => connectors::bounce(s, user, &name).await,
            Op::Forceclose { name, persist } => {
                connectors::forceclose(s, user, &name, persist).await
            }
            Op::ForcecloseClear { name } => connectors::forceclose_clear(s, user, &name).await,
            Op::QueueList { name, limit } => queue::list(s, name.as_deref(), limit),
            Op::QueueMove {
                from,
                to,
                dest_prefix,
            } => queue::move_queue(s, user, &from, &to, dest_prefix.as_deref()).await,
            Op::QueueClear { name } => queue::clear(s, user, &name).await,
            Op::MsgShow { id } => msg::show(s, id).await,
            Op::MsgCancel { id } => msg::cancel(s, user, id).await,
            Op::MsgMove { id, to } => msg::move_one(s, user, id, &to).await,
            Op::MsgResend { id, via } => msg::resend(s, user, id, via).await,
            Op::MsgHistory { id } => browse::history(s, id).await,
            Op::MsgSearch {
                message_id,
                source,
                dest,
                account,
                connector,
                since_us,
                until_us,
                before_id,
                limit,
            } => {
                let q = crate::store::Query {
                    id: message_id,
                    source,
                    dest,
                    account,
                    connector,
                    since_us,
                    until_us,
                    before_id,
                    ..Default::default()
                };
                browse::search(s, q, limit).await
            }
            Op::QueueBrowse {
                name,
                after_id,
                limit,
            } => browse::queue_browse(s, &name, after_id, limit).await,
            Op::ConnectorStats { name, since_s } => browse::stats(s, &name, since_s).await,
            Op::Users => browse::users(s),
            Op::Routes => browse::routes(s),
            Op::Nodes => nodes::list(s).await,
            Op::Send {
                to,
                from,
                text,
                via,
                dlr,
                options,
                account,
            } => {
                msg::send(
                    s,
                    user,
                    msg::Send {
                        to,
                        from,
                        text,
                        via,
                        dlr,
                        options,
                        account,
                    },
                )
                .await
            }
            Op::DlrInject { id, status } => msg::dlr_inject(s, user, id, &status).await,
            Op::Reload => admin::reload(s, user).await,
            Op::Loglevel { level } => logs::loglevel(user, level.as_deref()),
            Op::Logs {
                name,
                since_us,
                limit,
            } => {
                let logdir = s.gw.config().general.logdir.clone();
                streams.open(logs::history(&logdir, &name, since_us, limit)?)
            }
            Op::Tail { name, pdu, backlog } => {
                streams.open(stream::tail(s, name.as_deref(), pdu, backlog)?)
            }
            Op::Watch => streams.open(stream::watch(self)),
            Op::BalanceShow { account, history } => accounting::show(s, account, history).await,
            Op::BalanceAdd { account, amount } => {
                accounting::change(s, user, account, &amount, None).await
            }
            Op::BalanceSet {
                account,
                amount,
                postpaid_limit,
            } => accounting::change(s, user, account, &amount, Some(postpaid_limit)).await,
            Op::Report {
                account,
                from_us,
                to_us,
                by,
            } => accounting::report(s, account, from_us, to_us, by).await,
        }
    }
}

//! The outgoing queue of an incoming SMTP connector: the delivery reports for mails sent in
//! (and anything routed to the connector, such as a handset's reply), mailed to their
//! destination through `smtp_dlr_relay`, from `smtp_dlr_from`.
//!
//! One sender per connector, one relay session kept open between mails. What is mailed is the
//! OUT pipeline's copy; nothing is taken while the connector is held or receive-only (`mode`).
//! A mail the relay takes finishes the report; after a temporary failure it waits out a
//! backoff in the queue, in the operator's view (1 s, 2 s, 4 s ... at most 5 minutes), and it
//! is given up after [`MAX_ATTEMPTS`]; a permanent one fails it.
//! The report stays queued in the store all along, so a restart loses none. Without
//! `smtp_dlr_relay` no reports are asked for, and anything else routed here fails at once.

use super::convert::{mail_of, now_date};
use super::relay::{Relay, RelayError};
use crate::connector::runtime::state::{ConnectorHandle, Counters};
use crate::gateway::{history, stopped, Gateway};
use crate::store::{MessageState, Write};
use common::message::{Message, MsgType};
use std::sync::Arc;
use std::time::Duration;

/// Attempts before a report that cannot be mailed is given up.
pub const MAX_ATTEMPTS: u32 = 12;

/// Mail what is queued on `connector` until shutdown.
pub async fn run(gw: Arc<Gateway>, connector: Arc<ConnectorHandle>) {
    let mut shutdown = gw.shutdown_signal();
    let mut relay: Option<Relay> = None;
    loop {
        // Held, or receive-only (`mode`: nothing goes back to the mail senders): nothing is
        // taken; look again shortly (the queue keeps what waits, and a reload may change both).
        if connector.held() || connector.config().mode == config::Mode::ReceiveOnly {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = stopped(&mut shutdown) => break,
            }
            continue;
        }
        let batch = connector.queue.take_any(100);
        if batch.is_empty() {
            tokio::select! {
                _ = connector.queue.wait_any() => {}
                _ = stopped(&mut shutdown) => break,
                _ = tokio::time::sleep(Duration::from_secs(30)), if relay.is_some() => {
                    // Idle: close the session rather than let the relay time it out.
                    if let Some(r) = relay.take() {
                        r.quit().await;
                    }
                }
            }
            continue;
        }
        for m in batch {
            mail_one(&gw, &connector, &mut relay, m).await;
        }
    }
    if let Some(r) = relay {
        r.quit().await;
    }
}

async fn mail_one(
    gw: &Arc<Gateway>,
    connector: &Arc<ConnectorHandle>,
    relay: &mut Option<Relay>,
    m: Message,
) {
    let cfg = connector.config();
    let Some(address) = cfg.smtp.dlr_relay.clone() else {
        return finish(
            gw,
            connector,
            m,
            Err("the connector has no smtp_dlr_relay to mail it through".into()),
            0,
        )
        .await;
    };
    // The OUT pipeline's copy (mapping, rewriting, masquerade, SAT pools, the plugins'
    // `before_send`) is what is mailed, as on every path a message leaves by; the queued
    // message stays as it is.
    let wire = match gw.outbound(connector, &m) {
        Ok(wire) => wire,
        Err(refusal) => return gw.refused_on_send(connector, m, refusal).await,
    };
    let mut sender_cfg = (*cfg).clone();
    let from = cfg
        .smtp
        .dlr_from
        .clone()
        .unwrap_or_else(|| format!("postmaster@{}", cfg.smtp.hostname));
    let mail = match mail_of(&sender_cfg, &wire, &now_date(), Some(&from)) {
        Ok(mail) => mail,
        Err(why) => return finish(gw, connector, m, Err(why), 554).await,
    };
    // The relay of the reports, without the incoming side's STARTTLS certificate rules.
    sender_cfg.smtp.tls_ca = None;
    let tls = match super::tls::connector(&sender_cfg) {
        Ok(t) => t,
        Err(e) => return finish(gw, connector, m, Err(format!("{e:#}")), 0).await,
    };
    let mut result = Err(RelayError::Io("not sent".into()));
    for _fresh in 0..2 {
        if relay.is_none() {
            let t = super::outgoing::target(&sender_cfg, &address, &tls);
            match Relay::open(&t).await {
                Ok(r) => *relay = Some(r),
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let Some(r) = relay.as_mut() else { break };
        result = r.send(mail.clone()).await;
        match &result {
            Ok(_) => break,
            Err(RelayError::Io(_)) | Err(RelayError::Timeout(_)) => *relay = None,
            Err(_) => {
                *relay = None;
                break;
            }
        }
    }
    let outcome = match result {
        Ok(o) => match o.results().into_iter().next().map(|(_, r)| r) {
            Some(Ok(())) => Ok(()),
            Some(Err(reply)) if reply.is_permanent() => {
                Err((false, reply.to_string(), u32::from(reply.code)))
            }
            Some(Err(reply)) => Err((true, reply.to_string(), u32::from(reply.code))),
            None => Err((false, "no recipient".to_string(), 554)),
        },
        Err(e) => match e.fails_the_message() {
            Some(code) => Err((false, e.to_string(), code)),
            None => Err((true, e.to_string(), super::outgoing::CONNECT_ERROR)),
        },
    };
    match outcome {
        Ok(()) => finish(gw, connector, m, Ok(()), 0).await,
        Err((true, why, _)) if m.attempts + 1 < MAX_ATTEMPTS => {
            gw.logs.connector(
                &connector.name,
                0,
                format!(
                    "SUBMIT ERR (info=\"report {} to {}: {}, will retry\")",
                    m.id,
                    m.dest.addr,
                    why.trim_end()
                ),
            );
            retry(gw, connector, m).await;
        }
        Err((_, why, code)) => {
            finish(gw, connector, m, Err(why.trim_end().to_string()), code).await
        }
    }
}

/// Records what became of `m`: a report is finished here, anything else through the gateway
/// (its own report, if its sender wants one).
async fn finish(
    gw: &Arc<Gateway>,
    connector: &Arc<ConnectorHandle>,
    m: Message,
    result: Result<(), String>,
    code: u32,
) {
    let (id, dest) = (m.id, m.dest.addr.clone());
    match (&result, m.msgtype) {
        (Ok(()), MsgType::Dlr) => {
            let step = history::attempt(&connector.name, None, &m, history::OK, 0, None);
            let w = Write::finish(m, MessageState::Done, "DELIVERED", None);
            if let Err(e) = gw.store.commit(vec![w, step]).await {
                tracing::error!(
                    "connector {}: cannot record mailed report: {e}",
                    connector.name
                );
            }
            Counters::add(&connector.counters.sent);
            connector.queue.finished();
        }
        (Err(why), MsgType::Dlr) => {
            let step = history::attempt(&connector.name, None, &m, history::FAILED, code, None);
            let w = Write::finish(
                m,
                MessageState::Failed,
                "UNDELIV",
                Some(format!("report mail failed: {why}")),
            );
            if let Err(e) = gw.store.commit(vec![w, step]).await {
                tracing::error!(
                    "connector {}: cannot record failed report: {e}",
                    connector.name
                );
            }
            Counters::add(&connector.counters.failed);
            connector.queue.finished();
        }
        (Ok(()), _) => gw.sent(connector, None, m, None).await,
        (Err(_), _) => {
            gw.failed(connector, None, m, super::outgoing::SMTP_COMMAND, code)
                .await
        }
    }
    match result {
        Ok(()) => gw.logs.connector(
            &connector.name,
            0,
            format!("SUBMIT OK (id={id}, info=\"mailed to {dest}\")"),
        ),
        Err(why) => gw.logs.connector(
            &connector.name,
            0,
            format!("SUBMIT ERR (info=\"{id} to {dest}: {why}\")"),
        ),
    }
}

/// A temporary failure: stored with one attempt more, back in the queue after the backoff.
/// It waits the backoff in the queue, in view of `queue list`, `queue move`, `queue clear` and
/// `msg cancel`.
async fn retry(gw: &Arc<Gateway>, connector: &Arc<ConnectorHandle>, mut m: Message) {
    let delay = Duration::from_secs((1u64 << m.attempts.min(8)).min(300));
    m.attempts += 1;
    if let Err(e) = gw.store.commit(vec![Write::requeue(&m)]).await {
        tracing::error!(
            "connector {}: cannot record a report attempt: {e}",
            connector.name
        );
    }
    connector.queue.defer(m, delay);
}

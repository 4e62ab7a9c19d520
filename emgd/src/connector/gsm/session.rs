//! The task that owns the modem: opens and sets it up, sends what the runtime hands it, polls
//! its memory every `gsm_poll` seconds (and reads at once what `+CMTI` announces), passes
//! `+CDS` status reports on, and when the line fails (an error, no answer within
//! `gsm_timeout`, the tty closing) closes it and opens it again.
//!
//! A stored message is deleted from the modem only after `Link::receive` resolved, that is
//! after the store committed it; a crash in between leaves it on the modem, to be read and
//! routed again after the restart: received at least once, never lost.

use super::convert::{message_of_deliver, remote_id, report_id, submits};
use super::modem::{Modem, Stored};
use super::ModemError;
use crate::connector::runtime::calls::{CallOutcome, Line};
use crate::connector::runtime::link::Link;
use crate::connector::runtime::retry::Retry;
use crate::connector::runtime::state::ConnState;
use crate::gateway::stopped;
use common::at::{Event, Final};
use common::message::{Message, MessageId};
use common::sms_pdu::{decode_with_sca, encode_with_sca, Direction, StatusReport, Tpdu};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// The retry scheme's command number for a GSM send (its errors are `+CMS ERROR` codes, or
/// errnos when the line failed).
pub const GSM_COMMAND: u32 = 0;

/// How long a line that failed stays closed before it is opened again.
const REOPEN_AFTER: Duration = Duration::from_secs(2);

/// One message to send, and where its outcome goes.
pub struct Send {
    pub wire: Message,
    pub outcome: oneshot::Sender<CallOutcome>,
}

/// `+CMS ERROR` codes that say "not now" rather than "not this message" (TS 27.005 §3.2.5,
/// TS 24.011 causes): network trouble, memory full, busy. Everything else fails the message
/// unless a retry-scheme message rule says otherwise.
fn is_temporary_cms(code: u32) -> bool {
    matches!(
        code,
        17 | 22 | 38 | 41 | 42 | 47 | 322 | 331 | 332 | 500 | 512..=515
    )
}

/// Runs the modem until shutdown, telling the runtime through `line` whether it is up: a
/// modem that cannot be opened or set up backs off as the retry scheme's connector rule says
/// (IDLE between attempts, ERROR after a round), so a dead modem shows ERROR even with an
/// empty queue.
pub async fn run(link: Link, mut sends: mpsc::Receiver<Send>, line: watch::Sender<Line>) {
    let mut shutdown = link.shutdown_signal();
    let mut reference: u16 = (crate::clock::now_us() as u16) | 1;
    let mut retry = Retry::default();
    let mut resume = Resume::default();
    loop {
        let cfg = link.config();
        let opened = match Modem::open(&cfg) {
            Ok(mut m) => match m.set_up(&cfg, &link).await {
                Ok(()) => Ok(m),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let mut modem = match opened {
            Ok(m) => m,
            Err(e) => {
                link.log(format!("CONNECT ERR (info=\"{}\")", e.errno()));
                tracing::debug!("connector {}: {e}", link.name());
                let (state, wait) = retry.failed(&link, GSM_COMMAND, e.errno(), "connects");
                line.send_replace(Line::Down { state });
                let until = tokio::time::sleep(wait);
                tokio::pin!(until);
                loop {
                    tokio::select! {
                        _ = &mut until => break,
                        _ = stopped(&mut shutdown) => return,
                        s = sends.recv() => match s {
                            None => return,
                            Some(s) => {
                                let _ = s.outcome.send(CallOutcome::Temporary {
                                    command: GSM_COMMAND,
                                    error: e.errno(),
                                });
                            }
                        },
                    }
                }
                continue;
            }
        };
        retry.succeeded();
        line.send_replace(Line::Up);
        link.log(format!(
            "CONNECT OK (info=\"{}\")",
            cfg.address.as_deref().unwrap_or_default()
        ));
        let polls = link.may_receive();
        let mut poll = tokio::time::interval(Duration::from_secs(cfg.gsm.poll));
        let why = loop {
            let step = tokio::select! {
                _ = stopped(&mut shutdown) => return,
                s = sends.recv() => match s {
                    None => return,
                    Some(s) => {
                        reference = reference.wrapping_add(1);
                        send(&mut modem, &link, s, reference, &mut resume).await
                    }
                },
                _ = poll.tick(), if polls => read_stored(&mut modem, &link).await,
                r = modem.idle_read(&link) => r,
            };
            let step = match step {
                Ok(()) => unsolicited(&mut modem, &link).await,
                e => e,
            };
            let step = match step {
                Ok(()) if modem.was_reset => {
                    link.log("ERROR (info=\"the modem restarted: setting it up again\")");
                    modem.set_up(&link.config(), &link).await
                }
                s => s,
            };
            if let Err(e) = step {
                break e;
            }
        };
        link.log(format!("DISCONNECT (info=\"{why}\")"));
        line.send_replace(Line::Down {
            state: ConnState::Idle,
        });
        tokio::select! {
            _ = tokio::time::sleep(REOPEN_AFTER) => {}
            _ = stopped(&mut shutdown) => return,
        }
    }
}

/// Parts of long messages the modem already took, by message: a message put back after a
/// later part failed is sent on from that part, with the same concatenation reference, so
/// the handset can still join it and no part goes twice. Kept in memory only: after a
/// restart such a message is sent from its first part again.
#[derive(Default)]
struct Resume {
    taken: HashMap<MessageId, Taken>,
}

struct Taken {
    reference: u16,
    parts: usize,
    last_mr: Option<(String, u8)>,
}

/// More half-sent messages than this (each waiting for a retry) and the oldest knowledge is
/// dropped rather than grown without bound.
const RESUME_LIMIT: usize = 10_000;

/// Sends the parts of one message not yet taken; the outcome goes back to the runtime. An
/// error of the line is returned (the session starts over) after the message was put back.
async fn send(
    modem: &mut Modem,
    link: &Link,
    s: Send,
    fresh_reference: u16,
    resume: &mut Resume,
) -> Result<(), ModemError> {
    let Send { wire, outcome } = s;
    let mut taken = resume.taken.remove(&wire.id).unwrap_or(Taken {
        reference: fresh_reference,
        parts: 0,
        last_mr: None,
    });
    let refuse = |e: &dyn std::fmt::Display, outcome: oneshot::Sender<CallOutcome>| {
        link.log(format!("SUBMIT ERR (info=\"message {}: {e}\")", wire.id));
        let _ = outcome.send(CallOutcome::Refused {
            command: GSM_COMMAND,
            error: 304,
        });
    };
    let parts = match submits(&wire, taken.reference) {
        Ok(p) => p,
        Err(e) => {
            refuse(&e, outcome);
            return Ok(());
        }
    };
    let nosca = link.config().gsm.nosca;
    let count = parts.len();
    if taken.parts > 0 {
        link.log(format!(
            "SUBMIT (info=\"message {} goes on from part {} of {count}\")",
            wire.id,
            taken.parts + 1
        ));
    }
    for part in parts.into_iter().skip(taken.parts) {
        let recipient = part.dest.addr.clone();
        let tpdu = Tpdu::Submit(part);
        let (pdu, len) = match encode_with_sca(None, &tpdu) {
            Ok(p) => p,
            Err(e) => {
                refuse(&e, outcome);
                return Ok(());
            }
        };
        let pdu = if nosca { &pdu[1..] } else { &pdu[..] };
        let failed = match modem.submit(pdu, len, link).await {
            Ok(mr) => {
                taken.parts += 1;
                taken.last_mr = Some((recipient, mr));
                continue;
            }
            // A plain ERROR is the modem's trouble (reset to text mode, confused), not the
            // message's: it goes back and the session sets the modem up again, below.
            Err(ModemError::Refused(_, f @ Final::CmsError(_))) => {
                let error = super::modem::error_number(&f);
                link.log(format!(
                    "SUBMIT ERR (info=\"message {} part {} of {count}: +CMS ERROR {error}\")",
                    wire.id,
                    taken.parts + 1
                ));
                if is_temporary_cms(error) {
                    (
                        CallOutcome::Temporary {
                            command: GSM_COMMAND,
                            error,
                        },
                        None,
                    )
                } else {
                    (
                        CallOutcome::Refused {
                            command: GSM_COMMAND,
                            error,
                        },
                        None,
                    )
                }
            }
            Err(e) => {
                link.log(format!("SUBMIT ERR (info=\"message {}: {e}\")", wire.id));
                let error = e.errno();
                (
                    CallOutcome::Temporary {
                        command: GSM_COMMAND,
                        error,
                    },
                    Some(e),
                )
            }
        };
        let (o, line_error) = failed;
        if matches!(o, CallOutcome::Temporary { .. }) && taken.parts > 0 {
            if resume.taken.len() >= RESUME_LIMIT {
                resume.taken.clear();
            }
            resume.taken.insert(wire.id, taken);
        }
        let _ = outcome.send(o);
        return line_error.map_or(Ok(()), Err);
    }
    let remote = taken.last_mr.map(|(to, mr)| remote_id(&to, mr));
    link.log(format!(
        "SUBMIT OK (info=\"message {} as {}\")",
        wire.id,
        remote.as_deref().unwrap_or("-")
    ));
    let _ = outcome.send(CallOutcome::Sent {
        remote_id: remote,
        delivered: false,
    });
    Ok(())
}

/// Every message in the modem's memory, routed (or matched, for a status report) and then
/// deleted.
async fn read_stored(modem: &mut Modem, link: &Link) -> Result<(), ModemError> {
    for stored in modem.list(link).await? {
        take(modem, link, stored).await?;
    }
    Ok(())
}

/// What arrived unasked while the session was busy or idle.
async fn unsolicited(modem: &mut Modem, link: &Link) -> Result<(), ModemError> {
    while !modem.unsolicited.is_empty() {
        for e in std::mem::take(&mut modem.unsolicited) {
            match e {
                Event::Stored { index, .. } | Event::ReportStored { index, .. }
                    if link.may_receive() =>
                {
                    if let Some(stored) = modem.read(index, link).await? {
                        take(modem, link, stored).await?;
                    }
                }
                Event::StatusReport { pdu, .. } => match decode_with_sca(&pdu, Direction::ToMs) {
                    Ok((_, Tpdu::StatusReport(r))) => report(link, &r).await,
                    other => bad_pdu(link, &pdu, other.err()),
                },
                Event::Delivered { pdu, .. } => {
                    // +CMT is acknowledged by nobody in this mode and cannot be read again:
                    // routed as any MO, at most once.
                    if let Ok((_, Tpdu::Deliver(d))) = decode_with_sca(&pdu, Direction::ToMs) {
                        let cfg = link.config();
                        let m = message_of_deliver(&d, link.name(), cfg.gsm.destaddr.as_deref());
                        if let Err(r) = link.receive(m).await {
                            link.log(format!("DELIVER ERR (info=\"{r:?}\")"));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn bad_pdu(link: &Link, pdu: &[u8], e: Option<common::sms_pdu::PduError>) {
    let why = e.map_or("not a status report".to_string(), |e| e.to_string());
    link.log(format!(
        "PDU ERR (info=\"{why}: {}\")",
        common::sms_pdu::to_hex(pdu)
    ));
}

async fn report(link: &Link, r: &StatusReport) {
    let id = report_id(r);
    let matched = link.receipt(&id, r.dlr_status(), u32::from(r.status)).await;
    link.log(format!(
        "DLR {} (info=\"{id} status {}\")",
        if matched { "OK" } else { "PARKED" },
        r.status
    ));
}

/// One stored message: routed or matched, then deleted from the modem once that is durable.
/// One the gateway refused for good (no route, blacklisted, a plugin's permanent refusal) or
/// that cannot be decoded is logged with its PDU and deleted, so that it is not read again at
/// every poll; one refused for now (store or queue trouble) stays, to be read again.
async fn take(modem: &mut Modem, link: &Link, stored: Stored) -> Result<(), ModemError> {
    match decode_with_sca(&stored.pdu, Direction::ToMs) {
        Ok((_, Tpdu::Deliver(d))) => {
            let cfg = link.config();
            let m = message_of_deliver(&d, link.name(), cfg.gsm.destaddr.as_deref());
            match link.receive(m).await {
                Ok(id) => {
                    link.log(format!(
                        "DELIVER OK (info=\"index {} as message {id}\")",
                        stored.index
                    ));
                    modem.delete(stored.index, link).await?;
                }
                Err(r) if r.is_temporary() => link.log(format!(
                    "DELIVER ERR (info=\"index {} kept on the modem: {r}\")",
                    stored.index
                )),
                Err(r) => {
                    link.log(format!(
                        "DELIVER ERR (info=\"index {} refused, deleted from the modem: {r}; pdu {}\")",
                        stored.index,
                        common::sms_pdu::to_hex(&stored.pdu)
                    ));
                    modem.delete(stored.index, link).await?;
                }
            }
        }
        Ok((_, Tpdu::StatusReport(r))) => {
            report(link, &r).await;
            modem.delete(stored.index, link).await?;
        }
        // A message someone stored for sending: not ours to take.
        Ok((_, Tpdu::Submit(_))) => {}
        Err(e) => {
            link.log(format!(
                "PDU ERR (info=\"index {} undecodable, deleted from the modem: {e}; pdu {}\")",
                stored.index,
                common::sms_pdu::to_hex(&stored.pdu)
            ));
            modem.delete(stored.index, link).await?;
        }
    }
    Ok(())
}

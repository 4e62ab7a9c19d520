//! The incoming SMPP requests besides submit_sm and data_sm: submit_multi, query_sm,
//! cancel_sm and replace_sm. Each is answered by one response PDU; a client may only query,
//! cancel or replace messages it sent itself on this connector.

use super::convert::{address, reject_status, report_mask, wants_reports, with_report_mask};
use crate::connector::runtime::link::Link;
use crate::gateway::{Gateway, QueuedError};
use crate::store::MessageState;
use common::dlr::DlrStatus;
use common::message::{Message, MessageId, Origin};
use common::smpp::{
    command, parse_time, status, Body, MultiDest, Pdu, ReplaceSm, SmppAddr, SubmitMulti,
    UnsuccessSme,
};

/// Who is asking: the bound user on this connector.
pub struct Asker {
    pub connector: String,
    pub user: String,
    pub account: String,
}

impl Asker {
    fn owns(&self, m: &Message) -> bool {
        m.origin.connector == self.connector && m.origin.user.as_deref() == Some(&self.user)
    }

    fn origin(&self) -> Origin {
        Origin {
            connector: self.connector.clone(),
            user: Some(self.user.clone()),
            account: Some(self.account.clone()),
            ..Default::default()
        }
    }
}

fn answer(request: &Pdu, code: u32, body: Body) -> Pdu {
    Pdu {
        command_id: request.command_id | command::RESPONSE_BIT,
        status: code,
        sequence: request.sequence,
        body: if code == status::ESME_ROK {
            body
        } else {
            Body::Empty
        },
    }
}

fn our_id(s: &str) -> Option<MessageId> {
    s.trim().parse().ok()
}

/// query_sm: the message's state and, once final, when it became so.
pub async fn query(gw: &Gateway, asker: &Asker, request: &Pdu) -> Pdu {
    let Body::QuerySm { message_id, .. } = &request.body else {
        return answer(request, status::ESME_RSYSERR, Body::Empty);
    };
    let stored = match our_id(message_id) {
        Some(id) => gw.store.message(id).await.ok().flatten(),
        None => None,
    };
    let Some(stored) = stored.filter(|s| asker.owns(&s.message)) else {
        return answer(request, status::ESME_RQUERYFAIL, Body::Empty);
    };
    let state = message_state(stored.state, stored.status.as_deref());
    let final_date = if matches!(
        stored.state,
        MessageState::Done | MessageState::Failed | MessageState::Cancelled
    ) {
        smpp_time(stored.updated_us)
    } else {
        String::new()
    };
    answer(
        request,
        status::ESME_ROK,
        Body::QuerySmResp {
            message_id: message_id.clone(),
            final_date,
            message_state: state,
            error_code: 0,
        },
    )
}

/// SMPP message_state (3.4 §5.2.28) for a stored state and its routelog status word.
fn message_state(state: MessageState, word: Option<&str>) -> u8 {
    let by_word = || {
        word.and_then(|w| DlrStatus::ALL.into_iter().find(|s| s.stat_word() == w))
            .map(|s| s.message_state())
    };
    match state {
        MessageState::Queued | MessageState::Submitting | MessageState::Sent => {
            DlrStatus::Enroute.message_state()
        }
        MessageState::Done => DlrStatus::Delivered.message_state(),
        MessageState::Failed => by_word().unwrap_or(DlrStatus::Undeliverable.message_state()),
        MessageState::Cancelled => DlrStatus::Deleted.message_state(),
    }
}

/// An absolute SMPP time in UTC: YYMMDDhhmmss, tenths, and "00+".
fn smpp_time(us: i64) -> String {
    use chrono::TimeZone;
    chrono::Utc
        .timestamp_micros(us)
        .single()
        .map(|t| format!("{}000+", t.format("%y%m%d%H%M%S")))
        .unwrap_or_default()
}

/// cancel_sm: cancel a message of ours still in the queue.
pub async fn cancel(gw: &Gateway, asker: &Asker, request: &Pdu) -> Pdu {
    let Body::CancelSm { message_id, .. } = &request.body else {
        return answer(request, status::ESME_RSYSERR, Body::Empty);
    };
    let Some(id) = our_id(message_id) else {
        return answer(request, status::ESME_RCANCELFAIL, Body::Empty);
    };
    let why = format!("cancelled by {} with cancel_sm", asker.user);
    match gw.cancel_queued(id, why, |m| asker.owns(m)).await {
        Ok(_) => answer(request, status::ESME_ROK, Body::Empty),
        Err(e) => {
            tracing::debug!("cancel_sm {id}: {e}");
            answer(request, status::ESME_RCANCELFAIL, Body::Empty)
        }
    }
}

/// replace_sm: new text (and validity, receipt request) for a message of ours still queued.
pub async fn replace(gw: &Gateway, asker: &Asker, request: &Pdu) -> Pdu {
    let Body::ReplaceSm(r) = &request.body else {
        return answer(request, status::ESME_RSYSERR, Body::Empty);
    };
    let Some(id) = our_id(&r.message_id) else {
        return answer(request, status::ESME_RREPLACEFAIL, Body::Empty);
    };
    let expires = match parse_time(&r.validity_period, crate::clock::now_us()) {
        Ok(t) => t,
        Err(_) => return answer(request, status::ESME_RINVEXPIRY, Body::Empty),
    };
    let edit = |m: &mut Message| apply_replace(m, r, expires);
    match gw.replace_queued(id, |m| asker.owns(m), edit).await {
        Ok(()) => answer(request, status::ESME_ROK, Body::Empty),
        Err(QueuedError::Store(_)) => answer(request, status::ESME_RMSGQFUL, Body::Empty),
        Err(e) => {
            tracing::debug!("replace_sm {id}: {e}");
            answer(request, status::ESME_RREPLACEFAIL, Body::Empty)
        }
    }
}

fn apply_replace(m: &mut Message, r: &ReplaceSm, expires: Option<i64>) {
    m.body = common::smpp::tlv::find(&r.tlvs, common::smpp::tlv::MESSAGE_PAYLOAD)
        .filter(|_| r.short_message.is_empty())
        .map(|t| t.value.to_vec())
        .unwrap_or_else(|| r.short_message.to_vec());
    m.dlr_requested = wants_reports(r.registered_delivery);
    m.origin.callback_mask = report_mask(r.registered_delivery);
    if expires.is_some() {
        m.expires_us = expires;
    }
}

/// submit_multi: one message per SME destination, each stored before the answer. The
/// response carries the first message's id, and every receipt reports that id, so the client
/// matches them as it would for one submit. Destinations refused are listed as unsuccessful;
/// distribution lists are the SMSC's own and we keep none. Each destination's message is
/// received as a submit_sm's is ([`Link::receive`]): refused on a transmit-only connector,
/// paced by the connector's `throughput`.
pub async fn submit_multi(link: &Link, asker: &Asker, request: &Pdu) -> Pdu {
    let Body::SubmitMulti(sm) = &request.body else {
        return answer(request, status::ESME_RSYSERR, Body::Empty);
    };
    if sm.dests.is_empty() {
        return answer(request, status::ESME_RINVNUMDESTS, Body::Empty);
    }
    let expires = match parse_time(&sm.validity_period, crate::clock::now_us()) {
        Ok(t) => t,
        Err(_) => return answer(request, status::ESME_RINVEXPIRY, Body::Empty),
    };
    let mut first: Option<MessageId> = None;
    let mut unsuccess = Vec::new();
    for dest in &sm.dests {
        let addr = match dest {
            MultiDest::Sme(a) => a,
            MultiDest::DistributionList(name) => {
                unsuccess.push(UnsuccessSme {
                    addr: SmppAddr::new(0, 0, name.clone()),
                    error_status: status::ESME_RINVDLNAME,
                });
                continue;
            }
        };
        let mut m = message_for(sm, addr, asker.origin());
        m.expires_us = expires;
        m.origin.client_ref = first.map(|id| id.to_string());
        match link.receive(m).await {
            Ok(id) => {
                first.get_or_insert(id);
            }
            Err(reject) => unsuccess.push(UnsuccessSme {
                addr: addr.clone(),
                error_status: reject_status(&reject),
            }),
        }
    }
    match first {
        Some(id) => answer(
            request,
            status::ESME_ROK,
            Body::SubmitMultiResp {
                message_id: id.to_string(),
                unsuccess,
                tlvs: vec![],
            },
        ),
        // Nothing accepted: the first refusal is the answer.
        None => answer(
            request,
            unsuccess
                .first()
                .map_or(status::ESME_RSUBMITFAIL, |u| u.error_status),
            Body::Empty,
        ),
    }
}

fn message_for(sm: &SubmitMulti, dest: &SmppAddr, origin: Origin) -> Message {
    Message {
        source: address(&sm.source),
        dest: address(dest),
        data_coding: sm.data_coding,
        esm_class: sm.esm_class,
        protocol_id: sm.protocol_id,
        priority: sm.priority_flag,
        body: sm.payload().to_vec(),
        dlr_requested: wants_reports(sm.registered_delivery),
        origin: with_report_mask(origin, sm.registered_delivery),
        tlvs: super::passthrough::kept(&sm.tlvs),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_states_read_as_smpp_message_states() {
        let cases: &[(MessageState, Option<&str>, u8)] = &[
            (MessageState::Queued, None, 1),
            (MessageState::Submitting, None, 1),
            (MessageState::Sent, Some("SENT"), 1),
            (MessageState::Done, Some("DELIVRD"), 2),
            (MessageState::Failed, Some("EXPIRED"), 3),
            (MessageState::Failed, Some("UNDELIV"), 5),
            (MessageState::Failed, Some("REJECTD"), 8),
            (MessageState::Failed, Some("0x00000058"), 5),
            (MessageState::Cancelled, Some("CANCELLED"), 4),
        ];
        for (state, word, want) in cases {
            assert_eq!(message_state(*state, *word), *want, "{state:?} {word:?}");
        }
    }

    #[test]
    fn final_dates_are_absolute_utc_times() {
        // 2026-11-23 12:00:00.5 UTC
        assert_eq!(smpp_time(1_795_435_200_500_000), "261123120000000+");
        assert_eq!(
            parse_time(&smpp_time(1_795_435_200_000_000), 0),
            Ok(Some(1_795_435_200_000_000))
        );
    }
}

//! Messages leaving on one session, from the queue to their recorded outcome.
//!
//! 1. **Take** ([`Takes`]): wait while the connector is held, then take what this session may
//!    send: on an outgoing connector the parts of a long message stay on the session that took
//!    the first (`Queue::take_on`); on an incoming one only what is for the bound user.
//! 2. **Stage** ([`Outbox::stage`]): a message whose validity ended fails as EXPIRED without
//!    being sent; an outgoing connector records `Submitting` before any byte of the batch
//!    leaves, so a crash in between is known for what it is.
//! 3. **Plan** ([`Outbox::plan`]): the driver turns the OUT pipeline's copy into its requests
//!    (one per part of a long message), which wait in order in the backlog.
//! 4. **Answer** ([`Outbox::answered`]): once every request written for a message is answered,
//!    the outcome is recorded: sent (with the remote ids its receipts will name), refused
//!    (the retry scheme decides), or put back when the peer could not take it now.
//! 5. **Close** ([`Outbox::close`]): what has no answer when the session ends goes back to
//!    the head of the queue, in the order it was accepted.

use super::link::Link;
use super::tracker::Tracker;
use crate::connector::runtime::state::ConnectorHandle;
use crate::gateway::Gateway;
use common::message::{Message, MessageId};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::{JoinError, JoinHandle};

/// What the peer said to a request that carried (a part of) a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Taken; with the id the peer's receipts will name, when it gave one.
    Accepted(Option<String>),
    /// Refused with `error` for `command`: the retry scheme's message rules decide.
    Refused { command: u32, error: u32 },
    /// Not taken now, for no reason of the message's (SMPP generic_nack): it goes back to the
    /// queue as it is.
    Unsent,
}

/// Which messages of the connector's queue a session takes.
#[derive(Debug, Clone)]
pub enum Taker {
    /// An outgoing session: anything, parts of a long message on the session of the first.
    Instance(u32),
    /// An incoming session: messages for no user in particular, or for this one.
    User(Option<String>),
}

/// The queue end of an outbox, borrowed apart from the rest in a session's `select!`.
pub struct Takes {
    gw: Arc<Gateway>,
    connector: Arc<ConnectorHandle>,
    /// The session's instance (an incoming session's receipt policy asks which it is).
    instance: u32,
    pub by: Taker,
}

impl Takes {
    /// What an outgoing instance takes.
    pub fn for_instance(link: &Link) -> Takes {
        Takes {
            gw: link.gw.clone(),
            connector: link.connector.clone(),
            instance: link.instance,
            by: Taker::Instance(link.instance),
        }
    }

    /// How long the parts of a long message stay with the session that took the first (CMR).
    fn cmr_ttl(&self) -> Duration {
        Duration::from_secs(self.gw.config().general.cmrexpire)
    }

    /// Wait while the connector is held, then take the next message this session may send.
    pub async fn next(&self) -> Message {
        match &self.by {
            Taker::Instance(i) => self.connector.next_unheld_on(*i, self.cmr_ttl()).await,
            Taker::User(u) => {
                self.connector
                    .next_unheld(u.as_deref(), self.instance)
                    .await
            }
        }
    }

    /// Up to `room` more messages that are ready now, unless the connector got held.
    pub fn more(&self, room: usize) -> Vec<Message> {
        let mut batch = Vec::new();
        if room == 0 {
            return batch;
        }
        let ttl = match self.by {
            Taker::Instance(_) => self.cmr_ttl(),
            Taker::User(_) => Duration::ZERO,
        };
        let pick = |m: &Message| self.connector.may_take_on(self.instance, m);
        while batch.len() < room && !self.connector.held() {
            let m = match &self.by {
                Taker::Instance(i) => self.connector.queue.take_on(*i, ttl),
                Taker::User(u) => self.connector.queue.take_for(u.as_deref(), &pick),
            };
            match m {
                Some(m) => batch.push(m),
                None => break,
            }
        }
        batch
    }
}

/// A message whose requests are being written and answered.
struct InFlight {
    message: Message,
    /// Each part's remote id, in part order, once answered.
    remote_ids: Vec<Option<String>>,
    /// Requests not answered yet (written or still in the backlog).
    unanswered: usize,
    /// The first refusal a part got (or `Unsent`); later parts are not sent.
    failure: Option<Answer>,
}

/// Batches whose `Submitting` record is being committed, oldest first.
pub type Staging = VecDeque<JoinHandle<(bool, Vec<Message>)>>;

pub struct Outbox<P> {
    link: Link,
    pub takes: Takes,
    /// Record `Submitting` before sending (outgoing connectors).
    record_submitting: bool,
    pub staging: Staging,
    /// How many messages `staging` holds.
    staged: usize,
    /// Requests planned and not yet written, in order: (message, part index, part).
    backlog: VecDeque<(MessageId, usize, P)>,
    /// Messages with requests written or waiting in `backlog`.
    inflight: HashMap<MessageId, InFlight>,
    /// The tasks recording outcomes.
    outcomes: Tracker,
}

impl<P: Send + 'static> Outbox<P> {
    pub fn new(link: Link, by: Taker, record_submitting: bool) -> Outbox<P> {
        Outbox {
            takes: Takes {
                gw: link.gw.clone(),
                connector: link.connector.clone(),
                instance: link.instance,
                by,
            },
            link,
            record_submitting,
            staging: VecDeque::new(),
            staged: 0,
            backlog: VecDeque::new(),
            inflight: HashMap::new(),
            outcomes: Tracker::default(),
        }
    }

    /// Tell the connector how many messages this session has awaiting their answer.
    fn report_inflight(&self) {
        self.link
            .connector
            .set_inflight(self.link.instance, self.inflight.len());
    }

    /// Messages taken and not yet planned (their `Submitting` record is being committed).
    pub fn staged(&self) -> usize {
        self.staged
    }

    /// Whether requests wait to be written.
    pub fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// Nothing taken is waiting for anything.
    pub fn is_idle(&self) -> bool {
        self.staged == 0 && self.inflight.is_empty()
    }

    /// Take `batch` on: expired messages fail here; the rest are returned ready to plan, or,
    /// on a connector that records `Submitting`, come back from [`first_staged`] once that is
    /// committed.
    pub fn stage(&mut self, batch: Vec<Message>) -> Vec<Message> {
        let now = crate::clock::now_us();
        let (expired, batch): (Vec<Message>, Vec<Message>) = batch
            .into_iter()
            .partition(|m| m.expires_us.is_some_and(|t| t <= now));
        // Scheduled for later (loaded back from the store after a restart): wait in the queue.
        let (later, batch): (Vec<Message>, Vec<Message>) = batch
            .into_iter()
            .partition(|m| m.wait_before_sending(now).is_some());
        for m in later {
            if let Some(wait) = m.wait_before_sending(now) {
                self.link.connector.queue.defer(m, wait);
            }
        }
        for m in expired {
            let (gw, connector) = (self.link.gw.clone(), self.link.connector.clone());
            self.outcomes.spawn(async move {
                gw.expired(&connector, m).await;
            });
        }
        if batch.is_empty() || !self.record_submitting {
            return batch;
        }
        self.staged += batch.len();
        let (gw, connector) = (self.link.gw.clone(), self.link.connector.clone());
        self.staging.push_back(tokio::spawn(async move {
            let recorded = gw.submitting(&connector, &batch).await;
            (recorded, batch)
        }));
        Vec::new()
    }

    /// The oldest staged batch came back from [`first_staged`] (popped from `staging`): the
    /// messages ready to plan. Those whose record failed go back to the queue.
    pub fn unstage(&mut self, done: Result<(bool, Vec<Message>), JoinError>) -> Vec<Message> {
        let Ok((recorded, batch)) = done else {
            return Vec::new();
        };
        self.staged -= batch.len();
        if recorded {
            return batch;
        }
        for m in batch {
            self.link.gw.unsent(&self.link.connector, m);
        }
        Vec::new()
    }

    /// `message` leaves as `parts` (the driver's requests for its OUT copy), behind the
    /// requests already waiting. All of them leave on this session, in order.
    pub fn plan(&mut self, message: Message, parts: Vec<P>) {
        let id = message.id;
        if parts.is_empty() {
            // Nothing to send: the driver would not carry it; it goes back.
            self.link.gw.unsent(&self.link.connector, message);
            return;
        }
        self.inflight.insert(
            id,
            InFlight {
                remote_ids: vec![None; parts.len()],
                unanswered: parts.len(),
                failure: None,
                message,
            },
        );
        self.backlog
            .extend(parts.into_iter().enumerate().map(|(i, p)| (id, i, p)));
        self.report_inflight();
    }

    /// A plugin's `before_send` refused `message`: it fails without leaving (the task records
    /// that).
    pub fn refused(&mut self, message: Message, refusal: crate::plugin::Refusal) {
        let (gw, connector) = (self.link.gw.clone(), self.link.connector.clone());
        self.outcomes.spawn(async move {
            gw.refused_on_send(&connector, message, refusal).await;
        });
    }

    /// The next request to write: (message, part index, part).
    pub fn next_part(&mut self) -> Option<(MessageId, usize, P)> {
        self.backlog.pop_front()
    }

    /// The request for part `index` of message `id` was answered. Once every request written
    /// for the message is, its outcome is recorded (by a task of its own).
    pub fn answered(&mut self, id: MessageId, index: usize, answer: Answer) {
        let Some(f) = self.inflight.get_mut(&id) else {
            return;
        };
        f.unanswered = f.unanswered.saturating_sub(1);
        match answer {
            Answer::Accepted(remote) => {
                if let Some(slot) = f.remote_ids.get_mut(index) {
                    *slot = remote;
                }
            }
            failure => {
                if f.failure.is_none() {
                    f.failure = Some(failure);
                    // The rest of this message does not go out.
                    let before = self.backlog.len();
                    self.backlog.retain(|(m, _, _)| *m != id);
                    f.unanswered -= before - self.backlog.len();
                }
            }
        }
        if f.unanswered > 0 {
            return;
        }
        let Some(f) = self.inflight.remove(&id) else {
            return;
        };
        self.report_inflight();
        let (gw, connector) = (self.link.gw.clone(), self.link.connector.clone());
        let instance = self.link.instance;
        self.outcomes.spawn(async move {
            match f.failure {
                Some(Answer::Refused { command, error }) => {
                    gw.failed(&connector, Some(instance), f.message, command, error)
                        .await
                }
                Some(_) => gw.unsent(&connector, f.message),
                None => {
                    let ids: Vec<String> = f.remote_ids.into_iter().flatten().collect();
                    gw.sent_parts(&connector, Some(instance), f.message, ids)
                        .await
                }
            }
        });
    }

    /// The session ends: every message without an outcome goes back to the head of the
    /// queue, in the order it was accepted (ids ascend), and every outcome being recorded is.
    pub async fn close(mut self) {
        let mut unsent: Vec<Message> = self.inflight.drain().map(|(_, f)| f.message).collect();
        self.report_inflight();
        for handle in self.staging.drain(..) {
            if let Ok((_, batch)) = handle.await {
                unsent.extend(batch);
            }
        }
        self.backlog.clear();
        unsent.sort_by_key(|m| std::cmp::Reverse(m.id));
        for m in unsent {
            self.link.gw.unsent(&self.link.connector, m);
        }
        self.outcomes.wait().await;
    }
}

/// The oldest staged batch, once recorded; never resolves when there is none.
pub async fn first_staged(staging: &mut Staging) -> Result<(bool, Vec<Message>), JoinError> {
    match staging.front_mut() {
        Some(handle) => handle.await,
        None => std::future::pending().await,
    }
}

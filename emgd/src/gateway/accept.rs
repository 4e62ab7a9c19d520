//! Taking a message in: the IN pipeline, routing (long messages' parts follow their first part,
//! [`super::cmr`]), the queue limits, and the durable enqueue. A message is accepted only once
//! its enqueue is committed; a refusal is written to the routelog.

use super::limits::reserve_place;
use super::reject::Reject;
use super::shared::Gateway;
use crate::clock::now_us;
use crate::connector::runtime::state::Counters;
use crate::queue::PartsKey;
use crate::router::NoRoute;
use crate::store::accounts::to_micros;
use crate::store::{StoreError, Write};
use common::message::{Message, MessageId};
use rust_decimal::Decimal;
use std::time::Duration;

/// The routelog's route entry of a message a plugin routed.
const PLUGIN_ENTRY: &str = "plugin";
/// ... and of one whose connector the sender named (MGP `send --via`).
const VIA_ENTRY: &str = "via";

impl Gateway {
    /// Whether `user`'s `throughput` lets one more message in now.
    pub fn user_allows(&self, user: &str) -> bool {
        self.user_limits.allows(&self.config(), user)
    }

    /// Accept a message received on `message.origin.connector`: run the IN pipeline, route it,
    /// check the queue limits, store it durably and queue it. Resolves with its id only once it
    /// is committed.
    pub async fn accept(&self, message: Message) -> Result<MessageId, Reject> {
        if self.is_shutting_down() {
            return Err(Reject::ShuttingDown);
        }
        self.fenced_off()?;
        let receiving = self.connector(&message.origin.connector);
        if let Some(c) = &receiving {
            // Removed by a reload: it takes nothing new while it stops (every path in, the
            // sessions' and submit_multi's alike, comes through here).
            if c.removed() {
                return Err(Reject::Removed(c.name.clone()));
            }
            Counters::add(&c.counters.received);
        }
        let message = self.inbound(message).await?;
        let (mut message, forced) = self.plugins_on_receive(message).await?;
        let router = self.router();
        let parts_key = PartsKey::of(&message);
        let now = std::time::Instant::now();
        let earlier = parts_key
            .as_ref()
            .and_then(|k| self.cmr.lookup(k, now))
            .filter(|c| self.configured(c).is_some());
        // The later parts of a long message follow the first part's connector, by the entry
        // that routes them all; a plugin's route is named `plugin`.
        let routed = if let Some(c) = earlier {
            Ok((c, router.entry(&message)))
        } else if let Some(c) = forced {
            Ok((c, Some(PLUGIN_ENTRY.to_string())))
        } else {
            if let Some(user) = router.user_for(&message) {
                message.target_user = Some(user);
            }
            router
                .routed(&message, |name| {
                    self.connector(name).is_some_and(|c| c.is_up())
                })
                .map(|r| (r.target, Some(r.entry)))
        };
        let (target, route_entry) = match routed {
            Ok((t, entry)) => {
                if let Some(k) = &parts_key {
                    let ttl = Duration::from_secs(self.config().general.cmrexpire);
                    self.cmr.remember(k.clone(), &t, now, ttl);
                }
                (t, entry)
            }
            Err(no_route) => {
                message.id = self.allocate_id();
                message.received_us = now_us();
                let reason = no_route.to_string();
                self.store
                    .commit(vec![Write::Rejected {
                        message: Box::new(message),
                        reason,
                    }])
                    .await?;
                return Err(no_route.into());
            }
        };
        let Some(target_handle) = self.configured(&target) else {
            // Validation guarantees routes name connectors; a plugin's route or a long
            // message's earlier part may name one a reload removed.
            return Err(Reject::NoRoute(NoRoute {
                dest: message.dest.addr.clone(),
                connector: message.origin.connector.clone(),
                account: message.origin.account.clone(),
            }));
        };
        // Until this part is queued (or refused), the later parts of its message already
        // queued wait for it: their commits may have been quicker.
        let _accepting = parts_key.map(|k| target_handle.queue.accepting(k));
        let exempt = receiving
            .as_ref()
            .is_some_and(|c| c.config().ignoremaxtotalqueuesize);
        let place = reserve_place(&self.config(), &self.totals, &target_handle, exempt).await?;
        message.id = self.allocate_id();
        message.received_us = now_us();
        message.target = target;
        message.route_entry = route_entry;
        if target_handle.config().direction == config::Direction::Incoming {
            // For an incoming connector's clients (MO, or a message routed to a user): one
            // that never comes back for it does not keep it for ever, as with its reports.
            message
                .expires_us
                .get_or_insert_with(|| self.client_wait_ends(message.received_us));
        }
        let policy = receiving
            .as_ref()
            .map_or_else(Default::default, |c| c.config().reassemble);
        if message.concat().is_some() && super::held_parts::joins(policy, &target_handle.config()) {
            // A part held to be joined is priced and charged with the whole message, once
            // that is complete; the whole takes its queue place anew when it is queued.
            drop(place);
            return self.hold_part(message, &target_handle).await;
        }
        crate::accounting::price::tag(&self.config().prices, &mut message);
        // A refusal or a failed commit drops `place`, which gives it back.
        let _queueing = self.totals.fence.queueing().await;
        self.store_charged(std::slice::from_ref(&message), Vec::new())
            .await?;
        accepted_durably(&message);
        let id = message.id;
        target_handle.queue.push_reserved(message, place);
        Ok(id)
    }

    /// Accept a message for the connector `target`, bypassing routing (MGP `send --via`); the
    /// queue limits and the plugins' `before_receive` still apply (their `route` does not: the
    /// operator named the connector). Resolves with its id once it is committed.
    pub async fn accept_via(&self, message: Message, target: &str) -> Result<MessageId, Reject> {
        if self.is_shutting_down() {
            return Err(Reject::ShuttingDown);
        }
        self.fenced_off()?;
        let mut message = self.plugins_before_receive(message).await?;
        let Some(handle) = self.configured(target) else {
            return Err(Reject::NoRoute(NoRoute {
                dest: message.dest.addr.clone(),
                connector: message.origin.connector.clone(),
                account: message.origin.account.clone(),
            }));
        };
        let place = reserve_place(&self.config(), &self.totals, &handle, false).await?;
        message.id = self.allocate_id();
        message.received_us = now_us();
        message.target = target.to_string();
        message.route_entry = Some(VIA_ENTRY.to_string());
        crate::accounting::price::tag(&self.config().prices, &mut message);
        let _queueing = self.totals.fence.queueing().await;
        self.store_charged(std::slice::from_ref(&message), Vec::new())
            .await?;
        accepted_durably(&message);
        let id = message.id;
        handle.queue.push_reserved(message, place);
        Ok(id)
    }
}

impl Gateway {
    /// Refuse (temporarily) while this node's lease on a shared store has lapsed: another node
    /// may be taking its queue over.
    pub(super) fn fenced_off(&self) -> Result<(), Reject> {
        if self.totals.fence.is_open(now_us()) {
            Ok(())
        } else {
            Err(Reject::Store(StoreError::LeaseLapsed))
        }
    }

    /// `message` routed and priced as [`Gateway::accept`] would (without the IN pipeline,
    /// plugins or storing it): for price queries (`/rate`). A group target names its next
    /// member without taking the turn.
    pub fn quote(&self, mut message: Message) -> Result<Message, NoRoute> {
        message.target = self.router().peek(&message, |name| {
            self.connector(name).is_some_and(|c| c.is_up())
        })?;
        crate::accounting::price::tag(&self.config().prices, &mut message);
        Ok(message)
    }

    /// Store `messages` with their charge, in one batch: messages priced for an account are
    /// charged to its balance in the transaction that stores them, so they are acknowledged
    /// only with their charge, and refused (written to the routelog as REJECTED) when the
    /// balance does not cover it. All of them are the first one's account's (one message, or
    /// the parts of one long message). `also` joins the batch either way (a joined message's
    /// held parts are dropped with it).
    pub(super) async fn store_charged(
        &self,
        messages: &[Message],
        also: Vec<Write>,
    ) -> Result<(), Reject> {
        let Some(first) = messages.first() else {
            return Ok(());
        };
        let amount: Decimal = messages.iter().filter_map(|m| m.price).sum();
        let mut writes: Vec<Write> = match &first.origin.account {
            Some(account) if amount > Decimal::ZERO => vec![Write::Charge {
                account: account.clone(),
                via: first.origin.connector.clone(),
                amount,
            }],
            _ => Vec::new(),
        };
        let charged = !writes.is_empty();
        writes.extend(messages.iter().map(Write::enqueue));
        let refused_too = also.clone();
        writes.extend(also);
        match self.store.commit(writes).await {
            Ok(()) => {
                if let (true, Some(account)) = (charged, &first.origin.account) {
                    crate::metrics::global().charged(account, to_micros(amount));
                }
                Ok(())
            }
            Err(StoreError::NoBalance { account }) => {
                crate::metrics::global().balance_refused(&account);
                let reject = Reject::NoBalance(account);
                let reason = reject.to_string();
                let mut writes: Vec<Write> = messages
                    .iter()
                    .map(|m| Write::Rejected {
                        message: Box::new(m.clone()),
                        reason: reason.clone(),
                    })
                    .collect();
                writes.extend(refused_too);
                self.store.commit(writes).await?;
                Err(reject)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// `message`, just accepted, is durable: record how long that took.
fn accepted_durably(message: &Message) {
    let us = (now_us() - message.received_us).max(0) as u64;
    crate::metrics::global()
        .accept_histogram(&message.origin.connector)
        .observe(Duration::from_micros(us));
}

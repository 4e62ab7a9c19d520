//! What a queue holds while messages wait: one lane for messages any session may take, and
//! one lane per user for those only that user's sessions may take (reports and MO for an
//! SMPP client). Each lane keeps its head in memory and the rest as ids left in the store, so
//! a client that never binds again costs ids, not messages: at most [`LOADED_MAX`] messages in
//! the shared lane and [`USER_LOADED_MAX`] in each user's.

use crate::store::{Spilled, LOADED_MAX};
use common::message::Message;
use std::collections::{HashMap, VecDeque};

/// Messages of one user's lane held in memory; the rest wait as ids in the store.
pub const USER_LOADED_MAX: usize = 1_000;

/// Which lane: `None` the shared one, else a user's.
pub type LaneKey = Option<String>;

/// Waiting messages of one lane, oldest first: those in memory, then those left in the store.
#[derive(Debug, Default)]
pub struct Lane {
    pub loaded: VecDeque<Message>,
    pub spilled: VecDeque<Spilled>,
    /// Ids taken from `spilled` whose load is under way; new messages still go behind them.
    pub loading: usize,
}

impl Lane {
    pub fn len(&self) -> usize {
        self.loaded.len() + self.spilled.len() + self.loading
    }

    /// Whether a new message must wait as an id behind those in the store, so the lane stays
    /// in order and within `max` in memory.
    fn spills(&self, max: usize) -> bool {
        !self.spilled.is_empty() || self.loading > 0 || self.loaded.len() >= max
    }
}

/// The waiting messages of a queue: its lanes, and those waiting out a retry's hold delay.
#[derive(Debug, Default)]
pub struct Waiting {
    pub shared: Lane,
    pub users: HashMap<String, Lane>,
    /// Held back until a retry's hold delay has passed (`Queue::defer`): still queued, so
    /// listed, moved, cleared, cancelled and expired like the others, but not taken.
    pub deferred: Vec<Message>,
}

impl Waiting {
    pub fn len(&self) -> usize {
        self.shared.len() + self.users.values().map(Lane::len).sum::<usize>() + self.deferred.len()
    }

    pub fn lane(&self, key: &LaneKey) -> Option<&Lane> {
        match key {
            None => Some(&self.shared),
            Some(u) => self.users.get(u),
        }
    }

    pub fn lane_mut(&mut self, key: &LaneKey) -> &mut Lane {
        match key {
            None => &mut self.shared,
            Some(u) => match self.users.contains_key(u) {
                true => self.users.get_mut(u).expect("checked"),
                false => self.users.entry(u.clone()).or_default(),
            },
        }
    }

    /// A user's lane that emptied goes, so users who come and go leave nothing behind.
    pub fn forget_if_empty(&mut self, key: &LaneKey) {
        if let Some(u) = key {
            if self.users.get(u).is_some_and(|l| l.len() == 0) {
                self.users.remove(u);
            }
        }
    }

    /// A newly committed message. With a store behind, it waits as an id when its lane holds
    /// its share in memory, and behind the shared lane's ids while those are not yet sorted
    /// into lanes (a restart left them there): they may be older messages of its user.
    pub fn push(&mut self, message: Message, spill: bool) {
        if spill && self.shared.spills(LOADED_MAX) {
            return self.shared.spilled.push_back(spilled(&message));
        }
        self.place(message, spill);
    }

    /// Put `message` at the end of its lane, in memory while the lane has room (or when no
    /// store is behind), else as an id.
    pub fn place(&mut self, message: Message, spill: bool) {
        let key = message.target_user.clone();
        let max = if key.is_some() {
            USER_LOADED_MAX
        } else {
            LOADED_MAX
        };
        let lane = self.lane_mut(&key);
        if spill && lane.spills(max) {
            lane.spilled.push_back(spilled(&message));
        } else {
            lane.loaded.push_back(message);
        }
    }

    /// Put a taken message back at the head of its lane.
    pub fn put_front(&mut self, message: Message) {
        let key = message.target_user.clone();
        self.lane_mut(&key).loaded.push_front(message);
    }

    /// Every lane's key, the shared one first.
    pub fn keys(&self) -> Vec<LaneKey> {
        std::iter::once(None)
            .chain(self.users.keys().cloned().map(Some))
            .collect()
    }
}

pub fn spilled(m: &Message) -> Spilled {
    Spilled {
        id: m.id,
        expires_us: m.expires_us,
    }
}

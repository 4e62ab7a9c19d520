//! Handing a user's lane to another node and taking one over (a store shared by nodes,
//! `gateway::cluster_lanes`): the lane's waiting messages leave this queue whole, and rows
//! claimed from the store join a lane as ids.

use super::{Queue, Spilled};
use common::message::Message;

/// What a user's lane held when it was taken out: messages in memory and ids in the store.
#[derive(Debug, Default)]
pub struct Lane {
    pub loaded: Vec<Message>,
    pub spilled: Vec<Spilled>,
}

impl Queue {
    /// The users that have messages waiting here.
    pub fn waiting_users(&self) -> Vec<String> {
        self.lock().users.keys().cloned().collect()
    }

    /// Take `user`'s whole lane out but the messages whose validity ended by `now` (expiry
    /// fails them here); they stop counting. `None` while a load of the lane is under way.
    pub fn take_lane(&self, user: &str, now: i64) -> Option<Lane> {
        let key = Some(user.to_string());
        if self
            .fetch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&key)
        {
            return None;
        }
        let mut q = self.lock();
        let lane = q.users.get_mut(user)?;
        if lane.loading > 0 {
            return None;
        }
        let live = |t: Option<i64>| t.is_none_or(|t| t > now);
        let mut out = Lane::default();
        let (keep, go): (Vec<Message>, Vec<Message>) =
            lane.loaded.drain(..).partition(|m| !live(m.expires_us));
        lane.loaded.extend(keep);
        out.loaded = go;
        let (keep, go): (Vec<Spilled>, Vec<Spilled>) =
            lane.spilled.drain(..).partition(|s| !live(s.expires_us));
        lane.spilled.extend(keep);
        out.spilled = go;
        q.forget_if_empty(&key);
        drop(q);
        self.uncount(out.loaded.len() + out.spilled.len());
        Some(out)
    }

    /// Queue a row left in the store in `user`'s lane (the shared lane for `None`), behind
    /// what it holds.
    pub fn push_spilled_to(&self, user: Option<String>, spilled: Spilled) {
        self.size.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.totals
            .queued
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut q = self.lock();
        self.note_expiry(spilled.expires_us);
        q.lane_mut(&user).spilled.push_back(spilled);
        drop(q);
        self.wake_all();
    }
}

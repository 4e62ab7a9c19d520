//! The instance slots of an incoming connector: each session takes the lowest free instance
//! number once its peer has logged in ([`Claim`]) and gives it back when it closes, so at most
//! `instances` sessions run at a time and each shows under its own instance. A connection that
//! has not logged in holds none: silent connections cannot take every instance.

use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Slots {
    used: Mutex<Vec<bool>>,
    free: Arc<Semaphore>,
}

/// One claimed instance; free again when dropped.
pub struct Slot {
    pub instance: u32,
    slots: Arc<Slots>,
    _permit: OwnedSemaphorePermit,
}

impl Slots {
    pub fn new(instances: u32) -> Arc<Slots> {
        let n = instances as usize;
        Arc::new(Slots {
            used: Mutex::new(vec![false; n]),
            free: Arc::new(Semaphore::new(n)),
        })
    }

    pub fn count(&self) -> usize {
        self.used.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// A free instance now, if there is one.
    pub fn claim(self: &Arc<Self>) -> Option<Slot> {
        let permit = self.free.clone().try_acquire_owned().ok()?;
        Some(self.take(permit))
    }

    /// The next instance to come free (at once if one is).
    pub async fn claim_wait(self: &Arc<Self>) -> Slot {
        match self.free.clone().acquire_owned().await {
            Ok(permit) => self.take(permit),
            // Never closed; wait for ever rather than spin.
            Err(_) => std::future::pending().await,
        }
    }

    fn take(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Slot {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        // A permit guarantees a free slot.
        let free = used.iter().position(|u| !u).unwrap_or(0);
        if let Some(u) = used.get_mut(free) {
            *u = true;
        }
        Slot {
            instance: free as u32,
            slots: self.clone(),
            _permit: permit,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut used = self.slots.used.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(u) = used.get_mut(self.instance as usize) {
            *u = false;
        }
    }
}

/// An incoming session's hold on an instance: none until its peer has logged in.
pub struct Claim {
    slots: Option<Arc<Slots>>,
    slot: Option<Slot>,
}

impl Claim {
    /// A session whose instance is fixed from the start (an outgoing one).
    pub fn fixed() -> Claim {
        Claim {
            slots: None,
            slot: None,
        }
    }

    /// An incoming session that takes one of `slots` when its peer logs in.
    pub fn pending(slots: Arc<Slots>) -> Claim {
        Claim {
            slots: Some(slots),
            slot: None,
        }
    }

    /// Take the lowest free instance (once: later calls keep it). False when all are busy.
    pub fn claim(&mut self) -> bool {
        match (&self.slots, &self.slot) {
            (None, _) | (_, Some(_)) => true,
            (Some(slots), None) => {
                self.slot = slots.claim();
                self.slot.is_some()
            }
        }
    }

    /// The instance taken, if one was.
    pub fn instance(&self) -> Option<u32> {
        self.slot.as_ref().map(|s| s.instance)
    }

    /// Give the instance back (the session ended); a later [`Claim::claim`] may take one again.
    pub fn release(&mut self) {
        self.slot = None;
    }

    /// How many instances there are to take (0 for a fixed one).
    pub fn count(&self) -> usize {
        self.slots.as_ref().map_or(0, |s| s.count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_lowest_free_instance_is_taken_and_given_back() {
        let slots = Slots::new(2);
        let a = slots.claim().unwrap();
        let b = slots.claim().unwrap();
        assert_eq!((a.instance, b.instance), (0, 1));
        assert!(slots.claim().is_none(), "all busy");
        drop(a);
        assert_eq!(slots.claim_wait().await.instance, 0);
    }

    #[test]
    fn a_claim_takes_an_instance_once_and_gives_it_back() {
        let slots = Slots::new(1);
        let mut a = Claim::pending(slots.clone());
        let mut b = Claim::pending(slots.clone());
        assert_eq!(a.instance(), None);
        assert!(a.claim() && a.claim());
        assert_eq!(a.instance(), Some(0));
        assert!(!b.claim(), "all busy");
        drop(a);
        assert!(b.claim());
        assert!(Claim::fixed().claim());
    }
}

//! The instance slots of an incoming connector: each accepted connection takes the lowest free
//! instance number and gives it back when it closes, so at most `instances` sessions run at a
//! time and each shows under its own instance.

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
}

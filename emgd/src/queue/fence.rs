//! Whether this node may send and accept at all: on a shared store, only while its lease
//! holds. A node whose lease lapsed (it stalled, or was cut from the database longer than its
//! lease) may have had its queue taken over by another node; sending what it still holds in
//! memory would send those messages twice. The fence closes on its own when the time the
//! lease was last renewed to runs out (less a margin), so a node waking from a stall takes
//! nothing before its lease task has run. On a store of one node it never closes.

use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

#[derive(Debug)]
pub struct Fence {
    /// Sending and accepting are allowed before this (Unix µs).
    open_until_us: AtomicI64,
    /// Held (shared) from a commit that queues a message until it is in memory, and
    /// exclusively while the node's queues are dropped and reloaded from the store: so a
    /// message is either in the reload or pushed after it, never both.
    reload: RwLock<()>,
}

impl Default for Fence {
    fn default() -> Fence {
        Fence {
            open_until_us: AtomicI64::new(i64::MAX),
            reload: RwLock::new(()),
        }
    }
}

impl Fence {
    /// Whether the node may send and accept at `now_us`.
    pub fn is_open(&self, now_us: i64) -> bool {
        now_us < self.open_until_us.load(Ordering::Acquire)
    }

    /// Allow sending until `until_us`.
    pub fn open_until(&self, until_us: i64) {
        self.open_until_us.store(until_us, Ordering::Release);
    }

    /// Stop sending and accepting now.
    pub fn close(&self) {
        self.open_until_us.store(i64::MIN, Ordering::Release);
    }

    /// Hold while committing a message and putting it in its queue.
    pub async fn queueing(&self) -> RwLockReadGuard<'_, ()> {
        self.reload.read().await
    }

    /// Hold while dropping the queues and reloading them from the store.
    pub async fn reloading(&self) -> RwLockWriteGuard<'_, ()> {
        self.reload.write().await
    }
}

#[cfg(test)]
mod tests {
    use super::Fence;

    #[test]
    fn open_by_default_closed_after_its_time_and_when_closed() {
        let f = Fence::default();
        assert!(f.is_open(i64::MAX - 1));
        f.open_until(1_000);
        assert!(f.is_open(999));
        assert!(!f.is_open(1_000));
        f.open_until(5_000);
        f.close();
        assert!(!f.is_open(0));
    }
}

//! Tasks a session starts that give it nothing back (recording a message's outcome in the
//! store): counted rather than joined one by one, so finishing one never wakes the session,
//! and waited for before the session ends, so every outcome reaches the store before
//! shutdown closes it.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct Tracker {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    running: AtomicUsize,
    idle: Notify,
}

impl Tracker {
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.inner.running.fetch_add(1, Ordering::AcqRel);
        let inner = self.inner.clone();
        // Boxed once here: the futures that record outcomes run to a few KB, and spawning
        // moves a future several times.
        let task = Box::pin(task);
        tokio::spawn(async move {
            task.await;
            if inner.running.fetch_sub(1, Ordering::AcqRel) == 1 {
                inner.idle.notify_waiters();
            }
        });
    }

    /// Resolves once every task spawned so far is done.
    pub async fn wait(&self) {
        loop {
            let idle = self.inner.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.inner.running.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn wait_returns_once_every_task_is_done() {
        let t = Tracker::default();
        t.wait().await;
        let done = Arc::new(AtomicUsize::new(0));
        for ms in [30, 10, 20] {
            let done = done.clone();
            t.spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        t.wait().await;
        assert_eq!(done.load(Ordering::SeqCst), 3);
    }
}

//! Connect retries: the retry scheme's connector rule (C) for the command and error a connect,
//! login or send failed with says how long to wait before the next attempt (`retrytime`), how
//! many attempts make a round (`connects`), and how long the instance then rests in ERROR
//! before the next round (`maxsleep`).

use super::link::Link;
use super::state::ConnState;
use crate::gateway::stopped;
use std::time::Duration;

/// Failed attempts of one instance in the current round.
#[derive(Debug, Default)]
pub struct Retry {
    failures: u32,
}

impl Retry {
    /// An attempt succeeded: the next failure starts a new round.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// An attempt failed with (`command`, `error`): the state to wait in and for how long.
    /// The last failure of a round logs `ERROR (info="N <what> failed, next round in S s")`.
    pub fn failed(
        &mut self,
        link: &Link,
        command: u32,
        error: u32,
        what: &str,
    ) -> (ConnState, Duration) {
        let cfg = link.config();
        let rule = cfg.retryscheme.connector_rule(command, error);
        self.failures += 1;
        if self.failures >= rule.connects.max(1) {
            link.log(format!(
                "ERROR (info=\"{} {what} failed, next round in {} s\")",
                self.failures, rule.maxsleep
            ));
            self.failures = 0;
            (ConnState::Error, Duration::from_secs(rule.maxsleep))
        } else {
            (ConnState::Idle, Duration::from_secs(rule.retrytime))
        }
    }

    /// [`failed`](Self::failed), then wait it out in that state (IDLE afterwards). False when
    /// shutdown began meanwhile.
    pub async fn back_off(&mut self, link: &Link, command: u32, error: u32, what: &str) -> bool {
        let (state, wait) = self.failed(link, command, error, what);
        link.set_state(state);
        let mut shutdown = link.shutdown_signal();
        let waited = tokio::select! {
            _ = tokio::time::sleep(wait) => true,
            _ = stopped(&mut shutdown) => false,
        };
        link.set_state(ConnState::Idle);
        waited
    }
}

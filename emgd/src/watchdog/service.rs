//! The watchdog's MGP API: the same framing, logins (passwords for `[operator.NAME]`, peer
//! credentials on its socket) and role checks as emgd's, with its own operations:
//! `server_status` (readonly), `server_start`, `server_stop`, `server_restart` (admin) and
//! `logs` (readonly), which reads the log files whether emgd runs or not.

use super::disk;
use super::supervisor::{Snapshot, Supervisor};
use crate::control::auth::Limiter;
use crate::control::server::{ok, OpResult};
use crate::control::session::{Service, Streams};
use common::mgp::{ErrorBody, Op, Role, ServerStatus};
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

pub struct Watchdog {
    /// Shared with the supervisor (`watchdog_stop_timeout`); replaced on SIGHUP.
    pub config: Arc<RwLock<Arc<config::Config>>>,
    pub limiter: Limiter,
    pub shutdown: watch::Sender<bool>,
    pub supervisor: Supervisor,
}

impl Watchdog {
    pub fn current(&self) -> Arc<config::Config> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn status(&self, s: Snapshot) -> OpResult {
        ok(ServerStatus {
            state: s.state.to_string(),
            pid: s.pid,
            since_us: s.since_us,
            restarts: s.restarts,
            last_exit: s.last_exit,
            disks: disk::usage(&self.current()),
        })
    }
}

impl Service for Watchdog {
    fn config(&self) -> Arc<config::Config> {
        self.current()
    }

    fn limiter(&self) -> &Limiter {
        &self.limiter
    }

    fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    fn required_role(&self, op: &Op) -> Result<Role, ErrorBody> {
        match op {
            Op::ServerStatus | Op::Logs { .. } | Op::Stop { .. } => Ok(Role::Readonly),
            Op::ServerStart | Op::ServerStop | Op::ServerRestart => Ok(Role::Admin),
            op => Err(ErrorBody::bad_request(format!(
                "{} is an operation of emgd, not of the watchdog: connect to emgd's \
                 mgp_address or socket",
                op.name()
            ))),
        }
    }

    async fn call(self: &Arc<Self>, op: Op, user: &str, streams: &mut Streams) -> OpResult {
        let refused = |e: String| ErrorBody::refused(e);
        match op {
            Op::ServerStatus => self.status(self.supervisor.status()),
            Op::ServerStart => {
                self.status(self.supervisor.start_emgd(user).await.map_err(refused)?)
            }
            Op::ServerStop => self.status(self.supervisor.stop_emgd(user).await.map_err(refused)?),
            Op::ServerRestart => {
                self.status(self.supervisor.restart_emgd(user).await.map_err(refused)?)
            }
            Op::Logs {
                name,
                since_us,
                limit,
            } => {
                let logdir = self.current().general.logdir.clone();
                streams.open(crate::control::logs::history(
                    &logdir, &name, since_us, limit,
                )?)
            }
            _ => unreachable!("refused by required_role"),
        }
    }
}

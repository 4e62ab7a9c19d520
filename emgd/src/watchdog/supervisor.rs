//! The emgd the watchdog runs: started at once, restarted when it dies (after 1 s, doubling
//! up to a minute while it keeps dying within a minute of its start), stopped and started on
//! request.
//!
//! The child tells when it is ready the way it tells systemd: the watchdog hands it a
//! NOTIFY_SOCKET (an abstract Unix datagram socket) and waits for `READY=1`, so `server
//! start` answers once emgd listens, or with why it did not come up.

use super::alert::Alerts;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UnixDatagram;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};

/// How long a start may take before emgd says READY=1.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// First and longest delay before restarting an emgd that died.
const FIRST_DELAY: Duration = Duration::from_secs(1);
const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run this long resets the delay.
const STABLE: Duration = Duration::from_secs(60);

/// What `server_status` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub state: &'static str,
    pub pid: Option<u32>,
    pub since_us: Option<i64>,
    pub restarts: u64,
    pub last_exit: Option<String>,
}

enum Cmd {
    Start,
    Stop,
    Restart,
}

type Reply = oneshot::Sender<Result<(), String>>;

/// Handle to the supervising task.
#[derive(Clone)]
pub struct Supervisor {
    cmds: mpsc::Sender<(Cmd, String, Reply)>,
    status: watch::Receiver<Snapshot>,
}

impl Supervisor {
    /// Start supervising `binary --config config` until `shutdown`, which stops emgd first.
    pub fn start(
        binary: PathBuf,
        config: PathBuf,
        alerts: Alerts,
        stop_timeout: Arc<dyn Fn() -> Duration + Send + Sync>,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<(Supervisor, tokio::task::JoinHandle<()>)> {
        let name = format!("emg-watchdog-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        let notify = std::os::unix::net::UnixDatagram::bind_addr(&addr)?;
        notify.set_nonblocking(true)?;
        let (status_tx, status) = watch::channel(Snapshot {
            state: "stopped",
            pid: None,
            since_us: None,
            restarts: 0,
            last_exit: None,
        });
        let (cmds, rx) = mpsc::channel(16);
        let task = Task {
            binary,
            config,
            alerts,
            stop_timeout,
            notify: UnixDatagram::from_std(notify)?,
            notify_name: format!("@{name}"),
            status: status_tx,
            child: None,
            delay: FIRST_DELAY,
        };
        let handle = tokio::spawn(task.run(rx, shutdown));
        Ok((Supervisor { cmds, status }, handle))
    }

    pub fn status(&self) -> Snapshot {
        self.status.borrow().clone()
    }

    async fn ask(&self, cmd: Cmd, user: &str) -> Result<Snapshot, String> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send((cmd, user.to_string(), tx))
            .await
            .map_err(|_| "the watchdog is shutting down".to_string())?;
        rx.await
            .map_err(|_| "the watchdog is shutting down".to_string())??;
        Ok(self.status())
    }

    pub async fn start_emgd(&self, user: &str) -> Result<Snapshot, String> {
        self.ask(Cmd::Start, user).await
    }
    pub async fn stop_emgd(&self, user: &str) -> Result<Snapshot, String> {
        self.ask(Cmd::Stop, user).await
    }
    pub async fn restart_emgd(&self, user: &str) -> Result<Snapshot, String> {
        self.ask(Cmd::Restart, user).await
    }
}

struct Running {
    child: Child,
    pid: u32,
    started: Instant,
}

struct Task {
    binary: PathBuf,
    config: PathBuf,
    alerts: Alerts,
    stop_timeout: Arc<dyn Fn() -> Duration + Send + Sync>,
    notify: UnixDatagram,
    notify_name: String,
    status: watch::Sender<Snapshot>,
    child: Option<Running>,
    /// Delay before the next restart after a death.
    delay: Duration,
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// `exit status 1`, `killed by signal 9`.
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => "ended".to_string(),
    }
}

impl Task {
    fn set(&self, f: impl FnOnce(&mut Snapshot)) {
        self.status.send_modify(f);
    }

    async fn run(
        mut self,
        mut cmds: mpsc::Receiver<(Cmd, String, Reply)>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut retry_at: Option<tokio::time::Instant> = None;
        if let Err(e) = self.spawn("the watchdog").await {
            retry_at = Some(self.died_at_start(e));
        }
        loop {
            let exited = async {
                match self.child.as_mut() {
                    Some(r) => r.child.wait().await,
                    None => std::future::pending().await,
                }
            };
            let retry = async {
                match retry_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                status = exited => {
                    let r = self.child.take().expect("waited on a child");
                    retry_at = Some(self.died(r, status));
                }
                () = retry => {
                    retry_at = None;
                    self.set(|s| s.restarts += 1);
                    if let Err(e) = self.spawn("the watchdog").await {
                        retry_at = Some(self.died_at_start(e));
                    }
                }
                cmd = cmds.recv() => {
                    let Some((cmd, user, reply)) = cmd else { break };
                    let result = match cmd {
                        Cmd::Start if self.child.is_some() => Err(format!(
                            "emgd is running already (pid {})",
                            self.child.as_ref().map_or(0, |r| r.pid)
                        )),
                        Cmd::Start => {
                            retry_at = None;
                            self.spawn(&user).await
                        }
                        Cmd::Stop if self.child.is_none() && retry_at.is_none() => {
                            Err("emgd is not running".to_string())
                        }
                        Cmd::Stop => {
                            retry_at = None;
                            self.stop(&user).await;
                            Ok(())
                        }
                        Cmd::Restart => {
                            retry_at = None;
                            self.stop(&user).await;
                            self.spawn(&user).await
                        }
                    };
                    if let Err(e) = &result {
                        if self.child.is_none() && matches!(self.status.borrow().state, "crashed") {
                            retry_at = Some(self.died_at_start(e.clone()));
                        }
                    }
                    let _ = reply.send(result);
                }
                _ = crate::gateway::stopped(&mut shutdown) => break,
            }
        }
        self.stop("the watchdog (shutting down)").await;
    }

    /// Start emgd and wait for READY=1; an error when it exits before that.
    async fn spawn(&mut self, user: &str) -> Result<(), String> {
        let mut buf = [0u8; 512];
        while self.notify.try_recv(&mut buf).is_ok() {}
        let child = Command::new(&self.binary)
            .arg("--config")
            .arg(&self.config)
            .env("NOTIFY_SOCKET", &self.notify_name)
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                let why = format!("cannot start {}: {e}", self.binary.display());
                self.set(|s| s.state = "crashed");
                return Err(why);
            }
        };
        let pid = child.id().unwrap_or(0);
        self.set(|s| {
            s.state = "starting";
            s.pid = Some(pid);
            s.since_us = Some(now_us());
        });
        let ready = async {
            loop {
                let Ok(n) = self.notify.recv(&mut buf).await else {
                    return;
                };
                if String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .any(|l| l == "READY=1")
                {
                    return;
                }
            }
        };
        tokio::select! {
            status = child.wait() => {
                let exit = status.map_or_else(|e| e.to_string(), describe);
                self.set(|s| {
                    s.state = "crashed";
                    s.pid = None;
                    s.since_us = None;
                    s.last_exit = Some(exit.clone());
                });
                return Err(format!(
                    "emgd exited at start ({exit}); see `emgclient logs general`"
                ));
            }
            _ = tokio::time::timeout(READY_TIMEOUT, ready) => {}
        }
        self.child = Some(Running {
            child,
            pid,
            started: Instant::now(),
        });
        self.set(|s| s.state = "running");
        self.alerts.send(
            "started",
            format!("emgd started (pid {pid}) by {user}"),
            Some(pid),
        );
        Ok(())
    }

    /// emgd died on its own: alert, and when to start it again.
    fn died(&mut self, r: Running, status: std::io::Result<ExitStatus>) -> tokio::time::Instant {
        let exit = status.map_or_else(|e| e.to_string(), describe);
        if r.started.elapsed() >= STABLE {
            self.delay = FIRST_DELAY;
        }
        let delay = self.delay;
        self.delay = (self.delay * 2).min(MAX_DELAY);
        self.set(|s| {
            s.state = "crashed";
            s.pid = None;
            s.since_us = None;
            s.last_exit = Some(exit.clone());
        });
        self.alerts.send(
            "crashed",
            format!(
                "emgd (pid {}) died: {exit}; starting it again in {} s",
                r.pid,
                delay.as_secs()
            ),
            Some(r.pid),
        );
        tokio::time::Instant::now() + delay
    }

    /// emgd did not come up: alert, and when to try again.
    fn died_at_start(&mut self, why: String) -> tokio::time::Instant {
        let delay = self.delay;
        self.delay = (self.delay * 2).min(MAX_DELAY);
        self.alerts.send(
            "crashed",
            format!("{why}; trying again in {} s", delay.as_secs()),
            None,
        );
        tokio::time::Instant::now() + delay
    }

    /// SIGTERM, then SIGKILL after `watchdog_stop_timeout`.
    async fn stop(&mut self, user: &str) {
        let Some(mut r) = self.child.take() else {
            self.set(|s| s.state = "stopped");
            return;
        };
        self.set(|s| s.state = "stopping");
        let _ = kill(Pid::from_raw(r.pid as i32), Signal::SIGTERM);
        let grace = (self.stop_timeout)();
        let status = match tokio::time::timeout(grace, r.child.wait()).await {
            Ok(s) => s,
            Err(_) => {
                tracing::warn!(
                    "emgd (pid {}) did not stop within {} s of SIGTERM: SIGKILL",
                    r.pid,
                    grace.as_secs()
                );
                let _ = r.child.kill().await;
                r.child.wait().await
            }
        };
        let exit = status.map_or_else(|e| e.to_string(), describe);
        self.set(|s| {
            s.state = "stopped";
            s.pid = None;
            s.since_us = None;
            s.last_exit = Some(exit.clone());
        });
        self.alerts.send(
            "stopped",
            format!("emgd (pid {}) stopped by {user}: {exit}", r.pid),
            Some(r.pid),
        );
    }
}

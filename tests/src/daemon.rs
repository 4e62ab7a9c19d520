//! Start the real `emgd` binary for a test: its own temporary directory, free ports, and a
//! wait for its listener instead of a sleep.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub use crate::ports::free_port;

/// A running emgd.
pub struct Daemon {
    child: Child,
    pub config: PathBuf,
    pub stderr: PathBuf,
}

impl Daemon {
    /// Start `binary --config config` and wait until `port` accepts connections.
    /// With `EMG_TEST_BACKEND=postgres` it runs on the test PostgreSQL server
    /// ([`crate::postgres::use_for_config`]).
    pub fn start(binary: &Path, config: &Path, port: u16) -> anyhow::Result<Daemon> {
        if crate::postgres::wanted() {
            crate::postgres::use_for_config(config);
        }
        let stderr = config.with_extension("stderr");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr)?;
        let child = Command::new(binary)
            .arg("--config")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut d = Daemon {
            child,
            config: config.to_path_buf(),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(d);
            }
            if let Some(status) = d.child.try_wait()? {
                bail!(
                    "emgd exited with {status} before listening:\n{}",
                    d.stderr_text()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "emgd did not listen on {port} within 30 s:\n{}",
                    d.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Send a signal by number (SIGTERM 15, SIGHUP 1).
    pub fn signal(&self, sig: i32) {
        let _ = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status();
    }

    /// SIGTERM, then wait for the exit (at most `timeout`).
    pub fn terminate(&mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        self.signal(15);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait()? {
                return Ok(s);
            }
            if Instant::now() > deadline {
                self.kill9();
                bail!(
                    "emgd did not stop within {timeout:?} of SIGTERM:\n{}",
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill9();
        }
    }
}

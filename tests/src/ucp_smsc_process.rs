//! `emgucpsmsc` started as a process for a test: free port, its own stats and trace files,
//! a wait for its listener, counters read back, killed on drop.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::daemon::free_port;
use crate::kannel::is_listening;
use crate::ucp_smsc::Stats;

pub struct UcpSmscProcess {
    child: Child,
    pub port: u16,
    stats: PathBuf,
    pub trace: PathBuf,
    output: PathBuf,
}

impl UcpSmscProcess {
    /// Starts `binary` (the emgucpsmsc build) in `dir` with `args` besides port, stats and
    /// trace.
    pub fn start(binary: &Path, dir: &Path, args: &[&str]) -> anyhow::Result<UcpSmscProcess> {
        let port = free_port();
        let stats = dir.join(format!("ucpsmsc-{port}.json"));
        let trace = dir.join(format!("ucpsmsc-{port}.trace"));
        let output = dir.join(format!("ucpsmsc-{port}.out"));
        let out = std::fs::File::create(&output)?;
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--stats"])
            .arg(&stats)
            .arg("--trace")
            .arg(&trace)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut p = UcpSmscProcess {
            child,
            port,
            stats,
            trace,
            output,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !is_listening(port) {
            if let Some(status) = p.child.try_wait()? {
                bail!("emgucpsmsc exited with {status}:\n{}", p.output());
            }
            if Instant::now() > deadline {
                bail!(
                    "emgucpsmsc did not listen on {port} within 20 s:\n{}",
                    p.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(p)
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    pub fn stats(&self) -> Stats {
        std::fs::read(&self.stats)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Waits until the counters satisfy `done`.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Stats) -> bool,
    ) -> anyhow::Result<Stats> {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.stats();
            if done(&s) {
                return Ok(s);
            }
            if Instant::now() > deadline {
                bail!(
                    "emgucpsmsc: no {what} within {timeout:?}: {}\n{}",
                    s.line(),
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every frame it read (`'R'`) or wrote (`'W'`), as on the wire.
    pub fn frames(&self) -> Vec<(char, Vec<u8>)> {
        std::fs::read_to_string(&self.trace)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (dir, hex) = l.split_once(' ')?;
                Some((dir.chars().next()?, common::hex::from_hex(hex)?))
            })
            .collect()
    }
}

impl Drop for UcpSmscProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! The pty pair a modem test runs on, and the `emgmodem` simulator process on its far end.
//!
//! `socat` makes two linked ptys, `modem` (the simulator's end) and `host` (the end the
//! software under test opens as its serial port). Stopping `socat` is a modem disappearing:
//! both ends close; starting it again brings the line back under the same names.
//! Missing `socat` is a failure with the command that installs it, never a skipped test.

use anyhow::{bail, Context};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Fails with an install hint when `program` is not on PATH.
pub fn require(program: &str, package: &str) -> anyhow::Result<()> {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    if !found {
        bail!("{program} is not installed: apt-get install {package} (scripts/test does)");
    }
    Ok(())
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// A `socat` pty pair in a directory.
pub struct PtyPair {
    pub modem: PathBuf,
    pub host: PathBuf,
    socat: Option<Child>,
    log: PathBuf,
}

impl PtyPair {
    /// Starts `socat` with links `modem` and `host` in `dir`.
    pub fn new(dir: &Path) -> anyhow::Result<PtyPair> {
        require("socat", "socat")?;
        let mut p = PtyPair {
            modem: dir.join("modem"),
            host: dir.join("host"),
            socat: None,
            log: dir.join("socat.log"),
        };
        p.start()?;
        Ok(p)
    }

    /// Brings the line (back) up: both links exist when this returns.
    pub fn start(&mut self) -> anyhow::Result<()> {
        if self.socat.is_some() {
            return Ok(());
        }
        // Links a killed socat left behind would be reused by nobody; clear them.
        let _ = std::fs::remove_file(&self.modem);
        let _ = std::fs::remove_file(&self.host);
        let log = std::fs::File::create(&self.log)?;
        let end = |p: &Path| format!("pty,raw,echo=0,link={}", p.display());
        let child = Command::new("socat")
            .arg("-d")
            .arg(end(&self.modem))
            .arg(end(&self.host))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("cannot start socat")?;
        self.socat = Some(child);
        let (m, h) = (self.modem.clone(), self.host.clone());
        if !wait_until(Duration::from_secs(10), || m.exists() && h.exists()) {
            bail!(
                "socat made no pty pair within 10 s:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
        Ok(())
    }

    /// Takes the line away: SIGTERM to socat (by its pid), which closes both ptys and
    /// removes the links.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.socat.take() else {
            return Ok(());
        };
        // SAFETY: kill(2) on the pid of a child we spawned and have not reaped.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        child.wait()?;
        let (m, h) = (self.modem.clone(), self.host.clone());
        wait_until(Duration::from_secs(5), || !m.exists() && !h.exists());
        Ok(())
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        if let Some(mut c) = self.socat.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The `emgmodem` process: control lines in, JSON events out.
pub struct Simulator {
    child: Child,
    stdin: Option<ChildStdin>,
    events: mpsc::Receiver<Value>,
    /// Every event seen so far, in order.
    pub seen: Vec<Value>,
}

impl Simulator {
    /// Starts `binary --tty tty args...` and waits until it has opened the tty.
    pub fn start(binary: &Path, tty: &Path, args: &[&str]) -> anyhow::Result<Simulator> {
        let mut child = Command::new(binary)
            .arg("--tty")
            .arg(tty)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        let mut sim = Simulator {
            stdin: child.stdin.take(),
            child,
            events: rx,
            seen: Vec::new(),
        };
        sim.wait_for("the tty opened", Duration::from_secs(10), |e| {
            e["event"] == "open"
        })?;
        Ok(sim)
    }

    /// Sends one control line (`mo +4670 hello`, `cms-error 500`, ...).
    pub fn control(&mut self, line: &str) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("simulator stdin closed")?;
        writeln!(stdin, "{line}")?;
        stdin.flush()?;
        Ok(())
    }

    /// Collects events that have arrived.
    pub fn drain(&mut self) {
        while let Ok(e) = self.events.try_recv() {
            self.seen.push(e);
        }
    }

    /// Waits for the first event, seen or still to come, that `pred` accepts and has not
    /// been returned by an earlier wait; fails with every event seen when time is up.
    pub fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        mut pred: impl FnMut(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            self.drain();
            if let Some(e) = self
                .seen
                .iter_mut()
                .find(|e| e["taken"].is_null() && pred(e))
            {
                e["taken"] = Value::Bool(true);
                let mut e = e.clone();
                e.as_object_mut().map(|o| o.remove("taken"));
                return Ok(e);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "no event for {what} within {timeout:?}; seen:\n{}",
                    self.transcript()
                );
            }
            if let Ok(e) = self
                .events
                .recv_timeout(left.min(Duration::from_millis(50)))
            {
                self.seen.push(e);
            }
        }
    }

    /// The events seen, one a line, for failure messages.
    pub fn transcript(&self) -> String {
        self.seen
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The AT command lines the software under test sent, in order.
    pub fn commands(&mut self) -> Vec<String> {
        self.drain();
        self.seen
            .iter()
            .filter(|e| e["event"] == "command")
            .filter_map(|e| e["line"].as_str().map(str::to_string))
            .collect()
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

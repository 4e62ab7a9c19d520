//! One benchmark scenario's world: a directory, free ports, the emgd configuration, and the
//! processes (emgd, emgsmsc) started, watched and stopped by the benchmark.

use crate::bench_proc::{sample, ProcSample};
use crate::daemon::free_port;
use crate::smsc::Stats;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the binaries are (`target/release` for `bench/run`).
#[derive(Debug, Clone)]
pub struct Bins {
    pub emgd: PathBuf,
    pub emgsmsc: PathBuf,
    /// The UCP SMSC simulator (scenario 9).
    pub emgucpsmsc: PathBuf,
    /// The GSM modem simulator (scenario 11).
    pub emgmodem: PathBuf,
}

impl Bins {
    /// The binaries in `dir`; each one that `scenarios` use must exist (emgd always, emgsmsc
    /// for all but 7, emgucpsmsc for 9, emgmodem for 11).
    pub fn in_dir(dir: &Path, scenarios: &[u8]) -> anyhow::Result<Bins> {
        let b = Bins {
            emgd: dir.join("emgd"),
            emgsmsc: dir.join("emgsmsc"),
            emgucpsmsc: dir.join("emgucpsmsc"),
            emgmodem: dir.join("emgmodem"),
        };
        let uses = |n: u8| scenarios.contains(&n);
        let needed = [
            (&b.emgd, "every scenario", true),
            (
                &b.emgsmsc,
                "every scenario but 7",
                scenarios.iter().any(|&n| n != 7),
            ),
            (&b.emgucpsmsc, "scenario 9", uses(9)),
            (&b.emgmodem, "scenario 11", uses(11)),
        ];
        for (path, by, _) in needed.iter().filter(|(_, _, needed)| *needed) {
            if !path.exists() {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                let package = if name == "emgd" { "emgd" } else { "tests" };
                bail!(
                    "{} is missing ({by} runs it): build it first, e.g. cargo build --release -p {package} --bin {name} (bench/run builds them all)",
                    path.display()
                );
            }
        }
        Ok(b)
    }
}

/// The user the load generators bind as, and the MGP operator of the benchmark.
pub const USER: &str = "bench";
pub const PASSWORD: &str = "bench";
/// The outgoing SMPP connector towards emgsmsc.
pub const OUT: &str = "smsc";

/// How the gateway is set up for a scenario.
#[derive(Debug, Clone)]
pub struct GatewaySetup {
    /// Incoming SMPP instances (one per load session, plus spares).
    pub in_instances: u32,
    /// Window of the incoming connector (deliver_sm towards the client).
    pub in_window: u32,
    pub out_instances: u32,
    pub out_window: u32,
    /// Extra TOML added at the end (another incoming connector, say).
    pub extra: String,
    /// Extra general options (`retention = 30`, say), added at the top.
    pub general: String,
}

/// A running emgd process.
pub struct Emgd {
    child: Child,
    pub started: Instant,
}

impl Emgd {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn sample(&self) -> anyhow::Result<ProcSample> {
        sample(self.pid())
    }

    /// Exited already? With its status.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM and wait for the exit; SIGKILL after `timeout`. The time it took.
    pub fn terminate(&mut self, timeout: Duration) -> anyhow::Result<Duration> {
        let t = Instant::now();
        signal(self.pid(), libc::SIGTERM);
        loop {
            if self.child.try_wait()?.is_some() {
                return Ok(t.elapsed());
            }
            if t.elapsed() > timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!("emgd did not stop within {timeout:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Emgd {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a child we started and have not reaped yet.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// The scenario's directory, ports and child processes.
pub struct Env {
    pub dir: PathBuf,
    pub smpp_port: u16,
    pub mgp_port: u16,
    pub smsc_port: u16,
    /// For a scenario with an HTTP connector.
    pub http_port: u16,
    /// emgd's Prometheus endpoint.
    pub metrics_port: u16,
    pub config: PathBuf,
    smsc: Option<Child>,
    smsc_stats: PathBuf,
    pub bins: Bins,
}

impl Env {
    /// A fresh directory `root/name`.
    pub fn new(root: &Path, name: &str, bins: &Bins) -> anyhow::Result<Env> {
        let dir = root.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(Env {
            smpp_port: free_port(),
            mgp_port: free_port(),
            smsc_port: free_port(),
            http_port: free_port(),
            metrics_port: free_port(),
            config: dir.join("emg.toml"),
            smsc_stats: dir.join("smsc.json"),
            dir,
            smsc: None,
            bins: bins.clone(),
        })
    }

    /// Start emgsmsc with receipts `dlr_delay` after each submit and message ids (decimal)
    /// from `first_id` on.
    pub fn start_smsc(&mut self, dlr_delay: Duration, first_id: u64) -> anyhow::Result<()> {
        let _ = std::fs::remove_file(&self.smsc_stats);
        let out = std::fs::File::create(self.dir.join("smsc.out"))?;
        let child = Command::new(&self.bins.emgsmsc)
            .args(["--port", &self.smsc_port.to_string()])
            .args(["--user", USER, "--password", PASSWORD])
            .args(["--dlr-delay-ms", &dlr_delay.as_millis().to_string()])
            .args(["--first-id", &first_id.to_string()])
            .arg("--stats")
            .arg(&self.smsc_stats)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bins.emgsmsc.display()))?;
        self.smsc = Some(child);
        wait_until(Duration::from_secs(10), "emgsmsc to start", || {
            Ok(self.smsc_stats.exists())
        })
    }

    /// emgd's store counters (from its /metrics endpoint).
    pub fn store_metrics(&self) -> anyhow::Result<crate::bench_metrics::StoreMetrics> {
        crate::bench_metrics::store(self.metrics_port)
    }

    /// emgsmsc's CPU time and memory.
    pub fn smsc_sample(&self) -> anyhow::Result<ProcSample> {
        match &self.smsc {
            Some(c) => sample(c.id()),
            None => bail!("emgsmsc is not running"),
        }
    }

    /// emgsmsc's counters now.
    pub fn smsc(&self) -> Stats {
        std::fs::read(&self.smsc_stats)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Stop emgsmsc (SIGTERM, so it unbinds and writes its final counters).
    pub fn stop_smsc(&mut self) -> Stats {
        if let Some(mut c) = self.smsc.take() {
            signal(c.id(), libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        self.smsc()
    }

    /// Write the gateway configuration.
    pub fn write_config(&self, g: &GatewaySetup) -> anyhow::Result<()> {
        let text = format!(
            r#"# written by emgbench
datadir = "data"
logdir = "log"
mgp_address = "127.0.0.1:{mgp}"
metrics_address = "127.0.0.1:{metrics}"
pdulog = false
maxtotalqueuesize = 5000000
{general}

[connector.smpp-in]
type = "incoming"
protocol = "smpp"
address = "127.0.0.1:{smpp}"
instances = {in_instances}
windowsize = {in_window}

[connector.{OUT}]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc}"
username = "{USER}"
password = "{PASSWORD}"
static = true
idletimeout = 0
instances = {out_instances}
windowsize = {out_window}
dlr_id_format = "decimal"

[user.{USER}]
password = "{PASSWORD}"

[operator.{USER}]
password = "{PASSWORD}"
role = "admin"

[[route]]
to = "{OUT}"
{extra}
"#,
            mgp = self.mgp_port,
            metrics = self.metrics_port,
            smpp = self.smpp_port,
            smsc = self.smsc_port,
            in_instances = g.in_instances,
            in_window = g.in_window,
            out_instances = g.out_instances,
            out_window = g.out_window,
            extra = g.extra,
            general = g.general,
        );
        std::fs::write(&self.config, text)?;
        Ok(())
    }

    /// `emgd --check-config`: `Err(first diagnostic)` when the configuration is refused.
    pub fn check_config(&self) -> anyhow::Result<Result<(), String>> {
        let out = Command::new(&self.bins.emgd)
            .arg("--check-config")
            .arg("--config")
            .arg(&self.config)
            .output()
            .with_context(|| format!("cannot run {}", self.bins.emgd.display()))?;
        if out.status.success() {
            return Ok(Ok(()));
        }
        let text = String::from_utf8_lossy(&out.stderr);
        Ok(Err(text
            .lines()
            .next()
            .unwrap_or("refused")
            .trim()
            .to_string()))
    }

    /// Start emgd without waiting for anything.
    pub fn spawn_emgd(&self) -> anyhow::Result<Emgd> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("emgd.stderr"))?;
        let child = Command::new(&self.bins.emgd)
            .arg("--config")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bins.emgd.display()))?;
        Ok(Emgd {
            child,
            started: Instant::now(),
        })
    }

    /// Start emgd and wait until its MGP port answers (`timeout` at most).
    pub fn start_emgd(&self, timeout: Duration) -> anyhow::Result<Emgd> {
        let mut d = self.spawn_emgd()?;
        self.wait_listening(&mut d, self.mgp_port, timeout)?;
        Ok(d)
    }

    /// Wait until 127.0.0.1:`port` accepts connections; fail early if emgd exits.
    pub fn wait_listening(&self, d: &mut Emgd, port: u16, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            if let Some(status) = d.exited() {
                bail!("emgd exited with {status}:\n{}", self.emgd_stderr());
            }
            if Instant::now() > deadline {
                bail!(
                    "emgd did not listen on {port} within {timeout:?}:\n{}",
                    self.emgd_stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn emgd_stderr(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("emgd.stderr")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Wait until emgsmsc has `n` bound sessions (the static outgoing connector is up).
    pub fn wait_smsc_bound(&self, n: u64, timeout: Duration) -> anyhow::Result<()> {
        wait_until(timeout, "emgd to bind to emgsmsc", || {
            Ok(self.smsc().binds >= n)
        })
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(mut c) = self.smsc.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Poll `f` every 10 ms until it says yes; an error after `timeout`.
pub fn wait_until(
    timeout: Duration,
    what: &str,
    mut f: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if f()? {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::Bins;

    #[test]
    fn only_the_binaries_of_the_chosen_scenarios_are_required() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["emgd", "emgsmsc"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        assert!(Bins::in_dir(dir.path(), &[1, 5, 14, 15]).is_ok());
        let e = Bins::in_dir(dir.path(), &[1, 9]).unwrap_err().to_string();
        assert!(
            e.contains("emgucpsmsc is missing (scenario 9 runs it)")
                && e.contains("--bin emgucpsmsc"),
            "{e}"
        );
        let e = Bins::in_dir(dir.path(), &[11]).unwrap_err().to_string();
        assert!(
            e.contains("emgmodem is missing (scenario 11 runs it)"),
            "{e}"
        );
        std::fs::remove_file(dir.path().join("emgsmsc")).unwrap();
        let e = Bins::in_dir(dir.path(), &[1]).unwrap_err().to_string();
        assert!(
            e.contains("emgsmsc is missing (every scenario but 7 runs it)"),
            "{e}"
        );
        assert!(Bins::in_dir(dir.path(), &[7]).is_ok(), "7 runs only emgd");
    }
}

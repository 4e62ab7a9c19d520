//! Scenario 7: emgd side by side with Kannel 1.4.5 (Debian's `kannel`), on the same
//! third-party load and the same SMSC simulator, alternating the two in one run.
//!
//! - Load: `tests/peers/httpload.js` (node, 32 keep-alive connections), GET
//!   `/cgi-bin/sendsms` with username, password, from, to and a text; with callbacks also
//!   `dlr-mask=1` and a `dlr-url` back to the load generator.
//! - SMSC: the npm `smpp` simulator (`tests/peers/smsc/smsc.js --bench`), ids from
//!   1,000,000,000, a receipt 10 ms after each submit that asks for one.
//! - emgd: an incoming HTTP connector and an outgoing SMPP connector of 2 sessions x window
//!   256, `pdulog = false`, its SQLite store with `synchronous = FULL` (durable).
//! - Kannel: bearerbox and smsbox, `log-level = 2`, no access log, the SMPP smsc group with
//!   `instances = 2` and `max-pending-submits = 256`, `dlr-storage = internal`, no store file
//!   (its queue lives in memory: not durable).
//!
//! A gateway's CPU is user + system time from `/proc` (emgd; bearerbox plus smsbox) from just
//! before the first request to the last callback, or to the last submit reaching the SMSC.

use crate::bench::{mb, Plan, Row};
use crate::bench_env::{wait_until, PASSWORD, USER};
use crate::bench_proc::sample;
use crate::daemon::free_port;
use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Keep-alive connections of the load.
const CONNECTIONS: usize = 32;
const SEND_PATH: &str = "/cgi-bin/sendsms";

fn peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// A child process killed when dropped.
struct Proc {
    child: Child,
    what: &'static str,
}

impl Proc {
    fn spawn(what: &'static str, cmd: &mut Command, log: &Path) -> anyhow::Result<Proc> {
        let out = std::fs::File::create(log)?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {what} (is it installed?)"))?;
        Ok(Proc { child, what })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited with {status}", self.what);
        }
        Ok(())
    }

    /// SIGTERM, then SIGKILL if it lingers.
    fn stop(&mut self) {
        // SAFETY: kill(2) on a child we started and have not reaped.
        unsafe {
            libc::kill(self.pid() as libc::pid_t, libc::SIGTERM);
        }
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What the npm SMSC simulator says about itself.
#[derive(Debug, Default, Deserialize)]
struct SmscState {
    binds: u64,
    accepted: u64,
    receipts_acked: u64,
}

/// What the node load generator printed.
#[derive(Debug, Deserialize)]
struct LoadResult {
    accepted: usize,
    refused: usize,
    first_refusal: Option<String>,
    callbacks: usize,
    resp_seconds: f64,
    seconds: f64,
    resp_ms: Option<[f64; 3]>,
    callback_ms: Option<[f64; 3]>,
}

/// One gateway under test: its processes (the CPU is theirs) and where it takes requests.
struct Gateway {
    procs: Vec<Proc>,
    http_port: u16,
}

impl Gateway {
    fn cpu_and_peak(&self) -> anyhow::Result<(f64, u64)> {
        let mut cpu = 0.0;
        let mut peak = 0;
        for p in &self.procs {
            let s = sample(p.pid())?;
            cpu += s.cpu_s;
            peak += s.peak_rss_kb;
        }
        Ok((cpu, peak))
    }

    fn stop(&mut self) {
        // smsbox before bearerbox; emgd alone.
        for p in self.procs.iter_mut().rev() {
            p.stop();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Emg,
    Kannel,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Emg => "emg",
            Kind::Kannel => "Kannel",
        }
    }
}

fn wait_listening(port: u16, procs: &mut [Proc], what: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        for p in procs.iter_mut() {
            p.alive()?;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{what} did not listen on {port} within 30 s")
}

fn start_emgd(plan: &Plan, dir: &Path, smsc_port: u16) -> anyhow::Result<Gateway> {
    let http_port = free_port();
    let config = dir.join("emg.toml");
    std::fs::write(
        &config,
        format!(
            r#"# written by emgbench (side by side with Kannel)
datadir = "data"
logdir = "log"
mgp_address = ""
pdulog = false
maxtotalqueuesize = 5000000
{general}

[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{http_port}"
instances = {instances}

[connector.smsc]
type = "outgoing"
protocol = "smpp"
address = "127.0.0.1:{smsc_port}"
username = "{USER}"
password = "{PASSWORD}"
static = true
idletimeout = 0
instances = 2
windowsize = 256
dlr_id_format = "decimal"

[user.{USER}]
password = "{PASSWORD}"

[[route]]
to = "smsc"
"#,
            instances = CONNECTIONS + 8,
            general = plan.general,
        ),
    )?;
    let mut procs = vec![Proc::spawn(
        "emgd",
        Command::new(&plan.bins.emgd).arg("--config").arg(&config),
        &dir.join("emgd.stderr"),
    )?];
    wait_listening(http_port, &mut procs, "emgd")?;
    Ok(Gateway { procs, http_port })
}

fn start_kannel(dir: &Path, smsc_port: u16) -> anyhow::Result<Gateway> {
    let (admin, box_port, http_port) = (free_port(), free_port(), free_port());
    let config = dir.join("kannel.conf");
    let log = |name: &str| dir.join(name).display().to_string();
    std::fs::write(
        &config,
        format!(
            r#"# written by emgbench: Kannel with lean logging and its queue in memory
group = core
admin-port = {admin}
admin-password = bench
smsbox-port = {box_port}
log-level = 2
log-file = "{bearerbox_log}"
box-allow-ip = "127.0.0.1"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = sim
host = 127.0.0.1
port = {smsc_port}
transceiver-mode = true
smsc-username = {USER}
smsc-password = {PASSWORD}
system-type = ""
instances = 2
max-pending-submits = 256
msg-id-type = 0x00

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box_port}
sendsms-port = {http_port}
log-level = 2
log-file = "{smsbox_log}"

group = sendsms-user
username = {USER}
password = {PASSWORD}
"#,
            bearerbox_log = log("bearerbox.log"),
            smsbox_log = log("smsbox.log"),
        ),
    )?;
    let mut procs = vec![Proc::spawn(
        "bearerbox (apt-get install kannel)",
        Command::new("bearerbox").arg("-v").arg("2").arg(&config),
        &dir.join("bearerbox.out"),
    )?];
    wait_listening(box_port, &mut procs, "bearerbox")?;
    procs.push(Proc::spawn(
        "smsbox",
        Command::new("smsbox").arg("-v").arg("2").arg(&config),
        &dir.join("smsbox.out"),
    )?);
    wait_listening(http_port, &mut procs, "smsbox")?;
    Ok(Gateway { procs, http_port })
}

fn smsc_state(path: &Path) -> SmscState {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// One run of one gateway: a fresh simulator, the gateway, the load.
fn run_once(plan: &Plan, kind: Kind, callbacks: bool, n: usize) -> anyhow::Result<Row> {
    let count = plan.count(7);
    let dir = plan.root.join(format!(
        "scenario7-{}-{}-{n}",
        kind.name().to_lowercase(),
        if callbacks { "dlr" } else { "plain" }
    ));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let smsc_port = free_port();
    let state = dir.join("smsc.json");
    let mut smsc = Proc::spawn(
        "node (the npm smpp simulator; npm ci --prefix tests/peers/smsc)",
        Command::new("node")
            .arg(peers().join("smsc/smsc.js"))
            .args(["--port", &smsc_port.to_string()])
            .arg("--out")
            .arg(&state)
            .args(["--system-id", USER, "--password", PASSWORD])
            .args(["--dlr-delay", &plan.dlr_delay.as_millis().to_string()])
            .args(["--id-base", &plan.first_id.to_string(), "--bench"]),
        &dir.join("smsc.out"),
    )?;
    wait_until(Duration::from_secs(20), "the SMSC simulator", || {
        smsc.alive()?;
        Ok(state.exists())
    })?;
    let mut gw = match kind {
        Kind::Emg => start_emgd(plan, &dir, smsc_port)?,
        Kind::Kannel => start_kannel(&dir, smsc_port)?,
    };
    wait_until(Duration::from_secs(30), "the gateway to bind twice", || {
        Ok(smsc_state(&state).binds >= 2)
    })?;
    let mut load = Command::new("node");
    load.arg(peers().join("httpload.js"))
        .args([
            "--url",
            &format!("http://127.0.0.1:{}{SEND_PATH}", gw.http_port),
        ])
        .args(["--connections", &CONNECTIONS.to_string()])
        .args(["--count", &count.to_string()])
        .args(["--timeout-s", &plan.timeout(count).as_secs().to_string()])
        .args(["--param", &format!("username={USER}")])
        .args(["--param", &format!("password={PASSWORD}")])
        .args(["--param", "from=4670", "--param", "to=46701234567"]);
    if callbacks {
        load.arg("--callbacks");
    }
    let (cpu_before, _) = gw.cpu_and_peak()?;
    let smsc_before = sample(smsc.pid())?.cpu_s;
    let children_before = children_cpu();
    let out = load.output().context("cannot run node for the load")?;
    // Only the load generator was reaped meanwhile.
    let load_cpu = children_cpu() - children_before;
    if !out.status.success() {
        bail!(
            "the load generator failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let result: LoadResult = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "the load generator printed no result: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    // Without callbacks the last submits may still be on their way to the SMSC.
    wait_until(
        Duration::from_secs(60),
        "the SMSC to get every message",
        || Ok(smsc_state(&state).accepted >= result.accepted as u64),
    )?;
    let (cpu_after, peak) = gw.cpu_and_peak()?;
    let smsc_cpu = sample(smsc.pid())?.cpu_s - smsc_before;
    gw.stop();
    smsc.stop();
    let st = smsc_state(&state);
    if result.accepted != count || (callbacks && result.callbacks != count) {
        bail!(
            "{}: incomplete: {} accepted, {} refused ({}), {} callbacks of {count}",
            kind.name(),
            result.accepted,
            result.refused,
            result.first_refusal.unwrap_or_default(),
            result.callbacks
        );
    }
    let per = |s: f64| s / count as f64 * 100_000.0;
    let what = if callbacks {
        "a DLR callback each"
    } else {
        "no receipts"
    };
    Ok(Row {
        name: format!("{} HTTP>SMPP, {what}", kind.name()),
        messages: count,
        accepted_per_s: result.accepted as f64 / result.resp_seconds,
        delivered_per_s: st.accepted as f64 / result.seconds.max(result.resp_seconds),
        dlrs_per_s: callbacks.then(|| result.callbacks as f64 / result.seconds),
        resp_ms: result.resp_ms,
        dlr_ms: result.callback_ms.filter(|_| callbacks),
        cpu_s_per_100k: per(cpu_after - cpu_before),
        peak_rss_mb: mb(peak),
        notes: format!(
            "round {n}; {CONNECTIONS} keep-alive connections, GET {SEND_PATH}; receipts acknowledged by the SMSC {}; peers CPU s/100k: load (node) {:.1}, SMSC (node) {:.1}",
            st.receipts_acked,
            per(load_cpu),
            per(smsc_cpu)
        ),
        ..Row::empty(7)
    })
}

/// CPU seconds of every child reaped so far.
fn children_cpu() -> f64 {
    // SAFETY: an all-zero rusage is a valid value for getrusage to fill.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru);
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// Both variants, `rounds` times each, emgd and Kannel alternating; the rows, then the ratios
/// as rows of their own notes.
pub fn scenario(plan: &Plan, rounds: usize) -> anyhow::Result<(Vec<Row>, String)> {
    let mut rows = Vec::new();
    let mut summary = Vec::new();
    for callbacks in [false, true] {
        let mut cpu = [Vec::new(), Vec::new()];
        for n in 1..=rounds.max(1) {
            for (i, kind) in [Kind::Emg, Kind::Kannel].into_iter().enumerate() {
                let row = run_once(plan, kind, callbacks, n)?;
                cpu[i].push(row.cpu_s_per_100k);
                rows.push(row);
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let (emg, kannel) = (mean(&cpu[0]), mean(&cpu[1]));
        let target = if callbacks { 10.0 } else { 5.0 };
        summary.push(format!(
            "{}: emg {emg:.2} and Kannel {kannel:.2} CPU s per 100k: emg uses 1/{:.1} of Kannel's CPU per message (target 1/{target:.0})",
            if callbacks { "with a DLR callback each" } else { "without receipts" },
            kannel / emg.max(1e-9)
        ));
    }
    Ok((rows, summary.join("\n")))
}

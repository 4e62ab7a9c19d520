//! The benchmark behind `bench/run` (binary `emgbench`): each scenario starts emgd and
//! emgsmsc in a fresh directory, drives load through them, reads emgd's CPU time and memory
//! from `/proc`, and yields one [`Row`]; [`table`] prints the rows as one table.
//!
//! Scenarios (the issue's numbering):
//! 1. SMPP in -> durable store -> SMPP out (emgsmsc) -> receipt back as deliver_sm, flat out.
//! 2. The same at a fixed rate (5,000 msg/s), for latency.
//! 3. HTTP in -> SMPP out with a DLR callback per message ([`crate::bench_http`]).
//! 4. N messages queued behind a held connector: memory while queued, restart time with the
//!    queue full, then release and time to drain.
//! 5. Scenario 1 with a trivial plugin on every hook (`man/emg-plugins.7`): what plugins cost,
//!    as a share of scenario 1's throughput when both run in the same run.
//! 8. Mails per second through the SMTP connectors, in and out ([`crate::bench_smtp`]).
//! 9. SMPP in -> UCP out -> notification back as a receipt; 10. UCP in -> SMPP out -> receipt
//!    back as a notification ([`crate::bench_ucp`]).
//! 14. An MGP application in -> SMPP out -> reports pushed back over MGP; 15. SMPP in -> EBE
//!     out (a program per message) -> reports back ([`crate::bench_apps`]).
//!
//! [`crate::bench_run`] runs them in order.

use crate::bench_env::{Bins, Emgd, Env, GatewaySetup, OUT, PASSWORD, USER};
use crate::bench_mgp::{Mgp, QueueState};
use crate::load::{self, percentile, Report};
use crate::smsc::unix_us;
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Load sessions and their window in the SMPP scenarios.
pub(crate) const SESSIONS: usize = 4;
pub(crate) const WINDOW: usize = 64;
/// Sessions that fill the held queue in scenario 4.
const FILL_SESSIONS: usize = 8;
/// The outgoing connector: sessions and window towards emgsmsc.
const OUT_INSTANCES: u32 = 2;
const OUT_WINDOW: u32 = 256;
/// Window of the incoming connector (receipts towards the load generator).
const IN_WINDOW: u32 = 128;
/// A drain that makes no progress for this long has stalled.
const STALL: Duration = Duration::from_secs(20);
/// How long emgd may take to start on an empty store.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// CI smoke sizes: a few seconds in all.
    pub quick: bool,
    pub scenarios: Vec<u8>,
    /// Messages per scenario instead of the defaults.
    pub count: Option<usize>,
    /// emgsmsc's delay before each receipt.
    pub dlr_delay: Duration,
    /// emgsmsc's first message id. Ten digits by default, as real SMSCs give: with short
    /// dense ids emgd's `dlr_id_format = "decimal"` also reads receipt ids as hex, so a
    /// receipt parked for "100" can be taken by the entry "256" (see bench/README.md).
    pub first_id: u64,
    /// Rate of scenario 2.
    pub rate: f64,
    /// Runs of each gateway and variant in scenario 6.
    pub rounds: usize,
    /// General options added to every emgd configuration (`--general`), for experiments.
    pub general: String,
    /// Prepaid balances (account, amount) set over MGP once emgd is up (`--balance`), so
    /// that with a price table (`--general 'price = [...]'`) every message is charged.
    pub balances: Vec<(String, String)>,
    /// Minutes of the soak (scenario 13, `--soak MINUTES`).
    pub soak_minutes: u64,
    /// Scenario directories go here.
    pub root: PathBuf,
    pub bins: Bins,
}

impl Plan {
    /// Messages in scenario `n`.
    pub fn count(&self, n: u8) -> usize {
        if n == 13 {
            let (smpp, http) = self.soak_per_minute();
            return (smpp + http) * self.soak_minutes as usize;
        }
        if let Some(c) = self.count {
            return c;
        }
        match (n, self.quick) {
            (1 | 12, false) => 200_000,
            (2, false) => 100_000,
            (3, false) => 100_000,
            (5, false) => 200_000,
            (9 | 10, false) => 100_000,
            (11 | 15, false) => 20_000,
            (14, false) => 100_000,
            (4, false) => 1_000_000,
            (4, true) => 1_000,
            (6, false) => 10_000_000,
            (6, true) => 2_000,
            (7, false) => 100_000,
            (8, false) => 50_000,
            (_, true) => 500,
            _ => 0,
        }
    }

    /// The soak's messages a minute (scenario 13): SMPP (paced over the minute) and HTTP (as
    /// fast as they go, then idle). `--count` does not change them.
    pub fn soak_per_minute(&self) -> (usize, usize) {
        if self.quick {
            (3_000, 500)
        } else {
            (30_000, 6_000)
        }
    }

    /// How long `count` messages may take: generous (a debug build on a busy machine is
    /// slow), yet a stuck run still ends.
    pub fn timeout(&self, count: usize) -> Duration {
        let base = if self.quick { 30 } else { 120 };
        Duration::from_secs(base + count as u64 / 500)
    }

    /// Rate of scenario 2 (slower in the smoke run, whose binaries may be debug builds).
    pub fn rate(&self) -> f64 {
        if self.quick {
            self.rate.min(500.0)
        } else {
            self.rate
        }
    }
}

/// Three latency percentiles in milliseconds: p50, p99, p99.9.
pub type Percentiles = [f64; 3];

/// One line of the table.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Row {
    pub scenario: u8,
    pub name: String,
    pub messages: usize,
    /// Accepted by emgd (submit_sm_resp OK, HTTP 2xx), per second of submitting.
    pub accepted_per_s: f64,
    /// Received by emgsmsc, per second from the first submit.
    pub delivered_per_s: f64,
    /// Receipts (or callbacks) back at the sender, per second of the whole run.
    pub dlrs_per_s: Option<f64>,
    /// Submit to its response.
    pub resp_ms: Option<Percentiles>,
    /// Submit to its receipt or callback.
    pub dlr_ms: Option<Percentiles>,
    /// emgd's user + system CPU seconds per 100,000 messages.
    pub cpu_s_per_100k: f64,
    /// emgd's peak resident memory (VmHWM), MB.
    pub peak_rss_mb: f64,
    pub notes: String,
    /// Set when the scenario could not run: why (`not available: ...` or `failed: ...`).
    pub unavailable: Option<String>,
    /// Lines printed under the table (scenario 6: the CPU ratios).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl Row {
    pub(crate) fn empty(scenario: u8) -> Row {
        Row {
            scenario,
            name: scenario_name(scenario).into(),
            ..Default::default()
        }
    }
}

pub fn scenario_name(n: u8) -> &'static str {
    match n {
        1 => "SMPP>store>SMPP+DLR, flat out",
        2 => "SMPP>store>SMPP+DLR, fixed rate",
        3 => "HTTP>store>SMPP",
        4 => "held queue, restart, drain",
        5 => "scenario 1 + a plugin on every hook",
        6 => "store size, short retention",
        7 => "side by side with Kannel",
        8 => "SMTP in and out (postfix's smtp-source, smtp-sink)",
        9 => "SMPP>store>UCP+DLR, flat out",
        10 => "UCP>store>SMPP+DLR, flat out",
        11 => "SMPP>store>GSM modem (emgmodem)",
        12 => "scenario 1 on PostgreSQL",
        13 => "soak: SMPP+HTTP with receipts, bounces and reloads",
        14 => "MGP application>store>SMPP+DLR over MGP, flat out",
        15 => "SMPP>store>EBE program+DLR, flat out",
        _ => "unknown",
    }
}

/// Latency percentiles of sorted microsecond samples.
pub fn percentiles(sorted_us: &[u64]) -> Option<Percentiles> {
    (!sorted_us.is_empty()).then(|| {
        [
            percentile(sorted_us, 0.5),
            percentile(sorted_us, 0.99),
            percentile(sorted_us, 0.999),
        ]
    })
}

/// CPU seconds of this process (the load generators run in it).
pub(crate) fn own_cpu() -> f64 {
    crate::bench_proc::sample(std::process::id()).map_or(0.0, |s| s.cpu_s)
}

/// "load X, SMSC Y CPU s/100k": what the peers on the same box cost.
pub(crate) fn peers_cpu(load_s: f64, smsc_s: f64, count: usize) -> String {
    let per = |s: f64| s / count.max(1) as f64 * 100_000.0;
    format!(
        "peers CPU s/100k: load {:.1}, emgsmsc {:.1}",
        per(load_s),
        per(smsc_s)
    )
}

pub(crate) fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// A fresh directory with emgsmsc running and the gateway configured for `sessions` load
/// sessions; `extra` gives TOML to append (it may use the environment's ports).
pub(crate) fn prepare_world(
    plan: &Plan,
    name: &str,
    sessions: usize,
    extra: impl FnOnce(&Env) -> String,
) -> anyhow::Result<Env> {
    prepare_world_with(plan, name, sessions, "", extra)
}

/// [`prepare_world`] with extra general options (`general`, TOML).
pub(crate) fn prepare_world_with(
    plan: &Plan,
    name: &str,
    sessions: usize,
    general: &str,
    extra: impl FnOnce(&Env) -> String,
) -> anyhow::Result<Env> {
    let mut env = Env::new(&plan.root, name, &plan.bins)?;
    env.start_smsc(plan.dlr_delay, plan.first_id)?;
    let extra = extra(&env);
    env.write_config(&GatewaySetup {
        in_instances: sessions as u32 + 2,
        in_window: IN_WINDOW,
        out_instances: OUT_INSTANCES,
        out_window: OUT_WINDOW,
        extra,
        general: format!("{general}\n{}", plan.general),
    })?;
    Ok(env)
}

/// Start emgd and wait until its outgoing connector is bound to emgsmsc.
pub(crate) fn launch(env: &Env) -> anyhow::Result<Emgd> {
    let emgd = env.start_emgd(START_TIMEOUT)?;
    env.wait_smsc_bound(u64::from(OUT_INSTANCES), Duration::from_secs(10))?;
    Ok(emgd)
}

/// The plugin of scenario 5: every hook defined, each reading one option and changing nothing.
const TRIVIAL_PLUGIN: &str = r#"-- emgbench scenario 5: a trivial plugin on every hook.
function before_receive(msg) if msg.destaddr == "" then return false, "no destination" end end
function route(msg) if msg.priority > 3 then return "nowhere" end end
function before_send(msg) local _ = msg.dcs end
function on_dlr(msg) local _ = msg.messagestate end
"#;

/// Scenario 5's configuration: the trivial plugin, global; its script written beside it.
fn trivial_plugin(env: &Env) -> String {
    match std::fs::write(env.dir.join("trivial.lua"), TRIVIAL_PLUGIN) {
        Ok(()) => "[plugin.trivial]\nscript = \"trivial.lua\"\nglobal = true\n".into(),
        // The missing script then fails the row at emgd's start, saying so.
        Err(_) => "[plugin.trivial]\nscript = \"cannot-write-trivial.lua\"\n".into(),
    }
}

/// [`prepare_world`] and [`launch`] for the SMPP-only scenarios (5 with its plugin).
fn start_world(plan: &Plan, n: u8, sessions: usize) -> anyhow::Result<(Env, Emgd)> {
    retry_ports(|| {
        let env = prepare_world(plan, &format!("scenario{n}"), sessions, |env| {
            if n == 5 {
                trivial_plugin(env)
            } else {
                String::new()
            }
        })?;
        let emgd = launch(&env)?;
        set_balances(plan, &env)?;
        Ok((env, emgd))
    })
}

/// `--balance`: each account's prepaid balance, set over MGP before the load starts.
fn set_balances(plan: &Plan, env: &Env) -> anyhow::Result<()> {
    if plan.balances.is_empty() {
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut mgp = Mgp::login(env.mgp_port, USER, PASSWORD).await?;
        for (account, amount) in &plan.balances {
            mgp.set_balance(account, amount).await?;
        }
        Ok(())
    })
}

/// Run `f` again (up to three times in all) when emgd could not listen: a port the kernel
/// called free may have gone to some connection's ephemeral port since.
pub(crate) fn retry_ports<T>(mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<T> {
    let mut attempt = 1;
    loop {
        match f() {
            Err(e) if attempt < 3 && format!("{e:#}").contains("Address already in use") => {
                attempt += 1;
            }
            result => return result,
        }
    }
}

pub(crate) fn load_args(
    plan: &Plan,
    env: &Env,
    sessions: usize,
    count: usize,
    rate: Option<f64>,
    dlr: bool,
) -> load::Args {
    load::Args {
        port: env.smpp_port,
        user: USER.into(),
        password: PASSWORD.into(),
        sessions,
        window: WINDOW,
        count,
        rate,
        dlr,
        transmitter: false,
        timeout: plan.timeout(count),
    }
}

pub(crate) fn check_complete(report: &Report, a: &load::Args) -> anyhow::Result<()> {
    if !report.complete(a) || report.refused > 0 {
        bail!(
            "incomplete: {} accepted, {} refused, {} receipts of {}",
            report.accepted,
            report.refused,
            report.receipts,
            a.count
        );
    }
    Ok(())
}

/// Scenarios 1 and 2: SMPP in, store, SMPP out, receipts back; flat out or at `rate`.
pub fn smpp_flow(plan: &Plan, rt: &Runtime, n: u8, rate: Option<f64>) -> anyhow::Result<Row> {
    let count = plan.count(n);
    let (mut env, mut emgd) = start_world(plan, n, SESSIONS)?;
    let before = emgd.sample()?;
    let (load_before, smsc_before) = (own_cpu(), env.smsc_sample()?.cpu_s);
    let store_before = env.store_metrics()?;
    let started_us = unix_us();
    let a = load_args(plan, &env, SESSIONS, count, rate, true);
    let report = rt.block_on(load::run(a.clone()))?;
    let after = emgd.sample()?;
    let store = env.store_metrics()?.since(&store_before, count);
    let peers = peers_cpu(
        own_cpu() - load_before,
        env.smsc_sample()?.cpu_s - smsc_before,
        count,
    );
    check_complete(&report, &a)?;
    emgd.terminate(Duration::from_secs(30))?;
    // emgsmsc writes its counters every 100 ms, and a quick run can end sooner: its last ones.
    let smsc = env.stop_smsc();
    let delivered_s = (smsc.last_submit_us - started_us) as f64 / 1e6;
    let notes = match rate {
        Some(r) => format!("{r:.0} msg/s offered; {SESSIONS} sessions x window {WINDOW}"),
        None if n == 5 => format!(
            "{SESSIONS} sessions x window {WINDOW}; hooks before_receive, route, before_send (submits and receipts), on_dlr"
        ),
        None => format!("{SESSIONS} sessions x window {WINDOW}"),
    };
    Ok(Row {
        messages: count,
        accepted_per_s: report.accepted as f64 / report.resp_seconds,
        delivered_per_s: smsc.accepted as f64 / delivered_s,
        dlrs_per_s: Some(report.receipts as f64 / report.seconds),
        resp_ms: percentiles(&report.resp_us),
        dlr_ms: percentiles(&report.dlr_us),
        cpu_s_per_100k: (after.cpu_s - before.cpu_s) / count as f64 * 100_000.0,
        peak_rss_mb: mb(after.peak_rss_kb),
        notes: format!(
            "{notes}; receipts {} ms after submit; {peers}; {store}",
            plan.dlr_delay.as_millis()
        ),
        ..Row::empty(n)
    })
}

/// Poll emgd over MGP until the outgoing connector holds `count` messages; its flags then.
fn wait_queued(
    rt: &Runtime,
    mgp: &mut Mgp,
    count: usize,
    timeout: Duration,
) -> anyhow::Result<QueueState> {
    let deadline = Instant::now() + timeout;
    loop {
        let q = rt.block_on(mgp.queued(OUT))?;
        if q.queued >= count {
            return Ok(q);
        }
        if Instant::now() > deadline {
            bail!(
                "only {} of {count} messages queued after {timeout:?}",
                q.queued
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Wait until emgsmsc has `count` messages; an error when none arrived for [`STALL`].
fn wait_drained(env: &Env, count: u64) -> anyhow::Result<()> {
    let (mut last, mut moved) = (0, Instant::now());
    loop {
        let now = env.smsc().accepted;
        if now >= count {
            return Ok(());
        }
        if now != last {
            (last, moved) = (now, Instant::now());
        } else if moved.elapsed() > STALL {
            bail!("drain stalled: emgsmsc received {now} of {count}, nothing more for {STALL:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Scenario 4: fill a held connector's queue, restart emgd with it full, release, drain.
///
/// MGP `hold` is not persisted, so before the restart the connector is also force-closed
/// with `persist` (EMG's way to keep a connector closed across a restart); the release
/// clears both.
pub fn held_queue(plan: &Plan, rt: &Runtime) -> anyhow::Result<Row> {
    let count = plan.count(4);
    let (mut env, mut emgd) = start_world(plan, 4, FILL_SESSIONS)?;
    let slow = Duration::from_secs(300 + count as u64 / 2_000);
    let mut mgp = rt.block_on(Mgp::login(env.mgp_port, USER, PASSWORD))?;
    rt.block_on(mgp.hold(OUT))?;
    let before = emgd.sample()?;
    let store_before = env.store_metrics()?;
    let a = load_args(plan, &env, FILL_SESSIONS, count, None, false);
    let report = rt.block_on(load::run(a.clone()))?;
    check_complete(&report, &a)?;
    let fill_store = env.store_metrics()?.since(&store_before, count);
    wait_queued(rt, &mut mgp, count, slow)?;
    let queued = emgd.sample()?;
    let fill_cpu = queued.cpu_s - before.cpu_s;
    rt.block_on(mgp.forceclose_persist(OUT))?;
    drop(mgp);

    let stop = emgd
        .terminate(slow)
        .context("stopping emgd with a full queue")?;
    drop(emgd);
    let mut emgd = env.spawn_emgd()?;
    env.wait_listening(&mut emgd, env.mgp_port, slow)?;
    let listening = emgd.started.elapsed();
    let mut mgp = rt.block_on(Mgp::login(env.mgp_port, USER, PASSWORD))?;
    let after_restart = wait_queued(rt, &mut mgp, count, slow)?;
    let restart = emgd.started.elapsed();
    if !after_restart.forceclose {
        bail!("{OUT} is no longer force-closed after the restart");
    }
    let restarted = emgd.sample()?;
    let sent_before = env.smsc().accepted;
    let store_before = env.store_metrics()?;

    let released_at = Instant::now();
    rt.block_on(mgp.forceclose_clear(OUT))?;
    rt.block_on(mgp.release(OUT))?;
    let before_restart = format!(
        "filled at {:.0} msg/s; RSS {:.0} MB with {count} queued, {:.0} MB after restart; stop {:.2} s; restart {:.2} s to full queue",
        report.accepted as f64 / report.resp_seconds,
        mb(queued.rss_kb),
        mb(restarted.rss_kb),
        stop.as_secs_f64(),
        restart.as_secs_f64()
    );
    if let Err(e) = wait_drained(&env, count as u64) {
        bail!("{e} (measured before: {before_restart})");
    }
    let drain = released_at.elapsed();
    let drained = emgd.sample()?;
    let drain_store = env.store_metrics()?.since(&store_before, count);
    drop(mgp);
    emgd.terminate(Duration::from_secs(60))?;
    env.stop_smsc();
    if sent_before > 0 {
        bail!("{sent_before} messages left the held connector before the release");
    }
    let cpu = fill_cpu + (drained.cpu_s - restarted.cpu_s);
    Ok(Row {
        messages: count,
        accepted_per_s: report.accepted as f64 / report.resp_seconds,
        delivered_per_s: count as f64 / drain.as_secs_f64(),
        dlrs_per_s: None,
        resp_ms: percentiles(&report.resp_us),
        dlr_ms: None,
        cpu_s_per_100k: cpu / count as f64 * 100_000.0,
        peak_rss_mb: mb(queued.peak_rss_kb.max(drained.peak_rss_kb)),
        notes: format!(
            "no DLRs, {FILL_SESSIONS} sessions; RSS {:.0} MB queued, {:.0} MB after restart; stop {:.2} s; restart {:.2} s to full queue (MGP up {:.2} s); drain {:.1} s; filling {fill_store}; draining {drain_store}",
            mb(queued.rss_kb),
            mb(restarted.rss_kb),
            stop.as_secs_f64(),
            restart.as_secs_f64(),
            listening.as_secs_f64(),
            drain.as_secs_f64()
        ),
        ..Row::empty(4)
    })
}

fn fmt_rate(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.0}")
    } else {
        "-".into()
    }
}

fn fmt_pct(p: &Option<Percentiles>) -> String {
    match p {
        Some([a, b, c]) => format!("{a:.1}/{b:.1}/{c:.1}"),
        None => "-".into(),
    }
}

/// The rows as one aligned table (a header line first).
pub fn table(rows: &[Row]) -> String {
    let header = [
        "#",
        "scenario",
        "msgs",
        "accepted/s",
        "delivered/s",
        "DLRs/s",
        "submit>resp ms p50/p99/p99.9",
        "submit>DLR ms p50/p99/p99.9",
        "emgd CPU s/100k",
        "peak RSS MB",
        "notes",
    ];
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for r in rows {
        let mut line = vec![r.scenario.to_string(), r.name.clone()];
        match &r.unavailable {
            Some(why) => line.push(why.clone()),
            None => line.extend([
                r.messages.to_string(),
                fmt_rate(r.accepted_per_s),
                fmt_rate(r.delivered_per_s),
                r.dlrs_per_s.map_or("-".into(), fmt_rate),
                fmt_pct(&r.resp_ms),
                fmt_pct(&r.dlr_ms),
                format!("{:.2}", r.cpu_s_per_100k),
                format!("{:.0}", r.peak_rss_mb),
                r.notes.clone(),
            ]),
        }
        cells.push(line);
    }
    // Width of every column but the last (notes, or the reason a scenario did not run).
    let mut width = vec![0usize; header.len()];
    for line in &cells {
        if line.len() == header.len() {
            for (i, c) in line.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        } else {
            for (i, c) in line.iter().enumerate().take(2) {
                width[i] = width[i].max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    for line in &cells {
        let last = line.len() - 1;
        for (i, c) in line.iter().enumerate() {
            if i == last {
                out.push_str(c);
            } else {
                // Text columns to the left, figures to the right.
                let w = width[i];
                if i == 1 {
                    out.push_str(&format!("{c:<w$}  "));
                } else {
                    out.push_str(&format!("{c:>w$}  "));
                }
            }
        }
        out.push('\n');
    }
    for summary in rows.iter().filter_map(|r| r.summary.as_deref()) {
        out.push_str(summary);
        out.push('\n');
    }
    out
}

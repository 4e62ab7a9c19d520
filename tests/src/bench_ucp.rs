//! The protocol-conversion scenarios of the benchmark:
//!
//! 9. SMPP in -> durable store -> UCP out (emgucpsmsc) -> its delivery notification (53) back
//!    as a deliver_sm receipt, flat out.
//! 10. UCP in ([`crate::ucp_load`]) -> durable store -> SMPP out (emgsmsc) -> its receipt back
//!     to the UCP client as a 53, flat out.
//!
//! Both run beside scenario 1 in the same world (emgsmsc is started for all, idle in 9), so
//! their rows compare with its row of the same run.

use crate::bench::{launch, load_args, mb, own_cpu, percentiles, prepare_world, Plan, Row};
use crate::bench_env::{Env, PASSWORD, USER};
use crate::load::Report;
use crate::smsc::unix_us;
use crate::ucp_smsc::Stats as UcpStats;
use anyhow::{bail, Context};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::runtime::Runtime;

/// Load sessions and their window (UCP numbers its operations 00..99).
const SESSIONS: usize = 4;
const UCP_WINDOW: usize = 64;

/// emgucpsmsc on the environment's spare port, with its counters in a file.
struct UcpSmsc {
    child: Child,
    stats: std::path::PathBuf,
}

impl UcpSmsc {
    fn start(env: &Env, port: u16, dlr_delay: Duration) -> anyhow::Result<UcpSmsc> {
        let stats = env.dir.join("ucpsmsc.json");
        let out = std::fs::File::create(env.dir.join("ucpsmsc.out"))?;
        let child = Command::new(&env.bins.emgucpsmsc)
            .args([
                "--port",
                &port.to_string(),
                "--user",
                USER,
                "--password",
                PASSWORD,
            ])
            .args(["--notify-delay-ms", &dlr_delay.as_millis().to_string()])
            .args(["--window", "99"])
            .arg("--stats")
            .arg(&stats)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {}", env.bins.emgucpsmsc.display()))?;
        let s = UcpSmsc { child, stats };
        crate::bench_env::wait_until(Duration::from_secs(10), "emgucpsmsc to start", || {
            Ok(s.stats.exists())
        })?;
        Ok(s)
    }

    fn stats(&self) -> UcpStats {
        std::fs::read(&self.stats)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }
}

impl Drop for UcpSmsc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn check(report: &Report, count: usize) -> anyhow::Result<()> {
    if report.accepted != count || report.receipts != count {
        bail!(
            "incomplete: {} accepted, {} refused, {} receipts of {count}",
            report.accepted,
            report.refused,
            report.receipts
        );
    }
    Ok(())
}

fn row(
    n: u8,
    count: usize,
    report: &Report,
    delivered_per_s: f64,
    cpu_s: f64,
    rss_kb: u64,
    notes: String,
) -> Row {
    Row {
        messages: count,
        accepted_per_s: report.accepted as f64 / report.resp_seconds,
        delivered_per_s,
        dlrs_per_s: Some(report.receipts as f64 / report.seconds),
        resp_ms: percentiles(&report.resp_us),
        dlr_ms: percentiles(&report.dlr_us),
        cpu_s_per_100k: cpu_s / count as f64 * 100_000.0,
        peak_rss_mb: mb(rss_kb),
        notes,
        ..Row::empty(n)
    }
}

/// Scenario 9: SMPP in, UCP out, notifications back as receipts.
pub fn smpp_to_ucp(plan: &Plan, rt: &Runtime) -> anyhow::Result<Row> {
    let count = plan.count(9);
    let ucp_port = crate::daemon::free_port();
    let env = prepare_world(plan, "scenario9", SESSIONS, |_| {
        format!(
            r#"
[connector.ucp]
type = "outgoing"
protocol = "ucp"
address = "127.0.0.1:{ucp_port}"
username = "{USER}"
password = "{PASSWORD}"
static = true
instances = 2
windowsize = 99

[[route]]
prefix = "4"
to = "ucp"
"#
        )
    })?;
    let ucp = UcpSmsc::start(&env, ucp_port, plan.dlr_delay)?;
    let mut emgd = launch(&env)?;
    crate::bench_env::wait_until(
        Duration::from_secs(10),
        "emgd to log in to emgucpsmsc",
        || Ok(ucp.stats().logins >= 2),
    )?;
    let before = emgd.sample()?;
    let load_before = own_cpu();
    let a = load_args(plan, &env, SESSIONS, count, None, true);
    let report = rt.block_on(crate::load::run(a))?;
    let after = emgd.sample()?;
    check(&report, count)?;
    // emgucpsmsc writes its counters every 100 ms.
    crate::bench_env::wait_until(Duration::from_secs(5), "emgucpsmsc's counters", || {
        Ok(ucp.stats().accepted >= count as u64)
    })?;
    let delivered = ucp.stats().accepted;
    emgd.terminate(Duration::from_secs(30))?;
    let load_cpu = (own_cpu() - load_before) / count as f64 * 100_000.0;
    Ok(row(
        9,
        count,
        &report,
        // emgucpsmsc keeps no times: its messages over the whole run.
        delivered as f64 / report.seconds,
        after.cpu_s - before.cpu_s,
        after.peak_rss_kb,
        format!(
            "{SESSIONS} SMPP sessions x window 64, 2 UCP sessions x window 99; notifications {} ms after submit; delivered/s over the whole run; load CPU s/100k {load_cpu:.1}",
            plan.dlr_delay.as_millis()
        ),
    ))
}

/// Scenario 10: UCP in, SMPP out, receipts back as notifications.
pub fn ucp_to_smpp(plan: &Plan, rt: &Runtime) -> anyhow::Result<Row> {
    let count = plan.count(10);
    let mut env = prepare_world(plan, "scenario10", SESSIONS, |env| {
        format!(
            r#"
[connector.ucp-in]
type = "incoming"
protocol = "ucp"
address = "127.0.0.1:{}"
instances = {}
windowsize = 99
"#,
            env.http_port,
            SESSIONS + 2
        )
    })?;
    let mut emgd = launch(&env)?;
    let before = emgd.sample()?;
    let load_before = own_cpu();
    let started_us = unix_us();
    let a = crate::ucp_load::Args {
        port: env.http_port,
        user: USER.into(),
        password: PASSWORD.into(),
        sessions: SESSIONS,
        window: UCP_WINDOW,
        count,
        timeout: plan.timeout(count),
    };
    let report = rt.block_on(crate::ucp_load::run(a))?;
    let after = emgd.sample()?;
    check(&report, count)?;
    emgd.terminate(Duration::from_secs(30))?;
    // emgsmsc writes its counters every 100 ms, and a quick run is over sooner: its last ones.
    let smsc = env.stop_smsc();
    let load_cpu = (own_cpu() - load_before) / count as f64 * 100_000.0;
    Ok(row(
        10,
        count,
        &report,
        smsc.accepted as f64 / ((smsc.last_submit_us - started_us) as f64 / 1e6),
        after.cpu_s - before.cpu_s,
        after.peak_rss_kb,
        format!(
            "{SESSIONS} UCP sessions x window {UCP_WINDOW}; receipts {} ms after submit; load CPU s/100k {load_cpu:.1}",
            plan.dlr_delay.as_millis()
        ),
    ))
}

//! The application scenarios of the benchmark (issue 16):
//!
//! 14. An MGP application ([`crate::mgp_load`]: as many sessions and as large a window as
//!     scenario 1's SMPP load) submits over an incoming `mgp` connector, newline-delimited
//!     JSON, asking for a report each -> durable store -> SMPP out (emgsmsc) -> the receipt
//!     pushed back to the application as a `deliver`, flat out.
//! 15. SMPP in (as scenario 1) -> durable store -> an outgoing `ebe` connector: a shell script
//!     run once per message, [`EBE_INSTANCES`] at a time -> the DELIVRD report made when it
//!     exits 0 (no `dlr_support`) back as a deliver_sm, flat out.
//!
//! Both run in the world of scenario 1 (emgsmsc is started for both, idle in 15), so their rows
//! compare with its row of the same run.

use crate::bench::{
    launch, load_args, mb, own_cpu, percentiles, prepare_world, retry_ports, Plan, Row, SESSIONS,
    WINDOW,
};
use crate::bench_env::{Emgd, Env, PASSWORD, USER};
use crate::load::Report;
use anyhow::bail;
use std::time::Duration;
use tokio::runtime::Runtime;

/// The EBE connector's instances (programs running at a time) and window per instance.
pub const EBE_INSTANCES: u32 = 8;

/// The program of scenario 15: reads nothing (emgd ignores the closed stdin), prints the id
/// it gave the message, exits 0.
const EBE_PROGRAM: &str = "#!/bin/sh\necho \"ebe-$EMG_ID\"\n";

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

fn row(n: u8, count: usize, report: &Report, cpu_s: f64, rss_kb: u64, notes: String) -> Row {
    Row {
        messages: count,
        accepted_per_s: report.accepted as f64 / report.resp_seconds,
        // Every report is made once the message left (emgsmsc's receipt, the program's exit).
        delivered_per_s: report.receipts as f64 / report.seconds,
        dlrs_per_s: Some(report.receipts as f64 / report.seconds),
        resp_ms: percentiles(&report.resp_us),
        dlr_ms: percentiles(&report.dlr_us),
        cpu_s_per_100k: cpu_s / count as f64 * 100_000.0,
        peak_rss_mb: mb(rss_kb),
        notes,
        ..Row::empty(n)
    }
}

fn per_100k(s: f64, count: usize) -> f64 {
    s / count.max(1) as f64 * 100_000.0
}

/// Scenario 14: an MGP application in, SMPP out, receipts pushed back over MGP.
pub fn mgp_app_to_smpp(plan: &Plan, rt: &Runtime) -> anyhow::Result<Row> {
    let count = plan.count(14);
    let (mut env, mut emgd) = retry_ports(|| {
        let env = prepare_world(plan, "scenario14", SESSIONS, |env| {
            format!(
                r#"
[connector.mgp-app]
type = "incoming"
protocol = "mgp"
address = "127.0.0.1:{}"
instances = {}
windowsize = 128
"#,
                env.http_port,
                SESSIONS + 2
            )
        })?;
        let emgd = launch(&env)?;
        Ok((env, emgd))
    })?;
    let before = emgd.sample()?;
    let (load_before, smsc_before) = (own_cpu(), env.smsc_sample()?.cpu_s);
    let a = crate::mgp_load::Args {
        port: env.http_port,
        user: USER.into(),
        password: PASSWORD.into(),
        sessions: SESSIONS,
        window: WINDOW,
        count,
        timeout: plan.timeout(count),
    };
    let report = rt.block_on(crate::mgp_load::run(a))?;
    let after = emgd.sample()?;
    let smsc_cpu = env.smsc_sample()?.cpu_s - smsc_before;
    check(&report, count)?;
    emgd.terminate(Duration::from_secs(30))?;
    env.stop_smsc();
    Ok(row(
        14,
        count,
        &report,
        after.cpu_s - before.cpu_s,
        after.peak_rss_kb,
        format!(
            "{SESSIONS} MGP sessions x window {WINDOW} (submit with DLR=1, each deliver answered ok); receipts {} ms after submit; delivered/s = reports back per second; peers CPU s/100k: load {:.1}, emgsmsc {:.1}",
            plan.dlr_delay.as_millis(),
            per_100k(own_cpu() - load_before, count),
            per_100k(smsc_cpu, count)
        ),
    ))
}

/// Scenario 15's world: the EBE connector and its program, and emgd started.
fn ebe_world(plan: &Plan) -> anyhow::Result<(Env, Emgd)> {
    retry_ports(|| {
        let env = prepare_world(plan, "scenario15", SESSIONS, |env| {
            let program = env.dir.join("ebe.sh");
            let written = std::fs::write(&program, EBE_PROGRAM).and_then(|()| {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755))
            });
            // A program that could not be written fails the row at emgd's start, saying so.
            let program = match written {
                Ok(()) => program.display().to_string(),
                Err(_) => "cannot-write-ebe.sh".into(),
            };
            format!(
                r#"
[connector.ebe]
type = "outgoing"
protocol = "ebe"
address = "{program}"
instances = {EBE_INSTANCES}
windowsize = 1
ebe_timeout = 30

[[route]]
prefix = "4"
to = "ebe"
"#
            )
        })?;
        let emgd = launch(&env)?;
        Ok((env, emgd))
    })
}

/// Scenario 15: SMPP in, EBE out, the report back as a deliver_sm.
pub fn smpp_to_ebe(plan: &Plan, rt: &Runtime) -> anyhow::Result<Row> {
    let count = plan.count(15);
    let (mut env, mut emgd) = ebe_world(plan)?;
    let before = emgd.sample()?;
    let load_before = own_cpu();
    let mut a = load_args(plan, &env, SESSIONS, count, None, true);
    // A process a message: on a loaded two-core machine 100 a second or fewer (a run of
    // 2026-12-02 at load 22 did 80-120), so allow 50 a second on top of the usual time.
    a.timeout += Duration::from_secs(count as u64 / 50);
    let report = rt.block_on(crate::load::run(a))?;
    let after = emgd.sample()?;
    check(&report, count)?;
    emgd.terminate(Duration::from_secs(30))?;
    env.stop_smsc();
    let programs = per_100k(after.children_cpu_s - before.children_cpu_s, count);
    Ok(row(
        15,
        count,
        &report,
        after.cpu_s - before.cpu_s,
        after.peak_rss_kb,
        format!(
            "{SESSIONS} SMPP sessions x window {WINDOW}; EBE {EBE_INSTANCES} instances x window 1, /bin/sh script per message; DELIVRD report at its exit 0; delivered/s = reports back per second; the programs' CPU s/100k {programs:.1} (not in emgd's); load CPU s/100k {:.1}",
            per_100k(own_cpu() - load_before, count)
        ),
    ))
}

//! Scenario 8: the SMTP connectors under load, with postfix's own test tools (Debian's
//! `postfix` package) as the peers.
//!
//! - 8a, mails in: `smtp-source` sends mails (one recipient each) to an incoming SMTP
//!   connector over concurrent sessions that send one mail after another; each becomes an
//!   SMS to emgsmsc. Accepted/s counts mails answered 250 per second of smtp-source's run.
//! - 8b, mails out: the SMPP load sends messages routed to an outgoing SMTP connector, which
//!   hands them as mail to `smtp-sink`; the relay sends no receipts, so each message's report
//!   is made when the sink took the mail, and receipts/s is mails out per second.
//!
//! Without smtp-source or smtp-sink the row says `not available` and how to get them.

use crate::bench::{
    launch, load_args, mb, own_cpu, peers_cpu, percentiles, prepare_world, retry_ports, Plan, Row,
    SESSIONS,
};
use crate::daemon::free_port;
use crate::load;
use crate::smsc::unix_us;
use anyhow::{bail, Context};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Concurrent smtp-source sessions.
const MAIL_SESSIONS: usize = 16;
/// Octets of each mail's body.
const MAIL_SIZE: usize = 160;
/// Outgoing SMTP instances and the mails each keeps in flight.
const OUT_INSTANCES: u32 = 4;
const OUT_WINDOW: u32 = 16;

fn tool(name: &str) -> Option<String> {
    ["/usr/sbin", "/usr/bin", "/sbin"]
        .iter()
        .map(|d| format!("{d}/{name}"))
        .find(|p| std::path::Path::new(p).exists())
}

pub fn scenario(plan: &Plan, rt: &Runtime) -> anyhow::Result<Vec<Row>> {
    let (Some(source), Some(sink)) = (tool("smtp-source"), tool("smtp-sink")) else {
        return Ok(vec![Row {
            unavailable: Some(
                "not available: smtp-source and smtp-sink are missing (apt-get install postfix)"
                    .into(),
            ),
            ..Row::empty(8)
        }]);
    };
    Ok(vec![
        retry_ports(|| mails_in(plan, &source))?,
        retry_ports(|| mails_out(plan, rt, &sink))?,
    ])
}

/// 8a: smtp-source -> incoming SMTP -> store -> SMPP out.
fn mails_in(plan: &Plan, source: &str) -> anyhow::Result<Row> {
    let count = plan.count(8);
    let smtp_port = free_port();
    let mut env = prepare_world(plan, "scenario8a", 0, |_| {
        format!(
            r#"
[connector.mail-in]
type = "incoming"
protocol = "smtp"
address = "127.0.0.1:{smtp_port}"
instances = {}
smtp_domains = ["sms.example.com"]
"#,
            MAIL_SESSIONS + 4
        )
    })?;
    let mut emgd = launch(&env)?;
    env.wait_listening(&mut emgd, smtp_port, Duration::from_secs(10))?;
    let before = emgd.sample()?;
    let smsc_before = env.smsc_sample()?.cpu_s;
    let store_before = env.store_metrics()?;
    let started_us = unix_us();
    let started = Instant::now();
    let children_before = children_cpu();
    let out = Command::new(source)
        .args(["-s", &MAIL_SESSIONS.to_string()])
        .args(["-m", &count.to_string()])
        .args(["-l", &MAIL_SIZE.to_string()])
        .args([
            "-f",
            "alice@example.com",
            "-t",
            "46701234567@sms.example.com",
        ])
        .args(["-M", "bench.example"])
        .arg("-d")
        .arg(format!("127.0.0.1:{smtp_port}"))
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {source}"))?;
    let seconds = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "smtp-source failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    // smtp-source's own CPU is a child's: read it from the OS's account of waited children.
    let source_cpu = children_cpu() - children_before;
    crate::bench_env::wait_until(
        plan.timeout(count),
        "emgsmsc to receive every mail as SMS",
        || Ok(env.smsc().accepted >= count as u64),
    )?;
    let after = emgd.sample()?;
    let store = env.store_metrics()?.since(&store_before, count);
    let peers = peers_cpu(source_cpu, env.smsc_sample()?.cpu_s - smsc_before, count);
    let smsc = env.smsc();
    emgd.terminate(Duration::from_secs(30))?;
    env.stop_smsc();
    let delivered_s = (smsc.last_submit_us - started_us) as f64 / 1e6;
    Ok(Row {
        name: "SMTP in (smtp-source)>store>SMPP".into(),
        messages: count,
        accepted_per_s: count as f64 / seconds,
        delivered_per_s: smsc.accepted as f64 / delivered_s,
        cpu_s_per_100k: (after.cpu_s - before.cpu_s) / count as f64 * 100_000.0,
        peak_rss_mb: mb(after.peak_rss_kb),
        notes: format!(
            "smtp-source -s {MAIL_SESSIONS} -l {MAIL_SIZE} -d (sessions send mail after mail); {peers} (load = smtp-source); {store}"
        ),
        ..Row::empty(8)
    })
}

/// 8b: SMPP in -> store -> outgoing SMTP -> smtp-sink.
fn mails_out(plan: &Plan, rt: &Runtime, sink: &str) -> anyhow::Result<Row> {
    let count = plan.count(8);
    let sink_port = free_port();
    let mut sink_child = Command::new(sink)
        .args(["-u", "nobody"])
        .arg(format!("127.0.0.1:{sink_port}"))
        .arg("512")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot run {sink}"))?;
    let result = (|| {
        crate::bench_env::wait_until(Duration::from_secs(10), "smtp-sink to listen", || {
            Ok(std::net::TcpStream::connect(("127.0.0.1", sink_port)).is_ok())
        })?;
        let mut env = prepare_world(plan, "scenario8b", SESSIONS, |_| {
            format!(
                r#"
[connector.mail-out]
type = "outgoing"
protocol = "smtp"
address = "127.0.0.1:{sink_port}"
instances = {OUT_INSTANCES}
windowsize = {OUT_WINDOW}
smtp_starttls = "no"
smtp_domains = ["sms.example.com"]

[[route]]
from = "smpp-in"
to = "mail-out"
"#
            )
        })?;
        let mut emgd = launch(&env)?;
        let before = emgd.sample()?;
        let load_before = own_cpu();
        let store_before = env.store_metrics()?;
        let a = load_args(plan, &env, SESSIONS, count, None, true);
        let report = rt.block_on(load::run(a.clone()))?;
        let after = emgd.sample()?;
        let store = env.store_metrics()?.since(&store_before, count);
        let peers = peers_cpu(own_cpu() - load_before, 0.0, count);
        crate::bench::check_complete(&report, &a)?;
        emgd.terminate(Duration::from_secs(30))?;
        env.stop_smsc();
        Ok(Row {
            name: "SMPP>store>SMTP out (smtp-sink)".into(),
            messages: count,
            accepted_per_s: report.accepted as f64 / report.resp_seconds,
            delivered_per_s: report.receipts as f64 / report.seconds,
            dlrs_per_s: Some(report.receipts as f64 / report.seconds),
            resp_ms: percentiles(&report.resp_us),
            dlr_ms: percentiles(&report.dlr_us),
            cpu_s_per_100k: (after.cpu_s - before.cpu_s) / count as f64 * 100_000.0,
            peak_rss_mb: mb(after.peak_rss_kb),
            notes: format!(
                "{OUT_INSTANCES} instances x window {OUT_WINDOW}, sessions kept open; delivered = mails smtp-sink took (their reports); {peers}; {store}"
            ),
            ..Row::empty(8)
        })
    })();
    let _ = sink_child.kill();
    let _ = sink_child.wait();
    result
}

/// User + system CPU seconds of this process's waited-for children.
fn children_cpu() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) } != 0 {
        return 0.0;
    }
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

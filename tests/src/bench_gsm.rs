//! Scenario 11 of the benchmark: SMPP in -> durable store -> the GSM connector -> a socat pty
//! pair -> emgmodem (the modem simulator proven against gammu, smstools and
//! python-gsmmodem-new), flat out, without status reports. A modem takes one AT+CMGS at a
//! time, so this measures the connector's AT dialogue and its CPU, not a radio: a real modem
//! sends a few messages a second.
//!
//! Why no receipts: a status report names its message by recipient and the 8-bit TP-MR, so
//! one recipient can have at most 256 reports outstanding. The load sends everything to one
//! number at thousands a second, which wraps the TP-MR within the report delay and makes
//! two messages share a DLR entry; no real modem gets near that (see bench/README.md).

use crate::bench::{launch, load_args, mb, own_cpu, percentiles, prepare_world, Plan, Row};
use crate::pty::{PtyPair, Simulator};
use anyhow::bail;
use std::time::Duration;
use tokio::runtime::Runtime;

/// Load sessions (the modem is the bottleneck; more sessions only queue).
const SESSIONS: usize = 2;

/// Scenario 11: SMPP in, GSM out through emgmodem, status reports back as receipts.
pub fn smpp_to_gsm(plan: &Plan, rt: &Runtime) -> anyhow::Result<Row> {
    let count = plan.count(11);
    // PtyPair::new(env.dir) below links the host end here.
    let env = prepare_world(plan, "scenario11", SESSIONS, |env| {
        let host = env.dir.join("host");
        format!(
            r#"
[connector.modem]
type = "outgoing"
protocol = "gsm"
address = "{}"
gsm_poll = 60

[[route]]
prefix = "4"
to = "modem"
"#,
            host.display()
        )
    })?;
    let pty = PtyPair::new(&env.dir)?;
    let mut modem = Simulator::start(&env.bins.emgmodem, &pty.modem, &[])?;
    let mut emgd = launch(&env)?;
    modem.wait_for("emgd to set the modem up", Duration::from_secs(30), |e| {
        e["event"] == "command" && e["line"] == "AT+CNMI=2,1,0,1,0"
    })?;
    let before = emgd.sample()?;
    let load_before = own_cpu();
    let a = load_args(plan, &env, SESSIONS, count, None, false);
    let report = rt.block_on(crate::load::run(a))?;
    if report.accepted != count {
        bail!(
            "incomplete: {} accepted, {} refused of {count}",
            report.accepted,
            report.refused
        );
    }
    // Every message through the modem: the load ends at the last answer, the modem later.
    let started = std::time::Instant::now();
    let mut sent = 0;
    while sent < count {
        modem.drain();
        sent = modem.seen.iter().filter(|e| e["event"] == "sent").count();
        if started.elapsed() > plan.timeout(count) {
            bail!("{sent} of {count} messages reached the modem");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let drained_s = report.seconds.max(0.0) + started.elapsed().as_secs_f64();
    let after = emgd.sample()?;
    emgd.terminate(Duration::from_secs(30))?;
    let load_cpu = (own_cpu() - load_before) / count as f64 * 100_000.0;
    let cpu_s = after.cpu_s - before.cpu_s;
    Ok(Row {
        messages: count,
        accepted_per_s: report.accepted as f64 / report.resp_seconds,
        delivered_per_s: sent as f64 / drained_s,
        dlrs_per_s: None,
        resp_ms: percentiles(&report.resp_us),
        dlr_ms: None,
        cpu_s_per_100k: cpu_s / count as f64 * 100_000.0,
        peak_rss_mb: mb(after.peak_rss_kb),
        notes: format!(
            "{SESSIONS} SMPP sessions; one modem on a socat pty, AT+CMGS one at a time, no status reports; delivered/s until the modem had all; load CPU s/100k {load_cpu:.1}"
        ),
        ..Row::empty(11)
    })
}

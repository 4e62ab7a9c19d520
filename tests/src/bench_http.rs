//! Scenario 3: HTTP in -> store -> SMPP out (emgsmsc), once without receipts and once with a
//! DLR callback per message, driven by [`crate::httpload`].
//!
//! It runs only when emgd has an incoming HTTP connector: the configuration must pass
//! `emgd --check-config` and emgd must start with it and listen. Otherwise the row says
//! `not available: <why>` (the diagnostic or emgd's own refusal), never a figure.

use crate::bench::{
    launch, mb, own_cpu, peers_cpu, percentiles, prepare_world, retry_ports, Plan, Row,
};
use crate::bench_env::{Env, PASSWORD, USER};
use crate::httpload::{self, default_params};
use crate::smsc::unix_us;
use anyhow::bail;
use std::time::Duration;
use tokio::runtime::Runtime;

/// Concurrent keep-alive connections of the HTTP load.
const CONNECTIONS: usize = 32;
/// The send path of the incoming HTTP connector (EMG's).
const SEND_PATH: &str = "/bin/send";

fn http_connector(env: &Env) -> String {
    format!(
        r#"
[connector.http-in]
type = "incoming"
protocol = "http"
address = "127.0.0.1:{}"
instances = {}
"#,
        env.http_port,
        CONNECTIONS + 8
    )
}

/// Both variants: without receipts, then with a callback per message.
pub fn scenario(plan: &Plan, rt: &Runtime) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for callbacks in [false, true] {
        let row = match retry_ports(|| variant(plan, rt, callbacks))? {
            Ok(row) => row,
            Err(why) => {
                // Not available: one row says why, for both variants.
                return Ok(vec![Row {
                    unavailable: Some(format!("not available: {why}")),
                    ..Row::empty(3)
                }]);
            }
        };
        rows.push(row);
    }
    Ok(rows)
}

/// One variant; `Ok(Err(why))` when emgd has no HTTP connector to run it with.
fn variant(plan: &Plan, rt: &Runtime, callbacks: bool) -> anyhow::Result<Result<Row, String>> {
    let count = plan.count(3);
    let name = if callbacks {
        "scenario3b"
    } else {
        "scenario3a"
    };
    let mut env = prepare_world(plan, name, 0, http_connector)?;
    if let Err(why) = env.check_config()? {
        return Ok(Err(why));
    }
    let mut emgd = match launch(&env) {
        Ok(d) => d,
        // Only a build without the protocol makes the scenario unavailable; any other
        // failure to start is a failure.
        Err(e) if format!("{e:#}").contains("cannot run yet") => {
            let text = env.emgd_stderr();
            let why = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_string())
                .unwrap_or_else(|| format!("{e:#}"));
            return Ok(Err(why));
        }
        Err(e) => return Err(e),
    };
    env.wait_listening(&mut emgd, env.http_port, Duration::from_secs(10))?;
    let mut params = default_params(USER, PASSWORD);
    if !callbacks {
        params.retain(|(k, _)| k != "dlr-url");
    }
    let args = httpload::Args {
        url: format!("http://127.0.0.1:{}{SEND_PATH}", env.http_port),
        post: false,
        params,
        connections: CONNECTIONS,
        count,
        callbacks,
        callback_port: 0,
        timeout: plan.timeout(count),
    };
    let before = emgd.sample()?;
    let (load_before, smsc_before) = (own_cpu(), env.smsc_sample()?.cpu_s);
    let store_before = env.store_metrics()?;
    let started_us = unix_us();
    let report = rt.block_on(httpload::run(args))?;
    let after = emgd.sample()?;
    let store = env.store_metrics()?.since(&store_before, count);
    let peers = peers_cpu(
        own_cpu() - load_before,
        env.smsc_sample()?.cpu_s - smsc_before,
        count,
    );
    if report.accepted != count || (callbacks && report.callbacks != count) {
        bail!(
            "incomplete: {} accepted, {} refused ({}), {} callbacks of {count}",
            report.accepted,
            report.refused,
            report.first_refusal.unwrap_or_default(),
            report.callbacks
        );
    }
    // Without receipts the last submit may still be on its way when the last response is in.
    crate::bench_env::wait_until(
        Duration::from_secs(60),
        "emgsmsc to receive everything",
        || Ok(env.smsc().accepted >= count as u64),
    )?;
    let smsc = env.smsc();
    emgd.terminate(Duration::from_secs(30))?;
    env.stop_smsc();
    let delivered_s = (smsc.last_submit_us - started_us) as f64 / 1e6;
    let (what, dlrs) = if callbacks {
        (
            "DLR callback per message",
            Some(report.callbacks as f64 / report.seconds),
        )
    } else {
        ("no DLRs", None)
    };
    Ok(Ok(Row {
        name: format!("HTTP>store>SMPP, {what}"),
        messages: count,
        accepted_per_s: report.accepted as f64 / report.resp_seconds,
        delivered_per_s: smsc.accepted as f64 / delivered_s,
        dlrs_per_s: dlrs,
        resp_ms: percentiles(&report.resp_us),
        dlr_ms: callbacks.then(|| percentiles(&report.dlr_us)).flatten(),
        cpu_s_per_100k: (after.cpu_s - before.cpu_s) / count as f64 * 100_000.0,
        peak_rss_mb: mb(after.peak_rss_kb),
        notes: format!("{CONNECTIONS} keep-alive connections, GET {SEND_PATH}; {peers}; {store}"),
        ..Row::empty(3)
    }))
}

//! Scenario 13, the soak (`--soak MINUTES`): minute after minute, SMPP submits with receipts
//! at a fixed rate and HTTP requests with a DLR callback each, both into emgd and out to
//! emgsmsc; in the middle of every minute the outgoing connector is bounced (MGP
//! `forceclose`, then `forceclose_clear`) and the configuration reloaded (MGP `reload`). At
//! the end of each minute emgd's resident memory (VmRSS), its open files (`/proc/PID/fd`)
//! and the store's size (file + WAL) are read; the row prints the series. Flat is the target.

use crate::bench::{launch, load_args, mb, prepare_world_with, retry_ports, Plan, Row};
use crate::bench_env::{Env, OUT, PASSWORD, USER};
use crate::bench_mgp::Mgp;
use crate::httpload::{self, default_params};
use anyhow::bail;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// SMPP sessions and HTTP connections of the load.
const SESSIONS: usize = 2;
const CONNECTIONS: usize = 4;
const MINUTE: Duration = Duration::from_secs(60);
/// The store keeps finished messages 5 minutes and their routelog 10: from then on its size
/// must stay flat, as an operator's does under its `retention`.
const RETENTION: &str = "retention = 300\nroutelog_retention = 600\n";

/// One minute's reading.
#[derive(Debug, Clone, Copy)]
struct Sample {
    minute: u64,
    rss_mb: f64,
    open_files: usize,
    store_mb: f64,
    /// Messages queued in emgd at the end of the minute.
    queued: f64,
    /// Messages accepted a second over the minute, SMPP and HTTP.
    per_s: f64,
    smpp: (usize, usize),
    http: (usize, usize),
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

fn store_mb(env: &Env) -> f64 {
    crate::bench_size::store_bytes(env) as f64 / 1e6
}

fn http_connector(env: &Env) -> String {
    format!(
        "\n[connector.http-in]\ntype = \"incoming\"\nprotocol = \"http\"\naddress = \"127.0.0.1:{}\"\ninstances = {}\n",
        env.http_port,
        CONNECTIONS + 4
    )
}

/// Bounce the outgoing connector and reload the configuration, `after` into the minute.
async fn bounce_and_reload(mgp_port: u16, after: Duration) -> anyhow::Result<()> {
    tokio::time::sleep(after).await;
    let mut mgp = Mgp::login(mgp_port, USER, PASSWORD).await?;
    mgp.call(common::mgp::Op::Forceclose {
        name: OUT.into(),
        persist: false,
    })
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    mgp.forceclose_clear(OUT).await?;
    mgp.call(common::mgp::Op::Reload).await?;
    Ok(())
}

pub fn scenario(plan: &Plan, rt: &Runtime, minutes: u64) -> anyhow::Result<Row> {
    let (smpp_n, http_n) = plan.soak_per_minute();
    let (env, mut emgd) = retry_ports(|| {
        let env = prepare_world_with(plan, "scenario13", SESSIONS, RETENTION, http_connector)?;
        let emgd = launch(&env)?;
        Ok((env, emgd))
    })?;
    env.wait_listening(&mut emgd, env.http_port, Duration::from_secs(10))?;
    let emgd_started = emgd.sample()?;
    let pid = emgd.pid();
    let started = Instant::now();
    let mut samples = vec![Sample {
        minute: 0,
        rss_mb: mb(rss_kb(pid)),
        open_files: open_files(pid),
        store_mb: store_mb(&env),
        queued: env.store_metrics()?.queued,
        per_s: 0.0,
        smpp: (0, 0),
        http: (0, 0),
    }];
    eprintln!("soak series (minute, RSS MB, open files, store MB, queued, msg/s, SMPP accepted/receipts, HTTP accepted/callbacks):");
    for minute in 1..=minutes {
        let begun = Instant::now();
        let mut smpp = load_args(plan, &env, SESSIONS, smpp_n, None, true);
        smpp.rate = Some(smpp_n as f64 / (MINUTE.as_secs_f64() * 0.8));
        // Paced over most of the minute: the bounce's backlog and the receipts may take
        // another minute on a busy machine, never more.
        smpp.timeout = 2 * MINUTE;
        let mut params = default_params(USER, PASSWORD);
        for (k, v) in &mut params {
            if k == "text" {
                *v = format!("soak minute {minute} message {{n}}");
            }
        }
        let http = httpload::Args {
            url: format!("http://127.0.0.1:{}/bin/send", env.http_port),
            post: false,
            params,
            connections: CONNECTIONS,
            count: http_n,
            callbacks: true,
            callback_port: 0,
            timeout: 2 * MINUTE,
        };
        let (s, h, b) = rt.block_on(async {
            tokio::join!(
                crate::load::run(smpp.clone()),
                httpload::run(http),
                bounce_and_reload(env.mgp_port, MINUTE / 2)
            )
        });
        b?;
        let (s, h) = (s?, h?);
        if !s.complete(&smpp) || s.refused > 0 || h.accepted != http_n || h.callbacks != http_n {
            bail!(
                "minute {minute} incomplete: SMPP {} accepted, {} refused, {} receipts of {smpp_n}; HTTP {} accepted, {} callbacks of {http_n} ({})",
                s.accepted,
                s.refused,
                s.receipts,
                h.accepted,
                h.callbacks,
                h.first_refusal.unwrap_or_default()
            );
        }
        if let Some(rest) = MINUTE.checked_sub(begun.elapsed()) {
            std::thread::sleep(rest);
        }
        if let Some(status) = emgd.exited() {
            bail!("emgd exited in minute {minute}: {status}");
        }
        let sample = Sample {
            minute,
            rss_mb: mb(rss_kb(pid)),
            open_files: open_files(pid),
            store_mb: store_mb(&env),
            queued: env.store_metrics()?.queued,
            per_s: (s.accepted + h.accepted) as f64 / begun.elapsed().as_secs_f64(),
            smpp: (s.accepted, s.receipts),
            http: (h.accepted, h.callbacks),
        };
        eprintln!("  {}", line(&sample));
        samples.push(sample);
    }
    let seconds = started.elapsed().as_secs_f64();
    let after = emgd.sample()?;
    emgd.terminate(Duration::from_secs(60))?;
    let mut env = env;
    env.stop_smsc();
    let total: usize = samples.iter().map(|s| s.smpp.0 + s.http.0).sum();
    let dlrs: usize = samples.iter().map(|s| s.smpp.1 + s.http.1).sum();
    Ok(Row {
        name: format!("soak, {minutes} min, SMPP+HTTP, bounces and reloads"),
        messages: total,
        accepted_per_s: total as f64 / seconds,
        delivered_per_s: total as f64 / seconds,
        dlrs_per_s: Some(dlrs as f64 / seconds),
        cpu_s_per_100k: (after.cpu_s - emgd_started.cpu_s) / total.max(1) as f64 * 100_000.0,
        peak_rss_mb: mb(after.peak_rss_kb),
        notes: format!(
            "{smpp_n} SMPP submits ({SESSIONS} sessions, receipts) and {http_n} HTTP requests ({CONNECTIONS} connections, a DLR callback each) a minute, the outgoing connector bounced and the configuration reloaded mid-minute; retention 300 s, routelog 600 s; series (minute: RSS MB / open files / store MB / queued / msg/s): {}",
            series(&samples)
        ),
        ..Row::empty(13)
    })
}

fn line(s: &Sample) -> String {
    format!(
        "{:>4} {:8.1} {:6} {:8.1} {:6} {:7.0} {:>7}/{:<7} {:>6}/{:<6}",
        s.minute,
        s.rss_mb,
        s.open_files,
        s.store_mb,
        s.queued,
        s.per_s,
        s.smpp.0,
        s.smpp.1,
        s.http.0,
        s.http.1
    )
}

fn series(samples: &[Sample]) -> String {
    samples
        .iter()
        .map(|s| {
            format!(
                "{}: {:.0}/{}/{:.1}/{}/{:.0}",
                s.minute, s.rss_mb, s.open_files, s.store_mb, s.queued, s.per_s
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

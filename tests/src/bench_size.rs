//! Scenario 6: the store stays bounded. Scenario 1's path (SMPP in, store, SMPP out, receipt
//! back) for many messages (10,000,000 by default) with a short `retention`, while the size of
//! emgd's database (file plus WAL) is read every few seconds. Once the retention is reached the
//! purge deletes as much as comes in and the freed pages are used again, so the size levels
//! off; the row prints the series.

use crate::bench::{
    check_complete, launch, load_args, mb, own_cpu, peers_cpu, percentiles, prepare_world_with,
    retry_ports, Plan, Row, SESSIONS, WINDOW,
};
use crate::bench_env::Env;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// `retention` and `routelog_retention` of the run (seconds), and how often the size is read.
fn settings(plan: &Plan) -> (u64, u64, Duration) {
    if plan.quick {
        (2, 4, Duration::from_millis(500))
    } else {
        (30, 60, Duration::from_secs(10))
    }
}

/// Bytes of the store's files now.
pub(crate) fn store_bytes(env: &Env) -> u64 {
    ["emg.sqlite", "emg.sqlite-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(env.dir.join("data").join(f)).ok())
        .map(|m| m.len())
        .sum()
}

/// One reading: seconds since the start, messages the SMSC had, store MB.
type Reading = (f64, u64, f64);

pub fn scenario(plan: &Plan, rt: &Runtime) -> anyhow::Result<Row> {
    let count = plan.count(6);
    let (retention, routelog, every) = settings(plan);
    let general = format!("retention = {retention}\nroutelog_retention = {routelog}");
    let (env, mut emgd) = retry_ports(|| {
        let env = prepare_world_with(plan, "scenario6", SESSIONS, &general, |_| String::new())?;
        let emgd = launch(&env)?;
        Ok((env, emgd))
    })?;
    let env = Arc::new(Mutex::new(env));
    let readings: Arc<Mutex<Vec<Reading>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let sampler = {
        let (env, readings, stop) = (env.clone(), readings.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let reading = {
                    let env = env.lock().unwrap_or_else(|p| p.into_inner());
                    (
                        started.elapsed().as_secs_f64(),
                        env.smsc().accepted,
                        store_bytes(&env) as f64 / 1e6,
                    )
                };
                readings
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(reading);
                std::thread::sleep(every);
            }
        })
    };
    let (a, before, load_before, smsc_before, store_before) = {
        let env = env.lock().unwrap_or_else(|p| p.into_inner());
        (
            load_args(plan, &env, SESSIONS, count, None, true),
            emgd.sample()?,
            own_cpu(),
            env.smsc_sample()?.cpu_s,
            env.store_metrics()?,
        )
    };
    let report = rt.block_on(crate::load::run(a.clone()));
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let report = report?;
    let after = emgd.sample()?;
    let mut env = Arc::try_unwrap(env)
        .map_err(|_| anyhow::anyhow!("the size sampler still holds the scenario"))?
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let store_after = env.store_metrics()?;
    let store = store_after.since(&store_before, count);
    let peers = peers_cpu(
        own_cpu() - load_before,
        env.smsc_sample()?.cpu_s - smsc_before,
        count,
    );
    check_complete(&report, &a)?;
    let final_mb = store_bytes(&env) as f64 / 1e6;
    readings.lock().unwrap_or_else(|p| p.into_inner()).push((
        started.elapsed().as_secs_f64(),
        env.smsc().accepted,
        final_mb,
    ));
    emgd.terminate(Duration::from_secs(60))?;
    env.stop_smsc();
    let readings = readings.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let series = size_series(&readings, count as u64);
    let peak = readings.iter().map(|r| r.2).fold(final_mb, f64::max);
    let half = readings
        .iter()
        .find(|r| r.1 >= count as u64 / 2)
        .map_or(0.0, |r| r.2);
    let (purged_messages, purged_log) = (
        store_after.purged.0 - store_before.purged.0,
        store_after.purged.1 - store_before.purged.1,
    );
    eprintln!("scenario 6 size series (s, messages at the SMSC, MB):");
    for (t, n, size) in &readings {
        eprintln!("  {t:7.1} {n:>10} {size:9.1}");
    }
    Ok(Row {
        name: "store size, short retention".into(),
        messages: count,
        accepted_per_s: report.accepted as f64 / report.resp_seconds,
        delivered_per_s: report.accepted as f64 / report.seconds,
        dlrs_per_s: Some(report.receipts as f64 / report.seconds),
        resp_ms: percentiles(&report.resp_us),
        dlr_ms: percentiles(&report.dlr_us),
        cpu_s_per_100k: (after.cpu_s - before.cpu_s) / count as f64 * 100_000.0,
        peak_rss_mb: mb(after.peak_rss_kb),
        notes: format!(
            "retention {retention} s, routelog {routelog} s; store MB by messages delivered: {series}; at half the run {half:.0} MB, peak {peak:.0} MB, at the end {final_mb:.0} MB; purged {purged_messages:.0} messages, {purged_log:.0} routelog rows; {SESSIONS} sessions x window {WINDOW}; {peers}; {store}"
        ),
        ..Row::empty(6)
    })
}

/// The size at each tenth of the run, as "1M 52, 2M 61, ...".
fn size_series(readings: &[Reading], count: u64) -> String {
    (1..=10)
        .filter_map(|tenth| {
            let at = count * tenth / 10;
            let r = readings.iter().find(|r| r.1 >= at)?;
            Some(format!("{} {:.0}", short(at), r.2))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn short(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(100_000) {
        format!("{:.1}M", n as f64 / 1e6)
    } else if n >= 1_000 {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_reads_each_tenth() {
        let readings: Vec<Reading> = (0..=20)
            .map(|i| (i as f64, i * 500, 10.0 + i as f64))
            .collect();
        assert_eq!(
            size_series(&readings, 10_000),
            "1k 12, 2k 14, 3k 16, 4k 18, 5k 20, 6k 22, 7k 24, 8k 26, 9k 28, 10k 30"
        );
        assert_eq!(short(10_000_000), "10.0M");
    }
}

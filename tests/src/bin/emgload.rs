//! emgload: an SMPP load generator. Binds N transceiver sessions, submits windowed
//! submit_sm flat out (or at a target rate), waits for every delivery receipt, and prints
//! messages/second and latency percentiles (submit -> submit_sm_resp, submit -> receipt).
//!
//!   emgload --port 2775 --user demo --password demo --sessions 4 --window 64 --count 100000

use anyhow::{anyhow, bail};
use std::time::Duration;
use tests::load::{percentile, run, Args};

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => a.port = val()?.parse()?,
            "--user" => a.user = val()?,
            "--password" => a.password = val()?,
            "--sessions" => a.sessions = val()?.parse()?,
            "--window" => a.window = val()?.parse()?,
            "--count" => a.count = val()?.parse()?,
            "--rate" => a.rate = Some(val()?.parse()?),
            "--timeout" => a.timeout = Duration::from_secs(val()?.parse()?),
            "--no-dlr" => a.dlr = false,
            "-h" | "--help" => {
                println!("emgload [--port P] [--user U] [--password P] [--sessions N] [--window W] [--count C] [--rate MSG_PER_S] [--no-dlr] [--timeout S]");
                std::process::exit(0);
            }
            other => bail!("unknown option {other} (try --help)"),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = parse_args()?;
    let total = run(a.clone()).await?;
    let secs = total.seconds;
    println!(
        "sessions={} window={} count={} rate={}",
        a.sessions,
        a.window,
        a.count,
        a.rate
            .map(|r| r.to_string())
            .unwrap_or_else(|| "flat-out".into())
    );
    println!(
        "accepted={} refused={} receipts={} elapsed={secs:.2}s",
        total.accepted, total.refused, total.receipts
    );
    println!(
        "throughput: {:.0} msg/s accepted, {:.0} receipts/s",
        total.accepted as f64 / secs,
        total.receipts as f64 / secs
    );
    println!(
        "submit->resp ms: p50={:.2} p99={:.2} p99.9={:.2} max={:.2}",
        percentile(&total.resp_us, 0.5),
        percentile(&total.resp_us, 0.99),
        percentile(&total.resp_us, 0.999),
        percentile(&total.resp_us, 1.0)
    );
    if a.dlr {
        println!(
            "submit->receipt ms: p50={:.2} p99={:.2} p99.9={:.2} max={:.2}",
            percentile(&total.dlr_us, 0.5),
            percentile(&total.dlr_us, 0.99),
            percentile(&total.dlr_us, 0.999),
            percentile(&total.dlr_us, 1.0)
        );
    }
    if !total.complete(&a) {
        bail!("incomplete run");
    }
    Ok(())
}

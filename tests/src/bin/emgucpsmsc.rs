//! emgucpsmsc: a UCP/EMI SMSC simulator. Accepts session management (60), answers submits
//! (51) with `AdC:SCTS` and sends a delivery notification (53) after a delay when asked;
//! can send MO messages (52) and alerts (31), refuse a share of submits or wrong logins.
//! Prints its counters when it stops (SIGTERM, SIGINT).
//!
//!   emgucpsmsc --port 5000 --user emg --password secret --notify-delay-ms 100 --stats ucp.json

use anyhow::{anyhow, bail, Context};
use common::ucp::ErrorCode;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tests::ucp_smsc::{serve, Options, Stats, UcpSmsc};
use tokio::signal::unix::{signal, SignalKind};

const HELP: &str = "emgucpsmsc [options]
  --address HOST          listen address (default 127.0.0.1)
  --port P                listen port (default 5000; 0: any free port, printed at start)
  --user U --password P   accept only this account in operation 60 (default: anyone, no login needed)
  --notify-delay-ms MS    delay before each delivery notification (default 100)
  --notify-status S       delivered, buffered or not-delivered (default delivered)
  --notify-reason N       Rsn of the notifications (default 0)
  --fail-share F          share of submits refused, spread evenly, 0.0..1.0 (default 0)
  --fail-ec EC            EC of refused submits (default 02, syntax error)
  --mo N                  MO messages (52) sent on every session once logged in (default 0)
  --mo-interval-ms MS     between them (default 100)
  --mo-from A --mo-to A --mo-text T   their originator, recipient and text
  --alert-ms MS           send an alert (31) this often (default never)
  --window N              most operations of ours outstanding per session (default 20)
  --trace FILE            append every frame read (R) and written (W), in hex, one a line
  --stats FILE            keep the counters as JSON in FILE (rewritten every 100 ms)";

struct Args {
    address: String,
    port: u16,
    stats: Option<PathBuf>,
    opts: Options,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        address: "127.0.0.1".into(),
        port: 5000,
        stats: None,
        opts: Options::default(),
    };
    let (mut user, mut password) = (None, None);
    let mut it = std::env::args().skip(1);
    let ms = |v: String| -> anyhow::Result<Duration> { Ok(Duration::from_millis(v.parse()?)) };
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        let o = &mut a.opts;
        match flag.as_str() {
            "--address" => a.address = val()?,
            "--port" => a.port = val()?.parse()?,
            "--user" => user = Some(val()?),
            "--password" => password = Some(val()?),
            "--notify-delay-ms" => o.notify_delay = ms(val()?)?,
            "--notify-status" => o.notify_status = val()?.parse()?,
            "--notify-reason" => o.notify_reason = val()?.parse()?,
            "--fail-share" => {
                o.fail_share = val()?.parse()?;
                if !(0.0..=1.0).contains(&o.fail_share) {
                    bail!("--fail-share must be between 0.0 and 1.0");
                }
            }
            "--fail-ec" => o.fail_ec = ErrorCode(val()?.parse().context("--fail-ec takes 0..99")?),
            "--mo" => o.mo_count = val()?.parse()?,
            "--mo-interval-ms" => o.mo_interval = ms(val()?)?,
            "--mo-from" => o.mo_from = val()?,
            "--mo-to" => o.mo_to = val()?,
            "--mo-text" => o.mo_text = val()?,
            "--alert-ms" => o.alert_interval = Some(ms(val()?)?),
            "--window" => o.window = val()?.parse::<usize>()?.clamp(1, 99),
            "--trace" => o.trace = Some(val()?.into()),
            "--stats" => a.stats = Some(val()?.into()),
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other} (try --help)"),
        }
    }
    match (user, password) {
        (Some(u), Some(p)) => a.opts.credentials = Some((u, p)),
        (None, None) => {}
        _ => bail!("--user and --password go together"),
    }
    Ok(a)
}

/// Replace `path` atomically, so a reader never sees half a file.
fn write_stats(path: &Path, stats: &Stats) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(stats)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = parse_args()?;
    let listener = tokio::net::TcpListener::bind((a.address.as_str(), a.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", a.address, a.port))?;
    let smsc = UcpSmsc::new(a.opts)?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    println!("emgucpsmsc listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let server = tokio::spawn(serve(listener, smsc.clone(), stop_rx));
    if let Some(path) = &a.stats {
        write_stats(path, &smsc.stats())?;
        let (path, smsc) = (path.clone(), smsc.clone());
        tokio::spawn(async move {
            let mut last = Stats::default();
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let now = smsc.stats();
                if now != last {
                    if let Err(e) = write_stats(&path, &now) {
                        eprintln!("emgucpsmsc: cannot write {}: {e}", path.display());
                    }
                    last = now;
                }
            }
        });
    }
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    let _ = stop_tx.send(true);
    let _ = server.await;
    let stats = smsc.stats();
    if let Some(path) = &a.stats {
        write_stats(path, &stats)?;
    }
    println!("emgucpsmsc: {}", stats.line());
    std::io::stdout().flush()?;
    Ok(())
}

//! emgsmsc: an SMPP SMSC simulator. Accepts binds, answers submit_sm with a message id and
//! sends a delivery receipt after a delay; answers enquire_link and unbind; can refuse a share
//! of submits or throttle sessions. Prints its counters when it stops (SIGTERM, SIGINT).
//!
//!   emgsmsc --port 2776 --dlr-delay-ms 100 --ids hex --stats smsc.json

use anyhow::{anyhow, bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tests::smsc::{serve, Options, Smsc, Stats};
use tokio::signal::unix::{signal, SignalKind};

const HELP: &str = "emgsmsc [options]
  --address HOST        listen address (default 127.0.0.1)
  --port P              listen port (default 2775; 0: any free port, printed at start)
  --user U --password P accept only this system_id and password (default: any)
  --ids decimal|hex     message ids in submit_sm_resp (default decimal)
  --receipt-ids decimal|hex   ids in receipts (default: as --ids)
  --first-id N          first message id (default 1)
  --dlr-delay-ms MS     delay before each receipt (default 100)
  --dlr-status WORD     receipt state: DELIVRD, UNDELIV, EXPIRED, ... (default DELIVRD)
  --fail-share F        share of submits refused, spread evenly, 0.0..1.0 (default 0)
  --fail-status CODE    status of refused submits, decimal or 0x.. (default 0x08)
  --throttle N          most submits per second per session, above: ESME_RTHROTTLED
  --dlr-window N        most unanswered receipts per session (default 1024)
  --stats FILE          keep the counters as JSON in FILE (rewritten every 100 ms)";

struct Args {
    address: String,
    port: u16,
    stats: Option<PathBuf>,
    opts: Options,
}

fn parse_status(s: &str) -> anyhow::Result<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => Ok(u32::from_str_radix(hex, 16)?),
        None => Ok(s.parse()?),
    }
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        address: "127.0.0.1".into(),
        port: 2775,
        stats: None,
        opts: Options::default(),
    };
    let (mut user, mut password) = (None, None);
    let mut receipt_ids = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        let o = &mut a.opts;
        match flag.as_str() {
            "--address" => a.address = val()?,
            "--port" => a.port = val()?.parse()?,
            "--user" => user = Some(val()?),
            "--password" => password = Some(val()?),
            "--ids" => o.ids = val()?.parse()?,
            "--receipt-ids" => receipt_ids = Some(val()?.parse()?),
            "--first-id" => o.first_id = val()?.parse()?,
            "--dlr-delay-ms" => o.dlr_delay = Duration::from_millis(val()?.parse()?),
            "--dlr-status" => {
                let v = val()?;
                o.dlr_status = v.parse().map_err(|e| anyhow!("--dlr-status: {e}"))?
            }
            "--fail-share" => {
                o.fail_share = val()?.parse()?;
                if !(0.0..=1.0).contains(&o.fail_share) {
                    bail!("--fail-share must be between 0.0 and 1.0");
                }
            }
            "--fail-status" => o.fail_status = parse_status(&val()?)?,
            "--throttle" => o.throttle = Some(val()?.parse()?),
            "--dlr-window" => o.dlr_window = val()?.parse::<usize>()?.max(1),
            "--stats" => a.stats = Some(val()?.into()),
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other} (try --help)"),
        }
    }
    a.opts.receipt_ids = receipt_ids.unwrap_or(a.opts.ids);
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
    let smsc = Smsc::new(a.opts);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    println!("emgsmsc listening on {}", listener.local_addr()?);
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
                        eprintln!("emgsmsc: cannot write {}: {e}", path.display());
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
    println!("emgsmsc: {}", stats.line());
    std::io::stdout().flush()?;
    Ok(())
}

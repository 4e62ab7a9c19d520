//! emgbench: runs the benchmark scenarios against emgd and emgsmsc and prints one table
//! (`bench/run` builds the release binaries and calls this). See `bench/README.md`.
//!
//!   emgbench [--quick] [--scenario N]... [--count N] [--json FILE]

use anyhow::{anyhow, bail, Context};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tests::bench::{self, Plan};
use tests::bench_env::Bins;

const HELP: &str = "emgbench [options]   (bench/run builds the release binaries, then runs this)
  --quick             smoke sizes: a few seconds in all (what CI runs)
  --scenario N        run scenario N (1..15); repeat for several; default 1 to 5, 9 to 11, 14, 15
                        1 SMPP in > store > SMPP out > DLR back, flat out
                        2 the same at a fixed rate (--rate, default 5000 msg/s)
                        3 HTTP in > SMPP out, without and with DLR callbacks
                        4 N queued behind a held connector: RSS, restart, drain
                        5 scenario 1 with a trivial plugin on every hook
                        6 scenario 1 with a short retention: the store's size over the run
                        7 side by side with Kannel (Debian's kannel, node load, npm smpp
                          simulator), alternating, with the CPU ratio
                        8 SMTP in (postfix's smtp-source) > SMPP out, and SMPP in >
                          SMTP out (postfix's smtp-sink): mails per second each way
                        9 SMPP in > store > UCP out (emgucpsmsc) > DLR back as deliver_sm
                        10 UCP in > store > SMPP out > DLR back as UCP 53
                        11 SMPP in > store > GSM out (emgmodem on a socat pty), flat out
                        12 scenario 1 with the store on PostgreSQL 15 (a server of its own):
                          emgd's and the server's CPU, transactions per message
                        14 MGP application in (newline JSON, as many sessions as 1) >
                          store > SMPP out > DLR pushed back over MGP
                        15 SMPP in > store > EBE out (a shell script per message,
                          8 instances) > DLR back as deliver_sm
  --soak MINUTES      scenario 13, the soak: SMPP and HTTP with receipts, the outgoing
                        connector bounced and the configuration reloaded every minute;
                        RSS, open files and store size each minute (only when asked for)
  --kannel            the same as --scenario 7
  --rounds N          runs of each gateway and variant in scenario 7 (default 2; quick: 1)
  --count N           messages per scenario (default 200k, 100k, 100k, 1M, 200k, 10M, 100k, 50k, 100k, 100k, 20k, 200k, -, 100k, 20k;
                      quick: 500, 1000 for 4, 2000 for 6)
  --rate R            offered rate of scenario 2 in msg/s (default 5000)
  --dlr-delay-ms MS   emgsmsc's delay before each receipt (default 10)
  --first-id N        emgsmsc's first message id (default 1000000000, ten digits)
  --bin-dir DIR       where emgd, emgsmsc and the scenarios' other binaries are (default:
                      beside this program); only those the chosen scenarios run must be there
  --dir DIR           scenario directories (default: a temporary directory, removed after)
  --keep              keep the scenario directories (configs, logs, stores)
  --json FILE         also write the rows as JSON
  --general TOML      general options added to every emgd configuration, for experiments
                      (e.g. --general 'group_commit_delay_us = 0'); repeat for several
  --balance ACCOUNT=AMOUNT
                      give ACCOUNT a prepaid balance of AMOUNT over MGP before the load of
                      scenarios 1, 2 and 5, so that with a price table (--general 'price =
                      [{ price = \"0.01\" }]') every message is charged; the load's user and
                      account is bench; repeat for several";

struct Cli {
    plan: Plan,
    keep: bool,
    temporary: bool,
    json: Option<PathBuf>,
}

fn parse() -> anyhow::Result<Cli> {
    let exe = std::env::current_exe().context("where am I?")?;
    let mut bin_dir = exe
        .parent()
        .ok_or_else(|| anyhow!("no directory for {}", exe.display()))?
        .to_path_buf();
    let (mut quick, mut scenarios, mut count) = (false, Vec::new(), None);
    let (mut rate, mut dlr_delay_ms, mut first_id) = (5_000.0, 10, 1_000_000_000);
    let (mut dir, mut keep, mut json) = (None, false, None);
    let mut rounds = None;
    let mut soak_minutes = 0;
    let mut general = String::new();
    let mut balances = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--quick" => quick = true,
            "--scenario" => {
                let n: u8 = val()?.parse()?;
                if !(1..=15).contains(&n) {
                    bail!("--scenario: 1 to 15");
                }
                scenarios.push(n);
            }
            "--kannel" => scenarios.push(7),
            "--soak" => {
                soak_minutes = val()?.parse::<u64>()?.max(1);
                scenarios.push(13);
            }
            "--rounds" => rounds = Some(val()?.parse::<usize>()?.max(1)),
            "--general" => {
                general.push_str(&val()?);
                general.push('\n');
            }
            "--balance" => {
                let v = val()?;
                let (account, amount) = v
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--balance: ACCOUNT=AMOUNT, not {v:?}"))?;
                balances.push((account.to_string(), amount.to_string()));
            }
            "--count" => count = Some(val()?.parse::<usize>()?.max(1)),
            "--rate" => rate = val()?.parse()?,
            "--dlr-delay-ms" => dlr_delay_ms = val()?.parse()?,
            "--first-id" => first_id = val()?.parse()?,
            "--bin-dir" => bin_dir = val()?.into(),
            "--dir" => dir = Some(PathBuf::from(val()?)),
            "--keep" => keep = true,
            "--json" => json = Some(val()?.into()),
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other} (try --help)"),
        }
    }
    if scenarios.is_empty() {
        scenarios = vec![1, 2, 3, 4, 5, 9, 10, 11, 14, 15];
    }
    let bins = Bins::in_dir(&bin_dir, &scenarios)?;
    let temporary = dir.is_none();
    let root = dir
        .unwrap_or_else(|| std::env::temp_dir().join(format!("emgbench-{}", std::process::id())));
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    Ok(Cli {
        plan: Plan {
            quick,
            scenarios,
            count,
            dlr_delay: Duration::from_millis(dlr_delay_ms),
            first_id,
            rate,
            rounds: rounds.unwrap_or(if quick { 1 } else { 2 }),
            general,
            balances,
            soak_minutes,
            root,
            bins,
        },
        keep,
        temporary,
        json,
    })
}

/// The machine, as the table's caption: cores, CPU model, load average.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    format!("{cores} cores ({model}), load average {load}")
}

fn main() -> anyhow::Result<()> {
    let cli = parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let caption = format!(
        "emg benchmark: {}; everything on 127.0.0.1, load generators on the same box; emgd {}",
        machine(),
        cli.plan.bins.emgd.display()
    );
    eprintln!("{caption}");
    let started = Instant::now();
    let rows = tests::bench_run::run(&cli.plan, &rt, |line| {
        eprintln!("[{:6.1}s] {line}", started.elapsed().as_secs_f64());
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{caption}")?;
    write!(out, "{}", bench::table(&rows))?;
    out.flush()?;
    if let Some(path) = &cli.json {
        std::fs::write(path, serde_json::to_vec_pretty(&rows)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let failed = rows.iter().any(|r| {
        r.unavailable
            .as_deref()
            .is_some_and(|u| u.starts_with("failed"))
    });
    if cli.keep || failed {
        eprintln!("scenario directories kept in {}", cli.plan.root.display());
    } else if cli.temporary {
        let _ = std::fs::remove_dir_all(&cli.plan.root);
    }
    if failed {
        bail!("a scenario failed (see the table)");
    }
    Ok(())
}

//! emghttpload: HTTP load for emgd's send API with DLR callbacks (see `tests::httpload`).
//!
//!   emghttpload --url http://127.0.0.1:8080/bin/send --count 20000 --connections 16

use anyhow::{anyhow, bail};
use std::time::Duration;
use tests::bench::percentiles;
use tests::httpload::{default_params, run, Args};

const HELP: &str = "emghttpload [options]
  --url URL             send API (default http://127.0.0.1:8080/bin/send)
  --post                POST a form instead of GET with a query
  --user U --password P credentials (default demo / demo)
  --to NUMBER           recipient (default 46701234567)
  --param NAME=VALUE    add or replace a parameter ({n}: request number, {callback}: its URL)
  --connections N       keep-alive connections (default 16)
  --count N             requests (default 10000)
  --no-callbacks        ask for no DLR callbacks
  --callback-port P     port of the callback receiver (default: any free port)
  --timeout S           give up after S seconds (default 120)";

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args::default();
    let (mut user, mut password) = ("demo".to_string(), "demo".to_string());
    let mut extra: Vec<(String, String)> = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = val()?,
            "--post" => a.post = true,
            "--user" => user = val()?,
            "--password" => password = val()?,
            "--to" => extra.push(("to".into(), val()?)),
            "--param" => {
                let v = val()?;
                let (k, v) = v
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--param wants NAME=VALUE, not {v}"))?;
                extra.push((k.to_string(), v.to_string()));
            }
            "--connections" => a.connections = val()?.parse::<usize>()?.max(1),
            "--count" => a.count = val()?.parse()?,
            "--no-callbacks" => a.callbacks = false,
            "--callback-port" => a.callback_port = val()?.parse()?,
            "--timeout" => a.timeout = Duration::from_secs(val()?.parse()?),
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other} (try --help)"),
        }
    }
    a.params = default_params(&user, &password);
    if !a.callbacks {
        a.params.retain(|(k, _)| k != "dlr-url");
    }
    for (k, v) in extra {
        a.params.retain(|(n, _)| *n != k);
        a.params.push((k, v));
    }
    Ok(a)
}

fn ms(us: Option<[f64; 3]>) -> String {
    // `percentiles` gives milliseconds.
    us.map(|[p50, p99, p999]| format!("p50 {p50:.2} ms, p99 {p99:.2} ms, p99.9 {p999:.2} ms"))
        .unwrap_or_else(|| "none".into())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = parse_args()?;
    let callbacks = a.callbacks;
    let r = run(a).await?;
    let total = r.accepted + r.refused;
    println!(
        "{total} requests in {:.2} s: {:.0} req/s; {} accepted, {} refused",
        r.resp_seconds,
        total as f64 / r.resp_seconds.max(1e-9),
        r.accepted,
        r.refused
    );
    if let Some(why) = &r.first_refusal {
        println!("first refusal: {why}");
    }
    println!("response latency: {}", ms(percentiles(&r.resp_us)));
    if callbacks {
        println!(
            "{} callbacks, the last {:.2} s after the start: {:.0} msg/s with callbacks",
            r.callbacks,
            r.seconds,
            r.callbacks as f64 / r.seconds.max(1e-9)
        );
        println!(
            "request -> callback latency: {}",
            ms(percentiles(&r.dlr_us))
        );
    }
    if r.refused > 0 || (callbacks && r.callbacks < r.accepted) {
        std::process::exit(1);
    }
    Ok(())
}

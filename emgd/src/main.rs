//! emgd: parse arguments, then hand over to `emgd::run`.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// emg messaging gateway daemon.
///
/// Receives messages on incoming connectors, routes and stores them durably, and sends them
/// out on outgoing connectors; delivery reports travel back to the sender. SIGTERM shuts down
/// gracefully; SIGHUP reloads the configuration and reopens the log files.
#[derive(Parser, Debug)]
#[command(name = "emgd", version)]
struct Args {
    /// Configuration file (TOML).
    #[arg(
        short,
        long,
        value_name = "FILE",
        default_value = "/etc/emg/emg.toml",
        env = "EMG_CONFIG"
    )]
    config: PathBuf,

    /// Validate the configuration and exit: 0 when valid, 1 listing every problem as
    /// FILE:LINE:COL: keyword: what is wrong.
    #[arg(long)]
    check_config: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.check_config {
        return match emgd::check_config(&args.config) {
            Ok(cfg) => {
                println!(
                    "{}: configuration OK ({} connectors)",
                    args.config.display(),
                    cfg.connectors.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EMG_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("emgd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(emgd::run(&args.config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emgd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

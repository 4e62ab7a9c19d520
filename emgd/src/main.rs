//! emgd: parse arguments, then hand over to `emgd::run`.

use clap::Parser;
use emgd::cli::Args;
use std::process::ExitCode;

/// mimalloc instead of glibc malloc: every message makes dozens of short-lived allocations
/// (addresses, bodies, store rows) across threads, where glibc's arenas spent about a sixth
/// of the daemon's CPU (perf, flat-out SMPP load).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    emgd::logs::general::init();
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

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
    if let Some(source) = &args.import_emg {
        return import_emg(source, &args.config);
    }
    if let Some(urls) = &args.migrate_store {
        return migrate_store(&urls[0], &urls[1]);
    }
    if let Some(emgd::cli::Command::Watchdog { force }) = args.command {
        if emgd::watchdog::under_systemd() && !force {
            eprintln!("emgd watchdog: {}", emgd::watchdog::UNDER_SYSTEMD);
            return ExitCode::FAILURE;
        }
    }
    emgd::logs::general::init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("emgd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let run = async {
        match args.command {
            Some(emgd::cli::Command::Watchdog { .. }) => emgd::watchdog::run(&args.config).await,
            None => emgd::run(&args.config).await,
        }
    };
    match runtime.block_on(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emgd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `--migrate-store FROM TO`: copy the SQLite store into PostgreSQL, say what was copied.
fn migrate_store(from: &str, to: &str) -> ExitCode {
    let from = std::path::Path::new(from.strip_prefix("sqlite:").unwrap_or(from));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("emgd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(emgd::store::migrate::sqlite_to_postgres(from, to)) {
        Ok(copied) => {
            let counts: Vec<String> = copied
                .tables
                .iter()
                .map(|(table, n)| format!("{table} {n}"))
                .collect();
            println!(
                "{} copied to {}: {}",
                emgd::store::migrate::sqlite_file(from).display(),
                emgd::redact_url(to),
                counts.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("emgd: --migrate-store: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--import-emg`: write the converted configuration, list what was not carried.
fn import_emg(source: &std::path::Path, config: &std::path::Path) -> ExitCode {
    match config::emg::import(source, config, config::applies::RUNS) {
        Ok(done) => {
            for w in &done.warnings {
                eprintln!("{w}");
            }
            let copied: Vec<String> = done.files.iter().map(|f| f.display().to_string()).collect();
            println!(
                "{}: written{}; {} keywords not carried (listed above); it passes --check-config",
                done.config.display(),
                if copied.is_empty() {
                    String::new()
                } else {
                    format!(" with {}", copied.join(", "))
                },
                done.warnings.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("emgd: {e}");
            ExitCode::FAILURE
        }
    }
}

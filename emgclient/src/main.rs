//! emgclient: parse arguments, run one command, exit with its code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = emgclient::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("emgclient: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(emgclient::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("emgclient: {failure}");
            ExitCode::from(failure.code())
        }
    }
}

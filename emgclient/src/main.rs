//! emgclient: parse arguments (EMG's spelling too), run one command, exit with its code.

use clap::{CommandFactory, FromArgMatches};
use emgclient::cli::Cli;
use emgclient::exit::{self, Failure};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().collect();
    let json = args.iter().any(|a| a == "--json");
    let mut command = Cli::command();
    let args = emgclient::emg_args::translate(&command, args);
    let cli = match command
        .try_get_matches_from_mut(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version: what was asked for, on stdout.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            if json {
                let message = e
                    .kind()
                    .as_str()
                    .unwrap_or("invalid command line")
                    .to_string();
                println!("{}", Failure::Usage(message).to_json());
            }
            return ExitCode::from(exit::INVALID_ARGUMENT);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("emgclient: cannot start the runtime: {e}");
            return ExitCode::from(exit::ERROR);
        }
    };
    match runtime.block_on(emgclient::cli::run(cli)) {
        Ok(()) | Err(Failure::OutputClosed) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("emgclient: {failure}");
            if json {
                // The reader may be gone too: nothing more to do about it.
                use std::io::Write;
                let _ = writeln!(std::io::stdout(), "{}", failure.to_json());
            }
            ExitCode::from(failure.code())
        }
    }
}

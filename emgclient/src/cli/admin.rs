//! `reload`, and the commands that need no emgd: `passwd`, `completions`.

use super::args::Cli;
use super::out::{outln, Out};
use crate::client::Client;
use crate::exit::Failure;
use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::Argon2;
use clap::CommandFactory;
use common::mgp::{Op, Reloaded};
use std::io::{BufRead, IsTerminal};

pub async fn reload(c: &mut Client, out: &Out) -> Result<(), Failure> {
    let (v, r) = c.call_as::<Reloaded>(Op::Reload).await?;
    if !out.raw(&v)? {
        outln!(
            "configuration reloaded from {} ({} connectors)",
            r.config,
            r.connectors
        )?;
    }
    Ok(())
}

/// Read a password (twice on a terminal, one line otherwise) and print its Argon2id hash.
pub fn passwd() -> Result<(), Failure> {
    let password = if std::io::stdin().is_terminal() {
        let read = |p: &str| {
            rpassword::prompt_password(p)
                .map_err(|e| Failure::Other(format!("cannot read the password: {e}")))
        };
        let first = read("new password: ")?;
        if read("again: ")? != first {
            return Err(Failure::Other("the passwords differ".into()));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::Other(format!("cannot read the password: {e}")))?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    if password.is_empty() {
        return Err(Failure::Other("the password must not be empty".into()));
    }
    outln!("{}", hash(&password)?)?;
    Ok(())
}

pub fn hash(password: &str) -> Result<String, Failure> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Failure::Other(format!("cannot hash the password: {e}")))
}

pub fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "emgclient", &mut script);
    super::out::text(&String::from_utf8_lossy(&script))
}

//! EMG's single-dash options: `emgclient -host H -port P -username U -password P`, and
//! `-help`. Left to clap, `-host` would read as `-h -o -s -t` and print the help (exit 0: an
//! EMG script would "succeed" doing nothing), so they are rewritten to our long options
//! before parsing.
//!
//! Only a whole argument is rewritten (`-host` or `-host=H`), never one that is the value of
//! an option (`send --text -host` sends the text "-host") or follows `--`.

use clap::Command;
use std::collections::BTreeSet;
use std::ffi::OsString;

/// EMG's spelling and ours.
const EMG_OPTIONS: &[(&str, &str)] = &[
    ("-host", "--host"),
    ("-port", "--port"),
    ("-username", "--user"),
    ("-password", "--password"),
    ("-help", "--help"),
];

/// `args` (the program name first) with EMG's options in our spelling; `command` tells which
/// options take a value.
pub fn translate(command: &Command, args: Vec<OsString>) -> Vec<OsString> {
    let takes_value = value_options(command);
    let mut out = Vec::with_capacity(args.len());
    let mut value_next = false;
    let mut rest_literal = false;
    for (i, arg) in args.into_iter().enumerate() {
        let Some(text) = arg
            .to_str()
            .filter(|_| i > 0 && !rest_literal && !value_next)
        else {
            value_next = false;
            out.push(arg);
            continue;
        };
        if text == "--" {
            rest_literal = true;
            out.push(arg);
            continue;
        }
        let (name, value) = match text.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
        if let Some((_, ours)) = EMG_OPTIONS.iter().find(|(emg, _)| *emg == name) {
            value_next = value.is_none() && *ours != "--help";
            out.push(match value {
                Some(v) => format!("{ours}={v}").into(),
                None => OsString::from(*ours),
            });
            continue;
        }
        value_next = value.is_none() && takes_value.contains(name);
        out.push(arg);
    }
    out
}

/// `--long` and `-s` spellings of every option (of every subcommand) that takes a value.
fn value_options(command: &Command) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut stack = vec![command];
    while let Some(c) = stack.pop() {
        for a in c.get_arguments() {
            if a.is_positional() || !a.get_action().takes_values() {
                continue;
            }
            if let Some(l) = a.get_long() {
                names.insert(format!("--{l}"));
            }
            for alias in a.get_all_aliases().into_iter().flatten() {
                names.insert(format!("--{alias}"));
            }
            if let Some(s) = a.get_short() {
                names.insert(format!("-{s}"));
            }
        }
        stack.extend(c.get_subcommands());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn run(args: &[&str]) -> Vec<String> {
        let cmd = crate::cli::Cli::command();
        let mut all = vec!["emgclient".into()];
        all.extend(args.iter().map(OsString::from));
        translate(&cmd, all)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect::<Vec<_>>()[1..]
            .to_vec()
    }

    #[test]
    fn emg_options_become_ours() {
        assert_eq!(
            run(&[
                "-host",
                "gw1",
                "-port",
                "7185",
                "-username",
                "admin",
                "-password",
                "-x-",
                "connectors"
            ]),
            [
                "--host",
                "gw1",
                "--port",
                "7185",
                "--user",
                "admin",
                "--password",
                "-x-",
                "connectors"
            ]
        );
        assert_eq!(run(&["-host=gw1", "-help"]), ["--host=gw1", "--help"]);
    }

    #[test]
    fn values_and_literals_are_left_alone() {
        assert_eq!(
            run(&["send", "--text", "-host", "--to", "1", "--from", "-port"]),
            ["send", "--text", "-host", "--to", "1", "--from", "-port"]
        );
        assert_eq!(run(&["tail", "--", "-host"]), ["tail", "--", "-host"]);
        assert_eq!(run(&["tail", "-n", "-help"]), ["tail", "-n", "-help"]);
    }
}

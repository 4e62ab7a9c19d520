//! One run of an EBE connector's program for one message. The program gets the message's
//! MGP options as environment variables (`EMG_` and the option's name: `EMG_ID`,
//! `EMG_SOURCEADDR`, `EMG_DESTADDR`, `EMG_MESSAGE`, `EMG_DCS`, `EMG_UDH`, `EMG_DLR`,
//! `EMG_CONNECTOR`, `EMG_USER`, ...) and as the arguments `ebe_args` names (`%DESTADDR%`, ...),
//! the text on stdin (UTF-8; hex for binary data, as in
//! `EMG_MESSAGE`), and runs in a process group of its own: at its timeout the whole group is
//! killed, so a script's children go with it.

use crate::connector::mgp::options::deliver_options;
use common::message::Message;
use std::fmt;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// The error number of a run that gave no exit status (killed at its timeout, not started).
pub const NO_EXIT: u32 = 255;
/// `EX_TEMPFAIL` (sysexits.h): the program asks for the message to be tried again later.
pub const EX_TEMPFAIL: i32 = 75;
/// Longest remote id taken from stdout.
pub const MAX_ID: usize = 64;
/// Most stdout (and stderr) read from one run.
const MAX_OUTPUT: u64 = 64 * 1024;

/// What one run said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    Sent { remote_id: Option<String> },
    Temporary { error: u32, why: String },
    Refused { error: u32, why: String },
}

impl fmt::Display for Ran {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ran::Sent { remote_id: Some(r) } => write!(f, "sent, id {r}"),
            Ran::Sent { remote_id: None } => f.write_str("sent"),
            Ran::Temporary { why, .. } => write!(f, "temporary error: {why}"),
            Ran::Refused { why, .. } => write!(f, "refused: {why}"),
        }
    }
}

/// The environment the program sees for `m`.
pub fn environment(connector: &str, m: &Message) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = deliver_options(m)
        .into_iter()
        .map(|(k, v)| {
            (
                format!("EMG_{k}"),
                v.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    env.push(("EMG_DLR".into(), u8::from(m.dlr_requested).to_string()));
    env.push(("EMG_CONNECTOR".into(), connector.to_string()));
    env.push(("EMG_ORIGIN".into(), m.origin.connector.clone()));
    if let Some(u) = &m.origin.user {
        env.push(("EMG_USER".into(), u.clone()));
    }
    if let Some(a) = &m.origin.account {
        env.push(("EMG_ACCOUNT".into(), a.clone()));
    }
    env
}

/// The program's arguments for one message: `ebe_args` with each `%NAME%` replaced by the
/// value of `EMG_NAME` in `env` (empty where the message has none).
pub fn arguments(args: &[String], env: &[(String, String)]) -> Vec<String> {
    args.iter()
        .map(|a| {
            config::expand_ebe_arg(a, |name| {
                env.iter()
                    .find(|(k, _)| k.strip_prefix("EMG_") == Some(name))
                    .map(|(_, v)| v.clone())
            })
        })
        .collect()
}

/// What stdout of a run that exited 0 says: nothing, or one line with the remote id.
pub fn remote_id(stdout: &[u8]) -> Result<Option<String>, String> {
    let text = std::str::from_utf8(stdout).map_err(|_| "stdout is not UTF-8 text".to_string())?;
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let Some(id) = lines.next() else {
        return Ok(None);
    };
    if lines.next().is_some() {
        return Err("stdout has more than one line (expected at most the message's id)".into());
    }
    if id.len() > MAX_ID || !id.bytes().all(|b| b.is_ascii_graphic()) {
        let shown: String = id.chars().take(40).collect();
        return Err(format!(
            "stdout `{}` is not a message id (up to {MAX_ID} printable characters, no spaces)",
            shown.escape_default()
        ));
    }
    Ok(Some(id.to_string()))
}

/// Kill the process group `pgid` (the program and whatever it started).
fn kill_group(pgid: u32) {
    if let Ok(pid) = i32::try_from(pgid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// The first line of what the program wrote on stderr, for the log.
fn first_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let line: String = line.chars().take(120).collect();
    if line.is_empty() {
        String::new()
    } else {
        format!(" ({})", line.trim().escape_default())
    }
}

/// Run `program` with `args` (`ebe_args`, expanded) for `m`, killed (with its process group)
/// after `timeout`.
pub async fn run(
    program: &str,
    args: &[String],
    connector: &str,
    m: &Message,
    timeout: Duration,
) -> Ran {
    let env = environment(connector, m);
    let mut cmd = Command::new(program);
    cmd.args(arguments(args, &env))
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Ran::Temporary {
                error: NO_EXIT,
                why: format!("cannot run {program}: {e}"),
            }
        }
    };
    let pgid = child.id().unwrap_or(0);
    let text = deliver_options(m)
        .get("MESSAGE")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let io = async {
        // A program that does not read its stdin is not an error: EPIPE is ignored.
        if let Some(mut w) = stdin {
            let _ = w.write_all(text.as_bytes()).await;
            drop(w);
        }
        let mut out = Vec::new();
        let mut err = Vec::new();
        let read_out = async {
            if let Some(o) = stdout {
                let _ = o.take(MAX_OUTPUT).read_to_end(&mut out).await;
            }
        };
        let read_err = async {
            if let Some(e) = stderr {
                let _ = e.take(MAX_OUTPUT).read_to_end(&mut err).await;
            }
        };
        tokio::join!(read_out, read_err);
        let status = child.wait().await;
        (status, out, err)
    };
    let (status, out, err) = match tokio::time::timeout(timeout, io).await {
        Ok(done) => done,
        Err(_) => {
            kill_group(pgid);
            return Ran::Temporary {
                error: NO_EXIT,
                why: format!(
                    "{program} did not finish within {} s; its process group was killed",
                    timeout.as_secs()
                ),
            };
        }
    };
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            return Ran::Temporary {
                error: NO_EXIT,
                why: format!("cannot wait for {program}: {e}"),
            }
        }
    };
    match status.code() {
        Some(0) => match remote_id(&out) {
            Ok(remote_id) => Ran::Sent { remote_id },
            Err(why) => Ran::Refused {
                error: 0,
                why: format!("{program} exited 0 but wrote garbage: {why}"),
            },
        },
        Some(EX_TEMPFAIL) => Ran::Temporary {
            error: EX_TEMPFAIL as u32,
            why: format!(
                "{program} exited 75 (temporary failure){}",
                first_line(&err)
            ),
        },
        Some(code) => Ran::Refused {
            error: code as u32,
            why: format!("{program} exited {code}{}", first_line(&err)),
        },
        None => Ran::Temporary {
            error: NO_EXIT,
            why: format!("{program} was killed by a signal{}", first_line(&err)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_gives_one_id_or_nothing() {
        assert_eq!(remote_id(b""), Ok(None));
        assert_eq!(remote_id(b"\n  \n"), Ok(None));
        assert_eq!(remote_id(b"ab-12\n"), Ok(Some("ab-12".into())));
        assert!(remote_id(b"a\nb\n").is_err());
        assert!(remote_id(b"two words\n").is_err());
        assert!(remote_id(&[0xff, 0xfe]).is_err());
        assert!(remote_id("x".repeat(65).as_bytes()).is_err());
    }

    #[test]
    fn arguments_take_the_environment_s_values() {
        let env = vec![
            ("EMG_DESTADDR".to_string(), "4670".to_string()),
            ("EMG_ID".to_string(), "9".to_string()),
        ];
        let args = ["-d".to_string(), "%DESTADDR%".into(), "id=%ID%%UDH%".into()];
        assert_eq!(arguments(&args, &env), ["-d", "4670", "id=9"]);
    }
}

//! emgmodem: a GSM modem simulator on a tty, for testing SMS software without a modem.
//!
//! Run it on one end of a pty pair and the software under test on the other:
//!
//!   socat pty,raw,echo=0,link=/tmp/modem pty,raw,echo=0,link=/tmp/host &
//!   emgmodem --tty /tmp/modem
//!   gammu -c gammurc identify          # gammurc: device = /tmp/host, connection = at
//!
//! Control lines on stdin (`mo +46701234567 hello`, `cms-error 500 [count] [after n]`, `silent`, `silent-on <prefix>`, `wake`,
//! `garbage <text>`, `reset`, `drop-carrier`, `report-status 70`, `mo-pdu <hex>`); one JSON event a line on
//! stdout (`{"event":"sent","mr":1,"to":"+4670...","text":"hi",...}`). It ends when stdin
//! closes or on SIGTERM.

use anyhow::{anyhow, bail, Context};
use std::io::Write;
use std::time::Duration;
use tests::modem::{serve, Control, Modem, Options};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

const HELP: &str = "emgmodem --tty PATH [options]
  --tty PATH              the simulator's end of the pty pair (reopened when it comes back)
  --pin PIN               the SIM asks for this PIN (default: no PIN)
  --sca NUMBER            service centre address (default +46705008999)
  --report-delay-ms MS    delay before each status report (default 500)
  --report-status TP-ST   status in the reports, 0 delivered (default 0)
  --capacity SM,ME,SR     slots of each memory (default 30,100,30)
  --first-index N         index of the first slot (default 1)
  --first-mr N            first message reference of +CMGS (default 1)
  --nosca                 AT+CMGS PDUs carry no SCA (EMG's nosca devices)
  --urc-at-prompt         send +CMTI/+CDS even while a PDU is being typed
  --dial NUMBER=HOST:PORT ATD<NUMBER> answers CONNECT and bridges the call to that TCP peer
                          (e.g. a UCP SMSC); +++ and ATH hang up (repeatable)";

fn parse_args() -> anyhow::Result<(std::path::PathBuf, Options)> {
    let mut o = Options::default();
    let mut tty = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--tty" => tty = Some(val()?.into()),
            "--pin" => o.pin = Some(val()?),
            "--sca" => o.sca = val()?,
            "--report-delay-ms" => o.report_delay = Duration::from_millis(val()?.parse()?),
            "--report-status" => o.report_status = val()?.parse()?,
            "--capacity" => {
                let v = val()?;
                let caps: Vec<usize> = v
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .with_context(|| format!("--capacity {v}"))?;
                o.capacities = caps
                    .try_into()
                    .map_err(|_| anyhow!("--capacity takes three numbers: SM,ME,SR"))?;
            }
            "--first-index" => o.first_index = val()?.parse()?,
            "--first-mr" => o.first_mr = val()?.parse()?,
            "--nosca" => o.nosca = true,
            "--urc-at-prompt" => o.urc_at_prompt = true,
            "--dial" => {
                let v = val()?;
                let (number, peer) = v
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--dial takes NUMBER=HOST:PORT, not {v}"))?;
                o.dial.push((number.to_string(), peer.to_string()));
            }
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => bail!("unknown option {other} (try --help)"),
        }
    }
    let tty = tty.ok_or_else(|| anyhow!("--tty is required (try --help)"))?;
    Ok((tty, o))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let (tty, opts) = parse_args()?;
    let epoch = chrono::Utc::now().timestamp();
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let modem = tokio::spawn(serve::run(
        Modem::new(opts, epoch),
        tty,
        control_rx,
        events_tx,
    ));
    let printer = tokio::spawn(async move {
        let mut out = std::io::stdout();
        while let Some(e) = events_rx.recv().await {
            let _ = writeln!(out, "{e}");
            let _ = out.flush();
        }
    });
    // stdin is read on a thread of its own: a blocking read would keep tokio's runtime from
    // shutting down after SIGTERM.
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut term = signal(SignalKind::terminate())?;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            line = lines.recv() => match line {
                None => break,
                Some(l) if l.trim().is_empty() => {}
                Some(l) => match l.parse::<Control>() {
                    Ok(c) => { let _ = control_tx.send(c); }
                    Err(e) => eprintln!("emgmodem: {e}"),
                },
            },
        }
    }
    drop(control_tx);
    let _ = modem.await;
    let _ = printer.await;
    Ok(())
}

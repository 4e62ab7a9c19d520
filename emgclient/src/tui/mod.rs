//! The operator console: `emgclient` with no command, or `emgclient tui`.
//!
//! Shaped like tokio-console: [`conn`] keeps the MGP session (watch and tail streams,
//! reconnect with backoff) and reports [`Update`]s; [`state`] is the model and maps keys to
//! [`Intent`]s; [`view`] draws a model and nothing else; this module's loop joins them, and
//! performs intents as requests to [`conn`]. Nothing polls: the screen changes when emgd
//! pushes an event, a key is pressed, or the once-a-second clock ticks.

mod conn;
#[cfg(test)]
mod fixture;
mod input;
pub mod manual;
pub mod state;
mod term;
pub mod view;

use crate::client::Client;
use crate::exit::Failure;
use crate::login::{connect, Creds};
use conn::Cmd;
use crossterm::event::Event as TermEvent;
use state::{App, Intent, Update};
use std::io::IsTerminal;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Open the dashboard; returns when the operator quits.
pub async fn run(creds: Creds) -> Result<(), Failure> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::Other(
            "the dashboard needs a terminal; give a command instead (see emgclient --help)".into(),
        ));
    }
    // Log in before taking the terminal over: a wrong password or no emgd is a plain error.
    let keymap = crate::settings::load_file().map(|f| f.keys).and_then(|k| {
        let k: std::collections::BTreeMap<String, Vec<String>> = k
            .unwrap_or_default()
            .into_iter()
            .map(|(name, keys)| (name, keys.keys()))
            .collect();
        state::Keymap::with(&k).map_err(|e| {
            Failure::Usage(format!(
                "{}: {e}",
                crate::settings::file_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "config.toml".into())
            ))
        })
    })?;
    let (client, who) = connect(&creds).await?;
    view::styles::set_palette(view::styles::Palette::detect(|name| {
        std::env::var(name).ok()
    }));
    let mut terminal =
        term::setup().map_err(|e| Failure::Other(format!("cannot set up the terminal: {e}")))?;
    let mut app = App::new(&creds.target.to_string(), &who.user);
    app.role = who.role;
    app.keymap = keymap;
    let result = main_loop(&mut terminal, creds, app, client).await;
    term::restore();
    result
}

/// Unix time in microseconds.
fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

async fn main_loop(
    terminal: &mut term::Term,
    creds: Creds,
    mut app: App,
    client: Client,
) -> Result<(), Failure> {
    app.now_us = now_us();
    let (cmd_tx, cmd_rx) = mpsc::channel::<Cmd>(64);
    let (up_tx, mut updates) = mpsc::channel::<Update>(4096);
    let conn = tokio::spawn(conn::run(creds, client, cmd_rx, up_tx));
    let mut keys = input::spawn();
    let mut connected_at = Instant::now();
    let mut clock = tokio::time::interval(Duration::from_secs(1));
    // Events may come thousands a second: draw at most ten frames a second for them.
    let mut frame = tokio::time::interval(Duration::from_millis(100));
    let mut dirty = false;
    let mut seconds: u64 = 0;
    let mut draw_now = true;
    let draw = |t: &mut term::Term, app: &App| {
        t.draw(|f| view::draw(f, app))
            .map(|_| ())
            .map_err(|e| Failure::Other(format!("cannot draw: {e}")))
    };
    loop {
        let intents = tokio::select! {
            ev = keys.recv() => {
                let Some(ev) = ev else { break };
                let intents = match ev {
                    TermEvent::Key(k) => app.on_key(k),
                    TermEvent::Mouse(m) => app.on_mouse(m),
                    _ => Vec::new(), // a resize: the redraw below fits the new size
                };
                if intents.contains(&Intent::Quit) {
                    break;
                }
                draw_now = true;
                intents
            }
            u = updates.recv() => {
                let Some(u) = u else { break };
                if matches!(u, Update::Connected { .. }) {
                    connected_at = Instant::now();
                }
                dirty = true;
                app.on_update(u)
            }
            _ = frame.tick() => {
                draw_now = dirty;
                Vec::new()
            }
            _ = clock.tick() => {
                app.tick(connected_at.elapsed());
                app.now_us = now_us();
                dirty = true;
                seconds += 1;
                app.every_second(seconds)
            }
        };
        for intent in intents {
            let cmd = match intent {
                Intent::Quit => unreachable!("handled above"),
                Intent::Run(a) => Cmd::Run(a),
                Intent::Detail(n) => Cmd::Detail(n),
                Intent::Tail(k) => Cmd::Tail(k),
                Intent::Fetch(f) => Cmd::Fetch(f),
                Intent::Save { path, text } => {
                    match std::fs::write(&path, text) {
                        Ok(()) => app.say(
                            state::Level::Ok,
                            format!("saved the log lines shown to {path}"),
                        ),
                        Err(e) => app.say(state::Level::Error, format!("cannot write {path}: {e}")),
                    }
                    draw_now = true;
                    continue;
                }
            };
            if cmd_tx.try_send(cmd).is_err() {
                app.say(state::Level::Warn, "busy: request dropped, try again");
            }
        }
        if draw_now {
            draw(terminal, &app)?;
            dirty = false;
            draw_now = false;
        }
    }
    drop(cmd_tx);
    let _ = tokio::time::timeout(Duration::from_secs(1), conn).await;
    Ok(())
}

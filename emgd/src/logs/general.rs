//! The general log: what emgd says about itself (start, reload, logins, errors), through
//! `tracing`, on standard error and in `logdir/general` as EMG writes its `general` log.
//!
//! `2026-11-23 09:31:18.520766 INFO  MGP login user=admin peer=127.0.0.1:40112`, or with
//! `logformat = "json"` one object a line: `{"timestamp":"2026-11-23T09:31:18.520766+01:00",
//! "level":"INFO","target":"emgd::control::session","message":"MGP login","user":"admin",...}`.
//! Colour (the level word) only when standard error is a terminal and NO_COLOR is unset; the
//! file never has any.
//!
//! [`init`] installs the subscriber once per process (the binary does; tests running emgd
//! in-process may not, and then [`handle`] is `None` and nothing here is managed). The level
//! starts at EMG_LOG when set, else `loglevel` from the configuration ([`GeneralLog::configure`]),
//! and can be changed while running ([`GeneralLog::set_level`], MGP `loglevel`).

use config::LogFormat;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Layer, Registry};

/// The file's name in `logdir`, as EMG's.
pub const FILE_NAME: &str = "general";

static HANDLE: OnceLock<GeneralLog> = OnceLock::new();

/// The process's general log, once [`init`] installed it.
pub fn handle() -> Option<&'static GeneralLog> {
    HANDLE.get()
}

/// Install the general log as the process's `tracing` subscriber: standard error only, at
/// EMG_LOG's level or `info`, until [`GeneralLog::configure`] adds the file. Later calls return
/// the same handle.
pub fn init() -> &'static GeneralLog {
    HANDLE.get_or_init(|| {
        let from_env = std::env::var("EMG_LOG")
            .ok()
            .filter(|v| !v.trim().is_empty());
        let mut start = from_env.clone().unwrap_or_else(|| "info".to_string());
        let filter = directive(&start)
            .and_then(|d| EnvFilter::try_new(&d).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| {
                eprintln!("emgd: EMG_LOG={start} is not a log filter ({e}); using info");
                start = "info".to_string();
                EnvFilter::new("info")
            });
        let (filter, reload) = reload::Layer::new(filter);
        let sink = Sink {
            state: Mutex::new(State {
                format: LogFormat::Text,
                file: None,
                ansi: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            }),
        };
        let log = GeneralLog {
            reload,
            level: Mutex::new(start),
            env_override: from_env.is_some(),
        };
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(SinkLayer)
            .try_init();
        let _ = SINK.set(sink);
        log
    })
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// Control over the installed general log.
pub struct GeneralLog {
    reload: reload::Handle<EnvFilter, Registry>,
    /// The level as the operator wrote it (`debug`, or a filter).
    level: Mutex<String>,
    /// EMG_LOG was set: it, not the configuration, gives the level at start and on reload.
    env_override: bool,
}

impl GeneralLog {
    /// Apply the configuration: open `logdir/general`, take `logformat`, and `loglevel` unless
    /// EMG_LOG is set. Called at start and on every reload.
    pub fn configure(&self, g: &config::General) -> std::io::Result<()> {
        self.configure_as(g, FILE_NAME)
    }

    /// [`configure`](Self::configure) with another file in `logdir` (the watchdog's own log).
    pub fn configure_as(&self, g: &config::General, file_name: &str) -> std::io::Result<()> {
        if !self.env_override {
            if let Err(e) = self.set_level(&g.loglevel) {
                tracing::warn!("loglevel {}: {e}", g.loglevel);
            }
        }
        let path = g.logdir.join(file_name);
        let sink = SINK.get().expect("init sets the sink");
        let mut st = sink.lock();
        st.format = g.daemon.logformat;
        if st.file.as_ref().is_none_or(|(p, _)| *p != path) {
            st.file = Some((path.clone(), open(&path)?));
        }
        Ok(())
    }

    /// Reopen `logdir/general` after logrotate moved it (SIGHUP).
    pub fn reopen(&self) {
        let Some(sink) = SINK.get() else { return };
        let mut st = sink.lock();
        if let Some((path, file)) = st.file.as_mut() {
            match open(path) {
                Ok(f) => *file = f,
                Err(e) => eprintln!("emgd: cannot reopen {}: {e}", path.display()),
            }
        }
    }

    /// The level in force, as it was set.
    pub fn level(&self) -> String {
        self.level.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Set the level: `error`, `warn`, `info`, `debug`, `trace`, or an EnvFilter directive list
    /// (`info,emgd::control=debug`). Returns the previous level.
    pub fn set_level(&self, level: &str) -> Result<String, String> {
        let filter = EnvFilter::try_new(directive(level)?).map_err(|e| e.to_string())?;
        self.reload.reload(filter).map_err(|e| e.to_string())?;
        let mut cur = self.level.lock().unwrap_or_else(|p| p.into_inner());
        Ok(std::mem::replace(&mut *cur, level.trim().to_string()))
    }
}

/// A bare level applies to emg's own crates, with everything else (hyper, rustls ...) held at
/// info, so that `debug` shows emgd's detail and not every TLS record; a directive list is
/// taken as it is.
fn directive(level: &str) -> Result<String, String> {
    let l = level.trim().to_ascii_lowercase();
    match l.as_str() {
        "error" | "warn" | "info" => Ok(l),
        "debug" | "trace" => Ok(format!("info,emgd={l},config={l},common={l}")),
        _ if l.contains('=') || l.contains(',') => Ok(level.trim().to_string()),
        _ => Err(format!(
            "`{level}` is not a log level (error, warn, info, debug, trace) nor a filter such \
             as `info,emgd::control=debug`"
        )),
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

struct State {
    format: LogFormat,
    file: Option<(PathBuf, File)>,
    ansi: bool,
}

struct Sink {
    state: Mutex<State>,
}

impl Sink {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Formats every event that passes the filter and writes it to standard error and the file.
struct SinkLayer;

impl<S: Subscriber> Layer<S> for SinkLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let Some(sink) = SINK.get() else { return };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let mut st = sink.lock();
        let (screen, file) = match st.format {
            LogFormat::Text => {
                let plain = text_line(*meta.level(), &fields, false);
                let screen = if st.ansi {
                    text_line(*meta.level(), &fields, true)
                } else {
                    plain.clone()
                };
                (screen, plain)
            }
            LogFormat::Json => {
                let line = json_line(*meta.level(), meta.target(), &fields);
                (line.clone(), line)
            }
        };
        let _ = std::io::stderr().lock().write_all(screen.as_bytes());
        if let Some((_, f)) = st.file.as_mut() {
            let _ = f.write_all(file.as_bytes());
        }
    }
}

/// An event's message and its other fields, in order.
#[derive(Default)]
struct Fields {
    message: String,
    rest: Vec<(&'static str, serde_json::Value)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, serde_json::Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.put(field, format!("{value:?}").into());
        }
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: serde_json::Value) {
        match field.name() {
            "message" => self.message = value.as_str().map_or(value.to_string(), String::from),
            // What tracing-log adds to records of the `log` crate (rustls): noise here.
            n if n.starts_with("log.") => {}
            n => self.rest.push((n, value)),
        }
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// `2026-11-23 09:31:18.520766 INFO  message key=value`, the level padded as in EMG's logs.
fn text_line(level: Level, f: &Fields, ansi: bool) -> String {
    let name = level_name(level);
    let mut line = super::timestamp();
    line.push(' ');
    if ansi {
        let colour = match level {
            Level::ERROR => "31",
            Level::WARN => "33",
            Level::INFO => "32",
            Level::DEBUG => "34",
            Level::TRACE => "35",
        };
        let _ = write!(
            line,
            "\x1b[{colour}m{name}\x1b[0m{:pad$}",
            "",
            pad = 6 - name.len()
        );
    } else {
        let _ = write!(line, "{name:<5} ");
    }
    line.push_str(&f.message);
    for (k, v) in &f.rest {
        match v {
            serde_json::Value::String(s) if !s.is_empty() && !s.contains([' ', '"', '=']) => {
                let _ = write!(line, " {k}={s}");
            }
            serde_json::Value::String(s) => {
                let _ = write!(line, " {k}={s:?}");
            }
            other => {
                let _ = write!(line, " {k}={other}");
            }
        }
    }
    line.push('\n');
    line
}

/// One JSON object: timestamp (RFC 3339, local), level, target, message, then the fields.
fn json_line(level: Level, target: &str, f: &Fields) -> String {
    let mut obj = serde_json::Map::new();
    let now = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
    obj.insert("timestamp".into(), now.into());
    obj.insert("level".into(), level_name(level).into());
    obj.insert("target".into(), target.into());
    obj.insert("message".into(), f.message.clone().into());
    for (k, v) in &f.rest {
        obj.entry(k.to_string()).or_insert_with(|| v.clone());
    }
    let mut line = serde_json::Value::Object(obj).to_string();
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> Fields {
        Fields {
            message: "MGP login".into(),
            rest: vec![
                ("user", "admin".into()),
                ("peer", "127.0.0.1:4000".into()),
                ("note", "two words".into()),
                ("count", 3.into()),
            ],
        }
    }

    #[test]
    fn text_lines_look_like_emg_logs() {
        let line = text_line(Level::INFO, &fields(), false);
        let (ts, rest) = line.split_at("2026-11-23 09:31:18.520766".len());
        assert_eq!(ts.len(), 26, "{line}");
        assert_eq!(
            rest,
            " INFO  MGP login user=admin peer=127.0.0.1:4000 note=\"two words\" count=3\n"
        );
        let warn = text_line(Level::WARN, &fields(), false);
        assert!(warn[26..].starts_with(" WARN  MGP login"), "{warn}");
        let coloured = text_line(Level::ERROR, &fields(), true);
        assert!(
            coloured[26..].starts_with(" \x1b[31mERROR\x1b[0m MGP login"),
            "{coloured:?}"
        );
    }

    #[test]
    fn json_lines_carry_every_field() {
        let line = json_line(Level::WARN, "emgd::control", &fields());
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["target"], "emgd::control");
        assert_eq!(v["message"], "MGP login");
        assert_eq!(v["user"], "admin");
        assert_eq!(v["count"], 3);
        assert!(v["timestamp"].as_str().unwrap().contains('T'));
    }

    #[test]
    fn bare_levels_stay_on_our_crates() {
        assert_eq!(directive("INFO").unwrap(), "info");
        assert_eq!(
            directive("debug").unwrap(),
            "info,emgd=debug,config=debug,common=debug"
        );
        assert_eq!(
            directive("warn,emgd::control=trace").unwrap(),
            "warn,emgd::control=trace"
        );
        assert!(directive("loud").is_err());
    }
}

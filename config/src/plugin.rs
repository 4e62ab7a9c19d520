//! `[plugin.NAME]`: a script that runs inside emgd at the hook points of the message flow
//! (EMG's `PLUGIN name < … >`), and the connector keyword `plugins` that attaches it.
//!
//! ```toml
//! [plugin.filter]
//! script = "plugins/filter.lua"    # required; relative to the config file's directory
//! global = false                   # true: every connector runs it (default false)
//! on_error = "open"                # open: as if it were not there; closed: refuse (default open)
//! budget_ms = 10                   # longest one hook call may run before it is cut (default 10)
//! memory_kb = 16384                # most memory the script's state may hold (default 16 MiB)
//! options = { words = ["casino"], price = "0.05" }   # handed to the script as `options`
//!
//! [connector.smpp-in]
//! plugins = ["filter", "tag:shop"]  # run after the global ones, in this order; `tag` gets
//!                                   # "shop" (EMG's PLUGIN=tag:shop) as its hooks' second argument
//! ```
//!
//! The script file is read here, so a configuration is complete in itself (a reload swaps the
//! script with the rest); emgd compiles it, and reports the script's own errors at its lines.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use crate::context::Ctx;
use crate::suggest;
use crate::values::{self, Sp, Span};

const PLUGIN_KEYWORDS: &[&str] = &[
    "script",
    "global",
    "on_error",
    "budget_ms",
    "memory_kb",
    "options",
];

/// Connector keywords handled here.
pub(crate) const KEYWORDS: &[&str] = &["plugins"];

/// Longest `budget_ms`: a hook runs on the gateway's own threads, so a second is already long.
pub const MAX_BUDGET_MS: u64 = 1000;

/// What happens to a message when a plugin errors or overruns its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    /// The message goes on as if the plugin were not there (its changes are dropped).
    #[default]
    Open,
    /// The message is refused (received: a temporary error; sent: it fails; a delivery
    /// report: it is not passed back).
    Closed,
}

/// One option value handed to a script, as written in TOML.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Array(Vec<OptionValue>),
    Table(BTreeMap<String, OptionValue>),
}

/// A validated plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct Plugin {
    /// Name from `[plugin.NAME]`.
    pub name: String,
    /// The script file, resolved against the config's directory.
    pub script: PathBuf,
    /// The script's text as read when the configuration was loaded.
    pub source: Arc<str>,
    /// Every connector runs it, before the ones attached by name.
    pub global: bool,
    pub on_error: FailMode,
    /// Longest one hook call may run, in milliseconds.
    pub budget_ms: u64,
    /// Most memory the script's state may hold, in KiB.
    pub memory_kb: u64,
    /// `options`, handed to the script.
    pub options: BTreeMap<String, OptionValue>,
}

/// Reads one `[plugin.NAME]` table; `None` when it has errors (reported).
pub(crate) fn read(ctx: &mut Ctx<'_>, name: &str, header: Span, t: &DeTable<'_>) -> Option<Plugin> {
    let prefix = format!("plugin.{name}");
    let mut plugin = Plugin {
        name: name.to_string(),
        script: PathBuf::new(),
        source: Arc::from(""),
        global: false,
        on_error: FailMode::Open,
        budget_ms: 10,
        memory_kb: 16 * 1024,
        options: BTreeMap::new(),
    };
    let mut ok = true;
    let mut script = false;
    for (key, kw, v) in values::known_keys(&mut ctx.sink, &prefix, t, PLUGIN_KEYWORDS) {
        let sink = &mut ctx.sink;
        match key {
            "script" => {
                script = true;
                let Some(s) = values::string(sink, &kw, v) else {
                    ok = false;
                    continue;
                };
                let path = ctx.resolve(&s.v);
                match crate::file::read_text(&path) {
                    Ok(text) => {
                        plugin.script = path;
                        plugin.source = Arc::from(text);
                    }
                    Err(e) => {
                        let why = match e.kind() {
                            std::io::ErrorKind::NotFound => "file not found".to_string(),
                            _ => e.to_string(),
                        };
                        ctx.sink.at(
                            &s.span,
                            &kw,
                            format!("cannot read plugin script `{}`: {why}", s.v),
                        );
                        ok = false;
                    }
                }
            }
            "global" => match values::boolean(sink, &kw, v) {
                Some(b) => plugin.global = b,
                None => ok = false,
            },
            "on_error" => match values::string(sink, &kw, v) {
                Some(s) => match s.v.to_ascii_lowercase().as_str() {
                    "open" => plugin.on_error = FailMode::Open,
                    "closed" => plugin.on_error = FailMode::Closed,
                    other => {
                        let hint = suggest::hint(other, ["open", "closed"]);
                        sink.at(
                            &s.span,
                            &kw,
                            format!(
                                "unknown failure mode `{}`{hint} (expected `open` or `closed`)",
                                s.v
                            ),
                        );
                        ok = false;
                    }
                },
                None => ok = false,
            },
            "budget_ms" => match values::int(sink, &kw, v, 1, MAX_BUDGET_MS) {
                Some(n) => plugin.budget_ms = n,
                None => ok = false,
            },
            "memory_kb" => match values::int(sink, &kw, v, 256, 4 * 1024 * 1024) {
                Some(n) => plugin.memory_kb = n,
                None => ok = false,
            },
            "options" => match values::table(sink, &kw, v) {
                Some(t) => match table(sink, &kw, t) {
                    Some(opts) => plugin.options = opts,
                    None => ok = false,
                },
                None => ok = false,
            },
            _ => {}
        }
    }
    if !script {
        ctx.sink.at(
            &header,
            &format!("{prefix}.script"),
            "required keyword is missing",
        );
        ok = false;
    }
    ok.then_some(plugin)
}

fn table(
    sink: &mut crate::diagnostic::Sink<'_>,
    kw: &str,
    t: &DeTable<'_>,
) -> Option<BTreeMap<String, OptionValue>> {
    let mut out = BTreeMap::new();
    let mut ok = true;
    for (k, v) in t.iter() {
        let key = k.get_ref().to_string();
        let kw = values::dotted(kw, &key);
        match value(sink, &kw, v) {
            Some(val) => {
                out.insert(key, val);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn value(
    sink: &mut crate::diagnostic::Sink<'_>,
    kw: &str,
    v: &values::Val<'_>,
) -> Option<OptionValue> {
    Some(match v.get_ref() {
        DeValue::String(s) => OptionValue::String(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => OptionValue::Integer(n),
            Err(_) => {
                sink.at(&v.span(), kw, format!("integer {i} does not fit 64 bits"));
                return None;
            }
        },
        DeValue::Float(f) => OptionValue::Float(f.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => OptionValue::Boolean(*b),
        DeValue::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                out.push(value(sink, kw, item)?);
            }
            OptionValue::Array(out)
        }
        DeValue::Table(t) => OptionValue::Table(table(sink, kw, t)?),
        DeValue::Datetime(_) => {
            sink.at(
                &v.span(),
                kw,
                "a datetime cannot be handed to a script; write it as a string",
            );
            return None;
        }
    })
}

/// An entry of a connector's `plugins` list: EMG's `PLUGIN=name[:string]`, the plugin's name
/// and the string its hooks are handed for this connector.
pub fn split_ref(entry: &str) -> (&str, Option<&str>) {
    match entry.split_once(':') {
        Some((name, arg)) => (name, Some(arg)),
        None => (entry, None),
    }
}

/// Checks every connector's `plugins` list against the `[plugin.NAME]` tables, where it is
/// written: each must exist, once.
pub(crate) fn check_refs<'a>(
    ctx: &mut Ctx<'_>,
    lists: impl Iterator<Item = &'a Vec<Sp<String>>>,
    names: &[&str],
) {
    for list in lists {
        let mut seen = Vec::new();
        for p in list {
            let (name, _) = split_ref(&p.v);
            if !names.contains(&name) {
                let hint = suggest::hint(name, names.iter().copied());
                ctx.sink.at(
                    &p.span,
                    &p.kw,
                    format!("unknown plugin `{name}`{hint} (define it in a [plugin.NAME] table)"),
                );
            } else if seen.contains(&name) {
                ctx.sink
                    .at(&p.span, &p.kw, format!("plugin `{name}` is listed twice"));
            }
            seen.push(name);
        }
    }
}

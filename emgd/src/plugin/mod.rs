//! Plugins: Lua scripts that run inside emgd at EMG's hook points of the message flow
//! (`man/emg-plugins.7`).
//!
//! | hook | when | may |
//! |---|---|---|
//! | `before_receive(msg)` | a message was received, before it is answered | change it, refuse it (`return false, reason[, kind]`) |
//! | `route(msg)` | before the routing table | name the connector or group it leaves on |
//! | `before_send(msg)` | a connector is about to send it (the OUT pipeline's copy) | change it, refuse it (it fails) |
//! | `on_dlr(msg)` | a delivery report about a message, before it goes back | change it, hold it back (`return false`) |
//!
//! Every hook may read and change the message's options and set its price and cost
//! (`msg.charge`, `msg.charge_cost`, decimals). Global plugins run for every connector, then
//! the ones a connector attaches with `plugins = [...]`, in order.
//!
//! Why Lua 5.4, inline (`bench/embedding/README.md`): a trivial hook per message cost about
//! the same in Lua 5.4 and LuaJIT, and LuaJIT's count hook does not fire inside JIT-compiled
//! loops, so an endless loop there was never cut. A WASM interpreter (wasmi) is faster per bare
//! call but gives operators no script they can write in a text editor; an external process
//! costs 40-60 µs a message, about what emgd spends on a whole message. Handing the call to a
//! dedicated thread cost four to five times the call itself, so hooks run inline on the
//! session's task and the CPU budget bounds how long one may take. In process a trivial hook
//! is now 0.35-0.5 µs (`tests::cost_of_a_trivial_hook`); in `bench/run` scenario 5, a trivial
//! plugin on every hook adds about 2 % to emgd's CPU per message.
//!
//! This module knows messages and the configuration, nothing of the gateway: the gateway
//! calls [`Plugins::run`] and acts on the [`Outcome`] (`crate::gateway`'s plugin glue).

pub mod message;
pub mod script;

use common::message::Message;
use config::{Diagnostic, FailMode};
use script::{Answer, Script};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub use script::{Hook, ScriptError};

/// A compiled plugin: its configuration and its running script.
pub struct Plugin {
    pub config: config::Plugin,
    script: Script,
}

impl Plugin {
    pub fn name(&self) -> &str {
        &self.config.name
    }
}

/// What a chain of plugins decided about a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on.
    Go,
    /// A `route` hook named a connector or group.
    Route {
        plugin: String,
        target: String,
        on_error: FailMode,
    },
    /// Refused: by the script's own answer or because it failed and fails closed.
    Refused(Refusal),
}

/// Why a plugin refused a message, in terms every protocol maps to its own error codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused by plugin {plugin}: {reason}")]
pub struct Refusal {
    pub plugin: String,
    pub reason: String,
    pub kind: RefusalKind,
}

/// The reject reasons a script may give (`return false, reason, kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// Permanent, for the message itself (content, policy): `"refused"`, the default.
    Refused,
    /// Permanent, the source address: `"source"`.
    Source,
    /// Permanent, the destination address: `"destination"`.
    Destination,
    /// Temporary, the sender goes too fast: `"throttled"`.
    Throttled,
    /// Temporary, try again later: `"temporary"`; also a plugin that failed closed.
    Temporary,
}

impl RefusalKind {
    /// The words a script may use.
    pub const WORDS: [&'static str; 5] =
        ["refused", "source", "destination", "throttled", "temporary"];

    fn from_word(w: &str) -> Option<RefusalKind> {
        Some(match w {
            "" | "refused" => RefusalKind::Refused,
            "source" => RefusalKind::Source,
            "destination" => RefusalKind::Destination,
            "throttled" => RefusalKind::Throttled,
            "temporary" => RefusalKind::Temporary,
            _ => return None,
        })
    }

    pub fn is_temporary(self) -> bool {
        matches!(self, RefusalKind::Throttled | RefusalKind::Temporary)
    }
}

/// A plugin that errored or ran past its budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub plugin: String,
    pub hook: Hook,
    pub error: ScriptError,
    pub on_error: FailMode,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.on_error {
            FailMode::Open => "failing open",
            FailMode::Closed => "failing closed",
        };
        write!(
            f,
            "plugin {} {}: {} ({mode})",
            self.plugin,
            self.hook.name(),
            self.error
        )
    }
}

/// What a chain of hooks decided about a message (changed in place), and what went wrong on
/// the way.
#[derive(Debug)]
pub struct Outcome {
    pub verdict: Verdict,
    pub faults: Vec<Fault>,
    /// Delivery reports the hooks injected with `emg.report(origid, state)`, in order (those
    /// of a call that failed are dropped).
    pub reports: Vec<(String, common::dlr::DlrStatus)>,
}

/// The plugins of one configuration, compiled, and which connectors run which.
#[derive(Default)]
pub struct Plugins {
    all: BTreeMap<String, Arc<Plugin>>,
    /// The global plugins (name order), for connectors the configuration does not name.
    global: Vec<Arc<Plugin>>,
    /// Per connector: the global plugins, then its own.
    chains: BTreeMap<String, Vec<Arc<Plugin>>>,
    /// Per connector, the string each of its plugins gets (`plugins = ["name:string"]`).
    args: BTreeMap<String, BTreeMap<String, String>>,
}

impl Plugins {
    /// Compile every plugin of `cfg`. A plugin whose configuration and script text are what
    /// `running` already has is kept as it is, state and all; the others start afresh. Every
    /// script error is reported at its line.
    pub fn load(
        cfg: &config::Config,
        running: Option<&Plugins>,
    ) -> Result<Plugins, Vec<Diagnostic>> {
        let mut all = BTreeMap::new();
        let mut diagnostics = Vec::new();
        for (name, pc) in &cfg.plugins {
            let kept = running
                .and_then(|r| r.all.get(name))
                .filter(|p| p.config == *pc)
                .cloned();
            if let Some(p) = kept {
                all.insert(name.clone(), p);
                continue;
            }
            match compile(pc) {
                Ok(p) => {
                    all.insert(name.clone(), Arc::new(p));
                }
                Err(d) => diagnostics.push(d),
            }
        }
        if !diagnostics.is_empty() {
            return Err(diagnostics);
        }
        let global: Vec<Arc<Plugin>> = all.values().filter(|p| p.config.global).cloned().collect();
        let chains = cfg
            .connectors
            .values()
            .map(|c| {
                let mut chain = global.clone();
                for name in &c.plugins {
                    if let Some(p) = all.get(name) {
                        if !chain.iter().any(|q| Arc::ptr_eq(p, q)) {
                            chain.push(p.clone());
                        }
                    }
                }
                (c.name.clone(), chain)
            })
            .collect();
        let args = cfg
            .connectors
            .values()
            .filter(|c| !c.plugin_args.is_empty())
            .map(|c| (c.name.clone(), c.plugin_args.clone()))
            .collect();
        Ok(Plugins {
            all,
            global,
            chains,
            args,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The plugin named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Plugin>> {
        self.all.get(name)
    }

    fn chain(&self, connector: &str) -> &[Arc<Plugin>] {
        self.chains.get(connector).unwrap_or(&self.global)
    }

    /// Run `hook` of every plugin the connectors `at` run (each once, in chain order) on
    /// `message`, which they change in place. A refusal or a forced route ends the chain; a
    /// plugin that fails has its changes undone and, failing closed, refuses the message.
    pub fn run(&self, hook: Hook, at: &[&str], message: &mut Message) -> Outcome {
        let mut outcome = Outcome {
            verdict: Verdict::Go,
            faults: Vec::new(),
            reports: Vec::new(),
        };
        if self.is_empty() {
            return outcome;
        }
        // A chain holds each plugin once; only several connectors' chains need the check.
        let mut seen: Vec<&Arc<Plugin>> = Vec::new();
        for connector in at {
            for plugin in self.chain(connector) {
                if at.len() > 1 {
                    if seen.iter().any(|p| Arc::ptr_eq(p, plugin)) {
                        continue;
                    }
                    seen.push(plugin);
                }
                if !plugin.script.has(hook) {
                    continue;
                }
                let arg = match self.args.is_empty() {
                    true => None,
                    false => self
                        .args
                        .get(*connector)
                        .and_then(|a| a.get(plugin.name()))
                        .map(String::as_str),
                };
                let mut before = None;
                let result = plugin.script.call(hook, message, arg, &mut before);
                let reports = plugin.script.take_reports();
                if result.is_ok() {
                    outcome.reports.extend(reports);
                }
                match result.and_then(|a| verdict(plugin, hook, a)) {
                    Ok(v) => {
                        if v != Verdict::Go {
                            outcome.verdict = v;
                            return outcome;
                        }
                    }
                    Err(error) => {
                        if let Some(original) = before {
                            *message = *original;
                        }
                        let on_error = plugin.config.on_error;
                        outcome.faults.push(Fault {
                            plugin: plugin.config.name.clone(),
                            hook,
                            error: error.clone(),
                            on_error,
                        });
                        if on_error == FailMode::Closed {
                            outcome.verdict = Verdict::Refused(Refusal {
                                plugin: plugin.config.name.clone(),
                                reason: format!("plugin failed: {error}"),
                                kind: RefusalKind::Temporary,
                            });
                            return outcome;
                        }
                    }
                }
            }
        }
        outcome
    }
}

/// What a hook's answer means for `hook`.
fn verdict(plugin: &Plugin, hook: Hook, a: Answer) -> Result<Verdict, ScriptError> {
    let name = &plugin.config.name;
    let file = &plugin.script.file;
    if a.refused {
        let reason = a
            .words
            .first()
            .filter(|r| !r.is_empty())
            .cloned()
            .unwrap_or_else(|| format!("refused by plugin {name}"));
        let word = a.words.get(1).map(String::as_str).unwrap_or("");
        let kind = RefusalKind::from_word(word).ok_or_else(|| {
            ScriptError::Runtime(format!(
                "{file}: {}: unknown reject kind `{word}` (expected one of: {})",
                hook.name(),
                RefusalKind::WORDS.join(", ")
            ))
        })?;
        return Ok(Verdict::Refused(Refusal {
            plugin: name.clone(),
            reason,
            kind,
        }));
    }
    match (hook, a.words.first()) {
        (_, None) => Ok(Verdict::Go),
        (Hook::Route, Some(target)) => Ok(Verdict::Route {
            plugin: name.clone(),
            target: target.clone(),
            on_error: plugin.config.on_error,
        }),
        (_, Some(word)) => Err(ScriptError::Runtime(format!(
            "{file}: {} returned {word:?}; only `route` names a connector (return nothing, true, or false with a reason)",
            hook.name()
        ))),
    }
}

fn compile(pc: &config::Plugin) -> Result<Plugin, Diagnostic> {
    let file = pc.script.display().to_string();
    match Script::load(
        &file,
        &pc.source,
        &pc.options,
        pc.budget_ms,
        pc.memory_kb,
        &pc.name,
    ) {
        Ok(script) => Ok(Plugin {
            config: pc.clone(),
            script,
        }),
        Err(e) => Err(diagnostic(pc, &file, e)),
    }
}

/// A script error as a configuration diagnostic, at the script's own line.
fn diagnostic(pc: &config::Plugin, file: &str, e: ScriptError) -> Diagnostic {
    let keyword = format!("plugin.{}", pc.name);
    let (line, message) = match e {
        ScriptError::Syntax { line, message } => (line, format!("syntax error: {message}")),
        ScriptError::Budget { at, budget_ms } => (
            line_of(&at, file).unwrap_or(1),
            format!("its top level ran past its budget of {budget_ms} ms"),
        ),
        ScriptError::Runtime(m) => {
            let line = line_of(&m, file);
            let text = match line {
                Some(n) => m
                    .strip_prefix(&format!("{file}:{n}:"))
                    .unwrap_or(&m)
                    .trim()
                    .to_string(),
                None => m.clone(),
            };
            (line.unwrap_or(1), format!("error while loading: {text}"))
        }
    };
    let col = column(&pc.source, line, &message);
    Diagnostic {
        file: pc.script.clone(),
        line,
        col,
        keyword,
        message,
    }
}

/// LINE from `FILE:LINE...`.
fn line_of(text: &str, file: &str) -> Option<usize> {
    let rest = text.strip_prefix(file)?.strip_prefix(':')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Lua names no column; where its message quotes the token it stopped at (`near 'x'`), the
/// column of that token on the line, else 1.
fn column(source: &str, line: usize, message: &str) -> usize {
    let Some(token) = message
        .split_once("near '")
        .and_then(|(_, rest)| rest.rsplit_once('\''))
        .map(|(t, _)| t)
    else {
        return 1;
    };
    let Some(text) = source.lines().nth(line.saturating_sub(1)) else {
        return 1;
    };
    match text.find(token) {
        Some(byte) if !token.is_empty() => text[..byte].chars().count() + 1,
        _ => 1,
    }
}

#[cfg(test)]
mod tests;

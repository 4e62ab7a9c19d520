//! One plugin's Lua state: sandboxed, with a memory limit and a time budget per call.
//!
//! The state lives as long as the plugin (until a reload brings a changed script or
//! options), so globals and upvalues keep their values across calls: counters, caches, rate
//! windows. Calls are serialised by a mutex: a hook is microseconds, and one state per plugin
//! is what makes "keep state across calls" mean one state.
//!
//! The sandbox has `string`, `table`, `math`, `utf8`, `os.time`, `os.clock`, `os.date` and
//! `print` (to emgd's log), nothing that reads files, starts programs, loads code or blocks.
//! The budget is CPU time, checked every [`CHECK_EVERY`] VM instructions by a count hook: an
//! endless loop is cut within microseconds of CPU past its budget. CPU time, not wall time,
//! because on a loaded machine a thread can lose its core for longer than a budget in the
//! middle of a trivial call (measured: wall-clock budgets of 10 ms cut trivial hooks at a load
//! average of 15). The hook reads the thread's CPU clock only when it fires, so a hook that
//! runs a few instructions never pays for a clock read. A single long C call (a huge
//! `string.rep`) is bounded by the memory limit instead.

use common::dlr::DlrStatus;
use common::message::Message;
use mlua::{Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, VmState};
use std::sync::Mutex;
use std::time::Duration;

/// VM instructions between two looks at the clock (a few microseconds of Lua).
const CHECK_EVERY: u32 = 1000;

/// The hook functions a script may define, in the order a message meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    /// After a message is received, before it is answered: accept or reject.
    BeforeReceive,
    /// Routing: name the connector (or group) the message leaves on.
    Route,
    /// Just before a connector sends a message (its OUT pipeline's copy).
    BeforeSend,
    /// A delivery report about a message, before it goes back to the sender.
    OnDlr,
}

impl Hook {
    pub const ALL: [Hook; 4] = [
        Hook::BeforeReceive,
        Hook::Route,
        Hook::BeforeSend,
        Hook::OnDlr,
    ];

    /// The Lua function name.
    pub fn name(self) -> &'static str {
        match self {
            Hook::BeforeReceive => "before_receive",
            Hook::Route => "route",
            Hook::BeforeSend => "before_send",
            Hook::OnDlr => "on_dlr",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Why a call did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// The script does not compile: `line` in its file.
    #[error("{message}")]
    Syntax { line: usize, message: String },
    /// It raised an error (or broke the memory limit); the message starts with FILE:LINE.
    #[error("{0}")]
    Runtime(String),
    /// It ran past its budget; where it was then.
    #[error("{at}: cut after {budget_ms} ms (its budget_ms)")]
    Budget { at: String, budget_ms: u64 },
}

/// What a hook answered, as Lua values turned into Rust.
#[derive(Debug, Default)]
pub struct Answer {
    /// `return false, ...`: the hook says no.
    pub refused: bool,
    /// The string values after `false` (reason, kind), or a `route` hook's connector name.
    pub words: Vec<String>,
}

/// A compiled plugin script and its state.
pub struct Script {
    lua: Mutex<Lua>,
    /// The hook functions the script defines, by [`Hook::index`].
    hooks: [Option<Function>; 4],
    /// The `msg` every call sees (reading and writing the message lent to it).
    msg: Table,
    budget_ms: u64,
    /// The file, as Lua names it in messages.
    pub file: String,
}

/// Per-call state the count hook keeps: the thread's CPU time when it first fired in this
/// call (the few instructions before that are not worth a clock read).
struct CpuMark(Option<Duration>);

/// This thread's CPU time.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

impl Script {
    /// The delivery reports the last call made with `emg.report`, taken.
    pub fn take_reports(&self) -> Vec<(String, DlrStatus)> {
        let lua = self.lua.lock().unwrap_or_else(|e| e.into_inner());
        let taken = lua
            .app_data_mut::<Reports>()
            .map(|mut r| std::mem::take(&mut r.0));
        taken.unwrap_or_default()
    }

    /// Compile `source` (named `file` in messages), give it `options`, run its top level
    /// within the budget and collect its hook functions.
    pub fn load(
        file: &str,
        source: &str,
        options: &std::collections::BTreeMap<String, config::OptionValue>,
        budget_ms: u64,
        memory_kb: u64,
        plugin: &str,
    ) -> Result<Script, ScriptError> {
        let runtime = |e: mlua::Error| ScriptError::Runtime(first_line(&e));
        let libs = StdLib::STRING | StdLib::TABLE | StdLib::MATH | StdLib::UTF8 | StdLib::OS;
        let lua = Lua::new_with(libs, LuaOptions::default()).map_err(runtime)?;
        sandbox(&lua, plugin).map_err(runtime)?;
        let opts = options_table(&lua, options).map_err(runtime)?;
        lua.globals().set("options", opts).map_err(runtime)?;
        let budget = Duration::from_millis(budget_ms);
        lua.set_app_data(CpuMark(None));
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(CHECK_EVERY),
            move |lua, debug| {
                let now = thread_cpu();
                let over = match lua.app_data_mut::<CpuMark>() {
                    Some(mut mark) => match mark.0 {
                        None => {
                            mark.0 = Some(now);
                            false
                        }
                        Some(first) => now.saturating_sub(first) >= budget,
                    },
                    None => false,
                };
                if !over {
                    return Ok(VmState::Continue);
                }
                let src = debug.source();
                let file = src.short_src.as_deref().unwrap_or("?").to_string();
                let line = debug.current_line().unwrap_or(0);
                Err(mlua::Error::external(BudgetCut(format!("{file}:{line}"))))
            },
        )
        .map_err(runtime)?;
        let chunk = lua
            .load(source)
            .set_name(format!("@{file}"))
            .into_function()
            .map_err(|e| syntax(&e, file))?;
        // The memory limit counts from here, so the libraries do not eat into it.
        let limit = lua.used_memory() + (memory_kb as usize) * 1024;
        lua.set_memory_limit(limit).map_err(runtime)?;
        let msg = super::message::install(&lua).map_err(runtime)?;
        let mut script = Script {
            lua: Mutex::new(lua),
            hooks: [None, None, None, None],
            msg,
            budget_ms,
            file: file.to_string(),
        };
        script.call_guarded(|_| chunk.call::<()>(()))?;
        let lua = script.lock();
        let globals = lua.globals();
        let mut hooks: [Option<Function>; 4] = [None, None, None, None];
        for hook in Hook::ALL {
            match globals.get::<Value>(hook.name()) {
                Ok(Value::Function(f)) => hooks[hook.index()] = Some(f),
                Ok(Value::Nil) => {}
                Ok(other) => {
                    return Err(ScriptError::Runtime(format!(
                        "{file}: `{}` must be a function, not a {}",
                        hook.name(),
                        other.type_name()
                    )))
                }
                Err(e) => return Err(runtime(e)),
            }
        }
        drop(globals);
        drop(lua);
        script.hooks = hooks;
        Ok(script)
    }

    /// Whether the script defines `hook`.
    pub fn has(&self, hook: Hook) -> bool {
        self.hooks[hook.index()].is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lua> {
        self.lua.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` on the state with a fresh budget; errors become [`ScriptError`]s.
    fn call_guarded<T>(&self, f: impl FnOnce(&Lua) -> mlua::Result<T>) -> Result<T, ScriptError> {
        let lua = self.lock();
        if let Some(mut mark) = lua.app_data_mut::<CpuMark>() {
            mark.0 = None;
        }
        let result = f(&lua);
        result.map_err(|e| match budget_cut(&e) {
            Some(at) => ScriptError::Budget {
                at,
                budget_ms: self.budget_ms,
            },
            None => ScriptError::Runtime(first_line(&e)),
        })
    }

    /// Call `hook` on `message`, which the script reads and changes in place; its first
    /// change keeps the original in `before` (the caller puts it back when the call failed).
    pub fn call(
        &self,
        hook: Hook,
        message: &mut Message,
        arg: Option<&str>,
        before: &mut Option<Box<Message>>,
    ) -> Result<Answer, ScriptError> {
        let Some(f) = &self.hooks[hook.index()] else {
            return Ok(Answer::default());
        };
        self.call_guarded(|lua| {
            // The connector's string for this plugin (EMG's `PLUGIN=name:string`), or nil.
            let arg = match arg {
                Some(a) => Value::String(lua.create_string(a)?),
                None => Value::Nil,
            };
            // Three values at most are read: a tuple, not a MultiValue's vector per call.
            let called = super::message::lend(message, before, || {
                f.call::<(Value, Value, Value)>((&self.msg, arg))
            });
            called.and_then(answer)
        })
    }
}

/// Converts what a hook returned: nothing or `true` is yes; `false, reason, kind` is no; a
/// string (from `route`) is a connector name.
fn answer((first, second, third): (Value, Value, Value)) -> mlua::Result<Answer> {
    let mut a = Answer::default();
    match first {
        Value::Nil | Value::Boolean(true) => return Ok(a),
        Value::Boolean(false) => a.refused = true,
        Value::String(s) => a.words.push(s.to_str()?.to_string()),
        other => {
            return Err(mlua::Error::runtime(format!(
                "a hook returns nothing, true, false (with a reason) or a connector name, not a {}",
                other.type_name()
            )))
        }
    }
    for v in [second, third] {
        match v {
            Value::String(s) => a.words.push(s.to_str()?.to_string()),
            Value::Nil => a.words.push(String::new()),
            other => a.words.push(other.to_string()?),
        }
    }
    Ok(a)
}

/// The error a count hook raises at the deadline.
#[derive(Debug)]
struct BudgetCut(String);

impl std::fmt::Display for BudgetCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "budget exceeded at {}", self.0)
    }
}

impl std::error::Error for BudgetCut {}

/// Where the budget cut the script, if that is what `e` is.
fn budget_cut(e: &mlua::Error) -> Option<String> {
    match e {
        mlua::Error::CallbackError { cause, .. } => budget_cut(cause),
        mlua::Error::WithContext { cause, .. } => budget_cut(cause),
        mlua::Error::ExternalError(inner) => inner.downcast_ref::<BudgetCut>().map(|b| b.0.clone()),
        _ => None,
    }
}

/// The first line of an error (Lua's own messages start with FILE:LINE; the traceback that
/// follows is for debugging, not for the log line).
fn first_line(e: &mlua::Error) -> String {
    let text = match e {
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::MemoryError(m) => format!("{m} (its memory_kb is used up)"),
        mlua::Error::CallbackError { cause, .. } => return first_line(cause),
        other => other.to_string(),
    };
    text.lines().next().unwrap_or("").to_string()
}

/// A syntax error's line, from Lua's `FILE:LINE: message`.
fn syntax(e: &mlua::Error, file: &str) -> ScriptError {
    let message = match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => return ScriptError::Runtime(first_line(other)),
    };
    let rest = message
        .strip_prefix(file)
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or(&message);
    let (line, text) = match rest.split_once(':') {
        Some((n, t)) => (n.parse().unwrap_or(1), t.trim().to_string()),
        None => (1, rest.to_string()),
    };
    ScriptError::Syntax {
        line,
        message: text,
    }
}

/// Leaves only what cannot touch the machine: no `io`, no `os.execute`, no loading code.
fn sandbox(lua: &Lua, plugin: &str) -> mlua::Result<()> {
    let g = lua.globals();
    for name in ["dofile", "loadfile", "load", "require", "collectgarbage"] {
        g.set(name, Value::Nil)?;
    }
    let os: Table = g.get("os")?;
    let safe = lua.create_table()?;
    for name in ["time", "clock", "date", "difftime"] {
        safe.set(name, os.get::<Value>(name)?)?;
    }
    g.set("os", safe)?;
    let name = plugin.to_string();
    let print = lua.create_function(move |_, args: MultiValue| {
        let text: Vec<String> = args
            .iter()
            .map(|v| v.to_string().unwrap_or_else(|_| v.type_name().to_string()))
            .collect();
        tracing::info!(plugin = %name, "{}", text.join("\t"));
        Ok(())
    })?;
    g.set("print", print)?;
    // `emg.report(origid, state)`: a delivery report injected (EMG's DLR injection), taken
    // by the gateway once the hook returns (`Script::take_reports`).
    let emg = lua.create_table()?;
    let report = lua.create_function(|lua, (origid, state): (String, String)| {
        let status = if state.eq_ignore_ascii_case("failed") {
            Ok(DlrStatus::Undeliverable)
        } else {
            state.parse::<DlrStatus>()
        };
        let Ok(status) = status else {
            return Err(mlua::Error::runtime(format!(
                "emg.report: `{state}` is not a message state (DELIVERED, FAILED, or a receipt \
                 state such as EXPIRED, REJECTED, UNDELIVERABLE)"
            )));
        };
        if origid.trim().is_empty() {
            return Err(mlua::Error::runtime("emg.report: the ORIGID is empty"));
        }
        match lua.app_data_mut::<Reports>() {
            Some(mut r) if r.0.len() < MAX_REPORTS => r.0.push((origid, status)),
            Some(_) => {
                return Err(mlua::Error::runtime(format!(
                    "emg.report: more than {MAX_REPORTS} reports in one call"
                )))
            }
            None => {}
        }
        Ok(())
    })?;
    emg.set("report", report)?;
    g.set("emg", emg)?;
    lua.set_app_data(Reports(Vec::new()));
    Ok(())
}

/// The reports `emg.report` made during a call.
struct Reports(Vec<(String, DlrStatus)>);

/// Most reports one hook call may make.
const MAX_REPORTS: usize = 100;

fn options_table(
    lua: &Lua,
    options: &std::collections::BTreeMap<String, config::OptionValue>,
) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (k, v) in options {
        t.set(k.as_str(), option_value(lua, v)?)?;
    }
    Ok(t)
}

fn option_value(lua: &Lua, v: &config::OptionValue) -> mlua::Result<Value> {
    use config::OptionValue as O;
    Ok(match v {
        O::String(s) => Value::String(lua.create_string(s)?),
        O::Integer(n) => Value::Integer(*n),
        O::Float(f) => Value::Number(*f),
        O::Boolean(b) => Value::Boolean(*b),
        O::Array(items) => {
            let t = lua.create_table()?;
            for (i, item) in items.iter().enumerate() {
                t.set(i + 1, option_value(lua, item)?)?;
            }
            Value::Table(t)
        }
        O::Table(map) => Value::Table(options_table(lua, map)?),
    })
}

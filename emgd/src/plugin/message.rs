//! The message as a script sees it: `msg`, whose fields are EMG's MGP option names
//! (`msg.destaddr`, `msg.message`, `msg.charge`, ...), read and written one at a time.
//!
//! `msg` is one table per script, made at load, whose metatable reads and writes the message
//! of the call under way: [`lend`] points it at that message for the length of the call, so
//! a message is never copied into Lua or moved to lend it. Reading is the hot path (a trivial
//! hook reads a field or two): `__index` is a raw C function ([`fast_index`]) that pushes
//! addresses, numbers and plain text straight from the message; what needs converting (a
//! decimal, non-ASCII text, an id to spell) it hands to a safe reader through mlua. Measured with callgrind, mlua's
//! callback machinery and its memory-checked string creation were 2,000 instructions a field,
//! most of a trivial hook's cost.
//!
//! The first write keeps a copy of the message as it was, so a hook that fails after
//! changing something can be undone.

use common::gsm::{choose_coding, decode_text, encode_text, Udh};
use common::message::{Message, MsgType};
use mlua::{ffi, Lua, Table, Value};
use rust_decimal::Decimal;
use std::cell::Cell;
use std::ffi::c_int;
use std::str::FromStr;

/// Every option a script may read; [`WRITABLE`] are the ones it may also set.
pub const READABLE: &[&str] = &[
    "id",
    "msgtype",
    "sourceaddr",
    "sourceaddrton",
    "sourceaddrnpi",
    "destaddr",
    "destaddrton",
    "destaddrnpi",
    "message",
    "udh",
    "dcs",
    "protocolid",
    "priority",
    "dlr",
    "connector",
    "outconnector",
    "username",
    "account",
    "attempts",
    "charge",
    "charge_cost",
    "origid",
    "messagestate",
    "errorcode",
];

/// The options a script may set.
pub const WRITABLE: &[&str] = &[
    "sourceaddr",
    "sourceaddrton",
    "sourceaddrnpi",
    "destaddr",
    "destaddrton",
    "destaddrnpi",
    "message",
    "dcs",
    "protocolid",
    "priority",
    "dlr",
    "charge",
    "charge_cost",
];

/// The message of the call under way on this thread, and where its first write keeps the
/// original. Set by [`lend`] only while a hook runs.
#[derive(Clone, Copy)]
struct Current {
    message: *mut Message,
    before: *mut Option<Box<Message>>,
}

thread_local! {
    static CURRENT: Cell<Option<Current>> = const { Cell::new(None) };
}

/// Run `f` (a hook call) with `msg` reading and writing `message`; a first write saves the
/// original in `before`.
///
/// The pointers live in a thread-local only while `f` runs, on this thread, and `message`
/// and `before` are borrowed mutably for exactly that time: the metamethods, which run
/// synchronously inside `f` on this thread, are their only users then.
pub fn lend<R>(
    message: &mut Message,
    before: &mut Option<Box<Message>>,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore(Option<Current>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| c.set(self.0));
        }
    }
    let lent = Current {
        message: message as *mut Message,
        before: before as *mut Option<Box<Message>>,
    };
    let _restore = Restore(CURRENT.with(|c| c.replace(Some(lent))));
    f()
}

/// The lent message, read-only; `None` outside a hook call (the script's top level).
fn with_message<R>(f: impl FnOnce(&Message) -> R) -> Option<R> {
    let cur = CURRENT.with(Cell::get)?;
    // SAFETY: see `lend`: the pointer is valid and not otherwise used while it is set.
    Some(f(unsafe { &*cur.message }))
}

/// The lent message, for writing, with its saved original.
fn with_message_mut<R>(f: impl FnOnce(&mut Message, &mut Option<Box<Message>>) -> R) -> Option<R> {
    let cur = CURRENT.with(Cell::get)?;
    // SAFETY: see `lend`; no other reference to either is alive during the metamethod.
    Some(f(unsafe { &mut *cur.message }, unsafe { &mut *cur.before }))
}

/// One read, as the raw index function pushes it.
#[derive(Debug, PartialEq, Eq)]
enum Fast<'a> {
    Str(&'a [u8]),
    Int(i64),
    Nil,
    /// Needs converting: the safe path.
    Slow,
}

/// The allocation-free reads.
fn fast_value<'m>(m: &'m Message, key: &[u8]) -> Fast<'m> {
    let s = |v: &'m str| Fast::Str(v.as_bytes());
    let int = |n: i64| Fast::Int(n);
    match key {
        b"msgtype" => int(i64::from(m.msgtype.code())),
        b"sourceaddr" => s(&m.source.addr),
        b"sourceaddrton" => int(i64::from(m.source.ton)),
        b"sourceaddrnpi" => int(i64::from(m.source.npi)),
        b"destaddr" => s(&m.dest.addr),
        b"destaddrton" => int(i64::from(m.dest.ton)),
        b"destaddrnpi" => int(i64::from(m.dest.npi)),
        b"dcs" => int(i64::from(m.data_coding)),
        b"protocolid" => int(i64::from(m.protocol_id)),
        b"priority" => int(i64::from(m.priority)),
        b"dlr" => int(i64::from(m.dlr_requested)),
        b"attempts" => int(i64::from(m.attempts)),
        b"connector" => s(&m.origin.connector),
        b"outconnector" if m.target.is_empty() => Fast::Nil,
        b"outconnector" => s(&m.target),
        b"username" => m.origin.user.as_deref().map_or(Fast::Nil, s),
        b"account" => m
            .origin
            .account
            .as_deref()
            .or(m.origin.user.as_deref())
            .map_or(Fast::Nil, s),
        b"messagestate" => m
            .dlr
            .as_ref()
            .map_or(Fast::Nil, |d| s(d.status.stat_word())),
        b"errorcode" => m
            .dlr
            .as_ref()
            .map_or(Fast::Nil, |d| int(i64::from(d.error))),
        b"message" => {
            let (_, data) = split_udh(m);
            if plain_text(m.data_coding, data) {
                Fast::Str(data)
            } else {
                Fast::Slow
            }
        }
        _ => Fast::Slow,
    }
}

/// Text whose bytes are already its UTF-8: ASCII in a coding that reads it as ASCII (GSM 7-bit
/// only where its characters are ASCII's).
fn plain_text(data_coding: u8, data: &[u8]) -> bool {
    use common::gsm::Coding;
    match Coding::from_data_coding(data_coding) {
        Some(Coding::Ia5 | Coding::Latin1) => data.is_ascii(),
        Some(Coding::Gsm7) => data.iter().all(
            |&b| matches!(b, b'\n' | b'\r' | 0x20..=0x23 | 0x25..=0x3F | 0x41..=0x5A | 0x61..=0x7A),
        ),
        _ => false,
    }
}

/// `__index(msg, key)`: the value straight from the message, or, for what needs converting,
/// the answer of the safe reader kept in the metatable under `slow`.
///
/// A raw C function: no Rust value with a destructor is alive when it calls into Lua, so the
/// calls that can raise (pushing a string when memory runs out, the safe reader's errors) may
/// unwind through it.
///
/// It stays unsafe code (reviewed at stop 25, not replaced): the safe way, an mlua callback
/// with its checked string creation, was most of a trivial hook's cost (about 2,000
/// instructions a field, see the module's doc), which is what `bench/run` scenario 5 measures
/// against scenario 1; no safe variant that avoids it was found.
///
/// # Safety
///
/// Lua calls it as a C function with its arguments on `state`'s stack (the C API's
/// contract, upheld by `install`, which makes it the `__index` of `msg` only). Soundness rests
/// on these invariants:
///
/// - **The stack.** `__index` gets exactly two arguments, the table (1) and the key (2);
///   the key is read only through `lua_type`/`lua_tolstring`, whose pointer is valid while
///   the key stays on the stack (it does, until we return); at most 16 bytes are copied out
///   (`len <= key.len()` is checked before `from_raw_parts`). Each branch pushes exactly one
///   value and returns 1; `lua_getmetatable` on failure pushes nothing, so the `nil` we push
///   is the one result.
/// - **The message.** `CURRENT` holds a pointer only while [`lend`] runs on this thread,
///   during which `lend`'s caller's `&mut Message` is not otherwise used (see `lend`), so
///   `&*cur.message` is a valid shared reborrow. It ends before any call that can run Lua code:
///   `fast_value`'s result is either copied by `lua_pushlstring` (which copies the bytes
///   before its GC check, and a GC step's finalizers, the only Lua code it can run, run after
///   the copy), or an integer, or nil; on the slow path no reference into the message is
///   alive when `lua_call` runs the safe reader, which takes its own reference (and a script's
///   `__newindex`, the only writer, can only run there or after we return).
/// - **Unwinding.** Lua raises errors with `longjmp`/unwinding through this frame (memory
///   errors in the pushes, errors of the safe reader, the budget's hook); nothing in this frame
///   has a destructor, so skipping it leaks nothing and leaves no broken invariant.
unsafe extern "C-unwind" fn fast_index(state: *mut ffi::lua_State) -> c_int {
    let mut key = [0u8; 16];
    let mut len = 0usize;
    let known = ffi::lua_type(state, 2) == ffi::LUA_TSTRING && {
        let p = ffi::lua_tolstring(state, 2, &mut len);
        !p.is_null() && len <= key.len() && {
            let bytes = std::slice::from_raw_parts(p.cast::<u8>(), len);
            for (k, b) in key.iter_mut().zip(bytes) {
                *k = b.to_ascii_lowercase();
            }
            true
        }
    };
    let key = &key[..len.min(16)];
    let key: &[u8] = match key {
        b"price" => b"charge",
        b"cost" => b"charge_cost",
        k => k,
    };
    let cur = CURRENT.with(Cell::get);
    let value = match (known, cur) {
        // SAFETY: see `lend`.
        (true, Some(cur)) => fast_value(&*cur.message, key),
        (true, None) => Fast::Nil,
        (false, _) => Fast::Slow,
    };
    match value {
        Fast::Str(bytes) => {
            ffi::lua_pushlstring(state, bytes.as_ptr().cast(), bytes.len());
        }
        Fast::Int(n) => ffi::lua_pushinteger(state, n as ffi::lua_Integer),
        Fast::Nil => ffi::lua_pushnil(state),
        Fast::Slow => {
            if ffi::lua_getmetatable(state, 1) == 0 {
                ffi::lua_pushnil(state);
                return 1;
            }
            ffi::lua_pushlstring(state, SLOW.as_ptr().cast(), SLOW.len());
            ffi::lua_rawget(state, -2);
            ffi::lua_pushvalue(state, 2);
            ffi::lua_call(state, 1, 1);
        }
    }
    1
}

/// Where the metatable keeps the safe reader.
const SLOW: &str = "slow";

/// Make the `msg` table of a script's state.
pub fn install(lua: &Lua) -> mlua::Result<Table> {
    // SAFETY: `fast_index` follows the C API's contract: it reads its one argument and
    // pushes two values.
    let fast = unsafe { lua.create_c_function(fast_index)? };
    // Called by `fast_index` only, with the key it could not answer.
    let slow = lua.create_function(|lua, key: Value| {
        let Value::String(key) = key else {
            return Ok(Value::Nil);
        };
        let key = key.to_str()?;
        let key = lower(&key);
        with_message(|m| get(lua, m, alias(&key))).unwrap_or(Ok(Value::Nil))
    })?;
    let newindex =
        lua.create_function(|lua, (_, key, value): (Value, mlua::LuaString, Value)| {
            let key = key.to_str()?;
            let key = lower(&key);
            let done = with_message_mut(|m, before| set(m, before, alias(&key), value));
            match done {
                Some(r) => r.map_err(|e| located(lua, e)),
                None => Err(located(
                    lua,
                    mlua::Error::runtime("`msg` is only there during a hook call"),
                )),
            }
        })?;
    let tostring = lua.create_function(|_, _: Value| {
        Ok(
            with_message(|m| format!("message {} {} -> {}", m.id, m.source.addr, m.dest.addr))
                .unwrap_or_else(|| "message (none)".to_string()),
        )
    })?;
    let meta = lua.create_table()?;
    meta.set("__index", fast)?;
    meta.set(SLOW, slow)?;
    meta.set("__newindex", newindex)?;
    meta.set("__tostring", tostring)?;
    meta.set("__metatable", "emg message")?;
    let msg = lua.create_table()?;
    msg.set_metatable(Some(meta))?;
    Ok(msg)
}

fn get(lua: &Lua, m: &Message, key: &str) -> mlua::Result<Value> {
    let s = |s: &str| lua.create_string(s).map(Value::String);
    let n = |n: i64| Ok(Value::Integer(n));
    let opt = |o: &Option<String>| match o {
        Some(v) => s(v),
        None => Ok(Value::Nil),
    };
    let dec = |d: &Option<Decimal>| match d {
        Some(d) => s(&d.to_string()),
        None => Ok(Value::Nil),
    };
    match key {
        "id" if m.id == 0 => Ok(Value::Nil),
        "id" => s(&m.id.to_string()),
        "msgtype" => n(i64::from(m.msgtype.code())),
        "sourceaddr" => s(&m.source.addr),
        "sourceaddrton" => n(i64::from(m.source.ton)),
        "sourceaddrnpi" => n(i64::from(m.source.npi)),
        "destaddr" => s(&m.dest.addr),
        "destaddrton" => n(i64::from(m.dest.ton)),
        "destaddrnpi" => n(i64::from(m.dest.npi)),
        "message" => {
            let (_, data) = split_udh(m);
            match decode_text(m.data_coding, data) {
                Ok(text) => s(&text),
                // Binary or an unsupported coding: the bytes as they are.
                Err(_) => lua.create_string(data).map(Value::String),
            }
        }
        "udh" => match split_udh(m).0 {
            [] => Ok(Value::Nil),
            udh => lua.create_string(udh).map(Value::String),
        },
        "dcs" => n(i64::from(m.data_coding)),
        "protocolid" => n(i64::from(m.protocol_id)),
        "priority" => n(i64::from(m.priority)),
        "dlr" => n(i64::from(m.dlr_requested)),
        "connector" => s(&m.origin.connector),
        "outconnector" if m.target.is_empty() => Ok(Value::Nil),
        "outconnector" => s(&m.target),
        "username" => opt(&m.origin.user),
        "account" => opt(&m.origin.account.clone().or_else(|| m.origin.user.clone())),
        "attempts" => n(i64::from(m.attempts)),
        "charge" => dec(&m.price),
        "charge_cost" => dec(&m.cost),
        "origid" => match &m.dlr {
            Some(d) => s(&d.message_id.to_string()),
            None => Ok(Value::Nil),
        },
        "messagestate" => match &m.dlr {
            Some(d) => s(d.status.stat_word()),
            None => Ok(Value::Nil),
        },
        "errorcode" => match &m.dlr {
            Some(d) => n(i64::from(d.error)),
            None => Ok(Value::Nil),
        },
        _ => Ok(Value::Nil),
    }
}

fn set(
    m: &mut Message,
    before: &mut Option<Box<Message>>,
    key: &str,
    value: Value,
) -> mlua::Result<()> {
    if !WRITABLE.contains(&key) {
        let why = if READABLE.contains(&key) {
            format!("message option `{key}` is read-only")
        } else {
            format!("unknown message option `{key}`")
        };
        return Err(mlua::Error::runtime(why));
    }
    if before.is_none() {
        *before = Some(Box::new(m.clone()));
    }
    match key {
        "sourceaddr" => m.source.addr = string(key, value)?,
        "destaddr" => m.dest.addr = string(key, value)?,
        "sourceaddrton" => m.source.ton = small(key, value, 6)?,
        "sourceaddrnpi" => m.source.npi = small(key, value, 18)?,
        "destaddrton" => m.dest.ton = small(key, value, 6)?,
        "destaddrnpi" => m.dest.npi = small(key, value, 18)?,
        "dcs" => m.data_coding = small(key, value, 255)?,
        "protocolid" => m.protocol_id = small(key, value, 255)?,
        "priority" => m.priority = small(key, value, 3)?,
        "dlr" => {
            m.dlr_requested = match value {
                Value::Boolean(b) => b,
                other => small::<u8>(key, other, 1)? == 1,
            }
        }
        "message" => set_text(m, value)?,
        "charge" => m.price = decimal(key, value)?,
        "charge_cost" => m.cost = decimal(key, value)?,
        _ => {}
    }
    Ok(())
}

/// The key in lower case, copied only when it is not already (the common case costs nothing).
fn lower(key: &str) -> std::borrow::Cow<'_, str> {
    if key.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(key.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(key)
    }
}

/// An error raised here, with the script's FILE:LINE in front as Lua's own errors have.
fn located(lua: &Lua, e: mlua::Error) -> mlua::Error {
    let at = lua.inspect_stack(1, |d| {
        let src = d.source();
        let file = src.short_src.as_deref().unwrap_or("?").to_string();
        format!("{file}:{}:", d.current_line().unwrap_or(0))
    });
    match (e, at) {
        (mlua::Error::RuntimeError(m), Some(at)) => mlua::Error::RuntimeError(format!("{at} {m}")),
        (e, _) => e,
    }
}

/// `price` and `cost` are the same as EMG's `charge` and `charge_cost`.
fn alias(key: &str) -> &str {
    match key {
        "price" => "charge",
        "cost" => "charge_cost",
        k => k,
    }
}

/// The UDH (with its length octet) and the rest of the user data.
fn split_udh(m: &Message) -> (&[u8], &[u8]) {
    if m.esm_class & 0x40 == 0 {
        return (&[], &m.body);
    }
    match Udh::split(&m.body) {
        Ok((_, rest)) => m.body.split_at(m.body.len() - rest.len()),
        Err(_) => (&[], &m.body),
    }
}

fn string(key: &str, value: Value) -> mlua::Result<String> {
    match value {
        Value::String(s) => Ok(s.to_str()?.to_string()),
        Value::Integer(n) => Ok(n.to_string()),
        other => Err(mlua::Error::runtime(format!(
            "message option `{key}` takes a string, not a {}",
            other.type_name()
        ))),
    }
}

fn small<T: TryFrom<i64>>(key: &str, value: Value, max: i64) -> mlua::Result<T> {
    let n = match value {
        Value::Integer(n) => Some(n),
        Value::Number(f) if f.fract() == 0.0 => Some(f as i64),
        Value::String(s) => s.to_str()?.trim().parse().ok(),
        _ => None,
    };
    n.filter(|n| (0..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            mlua::Error::runtime(format!(
                "message option `{key}` takes an integer from 0 to {max}"
            ))
        })
}

/// A price or cost: a string such as `"0.05"` is exact; a number goes through its shortest
/// decimal spelling; nil clears it. Never a float inside emgd.
fn decimal(key: &str, value: Value) -> mlua::Result<Option<Decimal>> {
    let text = match value {
        Value::Nil => return Ok(None),
        Value::String(s) => s.to_str()?.trim().to_string(),
        Value::Integer(n) => n.to_string(),
        Value::Number(f) if f.is_finite() => f.to_string(),
        other => {
            return Err(mlua::Error::runtime(format!(
                "message option `{key}` takes a decimal such as \"0.05\", not a {}",
                other.type_name()
            )))
        }
    };
    Decimal::from_str(&text).map(Some).map_err(|_| {
        mlua::Error::runtime(format!(
            "message option `{key}`: `{text}` is not a decimal number"
        ))
    })
}

/// New text, kept in the message's data coding when it fits, else in the narrowest that
/// does (GSM 7-bit or UCS-2); a UDH stays in front. Binary messages take the bytes as given.
fn set_text(m: &mut Message, value: Value) -> mlua::Result<()> {
    let Value::String(s) = value else {
        return Err(mlua::Error::runtime(format!(
            "message option `message` takes a string, not a {}",
            value.type_name()
        )));
    };
    let udh = split_udh(m).0.to_vec();
    let data = match encode_text(m.data_coding, &s.to_str()?) {
        Ok(bytes) => bytes,
        Err(common::gsm::TextError::Binary(_)) => s.as_bytes().to_vec(),
        Err(_) => {
            let text = s.to_str()?.to_string();
            let dc = choose_coding(&text);
            m.data_coding = dc;
            encode_text(dc, &text).map_err(|e| mlua::Error::runtime(e.to_string()))?
        }
    };
    m.body = udh;
    m.body.extend_from_slice(&data);
    if m.msgtype == MsgType::Sms && m.body.is_empty() {
        m.esm_class &= !0x40;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use common::message::{Address, DlrInfo, Origin};

    /// The raw path answers exactly what the safe one does, wherever it answers at all.
    #[test]
    fn the_fast_path_agrees_with_the_safe_one() {
        let lua = Lua::new();
        let texts: [(u8, &[u8]); 5] = [
            (0, b"plain text, 1-2-3?"),
            (0, b"gsm @ is not ascii\x00"),
            (3, b"caf\xe9"),
            (8, b"\x00h\x00i"),
            (1, b"ia5 text"),
        ];
        for (dc, body) in texts {
            let m = Message {
                id: 7,
                source: Address::new("4670000001"),
                dest: Address::new("+4670123"),
                data_coding: dc,
                body: body.to_vec(),
                origin: Origin {
                    connector: "in".into(),
                    user: Some("alice".into()),
                    ..Default::default()
                },
                dlr: Some(DlrInfo {
                    message_id: 3,
                    reported_id: "3".into(),
                    status: common::dlr::DlrStatus::Delivered,
                    error: 0,
                    submit_us: 0,
                    done_us: 0,
                    text: String::new(),
                }),
                ..Default::default()
            };
            let mut fast_answers = 0;
            for key in READABLE.iter().chain(&["nosuch"]) {
                let safe = get(&lua, &m, key).unwrap();
                match fast_value(&m, key.as_bytes()) {
                    Fast::Slow => {}
                    Fast::Nil => assert_eq!(safe, Value::Nil, "{key}"),
                    Fast::Int(n) => assert_eq!(safe, Value::Integer(n), "{key}"),
                    Fast::Str(b) => {
                        let Value::String(s) = &safe else {
                            panic!("{key}: {safe:?}")
                        };
                        assert_eq!(s.as_bytes().as_ref(), b, "{key}");
                        fast_answers += 1;
                    }
                }
            }
            assert!(fast_answers >= 4);
            let plain = matches!(fast_value(&m, b"message"), Fast::Str(_));
            assert_eq!(plain, dc == 1 || body.starts_with(b"plain"), "{body:?}");
        }
    }
}

//! The message as a script sees it: a userdata whose fields are EMG's MGP option names
//! (`msg.destaddr`, `msg.message`, `msg.charge`, ...), read and written one at a time.
//!
//! A userdata rather than a table of every option: a hook that looks at one field pays for
//! one conversion, which is what keeps a trivial plugin within its cost budget. The first
//! write keeps a copy of the message as it was, so a hook that fails after changing
//! something can be undone ([`HookMessage::restore`]).

use common::gsm::{choose_coding, decode_text, encode_text, Udh};
use common::message::{Message, MsgType};
use mlua::{Lua, MetaMethod, UserData, UserDataMethods, Value};
use rust_decimal::Decimal;
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

/// A message lent to a script for one hook call.
#[derive(Default)]
pub struct HookMessage {
    pub message: Message,
    /// The message before the first change, kept so a failed call can be undone.
    before: Option<Box<Message>>,
}

impl HookMessage {
    pub fn new(message: Message) -> HookMessage {
        HookMessage {
            message,
            before: None,
        }
    }

    /// The message as it was before this call changed anything.
    pub fn restore(self) -> Message {
        match self.before {
            Some(m) => *m,
            None => self.message,
        }
    }

    fn get(&self, lua: &Lua, key: &str) -> mlua::Result<Value> {
        let m = &self.message;
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

    fn set(&mut self, key: &str, value: Value) -> mlua::Result<()> {
        if !WRITABLE.contains(&key) {
            let why = if READABLE.contains(&key) {
                format!("message option `{key}` is read-only")
            } else {
                format!("unknown message option `{key}`")
            };
            return Err(mlua::Error::runtime(why));
        }
        if self.before.is_none() {
            self.before = Some(Box::new(self.message.clone()));
        }
        let m = &mut self.message;
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
}

impl UserData for HookMessage {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Index, |lua, this, key: mlua::LuaString| {
            let key = key.to_str()?.to_ascii_lowercase();
            this.get(lua, alias(&key))
        });
        methods.add_meta_method_mut(
            MetaMethod::NewIndex,
            |lua, this, (key, value): (mlua::LuaString, Value)| {
                let key = key.to_str()?.to_ascii_lowercase();
                this.set(alias(&key), value).map_err(|e| located(lua, e))
            },
        );
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            let m = &this.message;
            Ok(format!(
                "message {} {} -> {}",
                m.id, m.source.addr, m.dest.addr
            ))
        });
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

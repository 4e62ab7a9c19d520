//! Keywords of an outgoing UCP connector that reaches its SMSC over a dial-up modem instead
//! of TCP (EMG's "UCP via modem"): `phone` and `tty` take the place of `address`; the modem
//! is set up with an init string, dials, and the UCP session runs over the line once it
//! answers CONNECT, with waits after the connect and after each operation, at most
//! `dial_messages` messages per call, and a default source address for messages without one.
//!
//! Read into a [`DialupPartial`] per connector table (inherited like every other keyword),
//! then checked against the connector's kind and turned into [`DialupOptions`].

use crate::context::Ctx;
use crate::kind::{Direction, Protocol};
use crate::values::{self, Sp};

pub(crate) const KEYWORDS: &[&str] = &[
    "phone",
    "tty",
    "dial_init",
    "dial_speed",
    "dial_timeout",
    "dial_connectdelay_ms",
    "dial_opdelay_ms",
    "dial_messages",
    "dial_sourceaddr",
];

/// How a UCP connector dials its SMSC.
#[derive(Debug, Clone, PartialEq)]
pub struct DialupOptions {
    /// The number `ATD` dials.
    pub phone: String,
    /// The modem's serial line.
    pub tty: String,
    /// Line speed in bit/s.
    pub speed: u32,
    /// AT command line sent after `ATZ` (e.g. `AT&K3` or a bearer with `AT+CBST`).
    pub init: Option<String>,
    /// Seconds the modem may take to answer a command, and `ATD` to answer CONNECT.
    pub timeout: u64,
    /// Milliseconds to wait after CONNECT before the first UCP operation (pools that print a
    /// banner or need time to switch to the SMSC).
    pub connect_delay_ms: u64,
    /// Milliseconds to wait after each operation before the next one goes out.
    pub op_delay_ms: u64,
    /// Messages sent in one call before hanging up (0: no limit); the rest go in the next.
    pub messages: u32,
    /// Source address given to messages that have none.
    pub sourceaddr: Option<String>,
}

/// What one connector table sets itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct DialupPartial {
    phone: Option<String>,
    tty: Option<String>,
    speed: Option<u32>,
    init: Option<String>,
    timeout: Option<u64>,
    connect_delay_ms: Option<u64>,
    op_delay_ms: Option<u64>,
    messages: Option<u32>,
    sourceaddr: Option<String>,
    /// First keyword set, for the diagnostics.
    any_key: Option<Sp<()>>,
    /// `phone` was written, even with a bad value (already reported).
    phone_written: bool,
}

impl DialupPartial {
    pub(crate) fn inherit_from(&mut self, parent: &DialupPartial) {
        macro_rules! fill {
            ($($f:ident),* $(,)?) => {
                $( if self.$f.is_none() { self.$f = parent.$f.clone(); } )*
            };
        }
        fill!(
            phone,
            tty,
            speed,
            init,
            timeout,
            connect_delay_ms,
            op_delay_ms,
            messages,
            sourceaddr,
            any_key
        );
        self.phone_written |= parent.phone_written;
    }

    /// `phone` is written (here or inherited): the connector dials instead of connecting by
    /// TCP.
    pub(crate) fn dials(&self) -> bool {
        self.phone_written
    }
}

/// Type-checks one dial-up keyword of a connector table.
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    p: &mut DialupPartial,
    key: &str,
    kw: &str,
    v: &values::Val<'_>,
) {
    if p.any_key.is_none() {
        p.any_key = Some(Sp {
            v: (),
            span: v.span(),
            kw: kw.to_string(),
        });
    }
    let sink = &mut ctx.sink;
    let printable = |sink: &mut crate::diagnostic::Sink<'_>, what: &str| {
        let s = values::string(sink, kw, v)?;
        if s.v.is_empty() || s.v.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
            sink.at(&s.span, kw, format!("{what}: printable ASCII, not empty"));
            None
        } else {
            Some(s.v)
        }
    };
    match key {
        "phone" => {
            p.phone_written = true;
            if let Some(s) = values::string(sink, kw, v) {
                let ok = !s.v.is_empty()
                    && s.v.len() <= 40
                    && s.v.bytes().all(|b| b"0123456789+*#,WPTwpt".contains(&b));
                if ok {
                    p.phone = Some(s.v);
                } else {
                    sink.at(
                        &s.span,
                        kw,
                        "a number to dial such as `+46705008999` (digits, + * # and the dial modifiers , W P T)",
                    );
                }
            }
        }
        "tty" => p.tty = printable(sink, "a serial device such as `/dev/ttyUSB0`"),
        "dial_init" => p.init = printable(sink, "an AT command line such as `AT&K0`"),
        "dial_speed" => {
            if let Some(n) = values::int(sink, kw, v, 300u32, 4_000_000) {
                if crate::gsm::SPEEDS.contains(&n) {
                    p.speed = Some(n);
                } else {
                    let list: Vec<String> =
                        crate::gsm::SPEEDS.iter().map(|s| s.to_string()).collect();
                    sink.at(
                        &v.span(),
                        kw,
                        format!("not a line speed (one of: {})", list.join(", ")),
                    );
                }
            }
        }
        "dial_timeout" => p.timeout = values::int(sink, kw, v, 1u64, 600),
        "dial_connectdelay_ms" => p.connect_delay_ms = values::int(sink, kw, v, 0u64, 600_000),
        "dial_opdelay_ms" => p.op_delay_ms = values::int(sink, kw, v, 0u64, 600_000),
        "dial_messages" => p.messages = values::int(sink, kw, v, 0u32, 1_000_000),
        "dial_sourceaddr" => p.sourceaddr = printable(sink, "an address"),
        _ => {}
    }
}

/// Checks the keywords against the connector they are on; the options when `phone` is set.
pub(crate) fn finish(
    ctx: &mut Ctx<'_>,
    p: &DialupPartial,
    protocol: Protocol,
    direction: Direction,
) -> Option<DialupOptions> {
    let k = p.any_key.as_ref()?;
    if (protocol, direction) != (Protocol::Ucp, Direction::Outgoing) {
        ctx.sink.at(
            &k.span,
            &k.kw,
            "only meaningful for outgoing `ucp` connectors",
        );
        return None;
    }
    let Some(phone) = p.phone.clone() else {
        if p.phone_written {
            return None;
        }
        ctx.sink.at(
            &k.span,
            &k.kw,
            "a dial-up connector needs `phone` (the number to dial) as well",
        );
        return None;
    };
    let Some(tty) = p.tty.clone() else {
        ctx.sink.at(
            &k.span,
            &k.kw,
            "a dial-up connector needs `tty` (the modem's serial device) as well",
        );
        return None;
    };
    Some(DialupOptions {
        phone,
        tty,
        speed: p.speed.unwrap_or(9600),
        init: p.init.clone(),
        timeout: p.timeout.unwrap_or(60),
        connect_delay_ms: p.connect_delay_ms.unwrap_or(0),
        op_delay_ms: p.op_delay_ms.unwrap_or(0),
        messages: p.messages.unwrap_or(0),
        sourceaddr: p.sourceaddr.clone(),
    })
}

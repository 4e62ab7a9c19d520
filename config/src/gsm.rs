//! Keywords of GSM modem connectors (`protocol = "gsm"`): the serial line (`address` is the
//! tty), how the modem is set up (init string, PIN, service centre or EMG's `nosca`, message
//! memory) and how often it is asked for stored messages.
//!
//! Read into a [`GsmPartial`] per connector table (inherited like every other keyword), then
//! checked against the connector's protocol and turned into [`GsmOptions`].

use crate::context::Ctx;
use crate::kind::Protocol;
use crate::values::{self, Sp};

pub(crate) const KEYWORDS: &[&str] = &[
    "gsm_speed",
    "gsm_flowcontrol",
    "gsm_init",
    "gsm_pin",
    "gsm_sca",
    "gsm_nosca",
    "gsm_memory",
    "gsm_poll",
    "gsm_destaddr",
    "gsm_timeout",
];

/// `gsm_flowcontrol`: how the serial line is paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowControl {
    #[default]
    None,
    /// RTS/CTS.
    Hardware,
    /// XON/XOFF.
    Software,
}

/// Settings of GSM connectors (defaults for other protocols; only meaningful for `gsm`).
#[derive(Debug, Clone, PartialEq)]
pub struct GsmOptions {
    /// Line speed in bit/s.
    pub speed: u32,
    pub flowcontrol: FlowControl,
    /// Extra AT command line sent after `ATZ`, e.g. `AT+CMEE=1`.
    pub init: Option<String>,
    /// SIM PIN, entered with `AT+CPIN` when the modem asks for it.
    pub pin: Option<String>,
    /// Service centre set with `AT+CSCA` (otherwise the SIM's is used).
    pub sca: Option<String>,
    /// EMG's NOSCA: PDUs carry no SCA field at all (some modems want it so).
    pub nosca: bool,
    /// `AT+CPMS` memory for reading, writing and receiving (`SM`, `ME`, `MT`, ...).
    pub memory: Option<String>,
    /// Seconds between polls of the modem's stored messages.
    pub poll: u64,
    /// Destination address given to received messages (the modem's own number).
    pub destaddr: Option<String>,
    /// Seconds a command may wait for the modem's final answer.
    pub timeout: u64,
}

impl Default for GsmOptions {
    fn default() -> Self {
        GsmOptions {
            speed: 9600,
            flowcontrol: FlowControl::None,
            init: None,
            pin: None,
            sca: None,
            nosca: false,
            memory: None,
            poll: 30,
            destaddr: None,
            timeout: 30,
        }
    }
}

/// What one connector table sets itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct GsmPartial {
    speed: Option<u32>,
    flowcontrol: Option<FlowControl>,
    init: Option<String>,
    pin: Option<String>,
    sca: Option<String>,
    nosca: Option<bool>,
    memory: Option<String>,
    poll: Option<u64>,
    destaddr: Option<String>,
    timeout: Option<u64>,
    /// First keyword set, to flag GSM keywords on other connectors.
    any_key: Option<Sp<()>>,
}

impl GsmPartial {
    pub(crate) fn inherit_from(&mut self, parent: &GsmPartial) {
        macro_rules! fill {
            ($($f:ident),* $(,)?) => {
                $( if self.$f.is_none() { self.$f = parent.$f.clone(); } )*
            };
        }
        fill!(
            speed,
            flowcontrol,
            init,
            pin,
            sca,
            nosca,
            memory,
            poll,
            destaddr,
            timeout,
            any_key
        );
    }
}

pub(crate) const SPEEDS: &[u32] = &[
    1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600,
];

/// Type-checks one GSM keyword of a connector table.
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    p: &mut GsmPartial,
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
    let at_text = |sink: &mut crate::diagnostic::Sink<'_>, what: &str| {
        let s = values::string(sink, kw, v)?;
        if s.v.is_empty() || s.v.bytes().any(|b| !(0x20..0x7f).contains(&b)) {
            sink.at(&s.span, kw, format!("{what}: printable ASCII, not empty"));
            None
        } else {
            Some(s.v)
        }
    };
    match key {
        "gsm_speed" => {
            if let Some(n) = values::int(sink, kw, v, 300u32, 4_000_000) {
                if SPEEDS.contains(&n) {
                    p.speed = Some(n);
                } else {
                    let list: Vec<String> = SPEEDS.iter().map(|s| s.to_string()).collect();
                    sink.at(
                        &v.span(),
                        kw,
                        format!("not a line speed (one of: {})", list.join(", ")),
                    );
                }
            }
        }
        "gsm_flowcontrol" => {
            if let Some(s) = values::string(sink, kw, v) {
                p.flowcontrol = match s.v.to_ascii_lowercase().as_str() {
                    "none" => Some(FlowControl::None),
                    "hardware" | "rtscts" => Some(FlowControl::Hardware),
                    "software" | "xonxoff" => Some(FlowControl::Software),
                    _ => {
                        sink.at(
                            &s.span,
                            kw,
                            format!(
                                "unknown value `{}` (expected one of: none, hardware, software)",
                                s.v
                            ),
                        );
                        None
                    }
                };
            }
        }
        "gsm_init" => p.init = at_text(sink, "an AT command line such as `AT+CMEE=1`"),
        "gsm_pin" => {
            if let Some(s) = values::string(sink, kw, v) {
                if (4..=8).contains(&s.v.len()) && s.v.bytes().all(|b| b.is_ascii_digit()) {
                    p.pin = Some(s.v);
                } else {
                    sink.at(&s.span, kw, "a SIM PIN: 4 to 8 digits");
                }
            }
        }
        "gsm_sca" => {
            if let Some(s) = values::string(sink, kw, v) {
                let digits = s.v.strip_prefix('+').unwrap_or(&s.v);
                if !digits.is_empty()
                    && digits.len() <= 20
                    && digits.bytes().all(|b| b.is_ascii_digit())
                {
                    p.sca = Some(s.v);
                } else {
                    sink.at(
                        &s.span,
                        kw,
                        "a service centre number such as `+46708000000`",
                    );
                }
            }
        }
        "gsm_nosca" => p.nosca = values::boolean(sink, kw, v),
        "gsm_memory" => {
            if let Some(s) = values::string(sink, kw, v) {
                let m = s.v.to_ascii_uppercase();
                if m.len() == 2 && m.bytes().all(|b| b.is_ascii_uppercase()) {
                    p.memory = Some(m);
                } else {
                    sink.at(
                        &s.span,
                        kw,
                        "a message memory: two letters such as SM, ME or MT",
                    );
                }
            }
        }
        "gsm_poll" => p.poll = values::int(sink, kw, v, 1u64, 86_400),
        "gsm_destaddr" => p.destaddr = at_text(sink, "an address"),
        "gsm_timeout" => p.timeout = values::int(sink, kw, v, 1u64, 600),
        _ => {}
    }
}

/// Checks the keywords against the connector they are on and applies defaults.
pub(crate) fn finish(ctx: &mut Ctx<'_>, p: &GsmPartial, protocol: Protocol) -> GsmOptions {
    if protocol != Protocol::Gsm {
        if let Some(k) = &p.any_key {
            ctx.sink
                .at(&k.span, &k.kw, "only meaningful for `gsm` connectors");
        }
    }
    if let (true, Some(_), Some(k)) = (p.nosca == Some(true), &p.sca, &p.any_key) {
        ctx.sink.at(
            &k.span,
            &k.kw,
            "`gsm_sca` and `gsm_nosca = true` contradict each other: set one",
        );
    }
    let d = GsmOptions::default();
    GsmOptions {
        speed: p.speed.unwrap_or(d.speed),
        flowcontrol: p.flowcontrol.unwrap_or(d.flowcontrol),
        init: p.init.clone(),
        pin: p.pin.clone(),
        sca: p.sca.clone(),
        nosca: p.nosca.unwrap_or(d.nosca),
        memory: p.memory.clone(),
        poll: p.poll.unwrap_or(d.poll),
        destaddr: p.destaddr.clone(),
        timeout: p.timeout.unwrap_or(d.timeout),
    }
}

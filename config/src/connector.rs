//! Connector tables: reading each `[connector.NAME]` on its own, and turning what a chain of
//! them says (`inherit`, resolved in [`crate::inherit`]) into a [`Connector`] with defaults.
//!
//! Each table is type-checked once, before inheritance, so a bad value in a parent is reported
//! once at the parent rather than once per child.
//!
//! (Over 600 lines for a reason: a connector keyword is a field of [`Partial`], a line of its
//! inheritance and a line of `finish`, and those three lists must change together; the protocols'
//! own keyword groups already live in `http.rs`, `smtp.rs`, `gsm.rs`, `dialup.rs`.)

use std::collections::{BTreeMap, BTreeSet};

use toml::de::DeTable;

use crate::context::Ctx;
use crate::model::{
    BindMode, Connector, Direction, DlrIdFormat, DlrParts, DlrSession, Mode, Protocol, Reassemble,
    SimOptions, SplitMethod, DLR_STATUSES,
};
use crate::retry::RetryScheme;
use crate::suggest;
use crate::values::{self, Sp, Span};

/// Keywords of a connector table handled here; [`keywords`] adds the HTTP and
/// message-processing ones, which their own modules list.
const OWN_KEYWORDS: &[&str] = &[
    "type",
    "protocol",
    "address",
    "instances",
    "mode",
    "static",
    "idletimeout",
    "keepalive",
    "bind_timeout",
    "frame_timeout",
    "max_connections",
    "max_connections_per_ip",
    "max_login_failures",
    "login_block",
    "username",
    "password",
    "users",
    "access",
    "route",
    "inherit",
    "virtual",
    "ignoremaxtotalqueuesize",
    "maxqueuesize",
    "windowsize",
    "throughput",
    "retryscheme",
    "dlr_delay_ms",
    "fail_share",
    "fail_error",
    "dlr_status",
    "latency_ms",
    "bindmode",
    "interface_version",
    "system_type",
    "dlr_id_format",
    "dlr_park_seconds",
    "dlr_group",
    "dlr_expire",
    "split",
    "reassemble",
    "dlr_session",
    "dlr_parts",
    "oton",
    "onpi",
    "dlr_support",
    "nodlr",
    "ebe_timeout",
    "ebe_args",
];

/// Every keyword allowed in a connector table.
pub(crate) fn keywords() -> Vec<&'static str> {
    [
        OWN_KEYWORDS,
        crate::http::IN_KEYWORDS,
        crate::http::OUT_KEYWORDS,
        crate::smtp::KEYWORDS,
        crate::tls_keywords::KEYWORDS,
        crate::gsm::KEYWORDS,
        crate::dialup::KEYWORDS,
        crate::process::KEYWORDS,
        crate::plugin::KEYWORDS,
    ]
    .concat()
}

/// Keywords that only make sense for outgoing SMPP.
const SMPP_OUT_KEYWORDS: &[&str] = &["bindmode", "interface_version", "system_type"];

/// Keywords that only make sense for outgoing UCP/EMI (the operation 60 login).
const UCP_OUT_KEYWORDS: &[&str] = &["oton", "onpi"];

/// Keywords that only make sense for outgoing connectors (they receive receipts).
const OUTGOING_KEYWORDS: &[&str] = &[
    "dlr_id_format",
    "dlr_park_seconds",
    "dlr_group",
    "dlr_expire",
    "split",
    "dlr_parts",
];

/// `split` spellings (lower case): how long messages are cut into parts on send.
const SPLIT_METHODS: &[(&str, SplitMethod)] = &[
    ("udh8", SplitMethod::Udh8),
    ("udh", SplitMethod::Udh8),
    ("udh16", SplitMethod::Udh16),
    ("sar", SplitMethod::Sar),
    ("payload", SplitMethod::Payload),
    ("message_payload", SplitMethod::Payload),
];

/// `dlr_parts` spellings (lower case): what the sender hears about a long message's parts.
const DLR_PARTS: &[(&str, DlrParts)] = &[("combine", DlrParts::Combine), ("each", DlrParts::Each)];

/// `reassemble` spellings (lower case): whether parts received are joined.
const REASSEMBLE: &[(&str, Reassemble)] = &[
    ("auto", Reassemble::Auto),
    ("always", Reassemble::Always),
    ("never", Reassemble::Never),
];

/// Default `dlr_park_seconds`: how long a receipt that matched nothing waits, unanswered,
/// for its submit response. Ten seconds covers a submit_sm_resp stuck behind a slow commit;
/// many SMSCs resend a deliver_sm that is not answered within 10-30 s, so waiting longer
/// would only bring duplicates.
pub const DLR_PARK_SECONDS: u64 = 10;

/// `dlr_session` spellings (lower case): which session of a client its receipts go back on.
const DLR_SESSIONS: &[(&str, DlrSession)] = &[
    ("any", DlrSession::Any),
    ("submitting", DlrSession::Submitting),
    ("same_ip", DlrSession::SameIp),
];

/// `bindmode` spellings (lower case).
const BINDMODES: &[(&str, BindMode)] = &[
    ("transceiver", BindMode::Transceiver),
    ("transmitter", BindMode::Transmitter),
    ("receiver", BindMode::Receiver),
];

/// `interface_version` spellings.
const INTERFACE_VERSIONS: &[(&str, u8)] = &[("3.3", 0x33), ("3.4", 0x34), ("5.0", 0x50)];

/// `dlr_id_format` spellings (lower case).
const DLR_ID_FORMATS: &[(&str, DlrIdFormat)] = &[
    ("auto", DlrIdFormat::Auto),
    ("hex", DlrIdFormat::Hex),
    ("decimal", DlrIdFormat::Decimal),
    ("string", DlrIdFormat::String),
];

/// Keywords that only make sense for the simulator.
const SIM_KEYWORDS: &[&str] = &[
    "dlr_delay_ms",
    "fail_share",
    "fail_error",
    "dlr_status",
    "latency_ms",
];

/// Protocol spellings accepted in `protocol` (lower case), EMG aliases included.
const PROTOCOLS: &[(&str, Protocol)] = &[
    ("smpp", Protocol::Smpp),
    ("http", Protocol::Http),
    ("smtp", Protocol::Smtp),
    ("ucp", Protocol::Ucp),
    ("emi", Protocol::Ucp),
    ("cimd2", Protocol::Cimd2),
    ("cimd", Protocol::Cimd2),
    ("mgp", Protocol::Mgp),
    ("ebe", Protocol::Ebe),
    ("gsm", Protocol::Gsm),
    ("sim", Protocol::Sim),
];

/// `mode` spellings (lower case).
const MODES: &[(&str, Mode)] = &[
    ("both", Mode::Both),
    ("transmit", Mode::TransmitOnly),
    ("transmit-only", Mode::TransmitOnly),
    ("transmit_only", Mode::TransmitOnly),
    ("receive", Mode::ReceiveOnly),
    ("receive-only", Mode::ReceiveOnly),
    ("receive_only", Mode::ReceiveOnly),
];

/// Canonical lower-case protocol name, for messages.
fn protocol_name(p: Protocol) -> &'static str {
    PROTOCOLS
        .iter()
        .find(|(_, q)| *q == p)
        .map_or("?", |(n, _)| n)
}

/// What one connector table says by itself, before inheritance. `None` = not set here.
#[derive(Debug, Clone, Default)]
pub(crate) struct Partial {
    /// Span of the `[connector.NAME]` header, for "missing keyword" diagnostics.
    pub(crate) header: Span,
    /// Not inherited: a child of a template is real unless it says otherwise.
    pub(crate) is_virtual: bool,
    /// Not inherited: each connector names its own parent.
    pub(crate) inherit: Option<Sp<String>>,
    direction: Option<Direction>,
    protocol: Option<Protocol>,
    address: Option<Sp<String>>,
    instances: Option<u32>,
    mode: Option<Mode>,
    is_static: Option<bool>,
    idletimeout: Option<u64>,
    keepalive: Option<u64>,
    bind_timeout: Option<u64>,
    frame_timeout: Option<u64>,
    max_connections: Option<u32>,
    max_connections_per_ip: Option<u32>,
    max_login_failures: Option<u32>,
    login_block: Option<u64>,
    username: Option<String>,
    password: Option<String>,
    pub(crate) users: Option<Vec<Sp<String>>>,
    access: Option<Vec<String>>,
    pub(crate) route: Option<Sp<String>>,
    ignoremaxtotalqueuesize: Option<bool>,
    maxqueuesize: Option<u64>,
    windowsize: Option<u32>,
    throughput: Option<f64>,
    retryscheme: Option<RetryScheme>,
    dlr_delay_ms: Option<u64>,
    fail_share: Option<f64>,
    fail_error: Option<u32>,
    dlr_status: Option<String>,
    latency_ms: Option<u64>,
    bindmode: Option<BindMode>,
    interface_version: Option<u8>,
    system_type: Option<String>,
    dlr_id_format: Option<DlrIdFormat>,
    dlr_park_seconds: Option<u64>,
    dlr_group: Option<Sp<String>>,
    dlr_expire: Option<u64>,
    split: Option<SplitMethod>,
    dlr_parts: Option<DlrParts>,
    reassemble: Option<Reassemble>,
    dlr_session: Option<DlrSession>,
    oton: Option<u8>,
    onpi: Option<u8>,
    dlr_support: Option<bool>,
    nodlr: Option<bool>,
    ebe_timeout: Option<u64>,
    ebe_args: Option<Vec<String>>,
    /// `plugins`: names of `[plugin.NAME]` tables, in the order they run.
    pub(crate) plugins: Option<Vec<Sp<String>>>,
    /// HTTP keywords (`crate::http`).
    http: crate::http::HttpPartial,
    /// SMTP keywords (`crate::smtp`).
    smtp: crate::smtp::SmtpPartial,
    /// TLS keywords (`crate::tls_keywords`).
    tls: crate::tls_keywords::TlsPartial,
    /// GSM modem keywords (`crate::gsm`).
    gsm: crate::gsm::GsmPartial,
    /// Dial-up UCP keywords (`crate::dialup`).
    dialup: crate::dialup::DialupPartial,
    /// Message processing keywords (`crate::process`).
    pub(crate) process: crate::process::PartialProcess,
    /// First simulator-only keyword set, to flag it on non-simulator connectors.
    sim_key: Option<Sp<()>>,
    /// First outgoing-SMPP-only keyword set.
    smpp_out_key: Option<Sp<()>>,
    /// First outgoing-only keyword set.
    outgoing_key: Option<Sp<()>>,
    /// First outgoing-UCP-only keyword set.
    ucp_out_key: Option<Sp<()>>,
    /// Keywords written in this table or its ancestors, valid or not, so a keyword with a bad
    /// value is not also reported as missing.
    pub(crate) present: BTreeSet<String>,
    /// Where each keyword is written (here, or in the nearest ancestor), for the checks of
    /// where it applies (`crate::applies`).
    written: BTreeMap<String, Sp<()>>,
}

impl Partial {
    /// Fills every inheritable field not set here from `parent` (child wins).
    pub(crate) fn inherit_from(&mut self, parent: &Partial) {
        macro_rules! fill {
            ($($f:ident),* $(,)?) => {
                $( if self.$f.is_none() { self.$f = parent.$f.clone(); } )*
            };
        }
        fill!(
            direction,
            protocol,
            address,
            instances,
            mode,
            is_static,
            idletimeout,
            keepalive,
            bind_timeout,
            frame_timeout,
            max_connections,
            max_connections_per_ip,
            max_login_failures,
            login_block,
            username,
            password,
            users,
            access,
            route,
            ignoremaxtotalqueuesize,
            maxqueuesize,
            windowsize,
            throughput,
            retryscheme,
            dlr_delay_ms,
            fail_share,
            fail_error,
            dlr_status,
            latency_ms,
            bindmode,
            interface_version,
            system_type,
            dlr_id_format,
            dlr_park_seconds,
            dlr_group,
            dlr_expire,
            split,
            dlr_parts,
            reassemble,
            dlr_session,
            oton,
            onpi,
            dlr_support,
            nodlr,
            ebe_timeout,
            ebe_args,
            plugins,
            sim_key,
            smpp_out_key,
            outgoing_key,
            ucp_out_key,
        );
        self.http.inherit_from(&parent.http);
        self.smtp.inherit_from(&parent.smtp);
        self.tls.inherit_from(&parent.tls);
        self.gsm.inherit_from(&parent.gsm);
        self.dialup.inherit_from(&parent.dialup);
        self.process.inherit_from(&parent.process);
        self.present.extend(parent.present.iter().cloned());
        for (k, at) in &parent.written {
            self.written.entry(k.clone()).or_insert_with(|| at.clone());
        }
    }
}

/// Parses a case-insensitive enumerated value from `choices`.
fn choice<T: Copy>(
    ctx: &mut Ctx<'_>,
    kw: &str,
    v: &values::Val<'_>,
    what: &str,
    choices: &[(&str, T)],
) -> Option<T> {
    let s = values::string(&mut ctx.sink, kw, v)?;
    let lc = s.v.to_ascii_lowercase();
    if let Some((_, t)) = choices.iter().find(|(n, _)| *n == lc) {
        return Some(*t);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    let hint = suggest::hint(&lc, names.iter().copied());
    ctx.sink.at(
        &s.span,
        kw,
        format!(
            "unknown {what} `{}`{hint} (expected one of: {})",
            s.v,
            names.join(", ")
        ),
    );
    None
}

/// Type-checks one connector table.
pub(crate) fn read(ctx: &mut Ctx<'_>, prefix: &str, header: Span, t: &DeTable<'_>) -> Partial {
    let mut p = Partial {
        header,
        ..Partial::default()
    };
    for (key, kw, v) in values::known_keys(&mut ctx.sink, prefix, t, &keywords()) {
        p.present.insert(key.to_string());
        p.written.entry(key.to_string()).or_insert_with(|| Sp {
            v: (),
            span: v.span(),
            kw: kw.clone(),
        });
        let sink = &mut ctx.sink;
        if SIM_KEYWORDS.contains(&key) && p.sim_key.is_none() {
            p.sim_key = Some(Sp {
                v: (),
                span: v.span(),
                kw: kw.clone(),
            });
        }
        if SMPP_OUT_KEYWORDS.contains(&key) && p.smpp_out_key.is_none() {
            p.smpp_out_key = Some(Sp {
                v: (),
                span: v.span(),
                kw: kw.clone(),
            });
        }
        if UCP_OUT_KEYWORDS.contains(&key) && p.ucp_out_key.is_none() {
            p.ucp_out_key = Some(Sp {
                v: (),
                span: v.span(),
                kw: kw.clone(),
            });
        }
        if OUTGOING_KEYWORDS.contains(&key) && p.outgoing_key.is_none() {
            p.outgoing_key = Some(Sp {
                v: (),
                span: v.span(),
                kw: kw.clone(),
            });
        }
        match key {
            "type" => {
                let dirs = [
                    ("incoming", Direction::Incoming),
                    ("outgoing", Direction::Outgoing),
                ];
                p.direction = choice(ctx, &kw, v, "connector type", &dirs);
            }
            "protocol" => p.protocol = choice(ctx, &kw, v, "protocol", PROTOCOLS),
            "mode" => p.mode = choice(ctx, &kw, v, "mode", MODES),
            "address" => p.address = values::string(sink, &kw, v),
            "instances" => p.instances = values::int(sink, &kw, v, 0, u32::MAX),
            "static" => p.is_static = values::boolean(sink, &kw, v),
            "idletimeout" => p.idletimeout = values::int(sink, &kw, v, 0, u64::MAX),
            "keepalive" => p.keepalive = values::int(sink, &kw, v, 0, u64::MAX),
            "bind_timeout" => p.bind_timeout = values::int(sink, &kw, v, 1, 3600),
            "frame_timeout" => p.frame_timeout = values::int(sink, &kw, v, 1, 3600),
            "max_connections" => p.max_connections = values::int(sink, &kw, v, 1, 100_000),
            "max_connections_per_ip" => {
                p.max_connections_per_ip = values::int(sink, &kw, v, 1, 100_000)
            }
            "max_login_failures" => p.max_login_failures = values::int(sink, &kw, v, 1, 10_000),
            "login_block" => p.login_block = values::int(sink, &kw, v, 1, 86_400),
            "username" => p.username = values::string(sink, &kw, v).map(|s| s.v),
            "password" => p.password = values::string(sink, &kw, v).map(|s| s.v),
            "users" => p.users = values::strings(sink, &kw, v),
            "access" => p.access = access_list(ctx, &kw, v),
            "route" => p.route = values::string(sink, &kw, v),
            "inherit" => p.inherit = values::string(sink, &kw, v),
            "virtual" => p.is_virtual = values::boolean(sink, &kw, v).unwrap_or(false),
            "ignoremaxtotalqueuesize" => {
                p.ignoremaxtotalqueuesize = values::boolean(sink, &kw, v);
            }
            "maxqueuesize" => p.maxqueuesize = values::int(sink, &kw, v, 0, u64::MAX),
            "windowsize" => p.windowsize = values::int(sink, &kw, v, 1, u32::MAX),
            "throughput" => {
                p.throughput = values::number(sink, &kw, v, |n| n > 0.0, "greater than 0");
            }
            "retryscheme" => {
                if let Some(s) = values::string(sink, &kw, v) {
                    p.retryscheme = ctx.retry_scheme(&s);
                }
            }
            "dlr_delay_ms" => p.dlr_delay_ms = values::int(sink, &kw, v, 0, u64::MAX),
            "fail_share" => {
                let range = |n: f64| (0.0..=1.0).contains(&n);
                p.fail_share = values::number(sink, &kw, v, range, "between 0.0 and 1.0");
            }
            "fail_error" => p.fail_error = values::int(sink, &kw, v, 0, u32::MAX),
            "dlr_status" => p.dlr_status = dlr_status(ctx, &kw, v),
            "latency_ms" => p.latency_ms = values::int(sink, &kw, v, 0, u64::MAX),
            "bindmode" => p.bindmode = choice(ctx, &kw, v, "bind mode", BINDMODES),
            "interface_version" => {
                p.interface_version =
                    choice(ctx, &kw, v, "SMPP interface version", INTERFACE_VERSIONS);
            }
            "system_type" => {
                if let Some(s) = values::string(sink, &kw, v) {
                    if s.v.len() > 12 {
                        sink.at(&s.span, &kw, "at most 12 characters (SMPP system_type)");
                    } else {
                        p.system_type = Some(s.v);
                    }
                }
            }
            "dlr_id_format" => {
                p.dlr_id_format = choice(ctx, &kw, v, "DLR id format", DLR_ID_FORMATS);
            }
            "dlr_park_seconds" => p.dlr_park_seconds = values::int(sink, &kw, v, 0, 86_400),
            "dlr_expire" => p.dlr_expire = values::int(sink, &kw, v, 1, u64::MAX),
            "dlr_group" => p.dlr_group = values::string(sink, &kw, v).filter(|g| !g.v.is_empty()),
            "split" => p.split = choice(ctx, &kw, v, "split method", SPLIT_METHODS),
            "reassemble" => p.reassemble = choice(ctx, &kw, v, "reassembly policy", REASSEMBLE),
            "dlr_session" => {
                p.dlr_session = choice(ctx, &kw, v, "receipt session policy", DLR_SESSIONS);
            }
            "dlr_parts" => p.dlr_parts = choice(ctx, &kw, v, "DLR parts policy", DLR_PARTS),
            // UCP's OTON and ONPI fields are one digit.
            "oton" => p.oton = values::int(sink, &kw, v, 0u8, 9u8),
            "onpi" => p.onpi = values::int(sink, &kw, v, 0u8, 9u8),
            "dlr_support" => p.dlr_support = values::boolean(sink, &kw, v),
            "nodlr" => p.nodlr = values::boolean(sink, &kw, v),
            "ebe_timeout" => p.ebe_timeout = values::int(sink, &kw, v, 1, 86_400),
            "ebe_args" => p.ebe_args = crate::ebe::read_args(sink, &kw, v),
            "plugins" => p.plugins = values::strings(sink, &kw, v),
            k if crate::http::IN_KEYWORDS.contains(&k)
                || crate::http::OUT_KEYWORDS.contains(&k) =>
            {
                crate::http::read(ctx, &mut p.http, k, &kw, v);
            }
            k if crate::smtp::KEYWORDS.contains(&k) => {
                crate::smtp::read(ctx, &mut p.smtp, k, &kw, v)
            }
            k if crate::tls_keywords::KEYWORDS.contains(&k) => {
                crate::tls_keywords::read(ctx, &mut p.tls, k, &kw, v)
            }
            k if crate::gsm::KEYWORDS.contains(&k) => crate::gsm::read(ctx, &mut p.gsm, k, &kw, v),
            k if crate::dialup::KEYWORDS.contains(&k) => {
                crate::dialup::read(ctx, &mut p.dialup, k, &kw, v)
            }
            k if crate::process::KEYWORDS.contains(&k) => p.process.read(ctx, k, &kw, v),
            _ => {}
        }
    }
    p
}

/// `access`: an array of IP addresses / CIDR blocks, each checked.
pub(crate) fn access_list(ctx: &mut Ctx<'_>, kw: &str, v: &values::Val<'_>) -> Option<Vec<String>> {
    let items = values::strings(&mut ctx.sink, kw, v)?;
    let mut out = Vec::new();
    for item in items {
        match values::check_access(&item.v) {
            Ok(()) => out.push(item.v),
            Err(msg) => ctx.sink.at(&item.span, kw, msg),
        }
    }
    Some(out)
}

fn dlr_status(ctx: &mut Ctx<'_>, kw: &str, v: &values::Val<'_>) -> Option<String> {
    let s = values::string(&mut ctx.sink, kw, v)?;
    let uc = s.v.to_ascii_uppercase();
    if DLR_STATUSES.contains(&uc.as_str()) {
        return Some(uc);
    }
    let hint = suggest::hint(&uc, DLR_STATUSES);
    ctx.sink.at(
        &s.span,
        kw,
        format!(
            "unknown delivery report status `{}`{hint} (expected one of: {})",
            s.v,
            DLR_STATUSES.join(", ")
        ),
    );
    None
}

/// Applies defaults and the checks that depend on inherited values.
pub(crate) fn finish(
    ctx: &mut Ctx<'_>,
    name: &str,
    m: &Partial,
    broken_chain: bool,
    default_retry: &RetryScheme,
) -> Option<Connector> {
    let prefix = format!("connector.{name}");
    for key in ["type", "protocol"] {
        if !broken_chain && !m.present.contains(key) {
            ctx.sink.at(
                &m.header,
                &format!("{prefix}.{key}"),
                "required keyword is missing (not set here or in an inherited connector)",
            );
        }
    }
    let (direction, protocol) = (m.direction?, m.protocol?);
    crate::applies::check(ctx, &m.written, protocol, direction);

    match (&m.address, protocol) {
        (None, Protocol::Sim) => {}
        // A dial-up UCP connector reaches its SMSC by `phone` and `tty`.
        (None, Protocol::Ucp) if m.dialup.dials() => {}
        (None, _) if m.present.contains("address") => {}
        (None, p) => ctx.sink.at(
            &m.header,
            &format!("{prefix}.address"),
            format!(
                "required keyword is missing for protocol `{}`",
                protocol_name(p)
            ),
        ),
        (Some(a), p) => {
            let host_port = matches!(
                p,
                Protocol::Smpp | Protocol::Ucp | Protocol::Cimd2 | Protocol::Mgp | Protocol::Smtp
            ) || (p == Protocol::Http && direction == Direction::Incoming);
            if host_port {
                if let Err(msg) = values::check_host_port(&a.v) {
                    ctx.sink.at(&a.span, &a.kw, msg);
                }
            } else if p == Protocol::Http
                && !(a.v.starts_with("http://") || a.v.starts_with("https://"))
            {
                ctx.sink.at(
                    &a.span,
                    &a.kw,
                    format!("`{}` is not an http:// or https:// URL", a.v),
                );
            }
        }
    }
    if let (Some(a), true) = (&m.address, m.dialup.dials()) {
        ctx.sink.at(
            &a.span,
            &a.kw,
            "a dial-up connector reaches its SMSC by `phone` and `tty`: remove `address` or `phone`",
        );
    }
    if protocol == Protocol::Gsm {
        if direction != Direction::Outgoing {
            ctx.sink.at(
                &m.header,
                &format!("{prefix}.type"),
                "a `gsm` connector is always outgoing: set `type = \"outgoing\"`",
            );
        }
        if m.instances.unwrap_or(1) > 1 {
            ctx.sink.at(
                &m.header,
                &format!("{prefix}.instances"),
                "a `gsm` connector has one instance (one modem on one tty): set `instances = 1`",
            );
        }
    }
    if let (Some(k), true) = (&m.sim_key, protocol != Protocol::Sim) {
        ctx.sink.at(
            &k.span,
            &k.kw,
            format!(
                "only meaningful for protocol `sim`, not `{}`",
                protocol_name(protocol)
            ),
        );
    }

    if let (Some(k), false) = (
        &m.smpp_out_key,
        direction == Direction::Outgoing && protocol == Protocol::Smpp,
    ) {
        ctx.sink.at(
            &k.span,
            &k.kw,
            "only meaningful for outgoing `smpp` connectors",
        );
    }
    if let (Some(k), false) = (
        &m.ucp_out_key,
        direction == Direction::Outgoing && protocol == Protocol::Ucp,
    ) {
        ctx.sink.at(
            &k.span,
            &k.kw,
            "only meaningful for outgoing `ucp` connectors",
        );
    }
    // UCP and CIMD2 carry a long message's parts only with a UDH (in XSer, in 032).
    if matches!(protocol, Protocol::Ucp | Protocol::Cimd2)
        && matches!(m.split, Some(SplitMethod::Sar | SplitMethod::Payload))
    {
        ctx.sink.at(
            &m.header,
            &format!("{prefix}.split"),
            format!(
                "`{}` connectors cut long messages with a UDH only: use udh8 or udh16",
                protocol_name(protocol)
            ),
        );
    }
    if protocol == Protocol::Smpp && direction == Direction::Outgoing {
        smpp_3_3_limits(ctx, &prefix, m);
    }
    if let (Some(k), Direction::Incoming) = (&m.outgoing_key, direction) {
        ctx.sink
            .at(&k.span, &k.kw, "only meaningful for outgoing connectors");
    }

    // Sessions of SMPP: outgoing ones log out when idle; incoming ones are asked
    // (enquire_link) whether the client is still there, and let go after an idle hour, so a
    // dead client does not hold its instance.
    let (default_idle, default_keepalive) = match (direction, protocol) {
        (Direction::Outgoing, Protocol::Smpp) => (Some(30), None),
        (Direction::Incoming, Protocol::Smpp) => (Some(3600), Some(60)),
        _ => (None, None),
    };
    let sim_default = SimOptions::default();
    let dialup = crate::dialup::finish(ctx, &m.dialup, protocol, direction);
    let tls = crate::tls_keywords::finish(ctx, &m.tls, protocol, direction);
    if let (Some(_), Some(_), Some(at)) = (&dialup, &tls, m.written.get("tls")) {
        ctx.sink.at(
            &at.span,
            &at.kw,
            "a UCP connector that dials its SMSC over a modem (`phone`) has no TCP link to put TLS on",
        );
    }
    Some(Connector {
        name: name.to_string(),
        direction,
        protocol,
        address: m.address.as_ref().map(|a| a.v.clone()),
        instances: m.instances.unwrap_or(1),
        mode: m.mode.unwrap_or_default(),
        is_static: m.is_static.unwrap_or(false),
        idletimeout: m.idletimeout.or(default_idle).filter(|&s| s > 0),
        keepalive: m.keepalive.or(default_keepalive).filter(|&s| s > 0),
        bind_timeout: m.bind_timeout.unwrap_or(10),
        frame_timeout: m.frame_timeout.unwrap_or(crate::DEFAULT_FRAME_TIMEOUT),
        max_connections: m.max_connections,
        max_connections_per_ip: m.max_connections_per_ip.unwrap_or(32),
        max_login_failures: m.max_login_failures.unwrap_or(10),
        login_block: m.login_block.unwrap_or(60),
        username: m.username.clone(),
        password: m.password.clone(),
        users: m.users.iter().flatten().map(|u| u.v.clone()).collect(),
        access: m.access.clone().unwrap_or_default(),
        route: m.route.as_ref().map(|r| r.v.clone()),
        inherit: m.inherit.as_ref().map(|i| i.v.clone()),
        ignoremaxtotalqueuesize: m.ignoremaxtotalqueuesize.unwrap_or(false),
        maxqueuesize: m.maxqueuesize,
        windowsize: m.windowsize.unwrap_or(10),
        throughput: m.throughput,
        retryscheme: m
            .retryscheme
            .clone()
            .unwrap_or_else(|| default_retry.clone()),
        sim: SimOptions {
            dlr_delay_ms: m.dlr_delay_ms.unwrap_or(sim_default.dlr_delay_ms),
            fail_share: m.fail_share.unwrap_or(sim_default.fail_share),
            fail_error: m.fail_error.unwrap_or(sim_default.fail_error),
            dlr_status: m.dlr_status.clone().unwrap_or(sim_default.dlr_status),
            latency_ms: m.latency_ms.unwrap_or(sim_default.latency_ms),
        },
        bindmode: m.bindmode.unwrap_or_default(),
        interface_version: m.interface_version.unwrap_or(0x34),
        system_type: m.system_type.clone().unwrap_or_default(),
        dlr_id_format: m.dlr_id_format.unwrap_or_default(),
        dlr_park_seconds: m.dlr_park_seconds.unwrap_or(DLR_PARK_SECONDS),
        dlr_group: m.dlr_group.as_ref().map(|g| g.v.clone()),
        dlr_expire: m.dlr_expire,
        split: m.split.unwrap_or_default(),
        reassemble: m.reassemble.unwrap_or_default(),
        dlr_session: m.dlr_session.unwrap_or_default(),
        dlr_parts: m.dlr_parts.unwrap_or_default(),
        // A short number alias (6) in a private numbering plan (5), as SMSCs expect of an
        // application logging in with operation 60.
        oton: m.oton.unwrap_or(6),
        onpi: m.onpi.unwrap_or(5),
        // EMG's DLR_SUPPORT: 0 (a report made at once from the send's result) for EBE, and for
        // outgoing HTTP that reads no provider id; 1 (wait for a receipt) for the rest.
        dlr_support: m.dlr_support.unwrap_or(match protocol {
            Protocol::Ebe => false,
            Protocol::Http => m.http.reads_remote_id(),
            _ => true,
        }),
        nodlr: m.nodlr.unwrap_or(false),
        ebe_timeout: m.ebe_timeout.unwrap_or(30),
        ebe_args: m.ebe_args.clone().unwrap_or_default(),
        plugins: m
            .plugins
            .iter()
            .flatten()
            .map(|p| crate::plugin::split_ref(&p.v).0.to_string())
            .collect(),
        plugin_args: m
            .plugins
            .iter()
            .flatten()
            .filter_map(|p| match crate::plugin::split_ref(&p.v) {
                (name, Some(arg)) => Some((name.to_string(), arg.to_string())),
                _ => None,
            })
            .collect(),
        http: crate::http::finish(ctx, &m.http, direction, protocol),
        smtp: crate::smtp::finish(ctx, &m.smtp, direction, protocol),
        tls,
        gsm: crate::gsm::finish(ctx, &m.gsm, protocol),
        dialup,
        process: m.process.finish(),
    })
}

/// SMPP 3.3 has no transceiver bind (a session sends or receives: two connectors, sharing a
/// `dlr_group`, do both) and no TLVs, so no `sar` or `payload` split.
fn smpp_3_3_limits(ctx: &mut Ctx<'_>, prefix: &str, m: &Partial) {
    if m.interface_version != Some(0x33) {
        return;
    }
    let at = |kw: &str| m.written.get(kw).map_or(&m.header, |w| &w.span);
    if m.bindmode.unwrap_or_default() == BindMode::Transceiver {
        ctx.sink.at(
            at("bindmode"),
            &format!("{prefix}.bindmode"),
            "SMPP 3.3 has no transceiver bind: set `bindmode = \"transmitter\"` or \"receiver\" \
             (a transmitter and a receiver connector with the same `dlr_group` do both)",
        );
    }
    if matches!(m.split, Some(SplitMethod::Sar | SplitMethod::Payload)) {
        ctx.sink.at(
            at("split"),
            &format!("{prefix}.split"),
            "SMPP 3.3 has no TLVs to carry sar_* or message_payload: use udh8 or udh16",
        );
    }
}

/// The members of a `dlr_group` must spell message ids alike (a receipt on one is matched
/// against ids sent on another), and the group's name must not be another connector's.
pub(crate) fn check_dlr_groups(
    ctx: &mut Ctx<'_>,
    partials: &BTreeMap<String, Partial>,
    connectors: &BTreeMap<String, Connector>,
) {
    let mut formats: BTreeMap<&str, (&str, DlrIdFormat)> = BTreeMap::new();
    for (name, c) in connectors {
        let (Some(group), Some(p)) = (&c.dlr_group, partials.get(name)) else {
            continue;
        };
        let Some(at) = &p.dlr_group else { continue };
        if let Some(other) = connectors.get(group.as_str()) {
            if other.dlr_group.as_deref() != Some(group.as_str()) {
                ctx.sink.at(
                    &at.span,
                    &at.kw,
                    format!("`{group}` is the name of connector `{group}`, which is not in this DLR group: name the group differently"),
                );
            }
        }
        match formats.get(group.as_str()) {
            Some((first, format)) if *format != c.dlr_id_format => ctx.sink.at(
                &at.span,
                &at.kw,
                format!("connector `{first}` of DLR group `{group}` has a different `dlr_id_format`: members match each other's ids, so give them the same one"),
            ),
            Some(_) => {}
            None => {
                formats.insert(group, (name, c.dlr_id_format));
            }
        }
    }
}

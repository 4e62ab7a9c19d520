//! Keywords of SMTP connectors: the mail server an incoming one runs for applications and
//! users (limits, TLS, AUTH, how recipient addresses become numbers, delivery reports by mail)
//! and the relay an outgoing one hands mail to. `quotedsubject` and `default_msgtype` are
//! EMG's own keywords for SMTP connectors.
//!
//! Read into an [`SmtpPartial`] per connector table (inherited like every other keyword), then
//! checked against the connector's protocol and direction and turned into [`SmtpOptions`].

use crate::context::Ctx;
use crate::http::word;
use crate::kind::{Direction, Protocol};
use crate::values::{self, Sp};
use std::path::PathBuf;

/// Keywords of both kinds of SMTP connector.
pub(crate) const KEYWORDS: &[&str] = &[
    "smtp_hostname",
    "smtp_domains",
    "smtp_local_prefix",
    "smtp_starttls",
    "smtp_tls_cert",
    "smtp_tls_key",
    "smtp_tls_ca",
    "smtp_timeout",
    "smtp_max_message_size",
    "smtp_max_recipients",
    "smtp_auth",
    "smtp_auth_plaintext",
    "smtp_dlr_relay",
    "smtp_dlr_from",
    "quotedsubject",
    "default_msgtype",
];

/// Keywords only an incoming SMTP connector uses.
const IN_ONLY: &[&str] = &[
    "smtp_tls_cert",
    "smtp_tls_key",
    "smtp_max_recipients",
    "smtp_auth",
    "smtp_auth_plaintext",
    "smtp_dlr_relay",
    "smtp_dlr_from",
    "default_msgtype",
];

/// Keywords only an outgoing SMTP connector uses.
const OUT_ONLY: &[&str] = &["smtp_tls_ca"];

/// `smtp_starttls`: whether the session is encrypted with STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartTls {
    /// Never (incoming: not offered; outgoing: not used even when offered).
    No,
    /// Incoming: offered; outgoing: used when the relay offers it.
    #[default]
    Yes,
    /// Incoming: nothing but EHLO, STARTTLS, NOOP, RSET and QUIT before it; outgoing: a relay
    /// that does not offer it is an error.
    Required,
}

/// `smtp_auth` of an incoming connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmtpAuth {
    /// AUTH is not offered; anyone the `access` list lets in may send.
    No,
    /// AUTH is offered (the connector's users); a client may send without it.
    #[default]
    Optional,
    /// MAIL needs a successful AUTH first.
    Required,
}

/// `default_msgtype`: what a mail received becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefaultMsgType {
    /// Read into SMS text at once.
    #[default]
    Sms,
    /// Kept whole (message type EMAIL) until it leaves on a connector that is not SMTP.
    Email,
}

/// Settings of SMTP connectors (defaults for other protocols; only meaningful for `smtp`).
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpOptions {
    /// Our name in the greeting (incoming) and in EHLO (outgoing).
    pub hostname: String,
    /// Domains whose local parts are numbers (empty: any domain). Outgoing: the first one
    /// makes a number into a mail address.
    pub domains: Vec<String>,
    /// Text a recipient's local part starts with before the number (e.g. `sms.`).
    pub local_prefix: String,
    pub starttls: StartTls,
    /// Incoming: certificate chain and key (PEM) STARTTLS is offered with.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Outgoing: the certificates (PEM) the relay's is checked against, else the system's.
    pub tls_ca: Option<PathBuf>,
    /// Seconds of silence before a session is closed (a command, a DATA block, a reply).
    pub timeout: u64,
    /// Incoming: largest mail in octets (advertised as SIZE).
    pub max_message_size: u64,
    /// Incoming: recipients per mail.
    pub max_recipients: usize,
    pub auth: SmtpAuth,
    /// Incoming: AUTH also on a session that is not encrypted.
    pub auth_plaintext: bool,
    /// Incoming: the relay (`host:port`) that delivery reports are mailed through, to the
    /// mail's sender; none, no reports.
    pub dlr_relay: Option<String>,
    /// Incoming: the sender of report mails (default `postmaster@<smtp_hostname>`).
    pub dlr_from: Option<String>,
    /// EMG's QUOTEDSUBJECT: the two characters around a subject at the start of the text.
    pub quotedsubject: Option<(char, char)>,
    pub default_msgtype: DefaultMsgType,
}

impl Default for SmtpOptions {
    fn default() -> Self {
        SmtpOptions {
            hostname: "emg.localdomain".into(),
            domains: Vec::new(),
            local_prefix: String::new(),
            starttls: StartTls::Yes,
            tls_cert: None,
            tls_key: None,
            tls_ca: None,
            timeout: 300,
            max_message_size: 10 * 1024 * 1024,
            max_recipients: 100,
            auth: SmtpAuth::Optional,
            auth_plaintext: false,
            dlr_relay: None,
            dlr_from: None,
            quotedsubject: None,
            default_msgtype: DefaultMsgType::Sms,
        }
    }
}

/// What one connector table sets itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct SmtpPartial {
    hostname: Option<String>,
    domains: Option<Vec<String>>,
    local_prefix: Option<String>,
    starttls: Option<StartTls>,
    tls_cert: Option<Sp<String>>,
    tls_key: Option<Sp<String>>,
    tls_ca: Option<Sp<String>>,
    timeout: Option<u64>,
    max_message_size: Option<u64>,
    max_recipients: Option<usize>,
    auth: Option<SmtpAuth>,
    auth_plaintext: Option<bool>,
    dlr_relay: Option<String>,
    dlr_from: Option<String>,
    quotedsubject: Option<(char, char)>,
    default_msgtype: Option<DefaultMsgType>,
    starttls_at: Option<Sp<()>>,
    /// First keyword set, to flag SMTP keywords on other connectors.
    any_key: Option<Sp<()>>,
    in_key: Option<Sp<()>>,
    out_key: Option<Sp<()>>,
}

impl SmtpPartial {
    pub(crate) fn inherit_from(&mut self, parent: &SmtpPartial) {
        macro_rules! fill {
            ($($f:ident),* $(,)?) => {
                $( if self.$f.is_none() { self.$f = parent.$f.clone(); } )*
            };
        }
        fill!(
            hostname,
            domains,
            local_prefix,
            starttls,
            tls_cert,
            tls_key,
            tls_ca,
            timeout,
            max_message_size,
            max_recipients,
            auth,
            auth_plaintext,
            dlr_relay,
            dlr_from,
            quotedsubject,
            default_msgtype,
            starttls_at,
            any_key,
            in_key,
            out_key,
        );
    }
}

/// Type-checks one SMTP keyword of a connector table.
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    p: &mut SmtpPartial,
    key: &str,
    kw: &str,
    v: &values::Val<'_>,
) {
    let here = || {
        Some(Sp {
            v: (),
            span: v.span(),
            kw: kw.to_string(),
        })
    };
    if p.any_key.is_none() {
        p.any_key = here();
    }
    if key == "smtp_starttls" {
        p.starttls_at = here();
    }
    if IN_ONLY.contains(&key) && p.in_key.is_none() {
        p.in_key = here();
    }
    if OUT_ONLY.contains(&key) && p.out_key.is_none() {
        p.out_key = here();
    }
    let sink = &mut ctx.sink;
    match key {
        "smtp_hostname" => {
            if let Some(s) = values::string(sink, kw, v) {
                let ok = !s.v.is_empty()
                    && s.v
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
                if ok {
                    p.hostname = Some(s.v);
                } else {
                    sink.at(&s.span, kw, "a host name: letters, digits, `.` and `-`");
                }
            }
        }
        "smtp_domains" => {
            p.domains = values::strings(sink, kw, v)
                .map(|d| d.into_iter().map(|s| s.v.to_ascii_lowercase()).collect());
        }
        "smtp_local_prefix" => p.local_prefix = values::string(sink, kw, v).map(|s| s.v),
        "smtp_starttls" => {
            let choices = [
                ("no", StartTls::No),
                ("yes", StartTls::Yes),
                ("required", StartTls::Required),
            ];
            p.starttls = word(ctx, kw, v, &choices);
        }
        "smtp_tls_cert" => p.tls_cert = values::string(sink, kw, v),
        "smtp_tls_key" => p.tls_key = values::string(sink, kw, v),
        "smtp_tls_ca" => p.tls_ca = values::string(sink, kw, v),
        "smtp_timeout" => p.timeout = values::int(sink, kw, v, 1, 3600),
        "smtp_max_message_size" => {
            p.max_message_size = values::int(sink, kw, v, 1024, 1 << 31);
        }
        "smtp_max_recipients" => {
            p.max_recipients = values::int(sink, kw, v, 1u32, 10_000).map(|n| n as usize);
        }
        "smtp_auth" => {
            let choices = [
                ("no", SmtpAuth::No),
                ("optional", SmtpAuth::Optional),
                ("required", SmtpAuth::Required),
            ];
            p.auth = word(ctx, kw, v, &choices);
        }
        "smtp_auth_plaintext" => p.auth_plaintext = values::boolean(sink, kw, v),
        "smtp_dlr_relay" => {
            if let Some(s) = values::string(sink, kw, v) {
                match values::check_host_port(&s.v) {
                    Ok(()) => p.dlr_relay = Some(s.v),
                    Err(msg) => sink.at(&s.span, kw, msg),
                }
            }
        }
        "smtp_dlr_from" => {
            if let Some(s) = values::string(sink, kw, v) {
                if s.v.contains('@') && !s.v.contains(|c: char| c.is_whitespace() || c == '<') {
                    p.dlr_from = Some(s.v);
                } else {
                    sink.at(&s.span, kw, "a mail address such as `sms@example.com`");
                }
            }
        }
        "quotedsubject" => {
            if let Some(s) = values::string(sink, kw, v) {
                let mut it = s.v.chars();
                match (it.next(), it.next(), it.next()) {
                    (Some(a), Some(b), None) => p.quotedsubject = Some((a, b)),
                    _ => sink.at(
                        &s.span,
                        kw,
                        "exactly two characters, the subject's opening and closing quote (e.g. \"()\")",
                    ),
                }
            }
        }
        "default_msgtype" => {
            let choices = [
                ("sms", DefaultMsgType::Sms),
                ("email", DefaultMsgType::Email),
            ];
            p.default_msgtype = word(ctx, kw, v, &choices);
        }
        _ => {}
    }
}

/// Checks the keywords against the connector they are on and applies defaults.
pub(crate) fn finish(
    ctx: &mut Ctx<'_>,
    p: &SmtpPartial,
    direction: Direction,
    protocol: Protocol,
) -> SmtpOptions {
    if protocol != Protocol::Smtp {
        if let Some(k) = &p.any_key {
            ctx.sink
                .at(&k.span, &k.kw, "only meaningful for `smtp` connectors");
        }
    } else {
        let wrong = match direction {
            Direction::Incoming => p.out_key.as_ref().map(|k| (k, "outgoing")),
            Direction::Outgoing => p.in_key.as_ref().map(|k| (k, "incoming")),
        };
        if let Some((k, what)) = wrong {
            ctx.sink.at(
                &k.span,
                &k.kw,
                format!("only meaningful for {what} `smtp` connectors"),
            );
        }
    }
    let d = SmtpOptions::default();
    let pem = |ctx: &mut Ctx<'_>, v: &Option<Sp<String>>, what: &str| -> Option<PathBuf> {
        let v = v.as_ref()?;
        let path = ctx.resolve(&v.v);
        match crate::file::read_text(&path) {
            Ok(text) if text.contains(what) => Some(path),
            Ok(_) => {
                let msg = format!("`{}` holds no PEM {what}", path.display());
                ctx.sink.at(&v.span, &v.kw, msg);
                None
            }
            Err(e) => {
                let msg = format!("cannot read `{}`: {e}", path.display());
                ctx.sink.at(&v.span, &v.kw, msg);
                None
            }
        }
    };
    let tls_cert = pem(ctx, &p.tls_cert, "CERTIFICATE");
    let tls_key = pem(ctx, &p.tls_key, "PRIVATE KEY");
    let tls_ca = pem(ctx, &p.tls_ca, "CERTIFICATE");
    if let (Some(one), None) | (None, Some(one)) = (&p.tls_cert, &p.tls_key) {
        ctx.sink.at(
            &one.span,
            &one.kw,
            "`smtp_tls_cert` and `smtp_tls_key` go together: set both (STARTTLS offered) or neither",
        );
    }
    let has_cert = tls_cert.is_some() && tls_key.is_some();
    let starttls = match (p.starttls, direction) {
        (Some(s), _) => s,
        // An incoming connector offers STARTTLS when it has a certificate.
        (None, Direction::Incoming) if !has_cert => StartTls::No,
        (None, _) => StartTls::Yes,
    };
    if let (Some(k), Direction::Incoming, Protocol::Smtp, false) =
        (&p.starttls_at, direction, protocol, has_cert)
    {
        if starttls != StartTls::No && p.tls_cert.is_none() && p.tls_key.is_none() {
            ctx.sink.at(
                &k.span,
                &k.kw,
                "STARTTLS needs a certificate: set `smtp_tls_cert` and `smtp_tls_key`",
            );
        }
    }
    SmtpOptions {
        hostname: p.hostname.clone().unwrap_or(d.hostname),
        domains: p.domains.clone().unwrap_or_default(),
        local_prefix: p.local_prefix.clone().unwrap_or_default(),
        starttls,
        tls_cert: tls_cert.filter(|_| has_cert),
        tls_key: tls_key.filter(|_| has_cert),
        tls_ca,
        timeout: p.timeout.unwrap_or(d.timeout),
        max_message_size: p.max_message_size.unwrap_or(d.max_message_size),
        max_recipients: p.max_recipients.unwrap_or(d.max_recipients),
        auth: p.auth.unwrap_or(d.auth),
        auth_plaintext: p.auth_plaintext.unwrap_or(false),
        dlr_relay: p.dlr_relay.clone(),
        dlr_from: p.dlr_from.clone(),
        quotedsubject: p.quotedsubject,
        default_msgtype: p.default_msgtype.unwrap_or_default(),
    }
}

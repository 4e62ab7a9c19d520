//! Keywords of HTTP connectors: the DLR callbacks of an incoming one, and the request template,
//! response mapping and DLR/MO listener of an outgoing one.
//!
//! Read into an [`HttpPartial`] per connector table (inherited like every other keyword), then
//! checked against the connector's direction and turned into [`HttpOptions`] with defaults.

use std::collections::BTreeMap;

use crate::context::Ctx;
use crate::kind::{Direction, Protocol};
use crate::values::{self, Sp};

/// Keywords of incoming HTTP connectors.
pub(crate) const IN_KEYWORDS: &[&str] = &[
    "dlr_callback_timeout",
    "dlr_callback_backoff_max",
    "dlr_callback_expire",
    "dlr_callback_window",
    "mo_url",
    "mo_method",
    "http_header_timeout",
    "http_max_header_size",
    "http_max_headers",
    "http_max_body",
];

/// Keywords of outgoing HTTP connectors.
pub(crate) const OUT_KEYWORDS: &[&str] = &[
    "http_method",
    "http_params",
    "http_body",
    "http_headers",
    "http_success",
    "http_success_match",
    "http_temporary",
    "http_timeout",
    "remote_id_regex",
    "remote_id_json",
    "dlr_address",
    "dlr_params",
    "mo_params",
];

/// How an outgoing HTTP connector sends a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpMethod {
    Get,
    #[default]
    Post,
}

/// How a POST carries its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpBody {
    /// application/x-www-form-urlencoded.
    #[default]
    Form,
    /// A JSON object of strings.
    Json,
}

/// How the provider's message id is found in its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteId {
    /// The first capture group of a regular expression (the whole match without a group).
    Regex(String),
    /// A JSON pointer (RFC 6901) into the answer, e.g. `/messages/0/id`.
    Json(String),
}

/// Settings of HTTP connectors (defaults for other protocols; only meaningful for `http`).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpOptions {
    /// Incoming: seconds a DLR callback request may take.
    pub dlr_callback_timeout: u64,
    /// Incoming: longest wait between two attempts of a failing DLR callback.
    pub dlr_callback_backoff_max: u64,
    /// Incoming: seconds after which an undeliverable DLR callback is given up.
    pub dlr_callback_expire: u64,
    /// Incoming: most DLR callbacks in flight to one destination (scheme, host and port).
    pub dlr_callback_window: u32,
    /// Incoming: the application's URL that MO messages routed to this connector are pushed
    /// to (Kannel's `get-url`, with its `%` escapes); `None`: a route here is refused.
    pub mo_url: Option<String>,
    /// Incoming: GET (fields in the query) or POST (a form body) for MO pushes.
    pub mo_method: HttpMethod,
    /// Incoming: seconds a client may take to send a request's headers, and to start the
    /// next request on a kept-alive connection; then the connection is closed.
    pub header_timeout: u64,
    /// Incoming: bytes of a request's line and headers read at most (431 beyond).
    pub max_header_size: u32,
    /// Incoming: headers of a request at most (431 beyond).
    pub max_headers: u32,
    /// Incoming: bytes of a request's body at most (413 beyond).
    pub max_body: u32,
    /// Outgoing: GET (parameters in the query) or POST (parameters in the body).
    pub method: HttpMethod,
    /// Outgoing: parameter name -> value template (`{to}`, `{from}`, `{text}`, ...).
    pub params: BTreeMap<String, String>,
    /// Outgoing: how a POST carries the parameters.
    pub body: HttpBody,
    /// Outgoing: extra request headers (e.g. `Authorization`), values may use placeholders.
    pub headers: BTreeMap<String, String>,
    /// Outgoing: statuses that mean the provider took the message.
    pub success: Vec<u16>,
    /// Outgoing: the body of a successful answer must match this, else the send failed.
    pub success_match: Option<String>,
    /// Outgoing: statuses that mean "try again later"; other failures are permanent.
    pub temporary: Vec<u16>,
    /// Outgoing: seconds a request may take.
    pub timeout: u64,
    /// Outgoing: where the provider's id is in its answer; `None`: no DLR support, a
    /// report is made at once from the answer (EMG's DLR_SUPPORT=0).
    pub remote_id: Option<RemoteId>,
    /// Outgoing: our listener for the provider's DLRs and MO messages.
    pub dlr_address: Option<String>,
    /// Outgoing: field (`id`, `status`, `error`) -> the provider's parameter name in DLRs.
    pub dlr_params: BTreeMap<String, String>,
    /// Outgoing: field (`from`, `to`, `text`) -> the provider's parameter name in MO messages.
    pub mo_params: BTreeMap<String, String>,
}

/// Fields a provider's DLR request carries.
pub const DLR_FIELDS: &[&str] = &["id", "status", "error"];
/// Fields a provider's MO request carries.
pub const MO_FIELDS: &[&str] = &["from", "to", "text"];

impl Default for HttpOptions {
    fn default() -> Self {
        let same = |names: &[&str]| {
            names
                .iter()
                .map(|n| (n.to_string(), n.to_string()))
                .collect()
        };
        HttpOptions {
            dlr_callback_timeout: 10,
            dlr_callback_backoff_max: 300,
            dlr_callback_expire: 86_400,
            dlr_callback_window: 100,
            mo_url: None,
            mo_method: HttpMethod::Post,
            header_timeout: 10,
            max_header_size: 16_384,
            max_headers: 100,
            max_body: 1_048_576,
            method: HttpMethod::Post,
            params: ["to", "from", "text", "coding", "udh", "id", "dlr"]
                .iter()
                .map(|n| (n.to_string(), format!("{{{n}}}")))
                .collect(),
            body: HttpBody::Form,
            headers: BTreeMap::new(),
            success: vec![200],
            success_match: None,
            temporary: vec![408, 429, 500, 502, 503, 504],
            timeout: 30,
            remote_id: None,
            dlr_address: None,
            dlr_params: same(DLR_FIELDS),
            mo_params: same(MO_FIELDS),
        }
    }
}

/// Placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "to", "from", "text", "hex", "udh", "coding", "id", "dlr", "priority", "validity",
];

/// What one connector table sets itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpPartial {
    dlr_callback_timeout: Option<u64>,
    dlr_callback_backoff_max: Option<u64>,
    dlr_callback_expire: Option<u64>,
    dlr_callback_window: Option<u32>,
    mo_url: Option<String>,
    mo_method: Option<HttpMethod>,
    header_timeout: Option<u64>,
    max_header_size: Option<u32>,
    max_headers: Option<u32>,
    max_body: Option<u32>,
    method: Option<HttpMethod>,
    params: Option<BTreeMap<String, String>>,
    body: Option<HttpBody>,
    headers: Option<BTreeMap<String, String>>,
    success: Option<Vec<u16>>,
    success_match: Option<String>,
    temporary: Option<Vec<u16>>,
    timeout: Option<u64>,
    remote_id: Option<Sp<RemoteId>>,
    dlr_address: Option<String>,
    dlr_params: Option<BTreeMap<String, String>>,
    mo_params: Option<BTreeMap<String, String>>,
    /// First keyword set, by direction, to flag keywords of the wrong kind of connector.
    in_key: Option<Sp<()>>,
    out_key: Option<Sp<()>>,
}

impl HttpPartial {
    /// Whether the provider's answer names the message (`remote_id_regex`/`_json`), so its
    /// receipts can be matched: `dlr_support`'s default.
    pub(crate) fn reads_remote_id(&self) -> bool {
        self.remote_id.is_some()
    }

    pub(crate) fn inherit_from(&mut self, parent: &HttpPartial) {
        macro_rules! fill {
            ($($f:ident),* $(,)?) => {
                $( if self.$f.is_none() { self.$f = parent.$f.clone(); } )*
            };
        }
        fill!(
            dlr_callback_timeout,
            dlr_callback_backoff_max,
            dlr_callback_expire,
            dlr_callback_window,
            mo_url,
            mo_method,
            header_timeout,
            max_header_size,
            max_headers,
            max_body,
            method,
            params,
            body,
            headers,
            success,
            success_match,
            temporary,
            timeout,
            remote_id,
            dlr_address,
            dlr_params,
            mo_params,
            in_key,
            out_key,
        );
    }
}

/// Type-checks one HTTP keyword of a connector table.
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    p: &mut HttpPartial,
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
    if IN_KEYWORDS.contains(&key) && p.in_key.is_none() {
        p.in_key = here();
    }
    if OUT_KEYWORDS.contains(&key) && p.out_key.is_none() {
        p.out_key = here();
    }
    let sink = &mut ctx.sink;
    match key {
        "dlr_callback_timeout" => p.dlr_callback_timeout = values::int(sink, kw, v, 1, 3600),
        "dlr_callback_backoff_max" => {
            p.dlr_callback_backoff_max = values::int(sink, kw, v, 1, 86_400);
        }
        "dlr_callback_expire" => {
            p.dlr_callback_expire = values::int(sink, kw, v, 1, 365 * 86_400);
        }
        "dlr_callback_window" => p.dlr_callback_window = values::int(sink, kw, v, 1, 10_000),
        "http_header_timeout" => p.header_timeout = values::int(sink, kw, v, 1, 3600),
        // hyper reads at least 8 KiB at a time, so less cannot be honoured.
        "http_max_header_size" => p.max_header_size = values::int(sink, kw, v, 8192, 1 << 20),
        "http_max_headers" => p.max_headers = values::int(sink, kw, v, 1, 1000),
        "http_max_body" => p.max_body = values::int(sink, kw, v, 1024, 1 << 30),
        "mo_url" => {
            if let Some(url) = read_mo_url(sink, kw, v) {
                p.mo_url = Some(url);
            }
        }
        "mo_method" => p.mo_method = read_mo_method(ctx, kw, v),
        "http_timeout" => p.timeout = values::int(sink, kw, v, 1, 3600),
        "http_method" => {
            p.method = word(
                ctx,
                kw,
                v,
                &[("get", HttpMethod::Get), ("post", HttpMethod::Post)],
            );
        }
        "http_body" => {
            p.body = word(
                ctx,
                kw,
                v,
                &[("form", HttpBody::Form), ("json", HttpBody::Json)],
            );
        }
        "http_params" => p.params = templates(ctx, kw, v),
        "http_headers" => p.headers = templates(ctx, kw, v),
        "http_success" => p.success = statuses(ctx, kw, v),
        "http_temporary" => p.temporary = statuses(ctx, kw, v),
        "http_success_match" | "remote_id_regex" => {
            let Some(s) = values::string(sink, kw, v) else {
                return;
            };
            if let Err(e) = regex_lite::Regex::new(&s.v) {
                let first = e.to_string();
                let first = first.lines().last().unwrap_or("invalid");
                sink.at(&s.span, kw, format!("not a regular expression: {first}"));
                return;
            }
            if key == "http_success_match" {
                p.success_match = Some(s.v);
            } else {
                set_remote_id(ctx, p, RemoteId::Regex(s.v), s.span, kw);
            }
        }
        "remote_id_json" => {
            let Some(s) = values::string(sink, kw, v) else {
                return;
            };
            if !s.v.is_empty() && !s.v.starts_with('/') {
                sink.at(
                    &s.span,
                    kw,
                    format!(
                        "`{}` is not a JSON pointer (e.g. /id or /messages/0/id)",
                        s.v
                    ),
                );
                return;
            }
            set_remote_id(ctx, p, RemoteId::Json(s.v), s.span, kw);
        }
        "dlr_address" => {
            if let Some(s) = values::string(sink, kw, v) {
                match values::check_host_port(&s.v) {
                    Ok(()) => p.dlr_address = Some(s.v),
                    Err(msg) => sink.at(&s.span, kw, msg),
                }
            }
        }
        "dlr_params" => p.dlr_params = field_names(ctx, kw, v, DLR_FIELDS),
        "mo_params" => p.mo_params = field_names(ctx, kw, v, MO_FIELDS),
        _ => {}
    }
}

fn set_remote_id(
    ctx: &mut Ctx<'_>,
    p: &mut HttpPartial,
    id: RemoteId,
    span: values::Span,
    kw: &str,
) {
    if p.remote_id.is_some() {
        ctx.sink.at(
            &span,
            kw,
            "set only one of `remote_id_regex` and `remote_id_json`",
        );
        return;
    }
    p.remote_id = Some(Sp {
        v: id,
        span,
        kw: kw.to_string(),
    });
}

/// A case-insensitive word from `choices` (the HTTP and SMTP keywords use it).
/// `mo_url` (on an incoming HTTP connector or a user): an http:// or https:// URL.
pub(crate) fn read_mo_url(
    sink: &mut crate::diagnostic::Sink<'_>,
    kw: &str,
    v: &values::Val<'_>,
) -> Option<String> {
    let s = values::string(sink, kw, v)?;
    if s.v.starts_with("http://") || s.v.starts_with("https://") {
        return Some(s.v);
    }
    sink.at(
        &s.span,
        kw,
        format!("`{}` is not an http:// or https:// URL", s.v),
    );
    None
}

/// `mo_method`: `get` or `post`.
pub(crate) fn read_mo_method(
    ctx: &mut Ctx<'_>,
    kw: &str,
    v: &values::Val<'_>,
) -> Option<HttpMethod> {
    word(
        ctx,
        kw,
        v,
        &[("get", HttpMethod::Get), ("post", HttpMethod::Post)],
    )
}

pub(crate) fn word<T: Copy>(
    ctx: &mut Ctx<'_>,
    kw: &str,
    v: &values::Val<'_>,
    choices: &[(&str, T)],
) -> Option<T> {
    let s = values::string(&mut ctx.sink, kw, v)?;
    let lc = s.v.to_ascii_lowercase();
    if let Some((_, t)) = choices.iter().find(|(n, _)| *n == lc) {
        return Some(*t);
    }
    let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
    ctx.sink.at(
        &s.span,
        kw,
        format!(
            "unknown value `{}` (expected one of: {})",
            s.v,
            names.join(", ")
        ),
    );
    None
}

/// A table of strings, each checked to use only known `{placeholders}`.
fn templates(ctx: &mut Ctx<'_>, kw: &str, v: &values::Val<'_>) -> Option<BTreeMap<String, String>> {
    let t = values::table(&mut ctx.sink, kw, v)?;
    let mut out = BTreeMap::new();
    for (name, value) in t.iter() {
        let ekw = format!("{kw}.{}", name.get_ref());
        let Some(s) = values::string(&mut ctx.sink, &ekw, value) else {
            continue;
        };
        match check_template(&s.v) {
            Ok(()) => {
                out.insert(name.get_ref().to_string(), s.v);
            }
            Err(msg) => ctx.sink.at(&s.span, &ekw, msg),
        }
    }
    Some(out)
}

/// Every `{name}` in `template` is a known placeholder.
pub(crate) fn check_template(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("`{{` without `}}` in `{template}`"));
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            let hint = crate::suggest::hint(name, PLACEHOLDERS.iter().copied());
            return Err(format!(
                "unknown placeholder `{{{name}}}`{hint} (known: {})",
                PLACEHOLDERS.join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// A table mapping our field names (from `fields`) to the provider's parameter names.
fn field_names(
    ctx: &mut Ctx<'_>,
    kw: &str,
    v: &values::Val<'_>,
    fields: &[&str],
) -> Option<BTreeMap<String, String>> {
    let t = values::table(&mut ctx.sink, kw, v)?;
    let mut out: BTreeMap<String, String> = fields
        .iter()
        .map(|f| (f.to_string(), f.to_string()))
        .collect();
    for (field, value) in t.iter() {
        let ekw = format!("{kw}.{}", field.get_ref());
        if !fields.contains(&field.get_ref().as_ref()) {
            let hint = crate::suggest::hint(field.get_ref(), fields.iter().copied());
            ctx.sink.at(
                &field.span(),
                &ekw,
                format!(
                    "unknown field{hint} (expected one of: {})",
                    fields.join(", ")
                ),
            );
            continue;
        }
        if let Some(s) = values::string(&mut ctx.sink, &ekw, value) {
            out.insert(field.get_ref().to_string(), s.v);
        }
    }
    Some(out)
}

fn statuses(ctx: &mut Ctx<'_>, kw: &str, v: &values::Val<'_>) -> Option<Vec<u16>> {
    let toml::de::DeValue::Array(items) = v.get_ref() else {
        ctx.sink.at(
            &v.span(),
            kw,
            "expected an array of HTTP status codes, e.g. [200, 202]",
        );
        return None;
    };
    Some(
        items
            .iter()
            .filter_map(|i| values::int(&mut ctx.sink, kw, i, 100u16, 599))
            .collect(),
    )
}

/// Checks the keywords against the connector's kind and applies defaults.
pub(crate) fn finish(
    ctx: &mut Ctx<'_>,
    p: &HttpPartial,
    direction: Direction,
    protocol: Protocol,
) -> HttpOptions {
    let wrong = |k: &Sp<()>, ctx: &mut Ctx<'_>, what: &str| {
        ctx.sink.at(
            &k.span,
            &k.kw,
            format!("only meaningful for {what} `http` connectors"),
        );
    };
    if let Some(k) = &p.in_key {
        if (protocol, direction) != (Protocol::Http, Direction::Incoming) {
            wrong(k, ctx, "incoming");
        }
    }
    if let Some(k) = &p.out_key {
        if (protocol, direction) != (Protocol::Http, Direction::Outgoing) {
            wrong(k, ctx, "outgoing");
        }
    }
    let d = HttpOptions::default();
    HttpOptions {
        dlr_callback_timeout: p.dlr_callback_timeout.unwrap_or(d.dlr_callback_timeout),
        dlr_callback_backoff_max: p
            .dlr_callback_backoff_max
            .unwrap_or(d.dlr_callback_backoff_max),
        dlr_callback_expire: p.dlr_callback_expire.unwrap_or(d.dlr_callback_expire),
        dlr_callback_window: p.dlr_callback_window.unwrap_or(d.dlr_callback_window),
        mo_url: p.mo_url.clone(),
        mo_method: p.mo_method.unwrap_or(d.mo_method),
        header_timeout: p.header_timeout.unwrap_or(d.header_timeout),
        max_header_size: p.max_header_size.unwrap_or(d.max_header_size),
        max_headers: p.max_headers.unwrap_or(d.max_headers),
        max_body: p.max_body.unwrap_or(d.max_body),
        method: p.method.unwrap_or(d.method),
        params: p.params.clone().unwrap_or(d.params),
        body: p.body.unwrap_or(d.body),
        headers: p.headers.clone().unwrap_or(d.headers),
        success: p.success.clone().unwrap_or(d.success),
        success_match: p.success_match.clone(),
        temporary: p.temporary.clone().unwrap_or(d.temporary),
        timeout: p.timeout.unwrap_or(d.timeout),
        remote_id: p.remote_id.as_ref().map(|r| r.v.clone()),
        dlr_address: p.dlr_address.clone(),
        dlr_params: p.dlr_params.clone().unwrap_or(d.dlr_params),
        mo_params: p.mo_params.clone().unwrap_or(d.mo_params),
    }
}

#[cfg(test)]
mod tests;

//! TLS keywords of connectors: `tls = true` puts an SMPP, UCP/EMI or CIMD2 session (either
//! direction) or an incoming HTTP listener on TLS; `tls_cert`/`tls_key` are what it shows
//! (an incoming connector's server certificate, an outgoing one's client certificate),
//! `tls_client_ca` makes an incoming one ask its clients for a certificate signed by that CA
//! (mutual TLS), `tls_ca` is what an outgoing one trusts (else the system's roots),
//! `tls_server_name` the name it checks in the server's certificate (else the host of
//! `address`), `tls_min_version` "1.2" (default) or "1.3". An outgoing HTTP connector speaks
//! TLS when its URL is https://; `tls_ca`, `tls_cert` and `tls_key` apply to it without `tls`.
//! SMTP has its own STARTTLS keywords (`crate::smtp`). Where each keyword applies is
//! `crate::applies`; this module checks the values, the files and how they go together.

use crate::context::Ctx;
use crate::kind::{Direction, Protocol};
use crate::values::{self, Sp};
use std::path::PathBuf;

/// The connector keywords of this module.
pub(crate) const KEYWORDS: &[&str] = &[
    "tls",
    "tls_cert",
    "tls_key",
    "tls_ca",
    "tls_client_ca",
    "tls_server_name",
    "tls_min_version",
];

/// Oldest protocol version a TLS connector or listener speaks (`tls_min_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersion {
    #[default]
    V1_2,
    V1_3,
}

/// A connector's TLS, files checked to parse, to fit together and to be valid now; relative
/// paths resolved against the config's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorTls {
    /// Incoming: the server certificate chain (required); outgoing: a client certificate.
    pub cert: Option<PathBuf>,
    /// The private key of `cert`.
    pub key: Option<PathBuf>,
    /// Outgoing: the CA certificates the server's chain must lead to; `None` = system roots.
    pub ca: Option<PathBuf>,
    /// Incoming: clients must show a certificate signed by one of these (mutual TLS).
    pub client_ca: Option<PathBuf>,
    /// Outgoing: the name checked in the server's certificate; `None` = `address`'s host.
    pub server_name: Option<String>,
    pub min_version: TlsVersion,
}

/// What one connector table sets itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsPartial {
    on: Option<Sp<bool>>,
    cert: Option<Sp<String>>,
    key: Option<Sp<String>>,
    ca: Option<Sp<String>>,
    client_ca: Option<Sp<String>>,
    server_name: Option<Sp<String>>,
    min_version: Option<TlsVersion>,
    /// Where `tls_min_version` is written, for the "needs `tls = true`" check.
    min_version_at: Option<Sp<()>>,
}

impl TlsPartial {
    pub(crate) fn inherit_from(&mut self, parent: &TlsPartial) {
        macro_rules! fill {
            ($($f:ident),* $(,)?) => {
                $( if self.$f.is_none() { self.$f = parent.$f.clone(); } )*
            };
        }
        fill!(
            on,
            cert,
            key,
            ca,
            client_ca,
            server_name,
            min_version,
            min_version_at
        );
    }
}

/// Type-checks one TLS keyword of a connector table.
pub(crate) fn read(
    ctx: &mut Ctx<'_>,
    p: &mut TlsPartial,
    key: &str,
    kw: &str,
    v: &values::Val<'_>,
) {
    let sink = &mut ctx.sink;
    match key {
        "tls" => {
            p.on = values::boolean(sink, kw, v).map(|b| Sp {
                v: b,
                span: v.span(),
                kw: kw.to_string(),
            });
        }
        "tls_cert" => p.cert = values::string(sink, kw, v),
        "tls_key" => p.key = values::string(sink, kw, v),
        "tls_ca" => p.ca = values::string(sink, kw, v),
        "tls_client_ca" => p.client_ca = values::string(sink, kw, v),
        "tls_server_name" => {
            if let Some(s) = values::string(sink, kw, v) {
                match rustls_pki_types::ServerName::try_from(s.v.as_str()) {
                    Ok(_) => p.server_name = Some(s),
                    Err(_) => sink.at(
                        &s.span,
                        kw,
                        "a DNS name or an IP address, as the server's certificate names it",
                    ),
                }
            }
        }
        "tls_min_version" => {
            p.min_version_at = Some(Sp {
                v: (),
                span: v.span(),
                kw: kw.to_string(),
            });
            if let Some(s) = values::string(sink, kw, v) {
                match s.v.as_str() {
                    "1.2" => p.min_version = Some(TlsVersion::V1_2),
                    "1.3" => p.min_version = Some(TlsVersion::V1_3),
                    "1.0" | "1.1" => sink.at(
                        &s.span,
                        kw,
                        format!(
                            "TLS {} is broken (RFC 8996 deprecates it) and refused: use \"1.2\" or \"1.3\"",
                            s.v
                        ),
                    ),
                    _ => sink.at(&s.span, kw, "\"1.2\" or \"1.3\""),
                }
            }
        }
        _ => {}
    }
}

/// Checks the values against each other and the files; `None` without TLS (or when it is
/// wrong, already reported). Where a keyword applies at all is `crate::applies`' check.
pub(crate) fn finish(
    ctx: &mut Ctx<'_>,
    p: &TlsPartial,
    protocol: Protocol,
    direction: Direction,
) -> Option<ConnectorTls> {
    // Elsewhere (SMTP, GSM, the simulator) `crate::applies` refuses every TLS keyword.
    if !matches!(
        protocol,
        Protocol::Smpp | Protocol::Ucp | Protocol::Cimd2 | Protocol::Mgp | Protocol::Http
    ) {
        return None;
    }
    // An outgoing HTTP connector's URL decides; its other TLS keywords need no `tls`.
    let by_url = (protocol, direction) == (Protocol::Http, Direction::Outgoing);
    let on = p.on.as_ref().is_some_and(|o| o.v);
    if by_url && p.cert.is_none() && p.key.is_none() && p.ca.is_none() {
        return None;
    }
    if !on && !by_url {
        needs_tls(ctx, p);
        return None;
    }
    let mut ok = true;
    if let (Some(one), None) | (None, Some(one)) = (&p.cert, &p.key) {
        ctx.sink.at(
            &one.span,
            &one.kw,
            "`tls_cert` and `tls_key` go together: set both or neither",
        );
        ok = false;
    }
    if direction == Direction::Incoming && p.cert.is_none() && p.key.is_none() {
        if let Some(at) = &p.on {
            ctx.sink.at(
                &at.span,
                &at.kw,
                "an incoming connector on TLS shows a certificate: set `tls_cert` and `tls_key`",
            );
        }
        ok = false;
    }
    let mut cert = None;
    if let (Some(c), Some(k)) = (&p.cert, &p.key) {
        let (chain, key) = (crate::tls::certs(ctx, c), crate::tls::private_key(ctx, k));
        match (chain, key) {
            (Some((cert_path, chain)), Some((key_path, der))) => {
                if crate::tls::fits(ctx, k, chain, der) {
                    cert = Some((cert_path, key_path));
                } else {
                    ok = false;
                }
            }
            _ => ok = false,
        }
    }
    let mut ca_file = |v: &Option<Sp<String>>| match v {
        None => None,
        Some(v) => match crate::tls::certs(ctx, v) {
            Some((path, _)) => Some(path),
            None => {
                ok = false;
                None
            }
        },
    };
    let ca = ca_file(&p.ca);
    let client_ca = ca_file(&p.client_ca);
    if !ok {
        return None;
    }
    let (cert, key) = cert.unzip();
    Some(ConnectorTls {
        cert,
        key,
        ca,
        client_ca,
        server_name: p.server_name.as_ref().map(|s| s.v.clone()),
        min_version: p.min_version.unwrap_or_default(),
    })
}

/// Without `tls = true`, each TLS keyword written is an error: it would do nothing.
fn needs_tls(ctx: &mut Ctx<'_>, p: &TlsPartial) {
    let written = [&p.cert, &p.key, &p.ca, &p.client_ca, &p.server_name];
    let spans = written
        .into_iter()
        .flatten()
        .map(|s| (s.span.clone(), s.kw.clone()))
        .chain(
            p.min_version_at
                .iter()
                .map(|s| (s.span.clone(), s.kw.clone())),
        );
    let off = p.on.as_ref().is_some_and(|o| !o.v);
    for (span, kw) in spans.collect::<Vec<_>>() {
        let name = kw.rsplit('.').next().unwrap_or(&kw).to_string();
        let msg = if off {
            format!("`{name}` does nothing with `tls = false`: set `tls = true` or remove it")
        } else {
            format!("`{name}` needs `tls = true` (the connector speaks plain TCP without it)")
        };
        ctx.sink.at(&span, &kw, msg);
    }
}

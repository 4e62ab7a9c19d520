//! TLS files, checked where they are named so that a typo, a key that does not fit its
//! certificate, an expired certificate or a FIFO shows at `file:line:col` instead of as a
//! failed start or a failed handshake: the listeners' pairs (`mgp_tls_cert`/`mgp_tls_key`,
//! `metrics_tls_cert`/`metrics_tls_key`) here, the connectors' keywords in
//! `crate::tls_keywords`, both with the helpers below.

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::PathBuf;

use crate::context::Ctx;
use crate::values::Sp;

/// Certificate chain and private key of a listener (MGP, metrics), PEM files already checked
/// to parse, to fit and to be valid; relative paths resolved against the config's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The two values of a listener's pair as written (`None` = not set, or not a string and
/// already reported).
#[derive(Default)]
pub(crate) struct Raw {
    pub(crate) cert: Option<Sp<String>>,
    pub(crate) key: Option<Sp<String>>,
}

/// Checks a listener's pair (`{prefix}_tls_cert`, `{prefix}_tls_key`) and both files;
/// `None` (plain TCP) when either is missing or wrong.
pub(crate) fn check(ctx: &mut Ctx<'_>, raw: Raw, prefix: &str) -> Option<ListenerTls> {
    let (cert_kw, key_kw) = (format!("{prefix}_tls_cert"), format!("{prefix}_tls_key"));
    match (raw.cert, raw.key) {
        (None, None) => None,
        (Some(one), None) | (None, Some(one)) => {
            let other = if one.kw == cert_kw { &key_kw } else { &cert_kw };
            let over = if prefix == "mgp" {
                "MGP over TLS"
            } else {
                "HTTPS"
            };
            ctx.sink.at(
                &one.span,
                &one.kw,
                format!(
                    "`{}` needs `{other}` as well: set both ({over}) or neither (plain TCP)",
                    one.kw
                ),
            );
            None
        }
        (Some(cert), Some(key)) => {
            let (c, k) = (certs(ctx, &cert), private_key(ctx, &key));
            let (Some((cert_path, chain)), Some((key_path, der))) = (c, k) else {
                return None;
            };
            fits(ctx, &key, chain, der).then_some(ListenerTls {
                cert: cert_path,
                key: key_path,
            })
        }
    }
}

/// A listener's pair written while the listener is off (`address` not set or ""): each
/// value is reported, since the files would silently go unused; the pair is dropped.
pub(crate) fn unused(ctx: &mut Ctx<'_>, raw: Raw, address: &str, listener: &str) -> Raw {
    for one in [raw.cert, raw.key].into_iter().flatten() {
        ctx.sink.at(
            &one.span,
            &one.kw,
            format!(
                "`{}` is set but the {listener} listener is off: set `{address}` \
                 or remove `{}`",
                one.kw, one.kw
            ),
        );
    }
    Raw::default()
}

/// The certificates of the PEM file named by `value` (at least one), each within its
/// validity now; otherwise reported at the value.
pub(crate) fn certs(
    ctx: &mut Ctx<'_>,
    value: &Sp<String>,
) -> Option<(PathBuf, Vec<CertificateDer<'static>>)> {
    let path = ctx.resolve(&value.v);
    let what = "a PEM certificate (-----BEGIN CERTIFICATE-----)";
    let parsed = read(&path, what, |bytes| {
        let certs = CertificateDer::pem_slice_iter(bytes).collect::<Result<Vec<_>, _>>()?;
        if certs.is_empty() {
            return Err(pem::Error::NoItemsFound);
        }
        Ok(certs)
    });
    let certs = match parsed {
        Ok(c) => c,
        Err(msg) => {
            ctx.sink.at(&value.span, &value.kw, msg);
            return None;
        }
    };
    for (i, cert) in certs.iter().enumerate() {
        if let Err(why) = in_validity(cert) {
            let which = if i == 0 {
                "its first certificate".to_string()
            } else {
                format!("certificate {} in it", i + 1)
            };
            let msg = format!("`{}`: {which} {why}", path.display());
            ctx.sink.at(&value.span, &value.kw, msg);
            return None;
        }
    }
    Some((path, certs))
}

/// The private key of the PEM file named by `value`; otherwise reported at the value.
pub(crate) fn private_key(
    ctx: &mut Ctx<'_>,
    value: &Sp<String>,
) -> Option<(PathBuf, PrivateKeyDer<'static>)> {
    let path = ctx.resolve(&value.v);
    let what = "a PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)";
    match read(&path, what, PrivateKeyDer::from_pem_slice) {
        Ok(k) => Some((path, k)),
        Err(msg) => {
            ctx.sink.at(&value.span, &value.kw, msg);
            None
        }
    }
}

/// Whether the key (named by `key`) is the private half of the chain's first certificate,
/// of a kind rustls signs with; otherwise reported at `key`.
pub(crate) fn fits(
    ctx: &mut Ctx<'_>,
    key: &Sp<String>,
    chain: Vec<CertificateDer<'static>>,
    der: PrivateKeyDer<'static>,
) -> bool {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let built = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_no_client_auth().with_single_cert(chain, der));
    let why = match built {
        Ok(Ok(_)) => return true,
        Ok(Err(rustls::Error::InconsistentKeys(_))) => {
            "this key does not fit the certificate (its public key is another one)".to_string()
        }
        Ok(Err(e)) | Err(e) => format!("this key cannot sign for the certificate: {e}"),
    };
    let path = ctx.resolve(&key.v);
    ctx.sink
        .at(&key.span, &key.kw, format!("`{}`: {why}", path.display()));
    false
}

/// Reads the file at `path` (bounded, regular files only) and parses it; the error is the
/// diagnostic's message.
fn read<T>(
    path: &std::path::Path,
    what: &str,
    parse: impl FnOnce(&[u8]) -> Result<T, pem::Error>,
) -> Result<T, String> {
    let bytes = crate::file::read_bytes(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("cannot read `{}`: file not found", path.display()),
        _ => format!("cannot read `{}`: {e}", path.display()),
    })?;
    parse(&bytes).map_err(|e| match e {
        pem::Error::NoItemsFound => format!("`{}` does not hold {what}", path.display()),
        e => format!("`{}` is not valid PEM: {e}", path.display()),
    })
}

/// `Err` ("expired on …", "is not valid before …", "is not X.509") unless `cert` is valid now.
fn in_validity(cert: &CertificateDer<'_>) -> Result<(), String> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, parsed) =
        X509Certificate::from_der(cert.as_ref()).map_err(|e| format!("is not X.509: {e}"))?;
    let validity = parsed.validity();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if validity.not_after.timestamp() < now {
        return Err(format!(
            "expired on {}: renew it",
            validity.not_after.to_rfc2822().unwrap_or_default()
        ));
    }
    if validity.not_before.timestamp() > now {
        return Err(format!(
            "is not valid before {} (is the clock right?)",
            validity.not_before.to_rfc2822().unwrap_or_default()
        ));
    }
    Ok(())
}

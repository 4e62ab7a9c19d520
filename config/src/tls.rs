//! `mgp_tls_cert` / `mgp_tls_key`: TLS for the MGP listener. Both or neither; each file must
//! exist and hold what it is named for (PEM), so that a typo shows at `file:line:col` instead of
//! as a failed start.

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::context::Ctx;
use crate::model::MgpTls;
use crate::values::Sp;

/// The two values as written (`None` = not set, or not a string and already reported).
#[derive(Default)]
pub(crate) struct Raw {
    pub(crate) cert: Option<Sp<String>>,
    pub(crate) key: Option<Sp<String>>,
}

/// Checks the pair and both files; `None` (plain TCP) when either is missing or wrong.
pub(crate) fn check(ctx: &mut Ctx<'_>, raw: Raw) -> Option<MgpTls> {
    match (raw.cert, raw.key) {
        (None, None) => None,
        (Some(one), None) | (None, Some(one)) => {
            let other = if one.kw == "mgp_tls_cert" {
                "mgp_tls_key"
            } else {
                "mgp_tls_cert"
            };
            ctx.sink.at(
                &one.span,
                &one.kw,
                format!(
                    "`{}` needs `{other}` as well: set both (MGP over TLS) or neither (plain TCP)",
                    one.kw
                ),
            );
            None
        }
        (Some(cert), Some(key)) => {
            let cert_ok = read(ctx, &cert, |p| {
                let certs = CertificateDer::pem_file_iter(p)?.collect::<Result<Vec<_>, _>>()?;
                if certs.is_empty() {
                    return Err(pem::Error::NoItemsFound);
                }
                Ok(())
            });
            let key_ok = read(ctx, &key, |p| PrivateKeyDer::from_pem_file(p).map(drop));
            (cert_ok && key_ok).then(|| MgpTls {
                cert: ctx.resolve(&cert.v),
                key: ctx.resolve(&key.v),
            })
        }
    }
}

/// Runs `parse` on the file named by `value`, reporting a failure at the value.
fn read(
    ctx: &mut Ctx<'_>,
    value: &Sp<String>,
    parse: impl FnOnce(&std::path::Path) -> Result<(), pem::Error>,
) -> bool {
    let path = ctx.resolve(&value.v);
    let what = if value.kw == "mgp_tls_cert" {
        "a PEM certificate (-----BEGIN CERTIFICATE-----)"
    } else {
        "a PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)"
    };
    let msg = match parse(&path) {
        Ok(()) => return true,
        Err(pem::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("cannot read `{}`: file not found", path.display())
        }
        Err(pem::Error::Io(e)) => format!("cannot read `{}`: {e}", path.display()),
        Err(pem::Error::NoItemsFound) => {
            format!("`{}` does not hold {what}", path.display())
        }
        Err(e) => format!("`{}` is not valid PEM: {e}", path.display()),
    };
    ctx.sink.at(&value.span, &value.kw, msg);
    false
}

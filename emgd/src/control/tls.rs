//! TLS for the MGP listener (`mgp_tls_cert` / `mgp_tls_key`): rustls with the `ring` crypto
//! provider, TLS 1.2 and 1.3, no client certificates (operators log in with a password inside
//! the encrypted session).

use anyhow::Context;
use config::MgpTls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::TlsAcceptor;

/// How long a client has to complete the handshake before its connection is closed.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The acceptor for `tls`, or `None` for plain TCP. The files were checked when the
/// configuration was loaded; they are read again here, so a file changed since fails the start.
pub fn acceptor(tls: Option<&MgpTls>) -> anyhow::Result<Option<TlsAcceptor>> {
    let Some(tls) = tls else {
        return Ok(None);
    };
    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("MGP: cannot read mgp_tls_cert {}", tls.cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .with_context(|| format!("MGP: cannot read mgp_tls_key {}", tls.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("MGP: TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .with_context(|| {
            format!(
                "MGP: mgp_tls_key {} does not fit mgp_tls_cert {}",
                tls.key.display(),
                tls.cert.display()
            )
        })?;
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

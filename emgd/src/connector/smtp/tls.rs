//! STARTTLS for the SMTP connectors, on the same rustls (ring provider, TLS 1.2 and 1.3) as the
//! MGP listener and outgoing HTTP: an acceptor from `smtp_tls_cert`/`smtp_tls_key` for the
//! server side, a connector trusting `smtp_tls_ca` (else the system's roots) for the relay.

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Longest a TLS handshake may take.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The acceptor STARTTLS is offered with, when the connector has a certificate. The files were
/// checked when the configuration was read; read again here, a file changed since fails the
/// start with its name.
pub fn acceptor(cfg: &config::Connector) -> anyhow::Result<Option<TlsAcceptor>> {
    let s = &cfg.smtp;
    let (Some(cert), Some(key)) = (&s.tls_cert, &s.tls_key) else {
        return Ok(None);
    };
    let name = &cfg.name;
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("connector {name}: cannot read smtp_tls_cert {cert:?}"))?;
    let key_der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("connector {name}: cannot read smtp_tls_key {key:?}"))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .with_context(|| {
            format!("connector {name}: smtp_tls_key {key:?} does not fit smtp_tls_cert {cert:?}")
        })?;
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

/// The connector STARTTLS to a relay uses: `smtp_tls_ca` when set, else the system's roots.
pub fn connector(cfg: &config::Connector) -> anyhow::Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    match &cfg.smtp.tls_ca {
        Some(ca) => {
            for cert in CertificateDer::pem_file_iter(ca).with_context(|| {
                format!("connector {}: cannot read smtp_tls_ca {ca:?}", cfg.name)
            })? {
                roots.add(cert?)?;
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

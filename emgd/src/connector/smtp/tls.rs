//! STARTTLS for the SMTP connectors, built by the shared [`crate::tls`] (TLS 1.2 and 1.3):
//! an acceptor from `smtp_tls_cert`/`smtp_tls_key` for the server side, a connector trusting
//! `smtp_tls_ca` (else the system's roots) for the relay.

use anyhow::Context;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Longest a TLS handshake may take.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The acceptor STARTTLS is offered with, when the connector has a certificate. The files were
/// checked when the configuration was read; read again here, a file changed since fails the
/// start with its name.
pub fn acceptor(cfg: &config::Connector) -> anyhow::Result<Option<TlsAcceptor>> {
    let s = &cfg.smtp;
    let (Some(cert), Some(key)) = (&s.tls_cert, &s.tls_key) else {
        return Ok(None);
    };
    let config = crate::tls::server_config(cert, key, None, config::TlsVersion::V1_2)
        .with_context(|| format!("connector {}: smtp_tls_cert / smtp_tls_key", cfg.name))?;
    Ok(Some(TlsAcceptor::from(config)))
}

/// The connector STARTTLS to a relay uses: `smtp_tls_ca` when set, else the system's roots.
pub fn connector(cfg: &config::Connector) -> anyhow::Result<TlsConnector> {
    let trust = config::ConnectorTls {
        cert: None,
        key: None,
        ca: cfg.smtp.tls_ca.clone(),
        client_ca: None,
        server_name: None,
        min_version: config::TlsVersion::V1_2,
    };
    let config = crate::tls::client_config(&trust)
        .with_context(|| format!("connector {}: smtp_tls_ca", cfg.name))?;
    Ok(TlsConnector::from(config))
}

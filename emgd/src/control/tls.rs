//! TLS for the MGP listener (`mgp_tls_cert` / `mgp_tls_key`), built by the shared
//! [`crate::tls`]: TLS 1.2 and 1.3, no client certificates (operators log in with a password
//! inside the encrypted session).

use anyhow::Context;
use config::ListenerTls;
use std::time::Duration;
use tokio_rustls::TlsAcceptor;

/// How long a client has to complete the handshake before its connection is closed.
pub const HANDSHAKE_TIMEOUT: Duration = crate::tls::HANDSHAKE_TIMEOUT;

/// The acceptor for `tls`, or `None` for plain TCP. The files were checked when the
/// configuration was loaded; they are read again here, so a file changed since fails the start.
pub fn acceptor(tls: Option<&ListenerTls>) -> anyhow::Result<Option<TlsAcceptor>> {
    crate::tls::listener_acceptor(tls).context("MGP: mgp_tls_cert / mgp_tls_key")
}

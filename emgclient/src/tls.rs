//! TLS for MGP (`--tls`, `--ca FILE`, `--tls-server-name NAME`): rustls with the `ring` crypto
//! provider. Without `--ca` the server's certificate must chain to the system's trusted roots
//! (read with rustls-native-certs, e.g. /etc/ssl/certs); with `--ca` only to the certificates in
//! that PEM file (a private CA, or emgd's self-signed certificate itself).

use crate::exit::Failure;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// How to speak TLS to emgd.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of the certificates to trust instead of the system roots.
    pub ca: Option<PathBuf>,
    /// Name the certificate must be valid for [default: the host part of `--host`].
    pub server_name: Option<String>,
}

/// Handshake over `tcp` with emgd at `host` (`HOST:PORT`).
pub async fn handshake(
    tcp: TcpStream,
    host: &str,
    opts: &TlsOptions,
) -> Result<TlsStream<TcpStream>, Failure> {
    let failed = |reason: String| Failure::Tls {
        host: host.to_string(),
        reason,
    };
    let name = opts
        .server_name
        .clone()
        .unwrap_or_else(|| host_part(host).to_string());
    let server_name = ServerName::try_from(name.clone()).map_err(|_| {
        failed(format!(
            "`{name}` is not a valid server name (--tls-server-name)"
        ))
    })?;
    let config = client_config(opts).map_err(failed)?;
    TlsConnector::from(Arc::new(config))
        .connect(server_name, tcp)
        .await
        .map_err(|e| {
            let reason = e.to_string();
            let hint = if reason.contains("InvalidContentType") {
                " (is emgd's MGP listener plain TCP? then leave out --tls)"
            } else if reason.contains("CaUsedAsEndEntity") {
                " (emgd's certificate is marked as a CA: one made with `openssl req -x509` \
                 needs `-addext basicConstraints=critical,CA:FALSE`)"
            } else if reason.contains("invalid peer certificate") && opts.ca.is_none() {
                " (for a private CA or a self-signed certificate use --ca FILE)"
            } else {
                ""
            };
            failed(format!("{reason}{hint}"))
        })
}

fn client_config(opts: &TlsOptions) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match &opts.ca {
        Some(ca) => {
            let certs = CertificateDer::pem_file_iter(ca)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| format!("cannot read --ca {}: {e}", ca.display()))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!(
                    "--ca {} holds no usable PEM certificate",
                    ca.display()
                ));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(native.certs);
            if added == 0 {
                let why = native
                    .errors
                    .first()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default();
                return Err(format!(
                    "no trusted root certificates found on this system{why}; give the CA with --ca FILE"
                ));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// `example.org` of `example.org:7185`, `::1` of `[::1]:7185`.
fn host_part(host: &str) -> &str {
    let h = host.rsplit_once(':').map_or(host, |(h, _)| h);
    h.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h)
}

#[cfg(test)]
mod tests {
    use super::host_part;

    #[test]
    fn host_part_strips_port_and_brackets() {
        assert_eq!(host_part("127.0.0.1:7185"), "127.0.0.1");
        assert_eq!(host_part("emg.example.org:7185"), "emg.example.org");
        assert_eq!(host_part("[::1]:7185"), "::1");
        assert_eq!(host_part("localhost"), "localhost");
    }
}

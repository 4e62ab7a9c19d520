//! Certificates for the TLS tests, made with rcgen in a directory: a CA, server and client
//! certificates it signed, an expired one, and a CA that signed none of them. Each is written
//! as `NAME.pem` with its key as `NAME-key.pem`.

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};

/// A CA writing the certificates it signs into `dir`.
pub struct Ca {
    dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// A new CA, its certificate written as `NAME.pem`.
    pub fn new(dir: &Path, name: &str) -> Ca {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("CA certificate");
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).expect("write CA");
        Ca {
            dir: dir.to_path_buf(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `localhost` and 127.0.0.1 with common name `name`, valid now.
    pub fn issue(&self, name: &str) -> PathBuf {
        self.issue_with(name, |_| {})
    }

    /// Like [`Ca::issue`], but valid only in 2020 (expired).
    pub fn issue_expired(&self, name: &str) -> PathBuf {
        self.issue_with(name, |p| {
            p.not_before = rcgen::date_time_ymd(2020, 1, 1);
            p.not_after = rcgen::date_time_ymd(2021, 1, 1);
        })
    }

    fn issue_with(&self, name: &str, adjust: impl FnOnce(&mut CertificateParams)) -> PathBuf {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        adjust(&mut params);
        let cert = params.signed_by(&key, &self.issuer).expect("certificate");
        let path = self.dir.join(format!("{name}.pem"));
        std::fs::write(&path, cert.pem()).expect("write certificate");
        std::fs::write(
            self.dir.join(format!("{name}-key.pem")),
            key.serialize_pem(),
        )
        .expect("write key");
        path
    }
}

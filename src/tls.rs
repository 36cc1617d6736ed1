//! Certificate authorities the client trusts besides the system's: a test server such as the
//! sandbox, or a corporate TLS proxy that re-signs what it forwards.

use std::fmt;

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::CertificateDer;

use crate::keys::KeyError;

/// One or more CA certificates to trust, besides the system's roots
/// ([`ClientBuilder::add_root_certificates`](crate::ClientBuilder::add_root_certificates)).
///
/// Server certificates are still verified (chain, validity, host name): this only adds trust
/// anchors. There is no way to turn verification off.
#[derive(Clone)]
pub struct RootCertificates(Vec<reqwest::Certificate>);

impl RootCertificates {
    /// Every `CERTIFICATE` block of `pem` (a single CA or a bundle), each checked to be an X.509
    /// certificate.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "root certificate";
        let mut certificates = Vec::new();
        for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let der = der.map_err(|error| KeyError::Pem { what: WHAT, reason: error.to_string() })?;
            x509_parser::parse_x509_certificate(der.as_ref())
                .map_err(|error| KeyError::Pem { what: WHAT, reason: format!("not an X.509 certificate: {error}") })?;
            let certificate = reqwest::Certificate::from_der(der.as_ref())
                .map_err(|error| KeyError::Pem { what: WHAT, reason: error.to_string() })?;
            certificates.push(certificate);
        }
        if certificates.is_empty() {
            return Err(KeyError::Pem { what: WHAT, reason: "no CERTIFICATE section".into() });
        }
        Ok(RootCertificates(certificates))
    }

    /// [`from_pem`](Self::from_pem) from a file (e.g. the sandbox's `tls/ca.pem`).
    pub fn from_pem_file(path: impl AsRef<std::path::Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let pem = std::fs::read_to_string(path)
            .map_err(|source| KeyError::Io { path: path.display().to_string(), source })?;
        Self::from_pem(&pem)
    }

    /// How many certificates.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never: [`from_pem`](Self::from_pem) refuses a PEM without a certificate.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn certificates(&self) -> impl Iterator<Item = reqwest::Certificate> + '_ {
        self.0.iter().cloned()
    }
}

impl fmt::Debug for RootCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootCertificates({} certificates)", self.0.len())
    }
}

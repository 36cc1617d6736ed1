//! WeChat Pay APIv2 on the wire: XML bodies (or signed queries and forms) signed with the APIv2
//! key, answers verified with it, mutual TLS for the calls that need the merchant's API client
//! certificate, signed URLs for the pages a browser opens, and the APIv2 notifications
//! ([`notify`]).
//!
//! The generated `v2::…` operations are sent by the same [`Client`](crate::Client), through the
//! same exchange (limits, failover table, tracing) as APIv3's: `client.v2().pay().orderquery()
//! .post(request)` or `client.send(request)`. What differs is here:
//!
//! - **Signing** ([`sign()`]): `nonce_str` (unless the page says `nonceless`) and `sign` are
//!   added to the members, MD5 unless the request's `sign_type` says `HMAC-SHA256`.
//! - **Answers**: `return_code` other than `SUCCESS` is [`Error::V2Return`](crate::Error::V2Return) (unsigned by design);
//!   otherwise a `sign` is verified with the request's algorithm (an answer the page documents as
//!   signed without one is refused), then `result_code` `FAIL` (or an `err_code`) is
//!   [`Error::V2Result`](crate::Error::V2Result), never a success. Only then is the answer decoded.
//! - **XML** is read by the runtime's `xml` module: no DOCTYPE, no entity, no processing
//!   instruction, at most [`max_body_size`](crate::ClientBuilder::max_body_size) bytes.

mod answer;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod ecb;
pub mod notify;
mod request;
mod sign;

pub use sign::{sign, verify, ApiV2Key, SignType};

pub(crate) use answer::judge;
pub(crate) use request::{prepare, sign_type_of, signed_url};

use std::fmt;

use crate::keys::{KeyError, PublicKey};

/// The merchant's API client certificate and its private key, for the APIv2 calls that need
/// mutual TLS (`apiclient_cert.pem` and `apiclient_key.pem`).
///
/// From the PEM pair only. The `apiclient_cert.p12` WeChat Pay also hands out is PKCS#12 with
/// legacy ciphers (RC2/3DES): reqwest reads PKCS#12 only through native-tls (OpenSSL), not with
/// rustls, and no well-kept pure-Rust reader handles those ciphers; convert it once with
/// `openssl pkcs12 -in apiclient_cert.p12 -nodes -legacy` (the password is the merchant id).
#[derive(Clone)]
pub struct ClientIdentity(reqwest::Identity);

impl ClientIdentity {
    /// The certificate (`apiclient_cert.pem`) and the private key (`apiclient_key.pem`) as PEM.
    pub fn from_pem(certificate: &str, private_key: &str) -> Result<Self, KeyError> {
        let mut pem = certificate.trim_end().to_owned();
        pem.push('\n');
        pem.push_str(private_key);
        reqwest::Identity::from_pem(pem.as_bytes()).map(ClientIdentity).map_err(|_| KeyError::Pem {
            what: "API client certificate",
            reason: "not a certificate and private key in PEM".into(),
        })
    }

    /// [`from_pem`](Self::from_pem) from the two files.
    pub fn from_pem_files(
        certificate: impl AsRef<std::path::Path>,
        private_key: impl AsRef<std::path::Path>,
    ) -> Result<Self, KeyError> {
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path).map_err(|source| KeyError::Io { path: path.display().to_string(), source })
        };
        Self::from_pem(&read(certificate.as_ref())?, &read(private_key.as_ref())?)
    }

    pub(crate) fn into_inner(self) -> reqwest::Identity {
        self.0
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientIdentity(<redacted>)")
    }
}

/// What the client holds for APIv2.
pub(crate) struct V2Config {
    pub key: ApiV2Key,
    /// The RSA public key of `risk/getpublickey`, which seals `pay_bank`'s bank card number and
    /// name (and `mchrisk`'s sensitive members).
    pub rsa: Option<PublicKey>,
}

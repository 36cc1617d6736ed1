//! WeChat Pay's keys as the merchant holds them: a configured public key (`PUB_KEY_ID_…`),
//! downloaded platform certificates, or both during a switchover; and the verification of a
//! signed response or notification against them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::keys::{KeyError, PublicKey};

/// How far a signed timestamp may be from the local clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The signature type WeChat Pay uses (sent in `Wechatpay-Signature-Type` on notifications).
pub const SIGNATURE_TYPE: &str = "WECHATPAY2-SHA256-RSA2048";

/// A platform certificate: its serial number, public key and validity.
#[derive(Clone, Debug)]
pub struct PlatformCertificate {
    /// The serial number, upper-case hex, as `Wechatpay-Serial` names it.
    pub serial: String,
    /// The certificate's public key.
    pub key: PublicKey,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
}

impl PlatformCertificate {
    /// Reads an X.509 certificate in PEM.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let der = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|error| KeyError::Pem { what: "platform certificate", reason: error.to_string() })?;
        let (_, certificate) = x509_parser::parse_x509_certificate(der.as_ref())
            .map_err(|error| KeyError::Certificate(error.to_string()))?;
        let serial = hex_upper(strip_sign_byte(certificate.tbs_certificate.raw_serial()));
        let key = PublicKey::from_spki_der(certificate.public_key().raw)?;
        let validity = certificate.validity();
        Ok(PlatformCertificate {
            serial,
            key,
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
        })
    }

    /// Whether the certificate may be used at `now` (Unix seconds).
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.not_before <= now && now <= self.not_after
    }
}

/// DER integers carry a leading zero byte when the high bit is set; serial numbers as WeChat Pay
/// writes them do not.
fn strip_sign_byte(bytes: &[u8]) -> &[u8] {
    match bytes {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => bytes,
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// A signed response or notification that failed verification.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("header {0} is not valid text")]
    InvalidHeader(&'static str),
    #[error("unsupported signature type {0:?}")]
    UnsupportedSignatureType(String),
    #[error("signature probe (WECHATPAY/SIGNTEST/) rejected")]
    SignatureProbe,
    #[error("no WeChat Pay key or valid certificate with serial {0:?}")]
    UnknownSerial(String),
    #[error("signature does not verify with key {serial:?}")]
    BadSignature { serial: String },
    #[error("timestamp {timestamp} is more than {MAX_CLOCK_SKEW_SECS} s away from now ({now})")]
    StaleTimestamp { timestamp: i64, now: i64 },
    #[error("timestamp {0:?} is not a number of seconds")]
    InvalidTimestamp(String),
}

/// What a verified message was signed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The key id or certificate serial that signed it.
    pub serial: String,
    /// The signed timestamp, Unix seconds.
    pub timestamp: i64,
}

/// The WeChat Pay keys a merchant trusts. Cloning shares them: a client, its certificate refresh
/// and a notification handler all see the same set.
#[derive(Clone, Default)]
pub struct WechatpayKeys {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    public_key: Option<(String, PublicKey)>,
    certificates: RwLock<BTreeMap<String, PlatformCertificate>>,
}

impl WechatpayKeys {
    /// Keys with a WeChat Pay public key (`id` is its `PUB_KEY_ID_…`) and no certificates yet.
    pub fn with_public_key(id: impl Into<String>, key: PublicKey) -> Self {
        WechatpayKeys { inner: Arc::new(Inner { public_key: Some((id.into(), key)), ..Inner::default() }) }
    }

    /// Keys with platform certificates only.
    pub fn with_certificates(certificates: impl IntoIterator<Item = PlatformCertificate>) -> Self {
        let keys = WechatpayKeys::default();
        keys.add_certificates(certificates);
        keys
    }

    /// Adds (or replaces, by serial) platform certificates.
    pub fn add_certificates(&self, certificates: impl IntoIterator<Item = PlatformCertificate>) {
        let mut held = self.inner.certificates.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for certificate in certificates {
            held.insert(certificate.serial.clone(), certificate);
        }
    }

    /// The configured public key's id, if any.
    pub fn public_key_id(&self) -> Option<&str> {
        self.inner.public_key.as_ref().map(|(id, _)| id.as_str())
    }

    /// The serials of the certificates held (valid or not).
    pub fn certificate_serials(&self) -> Vec<String> {
        self.certificates().keys().cloned().collect()
    }

    fn certificates(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, PlatformCertificate>> {
        self.inner.certificates.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The key named `serial`: the public key by id, or a certificate valid at `now`.
    pub fn find(&self, serial: &str, now: i64) -> Option<PublicKey> {
        if let Some((id, key)) = &self.inner.public_key {
            if id == serial {
                return Some(key.clone());
            }
        }
        let certificates = self.certificates();
        certificates
            .get(serial)
            .or_else(|| certificates.get(&serial.to_ascii_uppercase()))
            .filter(|certificate| certificate.is_valid_at(now))
            .map(|certificate| certificate.key.clone())
    }

    /// The key to encrypt sensitive fields with and its id for `Wechatpay-Serial`: the public key
    /// when configured, else the valid certificate that expires last.
    pub fn encryption_key(&self, now: i64) -> Option<(String, PublicKey)> {
        if let Some((id, key)) = &self.inner.public_key {
            return Some((id.clone(), key.clone()));
        }
        self.certificates()
            .values()
            .filter(|certificate| certificate.is_valid_at(now))
            .max_by_key(|certificate| certificate.not_after)
            .map(|certificate| (certificate.serial.clone(), certificate.key.clone()))
    }

    /// Verifies the `Wechatpay-*` headers of a response or notification against its raw body.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Result<Verified, VerifyError> {
        let header = |name: &'static str| -> Result<&str, VerifyError> {
            headers
                .get(name)
                .ok_or(VerifyError::MissingHeader(name))?
                .to_str()
                .map_err(|_| VerifyError::InvalidHeader(name))
        };
        let timestamp_text = header("Wechatpay-Timestamp")?;
        let nonce = header("Wechatpay-Nonce")?;
        let signature = header("Wechatpay-Signature")?;
        let serial = header("Wechatpay-Serial")?;
        if let Some(kind) = headers.get("Wechatpay-Signature-Type") {
            let kind = kind.to_str().map_err(|_| VerifyError::InvalidHeader("Wechatpay-Signature-Type"))?;
            if kind != SIGNATURE_TYPE {
                return Err(VerifyError::UnsupportedSignatureType(kind.to_owned()));
            }
        }
        if signature.starts_with("WECHATPAY/SIGNTEST/") {
            return Err(VerifyError::SignatureProbe);
        }
        let timestamp: i64 =
            timestamp_text.parse().map_err(|_| VerifyError::InvalidTimestamp(timestamp_text.to_owned()))?;
        let now = unix(now);
        let key = self.find(serial, now).ok_or_else(|| VerifyError::UnknownSerial(serial.to_owned()))?;
        let mut message = Vec::with_capacity(timestamp_text.len() + nonce.len() + body.len() + 3);
        for part in [timestamp_text.as_bytes(), nonce.as_bytes(), body] {
            message.extend_from_slice(part);
            message.push(b'\n');
        }
        if !key.verify(&message, signature) {
            return Err(VerifyError::BadSignature { serial: serial.to_owned() });
        }
        if now.abs_diff(timestamp) > MAX_CLOCK_SKEW_SECS as u64 {
            return Err(VerifyError::StaleTimestamp { timestamp, now });
        }
        Ok(Verified { serial: serial.to_owned(), timestamp })
    }
}

impl fmt::Debug for WechatpayKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatpayKeys")
            .field("public_key_id", &self.public_key_id())
            .field("certificates", &self.certificate_serials())
            .finish()
    }
}

/// Seconds since the Unix epoch (0 for clocks set before it).
pub fn unix(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MerchantKey;

    const PEM: &str = include_str!("../tests/fixtures/keys/wechatpay_pub_key_private.pem");

    fn signed(key: &MerchantKey, timestamp: &str, body: &[u8]) -> HeaderMap {
        let message = [timestamp.as_bytes(), b"\nnonce\n", body, b"\n"].concat();
        let mut headers = HeaderMap::new();
        headers.insert("Wechatpay-Timestamp", timestamp.parse().unwrap());
        headers.insert("Wechatpay-Nonce", "nonce".parse().unwrap());
        headers.insert("Wechatpay-Signature", key.sign(&message).parse().unwrap());
        headers.insert("Wechatpay-Serial", "PUB_KEY_ID_1".parse().unwrap());
        headers
    }

    #[test]
    fn timestamps_at_the_ends_of_i64_are_stale_not_a_panic() {
        let signer = MerchantKey::from_pem(PEM).unwrap();
        let keys = WechatpayKeys::with_public_key("PUB_KEY_ID_1", signer.public_key());
        let now = SystemTime::now();
        for timestamp in [i64::MIN, i64::MAX] {
            let headers = signed(&signer, &timestamp.to_string(), b"{}");
            assert!(matches!(keys.verify(&headers, b"{}", now), Err(VerifyError::StaleTimestamp { .. })));
        }
        let fresh = signed(&signer, &unix(now).to_string(), b"{}");
        assert!(keys.verify(&fresh, b"{}", now).is_ok());
        assert_eq!(keys.verify(&fresh, b"{ }", now), Err(VerifyError::BadSignature { serial: "PUB_KEY_ID_1".into() }));
    }
}

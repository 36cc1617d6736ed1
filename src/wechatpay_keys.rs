//! WeChat Pay's keys as the merchant holds them: a configured public key (`PUB_KEY_ID_…`),
//! downloaded platform certificates, or both during a switchover; and the verification of a
//! signed response or notification against them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use http::HeaderMap;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::keys::{KeyError, PublicKey};
use crate::signer::SignatureScheme;

/// How far a signed timestamp may be from the local clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The signature type WeChat Pay uses with RSA keys (sent in `Wechatpay-Signature-Type`); with
/// SM2 keys it is `WECHATPAY2-SM2-WITH-SM3` ([`SignatureScheme`]).
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
#[non_exhaustive]
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
    #[error("Wechatpay-Signature is not the Base64 of a signature of its type")]
    MalformedSignature,
    /// The message says it is signed with one scheme and names a key of the other (or a key not
    /// held while every key held is of the other): an answer of a national-cryptography (SM2)
    /// merchant to an RSA client, or the reverse.
    #[error("the message is signed {signed}, but {serial:?} names no key of that scheme: the keys held are {key} (national cryptography is one switch, the merchant key)")]
    SchemeMismatch {
        /// The scheme `Wechatpay-Signature-Type` names.
        signed: SignatureScheme,
        /// The scheme of the key `Wechatpay-Serial` names.
        key: SignatureScheme,
        /// That key's id or serial.
        serial: String,
    },
    /// APIv2: an answer (or notification) whose page says it is signed carries no `sign`.
    #[error("the APIv2 message carries no `sign`")]
    V2Unsigned,
    /// APIv2: `sign` does not match the members with the APIv2 key and the algorithm used.
    #[error("the APIv2 `sign` does not match ({0})")]
    V2BadSignature(&'static str),
    /// APIv2: the body is not the XML document expected (or holds a DOCTYPE or an entity).
    #[error("the APIv2 body is not usable: {0}")]
    V2Malformed(String),
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
///
/// Certificates come two ways and are kept apart: those the merchant configured
/// ([`add_certificates`](Self::add_certificates)) stay until the process ends; those downloaded
/// from `/v3/certificates` are replaced as a whole by each successful download
/// ([`replace_downloaded`](Self::replace_downloaded)), so a certificate WeChat Pay withdraws is no
/// longer trusted after the next download.
#[derive(Clone, Default)]
pub struct WechatpayKeys {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    public_key: Option<(String, PublicKey)>,
    certificates: RwLock<Certificates>,
}

#[derive(Default)]
struct Certificates {
    configured: BTreeMap<String, PlatformCertificate>,
    downloaded: BTreeMap<String, PlatformCertificate>,
}

impl Certificates {
    fn get(&self, serial: &str) -> Option<&PlatformCertificate> {
        self.configured.get(serial).or_else(|| self.downloaded.get(serial))
    }

    fn all(&self) -> impl Iterator<Item = &PlatformCertificate> {
        self.configured.values().chain(self.downloaded.values())
    }
}

/// The parts of a signed message's headers, checked for everything that needs no key.
struct Signed<'a> {
    /// The scheme `Wechatpay-Signature-Type` names, when present.
    scheme: Option<SignatureScheme>,
    timestamp_text: &'a str,
    timestamp: i64,
    nonce: &'a str,
    /// Decoded from Base64 (once).
    signature: Vec<u8>,
    serial: &'a str,
}

impl<'a> Signed<'a> {
    /// Presence and text of the headers, the signature type, probes, the shape of the signature
    /// and the clock window: all that can be refused before looking for a key (so that a message
    /// naming an unknown serial is only worth a key refresh when everything else holds).
    fn from_headers(headers: &'a HeaderMap, now: i64) -> Result<Self, VerifyError> {
        let header = |name: &'static str| -> Result<&'a str, VerifyError> {
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
        let scheme = match headers.get("Wechatpay-Signature-Type") {
            Some(kind) => {
                let kind = kind.to_str().map_err(|_| VerifyError::InvalidHeader("Wechatpay-Signature-Type"))?;
                Some(
                    SignatureScheme::from_name(kind)
                        .ok_or_else(|| VerifyError::UnsupportedSignatureType(kind.to_owned()))?,
                )
            }
            None => None,
        };
        if signature.starts_with("WECHATPAY/SIGNTEST/") {
            return Err(VerifyError::SignatureProbe);
        }
        let timestamp: i64 =
            timestamp_text.parse().map_err(|_| VerifyError::InvalidTimestamp(timestamp_text.to_owned()))?;
        if now.abs_diff(timestamp) > MAX_CLOCK_SKEW_SECS as u64 {
            return Err(VerifyError::StaleTimestamp { timestamp, now });
        }
        // RSA-2048 to RSA-8192, the sizes the verifying keys accept, or an SM2 signature: the DER
        // of two integers of at most 33 bytes (at most 72 bytes). Whether it is the scheme of the
        // key named is checked with the key, so that a mismatch is named as one.
        let signature = BASE64.decode(signature.trim()).map_err(|_| VerifyError::MalformedSignature)?;
        if !(256..=1024).contains(&signature.len()) && !(8..=72).contains(&signature.len()) {
            return Err(VerifyError::MalformedSignature);
        }
        Ok(Signed { scheme, timestamp_text, timestamp, nonce, signature, serial })
    }

    fn verify_with(&self, key: &PublicKey, body: &[u8]) -> Result<Verified, VerifyError> {
        if let Some(signed) = self.scheme.filter(|scheme| *scheme != key.scheme()) {
            return Err(VerifyError::SchemeMismatch { signed, key: key.scheme(), serial: self.serial.to_owned() });
        }
        let mut message = Vec::with_capacity(self.timestamp_text.len() + self.nonce.len() + body.len() + 3);
        for part in [self.timestamp_text.as_bytes(), self.nonce.as_bytes(), body] {
            message.extend_from_slice(part);
            message.push(b'\n');
        }
        if !key.verify_decoded(&message, &self.signature) {
            return Err(VerifyError::BadSignature { serial: self.serial.to_owned() });
        }
        Ok(Verified { serial: self.serial.to_owned(), timestamp: self.timestamp })
    }
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

    /// Adds (or replaces, by serial) platform certificates the merchant configured: they are
    /// trusted until their `not_after`, whatever later downloads list.
    pub fn add_certificates(&self, certificates: impl IntoIterator<Item = PlatformCertificate>) {
        let mut held = self.write();
        for certificate in certificates {
            held.configured.insert(certificate.serial.clone(), certificate);
        }
    }

    /// Replaces the downloaded certificates with `certificates`, the content of a verified
    /// download of `/v3/certificates`: a serial no longer listed is no longer trusted. Configured
    /// certificates and the public key are kept.
    pub fn replace_downloaded(&self, certificates: impl IntoIterator<Item = PlatformCertificate>) {
        let downloaded =
            certificates.into_iter().map(|certificate| (certificate.serial.clone(), certificate)).collect();
        self.write().downloaded = downloaded;
    }

    /// Whether any key can verify at `now` (Unix seconds): the public key or a valid certificate.
    pub fn has_usable_key(&self, now: i64) -> bool {
        self.inner.public_key.is_some() || self.certificates().all().any(|certificate| certificate.is_valid_at(now))
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Certificates> {
        // Every update replaces whole maps or entries, so a poisoned lock is still consistent.
        self.inner.certificates.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The configured public key's id, if any.
    pub fn public_key_id(&self) -> Option<&str> {
        self.inner.public_key.as_ref().map(|(id, _)| id.as_str())
    }

    /// The serials of the certificates held (configured and downloaded, valid or not), sorted.
    pub fn certificate_serials(&self) -> Vec<String> {
        let held = self.certificates();
        let mut serials: Vec<String> = held.all().map(|certificate| certificate.serial.clone()).collect();
        serials.sort();
        serials.dedup();
        serials
    }

    fn certificates(&self) -> std::sync::RwLockReadGuard<'_, Certificates> {
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
            .all()
            .filter(|certificate| certificate.is_valid_at(now))
            .max_by_key(|certificate| certificate.not_after)
            .map(|certificate| (certificate.serial.clone(), certificate.key.clone()))
    }

    /// Verifies the `Wechatpay-*` headers of a response or notification against its raw body.
    ///
    /// Everything that needs no key is checked first (headers, signature type, `SIGNTEST` probes,
    /// the 300 s window, the signature's shape): [`VerifyError::UnknownSerial`] therefore means
    /// a message that is otherwise plausible, the only kind worth a key refresh. Then the type
    /// must be the scheme of the key named ([`VerifyError::SchemeMismatch`] names both), and the
    /// signature must verify with it.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8], now: SystemTime) -> Result<Verified, VerifyError> {
        let now = unix(now);
        let signed = Signed::from_headers(headers, now)?;
        let Some(key) = self.find(signed.serial, now) else {
            // Signed with a scheme none of the keys held has (an SM2 answer to an RSA client, or the
            // reverse): no refresh will find its key, and the mismatch is what to say.
            return Err(match (signed.scheme, self.scheme_held(now)) {
                (Some(scheme), Some(held)) if scheme != held => {
                    VerifyError::SchemeMismatch { signed: scheme, key: held, serial: signed.serial.to_owned() }
                }
                _ => VerifyError::UnknownSerial(signed.serial.to_owned()),
            });
        };
        signed.verify_with(&key, body)
    }

    /// The scheme of every key usable at `now`, when they share one.
    fn scheme_held(&self, now: i64) -> Option<SignatureScheme> {
        let certificates = self.certificates();
        let valid = certificates
            .all()
            .filter(|certificate| certificate.is_valid_at(now))
            .map(|certificate| certificate.key.scheme());
        let mut schemes = self.inner.public_key.iter().map(|(_, key)| key.scheme()).chain(valid);
        let first = schemes.next()?;
        schemes.all(|scheme| scheme == first).then_some(first)
    }

    /// Verifies with `certificate` alone (a certificate the message itself carries, sealed with
    /// the APIv3 key, as the first download of `/v3/certificates` does).
    pub(crate) fn verify_with_certificate(
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
        certificate: &PlatformCertificate,
    ) -> Result<Verified, VerifyError> {
        let now = unix(now);
        let signed = Signed::from_headers(headers, now)?;
        if !certificate.serial.eq_ignore_ascii_case(signed.serial) || !certificate.is_valid_at(now) {
            return Err(VerifyError::UnknownSerial(signed.serial.to_owned()));
        }
        signed.verify_with(&certificate.key, body)
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

    #[test]
    fn an_unknown_serial_is_only_reported_for_an_otherwise_plausible_message() {
        let signer = MerchantKey::from_pem(PEM).unwrap();
        let keys = WechatpayKeys::default();
        let now = SystemTime::now();
        let mut headers = signed(&signer, &unix(now).to_string(), b"{}");
        assert_eq!(keys.verify(&headers, b"{}", now), Err(VerifyError::UnknownSerial("PUB_KEY_ID_1".into())));
        let stale = signed(&signer, &(unix(now) - 301).to_string(), b"{}");
        assert!(matches!(keys.verify(&stale, b"{}", now), Err(VerifyError::StaleTimestamp { .. })));
        for junk in ["c2hvcnQ=", "not base64!", ""] {
            headers.insert("Wechatpay-Signature", junk.parse().unwrap());
            assert_eq!(keys.verify(&headers, b"{}", now), Err(VerifyError::MalformedSignature), "{junk:?}");
        }
    }

    #[test]
    fn a_download_replaces_downloaded_certificates_and_keeps_configured_ones() {
        let certificate = |serial: &str, not_after| PlatformCertificate {
            serial: serial.into(),
            key: MerchantKey::from_pem(PEM).unwrap().public_key(),
            not_before: 0,
            not_after,
        };
        let keys = WechatpayKeys::default();
        keys.add_certificates([certificate("A", i64::MAX)]);
        keys.replace_downloaded([certificate("B", i64::MAX), certificate("C", 10)]);
        assert_eq!(keys.certificate_serials(), ["A", "B", "C"]);
        keys.replace_downloaded([certificate("D", i64::MAX)]);
        assert_eq!(keys.certificate_serials(), ["A", "D"]);
        assert!(keys.find("B", 1).is_none() && keys.find("A", 1).is_some());
        assert!(keys.has_usable_key(1));
        keys.replace_downloaded([certificate("C", 10)]);
        assert!(WechatpayKeys::with_certificates([certificate("C", 10)]).has_usable_key(5));
        assert!(!WechatpayKeys::with_certificates([certificate("C", 10)]).has_usable_key(11));
    }

    #[test]
    fn a_message_of_the_other_scheme_names_both() {
        let signer = MerchantKey::from_pem(PEM).unwrap();
        let keys = WechatpayKeys::with_public_key("PUB_KEY_ID_1", signer.public_key());
        let now = SystemTime::now();
        let mut headers = signed(&signer, &unix(now).to_string(), b"{}");
        // An SM2 signature is the DER of two integers: 70 to 72 bytes.
        headers.insert("Wechatpay-Signature", BASE64.encode([0x30u8; 71]).parse().unwrap());
        headers.insert("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3".parse().unwrap());
        let error = keys.verify(&headers, b"{}", now).unwrap_err();
        assert_eq!(
            error,
            VerifyError::SchemeMismatch {
                signed: SignatureScheme::Sm2,
                key: SignatureScheme::Rsa,
                serial: "PUB_KEY_ID_1".into()
            }
        );
        let text = error.to_string();
        assert!(text.contains("WECHATPAY2-SM2-WITH-SM3") && text.contains("WECHATPAY2-SHA256-RSA2048"), "{text}");
        headers.insert("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-DSA".parse().unwrap());
        assert_eq!(
            keys.verify(&headers, b"{}", now),
            Err(VerifyError::UnsupportedSignatureType("WECHATPAY2-SHA256-DSA".into()))
        );
    }
}

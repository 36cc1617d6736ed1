//! Platform certificates from `GET /v3/certificates`: downloaded with the APIv3 key, verified,
//! decrypted (`AEAD_AES_256_GCM`, or `AEAD_SM4_GCM` for a national-cryptography merchant, whose
//! client asks for `?algorithm_type=SM2`), and put in the client's [`WechatpayKeys`] in place of
//! the previous download.
//!
//! When to download:
//! - **Without a WeChat Pay public key**: before the first request, and again once the last
//!   successful download is older than the refresh interval (12 h by default). The download runs
//!   in the background, one at a time: a request that holds a usable key never waits for it; one
//!   that holds none waits for it at most the request timeout. A failed download is logged and
//!   retried at most once a minute; it never fails the client's construction, nor a request whose
//!   answer can be verified without it.
//! - **With a public key** (including a switchover, when both kinds are configured): never
//!   proactively, so a merchant that has no certificates never calls the endpoint.
//! - **Always** (when an APIv3 key is configured): when an answer names a serial the client does
//!   not know and that could be a certificate's (hexadecimal): at most once per serial and minute,
//!   and ten serials a minute in all; and when a request has sensitive fields
//!   but no key to encrypt them with.
//!
//! # What the trust rests on
//! The answer of `/v3/certificates` is verified **before** its body is used: with a key already
//! held when its `Wechatpay-Serial` names one; otherwise (the first download, or a rotation to a
//! certificate not yet held) with the certificate of that serial carried in the answer, which is
//! sealed with AES-256-GCM under the APIv3 key: only WeChat Pay and the merchant know that key,
//! so the seal authenticates the certificate, and the certificate then authenticates the whole
//! answer. Until then the body is not trusted: a body that does not parse, or lacks the signer's
//! certificate, is a verification error, never a decoding error quoting the body.
//!
//! There is deliberately no check of the certificate chain up to a root CA: WeChat Pay's official
//! Java SDK removed its own after an expiring root broke verification for merchants, and the
//! APIv3 key already authenticates what the chain would. Expired certificates are neither kept nor
//! used, and each successful download replaces the downloaded set, so a certificate WeChat Pay
//! withdraws stops being trusted at the next download (certificates the merchant configured stay).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use tracing::Instrument as _;
use wechatpay_generated::runtime::{DecodeError, ResponseKind};

use crate::error::Error;
use crate::exchange::{api_error, decode_error, request_span, Exchange, Prepared, Raw, Read, Target};
use crate::keys::ApiV3Key;
use crate::refresh::{Deadline, Flight, Landing, SerialLimiter};
use crate::wechatpay_keys::{unix, PlatformCertificate, VerifyError, WechatpayKeys};

/// The least time between two downloads not asked for by a new serial.
const RETRY_AFTER: Duration = Duration::from_secs(60);
/// The least time between two downloads for a request with sensitive fields and no key.
const KEYLESS_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The path of the certificate list.
pub const CERTIFICATES_PATH: &str = "/v3/certificates";

/// When the client downloads certificates by itself.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Downloads {
    /// Before use and periodically (no public key configured).
    pub eager: bool,
    /// When an answer or notification names a certificate serial not held, or a request has
    /// sensitive values and no key (off for a public-key merchant unless asked for).
    pub on_unknown_serial: bool,
    /// A national-cryptography merchant: SM2 certificates (`?algorithm_type=SM2`).
    pub guomi: bool,
}

/// Downloads the platform certificates into a [`WechatpayKeys`], when needed.
pub(crate) struct CertificateManager {
    apiv3_key: ApiV3Key,
    downloads: Downloads,
    interval: Duration,
    exchange: Arc<Exchange>,
    keys: WechatpayKeys,
    flight: Arc<Flight>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    last_attempt: Option<Instant>,
    last_success: Option<Instant>,
    last_failure: Option<Instant>,
    serials: SerialLimiter,
}

fn recent(at: Option<Instant>, within: Duration) -> bool {
    at.is_some_and(|at| at.elapsed() < within)
}

/// Whether `serial` could name a platform certificate (hexadecimal), so that a download may find it.
pub(crate) fn could_be_certificate_serial(serial: &str) -> bool {
    (1..=64).contains(&serial.len()) && serial.bytes().all(|byte| byte.is_ascii_hexdigit())
}

impl CertificateManager {
    pub(crate) fn new(
        apiv3_key: ApiV3Key,
        downloads: Downloads,
        interval: Duration,
        exchange: Arc<Exchange>,
        keys: WechatpayKeys,
    ) -> Arc<Self> {
        Arc::new(CertificateManager {
            apiv3_key,
            downloads,
            interval,
            exchange,
            keys,
            flight: Flight::new(),
            state: Mutex::new(State::default()),
        })
    }

    pub(crate) fn apiv3_key(&self) -> &ApiV3Key {
        &self.apiv3_key
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Instants and a limiter: nothing a panic could leave half-updated.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How long a caller without a usable key waits for a download.
    fn wait_bound(&self) -> Duration {
        self.exchange.limits.timeout
    }

    /// Starts a download in the background, or joins the running one.
    fn start(self: &Arc<Self>) -> Landing {
        let manager = self.clone();
        self.flight.start(async move {
            if let Err(error) = manager.download().await {
                tracing::warn!(%error, "platform certificate download failed; will retry");
            }
        })
    }

    /// Before a request: the first or periodic download, when no public key is configured. Waits
    /// for it only when no usable key is held.
    pub(crate) async fn before_request(self: &Arc<Self>) {
        if !self.downloads.eager {
            return;
        }
        let due = {
            let state = self.state();
            !recent(state.last_success, self.interval) && !recent(state.last_failure, RETRY_AFTER.min(self.interval))
        };
        let landing = if due { Some(self.start()) } else { self.flight.join() };
        if let Some(landing) = landing {
            if !self.keys.has_usable_key(unix(SystemTime::now())) {
                landing.wait(self.wait_bound()).await;
            }
        }
    }

    /// After an answer named `serial`: downloads (as limited per serial, see [`crate::refresh`])
    /// and reports whether the serial is known now.
    pub(crate) async fn refresh_for_serial(self: &Arc<Self>, serial: &str) -> bool {
        let known = || self.keys.find(serial, unix(SystemTime::now())).is_some();
        if known() {
            return true;
        }
        if !self.downloads.on_unknown_serial || !could_be_certificate_serial(serial) {
            return false;
        }
        let allowed = self.state().serials.allow(serial, Instant::now());
        let deadline = Deadline::after(self.wait_bound());
        // A download running now may have been answered before WeChat Pay listed this serial: wait
        // for it, then, if the serial is granted a download, start the one owed to it.
        if let Some(running) = self.flight.join() {
            running.wait(deadline.remaining()).await;
        }
        if allowed && !known() {
            self.start().wait(deadline.remaining()).await;
        }
        known()
    }

    /// For a request with sensitive fields and no key to encrypt them: a download, at most every
    /// few seconds, waited for.
    pub(crate) async fn download_when_keyless(self: &Arc<Self>) {
        if !self.downloads.on_unknown_serial {
            return;
        }
        let landing = if recent(self.state().last_attempt, KEYLESS_RETRY_AFTER) {
            self.flight.join()
        } else {
            Some(self.start())
        };
        if let Some(landing) = landing {
            landing.wait(self.wait_bound()).await;
        }
    }

    /// For a notification naming an unknown serial (rate-limited by the notifications): a
    /// download, or the running one, waited for at most the request timeout. Nothing for a
    /// client that does not download certificates (a public-key merchant).
    pub(crate) async fn refresh_shared(self: &Arc<Self>) {
        if self.downloads.on_unknown_serial {
            self.start().wait(self.wait_bound()).await;
        }
    }

    /// One download: fetch, verify, decrypt, replace. Returns the serials now downloaded.
    pub(crate) async fn download(&self) -> Result<Vec<String>, Error> {
        self.state().last_attempt = Some(Instant::now());
        let span = request_span("GET", CERTIFICATES_PATH);
        let started = Instant::now();
        let result = self.fetch().instrument(span.clone()).await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        let mut state = self.state();
        match &result {
            Ok(serials) => {
                state.last_success = Some(Instant::now());
                span.in_scope(|| tracing::info!(?serials, "platform certificates downloaded"));
            }
            Err(_) => state.last_failure = Some(Instant::now()),
        }
        result
    }

    async fn fetch(&self) -> Result<Vec<String>, Error> {
        let path_and_query = if self.downloads.guomi {
            format!("{CERTIFICATES_PATH}?algorithm_type=SM2")
        } else {
            CERTIFICATES_PATH.to_owned()
        };
        let prepared =
            Prepared::get(CERTIFICATES_PATH, ResponseKind::Json, Target::Relative { base: None, path_and_query });
        let raw = self.exchange.execute(&prepared, Read::Buffered).await?.into_raw()?;
        let now = SystemTime::now();
        let verify_error = |source| Error::Verify { source, request_id: raw.request_id.clone() };
        let verified = self.keys.verify(&raw.headers, &raw.body, now);
        if !raw.status.is_success() {
            // Without any key yet (the usual case here), the error cannot be verified: it is
            // reported as received, unverified. Nothing from it is trusted.
            let verified = match verified {
                Ok(_) => true,
                Err(VerifyError::UnknownSerial(_)) => false,
                Err(_) if !raw.headers.contains_key("Wechatpay-Signature") => false,
                Err(source) => return Err(verify_error(source)),
            };
            return Err(api_error(&raw, verified));
        }
        let list = match verified {
            Ok(_) => serde_json::from_slice(&raw.body)
                .map_err(|source| decode_error(&raw, DecodeError::new("", source.to_string())))?,
            Err(VerifyError::UnknownSerial(serial)) => self.signed_by_a_carried_certificate(&raw, &serial, now)?,
            Err(source) => return Err(verify_error(source)),
        };
        let listed = list.data.len();
        let certificates = self.open(list, unix(now));
        if certificates.is_empty() {
            // Replacing what is held with nothing would leave the client unable to verify
            // anything (usually because of a wrong APIv3 key): keep what was held.
            return Err(Error::NoUsableCertificate { listed });
        }
        let serials = certificates.iter().map(|certificate| certificate.serial.clone()).collect();
        self.keys.replace_downloaded(certificates);
        Ok(serials)
    }

    /// An answer signed by a certificate not yet held: its entry in the list (found by serial and
    /// opened with the APIv3 key) must verify the answer before the list is used. Until then the
    /// body is untrusted: whatever fails is a verification error, and no part of the body is kept.
    fn signed_by_a_carried_certificate(
        &self,
        raw: &Raw,
        serial: &str,
        now: SystemTime,
    ) -> Result<CertificateList, Error> {
        let unknown = || Error::Verify {
            source: VerifyError::UnknownSerial(serial.to_owned()),
            request_id: raw.request_id.clone(),
        };
        let list: CertificateList = serde_json::from_slice(&raw.body).map_err(|_| unknown())?;
        let entry = list.data.iter().find(|entry| entry.serial_no.eq_ignore_ascii_case(serial)).ok_or_else(unknown)?;
        let certificate = decrypt_entry(&self.apiv3_key, entry).map_err(|error| {
            tracing::warn!(serial, %error, "the certificate signing the certificate list does not open");
            unknown()
        })?;
        WechatpayKeys::verify_with_certificate(&raw.headers, &raw.body, now, &certificate)
            .map_err(|source| Error::Verify { source, request_id: raw.request_id.clone() })?;
        Ok(list)
    }

    /// The list's certificates that open and are valid at `now`.
    fn open(&self, list: CertificateList, now: i64) -> Vec<PlatformCertificate> {
        let mut certificates = Vec::with_capacity(list.data.len());
        for entry in list.data {
            match decrypt_entry(&self.apiv3_key, &entry) {
                Ok(certificate) if certificate.is_valid_at(now) => certificates.push(certificate),
                Ok(certificate) => {
                    tracing::debug!(serial = %certificate.serial, "skipping a platform certificate outside its validity")
                }
                Err(error) => {
                    tracing::warn!(serial = %entry.serial_no, %error, "skipping an unusable platform certificate")
                }
            }
        }
        certificates
    }
}

/// The certificate list as `/v3/certificates` returns it.
#[derive(Deserialize)]
struct CertificateList {
    data: Vec<CertificateEntry>,
}

#[derive(Deserialize)]
struct CertificateEntry {
    serial_no: String,
    encrypt_certificate: EncryptedCertificate,
}

#[derive(Deserialize)]
struct EncryptedCertificate {
    algorithm: String,
    nonce: String,
    #[serde(default)]
    associated_data: String,
    ciphertext: String,
}

fn decrypt_entry(apiv3_key: &ApiV3Key, entry: &CertificateEntry) -> Result<PlatformCertificate, Error> {
    let encrypted = &entry.encrypt_certificate;
    let pem =
        apiv3_key.open(&encrypted.algorithm, &encrypted.nonce, &encrypted.associated_data, &encrypted.ciphertext)?;
    let pem = String::from_utf8(pem).map_err(|_| crate::keys::CryptoError::Utf8)?;
    let certificate = PlatformCertificate::from_pem(&pem)?;
    if !certificate.serial.eq_ignore_ascii_case(&entry.serial_no) {
        return Err(Error::InvalidRequest(format!(
            "serial_no {} does not match the certificate's serial {}",
            entry.serial_no, certificate.serial
        )));
    }
    Ok(certificate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hexadecimal_serials_are_worth_a_certificate_download() {
        assert!(could_be_certificate_serial("5157F09EFDC096DE15EBE81A47057A7232F1B8E1"));
        assert!(!could_be_certificate_serial("PUB_KEY_ID_0114232134912410000000000000"));
        assert!(!could_be_certificate_serial(""));
        assert!(!could_be_certificate_serial(&"A".repeat(65)));
    }
}

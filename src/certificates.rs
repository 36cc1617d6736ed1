//! Platform certificates from `GET /v3/certificates`: downloaded with the APIv3 key, decrypted
//! (AEAD_AES_256_GCM), checked, and added to the client's [`WechatpayKeys`].
//!
//! When to download:
//! - **Without a WeChat Pay public key**: before the first request, and again before a request
//!   once the last successful download is older than the refresh interval (12 h by default).
//!   A failed download is logged and retried at most once a minute; it never fails the client's
//!   construction, nor a request whose answer can be verified without it.
//! - **With a public key** (including a switchover, when both kinds are configured): never
//!   proactively, so a merchant that has no certificates never calls the endpoint.
//! - **Always** (when an APIv3 key is configured): when an answer names a serial the client does
//!   not know, once per serial and minute, and when a request has sensitive fields but no key to
//!   encrypt them with.
//!
//! Expired certificates are neither added nor used. The download's own answer is verified with
//! the certificates it carries (or keys already held) before any of them is trusted.

use wechatpay_generated::runtime::DecodeError;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use tracing::Instrument as _;
use wechatpay_generated::runtime::ResponseKind;

use crate::client::{api_error, request_span, Prepared, Raw, Target};
use crate::error::Error;
use crate::keys::{ApiV3Key, PublicKey};
use crate::wechatpay_keys::{unix, PlatformCertificate, VerifyError, WechatpayKeys};
use crate::Client;

/// The least time between two downloads not asked for by a new serial, and between two downloads
/// for the same unknown serial.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// The path of the certificate list.
pub const CERTIFICATES_PATH: &str = "/v3/certificates";

pub(crate) struct CertificateManager {
    apiv3_key: ApiV3Key,
    /// Download before use and periodically (no public key configured).
    eager: bool,
    interval: Duration,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    last_attempt: Option<Instant>,
    last_success: Option<Instant>,
    last_failure: Option<Instant>,
    serials_asked: HashMap<String, Instant>,
}

impl CertificateManager {
    pub(crate) fn new(apiv3_key: ApiV3Key, eager: bool, interval: Duration) -> Self {
        CertificateManager { apiv3_key, eager, interval, state: tokio::sync::Mutex::new(State::default()) }
    }

    pub(crate) fn apiv3_key(&self) -> &ApiV3Key {
        &self.apiv3_key
    }
}

fn recent(at: Option<Instant>, within: Duration) -> bool {
    at.is_some_and(|at| at.elapsed() < within)
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

impl Client {
    /// Downloads the platform certificates now and adds the valid ones to
    /// [`Client::wechatpay_keys`]; returns their serial numbers. Needs the APIv3 key. Useful at
    /// start-up to fail fast; the client otherwise downloads them when needed.
    pub async fn refresh_certificates(&self) -> Result<Vec<String>, Error> {
        let manager = self.inner().certificates.as_ref().ok_or_else(|| {
            Error::Config(
                "downloading platform certificates needs the APIv3 key (ClientBuilder::apiv3_key)".into(),
            )
        })?;
        let mut state = manager.state.lock().await;
        self.download(manager, &mut state).await
    }

    /// Before a request: the first or periodic download, when no public key is configured.
    pub(crate) async fn ensure_fresh_certificates(&self) {
        let Some(manager) = self.inner().certificates.as_ref().filter(|manager| manager.eager) else {
            return;
        };
        // Due when never downloaded or older than the interval, unless a download just failed.
        let stale = |state: &State| {
            !recent(state.last_success, manager.interval)
                && !recent(state.last_failure, RETRY_AFTER.min(manager.interval))
        };
        // Requests arriving during a download wait for it, then find the certificates fresh.
        let mut state = manager.state.lock().await;
        if stale(&state) {
            if let Err(error) = self.download(manager, &mut state).await {
                tracing::warn!(%error, "platform certificate download failed; will retry");
            }
        }
    }

    /// After an answer named `serial`: downloads once (per serial and minute) and reports
    /// whether the serial is known now.
    pub(crate) async fn refresh_for_serial(&self, serial: &str) -> bool {
        let Some(manager) = self.inner().certificates.as_ref() else {
            return false;
        };
        let now = || unix(SystemTime::now());
        let mut state = manager.state.lock().await;
        if self.wechatpay_keys().find(serial, now()).is_some() {
            return true;
        }
        if recent(state.serials_asked.get(serial).copied(), RETRY_AFTER) {
            return false;
        }
        state.serials_asked.retain(|_, at| at.elapsed() < RETRY_AFTER);
        state.serials_asked.insert(serial.to_owned(), Instant::now());
        match self.download(manager, &mut state).await {
            Ok(_) => self.wechatpay_keys().find(serial, now()).is_some(),
            Err(error) => {
                tracing::warn!(%error, serial, "platform certificate download for an unknown serial failed");
                false
            }
        }
    }

    /// The key to encrypt sensitive fields with, and its id: the one `wanted` names, else the
    /// public key, else the newest valid certificate (downloaded first when none is held).
    pub(crate) async fn encryption_key(&self, wanted: Option<&str>) -> Result<(String, PublicKey), Error> {
        let keys = self.wechatpay_keys();
        let now = || unix(SystemTime::now());
        let no_key = || Error::NoEncryptionKey { serial: wanted.map(str::to_owned) };
        match wanted {
            Some(serial) => {
                if let Some(key) = keys.find(serial, now()) {
                    return Ok((serial.to_owned(), key));
                }
                if self.refresh_for_serial(serial).await {
                    return keys.find(serial, now()).map(|key| (serial.to_owned(), key)).ok_or_else(no_key);
                }
                Err(no_key())
            }
            None => {
                if let Some(found) = keys.encryption_key(now()) {
                    return Ok(found);
                }
                if let Some(manager) = self.inner().certificates.as_ref() {
                    let mut state = manager.state.lock().await;
                    if keys.encryption_key(now()).is_none()
                        && !recent(state.last_attempt, Duration::from_secs(5))
                    {
                        if let Err(error) = self.download(manager, &mut state).await {
                            tracing::warn!(%error, "platform certificate download for encryption failed");
                        }
                    }
                }
                keys.encryption_key(now()).ok_or_else(no_key)
            }
        }
    }

    /// One download: fetch, decrypt, check, verify the answer, then trust.
    async fn download(&self, manager: &CertificateManager, state: &mut State) -> Result<Vec<String>, Error> {
        state.last_attempt = Some(Instant::now());
        let span = request_span("GET", CERTIFICATES_PATH);
        let started = Instant::now();
        let result = self.fetch_certificates(manager).instrument(span.clone()).await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        let serials = result.inspect_err(|_| state.last_failure = Some(Instant::now()))?;
        state.last_success = Some(Instant::now());
        span.in_scope(|| tracing::info!(?serials, "platform certificates downloaded"));
        Ok(serials)
    }

    async fn fetch_certificates(&self, manager: &CertificateManager) -> Result<Vec<String>, Error> {
        let prepared = Prepared::get(
            CERTIFICATES_PATH,
            ResponseKind::Json,
            Target::Relative { base: None, path_and_query: CERTIFICATES_PATH.to_owned() },
        );
        let raw = match self.execute(&prepared, true).await? {
            crate::client::Fetched::Raw(raw) => raw,
            crate::client::Fetched::Stream(_) => {
                return Err(Error::InvalidRequest("expected a buffered answer".into()))
            }
        };
        let keys = self.wechatpay_keys();
        if !raw.status.is_success() {
            // Without any key yet (the usual case here), the error cannot be verified: it is
            // reported as received, body kept. Nothing from it is trusted.
            let verified = match verify_download(keys, &raw, &[]) {
                Ok(()) => true,
                Err(Error::Verify { source: VerifyError::UnknownSerial(_), .. }) => false,
                Err(_) if !raw.headers.contains_key("Wechatpay-Signature") => false,
                Err(error) => return Err(error),
            };
            return Err(api_error(&raw, verified));
        }
        let list: CertificateList = serde_json::from_slice(&raw.body).map_err(|source| Error::Decode {
            source: Box::new(DecodeError::new("", source.to_string())),
            body: String::from_utf8_lossy(&raw.body).into_owned(),
            request_id: raw.request_id.clone(),
        })?;
        let now = unix(SystemTime::now());
        let mut certificates = Vec::with_capacity(list.data.len());
        for entry in list.data {
            match decrypt_entry(&manager.apiv3_key, &entry) {
                Ok(certificate) if certificate.is_valid_at(now) => certificates.push(certificate),
                Ok(certificate) => {
                    tracing::debug!(serial = %certificate.serial, "skipping a platform certificate outside its validity")
                }
                Err(error) => {
                    tracing::warn!(serial = %entry.serial_no, %error, "skipping an unusable platform certificate")
                }
            }
        }
        verify_download(keys, &raw, &certificates)?;
        let serials = certificates.iter().map(|certificate| certificate.serial.clone()).collect();
        keys.add_certificates(certificates);
        Ok(serials)
    }
}

/// Verifies the certificate list's answer with the keys held or, for a new serial, with the
/// certificates it carries.
fn verify_download(keys: &WechatpayKeys, raw: &Raw, carried: &[PlatformCertificate]) -> Result<(), Error> {
    let now = SystemTime::now();
    let result = match keys.verify(&raw.headers, &raw.body, now) {
        Err(VerifyError::UnknownSerial(_)) if !carried.is_empty() => {
            WechatpayKeys::with_certificates(carried.iter().cloned()).verify(&raw.headers, &raw.body, now)
        }
        other => other,
    };
    result.map(drop).map_err(|source| Error::Verify { source, request_id: raw.request_id.clone() })
}

fn decrypt_entry(apiv3_key: &ApiV3Key, entry: &CertificateEntry) -> Result<PlatformCertificate, Error> {
    let encrypted = &entry.encrypt_certificate;
    if encrypted.algorithm != "AEAD_AES_256_GCM" {
        return Err(Error::InvalidRequest(format!("unsupported algorithm {:?}", encrypted.algorithm)));
    }
    let pem = apiv3_key.decrypt(&encrypted.nonce, &encrypted.associated_data, &encrypted.ciphertext)?;
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

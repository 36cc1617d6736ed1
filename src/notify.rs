//! Notifications (webhooks): what WeChat Pay POSTs to the merchant's `notify_url`, verified,
//! decrypted and typed.
//!
//! A notification is checked in this order, and nothing is parsed before it is verified:
//! 1. the `Wechatpay-*` headers against the raw body bytes ([`WechatpayKeys::verify`]: known key,
//!    RSA signature, 300 s window, no `WECHATPAY/SIGNTEST/` probe, `Wechatpay-Signature-Type`);
//! 2. the envelope (`id`, `event_type`, `resource`, …) is parsed as JSON;
//! 3. `resource.algorithm` must be `AEAD_AES_256_GCM` (or `AEAD_SM4_GCM`, national cryptography);
//! 4. the resource is decrypted with the APIv3 key (for SM4, the first 16 bytes of its SM3);
//! 5. the payload is parsed into the documented type of its event ([`Event`]); an event type the
//!    documentation does not describe is kept as JSON in [`Event::Unknown`], not an error.
//!
//! Three ways to use it, from the simplest:
//! - [`Notifications::process`] runs your handler once per notification id: a redelivery of a
//!   notification already handled is answered with success but not processed again, and a
//!   delivery whose processing failed is processed again when WeChat Pay retries it;
//! - [`Notifications::handle`] does the same in two steps, for code that cannot take a closure:
//!   it returns the notification and a [`Claim`] to [`commit`](Claim::commit) after success;
//! - [`Notifications::open`] only verifies, decrypts and parses, for merchants who keep the
//!   idempotency in their own database.
//!
//! The crate answers in any framework through [`http::HeaderMap`] and the body bytes; errors say
//! which status to answer ([`NotifyError::status`]) and [`fail_body`] writes the documented
//! `{"code":"FAIL","message":"…"}`. With the `axum` feature, `notify::axum::handler` does it all.
//!
//! # `Wechatpay-Signature-Type`
//! WeChat Pay sends `WECHATPAY2-SHA256-RSA2048` (`WECHATPAY2-SM2-WITH-SM3` to national-cryptography
//! merchants); any other value is rejected ([`VerifyError::UnsupportedSignatureType`]), and a type
//! that is not the scheme of the key the notification names is [`VerifyError::SchemeMismatch`].
//! A notification **without** the header is accepted by default and verified with the scheme of
//! the key it names: the header is not covered by the signature, so requiring it adds no security
//! (anyone can add it) and would only turn away genuine notifications whose header a proxy
//! dropped. Merchants who prefer to refuse them call [`Notifications::require_signature_type`].
//!
//! # Personal data
//! Decrypted payloads hold personal data (openid, amounts, …). Nothing here logs them: errors keep
//! ids, event types and error positions only (see [`PayloadError`]), and `Debug` of a
//! [`Notification`] leaves its payload out. The payload types themselves (`notification.event`)
//! print their fields, as any value's would: do not log them wholesale.

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
mod replay;
#[cfg(any(feature = "redis", feature = "postgres"))]
mod shared;

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, StatusCode};
use wechatpay_generated::runtime::{DecodeError, Deviation, DeviationKind, Envelope};
pub use wechatpay_generated::webhook::Event;

use crate::certificates::could_be_certificate_serial;
use crate::keys::{ApiV3Key, CryptoError};
use crate::log_limit::Budget;
use crate::refresh::{Deadline, Flight, SerialLimiter, PER_SERIAL};
use crate::wechatpay_keys::{unix, Verified, VerifyError, WechatpayKeys};

pub use futures_util::future::BoxFuture;
pub use replay::{
    ClaimStatus, ClaimToken, InMemoryReplayGuard, ReplayGuard, ReplayGuardError, DEFAULT_CAPACITY, DEFAULT_LEASE,
    DEFAULT_TTL,
};
#[cfg(any(feature = "redis", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "redis", feature = "postgres"))))]
pub use shared::{SharedReplayGuard, Storage, DEFAULT_TIMEOUT};

/// How often notifications naming unknown keys or failing verification are logged: anyone can
/// send them.
pub(crate) static REJECTED: Budget = Budget::new();

/// The resource algorithm of notifications: AES-256-GCM with the APIv3 key.
pub const ALGORITHM: &str = crate::keys::AEAD_AES_256_GCM;
/// The resource algorithm of national-cryptography merchants' notifications: SM4-GCM.
pub const SM4_ALGORITHM: &str = crate::keys::AEAD_SM4_GCM;

/// How often, at most, the [key refresher](Notifications::key_refresher) is called for one
/// unknown serial (and a few serials a minute in all): an unknown serial costs nothing to send,
/// so it must not cost a certificate download each time, nor use up the refresh another serial
/// (a genuine rotation) needs.
pub const MIN_REFRESH_INTERVAL: Duration = PER_SERIAL;

/// How long a notification naming an unknown serial waits for the key refresher by default
/// (WeChat Pay waits 5 s for the answer); see [`Notifications::key_refresh_wait`].
pub const DEFAULT_KEY_REFRESH_WAIT: Duration = Duration::from_secs(3);

/// A verified, decrypted notification. Its `Debug` leaves the decrypted payload out (it is the
/// plaintext of an encrypted resource); read `event` for it.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Notification {
    /// The notification's unique id: redeliveries of one notification carry the same id.
    pub id: String,
    /// When WeChat Pay created it: the text as it came (RFC 3339, e.g.
    /// `2026-08-01T10:00:00+08:00`) and its value (`to_time()`).
    pub create_time: wechatpay_generated::runtime::DateTime,
    /// The event type, e.g. `TRANSACTION.SUCCESS`.
    pub event_type: String,
    /// The resource type, e.g. `encrypt-resource`.
    pub resource_type: String,
    /// WeChat Pay's short summary, e.g. `支付成功`.
    pub summary: String,
    /// The decrypted payload, typed by `event_type`.
    pub event: Event,
    /// Where the payload differs from its documentation (a required member absent, a value of
    /// another JSON kind): each such value holds its type's default (see
    /// [`Decode`](wechatpay_generated::runtime::Decode)); logged once per event type and path at
    /// `WARN`. [`strict`](Self::strict) refuses such a notification.
    pub deviations: Vec<Deviation>,
    /// The key that signed it (public-key id or certificate serial) and the signed timestamp.
    pub verified: Verified,
    /// The decrypted payload as received.
    plaintext: Vec<u8>,
}

impl Notification {
    /// The notification, or [`NotifyError::Deviated`] when its payload differs from its
    /// documentation: for a handler that must not act on a defaulted amount or state
    /// (`notification.strict()?`). Answered with a 500, so WeChat Pay delivers it again.
    pub fn strict(&self) -> Result<&Self, NotifyError> {
        if self.deviations.is_empty() {
            return Ok(self);
        }
        Err(NotifyError::Deviated {
            id: self.id.clone(),
            event_type: self.event_type.clone(),
            deviations: self.deviations.clone(),
        })
    }

    /// The whole decrypted payload as JSON, documented members or not.
    pub fn payload_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_slice(&self.plaintext)
    }
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("id", &self.id)
            .field("create_time", &self.create_time)
            .field("event_type", &self.event_type)
            .field("resource_type", &self.resource_type)
            .field("summary", &self.summary)
            .field("event", &format_args!("<decrypted {} payload, redacted>", self.event_type))
            .field("deviations", &self.deviations)
            .field("verified", &self.verified)
            .finish()
    }
}

/// Why a notification was not accepted. No variant holds a key or decrypted data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The headers do not verify against the body: forged, altered, stale, signed by an unknown key,
    /// of another signature type, or a signature probe (see the inner error).
    #[error("notification rejected: {0}")]
    Verify(#[source] VerifyError),
    /// The verified body is not a notification envelope.
    #[error("notification body is not an envelope: {0}")]
    Envelope(#[source] serde_json::Error),
    /// `resource.algorithm` is neither `AEAD_AES_256_GCM` nor `AEAD_SM4_GCM`.
    #[error("unsupported resource algorithm {0:?} (supported: {ALGORITHM}, {SM4_ALGORITHM})")]
    UnsupportedAlgorithm(String),
    /// The resource does not decrypt: altered ciphertext or nonce, or not our APIv3 key.
    #[error("cannot decrypt the resource: {0}")]
    Decrypt(#[source] CryptoError),
    /// The payload decrypted but does not match the documented type of its event.
    #[error("the {event_type} payload does not match its documented type: {source}")]
    Payload {
        /// The envelope's event type.
        event_type: String,
        /// Where and why parsing failed, without the values.
        source: PayloadError,
    },
    /// This notification id was handled already: answer success, do not process it again.
    #[error("notification {id} was handled already")]
    Duplicate {
        /// The notification id.
        id: String,
    },
    /// Another delivery of this notification id is being processed right now: answer failure, so
    /// that WeChat Pay retries it later.
    #[error("notification {id} is being processed by another delivery")]
    InProgress {
        /// The notification id.
        id: String,
    },
    /// The replay guard's storage failed.
    #[error("replay guard: {0}")]
    ReplayGuard(#[source] ReplayGuardError),
    /// APIv2: the handler named a notification page this crate does not hold.
    #[error("no APIv2 notification page is named {0:?}")]
    UnknownPage(String),
    /// [`Notification::strict`]: the payload differs from its documentation, so some values hold
    /// defaults.
    #[error("the {event_type} notification {id} differs from its documentation ({} deviations)", .deviations.len())]
    Deviated {
        /// The notification id.
        id: String,
        /// The event type.
        event_type: String,
        /// Where, and what was there instead (never the values).
        deviations: Vec<Deviation>,
    },
}

impl NotifyError {
    /// Whether WeChat Pay should be answered with success: only for [`NotifyError::Duplicate`].
    pub fn is_duplicate(&self) -> bool {
        matches!(self, NotifyError::Duplicate { .. })
    }

    /// The HTTP status to answer: 204 for a duplicate; 401 when verification failed; 400 for a
    /// verified but unusable body; 500 when the payload does not match its documented type (our
    /// types are wrong, a fix may come before WeChat Pay gives up); 503 when the notification is
    /// being processed or the replay guard failed; 500 when a handler refused a payload that
    /// differs from its documentation ([`Notification::strict`]). WeChat Pay retries after any
    /// non-2xx status.
    pub fn status(&self) -> StatusCode {
        match self {
            NotifyError::Duplicate { .. } => StatusCode::NO_CONTENT,
            NotifyError::Verify(_) => StatusCode::UNAUTHORIZED,
            NotifyError::Envelope(_) | NotifyError::UnsupportedAlgorithm(_) | NotifyError::Decrypt(_) => {
                StatusCode::BAD_REQUEST
            }
            NotifyError::UnknownPage(_) => StatusCode::NOT_FOUND,
            NotifyError::Payload { .. } | NotifyError::Deviated { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            NotifyError::InProgress { .. } | NotifyError::ReplayGuard(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A decrypted payload that did not decode into its documented type (even leniently): the
/// JSON path of the value and the parser's message with every value replaced by `…` (field
/// names kept). The plaintext is not kept.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", if .path.is_empty() { .message.clone() } else { format!("`{}`: {}", .path, .message) })]
pub struct PayloadError {
    message: String,
    path: String,
}

impl PayloadError {
    pub(crate) fn from_decode(error: &DecodeError) -> Self {
        Self::new(error)
    }

    fn new(error: &DecodeError) -> Self {
        PayloadError { message: redact_values(error.message()), path: error.path().to_owned() }
    }

    /// What was wrong, e.g. ``invalid type: …, expected a string``.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The JSON path of the value that does not decode, e.g. `amount.total` (empty: the payload
    /// itself).
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Replaces the quoted parts of a serde message (``string "…"``, ``integer `…` ``, ``unknown
/// variant `…` ``) with `…`, except field names (``missing field `amount` ``).
fn redact_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c != '"' && c != '`' {
            out.push(c);
            continue;
        }
        let keep = out.ends_with("field ");
        let mut quoted = String::new();
        let mut closed = false;
        let mut escaped = false;
        for inner in chars.by_ref() {
            if inner == c && !escaped {
                closed = true;
                break;
            }
            escaped = c == '"' && inner == '\\' && !escaped;
            quoted.push(inner);
        }
        out.push(c);
        out.push_str(if keep { &quoted } else { "…" });
        if closed {
            out.push(c);
        }
    }
    out
}

/// The answer body for a failed notification: `{"code":"FAIL","message":…}`.
pub fn fail_body(message: &str) -> String {
    serde_json::json!({ "code": "FAIL", "message": message }).to_string()
}

/// Brings the WeChat Pay keys up to date, e.g. by downloading the platform certificates again; called
/// when a notification names a serial the keys do not hold.
///
/// Closures `Fn() -> impl Future<Output = Result<(), E>> + Send + 'static` implement it (clone
/// what the future needs into it):
/// ```no_run
/// # use wechatpay::notify::Notifications;
/// # #[derive(Clone)] struct Downloader;
/// # impl Downloader { async fn download_certificates(&self) -> Result<(), std::io::Error> { Ok(()) } }
/// # fn demo(notifications: Notifications, downloader: Downloader) -> Notifications {
/// notifications.key_refresher(move || {
///     let downloader = downloader.clone();
///     async move { downloader.download_certificates().await }
/// })
/// # }
/// ```
pub trait KeyRefresher: Send + Sync + 'static {
    /// Refreshes the keys the [`Notifications`] were built with (they are shared: adding
    /// certificates to a clone of the [`WechatpayKeys`] is enough).
    fn refresh(&self) -> BoxFuture<'_, Result<(), Box<dyn StdError + Send + Sync>>>;
}

impl<F, Fut, E> KeyRefresher for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    fn refresh(&self) -> BoxFuture<'_, Result<(), Box<dyn StdError + Send + Sync>>> {
        let future = self();
        Box::pin(async move { future.await.map_err(Into::into) })
    }
}

struct Refresh {
    hook: Box<dyn KeyRefresher>,
    flight: Arc<Flight>,
    serials: std::sync::Mutex<SerialLimiter>,
}

impl Refresh {
    /// For a notification naming the unknown `serial`: runs the hook in the background (one run at
    /// a time) unless this serial asked less than [`MIN_REFRESH_INTERVAL`] ago or too many serials
    /// did, and waits for it (or for the run already going) at most `wait` in all; `known` says
    /// whether the serial is known yet. Notifications signed by known keys never wait for it.
    async fn for_serial(self: &Arc<Self>, serial: &str, wait: Duration, known: impl Fn() -> bool) {
        let allowed =
            self.serials.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).allow(serial, Instant::now());
        let deadline = Deadline::after(wait);
        let remaining = || deadline.remaining();
        // A run going now may have fetched the keys before this serial existed: wait for it, then,
        // if the serial is granted a run, start the one owed to it.
        if let Some(running) = self.flight.join() {
            running.wait(remaining()).await;
        }
        if allowed && !known() {
            let refresh = self.clone();
            let landing = self.flight.start(async move {
                if let Err(error) = refresh.hook.refresh().await {
                    tracing::warn!(%error, "refreshing the WeChat Pay keys failed");
                }
            });
            if !landing.wait(remaining()).await {
                tracing::warn!(serial, ?wait, "the WeChat Pay key refresh did not finish in time");
            }
        }
    }
}

/// Verifies, decrypts and types notifications, and remembers which were handled.
///
/// Cheap to clone (shared state): build one and hand clones to the request handlers.
#[derive(Clone)]
pub struct Notifications {
    keys: WechatpayKeys,
    apiv3_key: ApiV3Key,
    guard: Arc<dyn ReplayGuard>,
    refresh: Option<Arc<Refresh>>,
    refresh_wait: Duration,
    require_signature_type: bool,
}

impl Notifications {
    /// Notifications verified with `keys` (share the client's: `client.wechatpay_keys().clone()`),
    /// decrypted with `apiv3_key`, replays remembered by an [`InMemoryReplayGuard`].
    pub fn new(keys: WechatpayKeys, apiv3_key: ApiV3Key) -> Self {
        Notifications {
            keys,
            apiv3_key,
            guard: Arc::new(InMemoryReplayGuard::new()),
            refresh: None,
            refresh_wait: DEFAULT_KEY_REFRESH_WAIT,
            require_signature_type: false,
        }
    }

    /// Remembers handled notifications in `guard` instead (shared storage for several processes).
    pub fn replay_guard(mut self, guard: impl ReplayGuard) -> Self {
        self.guard = Arc::new(guard);
        self
    }

    /// Calls `refresher` when a notification names a serial the keys do not hold, then verifies once
    /// more before failing with [`VerifyError::UnknownSerial`]. For keys made of platform
    /// certificates, which WeChat Pay rotates.
    ///
    /// Only a notification that passes every check needing no key (headers, type, probe, the
    /// 300 s window, the signature's shape) asks for a refresh; each serial at most every
    /// [`MIN_REFRESH_INTERVAL`], a few serials a minute in all. The refresher runs in the
    /// background, one run at a time (on the tokio runtime); the notification waits for it at
    /// most [`key_refresh_wait`](Self::key_refresh_wait). A failed or late refresh is logged and
    /// ends in `UnknownSerial` (WeChat Pay delivers again later).
    pub fn key_refresher(mut self, refresher: impl KeyRefresher) -> Self {
        self.refresh = Some(Arc::new(Refresh {
            hook: Box::new(refresher),
            flight: Flight::new(),
            serials: std::sync::Mutex::new(SerialLimiter::default()),
        }));
        self
    }

    /// How long a notification naming an unknown serial waits for the key refresher (default
    /// [`DEFAULT_KEY_REFRESH_WAIT`], 3 s: WeChat Pay waits 5 s for the answer).
    pub fn key_refresh_wait(mut self, wait: Duration) -> Self {
        self.refresh_wait = wait;
        self
    }

    /// Rejects notifications without a `Wechatpay-Signature-Type` header
    /// ([`VerifyError::MissingHeader`]); by default they are verified as
    /// `WECHATPAY2-SHA256-RSA2048` (see the [module documentation](self)).
    pub fn require_signature_type(mut self, require: bool) -> Self {
        self.require_signature_type = require;
        self
    }

    /// The keys notifications are verified with.
    pub fn wechatpay_keys(&self) -> &WechatpayKeys {
        &self.keys
    }

    /// Verifies, decrypts and parses a notification, without consulting the replay guard.
    pub async fn open(&self, headers: &HeaderMap, body: &[u8]) -> Result<Notification, NotifyError> {
        let verified = self.verify(headers, body).await.map_err(NotifyError::Verify)?;
        let envelope: Envelope = serde_json::from_slice(body).map_err(NotifyError::Envelope)?;
        let resource = &envelope.resource;
        let plaintext = self
            .apiv3_key
            .open(&resource.algorithm, &resource.nonce, &resource.associated_data, &resource.ciphertext)
            .map_err(|error| match error {
                CryptoError::Algorithm(algorithm) => NotifyError::UnsupportedAlgorithm(algorithm),
                error => NotifyError::Decrypt(error),
            })?;
        let payload_error = |error: &DecodeError| NotifyError::Payload {
            event_type: envelope.event_type.clone(),
            source: PayloadError::new(error),
        };
        let decoded = Event::parse(&envelope.event_type, &plaintext).map_err(|error| payload_error(&error))?;
        // A payload that is not even a JSON object holds nothing to type or keep: refused (and
        // delivered again), rather than handed to the handler as a structure of defaults.
        if let Some(Deviation { kind: DeviationKind::Mismatch { message, .. }, .. }) =
            decoded.deviations.iter().find(|deviation| deviation.path.is_empty())
        {
            return Err(payload_error(&DecodeError::new("", message.as_str())));
        }
        crate::log_limit::deviations(&envelope.event_type, &decoded.deviations);
        Ok(Notification {
            id: envelope.id,
            create_time: envelope.create_time,
            event_type: envelope.event_type,
            resource_type: envelope.resource_type,
            summary: envelope.summary,
            event: decoded.value,
            deviations: decoded.deviations,
            verified,
            plaintext,
        })
    }

    /// [`open`](Self::open)s a notification and claims its id in the replay guard. Process the
    /// notification, then [`Claim::commit`] (or [`Claim::release`] on failure, so WeChat Pay's retry is
    /// processed again). A handled id gives [`NotifyError::Duplicate`] (answer success), one being
    /// processed by another delivery [`NotifyError::InProgress`].
    pub async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Result<(Notification, Claim), NotifyError> {
        let notification = self.open(headers, body).await?;
        let id = notification.id.clone();
        let token = ClaimToken::new();
        match self.guard.try_claim(&id, &token).await.map_err(NotifyError::ReplayGuard)? {
            ClaimStatus::Claimed => Ok((notification, Claim { id, token, guard: Some(self.guard.clone()) })),
            ClaimStatus::Handled => Err(NotifyError::Duplicate { id }),
            ClaimStatus::InProgress => Err(NotifyError::InProgress { id }),
        }
    }

    /// Verifies, decrypts and parses a notification and runs `handler` on it, at most once per
    /// notification id that succeeded:
    /// - the id is recorded as handled only when `handler` returns `Ok`;
    /// - a redelivery of a handled id is not processed and gives `Ok(Processed::Duplicate)`: answer
    ///   success, so WeChat Pay stops retrying;
    /// - when `handler` fails, the id is released, so WeChat Pay's retry is processed again.
    ///
    /// Answer 204 on `Ok` and [`ProcessError::status`] with [`fail_body`] on `Err`.
    pub async fn process<F, Fut, E>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        handler: F,
    ) -> Result<Processed, ProcessError<E>>
    where
        F: FnOnce(Notification) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let (notification, claim) = match self.handle(headers, body).await {
            Ok(claimed) => claimed,
            Err(NotifyError::Duplicate { id }) => return Ok(Processed::Duplicate { id }),
            Err(error) => return Err(ProcessError::Notify(error)),
        };
        let id = notification.id.clone();
        match handler(notification).await {
            Ok(()) => {
                if let Err(error) = claim.commit().await {
                    // Processing succeeded: answer success anyway. At worst a rare redelivery is processed again.
                    tracing::warn!(%error, id, "cannot record the notification as handled");
                }
                Ok(Processed::Handled { id })
            }
            Err(error) => {
                if let Err(error) = claim.release().await {
                    tracing::warn!(%error, id, "cannot release the notification claim; it expires with its lease");
                }
                Err(ProcessError::Handler { id, error })
            }
        }
    }

    async fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<Verified, VerifyError> {
        if self.require_signature_type && !headers.contains_key("Wechatpay-Signature-Type") {
            return Err(VerifyError::MissingHeader("Wechatpay-Signature-Type"));
        }
        // When the header is present, `WechatpayKeys::verify` rejects a type that is not the scheme
        // of the key named.
        match self.keys.verify(headers, body, SystemTime::now()) {
            // Only a serial a refresh could find is worth one: a public-key id (`PUB_KEY_ID_…`) is
            // configured, never downloaded.
            Err(VerifyError::UnknownSerial(serial)) if could_be_certificate_serial(&serial) => match &self.refresh {
                Some(refresh) => {
                    if let Some(suppressed) = REJECTED.allow() {
                        tracing::info!(
                            serial,
                            suppressed,
                            "notification signed by an unknown key: refreshing the keys"
                        );
                    }
                    let known = || self.keys.find(&serial, unix(SystemTime::now())).is_some();
                    refresh.for_serial(&serial, self.refresh_wait, known).await;
                    self.keys.verify(headers, body, SystemTime::now())
                }
                None => Err(VerifyError::UnknownSerial(serial)),
            },
            result => result,
        }
    }
}

impl fmt::Debug for Notifications {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifications")
            .field("keys", &self.keys)
            .field("apiv3_key", &self.apiv3_key)
            .field("key_refresher", &self.refresh.is_some())
            .field("key_refresh_wait", &self.refresh_wait)
            .field("require_signature_type", &self.require_signature_type)
            .finish_non_exhaustive()
    }
}

/// The claim on a notification id, from [`Notifications::handle`]: [`commit`](Self::commit) it once
/// the notification is processed, [`release`](Self::release) it when processing failed. Dropped
/// without either, it is abandoned: released at once by guards that can (the in-memory one), else
/// when its lease expires. Each acts only on this claim (its [`ClaimToken`]): once the lease ran
/// out and another delivery took the id over, releasing or abandoning this one leaves that
/// delivery's claim alone.
#[must_use = "commit the claim after processing, or the notification is processed again on redelivery"]
pub struct Claim {
    id: String,
    token: ClaimToken,
    guard: Option<Arc<dyn ReplayGuard>>,
}

impl Claim {
    /// The claimed notification id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The token this claim holds the id with.
    pub fn token(&self) -> &ClaimToken {
        &self.token
    }

    /// Records the notification as handled: later deliveries are [`NotifyError::Duplicate`].
    pub async fn commit(mut self) -> Result<(), ReplayGuardError> {
        match self.guard.take() {
            Some(guard) => guard.commit(&self.id, &self.token).await,
            None => Ok(()),
        }
    }

    /// Gives the claim up: the next delivery is processed again.
    pub async fn release(mut self) -> Result<(), ReplayGuardError> {
        match self.guard.take() {
            Some(guard) => guard.release(&self.id, &self.token).await,
            None => Ok(()),
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            guard.abandon(&self.id, &self.token);
        }
    }
}

impl fmt::Debug for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("id", &self.id)
            .field("token", &self.token)
            .field("pending", &self.guard.is_some())
            .finish()
    }
}

/// A notification [`Notifications::process`] answered with success.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Processed {
    /// The handler ran and succeeded; the id is recorded as handled.
    Handled {
        /// The notification id.
        id: String,
    },
    /// The id was handled before: the handler did not run.
    Duplicate {
        /// The notification id.
        id: String,
    },
}

impl Processed {
    /// The notification id.
    pub fn id(&self) -> &str {
        match self {
            Processed::Handled { id } | Processed::Duplicate { id } => id,
        }
    }
}

/// Why [`Notifications::process`] answered with failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError<E> {
    /// The notification was not accepted.
    #[error(transparent)]
    Notify(NotifyError),
    /// The handler failed; the id was released, so WeChat Pay's retry is processed again.
    #[error("processing notification {id} failed")]
    Handler {
        /// The notification id.
        id: String,
        /// The handler's error.
        #[source]
        error: E,
    },
}

impl<E> ProcessError<E> {
    /// The HTTP status to answer: [`NotifyError::status`], or 500 when the handler failed.
    pub fn status(&self) -> StatusCode {
        match self {
            ProcessError::Notify(error) => error.status(),
            ProcessError::Handler { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message to answer in [`fail_body`]: the notification error, or a fixed text for a handler
    /// error (whose text is the merchant's own business and may hold data).
    pub fn message(&self) -> String {
        match self {
            ProcessError::Notify(error) => error.to_string(),
            ProcessError::Handler { .. } => "processing failed".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_redacted_from_parser_messages() {
        assert_eq!(
            redact_values(r#"invalid type: string "oUpF8u\"Mu", expected u64 at line 1 column 20"#),
            r#"invalid type: string "…", expected u64 at line 1 column 20"#
        );
        assert_eq!(
            redact_values("invalid value: integer `13800000000`, expected a string"),
            "invalid value: integer `…`, expected a string"
        );
        assert_eq!(
            redact_values("missing field `amount` at line 1 column 9"),
            "missing field `amount` at line 1 column 9"
        );
        assert_eq!(redact_values("unknown variant `SECRET`, expected `A`"), "unknown variant `…`, expected `…`");
        assert_eq!(redact_values("unterminated \"abc"), "unterminated \"…");
    }

    #[test]
    fn payload_errors_keep_no_values() {
        let error = serde_json::from_str::<u64>(r#""oUpF8uMuAJO_M2pxb1Q9zNjWeS6o""#).unwrap_err();
        let error = PayloadError::new(&DecodeError::new("payer.openid", error.to_string()));
        assert!(!error.to_string().contains("oUpF8u"), "{error}");
        assert_eq!(error.path(), "payer.openid");
        assert!(error.to_string().starts_with("`payer.openid`: invalid type"), "{error}");
    }

    #[test]
    fn fail_body_is_the_documented_json() {
        assert_eq!(fail_body("bad \"sig\""), r#"{"code":"FAIL","message":"bad \"sig\""}"#);
    }
}

//! A WeChat Pay APIv3 emulator, to test an integration without real money.
//!
//! WeChat Pay has no sandbox for APIv3. This crate is one: an HTTP server on 127.0.0.1 that checks
//! every request the way WeChat Pay does (the `Authorization` signature, merchant, serial, clock
//! and nonce replay; method, path, query, headers and body against the documentation's tables;
//! sensitive fields decrypted with the key `Wechatpay-Serial` names), answers signed with the
//! WeChat Pay public key or a platform certificate, and can misbehave on demand (latency, 5xx, a
//! dropped connection, a wrong signature, a stale clock, a rotated key). It serves HTTPS too
//! ([`Sandbox::tls_base_url`]), where APIv2's mutual-TLS calls are answered.
//!
//! Every documented operation is answered from the pages (the IR of `specs/`, embedded); the
//! operations where money moves keep state ([`ledger`]): orders of every payment kind, refunds,
//! the bills of a day, and notifications POSTed to `notify_url` on WeChat Pay's schedule until the
//! merchant answers 2xx ([`deliveries`]). A test pays, fails or expires an order and finishes a
//! refund through [`Sandbox`] or the HTTP endpoints under `/sandbox/` ([`control`]).
//!
//! State is in memory and bounded: [`ledger::MAX_ORDERS`] orders, [`ledger::MAX_REFUNDS`]
//! refunds, [`deliveries::MAX_RECORDS`] deliveries, [`MAX_RECORDED`] recorded requests holding
//! [`MAX_RECORDED_BYTES`] of bodies at most, nonces for the 600 s a replay could still pass the
//! clock check ([`MAX_NONCES`] at most), and the last [`MAX_BILLS`] bill files: about 160 MB at
//! the very worst (every bound reached with the largest bodies), a few megabytes in a test.
//!
//! National cryptography (国密) is served as WeChat Pay serves it to SM2 merchants: a request
//! signed `WECHATPAY2-SM2-WITH-SM3` is verified with the SM2 merchant key, answers and
//! notifications are signed with SM2 when [`Signer::Sm2PublicKey`] or [`Signer::Sm2Platform`]
//! signs (notifications then sealed `AEAD_SM4_GCM`), `/v3/certificates?algorithm_type=SM2` lists
//! the SM2 certificate, and an SM2 merchant's bills carry SM3 digests. Encrypted bills
//! (`/v3/bill/sub-merchant-fundflowbill`) are sealed with AES-256-GCM or SM4-GCM as they stream.
//! The SM2 keys are the instance's own, like the RSA ones ([`keys`]).
//!
//! Its crypto is RustCrypto (`rsa`, `sha1`, `sha2`, `aes-gcm`, `sm2`, `sm3`, `sm4`), independent of
//! the SDK's aws-lc-rs: it is the oracle a client is tested against.

mod auth;
mod bills;
mod combine;
mod conn;
pub mod control;
mod crypto;
pub mod deliveries;
mod encrypted_bills;
mod guomi;
pub mod keys;
pub mod ledger;
mod multipart;
mod notify;
pub mod pages;
mod respond;
mod routes;
mod samples;
mod tls;
pub mod v2;

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use axum::Router;
use http::{HeaderMap, StatusCode};

pub use control::ControlError;
pub use deliveries::Delivery as NotificationDelivery;
pub use keys::{Keys, KeysError, UNKNOWN_SERIAL};
pub use ledger::RefundStatus;
pub use routes::{MISSING_RESOURCE_PREFIX, UNKNOWN_ORDER_PREFIX};
pub use samples::{sample_refund, sample_transaction};
pub use tls::{CA_FILE, CLIENT_CERTIFICATE_FILE};
pub use wechatpay_sdk_ir as ir;

use conn::{Conn, KillableListener};
use respond::{Body, Flaw};
use routes::Reply;

/// Which key signs responses and notifications; `Wechatpay-Serial` is its id or serial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The WeChat Pay public key.
    PublicKey,
    /// The platform certificate.
    Platform,
    /// The second platform certificate (rotation).
    Platform2,
    /// The SM2 WeChat Pay public key of national-cryptography merchants: answers signed
    /// `WECHATPAY2-SM2-WITH-SM3`, notifications sealed `AEAD_SM4_GCM`.
    Sm2PublicKey,
    /// The SM2 platform certificate (listed for `?algorithm_type=SM2`), signing as `Sm2PublicKey` does.
    Sm2Platform,
}

/// A platform certificate `/v3/certificates` can list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertChoice {
    Platform,
    Platform2,
    /// A certificate that expired a year ago (the fixture keys': on 2025-01-01).
    Expired,
    /// The SM2 platform certificate: listed for `?algorithm_type=SM2` only (sealed `AEAD_SM4_GCM`),
    /// as the RSA ones are listed without it.
    Sm2Platform,
}

/// How requests are answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Answers {
    /// Payments, refunds, bills, certificates and uploads by their own routes (with state),
    /// every other documented operation from the pages.
    #[default]
    Stateful,
    /// Every operation from the pages: checked against its tables and answered with every
    /// documented response field set to a value of its type (no state).
    Pages,
}

/// What the sandbox answers about an order, refund or bill it has no record of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unrecorded {
    /// As WeChat Pay: 404 `ORDER_NOT_EXIST` for an order, 404 `RESOURCE_NOT_EXISTS` for a refund,
    /// 400 `NO_STATEMENT_EXIST` for a bill of a day without payments.
    #[default]
    NotFound,
    /// Canned answers, for tests of a client that need an answer rather than a flow: every order
    /// is a paid order of 1.00 CNY (except numbers starting with [`UNKNOWN_ORDER_PREFIX`]), any
    /// refund of it is accepted, and a day without payments has a sample bill.
    Samples,
}

/// How a sandbox starts. (`Debug` shows the keys' ids, not the keys, and the size of the pages,
/// not the pages.)
#[derive(Clone)]
pub struct Config {
    /// The key material; `None`: generated at start ([`Keys::generate`]).
    pub keys: Option<Arc<Keys>>,
    pub signer: Signer,
    /// What `/v3/certificates` lists, in this order (the SM2 certificate only for
    /// `?algorithm_type=SM2`). Default: the platform certificate and the SM2 one.
    pub certificates: Vec<CertChoice>,
    /// `false`: `/v3/certificates` answers 404 `RESOURCE_NOT_EXISTS`, as for a merchant on public keys only.
    pub certificates_available: bool,
    /// The merchant is switching from platform certificates to the public key: as WeChat Pay
    /// does then, an answer is signed with the public key when the request's `Wechatpay-Serial`
    /// names it, and with the platform certificate (`Signer::Platform`) otherwise, the header
    /// absent included (`signer` is not used).
    pub switching: bool,
    pub answers: Answers,
    /// The documentation requests are checked against and answered from; `None`: the pages of
    /// this crate's version ([`pages::api`]). Another docs tree's IR serves a crate generated
    /// from it.
    pub api: Option<Arc<ir::Api>>,
    pub unrecorded: Unrecorded,
    /// Multiplies the delays of notification redeliveries (WeChat Pay's schedule,
    /// [`deliveries::SCHEDULE`]): `1.0` is real time, `0.001` fits a day of retries in 90 s.
    pub time_scale: f64,
    /// `true`: notifications may go to any host; by default only to loopback addresses
    /// (`127.0.0.0/8`, `::1`, `localhost`), so sample URLs reach nobody.
    pub deliver_beyond_loopback: bool,
    /// The APIv2 key requests to the APIv2 pages are signed with ([`v2`]); `None`: made at start.
    pub apiv2_key: Option<String>,
    /// Where HTTPS listens ([`Sandbox::tls_base_url`]); `None`: the HTTP address's IP, a free port.
    pub tls_listen: Option<SocketAddr>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("keys", &self.keys)
            .field("signer", &self.signer)
            .field("certificates", &self.certificates)
            .field("certificates_available", &self.certificates_available)
            .field("switching", &self.switching)
            .field("answers", &self.answers)
            .field("api", &self.api.as_ref().map(|api| format!("{} operations", api.operations.len())))
            .field("unrecorded", &self.unrecorded)
            .field("time_scale", &self.time_scale)
            .field("deliver_beyond_loopback", &self.deliver_beyond_loopback)
            .field("tls_listen", &self.tls_listen)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            keys: None,
            signer: Signer::Platform,
            certificates: vec![CertChoice::Platform, CertChoice::Sm2Platform],
            certificates_available: true,
            switching: false,
            answers: Answers::Stateful,
            api: None,
            unrecorded: Unrecorded::NotFound,
            time_scale: 1.0,
            deliver_beyond_loopback: false,
            apiv2_key: None,
            tls_listen: None,
        }
    }
}

/// Why a sandbox did not start.
#[derive(Debug)]
pub enum Error {
    /// The listening address could not be bound.
    Bind { addr: SocketAddr, source: std::io::Error },
    /// The key material could not be generated or loaded.
    Keys(KeysError),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            Error::Keys(error) => write!(f, "keys: {error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Bind { source, .. } => Some(source),
            Error::Keys(error) => Some(error),
        }
    }
}

impl From<KeysError> for Error {
    fn from(error: KeysError) -> Self {
        Error::Keys(error)
    }
}

/// A notification could not be POSTed (nothing listening, connection reset, a bad URL).
#[derive(Debug)]
pub struct DeliveryError(pub String);

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeliveryError {}

/// A way for the sandbox to answer wrongly (on an APIv2 answer, as `v2::faults` says: its
/// signature is the body's `sign`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// `Wechatpay-Signature` is a valid signature, but of different bytes.
    BadSignature,
    /// `Wechatpay-Timestamp` 10 minutes ago, validly signed.
    StaleTimestamp,
    /// `Wechatpay-Serial` is [`UNKNOWN_SERIAL`] (the signature is by the configured signer).
    UnknownSerial,
    /// A signature-probe: `WECHATPAY/SIGNTEST/` followed by Base64 junk.
    SignTest,
    /// No `Wechatpay-Signature` header.
    MissingHeaders,
    /// 500 with `{"code":"SYSTEM_ERROR",…}` (signed), whatever the request.
    ServerError,
    /// 429 with `{"code":"FREQUENCY_LIMITED",…}` (signed), whatever the request.
    FrequencyLimited,
    /// Sleep this long before answering.
    Slow(Duration),
    /// Read the request, then close the connection without a response.
    DropConnection,
    /// Answer 200 with this body, validly signed: an answer the client cannot decode.
    SignedBody(Vec<u8>),
    /// Answer 200 with this body and a valid signature of other bytes: a forgery.
    ForgedBody(Vec<u8>),
    /// Answer with this status and an unsigned HTML page, as a gateway or captive portal does.
    HtmlPage(StatusCode),
    /// Send the head (with the full `Content-Length`) and half of the body, then close the connection.
    DropMidBody,
    /// Send the body `chunk` bytes at a time, `pause` apart.
    Drip { chunk: usize, pause: Duration },
    /// Answer 200 with a validly signed JSON document of about this many bytes.
    Oversized(usize),
    /// Answer `302 Found` with this `Location` (unsigned, as a proxy would).
    Redirect(String),
}

/// A request as the sandbox received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Exactly as on the request line.
    pub path_and_query: String,
    pub headers: HeaderMap,
    /// The raw body (for an upload, the whole multipart body).
    pub body: Vec<u8>,
    /// The `Authorization` header checked out (signature, merchant, serial, clock, fresh nonce).
    pub authorization_ok: bool,
    /// `(JSON path, plaintext)` of every sensitive field the sandbox decrypted, e.g.
    /// `("receivers[0].name", "张三")`.
    pub decrypted: Vec<(String, String)>,
}

/// What to spoil in a notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tamper {
    None,
    /// One byte of the body changed after signing.
    Body,
    /// One ciphertext byte flipped, then signed: the signature verifies, decryption fails.
    Ciphertext,
    /// Resource sealed with another APIv3 key (signed correctly).
    WrongApiV3Key,
    /// `Wechatpay-Timestamp` 10 minutes ago, validly signed.
    StaleTimestamp,
    /// `Wechatpay-Signature-Type` names the other scheme than the signing key's (the signature is
    /// valid for the key: RSA named `WECHATPAY2-SM2-WITH-SM3`, or SM2 named `WECHATPAY2-SHA256-RSA2048`).
    WrongSignatureType,
    /// `Wechatpay-Serial` is [`UNKNOWN_SERIAL`].
    UnknownSerial,
    /// Signature `WECHATPAY/SIGNTEST/…`.
    SignTest,
    /// Use this notification `id` (for duplicate-delivery tests).
    Id(String),
}

/// A running sandbox: serves on the tokio runtime it was started on until dropped.
pub struct Sandbox {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

pub(crate) struct Shared {
    base_url: String,
    tls_base_url: String,
    pub(crate) keys: Arc<Keys>,
    pub(crate) api: Arc<ir::Api>,
    pub(crate) answers: Answers,
    pub(crate) unrecorded: Unrecorded,
    pub(crate) time_scale: f64,
    pub(crate) deliver_beyond_loopback: bool,
    pub(crate) apiv2_key: String,
    state: Mutex<ServerState>,
}

pub(crate) struct ServerState {
    pub(crate) signer: Signer,
    switching: bool,
    pub(crate) certificates: Vec<CertChoice>,
    certificates_available: bool,
    pub(crate) queue: VecDeque<Misbehaviour>,
    pub(crate) always: Option<Misbehaviour>,
    /// Misbehaviours for one path (query excluded), applied to every request to it.
    pub(crate) on_path: HashMap<String, Misbehaviour>,
    requests: Vec<RecordedRequest>,
    /// The bytes of the recorded requests' bodies.
    recorded_bytes: usize,
    /// `false`: requests are counted, not kept (long load runs).
    recording: bool,
    count: usize,
    pub(crate) nonces: Nonces,
    pub(crate) corrupt_bill: bool,
    pub(crate) truncate_bill: bool,
    /// The size of the bill files the bill APIs announce from now on (`None`: a small realistic one).
    pub(crate) bill_size: Option<u64>,
    /// Bill files by download token, the newest last.
    pub(crate) bills: VecDeque<(String, Body)>,
    pub(crate) ledger: ledger::Ledger,
    pub(crate) deliveries: VecDeque<deliveries::Delivery>,
}

impl ServerState {
    /// Counts a request and keeps it (while recording), the oldest dropped beyond the bounds.
    fn record(&mut self, request: RecordedRequest) {
        self.count += 1;
        if !self.recording {
            return;
        }
        self.recorded_bytes += request.body.len();
        while !self.requests.is_empty()
            && (self.requests.len() >= MAX_RECORDED || self.recorded_bytes > MAX_RECORDED_BYTES)
        {
            let dropped = self.requests.remove(0);
            self.recorded_bytes -= dropped.body.len();
        }
        self.requests.push(request);
    }
}

impl Shared {
    /// Keeps a bill file for download under `token`, dropping the oldest past [`MAX_BILLS`].
    pub(crate) fn keep_bill(&self, token: String, body: respond::Body) {
        let mut state = self.lock();
        if state.bills.len() >= MAX_BILLS {
            state.bills.pop_front();
        }
        state.bills.push_back((token, body));
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, ServerState> {
        // A panicking test thread must not take the sandbox down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Requests recorded at most (the oldest are dropped)…
pub const MAX_RECORDED: usize = 10_000;
/// …and bytes of their bodies at most.
pub const MAX_RECORDED_BYTES: usize = 64 * 1024 * 1024;
/// Nonces remembered at most (each for 600 s: a replay past that fails the clock check anyway).
pub const MAX_NONCES: usize = 200_000;
/// Bill files kept for download at most (real download links expire in 30 s).
pub const MAX_BILLS: usize = 20;

/// Bodies above this are refused (uploads are far smaller).
const MAX_BODY: usize = 16 * 1024 * 1024;

impl Sandbox {
    /// Binds 127.0.0.1 on a free port and serves on the current tokio runtime until dropped.
    pub async fn start(config: Config) -> Result<Sandbox, Error> {
        Sandbox::bind(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    /// Binds `addr` and serves on the current tokio runtime until dropped.
    pub async fn bind(addr: SocketAddr, config: Config) -> Result<Sandbox, Error> {
        let keys = match config.keys {
            Some(keys) => keys,
            None => Arc::new(
                tokio::task::spawn_blocking(Keys::generate)
                    .await
                    .map_err(|error| Error::Keys(KeysError(format!("key generation stopped: {error}"))))??,
            ),
        };
        let api = match config.api {
            Some(api) => api,
            None => pages::api_arc(),
        };
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| Error::Bind { addr, source })?;
        let local = listener.local_addr().map_err(|source| Error::Bind { addr, source })?;
        let tls_addr = config.tls_listen.unwrap_or(SocketAddr::new(local.ip(), 0));
        let tls_listener =
            tokio::net::TcpListener::bind(tls_addr).await.map_err(|source| Error::Bind { addr: tls_addr, source })?;
        let tls_local = tls_listener.local_addr().map_err(|source| Error::Bind { addr: tls_addr, source })?;
        let acceptor = keys.tls.acceptor()?;
        let shared = Arc::new(Shared {
            base_url: format!("http://{local}/"),
            tls_base_url: format!("https://{tls_local}/"),
            keys,
            api,
            answers: config.answers,
            unrecorded: config.unrecorded,
            time_scale: config.time_scale.max(0.0),
            deliver_beyond_loopback: config.deliver_beyond_loopback,
            apiv2_key: config.apiv2_key.unwrap_or_else(|| crypto::random_alphanumeric(32)),
            state: Mutex::new(ServerState {
                signer: config.signer,
                switching: config.switching,
                certificates: config.certificates,
                certificates_available: config.certificates_available,
                queue: VecDeque::new(),
                always: None,
                on_path: HashMap::new(),
                requests: Vec::new(),
                recorded_bytes: 0,
                recording: true,
                count: 0,
                nonces: Nonces::default(),
                corrupt_bill: false,
                truncate_bill: false,
                bill_size: None,
                bills: VecDeque::new(),
                ledger: ledger::Ledger::default(),
                deliveries: VecDeque::new(),
            }),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<Conn>();
            let http = axum::serve(KillableListener(listener), service.clone());
            let https = axum::serve(tls::TlsListener::new(tls_listener, acceptor), service);
            let _ = tokio::join!(IntoFuture::into_future(http), IntoFuture::into_future(https));
        });
        Ok(Sandbox { shared, task })
    }

    /// The APIv2 key APIv2 requests are signed with (and its notifications sealed and signed).
    pub fn apiv2_key(&self) -> &str {
        &self.shared.apiv2_key
    }

    /// An APIv2 notification of page `name` as WeChat Pay POSTs it, and its payload as the
    /// typed value holds it (see [`v2::notification_body`]).
    pub fn v2_notification(&self, name: &str) -> Option<(Vec<u8>, serde_json::Value)> {
        v2::notification_body(name, &self.shared.apiv2_key, self.shared.keys.apiv3_key())
    }

    /// `http://127.0.0.1:PORT/` (with the trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// `https://127.0.0.1:PORT/` (with the trailing slash): the same sandbox over TLS, its
    /// certificate issued by the sandbox CA ([`Keys::ca_certificate_pem`]), which a client must
    /// trust. A client certificate is optional; the APIv2 calls that need mutual TLS are answered
    /// only here, with the merchant's ([`Keys::client_certificate_pem`]).
    pub fn tls_base_url(&self) -> String {
        self.shared.tls_base_url.clone()
    }

    /// The key material of both sides: what a client needs to talk to this sandbox.
    pub fn keys(&self) -> &Keys {
        &self.shared.keys
    }

    /// Misbehave on the next request only; several calls queue, one per request. Certificate
    /// downloads (`/v3/certificates`, which a client may make at any time) are not affected: use
    /// [`Sandbox::misbehave_on`] for them.
    pub fn misbehave(&self, misbehaviour: Misbehaviour) {
        self.shared.lock().queue.push_back(misbehaviour);
    }

    /// Misbehave on every request without a queued misbehaviour (`None` stops), certificate
    /// downloads excepted.
    pub fn misbehave_always(&self, misbehaviour: Option<Misbehaviour>) {
        self.shared.lock().always = misbehaviour;
    }

    /// Misbehave on every request to `path` (query excluded) until called again with `None`; this
    /// comes before the queue and `misbehave_always`.
    pub fn misbehave_on(&self, path: &str, misbehaviour: Option<Misbehaviour>) {
        let mut state = self.shared.lock();
        match misbehaviour {
            Some(misbehaviour) => state.on_path.insert(path.to_owned(), misbehaviour),
            None => state.on_path.remove(path),
        };
    }

    /// Which key signs answers now.
    pub fn signer(&self) -> Signer {
        self.shared.lock().signer
    }

    /// Which key signs from now on (rotation).
    pub fn set_signer(&self, signer: Signer) {
        self.shared.lock().signer = signer;
    }

    /// Whether the merchant is switching to the public key from now on (see [`Config::switching`]).
    pub fn set_switching(&self, switching: bool) {
        self.shared.lock().switching = switching;
    }

    /// What `/v3/certificates` lists from now on.
    pub fn set_certificates(&self, certificates: Vec<CertChoice>) {
        self.shared.lock().certificates = certificates;
    }

    /// `false`: `/v3/certificates` answers 404 `RESOURCE_NOT_EXISTS` from now on.
    pub fn set_certificates_available(&self, available: bool) {
        self.shared.lock().certificates_available = available;
    }

    /// Every request received so far, oldest first (while recording).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// How many requests were received, recorded or not.
    pub fn request_count(&self) -> usize {
        self.shared.lock().count
    }

    /// `false`: stop keeping requests (they are still counted), so that a long run does not grow
    /// the sandbox's memory.
    pub fn record_requests(&self, yes: bool) {
        self.shared.lock().recording = yes;
    }

    /// `true`: downloaded bill files no longer match the `hash_value` of the bill API.
    pub fn corrupt_bill(&self, yes: bool) {
        self.shared.lock().corrupt_bill = yes;
    }

    /// `true`: downloaded bill files stop at half their length (a complete HTTP answer, a short file).
    pub fn truncate_bill(&self, yes: bool) {
        self.shared.lock().truncate_bill = yes;
    }

    /// The size in bytes of the bill files the bill APIs announce from now on: a generated bill of
    /// that size, streamed from a repeated block so that neither side needs it in memory (`None`:
    /// the small realistic bill).
    pub fn bill_size(&self, size: Option<u64>) {
        self.shared.lock().bill_size = size;
    }

    /// A notification WeChat Pay would POST: signed headers and body, resource encrypted with
    /// the APIv3 key (AAD and `original_type`: the event family in lower case, e.g. `transaction`;
    /// SM4-GCM under the first 128 bits of the key's SM3 when an SM2 key signs).
    pub fn notification(
        &self,
        event_type: &str,
        resource_type: &str,
        payload: &serde_json::Value,
        tamper: Tamper,
    ) -> (HeaderMap, Vec<u8>) {
        let signer = self.shared.lock().signer;
        notify::build(&self.shared.keys, signer, event_type, resource_type, payload, &tamper)
    }

    /// The `Wechatpay-*` headers the sandbox would answer `body` with, signed by the current signer.
    pub fn signed_headers(&self, body: &[u8]) -> HeaderMap {
        let signer = self.shared.lock().signer;
        let mut headers = HeaderMap::new();
        for (name, value) in respond::sign_headers(&self.shared.keys, signer, body, Flaw::None) {
            if let Ok(value) = http::HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        headers
    }

    /// POSTs such a notification to `url` and returns the status and body of the answer.
    pub async fn deliver(
        &self,
        url: &str,
        event_type: &str,
        resource_type: &str,
        payload: &serde_json::Value,
        tamper: Tamper,
    ) -> Result<(u16, String), DeliveryError> {
        let (headers, body) = self.notification(event_type, resource_type, payload, tamper);
        notify::post(url, headers, body).await
    }
}

/// Paying, failing, expiring orders and finishing refunds (also as HTTP: [`control`]).
impl Sandbox {
    /// The user pays the unpaid order `out_trade_no`: it becomes `SUCCESS` and
    /// `TRANSACTION.SUCCESS` is POSTed to its `notify_url` (until answered 2xx). The order after.
    /// A combined order's `combine_out_trade_no` pays all its sub-orders, with one notification.
    pub fn pay(&self, out_trade_no: &str) -> Result<serde_json::Value, ControlError> {
        control::settle(&self.shared, out_trade_no, control::Settle::Pay)
    }

    /// The payment of the unpaid order `out_trade_no` fails: `PAYERROR` (WeChat Pay sends no
    /// notification for it).
    pub fn fail(&self, out_trade_no: &str) -> Result<serde_json::Value, ControlError> {
        control::settle(&self.shared, out_trade_no, control::Settle::Fail)
    }

    /// The unpaid order `out_trade_no` expires: `CLOSED`.
    pub fn expire(&self, out_trade_no: &str) -> Result<serde_json::Value, ControlError> {
        control::settle(&self.shared, out_trade_no, control::Settle::Expire)
    }

    /// The refund `out_refund_no` (`PROCESSING`) ends in `status`; `REFUND.SUCCESS`,
    /// `REFUND.ABNORMAL` or `REFUND.CLOSED` is POSTed to its `notify_url`, if it gave one. A
    /// closed refund's amount is refundable again. The refund after.
    pub fn complete_refund(
        &self,
        out_refund_no: &str,
        status: RefundStatus,
    ) -> Result<serde_json::Value, ControlError> {
        control::finish_refund(&self.shared, out_refund_no, status)
    }

    /// The order `out_trade_no` as the query API shows it, if the sandbox has it.
    pub fn order(&self, out_trade_no: &str) -> Option<serde_json::Value> {
        self.shared.lock().ledger.order(None, out_trade_no).map(ledger::Order::to_json)
    }

    /// The refund `out_refund_no` as the refund query shows it, if the sandbox has it.
    pub fn refund(&self, out_refund_no: &str) -> Option<serde_json::Value> {
        self.shared.lock().ledger.refund(out_refund_no).map(ledger::Refund::to_json)
    }

    /// Every notification sent (the last [`deliveries::MAX_RECORDS`]), oldest first, with each
    /// attempt's outcome.
    pub fn deliveries(&self) -> Vec<deliveries::Delivery> {
        self.shared.lock().deliveries.iter().cloned().collect()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Shared {
    fn next_misbehaviour(&self, path: &str) -> Option<Misbehaviour> {
        let mut state = self.lock();
        if let Some(misbehaviour) = state.on_path.get(path) {
            return Some(misbehaviour.clone());
        }
        if path == "/v3/certificates" {
            return None;
        }
        state.queue.pop_front().or_else(|| state.always.clone())
    }
}

async fn handle(State(shared): State<Arc<Shared>>, ConnectInfo(conn): ConnectInfo<Conn>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.uri.path().starts_with(control::PREFIX) {
        return control::handle(&shared, parts.method.as_str(), parts.uri.path(), parts.uri.query());
    }
    let misbehaviour = shared.next_misbehaviour(parts.uri.path());
    let method = parts.method.as_str().to_owned();
    let path_and_query =
        parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let (body, processed) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => {
            // APIv2's pages have paths of their own (no `/v3`): answered by `v2`.
            if let Some(mut answered) = v2::answer(
                &shared.keys,
                &shared.apiv2_key,
                &method,
                &path_and_query,
                &parts.headers,
                &body,
                &conn.transport,
            ) {
                shared.lock().record(RecordedRequest {
                    method,
                    path_and_query,
                    headers: parts.headers,
                    body: body.to_vec(),
                    authorization_ok: answered.signature_ok,
                    decrypted: std::mem::take(&mut answered.decrypted),
                });
                return v2::faults::respond(answered, misbehaviour, &conn).await;
            }
            let processed = routes::process(&shared, &method, &path_and_query, &parts.headers, &body);
            (body.to_vec(), processed)
        }
        Err(error) => (
            Vec::new(),
            routes::Processed {
                reply: Reply::error(StatusCode::BAD_REQUEST, "PARAM_ERROR", format!("cannot read the body: {error}")),
                authorization_ok: false,
                decrypted: Vec::new(),
            },
        ),
    };
    let reply = match &misbehaviour {
        Some(Misbehaviour::ServerError) => {
            Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR", "系统错误，请稍后重试")
        }
        Some(Misbehaviour::FrequencyLimited) => {
            Reply::error(StatusCode::TOO_MANY_REQUESTS, "FREQUENCY_LIMITED", "频率超限，请降低请求频率")
        }
        Some(Misbehaviour::SignedBody(body) | Misbehaviour::ForgedBody(body)) => {
            Reply::Raw(StatusCode::OK, body.clone())
        }
        Some(Misbehaviour::Oversized(len)) => {
            Reply::Json(StatusCode::OK, serde_json::json!({ "padding": "x".repeat(*len) }))
        }
        _ => processed.reply,
    };
    let public_key_id = shared.keys.public_key_id();
    let names_public_key =
        parts.headers.get("Wechatpay-Serial").is_some_and(|serial| serial.as_bytes() == public_key_id.as_bytes());
    let signer = {
        let mut state = shared.lock();
        state.record(RecordedRequest {
            method,
            path_and_query,
            headers: parts.headers,
            body,
            authorization_ok: processed.authorization_ok,
            decrypted: processed.decrypted,
        });
        match (state.switching, names_public_key) {
            (true, true) => Signer::PublicKey,
            (true, false) => Signer::Platform,
            (false, _) => state.signer,
        }
    };
    if let Some(response) = respond::interrupt(misbehaviour.as_ref(), &conn).await {
        return response;
    }
    let flaw = match &misbehaviour {
        Some(Misbehaviour::BadSignature | Misbehaviour::ForgedBody(_)) => Flaw::BadSignature,
        Some(Misbehaviour::StaleTimestamp) => Flaw::StaleTimestamp,
        Some(Misbehaviour::UnknownSerial) => Flaw::UnknownSerial,
        Some(Misbehaviour::SignTest) => Flaw::SignTest,
        Some(Misbehaviour::MissingHeaders) => Flaw::MissingSignature,
        _ => Flaw::None,
    };
    let delivery = respond::delivery(misbehaviour.as_ref());
    respond::respond(&shared.keys, signer, reply, flaw, delivery)
}

/// The nonces of recent requests, each with when it was received. A replayed request is refused
/// by its nonce while its timestamp could still pass the clock check (within 300 s of the time it
/// was first received), so a nonce is forgotten 600 s after it arrived; at most [`MAX_NONCES`]
/// are held (the oldest forgotten first).
#[derive(Default)]
pub(crate) struct Nonces {
    seen: HashSet<String>,
    order: VecDeque<(Instant, String)>,
}

impl Nonces {
    /// `false` when `nonce` was seen (a replay).
    pub(crate) fn insert(&mut self, nonce: String) -> bool {
        let now = Instant::now();
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < Duration::from_secs(600) && self.order.len() < MAX_NONCES {
                break;
            }
            if let Some((_, old)) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        if !self.seen.insert(nonce.clone()) {
            return false;
        }
        self.order.push_back((now, nonce));
        true
    }
}

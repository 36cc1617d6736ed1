//! A WeChat Pay APIv3 server for the integration tests, on 127.0.0.1.
//!
//! It checks requests the way WeChat Pay does (signature, merchant, serial, clock, nonce replay,
//! sensitive fields), answers the routes the tests need with realistic canned JSON, signs every response,
//! and can misbehave on demand. Its crypto is RustCrypto (`rsa`, `sha1`, `sha2`, `aes-gcm`), independent
//! of the SDK's aws-lc-rs. Keys: `tests/fixtures/keys/` (test-only).
//!
//! Use from a test file with `mod server;`.

// Each integration test binary compiles this module and uses only part of it: without this, every
// binary would warn about the parts that it happens not to use.
#![allow(dead_code)]

mod auth;
pub mod bills;
mod conn;
mod crypto;
pub mod guomi;
pub mod generic;
pub mod keys;
mod multipart;
mod notify;
mod routes;
mod samples;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{HeaderMap, HeaderValue, StatusCode};

// Re-exported for the tests; a binary that sends no notification would call this import unused.
#[allow(unused_imports)]
pub use samples::{sample_refund, sample_transaction};
#[allow(unused_imports)]
pub use routes::{MISSING_RESOURCE_PREFIX, UNKNOWN_ORDER_PREFIX};

use conn::{Conn, KillableListener};
use routes::Reply;

/// Which key signs responses and notifications; `Wechatpay-Serial` is its id or serial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The WeChat Pay public key, `keys::PUBLIC_KEY_ID`.
    PublicKey,
    /// `platform_cert.pem`, `keys::PLATFORM_SERIAL`.
    Platform,
    /// `platform2_cert.pem`, `keys::PLATFORM2_SERIAL`.
    Platform2,
    /// The SM2 WeChat Pay public key, `keys::SM2_PUBLIC_KEY_ID` (national cryptography: answers
    /// signed `WECHATPAY2-SM2-WITH-SM3`, notifications sealed `AEAD_SM4_GCM`).
    Sm2PublicKey,
    /// `sm2/platform_cert.pem`, `keys::SM2_PLATFORM_SERIAL`.
    Sm2Platform,
}

/// A platform certificate `/v3/certificates` can list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertChoice {
    Platform,
    Platform2,
    /// Expired on 2025-01-01, `keys::PLATFORM_EXPIRED_SERIAL`.
    Expired,
    /// The SM2 platform certificate, listed for `?algorithm_type=SM2` (sealed `AEAD_SM4_GCM`).
    Sm2Platform,
}

#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub signer: Signer,
    /// What `/v3/certificates` lists, in this order.
    pub certificates: Vec<CertChoice>,
    /// `false`: `/v3/certificates` answers 404 `RESOURCE_NOT_EXISTS`, as for a merchant on public keys only.
    pub certificates_available: bool,
    /// `Some(docs tree)`: every request is answered from that tree's IR (see `generic.rs`; the
    /// crate's own is `generic::specs()`) instead of by the hand-written routes.
    pub generic: Option<std::path::PathBuf>,
    /// The merchant is switching from platform certificates to the public key: as WeChat Pay
    /// does then, an answer is signed with the public key when the request's `Wechatpay-Serial`
    /// names it, and with the platform certificate (`Signer::Platform`) otherwise, the header
    /// absent included (`signer` is not used).
    pub switching: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            signer: Signer::Platform,
            certificates: vec![CertChoice::Platform],
            certificates_available: true,
            generic: None,
            switching: false,
        }
    }
}

/// A way for the server to answer wrongly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// `Wechatpay-Signature` is a valid signature, but of different bytes.
    BadSignature,
    /// `Wechatpay-Timestamp` 10 minutes ago, validly signed.
    StaleTimestamp,
    /// `Wechatpay-Serial` is `keys::UNKNOWN_SERIAL` (the signature is by the configured signer).
    UnknownSerial,
    /// A signature-probe: `WECHATPAY/SIGNTEST/` followed by Base64 junk.
    SignTest,
    /// No `Wechatpay-Signature` header.
    MissingHeaders,
    /// 500 with `{"code":"SYSTEM_ERROR",…}` (signed), whatever the request.
    ServerError,
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

/// A request as the server received it.
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
    /// `(JSON path, plaintext)` of every sensitive field the server decrypted, e.g.
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
    /// `Wechatpay-Signature-Type` is not `WECHATPAY2-SHA256-RSA2048` (the signature is valid RSA).
    WrongSignatureType,
    /// `Wechatpay-Serial` is `keys::UNKNOWN_SERIAL`.
    UnknownSerial,
    /// Signature `WECHATPAY/SIGNTEST/…`.
    SignTest,
    /// Use this notification `id` (for duplicate-delivery tests).
    Id(String),
}

pub struct TestServer {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

pub(crate) struct Shared {
    base_url: String,
    state: Mutex<ServerState>,
}

pub(crate) struct ServerState {
    signer: Signer,
    switching: bool,
    certificates: Vec<CertChoice>,
    certificates_available: bool,
    pub(crate) generic: Option<std::path::PathBuf>,
    queue: VecDeque<Misbehaviour>,
    always: Option<Misbehaviour>,
    /// Misbehaviours for one path (query excluded), applied to every request to it.
    on_path: HashMap<String, Misbehaviour>,
    requests: Vec<RecordedRequest>,
    /// `false`: requests are counted, not kept (long load runs).
    recording: bool,
    count: usize,
    pub(crate) nonces: HashSet<String>,
    pub(crate) corrupt_bill: bool,
    pub(crate) truncate_bill: bool,
    /// The size of the bill files the bill APIs announce from now on (`None`: a small realistic one).
    pub(crate) bill_size: Option<u64>,
    /// Bill files by download token.
    pub(crate) bills: HashMap<String, BillBody>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, ServerState> {
        // A panicking test thread must not take the server down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Bodies above this are refused (uploads in the tests are far smaller).
const MAX_BODY: usize = 16 * 1024 * 1024;

impl TestServer {
    /// Binds 127.0.0.1 on a free port and serves on the current tokio runtime until dropped.
    pub async fn start(config: ServerConfig) -> TestServer {
        // Parse the fixtures now, so a broken checkout fails here rather than inside a request.
        crypto::material();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|error| panic!("test server: cannot bind 127.0.0.1:0: {error}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("test server: no local address: {error}"))
            .port();
        let shared = Arc::new(Shared {
            base_url: format!("http://127.0.0.1:{port}/"),
            state: Mutex::new(ServerState {
                signer: config.signer,
                switching: config.switching,
                certificates: config.certificates,
                certificates_available: config.certificates_available,
                generic: config.generic,
                queue: VecDeque::new(),
                always: None,
                on_path: HashMap::new(),
                requests: Vec::new(),
                recording: true,
                count: 0,
                nonces: HashSet::new(),
                corrupt_bill: false,
                truncate_bill: false,
                bill_size: None,
                bills: HashMap::new(),
            }),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<Conn>();
            let _ = axum::serve(KillableListener(listener), service).await;
        });
        TestServer { shared, task }
    }

    /// `http://127.0.0.1:PORT/` (with the trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Misbehave on the next request only; several calls queue, one per request. Certificate
    /// downloads (`/v3/certificates`, which a client may make at any time) are not affected: use
    /// [`TestServer::misbehave_on`] for them.
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

    /// Which key signs from now on (rotation).
    pub fn set_signer(&self, signer: Signer) {
        self.shared.lock().signer = signer;
    }

    /// Whether the merchant is switching to the public key from now on (see
    /// [`ServerConfig::switching`]).
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
    /// the server's memory.
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
    /// `keys::APIV3_KEY` (AAD and `original_type`: the event family in lower case, e.g. `transaction`).
    pub fn notification(
        &self,
        event_type: &str,
        resource_type: &str,
        payload: &serde_json::Value,
        tamper: Tamper,
    ) -> (HeaderMap, Vec<u8>) {
        let signer = self.shared.lock().signer;
        notify::build(signer, event_type, resource_type, payload, &tamper)
    }

    /// POSTs such a notification to `url` and returns the status and body of the answer.
    /// Panics when the POST itself fails (nothing listening, connection reset).
    pub async fn deliver(
        &self,
        url: &str,
        event_type: &str,
        resource_type: &str,
        payload: &serde_json::Value,
        tamper: Tamper,
    ) -> (u16, String) {
        let (headers, body) = self.notification(event_type, resource_type, payload, tamper);
        // No proxy: the receiver is local, whatever the environment says.
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap_or_else(|error| panic!("deliver: cannot build an HTTP client: {error}"));
        let response = client
            .post(url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|error| panic!("deliver: POST {url} failed: {error}"));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_else(|error| {
            panic!("deliver: reading the answer from {url} failed: {error}")
        });
        (status, text)
    }
}

impl Drop for TestServer {
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

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let misbehaviour = shared.next_misbehaviour(parts.uri.path());
    let method = parts.method.as_str().to_owned();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let (body, processed) = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => {
            let processed =
                routes::process(&shared, &method, &path_and_query, &parts.headers, &body);
            (body.to_vec(), processed)
        }
        Err(error) => (
            Vec::new(),
            routes::Processed {
                reply: Reply::error(
                    StatusCode::BAD_REQUEST,
                    "PARAM_ERROR",
                    format!("cannot read the body: {error}"),
                ),
                authorization_ok: false,
                decrypted: Vec::new(),
            },
        ),
    };
    let reply = match &misbehaviour {
        Some(Misbehaviour::ServerError) => Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SYSTEM_ERROR",
            "系统错误，请稍后重试",
        ),
        Some(Misbehaviour::SignedBody(body) | Misbehaviour::ForgedBody(body)) => {
            Reply::Raw(StatusCode::OK, body.clone())
        }
        Some(Misbehaviour::Oversized(len)) => Reply::Json(
            StatusCode::OK,
            serde_json::json!({ "padding": "x".repeat(*len) }),
        ),
        _ => processed.reply,
    };
    let names_public_key =
        parts.headers.get("Wechatpay-Serial").is_some_and(|serial| serial.as_bytes() == keys::PUBLIC_KEY_ID.as_bytes());
    let signer = {
        let mut state = shared.lock();
        state.count += 1;
        if state.recording {
            state.requests.push(RecordedRequest {
                method,
                path_and_query,
                headers: parts.headers,
                body,
                authorization_ok: processed.authorization_ok,
                decrypted: processed.decrypted,
            });
        }
        match (state.switching, names_public_key) {
            (true, true) => Signer::PublicKey,
            (true, false) => Signer::Platform,
            (false, _) => state.signer,
        }
    };
    let flaw = match &misbehaviour {
        Some(Misbehaviour::DropConnection) => {
            conn.kill();
            return StatusCode::OK.into_response();
        }
        Some(Misbehaviour::Slow(duration)) => {
            tokio::time::sleep(*duration).await;
            Flaw::None
        }
        Some(Misbehaviour::HtmlPage(status)) => {
            let page = format!("<html><body><h1>{status}</h1>upstream unavailable</body></html>");
            return (*status, [("content-type", "text/html")], page).into_response();
        }
        Some(Misbehaviour::Redirect(location)) => {
            return (StatusCode::FOUND, [("location", location.as_str())]).into_response();
        }
        Some(Misbehaviour::BadSignature | Misbehaviour::ForgedBody(_)) => Flaw::BadSignature,
        Some(Misbehaviour::StaleTimestamp) => Flaw::StaleTimestamp,
        Some(Misbehaviour::UnknownSerial) => Flaw::UnknownSerial,
        Some(Misbehaviour::SignTest) => Flaw::SignTest,
        Some(Misbehaviour::MissingHeaders) => Flaw::MissingSignature,
        _ => Flaw::None,
    };
    let delivery = match misbehaviour {
        Some(Misbehaviour::DropMidBody) => Delivery::DropMidBody,
        Some(Misbehaviour::Drip { chunk, pause }) => Delivery::Drip { chunk, pause },
        _ => Delivery::Whole,
    };
    respond(signer, reply, flaw, delivery)
}

/// How the body of an answer goes out.
enum Delivery {
    Whole,
    DropMidBody,
    Drip { chunk: usize, pause: Duration },
}

fn respond(signer: Signer, reply: Reply, flaw: Flaw, delivery: Delivery) -> Response {
    let (status, body, content_type, signed) = match reply {
        Reply::Json(status, value) => (
            status,
            BillBody::Bytes(serde_json::to_vec(&value).unwrap_or_default()),
            "application/json; charset=utf-8",
            true,
        ),
        Reply::Raw(status, bytes) => (
            status,
            BillBody::Bytes(bytes),
            "application/json; charset=utf-8",
            true,
        ),
        Reply::NoContent => (StatusCode::NO_CONTENT, BillBody::Bytes(Vec::new()), "", true),
        Reply::File(body) => (StatusCode::OK, body, "application/octet-stream", false),
    };
    let mut headers = HeaderMap::new();
    let mut insert = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    insert("request-id", &request_id());
    if !content_type.is_empty() {
        insert("content-type", content_type);
    }
    if signed {
        for (name, value) in sign_headers(signer, &body.to_vec(), flaw) {
            insert(name, &value);
        }
    }
    insert("content-length", &body.len().to_string());
    let chunks = body.chunks();
    let body = match delivery {
        Delivery::Whole => axum::body::Body::from_stream(futures_util::stream::iter(
            chunks.map(Ok::<_, std::io::Error>),
        )),
        Delivery::DropMidBody => {
            // Half of the bytes, then an error: hyper closes the connection short of Content-Length.
            let half = (body.len() / 2) as usize;
            let mut all = Vec::new();
            for chunk in chunks {
                all.extend_from_slice(&chunk);
                if all.len() >= half {
                    break;
                }
            }
            all.truncate(half);
            axum::body::Body::from_stream(futures_util::stream::iter([
                Ok(bytes::Bytes::from(all)),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "dropped mid-body")),
            ]))
        }
        Delivery::Drip { chunk, pause } => {
            let bytes: Vec<u8> = chunks.flat_map(|chunk| chunk.to_vec()).collect();
            let pieces: Vec<bytes::Bytes> =
                bytes.chunks(chunk.max(1)).map(bytes::Bytes::copy_from_slice).collect();
            axum::body::Body::from_stream(futures_util::stream::unfold(
                (pieces.into_iter(), true),
                move |(mut pieces, first)| async move {
                    let piece = pieces.next()?;
                    if !first {
                        tokio::time::sleep(pause).await;
                    }
                    Some((Ok::<_, std::io::Error>(piece), (pieces, false)))
                },
            ))
        }
    };
    (status, headers, body).into_response()
}

/// A body as the server holds it: whole, or a bill generated from a repeated block (hundreds of
/// megabytes without holding them).
#[derive(Clone, Debug)]
pub(crate) enum BillBody {
    Bytes(Vec<u8>),
    Repeated {
        head: bytes::Bytes,
        block: bytes::Bytes,
        count: u64,
        tail: bytes::Bytes,
    },
    /// A body sealed with GCM as it streams, its tag at the end (`bills.rs`).
    Sealed {
        plain: Box<BillBody>,
        cipher: bills::BillCipher,
        key: Vec<u8>,
        nonce: [u8; 12],
    },
}

impl BillBody {
    pub(crate) fn len(&self) -> u64 {
        match self {
            BillBody::Bytes(bytes) => bytes.len() as u64,
            BillBody::Repeated { head, block, count, tail } => {
                head.len() as u64 + block.len() as u64 * count + tail.len() as u64
            }
            BillBody::Sealed { plain, .. } => plain.len() + 16,
        }
    }

    /// The bytes in pieces (a repeated block is shared, not copied).
    pub(crate) fn chunks(&self) -> Box<dyn Iterator<Item = bytes::Bytes> + Send> {
        match self {
            BillBody::Bytes(bytes) => Box::new(std::iter::once(bytes::Bytes::from(bytes.clone()))),
            BillBody::Repeated { head, block, count, tail } => {
                let block = block.clone();
                Box::new(
                    std::iter::once(head.clone())
                        .chain((0..*count).map(move |_| block.clone()))
                        .chain(std::iter::once(tail.clone())),
                )
            }
            BillBody::Sealed { plain, cipher, key, nonce } => bills::seal_stream(*cipher, key, nonce, plain.chunks()),
        }
    }

    /// The whole body (for signing small answers).
    pub(crate) fn to_vec(&self) -> Vec<u8> {
        self.chunks().flat_map(|chunk| chunk.to_vec()).collect()
    }
}

/// How to spoil the signature headers of a response or notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flaw {
    None,
    BadSignature,
    StaleTimestamp,
    UnknownSerial,
    SignTest,
    MissingSignature,
}

/// `Wechatpay-Timestamp`, `-Nonce`, `-Serial` and `-Signature` (RSA-SHA256 over
/// `TIMESTAMP\nNONCE\nBODY\n`) for `body`, spoiled as `flaw` says.
pub(crate) fn sign_headers(signer: Signer, body: &[u8], flaw: Flaw) -> Vec<(&'static str, String)> {
    let key = crypto::material().signer(signer);
    let mut timestamp = crypto::unix_now();
    if flaw == Flaw::StaleTimestamp {
        timestamp -= 600;
    }
    let nonce = crypto::random_alphanumeric(32);
    let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    if flaw == Flaw::BadSignature {
        message.extend_from_slice(b" (not the body that was sent)");
    }
    message.push(b'\n');
    let signature = match flaw {
        Flaw::SignTest => format!(
            "WECHATPAY/SIGNTEST/{}",
            crypto::base64(&crypto::random_bytes(192))
        ),
        _ => crypto::sign(key, &message),
    };
    let serial = match flaw {
        Flaw::UnknownSerial => keys::UNKNOWN_SERIAL,
        _ => key.id,
    };
    let mut headers = vec![
        ("wechatpay-timestamp", timestamp.to_string()),
        ("wechatpay-nonce", nonce),
        ("wechatpay-serial", serial.to_owned()),
    ];
    // Answers name their scheme, as notifications do.
    let scheme = if key.is_sm2() { guomi::SCHEME } else { auth::SCHEME };
    headers.push(("wechatpay-signature-type", scheme.to_owned()));
    if flaw != Flaw::MissingSignature {
        headers.push(("wechatpay-signature", signature));
    }
    headers
}

/// A unique `Request-ID`, shaped like the real ones (hex).
pub(crate) fn request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "08{}{count:08X}",
        crypto::hex_upper(&crypto::random_bytes(12))
    )
}

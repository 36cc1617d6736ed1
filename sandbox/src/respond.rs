//! From a reply to the bytes on the wire: signed headers (spoiled on demand), the body whole,
//! dripped or cut mid-way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::conn::Conn;
use crate::crypto;
use crate::encrypted_bills::{seal_stream, BillCipher};
use crate::keys::Keys;
use crate::routes::Reply;
use crate::{Misbehaviour, Signer};

/// How the body of an answer goes out.
pub(crate) enum Delivery {
    Whole,
    DropMidBody,
    Drip { chunk: usize, pause: Duration },
}

/// The faults that act on the exchange rather than on the answer, for APIv3 and APIv2 alike: a
/// dropped connection, a gateway's HTML page or a redirect (the response to send instead), or
/// latency (waited here; the answer goes out after it).
pub(crate) async fn interrupt(misbehaviour: Option<&Misbehaviour>, conn: &Conn) -> Option<Response> {
    match misbehaviour? {
        Misbehaviour::DropConnection => {
            conn.kill();
            Some(StatusCode::OK.into_response())
        }
        Misbehaviour::Slow(duration) => {
            tokio::time::sleep(*duration).await;
            None
        }
        Misbehaviour::HtmlPage(status) => {
            let page = format!("<html><body><h1>{status}</h1>upstream unavailable</body></html>");
            Some((*status, [("content-type", "text/html")], page).into_response())
        }
        Misbehaviour::Redirect(location) => {
            Some((StatusCode::FOUND, [("location", location.as_str())]).into_response())
        }
        _ => None,
    }
}

/// How `misbehaviour` has the body go out.
pub(crate) fn delivery(misbehaviour: Option<&Misbehaviour>) -> Delivery {
    match misbehaviour {
        Some(Misbehaviour::DropMidBody) => Delivery::DropMidBody,
        Some(Misbehaviour::Drip { chunk, pause }) => Delivery::Drip { chunk: *chunk, pause: *pause },
        _ => Delivery::Whole,
    }
}

pub(crate) fn respond(keys: &Keys, signer: Signer, reply: Reply, flaw: Flaw, delivery: Delivery) -> Response {
    let (status, body, content_type, signed) = match reply {
        Reply::Json(status, value) => (
            status,
            Body::Bytes(serde_json::to_vec(&value).unwrap_or_default()),
            "application/json; charset=utf-8",
            true,
        ),
        Reply::Raw(status, bytes) => (status, Body::Bytes(bytes), "application/json; charset=utf-8", true),
        Reply::NoContent => (StatusCode::NO_CONTENT, Body::Bytes(Vec::new()), "", true),
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
        for (name, value) in sign_headers(keys, signer, &body.to_vec(), flaw) {
            insert(name, &value);
        }
    }
    insert("content-length", &body.len().to_string());
    (status, headers, deliver(&body, delivery)).into_response()
}

/// The body as `delivery` sends it: whole, cut after half of it, or dripped.
pub(crate) fn deliver(body: &Body, delivery: Delivery) -> axum::body::Body {
    let chunks = body.chunks();
    match delivery {
        Delivery::Whole => {
            axum::body::Body::from_stream(futures_util::stream::iter(chunks.map(Ok::<_, std::io::Error>)))
        }
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
            let pieces: Vec<bytes::Bytes> = bytes.chunks(chunk.max(1)).map(bytes::Bytes::copy_from_slice).collect();
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
    }
}

/// A body as the sandbox holds it: whole, a bill generated from a repeated block (hundreds of
/// megabytes without holding them), or a bill encrypted as it streams.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    Bytes(Vec<u8>),
    Repeated {
        head: bytes::Bytes,
        block: bytes::Bytes,
        count: u64,
        tail: bytes::Bytes,
    },
    /// `plain` sealed with GCM as it streams, its tag at the end (`encrypted_bills.rs`).
    Sealed {
        plain: Box<Body>,
        cipher: BillCipher,
        key: Vec<u8>,
        nonce: [u8; 12],
    },
}

impl Body {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::Repeated { head, block, count, tail } => {
                head.len() as u64 + block.len() as u64 * count + tail.len() as u64
            }
            Body::Sealed { plain, .. } => plain.len() + 16,
        }
    }

    /// The bytes in pieces (a repeated block is shared, not copied).
    pub(crate) fn chunks(&self) -> Box<dyn Iterator<Item = bytes::Bytes> + Send> {
        match self {
            Body::Bytes(bytes) => Box::new(std::iter::once(bytes::Bytes::from(bytes.clone()))),
            Body::Repeated { head, block, count, tail } => {
                let block = block.clone();
                Box::new(
                    std::iter::once(head.clone())
                        .chain((0..*count).map(move |_| block.clone()))
                        .chain(std::iter::once(tail.clone())),
                )
            }
            Body::Sealed { plain, cipher, key, nonce } => seal_stream(*cipher, key, nonce, plain.chunks()),
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

/// `Wechatpay-Timestamp`, `-Nonce`, `-Serial`, `-Signature` (RSA-SHA256, or SM2-with-SM3 for an
/// SM2 key, over `TIMESTAMP\nNONCE\nBODY\n`) and `-Signature-Type` for `body`, spoiled as `flaw`
/// says.
pub(crate) fn sign_headers(keys: &Keys, signer: Signer, body: &[u8], flaw: Flaw) -> Vec<(&'static str, String)> {
    let key = keys.signer(signer);
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
        Flaw::SignTest => format!("WECHATPAY/SIGNTEST/{}", crypto::base64(&crypto::random_bytes(192))),
        _ => crypto::sign(key, &message),
    };
    let serial = match flaw {
        Flaw::UnknownSerial => crate::keys::UNKNOWN_SERIAL.to_owned(),
        _ => key.id.clone(),
    };
    let mut headers =
        vec![("wechatpay-timestamp", timestamp.to_string()), ("wechatpay-nonce", nonce), ("wechatpay-serial", serial)];
    // WeChat Pay names the scheme on answers too, as on notifications (the Python SDK refuses an
    // answer without it).
    let scheme = if key.is_sm2() { crate::guomi::SCHEME } else { crate::auth::SCHEME };
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
    format!("08{}{count:08X}", crypto::hex_upper(&crypto::random_bytes(12)))
}

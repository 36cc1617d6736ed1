//! The one error type of the client: one variant per thing a caller can act on, with the context
//! (HTTP status, WeChat Pay's `code`, `Request-ID`) kept and secrets never included.

use http::StatusCode;
use wechatpay_generated::runtime::{BuildError, DecodeError};

use crate::keys::{CryptoError, KeyError};
use crate::wechatpay_keys::VerifyError;

/// Everything a call through [`Client`](crate::Client) can fail with.
///
/// Neither `Display` nor `Debug` ever shows a key, a signature input or the plain text of a
/// sensitive field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// WeChat Pay (or something in between) answered with a non-2xx status.
    #[error("{}", api_summary(*.status, .code, .message, .request_id, .body))]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// WeChat Pay's error code, e.g. `RESOURCE_NOT_EXISTS`, `PARAM_ERROR`; empty when the body
        /// was not a WeChat Pay error document.
        code: String,
        /// WeChat Pay's human-readable message (often Chinese).
        message: String,
        /// The optional `detail` object (e.g. the offending `field` and `location`).
        detail: Option<Box<serde_json::Value>>,
        /// The `Request-ID` header, to quote to WeChat Pay support.
        request_id: Option<String>,
        /// The raw body (at most 16 KiB), kept when the answer was not a verified WeChat Pay
        /// error document: an unsigned page from a proxy or gateway, an error that could not be
        /// verified for lack of a key, or a body that does not parse. `None` for a verified
        /// error document.
        body: Option<Box<str>>,
    },
    /// The request could not be sent or its answer could not be read (connection refused, reset,
    /// TLS, a malformed HTTP answer).
    #[error("sending {path}: {source}")]
    Transport {
        /// The request's path template, e.g. `/v3/pay/transactions/id/{transaction_id}`.
        path: String,
        /// What the HTTP client reported.
        #[source]
        source: reqwest::Error,
    },
    /// No answer within the configured timeout. For a non-idempotent request (e.g. a `POST`
    /// creating an order) the outcome is unknown: query before trying again.
    #[error("timed out waiting for {path}")]
    Timeout {
        /// The request's path template.
        path: String,
        /// What the HTTP client reported.
        #[source]
        source: reqwest::Error,
    },
    /// A signed answer failed verification: it may not come from WeChat Pay and was not parsed.
    #[error("response verification failed{}: {source}", request_id_suffix(.request_id))]
    Verify {
        /// Why.
        #[source]
        source: VerifyError,
        /// The `Request-ID` header, when there was one.
        request_id: Option<String>,
    },
    /// The request builder was missing required fields.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The request body could not be serialised.
    #[error("cannot serialise the request body: {0}")]
    Encode(#[source] serde_json::Error),
    /// A verified answer did not match the documented response shape, even read leniently
    /// (see [`Decode`](wechatpay_generated::runtime::Decode)): e.g. an object where a string
    /// belongs. The error names the JSON path.
    #[error("cannot decode the response{}: {source}", request_id_suffix(.request_id))]
    Decode {
        /// What did not match, and where (its JSON path).
        #[source]
        source: Box<DecodeError>,
        /// The raw (verified) body, for diagnosis.
        body: String,
        /// The `Request-ID` header.
        request_id: Option<String>,
    },
    /// Encrypting a sensitive field or decrypting a value failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A key could not be read or used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A downloaded file does not have the digest the bill API announced.
    #[error("downloaded file digest mismatch: expected {expected}, got {actual}")]
    Digest {
        /// The announced digest (`hash_value`), lower-case hex.
        expected: String,
        /// The digest of the bytes received, lower-case hex.
        actual: String,
    },
    /// The bill API announced a digest algorithm this client does not compute.
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedDigest(String),
    /// The request has sensitive fields to encrypt but no WeChat Pay key is available: configure
    /// a WeChat Pay public key, platform certificates, or the APIv3 key to download them.
    #[error("no WeChat Pay key to encrypt sensitive fields with{}", serial_suffix(.serial))]
    NoEncryptionKey {
        /// The key the request asked for (its own `Wechatpay-Serial`), if any.
        serial: Option<String>,
    },
    /// A header value or URL the request would need is not valid HTTP.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client configuration is unusable (bad URL, HTTP client setup).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// Writing a download to its destination failed.
    #[error("writing the download: {0}")]
    Io(#[from] std::io::Error),
}

fn request_id_suffix(request_id: &Option<String>) -> String {
    request_id.as_ref().map(|id| format!(" (Request-ID {id})")).unwrap_or_default()
}

fn api_summary(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &Option<String>,
    body: &Option<Box<str>>,
) -> String {
    let mut summary = format!("HTTP {status}{}", request_id_suffix(request_id));
    let details: Vec<&str> = [code, message].into_iter().filter(|part| !part.is_empty()).collect();
    if !details.is_empty() {
        summary.push_str(": ");
        summary.push_str(&details.join(" "));
    }
    if body.is_some() {
        summary.push_str(" [not a verified WeChat Pay error document]");
    }
    summary
}

fn serial_suffix(serial: &Option<String>) -> String {
    serial.as_ref().map(|serial| format!(" (asked for {serial})")).unwrap_or_default()
}

impl Error {
    /// The HTTP status of an [`Error::Api`], or of the failed exchange when the HTTP client knows it.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } => Some(*status),
            Error::Transport { source, .. } | Error::Timeout { source, .. } => source.status(),
            _ => None,
        }
    }

    /// WeChat Pay's error code (`Error::Api`), e.g. `ORDER_NOT_EXIST`.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } if !code.is_empty() => Some(code),
            _ => None,
        }
    }

    /// WeChat Pay's error message (`Error::Api`).
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Api { message, .. } if !message.is_empty() => Some(message),
            _ => None,
        }
    }

    /// The `Request-ID` of the answer that caused the error, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. }
            | Error::Verify { request_id, .. }
            | Error::Decode { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// Whether the request may have reached WeChat Pay without the caller learning the outcome
    /// (a timeout or a connection lost after sending): query before repeating a payment.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Timeout { source, .. } | Error::Transport { source, .. } => !source.is_connect(),
            Error::Api { status, .. } => status.is_server_error(),
            _ => false,
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    /// `Result<_, Error>` is returned everywhere: clippy's `result_large_err` limit is 128 bytes.
    #[test]
    fn error_stays_within_128_bytes() {
        assert!(std::mem::size_of::<Error>() <= 128, "{}", std::mem::size_of::<Error>());
    }

    #[test]
    fn api_errors_expose_status_code_and_request_id() {
        let error = Error::Api {
            status: StatusCode::NOT_FOUND,
            code: "RESOURCE_NOT_EXISTS".into(),
            message: "订单不存在".into(),
            detail: None,
            request_id: Some("08F1".into()),
            body: None,
        };
        assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(error.code(), Some("RESOURCE_NOT_EXISTS"));
        assert_eq!(error.request_id(), Some("08F1"));
        assert_eq!(error.to_string(), "HTTP 404 Not Found (Request-ID 08F1): RESOURCE_NOT_EXISTS 订单不存在");
        let proxy = Error::Api {
            status: StatusCode::BAD_GATEWAY,
            code: String::new(),
            message: String::new(),
            detail: None,
            request_id: None,
            body: Some("<html>".into()),
        };
        assert_eq!(proxy.to_string(), "HTTP 502 Bad Gateway [not a verified WeChat Pay error document]");
    }
}

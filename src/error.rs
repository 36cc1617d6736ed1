//! The one error type of the client: one variant per thing a caller can act on, with the context
//! (HTTP status, WeChat Pay's `code`, `Request-ID`) kept and secrets never included.

use std::fmt;

use http::StatusCode;
use wechatpay_generated::runtime::{BuildError, DecodeError, Deviation};

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
    ///
    /// `code`, `message` and `detail` come only from a **verified** WeChat Pay error document;
    /// anything else (an unsigned page from a proxy or gateway, an error that could not be verified
    /// for lack of a key, a body that does not parse) leaves them empty and keeps the raw `body`,
    /// which is then unverified: for diagnosis, never for decisions.
    #[error("{}", api_summary(*.status, .code, .message, .request_id, .body))]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// WeChat Pay's error code, e.g. `RESOURCE_NOT_EXISTS`, `PARAM_ERROR`; empty unless the
        /// body was a verified WeChat Pay error document.
        code: String,
        /// WeChat Pay's human-readable message (often Chinese); empty unless verified.
        message: String,
        /// The optional `detail` object (e.g. the offending `field` and `location`); `None` unless
        /// verified.
        detail: Option<Box<serde_json::Value>>,
        /// The `Request-ID` header, to quote to WeChat Pay support.
        request_id: Option<String>,
        /// The raw body (at most 16 KiB), **unverified**, kept when the answer was not a verified
        /// WeChat Pay error document. `None` for a verified error document.
        body: Option<Box<str>>,
    },
    /// The request could not be sent or its answer could not be read (connection refused, reset,
    /// TLS, a malformed HTTP answer).
    #[error("sending {path}: {source}")]
    Transport {
        /// The request's path template, e.g. `/v3/pay/transactions/id/{transaction_id}`.
        path: String,
        /// What the HTTP client reported, without the URL (whose query may hold sealed
        /// sensitive values and identifiers).
        #[source]
        source: reqwest::Error,
    },
    /// The request was tried on the primary host, where it may have taken effect (a `5xx`, a
    /// connection lost after sending), then on the backup host, which failed too. Whatever the
    /// backup attempt says, the outcome is unknown: query before trying a payment again.
    #[error("{first}; then, on the backup host: {backup}")]
    FailedOver {
        /// The primary host's failure.
        first: Box<Error>,
        /// The backup host's failure.
        backup: Box<Error>,
    },
    /// No answer within the configured timeouts. Unless no connection could be made, the outcome
    /// is unknown: query before trying a payment again.
    #[error("timed out waiting for {waiting_for} of {path}")]
    Timeout {
        /// The request's path template.
        path: String,
        /// What did not come in time.
        waiting_for: Waiting,
    },
    /// An answer's body was larger than the client holds in memory
    /// ([`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size); error bodies: 64 KiB).
    /// The request was answered, so its outcome is unknown. A bill too large for
    /// [`Client::download_bill`](crate::Client::download_bill) can be streamed with
    /// [`Client::download_bill_to`](crate::Client::download_bill_to).
    #[error("the answer to {path} (HTTP {status}) is larger than {limit} bytes{}", request_id_suffix(.request_id))]
    BodyTooLarge {
        /// The request's path template.
        path: String,
        /// The answer's status.
        status: StatusCode,
        /// The limit that was exceeded, in bytes.
        limit: u64,
        /// The `Request-ID` header, when there was one.
        request_id: Option<String>,
    },
    /// The answer was a redirect. WeChat Pay does not redirect API calls or bill downloads, and a
    /// signed request is never sent to another address: the redirect was not followed (or, with an
    /// HTTP client of your own that follows redirects, it was, and its answer is refused).
    #[error("{path} was answered with a redirect{}; not followed", location_suffix(.location))]
    Redirect {
        /// The request's path template.
        path: String,
        /// Where it pointed, when known.
        location: Option<String>,
    },
    /// A path parameter would change which endpoint the request goes to (`.`, `..` or empty):
    /// refused before anything was sent.
    #[error("the path parameter `{name}` {problem}: refused, as it would send the request to another endpoint")]
    PathParameter {
        /// The parameter's name in the path template, e.g. `out_refund_no`.
        name: String,
        /// What is wrong with its value.
        problem: &'static str,
    },
    /// A bill download address is not on an allowed host
    /// ([`ClientBuilder::bill_download_origins`](crate::ClientBuilder::bill_download_origins);
    /// by default WeChat Pay's own `https` hosts): the signed request was not sent.
    #[error("bill download from {origin} refused: not an allowed origin (ClientBuilder::bill_download_origins)")]
    DownloadOrigin {
        /// The address's origin, e.g. `https://example.com`.
        origin: String,
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
    /// APIv2: the answer's `return_code` is not `SUCCESS`: WeChat Pay did not take the request
    /// (a bad signature, a malformed parameter, …). Such an answer is unsigned by design; the
    /// request did not take effect.
    #[error("APIv2 {path}: return_code {return_code}{}", message_suffix(.return_msg))]
    V2Return {
        /// The request's path, e.g. `/pay/orderquery`.
        path: String,
        /// `FAIL` (or whatever else came instead of `SUCCESS`).
        return_code: String,
        /// WeChat Pay's message.
        return_msg: String,
    },
    /// APIv2: the (verified, when the page says answers are signed) answer reports a business
    /// failure: `result_code` `FAIL` with WeChat Pay's `err_code` and `err_code_des`. Some codes
    /// mean the outcome is not known yet ([`Error::outcome_unknown`]: `SYSTEMERROR`,
    /// `BANKERROR`, `USERPAYING`, …): query before anything else.
    #[error("APIv2 {path}: {err_code}{}", message_suffix(.err_code_des))]
    V2Result {
        /// The request's path.
        path: String,
        /// WeChat Pay's `err_code` (or `error_code`).
        err_code: String,
        /// WeChat Pay's `err_code_des` (or `error_code_des`, or `return_msg`).
        err_code_des: String,
    },
    /// The request builder was missing required fields.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The request body could not be serialised.
    #[error("cannot serialise the request body: {0}")]
    Encode(#[source] serde_json::Error),
    /// A verified body could not be read at all: a certificate list that is not one, or a
    /// reader that cannot make a default (typed answers always decode, see
    /// [`Reply::deviations`](crate::Reply::deviations)); the error names the JSON path. The
    /// request was accepted: its outcome is unknown to the caller, not failed.
    #[error("cannot decode the response{}: {source}", request_id_suffix(.request_id))]
    Decode {
        /// What did not match, and where (its JSON path).
        #[source]
        source: Box<DecodeError>,
        /// The raw (verified) body, for diagnosis: its first 16 KiB ([`Debug`] shows only its
        /// shape, with every value replaced by `…`).
        body: KeptBody,
        /// The `Request-ID` header.
        request_id: Option<String>,
    },
    /// [`Reply::strict`](crate::Reply::strict): the verified answer differs from its
    /// documentation, so some values hold defaults (a `0` amount, an empty state). The request
    /// **succeeded** at WeChat Pay: the outcome counts as unknown, so query it rather than treat
    /// it as failed.
    #[error("the answer{} differs from its documentation: {}", request_id_suffix(.request_id), deviations_summary(.deviations))]
    Deviated {
        /// Where, and what was there instead (never the values).
        deviations: Vec<Deviation>,
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
    /// A bill file that arrived gzip-compressed (`tar_type=GZIP`) does not decompress: cut
    /// short or corrupt. Discard what was received.
    #[error("the gzip-compressed bill does not decompress: {0}")]
    Gzip(#[source] std::io::Error),
    /// A bill file does not read as WeChat Pay's bill layout ([`crate::bill::BillParser`]).
    #[error(transparent)]
    Bill(#[from] crate::bill::BillError),
    /// The bill API announced a digest algorithm this client does not compute (it computes
    /// `SHA1`, `SHA256` and `SM3`): refused before the download started.
    #[error("unsupported digest algorithm {0:?} (supported: SHA1, SHA256, SM3)")]
    UnsupportedDigest(String),
    /// An encrypted bill file does not open: an unknown algorithm or a key of the wrong length
    /// (before the download), or, at its end, a tag that does not match or a file cut short of its
    /// tag. Discard what was received.
    #[error(transparent)]
    BillDecrypt(#[from] crate::download::BillDecryptError),
    /// The merchant's [`Signer`](crate::signer::Signer) or [`Decrypter`](crate::signer::Decrypter)
    /// failed (a key held outside the process that did not answer): nothing was sent.
    #[error("the merchant key failed: {0}")]
    Signer(#[source] crate::signer::SignerError),
    /// The request has sensitive fields to encrypt but no WeChat Pay key is available: configure
    /// a WeChat Pay public key, platform certificates, or the APIv3 key to download them.
    #[error("no WeChat Pay key to encrypt sensitive fields with{}", serial_suffix(.serial))]
    NoEncryptionKey {
        /// The key the request asked for (its own `Wechatpay-Serial`), if any.
        serial: Option<String>,
    },
    /// No WeChat Pay key could verify an answer (no public key, and no valid platform certificate
    /// after waiting for a download: a wrong APIv3 key, `/v3/certificates` failing): the request
    /// was **not sent**, since its answer could not be trusted, nor could the query that would
    /// follow it. Nothing happened at WeChat Pay.
    #[error("no WeChat Pay key to verify answers with: the request was not sent")]
    NoVerificationKey,
    /// A verified `/v3/certificates` answer listed certificates of which none opened with the
    /// APIv3 key or was valid now (a wrong APIv3 key is the usual cause): the certificates held
    /// before are kept.
    #[error("none of the {listed} platform certificates listed opens with the APIv3 key and is valid now (a wrong APIv3 key?)")]
    NoUsableCertificate {
        /// How many certificates the answer listed.
        listed: usize,
    },
    /// A request's own `base_uri` names a host the client does not send signed requests to:
    /// only `https` WeChat Pay hosts and the client's own base and backup URLs. Not sent.
    #[error("base URI {origin} refused: not a WeChat Pay https host nor the client's base URL")]
    BaseUri {
        /// The refused origin, e.g. `http://example.com`.
        origin: String,
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

impl Error {
    /// A signer's or decrypter's failure: the in-process [`MerchantKey`](crate::MerchantKey)'s
    /// stays the [`Error::Crypto`] it is.
    pub(crate) fn from_signer(error: crate::signer::SignerError) -> Self {
        match error.into_crypto() {
            Ok(crypto) => Error::Crypto(crypto),
            Err(other) => Error::Signer(other),
        }
    }
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

fn message_suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// APIv2 `err_code`s after which the outcome is not known yet: the order (or transfer) must be
/// queried, and paid again only under the same number.
pub const V2_OUTCOME_UNKNOWN: &[&str] = &["SYSTEMERROR", "SYSTEM_ERROR", "BANKERROR", "USERPAYING", "PROCESSING"];

fn location_suffix(location: &Option<String>) -> String {
    location.as_ref().map(|location| format!(" to {location}")).unwrap_or_default()
}

fn deviations_summary(deviations: &[Deviation]) -> String {
    const SHOWN: usize = 3;
    let mut summary: Vec<String> = deviations.iter().take(SHOWN).map(ToString::to_string).collect();
    if deviations.len() > SHOWN {
        summary.push(format!("and {} more", deviations.len() - SHOWN));
    }
    summary.join("; ")
}

fn serial_suffix(serial: &Option<String>) -> String {
    serial.as_ref().map(|serial| format!(" (asked for {serial})")).unwrap_or_default()
}

/// A verified body kept in an error for diagnosis: at most 16 KiB. Answers hold personal data
/// (names, openids, amounts), so its `Debug` shows only the JSON's shape, every value replaced
/// by `…` and cut at 1 KiB; [`as_str`](Self::as_str) gives the text.
#[derive(Clone, PartialEq, Eq)]
pub struct KeptBody(Box<str>);

impl KeptBody {
    pub(crate) fn new(text: String) -> Self {
        KeptBody(text.into_boxed_str())
    }

    /// The body as received (its first 16 KiB).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeptBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 1024;
        let shape = match serde_json::from_str::<serde_json::Value>(&self.0) {
            Ok(value) => shape_of(&value),
            Err(_) => format!("<{} bytes, not JSON>", self.0.len()),
        };
        match shape.char_indices().nth(SHOWN) {
            Some((cut, _)) => write!(f, "KeptBody({}…, {} bytes)", &shape[..cut], self.0.len()),
            None => write!(f, "KeptBody({shape})"),
        }
    }
}

/// `value` with every string, number and boolean replaced by `…`: its members' names only.
fn shape_of(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(members) => {
            let members: Vec<String> =
                members.iter().map(|(name, value)| format!("{name:?}:{}", shape_of(value))).collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(shape_of).collect::<Vec<_>>().join(",")),
        Value::Null => "null".to_owned(),
        _ => "…".to_owned(),
    }
}

/// What a request was waiting for when it timed out ([`Error::Timeout`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Waiting {
    /// A connection to the host: nothing was sent.
    Connection,
    /// The answer's status and headers, within the timeout
    /// ([`ClientBuilder::timeout`](crate::ClientBuilder::timeout)).
    Answer,
    /// The rest of the body: a buffered answer not complete within the timeout, or a stream
    /// silent for longer than the read timeout
    /// ([`ClientBuilder::read_timeout`](crate::ClientBuilder::read_timeout)).
    Body,
}

impl std::fmt::Display for Waiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Waiting::Connection => "a connection",
            Waiting::Answer => "the answer",
            Waiting::Body => "the body",
        })
    }
}

impl Error {
    /// The HTTP status of the answer that caused the error, when there was one (for a transport
    /// error, when the HTTP client knows it).
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } | Error::BodyTooLarge { status, .. } => Some(*status),
            Error::Transport { source, .. } => source.status(),
            Error::FailedOver { backup, .. } => backup.status(),
            _ => None,
        }
    }

    /// WeChat Pay's error code, e.g. `ORDER_NOT_EXIST`: only from a verified error document
    /// ([`Error::Api`]).
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } if !code.is_empty() => Some(code),
            Error::V2Result { err_code, .. } if !err_code.is_empty() => Some(err_code),
            _ => None,
        }
    }

    /// WeChat Pay's error message: only from a verified error document ([`Error::Api`]).
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::Api { message, .. } if !message.is_empty() => Some(message),
            Error::V2Result { err_code_des: message, .. } | Error::V2Return { return_msg: message, .. }
                if !message.is_empty() =>
            {
                Some(message)
            }
            _ => None,
        }
    }

    /// The `Request-ID` of the answer that caused the error, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. }
            | Error::Verify { request_id, .. }
            | Error::Decode { request_id, .. }
            | Error::Deviated { request_id, .. }
            | Error::BodyTooLarge { request_id, .. } => request_id.as_deref(),
            Error::FailedOver { first, backup } => backup.request_id().or_else(|| first.request_id()),
            _ => None,
        }
    }

    /// Whether the request may have taken effect at WeChat Pay without the caller knowing: it
    /// was sent, and what came back (if anything) does not say reliably that it failed.
    ///
    /// True after a timeout or a connection lost once the request was sent; for any answer that
    /// cannot be trusted or read (verification failed, a body cut short, too large or not
    /// decodable, a redirect, an unverified error page); for a verified `5xx`; for a verified
    /// answer refused by [`Reply::strict`](crate::Reply::strict); and whenever any attempt may
    /// have reached WeChat Pay, whatever a later attempt on the backup host did
    /// ([`Error::FailedOver`]). False when nothing was sent (no connection, a request that could
    /// not be built or encrypted, no key to verify the answer with) and for a verified `4xx`
    /// error document, which says the request was refused.
    ///
    /// When true after a payment or a refund, **query it** (by `out_trade_no` / `out_refund_no`)
    /// before trying again, and try again with the same number: a new number may pay or refund twice.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Transport { source, .. } => !source.is_connect() && !source.is_builder(),
            Error::Timeout { waiting_for, .. } => *waiting_for != Waiting::Connection,
            Error::Api { status, body, .. } => body.is_some() || status.is_server_error(),
            Error::V2Result { err_code, .. } => V2_OUTCOME_UNKNOWN.contains(&err_code.as_str()),
            Error::Verify { .. }
            | Error::Decode { .. }
            | Error::Deviated { .. }
            | Error::FailedOver { .. }
            | Error::BodyTooLarge { .. }
            | Error::Redirect { .. } => true,
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

    #[test]
    fn only_a_verified_refusal_or_an_unsent_request_has_a_known_outcome() {
        let api = |status: StatusCode, body: Option<&str>| Error::Api {
            status,
            code: String::new(),
            message: String::new(),
            detail: None,
            request_id: None,
            body: body.map(Box::from),
        };
        assert!(!api(StatusCode::BAD_REQUEST, None).outcome_unknown());
        assert!(api(StatusCode::BAD_REQUEST, Some("<html>")).outcome_unknown());
        assert!(api(StatusCode::INTERNAL_SERVER_ERROR, None).outcome_unknown());
        let verify = Error::Verify { source: VerifyError::SignatureProbe, request_id: None };
        assert!(verify.outcome_unknown());
        let timeout = |waiting_for| Error::Timeout { path: "/v3".into(), waiting_for };
        assert!(!timeout(Waiting::Connection).outcome_unknown());
        assert!(timeout(Waiting::Answer).outcome_unknown() && timeout(Waiting::Body).outcome_unknown());
        assert!(!Error::NoEncryptionKey { serial: None }.outcome_unknown());
        assert!(!Error::NoVerificationKey.outcome_unknown());
        assert!(!Error::PathParameter { name: "id".into(), problem: "is empty" }.outcome_unknown());
        let refused = Error::BaseUri { origin: "http://example.com".into() };
        assert!(!refused.outcome_unknown());
        let connect = Error::Timeout { path: "/v3".into(), waiting_for: Waiting::Connection };
        let failed_over =
            Error::FailedOver { first: Box::new(api(StatusCode::BAD_GATEWAY, None)), backup: Box::new(connect) };
        assert!(failed_over.outcome_unknown(), "the primary may have acted on it");
        let deviated = Error::Deviated { deviations: vec![Deviation::absent("amount".into())], request_id: None };
        assert!(deviated.outcome_unknown());
    }

    #[test]
    fn a_kept_body_shows_its_shape_not_its_values() {
        let body = KeptBody::new(
            r#"{"payer":{"openid":"oUpF8uMuAJO"},"amount":{"total":100},"tags":["vip",1],"x":null}"#.into(),
        );
        let shown = format!("{body:?}");
        assert_eq!(shown, r#"KeptBody({"payer":{"openid":…},"amount":{"total":…},"tags":[…,…],"x":null})"#);
        assert!(body.as_str().contains("oUpF8uMuAJO"), "the text stays available");
        assert_eq!(format!("{:?}", KeptBody::new("<html>secret</html>".into())), "KeptBody(<19 bytes, not JSON>)");
        let long = KeptBody::new(serde_json::json!({"list": vec![1; 2000]}).to_string());
        let shown = format!("{long:?}");
        assert!(shown.chars().count() < 1100 && shown.ends_with(" bytes)"), "{}", shown.chars().count());
    }
}

//! An answer as received, and the errors made from one: WeChat Pay's error document (only when
//! verified), a body that does not decode. Bodies kept in errors are cut to 16 KiB.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use wechatpay_generated::runtime::DecodeError;
use wechatpay_generated::runtime::ResponseKind;

use crate::error::{Error, KeptBody};

/// Error bodies longer than this are cut when kept in an error.
pub(crate) const MAX_KEPT_BODY: usize = 16 * 1024;

/// A whole answer, as received.
pub(crate) struct Raw {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub request_id: Option<String>,
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers.get("Request-ID").and_then(|value| value.to_str().ok()).map(str::to_owned)
}

/// WeChat Pay's error document.
#[derive(Deserialize)]
struct ErrorDocument {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    detail: Option<serde_json::Value>,
}

/// The first [`MAX_KEPT_BODY`] bytes of `body` as text (cut at a character boundary).
pub(crate) fn kept(body: &[u8]) -> String {
    let head = &body[..body.len().min(MAX_KEPT_BODY)];
    let text = String::from_utf8_lossy(head);
    // A multi-byte character cut at the end becomes U+FFFD; drop it rather than keep a fragment.
    match text.strip_suffix('\u{FFFD}') {
        Some(trimmed) if body.len() > MAX_KEPT_BODY => trimmed.to_owned(),
        _ => text.into_owned(),
    }
}

/// [`Error::Api`] from a non-2xx answer: `code`, `message` and `detail` from a `verified` error
/// document only; otherwise the body is kept, as unverified text.
pub(crate) fn api_error(raw: &Raw, verified: bool) -> Error {
    let document = verified.then(|| serde_json::from_slice::<ErrorDocument>(&raw.body).ok()).flatten();
    match document {
        Some(document) => Error::Api {
            status: raw.status,
            code: document.code,
            message: document.message,
            detail: document.detail.map(Box::new),
            request_id: raw.request_id.clone(),
            body: None,
        },
        None => Error::Api {
            status: raw.status,
            code: String::new(),
            message: String::new(),
            detail: None,
            request_id: raw.request_id.clone(),
            body: Some(kept(&raw.body).into()),
        },
    }
}

/// Whether an answer must be verified before it means anything: every answer but a byte stream's
/// 2xx (WeChat Pay does not sign those) and an unsigned non-2xx (a proxy's or gateway's page,
/// reported as unverified).
pub(crate) fn must_verify(raw: &Raw, kind: ResponseKind) -> bool {
    if raw.status.is_success() {
        kind != ResponseKind::Stream
    } else {
        raw.headers.contains_key("Wechatpay-Signature")
    }
}

/// What an answer means once its verification is known (`None`: not to be verified, see
/// [`must_verify`]): a failed verification is that error; a 2xx is the answer; anything else an
/// [`Error::Api`], with WeChat Pay's code and message only when verified.
pub(crate) fn conclude(raw: Raw, verification: Option<Result<(), Error>>) -> Result<Raw, Error> {
    match verification {
        Some(Err(error)) => Err(error),
        _ if raw.status.is_success() => Ok(raw),
        verification => Err(api_error(&raw, verification.is_some())),
    }
}

/// [`Error::Decode`] for a verified body that does not have the documented shape.
pub(crate) fn decode_error(raw: &Raw, source: DecodeError) -> Error {
    Error::Decode { source: Box::new(source), body: KeptBody::new(kept(&raw.body)), request_id: raw.request_id.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_bodies_are_cut_at_16_kib_on_a_character_boundary() {
        assert_eq!(kept(b"short"), "short");
        let long = "中".repeat(10_000);
        let cut = kept(long.as_bytes());
        assert!(cut.len() <= MAX_KEPT_BODY && cut.len() > MAX_KEPT_BODY - 3, "{}", cut.len());
        assert!(cut.chars().all(|c| c == '中'));
    }

    #[test]
    fn only_a_verified_document_fills_code_and_message() {
        let raw = Raw {
            status: StatusCode::NOT_FOUND,
            headers: HeaderMap::new(),
            body: Bytes::from_static(br#"{"code":"ORDER_NOT_EXIST","message":"no"}"#),
            request_id: None,
        };
        assert_eq!(api_error(&raw, true).code(), Some("ORDER_NOT_EXIST"));
        let unverified = api_error(&raw, false);
        assert_eq!((unverified.code(), unverified.message()), (None, None));
        assert!(matches!(unverified, Error::Api { body: Some(body), .. } if body.contains("ORDER_NOT_EXIST")));
    }
}

//! Misbehaving on an APIv2 answer: the faults of [`Misbehaviour`] that mean something for an XML
//! answer, whose signature is its `sign` member rather than headers.

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::{wire, Answered};
use crate::conn::Conn;
use crate::respond::{deliver, delivery, interrupt, Body};
use crate::Misbehaviour;

/// `answered`, spoiled as `misbehaviour` says. Transport faults (latency, a dropped connection, a
/// body cut short or dripped, a redirect, an HTML error page) are the APIv3 ones; `ServerError`
/// and `FrequencyLimited` answer their status with a `FAIL` document; `BadSignature` spoils the
/// answer's `sign` and `MissingHeaders` removes it; `SignedBody` and `ForgedBody` answer their
/// body as given (APIv2 signs inside the body); `Oversized` pads an XML document. The faults of
/// APIv3's signature headers alone (`StaleTimestamp`, `UnknownSerial`, `SignTest`) have no APIv2
/// counterpart: the answer goes out as it is.
pub(crate) async fn respond(answered: Answered, misbehaviour: Option<Misbehaviour>, conn: &Conn) -> Response {
    let Answered { status, content_type, body, .. } = answered;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let fail = |status: StatusCode, message: &str| {
        let body = wire::write(&[("return_code".into(), "FAIL".into()), ("return_msg".into(), message.into())]);
        (status, [("content-type", "text/xml")], body).into_response()
    };
    if let Some(response) = interrupt(misbehaviour.as_ref(), conn).await {
        return response;
    }
    let body = match &misbehaviour {
        Some(Misbehaviour::ServerError) => return fail(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEMERROR"),
        Some(Misbehaviour::FrequencyLimited) => return fail(StatusCode::TOO_MANY_REQUESTS, "FREQUENCY_LIMITED"),
        Some(Misbehaviour::BadSignature) => spoil_sign(&body),
        Some(Misbehaviour::MissingHeaders) => without_sign(&body),
        Some(Misbehaviour::SignedBody(given) | Misbehaviour::ForgedBody(given)) => given.clone(),
        Some(Misbehaviour::Oversized(len)) => wire::write(&[("padding".into(), "x".repeat(*len))]),
        // APIv3's header faults have no APIv2 counterpart; the transport faults are handled above
        // and by the delivery.
        _ => body,
    };
    let delivery = delivery(misbehaviour.as_ref());
    let length = body.len().to_string();
    let headers = [("content-type", content_type), ("content-length", length.as_str())];
    (status, headers, deliver(&Body::Bytes(body), delivery)).into_response()
}

/// Where the `sign` member's text is in an answer the sandbox wrote (`<sign><![CDATA[…]]></sign>`).
fn sign_at(body: &[u8]) -> Option<(usize, usize)> {
    const OPEN: &[u8] = b"<sign><![CDATA[";
    const CLOSE: &[u8] = b"]]></sign>";
    let start = body.windows(OPEN.len()).position(|w| w == OPEN)? + OPEN.len();
    let end = start + body[start..].windows(CLOSE.len()).position(|w| w == CLOSE)?;
    Some((start, end))
}

/// The answer with its signature's first character changed: still well formed, no longer valid.
fn spoil_sign(body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    if let Some((start, end)) = sign_at(&body) {
        if start < end {
            body[start] = if body[start] == b'0' { b'1' } else { b'0' };
        }
    }
    body
}

/// The answer without its `sign` member.
fn without_sign(body: &[u8]) -> Vec<u8> {
    match sign_at(body) {
        Some((start, end)) => {
            let open = start - b"<sign><![CDATA[".len();
            let close = end + b"]]></sign>".len();
            [&body[..open], &body[close..]].concat()
        }
        None => body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_is_spoiled_or_removed_and_nothing_else_changes() {
        let body = wire::write(&[("return_code".into(), "SUCCESS".into()), ("sign".into(), "0ABC".into())]);
        let spoiled = String::from_utf8(spoil_sign(&body)).unwrap();
        assert_eq!(spoiled, "<xml><return_code><![CDATA[SUCCESS]]></return_code><sign><![CDATA[1ABC]]></sign></xml>");
        let removed = String::from_utf8(without_sign(&body)).unwrap();
        assert_eq!(removed, "<xml><return_code><![CDATA[SUCCESS]]></return_code></xml>");
        let unsigned = wire::write(&[("return_code".into(), "FAIL".into())]);
        assert_eq!(spoil_sign(&unsigned), unsigned);
        assert_eq!(without_sign(&unsigned), unsigned);
    }
}

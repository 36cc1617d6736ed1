//! What a generated crate holds, as data: every operation and notification with its facts and
//! a way to decode its answers without naming its types (for logging, mocks and dynamic
//! dispatch). The generated crate's `registry` module lists them.

use serde_json::Value;

use crate::decode::Decoded;
use crate::operation::{ErasedOperation, Protocol, ResponseKind};
use crate::report::DecodeError;

/// One operation of the crate.
#[derive(Clone, Copy)]
pub struct OperationInfo {
    /// `GET`, `POST`, …
    pub method: &'static str,
    /// The path as documented, e.g. `/v3/pay/transactions/id/{transaction_id}`.
    pub path: &'static str,
    /// Its API family: the cargo feature that compiles it.
    pub family: &'static str,
    /// Its name in the documentation (the page title).
    pub title: &'static str,
    /// Its module in the crate, e.g. `v3::pay::transactions::jsapi::post`.
    pub module: &'static str,
    /// The documentation page (wechatpay.im).
    pub page: &'static str,
    /// The official documentation pages, when the docs give them.
    pub official: &'static [&'static str],
    pub response: ResponseKind,
    /// JSON paths of the request fields sent encrypted.
    pub encrypted: &'static [&'static str],
    /// APIv3, or APIv2 (whose paths have no version segment: `/pay/orderquery`).
    pub protocol: Protocol,
    /// APIv2: made with the merchant's API client certificate (mutual TLS).
    pub client_certificate: bool,
    /// APIv2: a URL the user's browser opens, signed by the client, not a call.
    pub redirect: bool,
    decode: fn(&[u8]) -> Result<Decoded<Value>, DecodeError>,
    request: fn(Value) -> Result<Box<dyn ErasedOperation>, DecodeError>,
}

impl OperationInfo {
    /// Used by generated code.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        method: &'static str,
        path: &'static str,
        family: &'static str,
        title: &'static str,
        module: &'static str,
        page: &'static str,
        official: &'static [&'static str],
        response: ResponseKind,
        encrypted: &'static [&'static str],
        decode: fn(&[u8]) -> Result<Decoded<Value>, DecodeError>,
        request: fn(Value) -> Result<Box<dyn ErasedOperation>, DecodeError>,
    ) -> Self {
        OperationInfo {
            method,
            path,
            family,
            title,
            module,
            page,
            official,
            response,
            encrypted,
            protocol: Protocol::V3,
            client_certificate: false,
            redirect: false,
            decode,
            request,
        }
    }

    /// Used by generated code: an APIv2 operation.
    #[doc(hidden)]
    pub const fn apiv2(self, client_certificate: bool, redirect: bool) -> Self {
        OperationInfo { protocol: Protocol::V2, client_certificate, redirect, ..self }
    }

    /// Decodes a (verified) answer into the typed response and serialises that back: the JSON
    /// the typed response keeps. An error names the JSON path that does not decode.
    pub fn decode_response(&self, body: &[u8]) -> Result<Value, DecodeError> {
        (self.decode)(body).map(|decoded| decoded.value)
    }

    /// Like [`decode_response`](Self::decode_response), with the paths of required fields the
    /// answer left out.
    pub fn decode_response_lenient(&self, body: &[u8]) -> Result<Decoded<Value>, DecodeError> {
        (self.decode)(body)
    }

    /// The typed request from JSON holding its fields side by side (path, query, header and
    /// body fields by their documented names), ready for a transport to send.
    pub fn request_from_json(&self, fields: Value) -> Result<Box<dyn ErasedOperation>, DecodeError> {
        (self.request)(fields)
    }
}

impl std::fmt::Debug for OperationInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperationInfo")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("family", &self.family)
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}

/// One notification (event type) of the crate.
#[derive(Clone, Copy)]
pub struct NotificationInfo {
    /// The event type, e.g. `TRANSACTION.SUCCESS`.
    pub event_type: &'static str,
    pub title: &'static str,
    /// The module of its payload type, e.g. `webhook::v3::transaction_success`.
    pub module: &'static str,
    pub page: &'static str,
    pub official: &'static [&'static str],
    /// APIv3 (JSON, RSA), or APIv2 (XML signed with the APIv2 key; `event_type` is then the
    /// page's name, e.g. `refund-processed`).
    pub protocol: Protocol,
    decode: fn(&[u8]) -> Result<Decoded<Value>, DecodeError>,
}

impl NotificationInfo {
    /// Used by generated code.
    #[doc(hidden)]
    pub const fn new(
        event_type: &'static str,
        title: &'static str,
        module: &'static str,
        page: &'static str,
        official: &'static [&'static str],
        decode: fn(&[u8]) -> Result<Decoded<Value>, DecodeError>,
    ) -> Self {
        NotificationInfo { event_type, title, module, page, official, protocol: Protocol::V3, decode }
    }

    /// Used by generated code: an APIv2 notification.
    #[doc(hidden)]
    pub const fn apiv2(self) -> Self {
        NotificationInfo { protocol: Protocol::V2, ..self }
    }

    /// Decodes a decrypted payload into its typed payload and serialises that back.
    pub fn decode_payload(&self, plaintext: &[u8]) -> Result<Value, DecodeError> {
        (self.decode)(plaintext).map(|decoded| decoded.value)
    }
}

impl std::fmt::Debug for NotificationInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationInfo")
            .field("event_type", &self.event_type)
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}

/// The operation of `operations` (sorted by path, then method) for `method` and `path`: the
/// documented template (`/v3/refund/domestic/refunds/{out_refund_no}`) or a concrete path
/// (`/v3/refund/domestic/refunds/R42`, a query string ignored), preferring literal segments
/// over parameters.
pub fn find<'a>(operations: &'a [OperationInfo], method: &str, path: &str) -> Option<&'a OperationInfo> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let same_method = |op: &&OperationInfo| op.method.eq_ignore_ascii_case(method);
    if let Some(exact) = operations.iter().filter(same_method).find(|op| op.path == path) {
        return Some(exact);
    }
    let wanted: Vec<&str> = path.split('/').collect();
    operations
        .iter()
        .filter(same_method)
        .filter_map(|op| {
            let template: Vec<&str> = op.path.split('/').collect();
            if template.len() != wanted.len() {
                return None;
            }
            let mut literal = 0;
            for (t, w) in template.iter().zip(&wanted) {
                if t.starts_with('{') && t.ends_with('}') {
                    if w.is_empty() {
                        return None;
                    }
                } else if t == w {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, op))
        })
        .max_by_key(|(literal, op)| (*literal, std::cmp::Reverse(op.path)))
        .map(|(_, op)| op)
}

/// Builds the typed request `R` for [`OperationInfo::request_from_json`]; used by generated code.
///
/// The JSON is laid out as the documentation's samples are: path parameters at the top, then
/// `query`, `headers`, `json` (the body's fields) and `body` (a multipart upload's `file` and
/// `meta`), and `base_uri`. A generated `Request` reads its JSON body's fields by name and the
/// others as `path.…`, `query.…`, `headers.…`, `body.…`, so the layout is flattened that way.
#[doc(hidden)]
pub fn erased<R>(fields: Value) -> Result<Box<dyn ErasedOperation>, DecodeError>
where
    R: crate::from_json::FromJson + ErasedOperation + 'static,
{
    let Value::Object(parts) = fields else {
        return Err(DecodeError::new("", "expected an object of request parts"));
    };
    let mut flat = serde_json::Map::new();
    for (key, value) in parts {
        match (key.as_str(), value) {
            // APIv2's XML body is read like a JSON body: its members by name.
            ("json" | "xml", Value::Object(members)) => flat.extend(members),
            (part @ ("query" | "headers" | "body"), Value::Object(members)) => {
                flat.extend(members.into_iter().map(|(name, value)| (format!("{part}.{name}"), value)));
            }
            (part @ ("json" | "xml" | "query" | "headers" | "body"), _) => {
                return Err(DecodeError::new(part, "expected an object"));
            }
            ("base_uri", value) => {
                flat.insert(key, value);
            }
            (_, value) => {
                flat.insert(format!("path.{key}"), value);
            }
        }
    }
    let json = serde_json::to_vec(&Value::Object(flat)).map_err(|error| DecodeError::new("", error.to_string()))?;
    let request: R = crate::from_json::read_strict(&json)?;
    Ok(Box::new(request))
}

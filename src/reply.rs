//! A successful answer: the typed response, and what came with it.

use std::fmt;
use std::ops::{Deref, DerefMut};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use wechatpay_generated::runtime::Deviation;

use crate::error::Error;

/// What [`Client::send`](crate::Client::send) answers with: the typed response (read its fields
/// directly, `reply.prepay_id`, through `Deref`), the HTTP status and headers, the `Request-ID`
/// that WeChat Pay support asks for, where the answer differed from its documentation, and the
/// whole verified body.
///
/// A verified answer always decodes: what fits the documented shape is typed, and a value that
/// does not (absent, or of another JSON kind) holds its type's default and is listed in
/// [`deviations`](Self::deviations) (and logged once per operation and path, at `WARN`). Code
/// that must not act on a defaulted amount or state calls [`strict`](Self::strict); what the
/// types leave out (undocumented members) is in [`json`](Self::json).
#[derive(Clone)]
pub struct Reply<T> {
    value: T,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    deviations: Vec<Deviation>,
}

impl<T> Reply<T> {
    pub(crate) fn new(
        value: T,
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        deviations: Vec<Deviation>,
    ) -> Self {
        Reply { value, status, headers, body, deviations }
    }

    /// The typed response.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The `Request-ID` header: quote it to WeChat Pay support.
    pub fn request_id(&self) -> Option<&str> {
        self.headers.get("Request-ID").and_then(|value| value.to_str().ok())
    }

    /// The HTTP status (`200`, or `204` for an empty answer).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The answer's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Where the answer differs from its documentation: a required member absent, a value of
    /// another JSON kind, a body of none of the documented members. Each such value holds its
    /// type's default (`""`, `0`, `[]`, `None` for an optional one). Empty for an answer as
    /// documented.
    pub fn deviations(&self) -> &[Deviation] {
        &self.deviations
    }

    /// The answer, or [`Error::Deviated`] when it differs from its documentation: for code that
    /// must not act on a defaulted amount or state (`client.send(refund).await?.strict()?`). The
    /// error's outcome is unknown (the request succeeded): query rather than retry.
    pub fn strict(self) -> Result<Self, Error> {
        if self.deviations.is_empty() {
            return Ok(self);
        }
        let request_id = self.request_id().map(str::to_owned);
        Err(Error::Deviated { deviations: self.deviations, request_id })
    }

    /// The whole verified body as JSON, documented members or not (`Null` for an empty body).
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        if self.body.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&self.body)
    }

    /// The verified body as received.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The same answer with the response transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Reply<U> {
        Reply {
            value: f(self.value),
            status: self.status,
            headers: self.headers,
            body: self.body,
            deviations: self.deviations,
        }
    }
}

impl<T> Deref for Reply<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Reply<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("request_id", &self.request_id())
            .field("deviations", &self.deviations)
            .field("value", &self.value)
            .finish()
    }
}

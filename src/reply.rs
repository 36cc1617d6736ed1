//! A successful answer: the typed response, and what came with it.

use std::fmt;
use std::ops::{Deref, DerefMut};

use http::{HeaderMap, StatusCode};

/// What [`Client::send`](crate::Client::send) answers with: the typed response (read its fields
/// directly, `reply.prepay_id`, through `Deref`), the HTTP status and headers, the `Request-ID`
/// that WeChat Pay support asks for, and the required fields the answer left out.
#[derive(Clone)]
pub struct Reply<T> {
    value: T,
    status: StatusCode,
    headers: HeaderMap,
    defaulted: Vec<String>,
}

impl<T> Reply<T> {
    pub(crate) fn new(value: T, status: StatusCode, headers: HeaderMap, defaulted: Vec<String>) -> Self {
        Reply { value, status, headers, defaulted }
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

    /// JSON paths of fields the documentation marks required but the answer left out: they hold
    /// their type's default (`""`, `0`, …). Empty when the answer was complete.
    pub fn defaulted(&self) -> &[String] {
        &self.defaulted
    }

    /// The same answer with the response transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Reply<U> {
        Reply { value: f(self.value), status: self.status, headers: self.headers, defaulted: self.defaulted }
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
            .field("defaulted", &self.defaulted)
            .field("value", &self.value)
            .finish()
    }
}

//! One exchange with WeChat Pay, below the client: a [`Prepared`] request is signed, sent to the
//! primary host and, as the [`RetryPolicy`] allows, to the backup host, and its answer is read
//! within the configured limits (timeouts, body size). Redirects are never followed.
//!
//! Verifying and decoding the answer is up to the callers (the client, the certificate download,
//! bill downloads), which all send through here; this module knows none of them.
//!
//! # Timeouts
//! - connect: the HTTP client's own (`ClientBuilder::connect_timeout`, 10 s by default);
//! - the answer's head (status and headers) must come within `timeout` (30 s by default); a
//!   buffered answer's whole body too;
//! - while a body streams in (bill downloads), at most `read_timeout` (30 s by default) may pass
//!   without a byte; there is no limit on the whole transfer, so a large bill on a slow link
//!   downloads as long as data flows.

mod answer;
mod prepared;

use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, USER_AGENT};
use http::{HeaderMap, StatusCode};
use reqwest::Url;
use wechatpay_generated::runtime::{xml, Body, File, Method, Multipart};

pub(crate) use answer::{api_error, conclude, decode_error, must_verify, request_id, Raw};
pub(crate) use prepared::{encode_query, Prepared, Target};

use crate::error::{Error, Waiting};
use crate::keys::nonce;
use crate::retry::{Failure, RetryPolicy};
use crate::signing::Credentials;
use crate::wechatpay_keys::unix;

/// WeChat Pay's own API hosts: the primaries (`api.mch.weixin.qq.com`, `api.wechatpay.cn`), the
/// cross-city backup (`api2.wechatpay.cn`) and Hong Kong (`apihk.mch.weixin.qq.com`).
pub const WECHATPAY_HOSTS: [&str; 4] =
    ["api.mch.weixin.qq.com", "api.wechatpay.cn", "api2.wechatpay.cn", "apihk.mch.weixin.qq.com"];

/// The most bytes of a non-2xx answer read into memory (WeChat Pay's error documents are tiny).
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;

/// How long the client waits, and how much it holds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// From sending to the answer's head; for a buffered answer, to its last byte.
    pub timeout: Duration,
    /// The longest silence while a body streams in.
    pub read_timeout: Duration,
    /// The most bytes of a buffered 2xx answer.
    pub max_body: usize,
}

/// Everything an exchange needs, shared by the client, its certificate downloads and bill downloads.
pub(crate) struct Exchange {
    pub credentials: Credentials,
    pub http: reqwest::Client,
    /// The HTTP client holding the merchant's API client certificate, for APIv2 calls made with
    /// mutual TLS (a TLS identity is per client in reqwest, so it cannot share `http`'s pool).
    pub http_identity: Option<reqwest::Client>,
    pub base_url: Url,
    pub backup_url: Option<Url>,
    pub user_agent: HeaderValue,
    pub limits: Limits,
    pub retry: RetryPolicy,
}

/// How the answer's body is wanted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// Whole, in memory (up to [`Limits::max_body`]).
    Buffered,
    /// A 2xx answer's body left to stream; other answers are still read whole (up to
    /// [`MAX_ERROR_BODY`]), to be verified and reported.
    Stream,
}

/// What an exchange produced.
pub(crate) enum Fetched {
    /// The whole answer.
    Raw(Raw),
    /// A 2xx answer's head; the body is still to be read ([`next_chunk`]).
    Stream { response: reqwest::Response, request_id: Option<String> },
}

impl Fetched {
    pub(crate) fn into_raw(self) -> Result<Raw, Error> {
        match self {
            Fetched::Raw(raw) => Ok(raw),
            Fetched::Stream { .. } => Err(Error::InvalidRequest("expected a buffered answer".into())),
        }
    }
}

/// A failed attempt: the error, and how it failed as far as trying the backup host is concerned
/// (`None`: never retried).
struct Failed {
    failure: Option<Failure>,
    error: Error,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Self {
        Failed { failure: None, error }
    }
}

/// A failure of the HTTP client, `waiting_for` what.
fn http_failure(path: &str, error: reqwest::Error, waiting_for: Waiting) -> Failed {
    let failure = if error.is_connect() {
        Failure::Connect
    } else if error.is_timeout() {
        Failure::Timeout
    } else {
        Failure::Lost
    };
    let path = path.to_owned();
    let error = match (error.is_timeout(), error.is_connect()) {
        (true, true) => Error::Timeout { path, waiting_for: Waiting::Connection },
        (true, false) => Error::Timeout { path, waiting_for },
        // The URL's query may hold sealed sensitive values and identifiers: errors never show it.
        (false, _) => Error::Transport { path, source: error.without_url() },
    };
    Failed { failure: Some(failure), error }
}

fn timed_out(path: &str, waiting_for: Waiting) -> Failed {
    Failed { failure: Some(Failure::Timeout), error: Error::Timeout { path: path.to_owned(), waiting_for } }
}

impl Exchange {
    /// Sends `prepared` to the primary host and, as the [`RetryPolicy`] allows, to the backup host.
    /// A buffered answer is read within its attempt, so that a body cut short can still fail over.
    pub(crate) async fn execute(&self, prepared: &Prepared, read: Read) -> Result<Fetched, Error> {
        let targets = self.targets(prepared)?;
        let count = targets.len();
        // The failure of an attempt that may have reached WeChat Pay: whatever a later attempt
        // reports, the outcome of the request is unknown then.
        let mut reached: Option<Error> = None;
        for (index, url) in targets.into_iter().enumerate() {
            let failed = match self.attempt(prepared, &url, read, index + 1 < count).await {
                Ok(fetched) => return Ok(fetched),
                Err(failed) => failed,
            };
            let may_retry =
                index + 1 < count && failed.failure.is_some_and(|failure| self.retry.allows(prepared.method, failure));
            if !may_retry {
                return Err(match reached {
                    Some(first) => Error::FailedOver { first: Box::new(first), backup: Box::new(failed.error) },
                    None => failed.error,
                });
            }
            tracing::warn!(host = url.host_str(), failure = ?failed.failure, error = %failed.error, "failing over to the backup host");
            if failed.failure != Some(Failure::Connect) && reached.is_none() {
                reached = Some(failed.error);
            }
        }
        Err(Error::InvalidRequest("no host to send to".into()))
    }

    /// One signed attempt at `url`.
    async fn attempt(&self, prepared: &Prepared, url: &Url, read: Read, has_next: bool) -> Result<Fetched, Failed> {
        let path = prepared.template;
        let limits = self.limits;
        let deadline = Instant::now().checked_add(limits.timeout);
        let request = self.signed(prepared, url).await?;
        let mut response = match tokio::time::timeout(limits.timeout, request.send()).await {
            Err(_) => return Err(timed_out(path, Waiting::Answer)),
            Ok(Err(error)) => return Err(http_failure(path, error, Waiting::Answer)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let request_id = request_id(response.headers());
        let span = tracing::Span::current();
        span.record("status", status.as_u16());
        if let Some(request_id) = &request_id {
            span.record("request_id", request_id.as_str());
        }
        if status.is_redirection() || response.url() != url {
            // A signed request goes to one address only: WeChat Pay does not redirect, so whatever
            // does is not WeChat Pay (an HTTP client of the caller's may have followed it already).
            let location = if status.is_redirection() {
                response.headers().get(LOCATION).and_then(|value| value.to_str().ok()).map(str::to_owned)
            } else {
                Some(response.url().to_string())
            };
            return Err(Error::Redirect { path: path.to_owned(), location }.into());
        }
        if status.is_server_error() && has_next && self.retry.allows(prepared.method, Failure::ServerError) {
            return Err(Failed {
                failure: Some(Failure::ServerError),
                error: Error::Api {
                    status,
                    code: String::new(),
                    message: String::new(),
                    detail: None,
                    request_id,
                    body: None,
                },
            });
        }
        if read == Read::Stream && status.is_success() {
            return Ok(Fetched::Stream { response, request_id });
        }
        let limit = if status.is_success() { limits.max_body } else { MAX_ERROR_BODY.min(limits.max_body) };
        let body = read_body(&mut response, limit, deadline, limits.read_timeout)
            .await
            .map_err(|failure| failure.into_failed(path, status, limit as u64, request_id.clone()))?;
        let headers = std::mem::take(response.headers_mut());
        Ok(Fetched::Raw(Raw { status, headers, body, request_id }))
    }

    /// The URLs to try, in order.
    fn targets(&self, prepared: &Prepared) -> Result<Vec<Url>, Error> {
        let relative = match &prepared.target {
            Target::Absolute(url) => {
                // A download address on the configured host keeps the failover; elsewhere it is
                // fetched as given.
                let on_base = url.origin() == self.base_url.origin() && url.path().starts_with(self.base_url.path());
                if !on_base {
                    return Ok(vec![url.clone()]);
                }
                let mut path_and_query = format!("/{}", &url.path()[self.base_url.path().len()..]);
                if let Some(query) = url.query() {
                    path_and_query.push('?');
                    path_and_query.push_str(query);
                }
                path_and_query
            }
            Target::Relative { base: Some(base), path_and_query } => {
                let base = parse_base_url(base)
                    .map_err(|_| Error::InvalidRequest(format!("the operation's base URI {base:?} is not a URL")))?;
                self.check_base_uri(&base)?;
                return Ok(vec![join(&base, path_and_query)?]);
            }
            Target::Relative { base: None, path_and_query } => path_and_query.clone(),
        };
        let mut targets = vec![join(&self.base_url, &relative)?];
        if let Some(backup) = self.backup_url.as_ref().filter(|_| self.retry.allows(prepared.method, Failure::Connect))
        {
            targets.push(join(backup, &relative)?);
        }
        Ok(targets)
    }

    /// A signed request goes only to WeChat Pay's own `https` hosts or to the hosts the client was
    /// configured with: an operation's `base_uri` (documented, or set on the request, also from
    /// registry JSON) cannot send it anywhere else.
    fn check_base_uri(&self, base: &Url) -> Result<(), Error> {
        let origin = base.origin();
        let wechatpay = base.scheme() == "https" && base.host_str().is_some_and(|host| WECHATPAY_HOSTS.contains(&host));
        let configured =
            origin == self.base_url.origin() || self.backup_url.as_ref().is_some_and(|url| url.origin() == origin);
        if wechatpay || configured {
            Ok(())
        } else {
            Err(Error::BaseUri { origin: origin.ascii_serialization() })
        }
    }

    /// The URL `send` sends `prepared` to first.
    pub(crate) fn first_target(&self, prepared: &Prepared) -> Result<Url, Error> {
        self.targets(prepared)?.into_iter().next().ok_or_else(|| Error::InvalidRequest("no host to send to".into()))
    }

    /// The request for `url`, signed now (a fresh timestamp and nonce for every attempt).
    pub(crate) async fn signed(&self, prepared: &Prepared, url: &Url) -> Result<reqwest::RequestBuilder, Error> {
        let mut path_and_query = url.path().to_owned();
        if let Some(query) = url.query() {
            path_and_query.push('?');
            path_and_query.push_str(query);
        }
        let method = prepared.method.as_str();
        let mut headers = HeaderMap::with_capacity(prepared.headers.len() + 4);
        if prepared.apiv2 {
            return Ok(self.signed_v2(prepared, url, headers));
        }
        let authorization = self
            .credentials
            .authorization(method, &path_and_query, unix(SystemTime::now()), &nonce(), prepared.body.signed())
            .await?;
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, self.user_agent.clone());
        if let Body::Json(_) = prepared.body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (name, value) in &prepared.headers {
            headers.insert(name.clone(), value.clone());
        }
        // The signature is Base64 and the identifiers were checked at build time. Sensitive: kept
        // out of `Debug` (of this request and of any header map holding it) and out of HPACK tables.
        if let Ok(mut value) = HeaderValue::from_str(&authorization) {
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let request = self.http.request(http_method(prepared.method), url.clone()).headers(headers);
        Ok(match &prepared.body {
            Body::Empty | Body::Xml(_) | Body::Form(_) => request,
            Body::Json(bytes) => request.body(bytes.clone()),
            Body::Multipart(multipart) => request.multipart(multipart_form(multipart)),
        })
    }

    /// An APIv2 request: signed in its members already (no `Authorization`), sent with the API
    /// client certificate when it needs one.
    fn signed_v2(&self, prepared: &Prepared, url: &Url, mut headers: HeaderMap) -> reqwest::RequestBuilder {
        headers.insert(USER_AGENT, self.user_agent.clone());
        for (name, value) in &prepared.headers {
            headers.insert(name.clone(), value.clone());
        }
        // Without the identity the request is still made (and refused by WeChat Pay); the client
        // refuses earlier, before signing, when it holds no certificate.
        let http =
            if prepared.client_certificate { self.http_identity.as_ref().unwrap_or(&self.http) } else { &self.http };
        let request = http.request(http_method(prepared.method), url.clone());
        match &prepared.body {
            Body::Xml(members) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"));
                let body = xml::write(members.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                request.headers(headers).body(body)
            }
            Body::Form(form) => {
                let mut multipart = reqwest::multipart::Form::new();
                for (name, value) in &form.fields {
                    multipart = multipart.text(name.clone(), value.clone());
                }
                let file = &form.file;
                let part = || reqwest::multipart::Part::bytes(file.bytes.clone()).file_name(file.filename.clone());
                let part = part().mime_str(&file.content_type).unwrap_or_else(|_| part());
                request.headers(headers).multipart(multipart.part(form.file_part, part))
            }
            _ => request.headers(headers),
        }
    }
}

/// `base` and a path and query, as one URL; the path must survive URL parsing unchanged (no dot
/// segment, nothing the parser would rewrite), since it is what the signature covers.
fn join(base: &Url, path_and_query: &str) -> Result<Url, Error> {
    let text = format!("{}{}", base.as_str().trim_end_matches('/'), path_and_query);
    let url = Url::parse(&text).map_err(|error| Error::InvalidRequest(format!("URL {text:?}: {error}")))?;
    let intended = path_and_query.split('?').next().unwrap_or_default();
    if !url.path().ends_with(intended) {
        return Err(Error::InvalidRequest(format!("the path {intended:?} would be sent as {:?}", url.path())));
    }
    Ok(url)
}

pub(crate) fn parse_base_url(text: &str) -> Result<Url, Error> {
    let mut url = Url::parse(text).map_err(|error| Error::Config(format!("base URL {text:?}: {error}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || url.host().is_none() {
        return Err(Error::Config(format!("base URL {text:?} is not an http(s) URL")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!("base URL {text:?} must not have a query or fragment")));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Why a body could not be read.
pub(crate) enum BodyFailure {
    TooLarge,
    Timeout,
    Http(reqwest::Error),
}

/// Reads the whole body, at most `limit` bytes, by `deadline`, never silent for longer than `idle`.
async fn read_body(
    response: &mut reqwest::Response,
    limit: usize,
    deadline: Option<Instant>,
    idle: Duration,
) -> Result<Bytes, BodyFailure> {
    if response.content_length().is_some_and(|length| length > limit as u64) {
        return Err(BodyFailure::TooLarge);
    }
    let expected = response.content_length().map_or(0, |length| length as usize);
    let mut body = BytesMut::with_capacity(expected.min(limit));
    loop {
        let wait = match deadline {
            Some(deadline) => idle.min(deadline.saturating_duration_since(Instant::now())),
            None => idle,
        };
        match next_chunk(response, wait).await? {
            None => return Ok(body.freeze()),
            Some(chunk) if body.len() + chunk.len() > limit => {
                drop(chunk);
                return Err(BodyFailure::TooLarge);
            }
            Some(chunk) => body.extend_from_slice(&chunk),
        }
    }
}

/// The next piece of a body, if it comes within `wait`.
pub(crate) async fn next_chunk(response: &mut reqwest::Response, wait: Duration) -> Result<Option<Bytes>, BodyFailure> {
    match tokio::time::timeout(wait, response.chunk()).await {
        Err(_) => Err(BodyFailure::Timeout),
        Ok(Err(error)) => Err(BodyFailure::Http(error)),
        Ok(Ok(chunk)) => Ok(chunk),
    }
}

impl BodyFailure {
    fn into_failed(self, path: &str, status: StatusCode, limit: u64, request_id: Option<String>) -> Failed {
        match self {
            BodyFailure::TooLarge => Error::BodyTooLarge { path: path.to_owned(), status, limit, request_id }.into(),
            BodyFailure::Timeout => timed_out(path, Waiting::Body),
            BodyFailure::Http(error) => http_failure(path, error, Waiting::Body),
        }
    }

    /// The error for a body of `path` that failed this way (`limit`: the cap that was exceeded).
    pub(crate) fn into_error(self, path: &str, status: StatusCode, limit: u64, request_id: Option<String>) -> Error {
        self.into_failed(path, status, limit, request_id).error
    }
}

/// The span of one request: its method and path template now, its status, Request-ID and
/// duration when known. Never a key, a signature or a field value.
pub(crate) fn request_span(method: &str, path: &str) -> tracing::Span {
    tracing::info_span!(
        "wechatpay",
        method,
        path,
        status = tracing::field::Empty,
        request_id = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    )
}

fn http_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}

fn multipart_form(multipart: &Multipart) -> reqwest::multipart::Form {
    let Multipart { meta, file_part: file_name, file } = multipart;
    let meta_part = reqwest::multipart::Part::text(meta.clone());
    let meta_part =
        meta_part.mime_str("application/json").unwrap_or_else(|_| reqwest::multipart::Part::text(meta.clone()));
    let part = |file: &File| reqwest::multipart::Part::bytes(file.bytes.clone()).file_name(file.filename.clone());
    let file_part = part(file).mime_str(&file.content_type).unwrap_or_else(|_| part(file));
    reqwest::multipart::Form::new().part("meta", meta_part).part(*file_name, file_part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_get_a_trailing_slash() {
        assert_eq!(parse_base_url("http://127.0.0.1:8080").unwrap().as_str(), "http://127.0.0.1:8080/");
        assert_eq!(parse_base_url("http://127.0.0.1:8080/prefix").unwrap().as_str(), "http://127.0.0.1:8080/prefix/");
        assert!(parse_base_url("ftp://example.com/").is_err());
        assert!(parse_base_url("not a url").is_err());
    }

    #[test]
    fn a_path_the_url_parser_would_rewrite_is_refused() {
        let base = parse_base_url("https://api.mch.weixin.qq.com/").unwrap();
        assert!(join(&base, "/v3/refund/domestic/refunds/abc?x=1").is_ok());
        assert!(matches!(join(&base, "/v3/refund/domestic/refunds/%2e%2E"), Err(Error::InvalidRequest(_))));
        assert!(matches!(join(&base, "/v3/refund/a\\..\\b"), Err(Error::InvalidRequest(_))));
    }
}

//! The client: signs every request, sends it (failing over to the backup host), verifies every
//! signed answer before parsing it, and encrypts sensitive fields on the way out.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, StatusCode};
use reqwest::Url;
use serde::Deserialize;
use tracing::Instrument as _;
use wechatpay_generated::runtime::{
    Body, Decode, DecodeError, Encrypted, ErasedOperation, File, Merchant, Method, Operation, ResponseKind, Sensitive,
    Transport,
};

use crate::certificates::CertificateManager;
use crate::error::Error;
use crate::reply::Reply;
use crate::keys::{nonce, ApiV3Key, MerchantKey, PublicKey};
use crate::retry::{Failure, RetryPolicy};
use crate::sensitive;
use crate::signing::Credentials;
use crate::wechatpay_keys::{unix, PlatformCertificate, VerifyError, WechatpayKeys};

/// WeChat Pay's primary API host.
pub const DEFAULT_BASE_URL: &str = "https://api.mch.weixin.qq.com/";
/// WeChat Pay's backup API host, used for failover when the base URL is the default one.
pub const DEFAULT_BACKUP_URL: &str = "https://api2.mch.weixin.qq.com/";
/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("wechatpay-rust/", env!("CARGO_PKG_VERSION"));
/// The default timeout of one attempt, from sending to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default connect timeout (of the HTTP client the builder makes).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often downloaded platform certificates are refreshed by default.
pub const DEFAULT_CERTIFICATE_REFRESH: Duration = Duration::from_secs(12 * 60 * 60);

/// Error bodies longer than this are cut when kept in [`Error::Api`].
const MAX_KEPT_BODY: usize = 16 * 1024;

/// A WeChat Pay APIv3 client for one merchant.
///
/// Cheap to clone (the state is shared behind an `Arc`), `Send` and `Sync`. Several clients (for
/// several merchants) can share one connection pool through [`ClientBuilder::http_client`].
///
/// ```no_run
/// # async fn run() -> Result<(), wechatpay::Error> {
/// use wechatpay::{Client, MerchantKey, PublicKey};
/// let client = Client::builder("1900000109", "3775B6A45ACD588826D15E583A95F5DD2C6B5C94",
///         MerchantKey::from_pem_file("apiclient_key.pem")?)
///     .wechatpay_public_key("PUB_KEY_ID_0114232134912410000000000000", PublicKey::from_pem_file("pub_key.pem")?)
///     .build()?;
/// let request = wechatpay::v3::pay::transactions::id::by_transaction_id::get::Request::builder()
///     .transaction_id("4200000000000000000000000000")
///     .mchid("1900000109")
///     .build()?;
/// let transaction = client.send(request).await?;
/// # let _ = transaction; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) credentials: Credentials,
    pub(crate) keys: WechatpayKeys,
    pub(crate) certificates: Option<CertificateManager>,
    base_url: Url,
    backup_url: Option<Url>,
    http: reqwest::Client,
    user_agent: HeaderValue,
    timeout: Duration,
    retry: RetryPolicy,
}

/// Configures a [`Client`]; see [`Client::builder`].
#[derive(Debug)]
pub struct ClientBuilder {
    mchid: String,
    merchant_serial: String,
    merchant_key: MerchantKey,
    public_key: Option<(String, PublicKey)>,
    certificates: Vec<PlatformCertificate>,
    keys: Option<WechatpayKeys>,
    apiv3_key: Option<ApiV3Key>,
    base_url: Option<String>,
    backup_url: Option<Option<String>>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    http_client: Option<reqwest::Client>,
    retry: RetryPolicy,
    certificate_refresh: Duration,
}

impl ClientBuilder {
    /// Verify answers (and encrypt sensitive fields) with the WeChat Pay public key `id`
    /// (`PUB_KEY_ID_…`). With a public key, `/v3/certificates` is never needed.
    pub fn wechatpay_public_key(mut self, id: impl Into<String>, key: PublicKey) -> Self {
        self.public_key = Some((id.into(), key));
        self
    }

    /// Trust these platform certificates (e.g. saved from an earlier download). May be combined
    /// with a public key while a merchant switches over: answers are verified with whichever key
    /// `Wechatpay-Serial` names.
    pub fn platform_certificates(
        mut self,
        certificates: impl IntoIterator<Item = PlatformCertificate>,
    ) -> Self {
        self.certificates.extend(certificates);
        self
    }

    /// Use an existing key store (e.g. one a notification handler already holds). Keys given with
    /// [`ClientBuilder::wechatpay_public_key`] are ignored then; certificates are added to it.
    pub fn wechatpay_keys(mut self, keys: WechatpayKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// The APIv3 key: enables downloading platform certificates from `/v3/certificates`,
    /// before the first request and every [`ClientBuilder::certificate_refresh_interval`] when no
    /// public key is configured, and whenever an answer names an unknown serial.
    pub fn apiv3_key(mut self, key: ApiV3Key) -> Self {
        self.apiv3_key = Some(key);
        self
    }

    /// How often downloaded certificates are refreshed (default 12 h).
    pub fn certificate_refresh_interval(mut self, interval: Duration) -> Self {
        self.certificate_refresh = interval;
        self
    }

    /// The API host (default `https://api.mch.weixin.qq.com/`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The failover host, or `None` for none. Default: `https://api2.mch.weixin.qq.com/` when
    /// the base URL is the default one, none otherwise.
    pub fn backup_url(mut self, url: Option<&str>) -> Self {
        self.backup_url = Some(url.map(str::to_owned));
        self
    }

    /// Timeout of one attempt, from sending to the last byte of the answer (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connect timeout (default 10 s). Applies to the HTTP client the builder makes, not to one
    /// given with [`ClientBuilder::http_client`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The `User-Agent` (default `wechatpay-rust/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Send through this HTTP client (and its connection pool), e.g. one shared by the clients of
    /// several merchants.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The failover policy (see [`RetryPolicy`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The client. Fails on an unusable URL, user agent or identifier; never contacts WeChat Pay
    /// (certificates are downloaded when first needed).
    pub fn build(self) -> Result<Client, Error> {
        for (what, value) in
            [("merchant id", &self.mchid), ("merchant certificate serial", &self.merchant_serial)]
        {
            if value.is_empty()
                || !value.bytes().all(|byte| byte.is_ascii_graphic() && byte != b'"' && byte != b',')
            {
                return Err(Error::Config(format!(
                    "the {what} must be non-empty printable ASCII without quotes or commas"
                )));
            }
        }
        let is_default_base = self.base_url.is_none();
        let base_url = parse_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let backup_url = match self.backup_url {
            Some(Some(url)) => Some(parse_base_url(&url)?),
            Some(None) => None,
            None if is_default_base || base_url.as_str() == DEFAULT_BASE_URL => {
                Some(parse_base_url(DEFAULT_BACKUP_URL)?)
            }
            None => None,
        };
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::Config("the user agent is not a valid header value".into()))?;
        let http = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|error| Error::Config(format!("cannot set up the HTTP client: {error}")))?,
        };
        let has_public_key = self.public_key.is_some();
        let keys = match (self.keys, self.public_key) {
            (Some(keys), _) => keys,
            (None, Some((id, key))) => WechatpayKeys::with_public_key(id, key),
            (None, None) => WechatpayKeys::default(),
        };
        let now = unix(SystemTime::now());
        keys.add_certificates(
            self.certificates.into_iter().filter(|certificate| certificate.is_valid_at(now)),
        );
        let eager = !has_public_key && keys.public_key_id().is_none();
        let certificates =
            self.apiv3_key.map(|key| CertificateManager::new(key, eager, self.certificate_refresh));
        Ok(Client {
            inner: Arc::new(Inner {
                credentials: Credentials {
                    mchid: self.mchid,
                    serial: self.merchant_serial,
                    key: self.merchant_key,
                },
                keys,
                certificates,
                base_url,
                backup_url,
                http,
                user_agent,
                timeout: self.timeout,
                retry: self.retry,
            }),
        })
    }
}

fn parse_base_url(text: &str) -> Result<Url, Error> {
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

impl Client {
    /// Starts configuring a client for merchant `mchid`, whose API certificate has serial number
    /// `merchant_serial` and private key `merchant_key`.
    pub fn builder(
        mchid: impl Into<String>,
        merchant_serial: impl Into<String>,
        merchant_key: MerchantKey,
    ) -> ClientBuilder {
        ClientBuilder {
            mchid: mchid.into(),
            merchant_serial: merchant_serial.into(),
            merchant_key,
            public_key: None,
            certificates: Vec::new(),
            keys: None,
            apiv3_key: None,
            base_url: None,
            backup_url: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            http_client: None,
            retry: RetryPolicy::default(),
            certificate_refresh: DEFAULT_CERTIFICATE_REFRESH,
        }
    }

    /// The operations under `/v3`, as a chain: `client.v3().pay().transactions().jsapi().post(request)`.
    pub fn v3(&self) -> wechatpay_generated::v3::Chain<'_, Client> {
        wechatpay_generated::v3::Chain::new(self)
    }

    /// The WeChat Pay keys this client trusts (shared: downloaded certificates appear in every
    /// clone, e.g. the one a notification handler verifies with).
    pub fn wechatpay_keys(&self) -> &WechatpayKeys {
        &self.inner.keys
    }

    /// The merchant id.
    pub fn mchid(&self) -> &str {
        &self.inner.credentials.mchid
    }

    /// The merchant API certificate's serial number.
    pub fn merchant_serial(&self) -> &str {
        &self.inner.credentials.serial
    }

    /// The APIv3 key, when configured (notifications are decrypted with it).
    pub fn apiv3_key(&self) -> Option<&ApiV3Key> {
        self.inner.certificates.as_ref().map(CertificateManager::apiv3_key)
    }

    /// A notification handler sharing this client's keys: it verifies with the same public key
    /// and certificates, and when a notification names an unknown serial it has the client
    /// download the certificates again. Needs the APIv3 key.
    pub fn notifications(&self) -> Result<crate::notify::Notifications, Error> {
        let apiv3_key = self.apiv3_key().cloned().ok_or_else(|| {
            Error::Config("notifications need the APIv3 key (ClientBuilder::apiv3_key)".into())
        })?;
        let client = self.clone();
        Ok(crate::notify::Notifications::new(self.inner.keys.clone(), apiv3_key).key_refresher(move || {
            let client = client.clone();
            async move { client.refresh_certificates().await.map(drop) }
        }))
    }

    pub(crate) fn merchant_key(&self) -> &MerchantKey {
        &self.inner.credentials.key
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Decrypts a response field WeChat Pay encrypted with the merchant's public key (RSA-OAEP,
    /// Base64), e.g. a name or phone number in a query result: the generated types hold such
    /// fields as [`Encrypted`](wechatpay_generated::runtime::Encrypted).
    pub fn decrypt(&self, value: &Encrypted) -> Result<Sensitive, Error> {
        Ok(Sensitive::new(self.merchant_key().decrypt(value.ciphertext())?))
    }

    /// Signs, sends, verifies and decodes one operation.
    ///
    /// A required `mchid` / `sp_mchid` left unset is the client's merchant id. Sensitive fields
    /// ([`Operation::ENCRYPTED`]) are encrypted with the WeChat Pay public key (or the newest
    /// platform certificate) and `Wechatpay-Serial` names the key used. A non-2xx answer becomes
    /// [`Error::Api`]; an answer that fails verification is never parsed. The [`Reply`] derefs to
    /// the typed response and carries the `Request-ID`.
    pub async fn send<O: Operation + Send + Sync>(&self, operation: O) -> Result<Reply<O::Response>, Error> {
        let mut operation = operation;
        Operation::fill(&mut operation, &Merchant::new(self.mchid()));
        let prepared = Prepared::from_operation(&operation);
        drop(operation);
        let raw = self.call(prepared?).await?;
        let decoded = O::Response::decode(&raw.body).map_err(|source| decode_error(source, &raw))?;
        Ok(Reply::new(decoded.value, raw.status, raw.headers, decoded.defaulted))
    }

    /// Sends an operation known only at run time, e.g. one built from JSON by
    /// [`registry`](crate::registry) (`OperationInfo::request_from_json`): as [`send`](Self::send),
    /// the answer decoded into the typed response and given back as JSON.
    pub async fn send_erased(&self, operation: Box<dyn ErasedOperation>) -> Result<Reply<serde_json::Value>, Error> {
        let mut operation = operation;
        operation.fill(&Merchant::new(self.mchid()));
        let prepared = Prepared::from_erased(operation.as_ref());
        let raw = self.call(prepared?).await?;
        let decoded = operation.decode_response(&raw.body).map_err(|source| decode_error(source, &raw))?;
        Ok(Reply::new(decoded.value, raw.status, raw.headers, decoded.defaulted))
    }

    /// The request [`send`](Self::send) would send first, without sending it: the merchant id
    /// filled, sensitive fields encrypted, signed now for the primary host. For sending through
    /// an HTTP stack of your own (the answer is then yours to verify, with
    /// [`WechatpayKeys::verify`]), or to look at.
    pub async fn prepare<O: Operation + Clone + Send + Sync>(&self, operation: &O) -> Result<reqwest::Request, Error> {
        let mut operation = operation.clone();
        Operation::fill(&mut operation, &Merchant::new(self.mchid()));
        let mut prepared = Prepared::from_operation(&operation)?;
        self.ensure_fresh_certificates().await;
        self.encrypt_sensitive(&mut prepared).await?;
        let targets = self.targets(&prepared)?;
        let url = targets.first().ok_or_else(|| Error::InvalidRequest("no host to send to".into()))?;
        self.signed(&prepared, url)
            .build()
            .map_err(|error| transport_error(prepared.template, error))
    }

    /// Everything but decoding: not generic, so it is compiled once for every operation.
    async fn call(&self, mut prepared: Prepared) -> Result<Raw, Error> {
        let span = request_span(prepared.method.as_str(), prepared.template);
        let started = Instant::now();
        let result = async {
            self.ensure_fresh_certificates().await;
            self.encrypt_sensitive(&mut prepared).await?;
            let raw = self.execute(&prepared, true).await?.into_raw()?;
            if !raw.status.is_success() {
                return Err(self.error_response(&raw).await);
            }
            if prepared.kind != ResponseKind::Stream {
                self.verify(&raw).await?;
            }
            Ok(raw)
        }
        .instrument(span.clone())
        .await;
        span.record("duration_ms", started.elapsed().as_millis() as u64);
        span.in_scope(|| match &result {
            Ok(_) => tracing::debug!("request succeeded"),
            Err(error) => tracing::debug!(%error, "request failed"),
        });
        result
    }

    /// Encrypts the request's sensitive fields and names the key in `Wechatpay-Serial`.
    async fn encrypt_sensitive(&self, prepared: &mut Prepared) -> Result<(), Error> {
        if prepared.encrypted.is_empty() {
            return Ok(());
        }
        let json: &[u8] = match &prepared.body {
            Payload::Json(bytes) => bytes,
            Payload::Multipart { meta, .. } => meta.as_bytes(),
            Payload::Empty => return Ok(()),
        };
        let mut value: serde_json::Value = serde_json::from_slice(json).map_err(Error::Encode)?;
        if !sensitive::has_fields(&value, prepared.encrypted) {
            return Ok(());
        }
        let wanted = prepared.header("Wechatpay-Serial");
        let (serial, key) = self.encryption_key(wanted.as_deref()).await?;
        let count = sensitive::encrypt_fields(&mut value, prepared.encrypted, &key)?;
        tracing::debug!(count, serial = %serial, "encrypted sensitive fields");
        let encoded = serde_json::to_vec(&value).map_err(Error::Encode)?;
        match &mut prepared.body {
            Payload::Json(bytes) => *bytes = encoded.into(),
            Payload::Multipart { meta, .. } => {
                *meta = String::from_utf8(encoded)
                    .map_err(|_| Error::InvalidRequest("meta is not UTF-8".into()))?
            }
            Payload::Empty => {}
        }
        prepared.set_header(HeaderName::from_static("wechatpay-serial"), &serial)?;
        Ok(())
    }

    /// Verifies a signed answer, refreshing the certificates once when it names an unknown serial.
    pub(crate) async fn verify(&self, raw: &Raw) -> Result<(), Error> {
        let error = |source| Error::Verify { source, request_id: raw.request_id.clone() };
        match self.inner.keys.verify(&raw.headers, &raw.body, SystemTime::now()) {
            Ok(_) => Ok(()),
            Err(VerifyError::UnknownSerial(serial)) if self.inner.certificates.is_some() => {
                if self.refresh_for_serial(&serial).await {
                    self.inner
                        .keys
                        .verify(&raw.headers, &raw.body, SystemTime::now())
                        .map(drop)
                        .map_err(error)
                } else {
                    Err(error(VerifyError::UnknownSerial(serial)))
                }
            }
            Err(source) => Err(error(source)),
        }
    }

    /// The error for a non-2xx answer: verified when signed, kept as received when not.
    pub(crate) async fn error_response(&self, raw: &Raw) -> Error {
        let signed = raw.headers.contains_key("Wechatpay-Signature");
        if signed {
            if let Err(error) = self.verify(raw).await {
                return error;
            }
        }
        api_error(raw, signed)
    }

    /// Sends `prepared` to the primary host and, as the [`RetryPolicy`] allows, to the backup
    /// host; `buffered` reads the whole answer within the attempt (so that a body cut short can
    /// still fail over).
    pub(crate) async fn execute(&self, prepared: &Prepared, buffered: bool) -> Result<Fetched, Error> {
        let targets = self.targets(prepared)?;
        let count = targets.len();
        let method = prepared.method;
        for (index, url) in targets.into_iter().enumerate() {
            let may_retry = |failure| index + 1 < count && self.inner.retry.allows(method, failure);
            let failed = |error: reqwest::Error| {
                let failure = classify(&error);
                if may_retry(failure) {
                    tracing::warn!(host = url.host_str(), ?failure, %error, "failing over to the backup host");
                    None
                } else {
                    Some(transport_error(prepared.template, error))
                }
            };
            let response = match self.attempt(prepared, &url).await {
                Ok(response) => response,
                Err(error) => match failed(error) {
                    None => continue,
                    Some(error) => return Err(error),
                },
            };
            let status = response.status();
            let request_id = request_id(response.headers());
            let span = tracing::Span::current();
            span.record("status", status.as_u16());
            if let Some(request_id) = &request_id {
                span.record("request_id", request_id.as_str());
            }
            if status.is_server_error() && may_retry(Failure::ServerError) {
                tracing::warn!(
                    host = url.host_str(),
                    status = status.as_u16(),
                    "failing over to the backup host"
                );
                continue;
            }
            if !buffered {
                return Ok(Fetched::Stream(response));
            }
            let headers = response.headers().clone();
            match response.bytes().await {
                Ok(body) => return Ok(Fetched::Raw(Raw { status, headers, body, request_id })),
                Err(error) => match failed(error) {
                    None => continue,
                    Some(error) => return Err(error),
                },
            }
        }
        Err(Error::InvalidRequest("no host to send to".into()))
    }

    /// The URLs to try, in order.
    fn targets(&self, prepared: &Prepared) -> Result<Vec<Url>, Error> {
        let join = |base: &Url, path_and_query: &str| {
            let text = format!("{}{}", base.as_str().trim_end_matches('/'), path_and_query);
            Url::parse(&text).map_err(|error| Error::InvalidRequest(format!("URL {text:?}: {error}")))
        };
        let inner = &self.inner;
        let relative = match &prepared.target {
            Target::Absolute(url) => {
                // A download address on the configured host keeps the failover; elsewhere it is
                // fetched as given.
                let on_base =
                    url.origin() == inner.base_url.origin() && url.path().starts_with(inner.base_url.path());
                if !on_base {
                    return Ok(vec![url.clone()]);
                }
                let mut path_and_query = format!("/{}", &url.path()[inner.base_url.path().len()..]);
                if let Some(query) = url.query() {
                    path_and_query.push('?');
                    path_and_query.push_str(query);
                }
                path_and_query
            }
            Target::Relative { base: Some(base), path_and_query } => {
                let base = parse_base_url(base).map_err(|_| {
                    Error::InvalidRequest(format!("the operation's base URI {base:?} is not a URL"))
                })?;
                return Ok(vec![join(&base, path_and_query)?]);
            }
            Target::Relative { base: None, path_and_query } => path_and_query.clone(),
        };
        let mut targets = vec![join(&inner.base_url, &relative)?];
        if let Some(backup) =
            inner.backup_url.as_ref().filter(|_| inner.retry.allows(prepared.method, Failure::Connect))
        {
            targets.push(join(backup, &relative)?);
        }
        Ok(targets)
    }

    /// One signed attempt at `url`: a fresh timestamp and nonce every time.
    async fn attempt(&self, prepared: &Prepared, url: &Url) -> Result<reqwest::Response, reqwest::Error> {
        self.signed(prepared, url).send().await
    }

    /// The request for `url`, signed now.
    fn signed(&self, prepared: &Prepared, url: &Url) -> reqwest::RequestBuilder {
        let inner = &self.inner;
        let mut path_and_query = url.path().to_owned();
        if let Some(query) = url.query() {
            path_and_query.push('?');
            path_and_query.push_str(query);
        }
        let signed_body: &[u8] = match &prepared.body {
            Payload::Empty => b"",
            Payload::Json(bytes) => bytes,
            Payload::Multipart { meta, .. } => meta.as_bytes(),
        };
        let method = prepared.method.as_str();
        let authorization = inner.credentials.authorization(
            method,
            &path_and_query,
            unix(SystemTime::now()),
            &nonce(),
            signed_body,
        );
        let mut headers = HeaderMap::with_capacity(prepared.headers.len() + 4);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, inner.user_agent.clone());
        if let Payload::Json(_) = prepared.body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (name, value) in &prepared.headers {
            headers.insert(name.clone(), value.clone());
        }
        // The signature is Base64 and the identifiers were checked at build time.
        if let Ok(value) = HeaderValue::from_str(&authorization) {
            headers.insert(AUTHORIZATION, value);
        }
        let mut request = inner
            .http
            .request(http_method(prepared.method), url.clone())
            .headers(headers)
            .timeout(inner.timeout);
        request = match &prepared.body {
            Payload::Empty => request,
            Payload::Json(bytes) => request.body(bytes.clone()),
            Payload::Multipart { meta, file_part, file } => request.multipart(multipart_form(meta, file_part, file)),
        };
        request
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("mchid", &inner.credentials.mchid)
            .field("merchant_serial", &inner.credentials.serial)
            .field("merchant_key", &"<redacted>")
            .field("wechatpay_keys", &inner.keys)
            .field("apiv3_key", &inner.certificates.as_ref().map(|_| "<redacted>"))
            .field("base_url", &inner.base_url.as_str())
            .field("backup_url", &inner.backup_url.as_ref().map(Url::as_str))
            .field("timeout", &inner.timeout)
            .field("retry", &inner.retry)
            .finish()
    }
}

/// `client.v3()…post(request).await`: the generated chain sends through the client.
impl Transport for Client {
    type Future<'a, O>
        = Pin<Box<dyn Future<Output = Result<Reply<O::Response>, Error>> + Send + 'a>>
    where
        Self: 'a,
        O: Operation + 'a;

    fn send_operation<'a, O>(&'a self, operation: O) -> Self::Future<'a, O>
    where
        O: Operation + Send + Sync + 'a,
    {
        Box::pin(self.send(operation))
    }
}

/// [`Error::Decode`] for a verified answer that does not decode.
fn decode_error(source: DecodeError, raw: &Raw) -> Error {
    Error::Decode {
        source: Box::new(source),
        body: String::from_utf8_lossy(&raw.body).into_owned(),
        request_id: raw.request_id.clone(),
    }
}

/// Where a request goes.
pub(crate) enum Target {
    /// A path and query under the base URL (or the operation's own host).
    Relative { base: Option<String>, path_and_query: String },
    /// An absolute URL (a download address).
    Absolute(Url),
}

/// The request body as sent.
pub(crate) enum Payload {
    Empty,
    Json(Bytes),
    Multipart { meta: String, file_part: &'static str, file: File },
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

/// An operation reduced to what the wire needs.
pub(crate) struct Prepared {
    pub method: Method,
    /// The path template, for logs and errors.
    pub template: &'static str,
    pub kind: ResponseKind,
    pub target: Target,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Payload,
    pub encrypted: &'static [&'static str],
}

impl Prepared {
    fn from_operation<O: Operation + Send + Sync>(operation: &O) -> Result<Self, Error> {
        Self::from_erased(operation)
    }

    fn from_erased(operation: &dyn ErasedOperation) -> Result<Self, Error> {
        let mut path_and_query = operation.path();
        if !path_and_query.starts_with('/') {
            path_and_query.insert(0, '/');
        }
        let query = operation.query();
        if !query.is_empty() {
            path_and_query.push('?');
            path_and_query.push_str(&encode_query(&query));
        }
        let headers = operation
            .headers()
            .into_iter()
            .map(|(name, value)| {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| Error::InvalidRequest(format!("header name {name:?}")))?;
                let value = HeaderValue::from_str(&value)
                    .map_err(|_| Error::InvalidRequest(format!("the value of header {name} is not valid")))?;
                Ok((name, value))
            })
            .collect::<Result<_, Error>>()?;
        let body = match operation.body().map_err(Error::Encode)? {
            Body::Empty => Payload::Empty,
            Body::Json(bytes) => Payload::Json(bytes.into()),
            Body::Multipart(multipart) => Payload::Multipart { meta: multipart.meta, file_part: multipart.file_part, file: multipart.file },
        };
        Ok(Prepared {
            method: operation.method(),
            template: operation.template(),
            kind: operation.response_kind(),
            target: Target::Relative { base: operation.base_uri().map(str::to_owned), path_and_query },
            headers,
            body,
            encrypted: operation.encrypted(),
        })
    }

    /// A `GET` of `path_and_query` under the base URL, without body.
    pub(crate) fn get(template: &'static str, kind: ResponseKind, target: Target) -> Self {
        Prepared {
            method: Method::Get,
            template,
            kind,
            target,
            headers: Vec::new(),
            body: Payload::Empty,
            encrypted: &[],
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(key, _)| key.as_str().eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.to_str().ok())
            .map(str::to_owned)
    }

    fn set_header(&mut self, name: HeaderName, value: &str) -> Result<(), Error> {
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::InvalidRequest(format!("the value of header {name} is not valid")))?;
        self.headers.retain(|(key, _)| *key != name);
        self.headers.push((name, value));
        Ok(())
    }
}

/// `name=value&…` in the given order, every byte but RFC 3986 unreserved ones percent-encoded
/// (a space as `%20`, which every form decoder reads too).
fn encode_query(pairs: &[(&'static str, String)]) -> String {
    let mut query = String::new();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            query.push('&');
        }
        percent_encode(name, &mut query);
        query.push('=');
        percent_encode(value, &mut query);
    }
    query
}

fn percent_encode(text: &str, out: &mut String) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
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

fn multipart_form(meta: &str, file_name: &'static str, file: &File) -> reqwest::multipart::Form {
    let meta_part = reqwest::multipart::Part::text(meta.to_owned());
    let meta_part = meta_part
        .mime_str("application/json")
        .unwrap_or_else(|_| reqwest::multipart::Part::text(meta.to_owned()));
    let file_part = || reqwest::multipart::Part::bytes(file.bytes.clone()).file_name(file.filename.clone());
    let file_part = file_part().mime_str(&file.content_type).unwrap_or_else(|_| file_part());
    reqwest::multipart::Form::new().part("meta", meta_part).part(file_name, file_part)
}

/// What an exchange produced.
pub(crate) enum Fetched {
    /// The whole answer.
    Raw(Raw),
    /// The answer's head; the body is still to be read.
    Stream(reqwest::Response),
}

impl Fetched {
    fn into_raw(self) -> Result<Raw, Error> {
        match self {
            Fetched::Raw(raw) => Ok(raw),
            Fetched::Stream(_) => Err(Error::InvalidRequest("expected a buffered answer".into())),
        }
    }
}

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

fn classify(error: &reqwest::Error) -> Failure {
    if error.is_connect() {
        Failure::Connect
    } else if error.is_timeout() {
        Failure::Timeout
    } else {
        Failure::Lost
    }
}

pub(crate) fn transport_error(template: &str, source: reqwest::Error) -> Error {
    let path = template.to_owned();
    if source.is_timeout() {
        Error::Timeout { path, source }
    } else {
        Error::Transport { path, source }
    }
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

/// [`Error::Api`] from a non-2xx answer; the body is kept when it was not verified or is not a
/// WeChat Pay error document.
pub(crate) fn api_error(raw: &Raw, verified: bool) -> Error {
    let kept = || {
        let text = String::from_utf8_lossy(&raw.body);
        let mut end = text.len().min(MAX_KEPT_BODY);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Box::from(&text[..end])
    };
    match serde_json::from_slice::<ErrorDocument>(&raw.body) {
        Ok(document) => Error::Api {
            status: raw.status,
            code: document.code,
            message: document.message,
            detail: document.detail.map(Box::new),
            request_id: raw.request_id.clone(),
            body: (!verified).then(kept),
        },
        Err(_) => Error::Api {
            status: raw.status,
            code: String::new(),
            message: String::new(),
            detail: None,
            request_id: raw.request_id.clone(),
            body: Some(kept()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded_in_order() {
        let query =
            encode_query(&[("b", "x y&z".to_owned()), ("a", "中".to_owned()), ("c", "A-Z_.~".to_owned())]);
        assert_eq!(query, "b=x%20y%26z&a=%E4%B8%AD&c=A-Z_.~");
    }

    #[test]
    fn base_urls_get_a_trailing_slash() {
        assert_eq!(parse_base_url("http://127.0.0.1:8080").unwrap().as_str(), "http://127.0.0.1:8080/");
        assert_eq!(
            parse_base_url("http://127.0.0.1:8080/prefix").unwrap().as_str(),
            "http://127.0.0.1:8080/prefix/"
        );
        assert!(parse_base_url("ftp://example.com/").is_err());
        assert!(parse_base_url("not a url").is_err());
    }
}

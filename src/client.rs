//! The client: signs every request, sends it (failing over to the backup host), verifies every
//! signed answer before parsing it, and encrypts sensitive fields on the way out.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::header::{HeaderName, HeaderValue};
use reqwest::Url;
use tracing::Instrument as _;
use wechatpay_generated::runtime::{
    Decode, Encrypted, ErasedOperation, Merchant, Operation, Protocol, ResponseKind, Seal, SealError, Sensitive,
    Transport, Writing,
};

use crate::certificates::CertificateManager;
use crate::error::Error;
use crate::exchange::{
    conclude, decode_error, must_verify, parse_base_url, request_span, Exchange, Limits, Prepared, Raw, Read,
};
use crate::keys::{ApiV3Key, CryptoError, MerchantKey, PublicKey};
use crate::reply::Reply;
use crate::retry::RetryPolicy;
use crate::signer::{Decrypter, SignatureScheme, Signer};
use crate::signing::Credentials;
use crate::wechatpay_keys::{unix, PlatformCertificate, VerifyError, WechatpayKeys};

/// WeChat Pay's primary API host.
pub const DEFAULT_BASE_URL: &str = "https://api.mch.weixin.qq.com/";
/// WeChat Pay's other primary API host (the same API).
pub const ALTERNATE_BASE_URL: &str = "https://api.wechatpay.cn/";
/// WeChat Pay's cross-city disaster-recovery host, where a client on either primary host fails
/// over to (as WeChat Pay's own Java SDK does).
pub const DEFAULT_BACKUP_URL: &str = "https://api2.wechatpay.cn/";
/// The default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = concat!("wechatpay-rust/", env!("CARGO_PKG_VERSION"));
/// The default timeout of one attempt, from sending to the answer's head, and for a buffered
/// answer to its last byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default longest silence while a streamed body (a bill download) comes in.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The default connect timeout (of the HTTP client the builder makes).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often downloaded platform certificates are refreshed by default.
pub const DEFAULT_CERTIFICATE_REFRESH: Duration = Duration::from_secs(12 * 60 * 60);
/// The most bytes of an answer held in memory by default (API answers, downloads into a `Vec`).
pub const DEFAULT_MAX_BODY_SIZE: usize = 16 * 1024 * 1024;
/// Where bill files may be downloaded from by default: WeChat Pay's own hosts
/// ([`WECHATPAY_HOSTS`]), over https only.
pub const DEFAULT_BILL_DOWNLOAD_ORIGINS: [&str; 4] = [
    "https://api.mch.weixin.qq.com",
    "https://api.wechatpay.cn",
    "https://api2.wechatpay.cn",
    "https://apihk.mch.weixin.qq.com",
];
pub use crate::exchange::WECHATPAY_HOSTS;

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
    pub(crate) exchange: Arc<Exchange>,
    pub(crate) keys: WechatpayKeys,
    pub(crate) certificates: Option<Arc<CertificateManager>>,
    /// Serialised origins (`https://host[:port]`) bill files may be downloaded from.
    pub(crate) bill_download_origins: Vec<String>,
    /// APIv2: the APIv2 key (and the RSA key sealing its sensitive members), when configured.
    pub(crate) v2: Option<crate::apiv2::V2Config>,
}

/// Configures a [`Client`]; see [`Client::builder`].
pub struct ClientBuilder {
    mchid: String,
    merchant_serial: String,
    signer: Arc<dyn Signer>,
    decrypter: Option<Arc<dyn Decrypter>>,
    public_key: Option<(String, PublicKey)>,
    certificates: Vec<PlatformCertificate>,
    keys: Option<WechatpayKeys>,
    apiv3_key: Option<ApiV3Key>,
    base_url: Option<String>,
    backup_url: Option<Option<String>>,
    timeout: Duration,
    read_timeout: Duration,
    connect_timeout: Duration,
    max_body_size: usize,
    bill_download_origins: Vec<String>,
    user_agent: String,
    http_client: Option<reqwest::Client>,
    retry: RetryPolicy,
    certificate_refresh: Duration,
    download_certificates: Option<bool>,
    apiv2_key: Option<crate::apiv2::ApiV2Key>,
    apiv2_rsa_public_key: Option<PublicKey>,
    client_identity: Option<crate::apiv2::ClientIdentity>,
    root_certificates: Vec<crate::RootCertificates>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("merchant_key", &format_args!("<{} signer>", self.signer.scheme()))
            .field("decrypter", &self.decrypter.as_ref().map(|_| "<decrypter>"))
            .field("public_key", &self.public_key)
            .field("certificates", &self.certificates)
            .field("keys", &self.keys)
            .field("apiv3_key", &self.apiv3_key)
            .field("base_url", &self.base_url)
            .field("backup_url", &self.backup_url)
            .field("timeout", &self.timeout)
            .field("read_timeout", &self.read_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_body_size", &self.max_body_size)
            .field("bill_download_origins", &self.bill_download_origins)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("certificate_refresh", &self.certificate_refresh)
            .field("download_certificates", &self.download_certificates)
            .field("apiv2_key", &self.apiv2_key)
            .field("apiv2_rsa_public_key", &self.apiv2_rsa_public_key)
            .field("client_identity", &self.client_identity)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Opens what WeChat Pay encrypts for the merchant (`Encrypted` answer fields, the file keys
    /// of encrypted bills) with `decrypter`, e.g. the key service that holds the merchant key.
    /// [`Client::builder`] uses its [`MerchantKey`]; a client made with
    /// [`Client::builder_with_signer`] needs this to decrypt anything.
    pub fn decrypter(mut self, decrypter: Arc<dyn Decrypter>) -> Self {
        self.decrypter = Some(decrypter);
        self
    }

    /// The APIv2 key: enables the `v2::…` operations (signed with it, their answers verified
    /// with it) and [`Client::notifications_v2`].
    pub fn apiv2_key(mut self, key: crate::apiv2::ApiV2Key) -> Self {
        self.apiv2_key = Some(key);
        self
    }

    /// Trust these certificate authorities too, besides the system's roots: a test server's (the
    /// sandbox's `tls/ca.pem` for its HTTPS URL) or a corporate TLS proxy's. Server certificates
    /// are still verified in full; nothing turns verification off. Applies to the HTTP clients
    /// the builder makes (the one for API client certificate calls included), not to one given
    /// with [`http_client`](Self::http_client), which trusts what it was built to trust.
    pub fn add_root_certificates(mut self, certificates: crate::RootCertificates) -> Self {
        self.root_certificates.push(certificates);
        self
    }

    /// The merchant's API client certificate, for the APIv2 calls whose page says they need it
    /// (mutual TLS: red packets, transfers, refunds, …). The client makes those calls through an
    /// HTTP client of its own holding it (also when [`http_client`](Self::http_client) is given).
    pub fn client_identity(mut self, identity: crate::apiv2::ClientIdentity) -> Self {
        self.client_identity = Some(identity);
        self
    }

    /// The RSA public key APIv2's `risk/getpublickey` returns (PKCS#1 PEM:
    /// [`PublicKey::from_pkcs1_pem`]): sensitive APIv2 members (`pay_bank`'s `enc_bank_no` and
    /// `enc_true_name`) are sealed with it. An SM2 key is refused by [`build`](Self::build): APIv2
    /// has no national cryptography.
    pub fn apiv2_rsa_public_key(mut self, key: PublicKey) -> Self {
        self.apiv2_rsa_public_key = Some(key);
        self
    }

    /// Verify answers (and encrypt sensitive fields) with the WeChat Pay public key `id`
    /// (`PUB_KEY_ID_…`). With a public key, `/v3/certificates` is never needed.
    pub fn wechatpay_public_key(mut self, id: impl Into<String>, key: PublicKey) -> Self {
        self.public_key = Some((id.into(), key));
        self
    }

    /// Trust these platform certificates (e.g. saved from an earlier download). May be combined
    /// with a public key while a merchant switches over: answers are verified with whichever key
    /// `Wechatpay-Serial` names.
    pub fn platform_certificates(mut self, certificates: impl IntoIterator<Item = PlatformCertificate>) -> Self {
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

    /// Whether the client downloads platform certificates from `/v3/certificates` (it needs the
    /// APIv3 key for that). Default: **yes without** a WeChat Pay public key (before the first
    /// request, periodically, and when an answer names a certificate serial it does not hold);
    /// **no with** one, so that a public-key merchant never calls the endpoint, not even when a
    /// forged message names an unknown serial. A merchant switching from certificates to the
    /// public key, whose answers and notifications may still come signed by a certificate, says
    /// `true`: certificates are then downloaded when a message names one (never before).
    pub fn download_platform_certificates(mut self, download: bool) -> Self {
        self.download_certificates = Some(download);
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

    /// The failover host, or `None` for none. Default: [`DEFAULT_BACKUP_URL`]
    /// (`https://api2.wechatpay.cn/`) when the base URL is one of WeChat Pay's primary hosts
    /// ([`DEFAULT_BASE_URL`], [`ALTERNATE_BASE_URL`]), none otherwise.
    pub fn backup_url(mut self, url: Option<&str>) -> Self {
        self.backup_url = Some(url.map(str::to_owned));
        self
    }

    /// Timeout of one attempt, from sending to the answer's status and headers, and for answers
    /// held in memory (API calls) to their last byte (default 30 s). A request that has no usable
    /// WeChat Pay key waits at most this long for a certificate download.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest silence while a streamed body (a bill download) comes in (default 30 s). A
    /// stream has no overall timeout: a large bill on a slow link takes as long as it takes, as
    /// long as data flows.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The most bytes of an answer the client holds in memory (default 16 MiB): API answers, and
    /// bills downloaded with [`Client::download_bill`] (stream larger ones with
    /// [`Client::download_bill_to`]). Beyond it, [`Error::BodyTooLarge`]. Error answers are held
    /// up to 64 KiB.
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// The origins (`scheme://host[:port]`) bill files may be downloaded from, replacing the
    /// default [`DEFAULT_BILL_DOWNLOAD_ORIGINS`] (WeChat Pay's own https hosts). A bill download
    /// is a signed request: it goes nowhere else, whatever `download_url` says.
    pub fn bill_download_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.bill_download_origins = origins.into_iter().map(Into::into).collect();
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
    /// several merchants. Build it with `redirect(reqwest::redirect::Policy::none())`: the client
    /// refuses answers that come from a redirect ([`Error::Redirect`]), but only a client that does
    /// not follow them keeps the signed request from being sent on.
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
        for (what, value) in [("merchant id", &self.mchid), ("merchant certificate serial", &self.merchant_serial)] {
            if value.is_empty() || !value.bytes().all(|byte| byte.is_ascii_graphic() && byte != b'"' && byte != b',') {
                return Err(Error::Config(format!(
                    "the {what} must be non-empty printable ASCII without quotes or commas"
                )));
            }
        }
        let base_url = parse_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let backup_url = match self.backup_url {
            Some(Some(url)) => Some(parse_base_url(&url)?),
            Some(None) => None,
            None if [DEFAULT_BASE_URL, ALTERNATE_BASE_URL].contains(&base_url.as_str()) => {
                Some(parse_base_url(DEFAULT_BACKUP_URL)?)
            }
            None => None,
        };
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::Config("the user agent is not a valid header value".into()))?;
        let roots: Vec<reqwest::Certificate> =
            self.root_certificates.iter().flat_map(crate::RootCertificates::certificates).collect();
        let http = match self.http_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .tls_certs_merge(roots.clone())
                .connect_timeout(self.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|error| Error::Config(format!("cannot set up the HTTP client: {error}")))?,
        };
        let bill_download_origins = self
            .bill_download_origins
            .iter()
            .map(|origin| {
                let url = Url::parse(origin).ok().filter(|url| matches!(url.scheme(), "http" | "https"));
                let url =
                    url.ok_or_else(|| Error::Config(format!("bill download origin {origin:?} is not an http(s) URL")))?;
                Ok(url.origin().ascii_serialization())
            })
            .collect::<Result<_, Error>>()?;
        let has_public_key = self.public_key.is_some();
        let keys = match (self.keys, self.public_key) {
            (Some(keys), _) => keys,
            (None, Some((id, key))) => WechatpayKeys::with_public_key(id, key),
            (None, None) => WechatpayKeys::default(),
        };
        let now = unix(SystemTime::now());
        keys.add_certificates(self.certificates.into_iter().filter(|certificate| certificate.is_valid_at(now)));
        let has_public_key = has_public_key || keys.public_key_id().is_some();
        let downloads = self.download_certificates.unwrap_or(!has_public_key);
        let eager = downloads && !has_public_key;
        // APIv2 knows no national cryptography: its sensitive members are RSA-OAEP only, whatever
        // the merchant key is.
        if self.apiv2_rsa_public_key.as_ref().is_some_and(|key| key.scheme() != SignatureScheme::Rsa) {
            return Err(Error::Config("the APIv2 public key (apiv2_rsa_public_key) must be an RSA key".into()));
        }
        let guomi = self.signer.scheme() == SignatureScheme::Sm2;
        let decrypter = self.decrypter.unwrap_or_else(|| Arc::new(NoDecrypter));
        let http_identity = match self.client_identity {
            Some(identity) => Some(
                reqwest::Client::builder()
                    .tls_certs_merge(roots)
                    .connect_timeout(self.connect_timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .identity(identity.into_inner())
                    .build()
                    .map_err(|error| {
                        Error::Config(format!("cannot set up the HTTP client with the API client certificate: {error}"))
                    })?,
            ),
            None => None,
        };
        let v2 = self.apiv2_key.map(|key| crate::apiv2::V2Config { key, rsa: self.apiv2_rsa_public_key });
        let exchange = Arc::new(Exchange {
            credentials: Credentials {
                mchid: self.mchid,
                serial: self.merchant_serial,
                signer: self.signer,
                decrypter,
            },
            http,
            http_identity,
            base_url,
            backup_url,
            user_agent,
            limits: Limits { timeout: self.timeout, read_timeout: self.read_timeout, max_body: self.max_body_size },
            retry: self.retry,
        });
        let certificates = self.apiv3_key.map(|key| {
            let when = crate::certificates::Downloads { eager, on_unknown_serial: downloads, guomi };
            CertificateManager::new(key, when, self.certificate_refresh, exchange.clone(), keys.clone())
        });
        Ok(Client { inner: Arc::new(Inner { exchange, keys, certificates, bill_download_origins, v2 }) })
    }
}

impl Client {
    /// Starts configuring a client for merchant `mchid`, whose API certificate has serial number
    /// `merchant_serial` and private key `merchant_key`. An SM2 key (feature `guomi`) makes it a
    /// national-cryptography client (see [`crate::guomi`]).
    pub fn builder(
        mchid: impl Into<String>,
        merchant_serial: impl Into<String>,
        merchant_key: MerchantKey,
    ) -> ClientBuilder {
        let decrypter: Arc<dyn Decrypter> = Arc::new(merchant_key.clone());
        Self::builder_with_signer(mchid, merchant_serial, Arc::new(merchant_key)).decrypter(decrypter)
    }

    /// Like [`Client::builder`], with the merchant key held elsewhere: `signer` makes the
    /// signatures (a KMS or HSM, see [`crate::signer`]); its
    /// [`scheme`](crate::signer::Signer::scheme) decides RSA or national cryptography. Give
    /// [`ClientBuilder::decrypter`] too to open what WeChat Pay encrypts for the merchant.
    pub fn builder_with_signer(
        mchid: impl Into<String>,
        merchant_serial: impl Into<String>,
        signer: Arc<dyn Signer>,
    ) -> ClientBuilder {
        ClientBuilder {
            mchid: mchid.into(),
            merchant_serial: merchant_serial.into(),
            signer,
            decrypter: None,
            public_key: None,
            certificates: Vec::new(),
            keys: None,
            apiv3_key: None,
            base_url: None,
            backup_url: None,
            timeout: DEFAULT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            bill_download_origins: DEFAULT_BILL_DOWNLOAD_ORIGINS.iter().map(|origin| (*origin).to_owned()).collect(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            http_client: None,
            retry: RetryPolicy::default(),
            certificate_refresh: DEFAULT_CERTIFICATE_REFRESH,
            download_certificates: None,
            apiv2_key: None,
            apiv2_rsa_public_key: None,
            client_identity: None,
            root_certificates: Vec::new(),
        }
    }

    /// The operations under `/v3`, as a chain: `client.v3().pay().transactions().jsapi().post(request)`.
    pub fn v3(&self) -> wechatpay_generated::v3::Chain<'_, Client> {
        wechatpay_generated::v3::Chain::new(self)
    }

    /// The APIv2 operations, as a chain: `client.v2().mmpaymkttransfers().sendredpack().post(request)`.
    /// They need the APIv2 key ([`ClientBuilder::apiv2_key`]), and some the API client
    /// certificate ([`ClientBuilder::client_identity`]).
    pub fn v2(&self) -> wechatpay_generated::v2::Chain<'_, Client> {
        wechatpay_generated::v2::Chain::new(self)
    }

    /// The URL of an APIv2 page the user's browser opens (`papay/entrustweb`,
    /// `appauth/authindex`, …): its query, signed with the APIv2 key when the page has a `sign`,
    /// and its fragment. The merchant id is filled when left unset.
    pub fn signed_url<O: Operation + Clone + Send + Sync>(&self, operation: &O) -> Result<Url, Error> {
        let mut operation = operation.clone();
        Operation::fill(&mut operation, &Merchant::new(self.mchid()));
        if !O::REDIRECT {
            return Err(Error::InvalidRequest(format!("{} is a call, not a signed URL: send it", O::PATH)));
        }
        let v2 = self.v2_config()?;
        crate::apiv2::signed_url(&operation, &self.inner.exchange.base_url, v2)
    }

    /// A handler of APIv2 notifications with the client's APIv2 key (and its APIv3 key, for the
    /// payscore envelope `TRANSACTION.*` / `CHECK.*`).
    pub fn notifications_v2(&self) -> Result<crate::apiv2::notify::V2Notifications, Error> {
        let notifications = crate::apiv2::notify::V2Notifications::new(self.v2_config()?.key.clone());
        Ok(match self.apiv3_key() {
            Some(key) => notifications.apiv3_key(key.clone()),
            None => notifications,
        })
    }

    fn v2_config(&self) -> Result<&crate::apiv2::V2Config, Error> {
        self.inner
            .v2
            .as_ref()
            .ok_or_else(|| Error::Config("APIv2 needs the APIv2 key (ClientBuilder::apiv2_key)".into()))
    }

    /// The WeChat Pay keys this client trusts (shared: downloaded certificates appear in every
    /// clone, e.g. the one a notification handler verifies with).
    pub fn wechatpay_keys(&self) -> &WechatpayKeys {
        &self.inner.keys
    }

    /// The merchant id.
    pub fn mchid(&self) -> &str {
        &self.inner.exchange.credentials.mchid
    }

    /// The merchant API certificate's serial number.
    pub fn merchant_serial(&self) -> &str {
        &self.inner.exchange.credentials.serial
    }

    /// The APIv3 key, when configured (notifications are decrypted with it).
    pub fn apiv3_key(&self) -> Option<&ApiV3Key> {
        self.inner.certificates.as_deref().map(CertificateManager::apiv3_key)
    }

    /// A notification handler sharing this client's keys: it verifies with the same public key
    /// and certificates, and when a notification names an unknown serial it has the client
    /// download the certificates again (joining a download already running; the notifications
    /// limit how often, per serial). Needs the APIv3 key.
    pub fn notifications(&self) -> Result<crate::notify::Notifications, Error> {
        let manager = self
            .inner
            .certificates
            .clone()
            .ok_or_else(|| Error::Config("notifications need the APIv3 key (ClientBuilder::apiv3_key)".into()))?;
        let apiv3_key = manager.apiv3_key().clone();
        Ok(crate::notify::Notifications::new(self.inner.keys.clone(), apiv3_key).key_refresher(move || {
            let manager = manager.clone();
            async move {
                manager.refresh_shared().await;
                Ok::<_, Error>(())
            }
        }))
    }

    /// Downloads the platform certificates now and puts the valid ones in place of the previous
    /// download in [`Client::wechatpay_keys`]; returns their serial numbers. Needs the APIv3 key.
    /// Useful at start-up to fail fast; the client otherwise downloads them when needed.
    pub async fn refresh_certificates(&self) -> Result<Vec<String>, Error> {
        let manager = self.inner.certificates.as_ref().ok_or_else(|| {
            Error::Config("downloading platform certificates needs the APIv3 key (ClientBuilder::apiv3_key)".into())
        })?;
        manager.download().await
    }

    /// The merchant's signer (the [`MerchantKey`], or the one given to
    /// [`Client::builder_with_signer`]).
    pub fn signer(&self) -> &Arc<dyn Signer> {
        &self.inner.exchange.credentials.signer
    }

    /// The merchant's decrypter.
    pub(crate) fn decrypter(&self) -> Decrypting<'_> {
        Decrypting(&*self.inner.exchange.credentials.decrypter)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Decrypts a response field WeChat Pay encrypted with the merchant's public key (RSA-OAEP,
    /// or SM2 for a national-cryptography merchant; Base64), e.g. a name or phone number in a
    /// query result: the generated types hold such fields as [`Encrypted`]. Through the client's
    /// [`Decrypter`] (the merchant key, or the one configured).
    pub async fn decrypt(&self, value: &Encrypted) -> Result<Sensitive, Error> {
        let plaintext = self.decrypter().decrypt(value.ciphertext()).await?;
        Ok(Sensitive::new(String::from_utf8(plaintext).map_err(|_| CryptoError::Utf8)?))
    }

    /// Signs, sends, verifies and decodes one operation.
    ///
    /// A required `mchid` / `sp_mchid` left unset is the client's merchant id. Every request names
    /// the WeChat Pay key the client verifies with in `Wechatpay-Serial` (the public key id, else
    /// the newest platform certificate; a value the request sets itself wins): during a switch from
    /// certificates to the public key, WeChat Pay signs the answer with the key named there.
    /// Sensitive values (`Sensitive`, wherever the request holds them: body, query, headers) are
    /// sealed with that key as the request is written. A non-2xx answer becomes [`Error::Api`];
    /// an answer that fails verification is never parsed. A verified answer always decodes (see
    /// [`Reply::deviations`]); the [`Reply`] derefs to the typed response.
    pub async fn send<O: Operation + Send + Sync>(&self, operation: O) -> Result<Reply<O::Response>, Error> {
        let mut operation = operation;
        Operation::fill(&mut operation, &Merchant::new(self.mchid()));
        let raw = self.call(&operation).await?;
        drop(operation);
        let decoded = O::Response::decode(&raw.body).map_err(|source| decode_error(&raw, source))?;
        crate::log_limit::deviations(O::PATH, &decoded.deviations);
        Ok(Reply::new(decoded.value, raw.status, raw.headers, raw.body, decoded.deviations))
    }

    /// Sends an operation known only at run time, e.g. one built from JSON by
    /// [`registry`](crate::registry) (`OperationInfo::request_from_json`): as [`send`](Self::send),
    /// the answer decoded into the typed response and given back as JSON.
    pub async fn send_erased(&self, operation: Box<dyn ErasedOperation>) -> Result<Reply<serde_json::Value>, Error> {
        let mut operation = operation;
        operation.fill(&Merchant::new(self.mchid()));
        let raw = self.call(operation.as_ref()).await?;
        let decoded = operation.decode_response(&raw.body).map_err(|source| decode_error(&raw, source))?;
        crate::log_limit::deviations(operation.template(), &decoded.deviations);
        Ok(Reply::new(decoded.value, raw.status, raw.headers, raw.body, decoded.deviations))
    }

    /// The request [`send`](Self::send) would send first, without sending it: the merchant id
    /// filled, sensitive values sealed, `Wechatpay-Serial` set, signed now for the primary host.
    /// For sending through an HTTP stack of your own (the answer is then yours to verify, with
    /// [`WechatpayKeys::verify`]), or to look at.
    pub async fn prepare<O: Operation + Clone + Send + Sync>(&self, operation: &O) -> Result<reqwest::Request, Error> {
        let mut operation = operation.clone();
        Operation::fill(&mut operation, &Merchant::new(self.mchid()));
        self.signed_request(&operation).await
    }

    /// [`prepare`](Self::prepare) for an operation known only at run time (built by the
    /// [`registry`](crate::registry)): the request it would send first, signed, not sent.
    pub async fn prepare_erased(&self, operation: Box<dyn ErasedOperation>) -> Result<reqwest::Request, Error> {
        let mut operation = operation;
        operation.fill(&Merchant::new(self.mchid()));
        self.signed_request(operation.as_ref()).await
    }

    /// The first request for a filled operation: written, signed for the primary host.
    async fn signed_request(&self, operation: &(dyn ErasedOperation + '_)) -> Result<reqwest::Request, Error> {
        let prepared = if operation.protocol() == Protocol::V2 {
            // APIv2: the members signed with the APIv2 key (no Authorization header).
            crate::apiv2::prepare(operation, self.v2_config()?)?
        } else {
            self.before_request().await;
            self.write(operation).await?
        };
        let exchange = &self.inner.exchange;
        let url = exchange.first_target(&prepared)?;
        exchange
            .signed(&prepared, &url)
            .await?
            .timeout(exchange.limits.timeout)
            .build()
            .map_err(|source| Error::Transport { path: prepared.template.to_owned(), source: source.without_url() })
    }

    async fn before_request(&self) {
        if let Some(manager) = &self.inner.certificates {
            manager.before_request().await;
        }
    }

    /// Everything but decoding: not generic, so it is compiled once for every operation.
    async fn call(&self, operation: &(dyn ErasedOperation + '_)) -> Result<Raw, Error> {
        let span = request_span(operation.method().as_str(), operation.template());
        let started = Instant::now();
        let result = async {
            if operation.protocol() == Protocol::V2 {
                return self.call_v2(operation).await;
            }
            self.before_request().await;
            // An answer that cannot be verified is worth nothing, and neither is the query that
            // would follow it: a request that may move money is not sent without a key.
            if !self.inner.keys.has_usable_key(unix(SystemTime::now())) {
                return Err(Error::NoVerificationKey);
            }
            let prepared = self.write(operation).await?;
            let raw = self.inner.exchange.execute(&prepared, Read::Buffered).await?.into_raw()?;
            self.judge(raw, prepared.kind).await
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

    /// An APIv2 call: signed with the APIv2 key, sent (with the API client certificate when its
    /// page says so) through the same exchange, its answer judged before anything is decoded.
    async fn call_v2(&self, operation: &(dyn ErasedOperation + '_)) -> Result<Raw, Error> {
        let v2 = self.v2_config()?;
        if operation.redirect() {
            return Err(Error::InvalidRequest(format!(
                "{} is a URL the user's browser opens: Client::signed_url makes it",
                operation.template()
            )));
        }
        let exchange = &self.inner.exchange;
        if operation.client_certificate() && exchange.http_identity.is_none() {
            return Err(Error::Config(format!(
                "{} needs the merchant's API client certificate (ClientBuilder::client_identity)",
                operation.template()
            )));
        }
        let sign_type = crate::apiv2::sign_type_of(operation)?;
        let prepared = crate::apiv2::prepare(operation, v2)?;
        let raw = exchange.execute(&prepared, Read::Buffered).await?.into_raw()?;
        crate::apiv2::judge(&raw, operation.template(), prepared.kind, operation.signed_answer(), &v2.key, sign_type)?;
        Ok(raw)
    }

    /// `operation` written for the wire: `Wechatpay-Serial` names the WeChat Pay key (the
    /// request's own, else the one the client verifies with), and sensitive values are sealed
    /// with that key as they are written. When the key is not held yet (certificates not
    /// downloaded), a request that turns out to hold a sensitive value waits for it.
    async fn write(&self, operation: &(dyn ErasedOperation + '_)) -> Result<Prepared, Error> {
        let wanted = requested_serial(operation);
        let now = unix(SystemTime::now());
        let keys = self.wechatpay_keys();
        let mut key = match &wanted {
            Some(serial) => keys.find(serial, now).map(|key| (serial.clone(), key)),
            None => keys.encryption_key(now),
        };
        let prepared = loop {
            match write_sealed(operation, key.as_ref().map(|(_, key)| key))? {
                Ok(prepared) => break prepared,
                Err(None) if key.is_none() => key = Some(self.encryption_key(wanted.as_deref()).await?),
                Err(None) => return Err(Error::NoEncryptionKey { serial: wanted }),
                Err(Some(error)) => return Err(Error::Crypto(error)),
            }
        };
        let mut prepared = prepared;
        if wanted.is_none() {
            if let Some((serial, _)) = &key {
                prepared.set_header(HeaderName::from_static("wechatpay-serial"), serial)?;
            }
        }
        Ok(prepared)
    }

    /// Verifies a signed answer, refreshing the certificates when it names an unknown serial (as
    /// limited per serial).
    pub(crate) async fn verify(&self, raw: &Raw) -> Result<(), Error> {
        let keys = &self.inner.keys;
        let result = match keys.verify(&raw.headers, &raw.body, SystemTime::now()) {
            Err(VerifyError::UnknownSerial(serial)) => match &self.inner.certificates {
                Some(manager) if manager.refresh_for_serial(&serial).await => {
                    keys.verify(&raw.headers, &raw.body, SystemTime::now())
                }
                _ => Err(VerifyError::UnknownSerial(serial)),
            },
            other => other,
        };
        result.map(drop).map_err(|source| Error::Verify { source, request_id: raw.request_id.clone() })
    }

    /// The answer, verified (see [`must_verify`]), or the error it means.
    async fn judge(&self, raw: Raw, kind: ResponseKind) -> Result<Raw, Error> {
        let verification = if must_verify(&raw, kind) { Some(self.verify(&raw).await) } else { None };
        conclude(raw, verification)
    }

    /// The error for a non-2xx answer: verified when signed, kept as received when not.
    pub(crate) async fn error_response(&self, raw: Raw) -> Error {
        match self.judge(raw, ResponseKind::Stream).await {
            Err(error) => error,
            Ok(raw) => Error::InvalidRequest(format!("HTTP {} taken for an error", raw.status)),
        }
    }

    /// The key to encrypt sensitive fields with, and its id: the one `wanted` names, else the
    /// public key, else the newest valid certificate (downloaded first when none is held).
    async fn encryption_key(&self, wanted: Option<&str>) -> Result<(String, PublicKey), Error> {
        let keys = self.wechatpay_keys();
        let now = || unix(SystemTime::now());
        let no_key = || Error::NoEncryptionKey { serial: wanted.map(str::to_owned) };
        let manager = self.inner.certificates.as_ref();
        match wanted {
            Some(serial) => {
                if keys.find(serial, now()).is_none() {
                    if let Some(manager) = manager {
                        manager.refresh_for_serial(serial).await;
                    }
                }
                keys.find(serial, now()).map(|key| (serial.to_owned(), key)).ok_or_else(no_key)
            }
            None => {
                if keys.encryption_key(now()).is_none() {
                    if let Some(manager) = manager {
                        manager.download_when_keyless().await;
                    }
                }
                keys.encryption_key(now()).ok_or_else(no_key)
            }
        }
    }
}

/// The client's [`Decrypter`] with Base64 taken off.
pub(crate) struct Decrypting<'a>(&'a dyn Decrypter);

impl Decrypting<'_> {
    /// The plaintext of a Base64 ciphertext WeChat Pay made for the merchant.
    pub(crate) async fn decrypt(&self, ciphertext: &str) -> Result<Vec<u8>, Error> {
        use base64::Engine as _;
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(ciphertext.trim()).map_err(|_| CryptoError::Base64)?;
        self.0.decrypt(&bytes).await.map_err(Error::from_signer)
    }
}

/// The decrypter of a client given only a signer: refuses, saying what to configure.
struct NoDecrypter;

impl Decrypter for NoDecrypter {
    fn decrypt<'a>(
        &'a self,
        _ciphertext: &'a [u8],
    ) -> crate::signer::BoxFuture<'a, Result<Vec<u8>, crate::signer::SignerError>> {
        Box::pin(std::future::ready(Err(crate::signer::SignerError::new(
            "no decrypter: the client was built with a signer only (ClientBuilder::decrypter)",
        ))))
    }
}

/// `operation` written with its sensitive values sealed by `key`: the request, or why it cannot
/// be sent (`None`: a sensitive value and no key; `Some`: the key could not encrypt one).
fn write_sealed(
    operation: &(dyn ErasedOperation + '_),
    key: Option<&PublicKey>,
) -> Result<Result<Prepared, Option<CryptoError>>, Error> {
    let sealer = key.map(Sealer::new);
    let mut out = match &sealer {
        Some(sealer) => Writing::sealing(sealer),
        None => Writing::unsealed(),
    };
    let prepared = Prepared::from_erased(operation, &mut out)?;
    Ok(match out.finish() {
        Ok(count) => {
            if count > 0 {
                tracing::debug!(count, "sealed sensitive values");
            }
            Ok(prepared)
        }
        Err(SealError::NoKey) => Err(None),
        Err(SealError::Failed(_)) => Err(Some(sealer.and_then(Sealer::into_error).unwrap_or(CryptoError::Encrypt))),
    })
}

/// The `Wechatpay-Serial` a request sets itself, if any (read without sealing anything: header
/// values it holds are looked at, not sent).
fn requested_serial(operation: &(dyn ErasedOperation + '_)) -> Option<String> {
    let headers = operation.headers(&mut Writing::unsealed());
    headers.into_iter().find(|(name, _)| name.eq_ignore_ascii_case("Wechatpay-Serial")).map(|(_, value)| value)
}

/// Seals sensitive values with one WeChat Pay key (RSA-OAEP, see [`PublicKey::encrypt`]),
/// keeping the first error typed.
struct Sealer<'a> {
    key: &'a PublicKey,
    error: std::sync::Mutex<Option<CryptoError>>,
}

impl<'a> Sealer<'a> {
    fn new(key: &'a PublicKey) -> Self {
        Sealer { key, error: std::sync::Mutex::new(None) }
    }

    fn into_error(self) -> Option<CryptoError> {
        self.error.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Seal for Sealer<'_> {
    fn seal(&self, plaintext: &str) -> Result<String, SealError> {
        self.key.encrypt(plaintext).map_err(|error| {
            let reason = error.to_string();
            self.error.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get_or_insert(error);
            SealError::Failed(reason)
        })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let exchange = &inner.exchange;
        f.debug_struct("Client")
            .field("mchid", &exchange.credentials.mchid)
            .field("merchant_serial", &exchange.credentials.serial)
            .field("merchant_key", &format_args!("<{} signer, redacted>", exchange.credentials.signer.scheme()))
            .field("wechatpay_keys", &inner.keys)
            .field("apiv3_key", &inner.certificates.as_ref().map(|_| "<redacted>"))
            .field("base_url", &exchange.base_url.as_str())
            .field("backup_url", &exchange.backup_url.as_ref().map(Url::as_str))
            .field("limits", &exchange.limits)
            .field("bill_download_origins", &inner.bill_download_origins)
            .field("retry", &exchange.retry)
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

//! Many merchants in one service: their clients by merchant id, sharing one HTTP connection pool,
//! and the notification handler of each, verifying with that merchant's keys.
//!
//! ```no_run
//! # fn run(key_a: wechatpay::MerchantKey, key_b: wechatpay::MerchantKey, apiv3_a: wechatpay::ApiV3Key,
//! #        apiv3_b: wechatpay::ApiV3Key, public_key: wechatpay::PublicKey) -> Result<(), wechatpay::Error> {
//! use wechatpay::merchants::Merchants;
//! use wechatpay::Client;
//!
//! let merchants = Merchants::new()?;
//! merchants.add(Client::builder("1900000109", "SERIAL-A", key_a).apiv3_key(apiv3_a)
//!     .wechatpay_public_key("PUB_KEY_ID_A", public_key))?;
//! merchants.add(Client::builder("1900000110", "SERIAL-B", key_b).apiv3_key(apiv3_b))?;
//! let client = merchants.client("1900000110").expect("added above");
//! # let _ = client; Ok(()) }
//! ```
//!
//! Each merchant's notifications arrive at a URL naming it (its `notify_url`, e.g.
//! `https://shop.example/wechatpay/notify/1900000109`): with the `axum` feature,
//! `notify::axum::merchant_router` routes `/{mchid}` to [`Merchants::notifications`]; in another
//! framework, look the merchant up the same way. A notification for a merchant the registry does
//! not hold is refused (404) and logged without its body.
//!
//! # Service providers
//! A service provider (服务商) acting for its sub-merchants needs no registry: it calls the APIs
//! with its own credentials (one [`Client`] with the provider's `mchid`, the sub-merchant in each
//! request's `sub_mchid`), and WeChat Pay signs and seals the sub-merchants' notifications with
//! the provider's keys, so one notification route serves them all (`sub_mchid` is in the payload).
//! The registry is for a service holding several merchants' own credentials: several direct
//! merchants, or several service providers.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use futures_util::future::BoxFuture;

use crate::client::{Client, ClientBuilder, DEFAULT_CONNECT_TIMEOUT};
use crate::error::Error;
use crate::notify::{ClaimStatus, ClaimToken, Notifications, ReplayGuard, ReplayGuardError};

/// Clients by merchant id, sharing one HTTP connection pool; see the [module documentation](self).
///
/// Cheap to clone: clones share the merchants, and merchants can be added or removed while
/// notifications are being served.
#[derive(Clone)]
pub struct Merchants {
    http: reqwest::Client,
    guard: Option<Arc<dyn ReplayGuard>>,
    merchants: Arc<RwLock<HashMap<String, Merchant>>>,
}

#[derive(Clone)]
struct Merchant {
    client: Client,
    notifications: Option<Notifications>,
}

impl Merchants {
    /// An empty registry with an HTTP client of its own (no redirects followed, connect timeout
    /// [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn new() -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| Error::Config(format!("cannot set up the HTTP client: {error}")))?;
        Ok(Self::with_http_client(http))
    }

    /// An empty registry whose clients all send through `http` (see [`ClientBuilder::http_client`]).
    pub fn with_http_client(http: reqwest::Client) -> Self {
        Merchants { http, guard: None, merchants: Arc::default() }
    }

    /// Remembers handled notifications of the merchants added from now on in `guard` (e.g. a
    /// `notify::redis::RedisReplayGuard`, feature `redis`), each merchant's ids apart
    /// (`{mchid}/{id}`). Without it, each merchant has an
    /// [`InMemoryReplayGuard`](crate::notify::InMemoryReplayGuard) of its own.
    pub fn replay_guard(mut self, guard: impl ReplayGuard) -> Self {
        self.guard = Some(Arc::new(guard));
        self
    }

    /// The HTTP client every merchant's client sends through.
    pub fn http_client(&self) -> &reqwest::Client {
        &self.http
    }

    /// Builds the client of `builder` on the shared HTTP client and holds it under its merchant id,
    /// in place of any client held for that id (e.g. after a key rotation). Its notifications are
    /// served when it has the APIv3 key.
    pub fn add(&self, builder: ClientBuilder) -> Result<Client, Error> {
        let client = builder.http_client(self.http.clone()).build()?;
        let notifications = client.apiv3_key().is_some().then(|| client.notifications()).transpose()?;
        let notifications = match (notifications, &self.guard) {
            (Some(notifications), Some(guard)) => {
                Some(notifications.replay_guard(Scoped { mchid: client.mchid().to_owned(), guard: guard.clone() }))
            }
            (notifications, _) => notifications,
        };
        let merchant = Merchant { client: client.clone(), notifications };
        self.write().insert(client.mchid().to_owned(), merchant);
        Ok(client)
    }

    /// Stops serving merchant `mchid`; its client, if it was held.
    pub fn remove(&self, mchid: &str) -> Option<Client> {
        self.write().remove(mchid).map(|merchant| merchant.client)
    }

    /// The client of merchant `mchid`.
    pub fn client(&self, mchid: &str) -> Option<Client> {
        self.read().get(mchid).map(|merchant| merchant.client.clone())
    }

    /// The notification handler of merchant `mchid`: its keys and APIv3 key (`None` for a merchant
    /// not held, or held without the APIv3 key).
    pub fn notifications(&self, mchid: &str) -> Option<Notifications> {
        self.read().get(mchid).and_then(|merchant| merchant.notifications.clone())
    }

    /// Whether merchant `mchid` is held.
    pub fn contains(&self, mchid: &str) -> bool {
        self.read().contains_key(mchid)
    }

    /// The merchant ids held, sorted.
    pub fn mchids(&self) -> Vec<String> {
        let mut mchids: Vec<String> = self.read().keys().cloned().collect();
        mchids.sort();
        mchids
    }

    // Every update leaves the map whole, so a poisoned lock is still usable.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Merchant>> {
        self.merchants.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Merchant>> {
        self.merchants.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for Merchants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Merchants")
            .field("mchids", &self.mchids())
            .field("shared_replay_guard", &self.guard.is_some())
            .finish_non_exhaustive()
    }
}

/// One merchant's view of a replay guard shared by several: its ids as `{mchid}/{id}`, so that
/// merchants never answer for each other's notifications.
struct Scoped {
    mchid: String,
    guard: Arc<dyn ReplayGuard>,
}

impl Scoped {
    fn id(&self, id: &str) -> String {
        format!("{}/{id}", self.mchid)
    }
}

impl ReplayGuard for Scoped {
    fn try_claim<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
    ) -> BoxFuture<'a, Result<ClaimStatus, ReplayGuardError>> {
        Box::pin(async move { self.guard.try_claim(&self.id(id), token).await })
    }

    fn commit<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
        Box::pin(async move { self.guard.commit(&self.id(id), token).await })
    }

    fn release<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
        Box::pin(async move { self.guard.release(&self.id(id), token).await })
    }

    fn abandon(&self, id: &str, token: &ClaimToken) {
        self.guard.abandon(&self.id(id), token);
    }
}

//! Handled notification ids in Redis (feature `redis`), shared by every instance of a service.
//!
//! ```no_run
//! # async fn run(client: wechatpay::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use wechatpay::notify::redis::RedisReplayGuard;
//!
//! let guard = RedisReplayGuard::connect("redis://127.0.0.1:6379/").await?;
//! let notifications = client.notifications()?.replay_guard(guard);
//! # let _ = notifications; Ok(()) }
//! ```
//!
//! One key per notification id (`wechatpay:notify:{id}`, see [`RedisStorage::key_prefix`]) holds
//! the claiming delivery's token, or `handled` once one succeeded. Each step is one call of one Lua
//! script (`src/notify/redis.lua`), which Redis runs atomically: claim, commit and release compare
//! the token and set or delete the key in the same step. The key expires with the lease while
//! claimed and with the TTL once handled (`PX`): that is how handled ids are purged.
//!
//! # When Redis is slow or down
//! Every call is bounded by the guard's [`timeout`](SharedReplayGuard::timeout) (1 s by default):
//! then, or when Redis refuses the connection, the delivery is answered 503 and WeChat Pay delivers
//! it again later. Nothing is recorded as handled that was not: an id becomes `handled` only by a
//! commit after the handler succeeded. A claim that reached Redis but whose answer did not come in
//! time holds the id until its lease ends (redeliveries are answered 503 until then). The
//! connection manager reconnects by itself, so the guard recovers when Redis is back, and the
//! script is loaded again if the restarted server forgot it.
//!
//! Handled ids survive a Redis restart only with persistence (`appendonly yes`); without it, a
//! redelivery after the restart is processed again: at least once still holds.
//!
//! For TLS (`rediss://`) or Sentinel, enable the `redis` crate's feature for it in your own
//! `Cargo.toml`, build a [`ConnectionManager`] and use [`RedisReplayGuard::with_connection`].

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::Script;

use super::replay::{ClaimStatus, ClaimToken, ReplayGuardError};
use super::shared::{SharedReplayGuard, Storage, DEFAULT_TIMEOUT};

/// The prefix of the keys by default: `wechatpay:notify:{id}`.
pub const DEFAULT_KEY_PREFIX: &str = "wechatpay:notify:";

/// A [`ReplayGuard`](super::ReplayGuard) on Redis; see the [module documentation](self).
pub type RedisReplayGuard = SharedReplayGuard<RedisStorage>;

/// The Redis side of a [`RedisReplayGuard`]: a connection and the key prefix.
#[derive(Clone)]
pub struct RedisStorage {
    connection: ConnectionManager,
    prefix: String,
    script: Script,
}

impl RedisStorage {
    /// Storage on `connection`, a multiplexed connection that reconnects by itself (clone one to
    /// share it).
    pub fn new(connection: ConnectionManager) -> Self {
        RedisStorage {
            connection,
            prefix: DEFAULT_KEY_PREFIX.to_owned(),
            script: Script::new(include_str!("redis.lua")),
        }
    }

    /// Keys are `{prefix}{id}` (default [`DEFAULT_KEY_PREFIX`]): e.g. one prefix per service
    /// sharing a Redis.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key of notification `id`.
    pub fn key(&self, id: &str) -> String {
        format!("{}{id}", self.prefix)
    }

    async fn run(
        &self,
        step: &str,
        id: &str,
        token: &ClaimToken,
        expiry: Option<Duration>,
    ) -> Result<i64, ReplayGuardError> {
        // Milliseconds, at least one (a zero PX is an error), 0 meaning no expiry.
        let ms = expiry.map_or(0, |expiry| expiry.as_millis().max(1));
        let mut connection = self.connection.clone();
        self.script
            .key(self.key(id))
            .arg(step)
            .arg(token.as_str())
            .arg(ms.to_string())
            .invoke_async(&mut connection)
            .await
            .map_err(ReplayGuardError::new)
    }
}

impl Storage for RedisStorage {
    async fn claim(
        &self,
        id: &str,
        token: &ClaimToken,
        lease: Option<Duration>,
    ) -> Result<ClaimStatus, ReplayGuardError> {
        match self.run("claim", id, token, lease).await? {
            0 => Ok(ClaimStatus::Claimed),
            1 => Ok(ClaimStatus::Handled),
            2 => Ok(ClaimStatus::InProgress),
            other => Err(ReplayGuardError::new(format!("the claim script answered {other}"))),
        }
    }

    async fn commit(&self, id: &str, token: &ClaimToken, ttl: Option<Duration>) -> Result<(), ReplayGuardError> {
        self.run("commit", id, token, ttl).await.map(drop)
    }

    async fn release(&self, id: &str, token: &ClaimToken) -> Result<(), ReplayGuardError> {
        self.run("release", id, token, None).await.map(drop)
    }
}

impl fmt::Debug for RedisStorage {
    // The connection's own `Debug` shows its address and user: left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStorage").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RedisReplayGuard {
    /// Connects to Redis at `url` (`redis://[user:password@]host:port/db`) and fails if it cannot;
    /// connecting and each command are limited to [`DEFAULT_TIMEOUT`], and lost connections are
    /// made again in the background.
    pub async fn connect(url: &str) -> Result<Self, ReplayGuardError> {
        let client = redis::Client::open(url).map_err(ReplayGuardError::new)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(DEFAULT_TIMEOUT))
            .set_response_timeout(Some(DEFAULT_TIMEOUT))
            // Give up reconnecting quickly: the next command tries again, and deliveries meanwhile
            // are answered 503 within the guard's timeout rather than queued behind the retries.
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_with_config(client, config).await.map_err(ReplayGuardError::new)?;
        Ok(Self::with_connection(connection))
    }

    /// A guard on a connection of your own (TLS, Sentinel, other timeouts).
    pub fn with_connection(connection: ConnectionManager) -> Self {
        SharedReplayGuard::new(RedisStorage::new(connection))
    }
}

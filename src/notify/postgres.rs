//! Handled notification ids in PostgreSQL (feature `postgres`), shared by every instance of a
//! service.
//!
//! ```no_run
//! # async fn run(client: wechatpay::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use wechatpay::notify::postgres::PostgresReplayGuard;
//!
//! let guard = PostgresReplayGuard::connect("postgres://app@127.0.0.1:5432/shop").await?;
//! guard.migrate().await?; // or apply MIGRATION with your own migration tool
//! let notifications = client.notifications()?.replay_guard(guard);
//! # let _ = notifications; Ok(()) }
//! ```
//!
//! # The table
//! [`MIGRATION`] (`src/notify/postgres.sql`) creates `wechatpay_notify_claims (id, token, handled,
//! expires_at)` and an index on `expires_at`; [`PostgresReplayGuard::migrate`] runs it (idempotent,
//! under an advisory lock so that instances starting together do not race). Each step is one
//! statement, atomic by itself, on the database's clock:
//! - claim: `INSERT … ON CONFLICT (id) DO UPDATE … WHERE expires_at <= now()` takes an absent or
//!   expired id for the token; otherwise the row says handled or in progress;
//! - commit: the same upsert, marking the row handled for the TTL, only `WHERE token = $token OR
//!   expires_at <= now()` (its own claim, or one that lapsed with nobody else holding it);
//! - release: `DELETE … WHERE id = $id AND token = $token AND NOT handled`.
//!
//! # Purging
//! An expired row counts as absent, so purging only frees space: [`PostgresReplayGuard::purge`]
//! deletes expired rows, and each guard also does it in the background after a claim, at most
//! every [`PostgresStorage::purge_every`] (10 minutes by default).
//!
//! # When PostgreSQL is slow or down
//! Every call is bounded by the guard's [`timeout`](SharedReplayGuard::timeout) (1 s by default):
//! then, or when the database refuses the connection, the delivery is answered 503 and WeChat Pay
//! delivers it again later. Nothing is recorded as handled that was not: a row becomes handled only
//! by a commit after the handler succeeded. A claim that reached the database but whose answer did
//! not come in time (e.g. it waited for a lock) may still take effect: the id is then in progress
//! until its lease ends (redeliveries are answered 503 until then). The pool replaces the
//! connections a restart closed, so the guard recovers when the database is back.
//!
//! [`connect`](PostgresReplayGuard::connect) makes a pool of plain TCP connections; for TLS or other
//! settings build a [`deadpool_postgres::Pool`] and use [`PostgresReplayGuard::with_pool`].

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use deadpool_postgres;
use deadpool_postgres::tokio_postgres::{self, NoTls};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

use super::replay::{ClaimStatus, ClaimToken, ReplayGuardError};
use super::shared::{SharedReplayGuard, Storage, DEFAULT_TIMEOUT};

/// The table and its index (`CREATE … IF NOT EXISTS`); run it with [`PostgresReplayGuard::migrate`]
/// or with your own migration tool.
pub const MIGRATION: &str = include_str!("postgres.sql");

/// How often a guard purges expired rows after a claim, by default.
pub const DEFAULT_PURGE_EVERY: Duration = Duration::from_secs(10 * 60);

/// How many connections [`PostgresReplayGuard::connect`]'s pool holds at most.
pub const POOL_SIZE: usize = 16;

// `$3` is the lease or TTL in seconds, NULL for never expiring.
const CLAIM: &str = "WITH claimed AS (
        INSERT INTO wechatpay_notify_claims AS held (id, token, handled, expires_at)
        VALUES ($1, $2, false, COALESCE(now() + make_interval(secs => $3), 'infinity'))
        ON CONFLICT (id) DO UPDATE SET token = excluded.token, handled = false, expires_at = excluded.expires_at
        WHERE held.expires_at <= now()
        RETURNING id
    )
    SELECT EXISTS (SELECT FROM claimed),
        EXISTS (SELECT FROM wechatpay_notify_claims WHERE id = $1 AND handled AND expires_at > now())";

const COMMIT: &str = "INSERT INTO wechatpay_notify_claims AS held (id, token, handled, expires_at)
    VALUES ($1, $2, true, COALESCE(now() + make_interval(secs => $3), 'infinity'))
    ON CONFLICT (id) DO UPDATE SET token = excluded.token, handled = true, expires_at = excluded.expires_at
    WHERE held.token = $2 OR held.expires_at <= now()";

const RELEASE: &str = "DELETE FROM wechatpay_notify_claims WHERE id = $1 AND token = $2 AND NOT handled";

/// In batches, so that a long-due purge does not hold one long statement.
const PURGE: &str = "DELETE FROM wechatpay_notify_claims WHERE id IN (
    SELECT id FROM wechatpay_notify_claims WHERE expires_at <= now() LIMIT 10000)";
const PURGE_BATCH: u64 = 10_000;

/// A [`ReplayGuard`](super::ReplayGuard) on PostgreSQL; see the [module documentation](self).
pub type PostgresReplayGuard = SharedReplayGuard<PostgresStorage>;

/// The PostgreSQL side of a [`PostgresReplayGuard`]: a connection pool.
pub struct PostgresStorage {
    pool: Pool,
    purge_every: Duration,
    /// When the next purge is due (`None`: at the first claim).
    next_purge: Mutex<Option<Instant>>,
}

impl PostgresStorage {
    /// Storage on `pool` (connections to a database where [`MIGRATION`] ran).
    pub fn new(pool: Pool) -> Self {
        PostgresStorage { pool, purge_every: DEFAULT_PURGE_EVERY, next_purge: Mutex::new(None) }
    }

    /// How often, at most, expired rows are purged in the background after a claim (default
    /// [`DEFAULT_PURGE_EVERY`]; `Duration::MAX`: never, call [`PostgresReplayGuard::purge`] yourself).
    pub fn purge_every(mut self, every: Duration) -> Self {
        self.purge_every = every;
        self
    }

    /// The pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    async fn connection(&self) -> Result<deadpool_postgres::Object, ReplayGuardError> {
        self.pool.get().await.map_err(ReplayGuardError::new)
    }

    /// Runs `sql` (prepared once per connection) with the id, the token and a duration in seconds.
    async fn execute(
        &self,
        sql: &str,
        id: &str,
        token: &ClaimToken,
        expiry: Option<Duration>,
    ) -> Result<Vec<tokio_postgres::Row>, ReplayGuardError> {
        let connection = self.connection().await?;
        let statement = connection.prepare_cached(sql).await.map_err(ReplayGuardError::new)?;
        let seconds = expiry.map(|expiry| expiry.as_secs_f64());
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&id, &token.as_str(), &seconds];
        // RELEASE has no third parameter.
        let params = &params[..statement.params().len()];
        connection.query(&statement, params).await.map_err(ReplayGuardError::new)
    }

    /// Whether a background purge is due now (and if so, the next one is not before `purge_every`).
    fn purge_due(&self) -> bool {
        let now = Instant::now();
        let mut next = self.next_purge.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if next.is_some_and(|next| now < next) || self.purge_every == Duration::MAX {
            return false;
        }
        *next = now.checked_add(self.purge_every);
        true
    }

    /// Purges in a task of its own, so that the claim does not wait for it.
    fn purge_in_background(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let pool = self.pool.clone();
        runtime.spawn(async move {
            match tokio::time::timeout(Duration::from_secs(60), purge(&pool)).await {
                Ok(Ok(purged)) => tracing::debug!(purged, "purged expired notification ids"),
                Ok(Err(error)) => tracing::warn!(%error, "purging expired notification ids failed"),
                Err(_) => tracing::warn!("purging expired notification ids took over 60 s; stopped"),
            }
        });
    }
}

/// Deletes expired rows; how many.
async fn purge(pool: &Pool) -> Result<u64, ReplayGuardError> {
    let connection = pool.get().await.map_err(ReplayGuardError::new)?;
    let mut purged = 0;
    loop {
        let deleted = connection.execute(PURGE, &[]).await.map_err(ReplayGuardError::new)?;
        purged += deleted;
        if deleted < PURGE_BATCH {
            return Ok(purged);
        }
    }
}

impl Storage for PostgresStorage {
    async fn claim(
        &self,
        id: &str,
        token: &ClaimToken,
        lease: Option<Duration>,
    ) -> Result<ClaimStatus, ReplayGuardError> {
        let rows = self.execute(CLAIM, id, token, lease).await?;
        let row = rows.first().ok_or_else(|| ReplayGuardError::new("the claim statement returned no row"))?;
        let (claimed, handled): (bool, bool) =
            (row.try_get(0).map_err(ReplayGuardError::new)?, row.try_get(1).map_err(ReplayGuardError::new)?);
        if claimed && self.purge_due() {
            self.purge_in_background();
        }
        // Neither claimed nor seen handled: another delivery's claim, possibly one that began during
        // this statement (answered 503; the redelivery will find it handled or free).
        Ok(match (claimed, handled) {
            (true, _) => ClaimStatus::Claimed,
            (false, true) => ClaimStatus::Handled,
            (false, false) => ClaimStatus::InProgress,
        })
    }

    async fn commit(&self, id: &str, token: &ClaimToken, ttl: Option<Duration>) -> Result<(), ReplayGuardError> {
        self.execute(COMMIT, id, token, ttl).await.map(drop)
    }

    async fn release(&self, id: &str, token: &ClaimToken) -> Result<(), ReplayGuardError> {
        self.execute(RELEASE, id, token, None).await.map(drop)
    }
}

impl fmt::Debug for PostgresStorage {
    // The pool's configuration holds the password: left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.pool.status();
        f.debug_struct("PostgresStorage")
            .field("connections", &status.size)
            .field("max_connections", &status.max_size)
            .field("purge_every", &self.purge_every)
            .finish_non_exhaustive()
    }
}

impl PostgresReplayGuard {
    /// A pool of up to [`POOL_SIZE`] plain TCP connections to `url`
    /// (`postgres://user[:password]@host:port/database`), connecting once now to fail early; a
    /// connection attempt gives up after [`DEFAULT_TIMEOUT`].
    pub async fn connect(url: &str) -> Result<Self, ReplayGuardError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(ReplayGuardError::new)?;
        config.connect_timeout(DEFAULT_TIMEOUT);
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager).max_size(POOL_SIZE).build().map_err(ReplayGuardError::new)?;
        let guard = Self::with_pool(pool);
        drop(guard.storage().connection().await?);
        Ok(guard)
    }

    /// A guard on a pool of your own (TLS, other limits).
    pub fn with_pool(pool: Pool) -> Self {
        SharedReplayGuard::new(PostgresStorage::new(pool))
    }

    /// Creates the table and its index where missing ([`MIGRATION`]), in a transaction holding an
    /// advisory lock, so that instances starting together do not race.
    pub async fn migrate(&self) -> Result<(), ReplayGuardError> {
        let mut connection = self.storage().connection().await?;
        let transaction = connection.transaction().await.map_err(ReplayGuardError::new)?;
        transaction
            .batch_execute("SELECT pg_advisory_xact_lock(hashtext('wechatpay_notify_claims'))")
            .await
            .map_err(ReplayGuardError::new)?;
        transaction.batch_execute(MIGRATION).await.map_err(ReplayGuardError::new)?;
        transaction.commit().await.map_err(ReplayGuardError::new)
    }

    /// Deletes the rows whose lease or TTL ended (they count as absent already); returns how many.
    pub async fn purge(&self) -> Result<u64, ReplayGuardError> {
        purge(&self.storage().pool).await
    }
}

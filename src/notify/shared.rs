//! A replay guard over storage that several instances share (Redis, PostgreSQL): the part they have
//! in common (the lease, the TTL, a time limit on every call, the release of abandoned claims), so
//! that each storage only says how it claims, commits and releases, each in one atomic step.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::replay::{ClaimStatus, ClaimToken, ReplayGuard, ReplayGuardError, DEFAULT_LEASE, DEFAULT_TTL};

/// How long one call to the storage may take by default: past it the delivery is answered 503
/// (WeChat Pay delivers again) rather than kept waiting (WeChat Pay waits 5 s for the answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Leases and TTLs from this long on are stored as never expiring: no storage represents
/// `Duration::MAX`, and a century is forever to a notification.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Shared storage for [`SharedReplayGuard`]: the documented semantics of [`ReplayGuard`], each step
/// one atomic operation (a compare-and-set on the token). Implemented for Redis
/// ([`RedisStorage`](super::redis::RedisStorage)) and PostgreSQL
/// ([`PostgresStorage`](super::postgres::PostgresStorage)).
pub trait Storage: Send + Sync + 'static {
    /// Claims `id` for `token` for `lease` (`None`: never expires) unless it is handled or claimed
    /// by a lease still running.
    fn claim(
        &self,
        id: &str,
        token: &ClaimToken,
        lease: Option<Duration>,
    ) -> impl Future<Output = Result<ClaimStatus, ReplayGuardError>> + Send;

    /// Records `id` as handled for `ttl` (`None`: forever) if `token` still holds it, or nobody does.
    fn commit(
        &self,
        id: &str,
        token: &ClaimToken,
        ttl: Option<Duration>,
    ) -> impl Future<Output = Result<(), ReplayGuardError>> + Send;

    /// Deletes `token`'s claim on `id`, if it is still `token`'s and not handled.
    fn release(&self, id: &str, token: &ClaimToken) -> impl Future<Output = Result<(), ReplayGuardError>> + Send;
}

/// A [`ReplayGuard`] over shared [`Storage`], for a service running on several instances: see
/// [`RedisReplayGuard`](super::redis::RedisReplayGuard) and
/// [`PostgresReplayGuard`](super::postgres::PostgresReplayGuard).
///
/// Every call is bounded by [`timeout`](Self::timeout): a storage that is slow or down yields a
/// [`ReplayGuardError`], which [`NotifyError::status`](super::NotifyError::status) answers with 503,
/// so WeChat Pay delivers again; nothing is recorded as handled that was not. A claim abandoned
/// without commit or release (its future dropped) is released by a task on the tokio runtime.
pub struct SharedReplayGuard<S> {
    storage: Arc<S>,
    lease: Duration,
    ttl: Duration,
    timeout: Duration,
}

impl<S: Storage> SharedReplayGuard<S> {
    /// A guard over `storage` with [`DEFAULT_LEASE`], [`DEFAULT_TTL`] and [`DEFAULT_TIMEOUT`].
    pub fn new(storage: S) -> Self {
        SharedReplayGuard {
            storage: Arc::new(storage),
            lease: DEFAULT_LEASE,
            ttl: DEFAULT_TTL,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// How long a claim lasts before another delivery may take the id over (default 60 s): longer
    /// than the handler's worst case.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long handled ids are remembered (default 25 h: WeChat Pay retries for about 24 h).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The longest one call to the storage may take (default 1 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }
}

/// `None` for a duration that means forever.
fn finite(duration: Duration) -> Option<Duration> {
    (duration < FOREVER).then_some(duration)
}

/// `future`, or an error once `timeout` has passed without an answer.
async fn within<T>(
    timeout: Duration,
    step: &'static str,
    future: impl Future<Output = Result<T, ReplayGuardError>>,
) -> Result<T, ReplayGuardError> {
    match tokio::time::timeout(timeout, future).await {
        Ok(result) => result,
        Err(_) => Err(ReplayGuardError::new(format!("{step}: the storage did not answer within {timeout:?}"))),
    }
}

impl<S: Storage> ReplayGuard for SharedReplayGuard<S> {
    fn try_claim<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
    ) -> BoxFuture<'a, Result<ClaimStatus, ReplayGuardError>> {
        Box::pin(within(self.timeout, "claim", self.storage.claim(id, token, finite(self.lease))))
    }

    fn commit<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
        Box::pin(within(self.timeout, "commit", self.storage.commit(id, token, finite(self.ttl))))
    }

    fn release<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
        Box::pin(within(self.timeout, "release", self.storage.release(id, token)))
    }

    fn abandon(&self, id: &str, token: &ClaimToken) {
        // Called from `Drop`, so nothing may wait here: a task releases the claim. Outside a tokio
        // runtime the claim expires with its lease.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (storage, timeout, id, token) = (self.storage.clone(), self.timeout, id.to_owned(), token.clone());
        runtime.spawn(async move {
            if let Err(error) = within(timeout, "release", storage.release(&id, &token)).await {
                tracing::warn!(%error, id, "cannot release an abandoned notification claim; it expires with its lease");
            }
        });
    }
}

impl<S> Clone for SharedReplayGuard<S> {
    fn clone(&self) -> Self {
        SharedReplayGuard { storage: self.storage.clone(), lease: self.lease, ttl: self.ttl, timeout: self.timeout }
    }
}

impl<S: fmt::Debug> fmt::Debug for SharedReplayGuard<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedReplayGuard")
            .field("storage", &self.storage)
            .field("lease", &self.lease)
            .field("ttl", &self.ttl)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_of_a_century_or_more_mean_forever() {
        assert_eq!(finite(Duration::MAX), None);
        assert_eq!(finite(FOREVER), None);
        assert_eq!(finite(DEFAULT_TTL), Some(DEFAULT_TTL));
    }

    #[tokio::test]
    async fn a_storage_that_does_not_answer_is_an_error_after_the_timeout() {
        let hang = std::future::pending::<Result<(), ReplayGuardError>>();
        let error = within(Duration::from_millis(30), "claim", hang).await.unwrap_err();
        assert_eq!(error.to_string(), "claim: the storage did not answer within 30ms");
    }
}

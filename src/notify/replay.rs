//! Remembering which notifications were handled, so a redelivery is answered but not processed twice.

use std::collections::{HashMap, VecDeque};
use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

/// What [`ReplayGuard::try_claim`] found for a notification id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClaimStatus {
    /// The id is new (or its earlier processing failed, or its last claim lapsed): the caller's
    /// token now holds it, and it must [`commit`](ReplayGuard::commit) or
    /// [`release`](ReplayGuard::release) it.
    Claimed,
    /// The id was handled before: answer success, do not process again.
    Handled,
    /// Another delivery of the id is being processed right now: answer failure, so that WeChat Pay
    /// retries later and finds it handled (or free again, if that processing failed).
    InProgress,
}

/// A replay guard's storage failed (e.g. Redis unreachable). Answered with a 503, so WeChat Pay retries.
#[derive(Debug)]
pub struct ReplayGuardError(Box<dyn StdError + Send + Sync>);

impl ReplayGuardError {
    /// Wraps the storage's own error.
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        ReplayGuardError(error.into())
    }
}

impl fmt::Display for ReplayGuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for ReplayGuardError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// Who holds the claim on a notification id: a random value made for each delivery, stored with
/// the claim, and compared by [`ReplayGuard::commit`], [`ReplayGuard::release`] and
/// [`ReplayGuard::abandon`], which act only on the claim that carries it. Not a secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken(String);

impl ClaimToken {
    /// A fresh random token (32 letters and digits).
    pub fn new() -> Self {
        ClaimToken(crate::keys::nonce())
    }

    /// The token as stored, e.g. in Redis or a database column.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ClaimToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimToken({})", self.0)
    }
}

/// Where handled notification ids are kept.
///
/// An id goes through three states: absent, *claimed* by one delivery (its [`ClaimToken`]) and
/// *handled*. [`try_claim`](Self::try_claim) moves absent → claimed atomically (two concurrent
/// deliveries of one id must not both get [`ClaimStatus::Claimed`]); [`commit`](Self::commit)
/// moves it to handled once the merchant's processing succeeded; [`release`](Self::release) moves
/// it back to absent when processing failed, so WeChat Pay's next retry is processed again.
///
/// A claim expires by itself after a lease (a process may crash, or a handler be cancelled when
/// WeChat Pay hangs up after its 5 s timeout); another delivery may then claim the id. So every
/// change after the claim is **compare-and-set on the token**: a handler that outlived its lease
/// must not release (or abandon) the claim a later delivery now holds, else a third delivery could
/// run alongside the second. `commit` records the id as handled when the claim is still the
/// caller's or has lapsed with nobody else holding it; when another delivery holds it, `commit`
/// leaves it to that delivery. Handled ids should be kept at least as long as WeChat Pay retries
/// (about 24 h).
///
/// # At least once, not exactly once
/// The guard makes concurrent processing of one id impossible while leases hold, and repeated
/// processing of a handled id impossible while the id is remembered. A notification can still
/// be processed twice: when the handler runs longer than the lease (a redelivery takes the id
/// over), when the process dies between the handler's effect and the commit, or when the commit
/// itself fails. Make processing idempotent in its own terms ("mark the order paid unless it is
/// already"), and choose a lease longer than the handler's worst case (default 60 s).
///
/// # Shared storage
/// With the feature `redis` or `postgres`, `notify::redis::RedisReplayGuard` and
/// `notify::postgres::PostgresReplayGuard` implement it (each step one atomic script or statement);
/// for other storage, implement it yourself:
///
/// ```
/// use wechatpay::notify::{BoxFuture, ClaimStatus, ClaimToken, ReplayGuard, ReplayGuardError};
///
/// struct Store; // your connection pool
///
/// impl ReplayGuard for Store {
///     fn try_claim<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<ClaimStatus, ReplayGuardError>> {
///         Box::pin(async move {
///             let _ = (id, token.as_str()); // store the token unless handled or claimed, atomically
///             Ok(ClaimStatus::Claimed)
///         })
///     }
///     fn commit<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
///         Box::pin(async move { let _ = (id, token); Ok(()) }) // compare-and-set on the token
///     }
///     fn release<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
///         Box::pin(async move { let _ = (id, token); Ok(()) }) // compare-and-delete on the token
///     }
/// }
/// ```
pub trait ReplayGuard: Send + Sync + 'static {
    /// Claims `id` for the delivery holding `token`, or says why not.
    fn try_claim<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
    ) -> BoxFuture<'a, Result<ClaimStatus, ReplayGuardError>>;

    /// Records `id` as handled: its processing succeeded. Only if the claim is still `token`'s, or
    /// lapsed with nobody else holding it.
    fn commit<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), ReplayGuardError>>;

    /// Gives `token`'s claim on `id` up: its processing failed, the next delivery must be
    /// processed. Does nothing when the claim is no longer `token`'s.
    fn release<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), ReplayGuardError>>;

    /// Called (synchronously, from `Drop`) when a [`Claim`](super::Claim) is dropped without a
    /// commit or release, e.g. because the handler's future was cancelled. Best effort, and only
    /// on `token`'s own claim: the default does nothing and lets the lease expire; a guard that can
    /// release without waiting should.
    fn abandon(&self, id: &str, token: &ClaimToken) {
        let _ = (id, token);
    }
}

/// How long [`InMemoryReplayGuard`] keeps handled ids by default: WeChat Pay retries a notification
/// for about 24 hours (15 s, 15 s, 30 s, 3 min, … 6 h), plus a margin.
pub const DEFAULT_TTL: Duration = Duration::from_secs(25 * 60 * 60);
/// How long a claim lasts by default before another delivery may take the id over.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// How many handled ids [`InMemoryReplayGuard`] keeps by default (the oldest go first).
pub const DEFAULT_CAPACITY: usize = 100_000;

/// The default [`ReplayGuard`]: handled ids in this process's memory, bounded in number and time.
///
/// **Single process only**: ids are lost on restart and not shared between instances behind a load
/// balancer, so a redelivery that reaches another instance is processed again. Processing should be
/// idempotent anyway (e.g. "mark order paid unless already paid"); across processes, share a guard
/// on Redis or PostgreSQL (features `redis`, `postgres`) or implement [`ReplayGuard`] over other
/// shared storage.
///
/// When more than `capacity` ids are handled within the TTL, the oldest are forgotten first. A
/// lease or TTL too long to represent (e.g. `Duration::MAX`) means forever.
#[derive(Clone)]
pub struct InMemoryReplayGuard {
    inner: Arc<Mutex<Memory>>,
    ttl: Duration,
    lease: Duration,
    capacity: usize,
}

/// When something ends: `None` for never.
type Expiry = Option<Instant>;

fn expired(expiry: Expiry, now: Instant) -> bool {
    expiry.is_some_and(|at| at <= now)
}

#[derive(Default)]
struct Memory {
    /// Handled ids and when they expire.
    handled: HashMap<String, Expiry>,
    /// Handled ids in the order they were committed (expiry order, the TTL being fixed). May hold
    /// ids no longer in `handled`, or committed again later: checked against `handled` on eviction.
    order: VecDeque<(String, Expiry)>,
    /// Claimed ids, the token holding each, and when its lease ends.
    claimed: HashMap<String, (ClaimToken, Expiry)>,
}

impl InMemoryReplayGuard {
    /// A guard with [`DEFAULT_TTL`], [`DEFAULT_LEASE`] and [`DEFAULT_CAPACITY`].
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_CAPACITY, DEFAULT_TTL)
    }

    /// A guard keeping at most `capacity` handled ids, each for `ttl`.
    pub fn with_limits(capacity: usize, ttl: Duration) -> Self {
        InMemoryReplayGuard {
            inner: Arc::new(Mutex::new(Memory::default())),
            ttl,
            lease: DEFAULT_LEASE,
            capacity: capacity.max(1),
        }
    }

    /// How long a claim lasts before another delivery may take the id over (default 60 s).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How many handled ids are held now (expired ones included until they are swept).
    pub fn len(&self) -> usize {
        self.memory().handled.len()
    }

    /// Whether no handled id is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        // Every update below leaves the maps consistent, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn claim_now(&self, id: &str, token: &ClaimToken, now: Instant) -> ClaimStatus {
        let mut memory = self.memory();
        if memory.handled.get(id).is_some_and(|expiry| !expired(*expiry, now)) {
            return ClaimStatus::Handled;
        }
        if memory.claimed.get(id).is_some_and(|(_, until)| !expired(*until, now)) {
            return ClaimStatus::InProgress;
        }
        memory.claimed.retain(|_, (_, until)| !expired(*until, now));
        memory.claimed.insert(id.to_owned(), (token.clone(), now.checked_add(self.lease)));
        ClaimStatus::Claimed
    }

    fn commit_now(&self, id: &str, token: &ClaimToken, now: Instant) {
        let mut memory = self.memory();
        match memory.claimed.get(id) {
            Some((holder, _)) if holder == token => {
                memory.claimed.remove(id);
            }
            // Another delivery took the id over after this one's lease: its claim is its own.
            Some((_, until)) if !expired(*until, now) => return,
            _ => {}
        }
        let expiry = now.checked_add(self.ttl);
        memory.handled.insert(id.to_owned(), expiry);
        memory.order.push_back((id.to_owned(), expiry));
        // Sweep what expired, then the oldest beyond capacity.
        while let Some((oldest, expiry)) = memory.order.front().cloned() {
            let current = memory.handled.get(&oldest).copied();
            let stale = current != Some(expiry);
            let over = memory.handled.len() > self.capacity;
            if stale {
                memory.order.pop_front();
            } else if expired(expiry, now) || over {
                memory.order.pop_front();
                memory.handled.remove(&oldest);
            } else {
                break;
            }
        }
    }

    fn release_now(&self, id: &str, token: &ClaimToken) {
        let mut memory = self.memory();
        if memory.claimed.get(id).is_some_and(|(holder, _)| holder == token) {
            memory.claimed.remove(id);
        }
    }
}

impl Default for InMemoryReplayGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for InMemoryReplayGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryReplayGuard")
            .field("handled", &self.len())
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .field("lease", &self.lease)
            .finish()
    }
}

impl ReplayGuard for InMemoryReplayGuard {
    fn try_claim<'a>(
        &'a self,
        id: &'a str,
        token: &'a ClaimToken,
    ) -> BoxFuture<'a, Result<ClaimStatus, ReplayGuardError>> {
        let status = self.claim_now(id, token, Instant::now());
        Box::pin(std::future::ready(Ok(status)))
    }

    fn commit<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
        self.commit_now(id, token, Instant::now());
        Box::pin(std::future::ready(Ok(())))
    }

    fn release<'a>(&'a self, id: &'a str, token: &'a ClaimToken) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
        self.release_now(id, token);
        Box::pin(std::future::ready(Ok(())))
    }

    fn abandon(&self, id: &str, token: &ClaimToken) {
        self.release_now(id, token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_handled_only_after_commit() {
        let guard = InMemoryReplayGuard::new();
        let (first, second) = (ClaimToken::new(), ClaimToken::new());
        let now = Instant::now();
        assert_eq!(guard.claim_now("a", &first, now), ClaimStatus::Claimed);
        assert_eq!(guard.claim_now("a", &second, now), ClaimStatus::InProgress);
        guard.release_now("a", &first);
        assert_eq!(guard.claim_now("a", &second, now), ClaimStatus::Claimed);
        guard.commit_now("a", &second, now);
        assert_eq!(guard.claim_now("a", &first, now), ClaimStatus::Handled);
    }

    #[test]
    fn a_claim_expires_after_its_lease() {
        let guard = InMemoryReplayGuard::new().lease(Duration::from_secs(10));
        let token = ClaimToken::new();
        let now = Instant::now();
        assert_eq!(guard.claim_now("a", &token, now), ClaimStatus::Claimed);
        assert_eq!(guard.claim_now("a", &token, now + Duration::from_secs(9)), ClaimStatus::InProgress);
        assert_eq!(guard.claim_now("a", &token, now + Duration::from_secs(11)), ClaimStatus::Claimed);
    }

    #[test]
    fn release_and_commit_act_only_on_their_own_claim() {
        let guard = InMemoryReplayGuard::new().lease(Duration::from_secs(10));
        let (late, current) = (ClaimToken::new(), ClaimToken::new());
        let now = Instant::now();
        assert_eq!(guard.claim_now("a", &late, now), ClaimStatus::Claimed);
        let later = now + Duration::from_secs(11);
        assert_eq!(guard.claim_now("a", &current, later), ClaimStatus::Claimed, "the lease ran out");
        guard.release_now("a", &late);
        guard.commit_now("a", &late, later);
        assert_eq!(guard.claim_now("a", &ClaimToken::new(), later), ClaimStatus::InProgress);
        guard.commit_now("a", &current, later);
        assert_eq!(guard.claim_now("a", &ClaimToken::new(), later), ClaimStatus::Handled);
    }

    #[test]
    fn a_commit_after_the_lease_lapsed_unclaimed_still_records_the_id() {
        let guard = InMemoryReplayGuard::new().lease(Duration::from_secs(10));
        let token = ClaimToken::new();
        let now = Instant::now();
        guard.claim_now("a", &token, now);
        guard.commit_now("a", &token, now + Duration::from_secs(30));
        assert_eq!(guard.claim_now("a", &ClaimToken::new(), now + Duration::from_secs(31)), ClaimStatus::Handled);
    }

    #[test]
    fn leases_and_ttls_too_long_to_represent_mean_forever() {
        let guard = InMemoryReplayGuard::with_limits(10, Duration::MAX).lease(Duration::MAX);
        let token = ClaimToken::new();
        let now = Instant::now();
        assert_eq!(guard.claim_now("a", &token, now), ClaimStatus::Claimed);
        assert_eq!(guard.claim_now("a", &token, now + Duration::from_secs(1 << 40)), ClaimStatus::InProgress);
        guard.commit_now("a", &token, now);
        assert_eq!(guard.claim_now("a", &token, now + Duration::from_secs(1 << 40)), ClaimStatus::Handled);
    }

    #[test]
    fn handled_ids_are_bounded_by_ttl_and_capacity() {
        let guard = InMemoryReplayGuard::with_limits(2, Duration::from_secs(100));
        let token = ClaimToken::new();
        let now = Instant::now();
        for (offset, id) in ["a", "b", "c"].into_iter().enumerate() {
            guard.commit_now(id, &token, now + Duration::from_secs(offset as u64));
        }
        assert_eq!(guard.len(), 2);
        assert_eq!(guard.claim_now("a", &token, now + Duration::from_secs(3)), ClaimStatus::Claimed);
        assert_eq!(guard.claim_now("c", &token, now + Duration::from_secs(3)), ClaimStatus::Handled);
        // `b` expires at 101 s, `c` at 102 s.
        assert_eq!(guard.claim_now("b", &token, now + Duration::from_secs(101)), ClaimStatus::Claimed);
        guard.commit_now("d", &token, now + Duration::from_secs(150));
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn committing_an_id_again_keeps_it_once() {
        let guard = InMemoryReplayGuard::with_limits(2, Duration::from_secs(100));
        let token = ClaimToken::new();
        let now = Instant::now();
        guard.commit_now("a", &token, now);
        guard.commit_now("a", &token, now + Duration::from_secs(1));
        guard.commit_now("b", &token, now + Duration::from_secs(2));
        assert_eq!(guard.len(), 2);
        assert_eq!(guard.claim_now("a", &token, now + Duration::from_secs(3)), ClaimStatus::Handled);
    }
}

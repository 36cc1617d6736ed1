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
    /// The id is new (or its earlier processing failed): the caller now holds it and must
    /// [`commit`](ReplayGuard::commit) or [`release`](ReplayGuard::release) it.
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

/// Where handled notification ids are kept.
///
/// An id goes through three states: absent, *claimed* (a delivery is being processed) and
/// *handled*. [`try_claim`](Self::try_claim) moves absent → claimed atomically (two concurrent
/// deliveries of one id must not both get [`ClaimStatus::Claimed`]); [`commit`](Self::commit) moves
/// claimed → handled once the merchant's processing succeeded; [`release`](Self::release) moves
/// claimed → absent when it failed, so WeChat Pay's next retry is processed again.
///
/// A claim must expire by itself after a lease (a process may crash, or a handler be cancelled when
/// WeChat Pay hangs up after its 5 s timeout), and handled ids should be kept at least as long as
/// WeChat Pay retries (about 24 h).
///
/// [`InMemoryReplayGuard`] is the default. For several processes, implement this trait over shared
/// storage; with Redis, for instance:
/// - `try_claim`: `SET notify:{id} claimed NX PX <lease>`; when that fails, `GET` tells
///   `handled` from `claimed`;
/// - `commit`: `SET notify:{id} handled PX <ttl>`;
/// - `release`: `DEL notify:{id}`.
///
/// ```
/// use wechatpay::notify::{BoxFuture, ClaimStatus, ReplayGuard, ReplayGuardError};
///
/// struct Redis; // your connection pool
///
/// impl ReplayGuard for Redis {
///     fn try_claim<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<ClaimStatus, ReplayGuardError>> {
///         Box::pin(async move {
///             let _ = id; // SET … NX PX …, then GET
///             Ok(ClaimStatus::Claimed)
///         })
///     }
///     fn commit<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
///         Box::pin(async move { let _ = id; Ok(()) })
///     }
///     fn release<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
///         Box::pin(async move { let _ = id; Ok(()) })
///     }
/// }
/// ```
pub trait ReplayGuard: Send + Sync + 'static {
    /// Claims `id` for processing, or says why not.
    fn try_claim<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<ClaimStatus, ReplayGuardError>>;

    /// Records the claimed `id` as handled: its processing succeeded.
    fn commit<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), ReplayGuardError>>;

    /// Gives the claim on `id` up: its processing failed, the next delivery must be processed.
    fn release<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), ReplayGuardError>>;

    /// Called (synchronously, from `Drop`) when a [`Claim`](super::Claim) is dropped without a
    /// commit or release, e.g. because the handler's future was cancelled. Best effort: the default
    /// does nothing and lets the lease expire; a guard that can release without waiting should.
    fn abandon(&self, id: &str) {
        let _ = id;
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
/// idempotent anyway (e.g. "mark order paid unless already paid"); for a stronger guarantee across
/// processes implement [`ReplayGuard`] over shared storage.
///
/// When more than `capacity` ids are handled within the TTL, the oldest are forgotten first.
#[derive(Clone)]
pub struct InMemoryReplayGuard {
    inner: Arc<Mutex<Memory>>,
    ttl: Duration,
    lease: Duration,
    capacity: usize,
}

#[derive(Default)]
struct Memory {
    /// Handled ids and when they expire.
    handled: HashMap<String, Instant>,
    /// Handled ids in the order they were committed (expiry order, the TTL being fixed). May hold
    /// ids no longer in `handled`, or committed again later: checked against `handled` on eviction.
    order: VecDeque<(String, Instant)>,
    /// Claimed ids and when their lease ends.
    claimed: HashMap<String, Instant>,
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

    fn claim_now(&self, id: &str, now: Instant) -> ClaimStatus {
        let mut memory = self.memory();
        if memory.handled.get(id).is_some_and(|expiry| *expiry > now) {
            return ClaimStatus::Handled;
        }
        if memory.claimed.get(id).is_some_and(|until| *until > now) {
            return ClaimStatus::InProgress;
        }
        memory.claimed.retain(|_, until| *until > now);
        memory.claimed.insert(id.to_owned(), now + self.lease);
        ClaimStatus::Claimed
    }

    fn commit_now(&self, id: &str, now: Instant) {
        let mut memory = self.memory();
        memory.claimed.remove(id);
        let expiry = now + self.ttl;
        memory.handled.insert(id.to_owned(), expiry);
        memory.order.push_back((id.to_owned(), expiry));
        // Sweep what expired, then the oldest beyond capacity.
        while let Some((oldest, expiry)) = memory.order.front().cloned() {
            let current = memory.handled.get(&oldest).copied();
            let stale = current != Some(expiry);
            let expired = expiry <= now;
            let over = memory.handled.len() > self.capacity;
            if stale {
                memory.order.pop_front();
            } else if expired || over {
                memory.order.pop_front();
                memory.handled.remove(&oldest);
            } else {
                break;
            }
        }
    }

    fn release_now(&self, id: &str) {
        self.memory().claimed.remove(id);
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
    fn try_claim<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<ClaimStatus, ReplayGuardError>> {
        let status = self.claim_now(id, Instant::now());
        Box::pin(std::future::ready(Ok(status)))
    }

    fn commit<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
        self.commit_now(id, Instant::now());
        Box::pin(std::future::ready(Ok(())))
    }

    fn release<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), ReplayGuardError>> {
        self.release_now(id);
        Box::pin(std::future::ready(Ok(())))
    }

    fn abandon(&self, id: &str) {
        self.release_now(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_handled_only_after_commit() {
        let guard = InMemoryReplayGuard::new();
        let now = Instant::now();
        assert_eq!(guard.claim_now("a", now), ClaimStatus::Claimed);
        assert_eq!(guard.claim_now("a", now), ClaimStatus::InProgress);
        guard.release_now("a");
        assert_eq!(guard.claim_now("a", now), ClaimStatus::Claimed);
        guard.commit_now("a", now);
        assert_eq!(guard.claim_now("a", now), ClaimStatus::Handled);
    }

    #[test]
    fn a_claim_expires_after_its_lease() {
        let guard = InMemoryReplayGuard::new().lease(Duration::from_secs(10));
        let now = Instant::now();
        assert_eq!(guard.claim_now("a", now), ClaimStatus::Claimed);
        assert_eq!(guard.claim_now("a", now + Duration::from_secs(9)), ClaimStatus::InProgress);
        assert_eq!(guard.claim_now("a", now + Duration::from_secs(11)), ClaimStatus::Claimed);
    }

    #[test]
    fn handled_ids_are_bounded_by_ttl_and_capacity() {
        let guard = InMemoryReplayGuard::with_limits(2, Duration::from_secs(100));
        let now = Instant::now();
        for (offset, id) in ["a", "b", "c"].into_iter().enumerate() {
            guard.commit_now(id, now + Duration::from_secs(offset as u64));
        }
        assert_eq!(guard.len(), 2);
        assert_eq!(guard.claim_now("a", now + Duration::from_secs(3)), ClaimStatus::Claimed);
        assert_eq!(guard.claim_now("c", now + Duration::from_secs(3)), ClaimStatus::Handled);
        // `b` expires at 101 s, `c` at 102 s.
        assert_eq!(guard.claim_now("b", now + Duration::from_secs(101)), ClaimStatus::Claimed);
        guard.commit_now("d", now + Duration::from_secs(150));
        assert_eq!(guard.len(), 1);
    }

    #[test]
    fn committing_an_id_again_keeps_it_once() {
        let guard = InMemoryReplayGuard::with_limits(2, Duration::from_secs(100));
        let now = Instant::now();
        guard.commit_now("a", now);
        guard.commit_now("a", now + Duration::from_secs(1));
        guard.commit_now("b", now + Duration::from_secs(2));
        assert_eq!(guard.len(), 2);
        assert_eq!(guard.claim_now("a", now + Duration::from_secs(3)), ClaimStatus::Handled);
    }
}

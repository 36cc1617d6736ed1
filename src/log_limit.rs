//! Logging what others send, bounded: an answer or notification that deviates from its
//! documentation is logged once per operation (or event type) and JSON path, and rejected
//! notifications, which anyone can send, at most a few times a minute. Neither can fill a log.
//!
//! Written here rather than taken from a crate: a set with a cap and a counter per minute are a
//! few lines, where rate-limiting crates bring clocks and generic keys this does not need.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use wechatpay_generated::runtime::{Deviation, DeviationKind};

/// How many (operation, path) pairs are remembered as logged; beyond it, deviations are logged
/// at most [`PER_MINUTE`] times a minute in all.
const REMEMBERED: usize = 4096;
/// How many lines a minute a [`Budget`] allows.
pub(crate) const PER_MINUTE: u32 = 10;

static LOGGED: Mutex<Option<HashSet<(String, String)>>> = Mutex::new(None);
static OVERFLOW: Budget = Budget::new();

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A set and counters: nothing a panic could leave half-written.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Logs each deviation of an answer of `subject` (an operation's path template, or a
/// notification's event type) at `WARN`, the first time its path is seen for that subject.
pub(crate) fn deviations(subject: &str, deviations: &[Deviation]) {
    for deviation in deviations {
        if first_time(subject, &deviation.path) {
            let (what, found) = match &deviation.kind {
                DeviationKind::Absent => ("a required member is absent", "nothing"),
                DeviationKind::Mismatch { found, .. } => ("a value is not of its documented type", *found),
                DeviationKind::Undocumented => ("none of the documented members is present", "other members"),
                _ => ("the answer differs from its documentation", "something else"),
            };
            tracing::warn!(
                subject,
                path = %deviation.path,
                found,
                %deviation,
                "{what}: it reads as its type's default (logged once per path)"
            );
        }
    }
}

fn first_time(subject: &str, path: &str) -> bool {
    let mut logged = lock(&LOGGED);
    let logged = logged.get_or_insert_with(HashSet::new);
    let key = (subject.to_owned(), path.to_owned());
    if logged.contains(&key) {
        return false;
    }
    if logged.len() < REMEMBERED {
        logged.insert(key);
        return true;
    }
    OVERFLOW.allow().is_some()
}

/// A few log lines a minute: [`allow`](Self::allow) says whether to log now, and how many lines
/// were held back since the last one.
pub(crate) struct Budget {
    window: Mutex<Option<(Instant, u32, u64)>>,
}

impl Budget {
    pub(crate) const fn new() -> Self {
        Budget { window: Mutex::new(None) }
    }

    /// `Some(suppressed)` when a line may be logged now (`suppressed`: lines held back before
    /// it), `None` when this minute's budget is spent.
    pub(crate) fn allow(&self) -> Option<u64> {
        let now = Instant::now();
        let mut window = lock(&self.window);
        let (started, used, suppressed) = window.get_or_insert((now, 0, 0));
        if now.saturating_duration_since(*started) >= Duration::from_secs(60) {
            *started = now;
            *used = 0;
        }
        if *used >= PER_MINUTE {
            *suppressed += 1;
            return None;
        }
        *used += 1;
        Some(std::mem::take(suppressed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_allows_a_few_lines_a_minute_and_counts_the_rest() {
        let budget = Budget::new();
        for _ in 0..PER_MINUTE {
            assert_eq!(budget.allow(), Some(0));
        }
        assert_eq!(budget.allow(), None);
        assert_eq!(budget.allow(), None);
        let mut window = lock(&budget.window);
        window.as_mut().unwrap().0 -= Duration::from_secs(61);
        drop(window);
        assert_eq!(budget.allow(), Some(2), "the next minute's first line says how many were held back");
    }

    #[test]
    fn each_path_is_logged_once_per_subject() {
        assert!(first_time("/v3/test/once", "amount.total"));
        assert!(!first_time("/v3/test/once", "amount.total"));
        assert!(first_time("/v3/test/once", "amount.currency"));
        assert!(first_time("REFUND.SUCCESS.test", "amount.total"));
    }
}

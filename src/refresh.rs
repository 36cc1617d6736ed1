//! When WeChat Pay keys are refreshed, for the client's certificate downloads and for the
//! notifications' key refresher alike:
//! - one refresh at a time, in the background ([`Flight`]): callers that hold a usable key never
//!   wait for it, callers that do not wait for it only as long as they can afford;
//! - a refresh asked for by an unknown serial ([`SerialLimiter`]) at most once per serial and
//!   minute, and a few times a minute in all, so that messages naming made-up serials (they cost
//!   nothing to send) can neither keep the certificate endpoint busy nor use up the refresh that a
//!   genuine rotation needs.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How long an unknown serial is not asked for again.
pub(crate) const PER_SERIAL: Duration = Duration::from_secs(60);
/// How many refreshes unknown serials may ask for within [`PER_SERIAL`], all serials together.
pub(crate) const PER_MINUTE: usize = 10;

/// One background job at a time (written here rather than taken from a crate: it is a flag and a
/// `tokio::sync::watch`, and the crates that do single-flight key it by request, not by job).
pub(crate) struct Flight {
    running: Mutex<bool>,
    /// Bumped each time a job ends.
    landed: watch::Sender<u64>,
}

/// The end of the job that was running (or started) when it was made.
pub(crate) struct Landing(watch::Receiver<u64>);

impl Flight {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Flight { running: Mutex::new(false), landed: watch::Sender::new(0) })
    }

    fn running(&self) -> std::sync::MutexGuard<'_, bool> {
        // A bool cannot be left half-written: a poisoned lock is still right.
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The end of the running job, if one is running.
    pub(crate) fn join(&self) -> Option<Landing> {
        let running = self.running();
        running.then(|| Landing(self.landed.subscribe()))
    }

    /// Starts `job` on the tokio runtime unless a job is running (then `job` is dropped unstarted),
    /// and returns the end of whichever runs. Without a tokio runtime nothing is started and the
    /// landing comes at once.
    pub(crate) fn start<F>(self: &Arc<Self>, job: F) -> Landing
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let landing = Landing(self.landed.subscribe());
        let mut running = self.running();
        if *running {
            return landing;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no tokio runtime: the WeChat Pay keys are not refreshed");
            return Landing(watch::Sender::new(0).subscribe());
        };
        *running = true;
        // Made before the task is spawned and moved into it: it lands when the job ends, panics,
        // or is dropped without ever being polled (a runtime shutting down), so the flag never
        // stays set and refreshes never stop.
        let landed = Landed(self.clone());
        drop(running);
        runtime.spawn(async move {
            job.await;
            drop(landed);
        });
        landing
    }
}

/// Clears the running flag and announces the landing when dropped.
struct Landed(Arc<Flight>);

impl Drop for Landed {
    fn drop(&mut self) {
        *self.0.running() = false;
        self.0.landed.send_modify(|count| *count = count.wrapping_add(1));
    }
}

impl Landing {
    /// Waits for the job to end, at most `bound`; whether it ended.
    pub(crate) async fn wait(mut self, bound: Duration) -> bool {
        matches!(tokio::time::timeout(bound, self.0.changed()).await, Ok(Ok(())))
    }
}

/// The end of a wait of some duration, which may be too long to represent (`Duration::MAX`):
/// then it never comes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    pub(crate) fn after(wait: Duration) -> Self {
        Deadline(Instant::now().checked_add(wait))
    }

    /// What is left of the wait (`Duration::MAX` for one that never ends).
    pub(crate) fn remaining(self) -> Duration {
        self.0.map_or(Duration::MAX, |at| at.saturating_duration_since(Instant::now()))
    }
}

/// Which unknown serials may ask for a refresh now: each at most once per [`PER_SERIAL`], and at
/// most [`PER_MINUTE`] of them within that time.
#[derive(Debug, Default)]
pub(crate) struct SerialLimiter {
    /// Serials granted a refresh, and when.
    asked: HashMap<String, Instant>,
    /// When refreshes were granted, oldest first.
    granted: VecDeque<Instant>,
}

impl SerialLimiter {
    /// Whether `serial` may ask for a refresh at `now`; if so, that is recorded.
    pub(crate) fn allow(&mut self, serial: &str, now: Instant) -> bool {
        let recent = |at: &Instant| now.saturating_duration_since(*at) < PER_SERIAL;
        self.asked.retain(|_, at| recent(at));
        while self.granted.front().is_some_and(|at| !recent(at)) {
            self.granted.pop_front();
        }
        if self.asked.contains_key(serial) || self.granted.len() >= PER_MINUTE {
            return false;
        }
        self.asked.insert(serial.to_owned(), now);
        self.granted.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_too_long_to_represent_never_ends_and_does_not_panic() {
        assert_eq!(Deadline::after(Duration::MAX).remaining(), Duration::MAX);
        assert!(Deadline::after(Duration::from_secs(5)).remaining() <= Duration::from_secs(5));
        assert_eq!(Deadline::after(Duration::ZERO).remaining(), Duration::ZERO);
    }

    #[test]
    fn each_serial_asks_once_a_minute_and_all_together_a_few_times() {
        let mut limiter = SerialLimiter::default();
        let start = Instant::now();
        assert!(limiter.allow("A", start));
        assert!(!limiter.allow("A", start + Duration::from_secs(59)));
        assert!(limiter.allow("B", start + Duration::from_secs(1)));
        for n in 2..PER_MINUTE {
            assert!(limiter.allow(&format!("S{n}"), start + Duration::from_secs(2)), "{n}");
        }
        assert!(!limiter.allow("NEW", start + Duration::from_secs(3)), "the budget is spent");
        assert!(limiter.allow("A", start + Duration::from_secs(61)), "a minute later, A may ask again");
        assert!(limiter.asked.len() <= PER_MINUTE, "memory is bounded by the budget");
    }

    #[test]
    fn a_job_dropped_before_it_ran_lands_and_the_next_one_starts() {
        let flight = Flight::new();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let landing = runtime.block_on(async { flight.start(std::future::pending()) });
        assert!(flight.join().is_some(), "running until its task ends");
        drop(runtime); // drops the spawned task without polling it
        assert!(flight.join().is_none(), "the dropped job landed: the flag is clear");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(async {
            assert!(landing.wait(Duration::from_secs(1)).await, "its landing was announced");
            let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = ran.clone();
            let next = flight.start(async move { flag.store(true, std::sync::atomic::Ordering::SeqCst) });
            assert!(next.wait(Duration::from_secs(5)).await);
            assert!(ran.load(std::sync::atomic::Ordering::SeqCst), "a new job starts");
        });
    }

    #[tokio::test]
    async fn one_job_runs_at_a_time_and_everyone_sees_it_land() {
        let flight = Flight::new();
        let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let job = |runs: Arc<std::sync::atomic::AtomicUsize>| async move {
            runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        };
        let first = flight.start({
            let runs = runs.clone();
            async move {
                let _ = released.await;
                job(runs).await;
            }
        });
        let second = flight.start(job(runs.clone()));
        let joined = flight.join().expect("running");
        assert!(!flight.join().expect("running").wait(Duration::from_millis(20)).await, "still running");
        release.send(()).unwrap();
        assert!(first.wait(Duration::from_secs(5)).await);
        assert!(second.wait(Duration::from_secs(5)).await && joined.wait(Duration::from_secs(5)).await);
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1, "the second job was not started");
        assert!(flight.join().is_none(), "nothing running");
    }
}

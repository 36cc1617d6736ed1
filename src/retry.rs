//! Failover to the backup host.
//!
//! # Policy
//!
//! WeChat Pay serves the same API on a primary and a backup host (`api.mch.weixin.qq.com` and
//! `api2.mch.weixin.qq.com`). A request is tried on the primary host first and, when that attempt
//! fails in one of the ways below, once more on the backup host. Each attempt is signed afresh
//! (new timestamp and nonce), so a replayed nonce is never sent.
//!
//! | Failure of the first attempt                       | `GET`                     | `POST` / `PUT` / `PATCH` / `DELETE` |
//! |----------------------------------------------------|---------------------------|-------------------------------------|
//! | connection could not be established (refused, DNS, TLS handshake, connect timeout) | retried | retried: the request provably never reached the server |
//! | `5xx` answer                                       | retried                   | only with [`RetryPolicy::retry_non_idempotent`] |
//! | connection lost after sending (reset, closed)      | retried                   | only with [`RetryPolicy::retry_non_idempotent`] |
//! | timeout after the request was sent                 | retried                   | **never**: the server may be acting on it |
//! | any other answer (`2xx`, `4xx`)                    | not retried               | not retried                         |
//!
//! Without a backup host (the default when `base_url` is not WeChat Pay's own host, or when an
//! operation names its own host) there is exactly one attempt. A non-idempotent request whose
//! outcome is unknown surfaces as an error for which
//! [`Error::outcome_unknown`](crate::Error::outcome_unknown) is true: query the order before
//! trying again.

use wechatpay_generated::runtime::Method;

/// How a request may be repeated on the backup host. See the [module documentation](self).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    failover: bool,
    retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    /// Failover on, non-idempotent requests retried only when they never reached the server.
    fn default() -> Self {
        RetryPolicy { failover: true, retry_non_idempotent: false }
    }
}

/// Why an attempt failed, as far as the retry decision is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No connection was established: the request was not sent.
    Connect,
    /// The server answered with a 5xx status.
    ServerError,
    /// The connection broke after (part of) the request was sent.
    Lost,
    /// No answer in time after the request was sent.
    Timeout,
}

impl RetryPolicy {
    /// The default policy (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// One attempt only, never the backup host.
    pub fn never() -> Self {
        RetryPolicy { failover: false, retry_non_idempotent: false }
    }

    /// Whether to try the backup host at all (default `true`).
    pub fn failover(mut self, enabled: bool) -> Self {
        self.failover = enabled;
        self
    }

    /// Also repeat `POST`/`PUT`/`PATCH`/`DELETE` after a `5xx` or a lost connection (default
    /// `false`). Only for operations that are safe to repeat, e.g. those keyed by an
    /// `out_trade_no` that WeChat Pay deduplicates. Timeouts are still never retried.
    pub fn retry_non_idempotent(mut self, enabled: bool) -> Self {
        self.retry_non_idempotent = enabled;
        self
    }

    /// Whether an attempt that failed with `failure` may be repeated on the backup host.
    pub(crate) fn allows(&self, method: Method, failure: Failure) -> bool {
        if !self.failover {
            return false;
        }
        let idempotent = matches!(method, Method::Get);
        match failure {
            Failure::Connect => true,
            _ if idempotent => true,
            Failure::Timeout => false,
            Failure::ServerError | Failure::Lost => self.retry_non_idempotent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_matches_the_table() {
        let policy = RetryPolicy::default();
        for failure in [Failure::Connect, Failure::ServerError, Failure::Lost, Failure::Timeout] {
            assert!(policy.allows(Method::Get, failure));
        }
        assert!(policy.allows(Method::Post, Failure::Connect));
        assert!(!policy.allows(Method::Post, Failure::ServerError));
        assert!(!policy.allows(Method::Delete, Failure::Lost));
        assert!(!policy.allows(Method::Patch, Failure::Timeout));
    }

    #[test]
    fn opting_in_never_retries_timeouts() {
        let policy = RetryPolicy::default().retry_non_idempotent(true);
        assert!(policy.allows(Method::Post, Failure::ServerError));
        assert!(policy.allows(Method::Put, Failure::Lost));
        assert!(!policy.allows(Method::Post, Failure::Timeout));
        assert!(!RetryPolicy::never().allows(Method::Get, Failure::Connect));
    }
}

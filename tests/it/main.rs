//! The end-to-end tests against the sandbox (`wechatpay-sdk-sandbox`) on 127.0.0.1, in one
//! binary so that the sandbox, axum, reqwest and rsa are compiled and linked once. Each module is one
//! subject; the tracing tests live apart (`tests/transport_tracing.rs`: tracing caches per call site
//! whether anyone listens, which races with tests on other threads).

#[path = "../fixtures/mod.rs"]
mod fixtures;
// The Redis and PostgreSQL servers of the replay-guard tests.
#[cfg(all(feature = "redis", feature = "postgres"))]
#[path = "../services/mod.rs"]
mod services;
mod support;

mod certificates;
mod every_operation;
mod generated_elsewhere;
mod failover;
mod notify;
mod operations;
mod payments;
mod signer;
mod verification;
mod downloads;
mod encrypted_bills;
#[cfg(feature = "guomi")]
mod guomi;
mod faults;
mod redaction;
mod trust;
#[cfg(all(feature = "redis", feature = "postgres"))]
mod guards;
#[cfg(feature = "axum")]
mod merchants;
mod v2;
#[cfg(feature = "sandbox")]
mod sandbox_client;
mod times;

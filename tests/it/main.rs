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
mod downloads;
mod encrypted_bills;
mod every_operation;
mod failover;
mod faults;
mod generated_elsewhere;
#[cfg(all(feature = "redis", feature = "postgres"))]
mod guards;
#[cfg(feature = "guomi")]
mod guomi;
#[cfg(feature = "axum")]
mod merchants;
mod notify;
mod operations;
mod payments;
mod redaction;
#[cfg(feature = "sandbox")]
mod sandbox_client;
mod signer;
mod times;
mod trust;
mod v2;
mod verification;

//! The Redis and PostgreSQL replay guards against real servers (`.ci/services`; see
//! `tests/services/`): several instances of a service, each with a connection (pool) of its own,
//! sharing one server. Every case runs on both; a server that is slowed down or crashed is one of
//! the test's own.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use http::HeaderMap;
use wechatpay::notify::postgres::{deadpool_postgres::tokio_postgres, PostgresReplayGuard, PostgresStorage};
use wechatpay::notify::redis::{RedisReplayGuard, DEFAULT_KEY_PREFIX};
use wechatpay::notify::{NotifyError, ProcessError, Processed, SharedReplayGuard, Storage};
use wechatpay::{ApiV3Key, Notifications, PlatformCertificate, WechatpayKeys};

use crate::fixtures::keys::{pem, APIV3_KEY};
use crate::fixtures::sample_transaction;
use crate::services::{self, Kind, Server};
use wechatpay_sdk_sandbox::{Sandbox, Tamper};

/// A notification as delivered: signed headers and body.
type Delivery = (HeaderMap, Vec<u8>);

#[derive(Clone, Copy)]
struct Limits {
    lease: Duration,
    ttl: Duration,
    timeout: Duration,
}

const LIMITS: Limits =
    Limits { lease: Duration::from_secs(10), ttl: Duration::from_secs(600), timeout: Duration::from_secs(2) };

fn limited<S: Storage>(guard: SharedReplayGuard<S>, limits: Limits) -> SharedReplayGuard<S> {
    guard.lease(limits.lease).ttl(limits.ttl).timeout(limits.timeout)
}

/// One instance of the service: the test keys, handled ids in the `kind` server at `url`, on a
/// connection (Redis) or pool (PostgreSQL) of its own.
async fn instance(kind: Kind, url: &str, limits: Limits) -> Notifications {
    let certificate = PlatformCertificate::from_pem(&pem("platform_cert.pem")).expect("test certificate");
    let notifications =
        Notifications::new(WechatpayKeys::with_certificates([certificate]), ApiV3Key::new(APIV3_KEY).expect("key"));
    match kind {
        Kind::Redis => {
            let guard = RedisReplayGuard::connect(url).await.expect("Redis");
            notifications.replay_guard(limited(guard, limits))
        }
        Kind::Postgres => {
            let guard = PostgresReplayGuard::connect(url).await.expect("PostgreSQL");
            guard.migrate().await.expect("the migration");
            notifications.replay_guard(limited(guard, limits))
        }
    }
}

/// Two instances, as two processes behind a load balancer.
async fn two_instances(kind: Kind, url: &str, limits: Limits) -> (Notifications, Notifications) {
    (instance(kind, url, limits).await, instance(kind, url, limits).await)
}

fn unique_id() -> String {
    format!("EV-GUARD-{}", wechatpay::keys::nonce())
}

fn delivery(server: &Sandbox, id: &str) -> Delivery {
    server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &sample_transaction(id), Tamper::Id(id.to_owned()))
}

/// What the deliveries found.
#[derive(Default)]
struct Ledger {
    /// How often the handler ran for each id.
    handled: HashMap<String, usize>,
    /// Ids whose handler succeeded but whose commit failed (the guard was down).
    commit_failed: HashSet<String>,
    /// Deliveries answered 503.
    unavailable: usize,
}

/// One delivery taken as a merchant's endpoint takes it with `handle`: the handler (`work` long)
/// runs on a claim, then commits. The status answered.
async fn deliver(notifications: &Notifications, delivery: &Delivery, ledger: &Mutex<Ledger>, work: Duration) -> u16 {
    match notifications.handle(&delivery.0, &delivery.1).await {
        Ok((notification, claim)) => {
            *ledger.lock().unwrap().handled.entry(notification.id.clone()).or_default() += 1;
            tokio::time::sleep(work).await;
            if claim.commit().await.is_err() {
                ledger.lock().unwrap().commit_failed.insert(notification.id);
            }
            204
        }
        Err(error) => {
            let status = error.status().as_u16();
            if status == 503 {
                ledger.lock().unwrap().unavailable += 1;
            }
            status
        }
    }
}

/// Delivers again after every failure, as WeChat Pay does (here every 50 ms), until answered with
/// success; fails the test after `patience`.
async fn deliver_until_accepted(
    notifications: &Notifications,
    delivery: &Delivery,
    ledger: &Mutex<Ledger>,
    work: Duration,
    patience: Duration,
) {
    let started = Instant::now();
    loop {
        let status = deliver(notifications, delivery, ledger, work).await;
        if status < 300 {
            return;
        }
        assert!(started.elapsed() < patience, "still answered {status} after {patience:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each case once per storage, as `guards::redis::…` and `guards::postgres::…`.
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod redis {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::Kind::Redis).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::Kind::Postgres).await
            })*
        }
    };
}

on_both!(
    concurrent_deliveries_to_two_instances_are_handled_once,
    a_handler_that_outlives_its_lease_loses_its_claim_and_its_late_commit_does_nothing,
    a_release_lets_the_next_delivery_run,
    an_abandoned_claim_is_released,
    expired_handled_ids_are_purged,
    a_slow_server_is_answered_503_and_nothing_is_handled_meanwhile,
    a_server_killed_mid_run_and_restarted_loses_no_notification_and_handles_none_twice,
);

async fn concurrent_deliveries_to_two_instances_are_handled_once(kind: Kind) {
    let Some(url) = services::shared(kind) else { return };
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let (first, second) = two_instances(kind, &url, LIMITS).await;
    let instances = [first, second];
    let ids: Vec<String> = (0..30).map(|_| unique_id()).collect();
    // Four copies of each, two to each instance, all at once.
    let deliveries: Vec<(usize, Delivery)> =
        ids.iter().flat_map(|id| (0..4).map(|copy| (copy % 2, delivery(&server, id)))).collect();
    let ledger = Mutex::default();

    let patience = Duration::from_secs(30);
    futures_util::future::join_all(deliveries.iter().map(|(instance, delivery)| {
        deliver_until_accepted(&instances[*instance], delivery, &ledger, Duration::from_millis(50), patience)
    }))
    .await;

    let ledger = ledger.into_inner().unwrap();
    assert_eq!(ledger.handled.len(), ids.len());
    let twice: Vec<_> = ledger.handled.iter().filter(|(_, count)| **count != 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
    assert!(ledger.unavailable > 0, "no copy ever met another in progress: the test proves nothing");
}

async fn a_handler_that_outlives_its_lease_loses_its_claim_and_its_late_commit_does_nothing(kind: Kind) {
    let Some(url) = services::shared(kind) else { return };
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let limits = Limits { lease: Duration::from_secs(1), ..LIMITS };
    let (first, second) = two_instances(kind, &url, limits).await;
    let (headers, body) = delivery(&server, &unique_id());

    let (_, late) = first.handle(&headers, &body).await.expect("claimed");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (_, current) = second.handle(&headers, &body).await.expect("the lease ran out: taken over");
    late.commit().await.expect("a late commit is no error");

    let error = first.handle(&headers, &body).await.expect_err("the late commit recorded the id or freed it");
    assert!(matches!(error, NotifyError::InProgress { .. }), "{error:?}");
    current.release().await.expect("release");
    let (_, again) = first.handle(&headers, &body).await.expect("not handled: the next delivery runs");
    again.commit().await.expect("commit");
    assert!(second.handle(&headers, &body).await.unwrap_err().is_duplicate());
}

async fn a_release_lets_the_next_delivery_run(kind: Kind) {
    let Some(url) = services::shared(kind) else { return };
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let (first, second) = two_instances(kind, &url, LIMITS).await;
    let (headers, body) = delivery(&server, &unique_id());
    let runs = AtomicUsize::new(0);
    let handler = |succeed: bool| {
        let runs = &runs;
        move |_| async move {
            runs.fetch_add(1, Ordering::SeqCst);
            if succeed {
                Ok(())
            } else {
                Err("the order database is down")
            }
        }
    };

    let failed = first.process(&headers, &body, handler(false)).await;
    assert!(matches!(&failed, Err(ProcessError::Handler { .. })), "{failed:?}");
    assert_eq!(failed.unwrap_err().status(), 500);
    let handled = second.process(&headers, &body, handler(true)).await;
    assert!(matches!(handled, Ok(Processed::Handled { .. })), "{handled:?}");
    let duplicate = first.process(&headers, &body, handler(true)).await;
    assert!(matches!(duplicate, Ok(Processed::Duplicate { .. })), "{duplicate:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

async fn an_abandoned_claim_is_released(kind: Kind) {
    let Some(url) = services::shared(kind) else { return };
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    // A lease far longer than the test: only the release can free the id.
    let limits = Limits { lease: Duration::from_secs(600), ..LIMITS };
    let (first, second) = two_instances(kind, &url, limits).await;
    let (headers, body) = delivery(&server, &unique_id());

    let (_, claim) = first.handle(&headers, &body).await.expect("claimed");
    drop(claim); // e.g. the request was cancelled mid-handler
    let started = Instant::now();
    let claim = loop {
        match second.handle(&headers, &body).await {
            Ok((_, claim)) => break claim,
            Err(NotifyError::InProgress { .. }) if started.elapsed() < Duration::from_secs(5) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => panic!("the abandoned claim was not released: {error:?}"),
        }
    };
    claim.commit().await.expect("commit");
}

async fn expired_handled_ids_are_purged(kind: Kind) {
    let Some(url) = services::shared(kind) else { return };
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let limits = Limits { ttl: Duration::from_secs(1), ..LIMITS };
    let notifications = instance(kind, &url, limits).await;
    let id = unique_id();
    let (headers, body) = delivery(&server, &id);
    let ok = |_| async { Ok::<_, &str>(()) };

    assert!(matches!(notifications.process(&headers, &body, ok).await, Ok(Processed::Handled { .. })));
    assert!(matches!(notifications.process(&headers, &body, ok).await, Ok(Processed::Duplicate { .. })));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    match kind {
        Kind::Redis => {
            let client = ::redis::Client::open(url.as_str()).unwrap();
            let mut connection = client.get_multiplexed_async_connection().await.unwrap();
            let exists: i64 = ::redis::cmd("EXISTS")
                .arg(format!("{DEFAULT_KEY_PREFIX}{id}"))
                .query_async(&mut connection)
                .await
                .unwrap();
            assert_eq!(exists, 0, "the key outlived its TTL");
        }
        Kind::Postgres => {
            let guard = PostgresReplayGuard::connect(&url).await.unwrap();
            assert!(guard.purge().await.unwrap() >= 1);
            assert_eq!(rows(&url, &id).await, 0, "purge left the expired row");
        }
    }
    // Forgotten: a delivery this late is processed again.
    assert!(matches!(notifications.process(&headers, &body, ok).await, Ok(Processed::Handled { .. })));
}

/// How many rows PostgreSQL holds for `id`.
async fn rows(url: &str, id: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client.query_one("SELECT count(*) FROM wechatpay_notify_claims WHERE id = $1", &[&id]).await.unwrap();
    row.get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_purges_expired_ids_after_a_claim() {
    let Some(url) = services::shared(Kind::Postgres) else { return };
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let pool = PostgresReplayGuard::connect(&url).await.unwrap().storage().pool().clone();
    let guard = SharedReplayGuard::new(PostgresStorage::new(pool).purge_every(Duration::ZERO));
    guard.migrate().await.unwrap();
    let certificate = PlatformCertificate::from_pem(&pem("platform_cert.pem")).unwrap();
    let notifications =
        Notifications::new(WechatpayKeys::with_certificates([certificate]), ApiV3Key::new(APIV3_KEY).unwrap())
            .replay_guard(guard.ttl(Duration::from_secs(1)));
    let (expired, next) = (unique_id(), unique_id());
    let ok = |_| async { Ok::<_, &str>(()) };

    let (headers, body) = delivery(&server, &expired);
    notifications.process(&headers, &body, ok).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(rows(&url, &expired).await, 1);
    let (headers, body) = delivery(&server, &next);
    notifications.process(&headers, &body, ok).await.unwrap();
    let started = Instant::now();
    while rows(&url, &expired).await > 0 {
        assert!(started.elapsed() < Duration::from_secs(5), "no purge after the claim");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Holds the server of `kind` at `url` up: Redis answers nobody for `pause`; PostgreSQL's table stays
/// locked until the returned connection rolls back.
async fn hold_up(kind: Kind, url: &str, pause: Duration) -> Option<tokio_postgres::Client> {
    match kind {
        Kind::Redis => {
            let client = ::redis::Client::open(url).unwrap();
            let mut connection = client.get_multiplexed_async_connection().await.unwrap();
            let _: () = ::redis::cmd("CLIENT")
                .arg("PAUSE")
                .arg(pause.as_millis().to_string())
                .arg("ALL")
                .query_async(&mut connection)
                .await
                .unwrap();
            None
        }
        Kind::Postgres => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client.batch_execute("BEGIN; LOCK TABLE wechatpay_notify_claims IN ACCESS EXCLUSIVE MODE").await.unwrap();
            Some(client)
        }
    }
}

async fn a_slow_server_is_answered_503_and_nothing_is_handled_meanwhile(kind: Kind) {
    // A server of its own: the others' tests must not wait for it.
    let Some(storage) = Server::start(kind) else { return };
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let limits = Limits { lease: Duration::from_secs(1), timeout: Duration::from_millis(300), ..LIMITS };
    let notifications = instance(kind, storage.url(), limits).await;
    let delivery = delivery(&server, &unique_id());
    let ledger = Mutex::default();

    let pause = Duration::from_millis(1500);
    let held = hold_up(kind, storage.url(), pause).await;
    let started = Instant::now();
    assert_eq!(deliver(&notifications, &delivery, &ledger, Duration::ZERO).await, 503);
    assert!(started.elapsed() < Duration::from_secs(1), "the guard waited {:?}", started.elapsed());
    assert!(ledger.lock().unwrap().handled.is_empty());
    match held {
        Some(locked) => locked.batch_execute("ROLLBACK").await.unwrap(),
        None => tokio::time::sleep(pause.saturating_sub(started.elapsed())).await,
    }

    // The claim sent while it was held may have landed late: redeliveries wait out its lease.
    deliver_until_accepted(&notifications, &delivery, &ledger, Duration::ZERO, Duration::from_secs(10)).await;
    let ledger = ledger.into_inner().unwrap();
    assert_eq!(ledger.handled.values().collect::<Vec<_>>(), [&1]);
}

async fn a_server_killed_mid_run_and_restarted_loses_no_notification_and_handles_none_twice(kind: Kind) {
    let Some(storage) = Server::start(kind) else { return };
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let limits = Limits { lease: Duration::from_secs(2), timeout: Duration::from_millis(500), ..LIMITS };
    let (first, second) = two_instances(kind, storage.url(), limits).await;
    let instances = [first, second];
    let ids: Vec<String> = (0..60).map(|_| unique_id()).collect();
    // Every id once and every fifth again, alternately to the two instances.
    let deliveries: Vec<Delivery> = ids.iter().chain(ids.iter().step_by(5)).map(|id| delivery(&server, id)).collect();
    let total = deliveries.len();
    let ledger = Mutex::default();
    let answered = AtomicUsize::new(0);

    let run = futures_util::stream::iter(deliveries.iter().enumerate())
        .map(|(n, delivery)| {
            let (instances, ledger, answered) = (&instances, &ledger, &answered);
            async move {
                let work = Duration::from_millis(20);
                deliver_until_accepted(&instances[n % 2], delivery, ledger, work, Duration::from_secs(60)).await;
                answered.fetch_add(1, Ordering::SeqCst);
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>();
    let crash = async {
        while answered.load(Ordering::SeqCst) < total / 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::task::block_in_place(|| storage.kill());
        tokio::time::sleep(Duration::from_secs(1)).await;
        tokio::task::block_in_place(|| storage.restart());
    };
    futures_util::future::join(run, crash).await;

    let ledger = ledger.into_inner().unwrap();
    let missing: Vec<_> = ids.iter().filter(|id| !ledger.handled.contains_key(*id)).collect();
    assert!(missing.is_empty(), "never handled: {missing:?}");
    // Twice only where the guard could not record the first success (at least once, as documented).
    let twice: Vec<_> =
        ledger.handled.iter().filter(|(id, count)| **count > 1 && !ledger.commit_failed.contains(*id)).collect();
    assert!(twice.is_empty(), "handled twice while the guard was up: {twice:?}");
    assert!(ledger.unavailable > 0, "no delivery met the server down: the test proves nothing");
}

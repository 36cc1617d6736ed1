//! `cargo bench --bench load --features axum`: the client and the notification handler under load,
//! against the sandbox on 127.0.0.1 (`wechatpay-sdk-sandbox`: RustCrypto signs and verifies on
//! the server side, aws-lc-rs on ours), all in this process:
//!
//! 1. **requests**: transaction queries (10,000) at 256 in flight through one [`Client`] of a
//!    merchant on platform certificates, refreshed every second in the background, with WeChat Pay
//!    rotating to a new certificate halfway (listed and signing at once, so requests in flight meet
//!    an unknown serial): throughput, latency p50/p99, failures (must be 0), and the peak heap
//!    during the first and the last 2,000 requests (must stay flat);
//! 2. **notifications**: 10,000 deliveries (9,000 notifications and 1,000 redeliveries, shuffled) at
//!    64 in flight, alternately to two axum handlers sharing one replay guard: in memory (the
//!    baseline, one process), then Redis and PostgreSQL (a connection or pool per handler, as two
//!    instances have; servers from `tests/services/`, rows skipped with the reason where absent
//!    outside CI); a delivery answered 503 (its twin is being processed) is delivered again, as
//!    WeChat Pay does; each notification must be handled exactly once;
//! 3. **a large bill**: 512 MB streamed to a sink through [`Client::download_bill_to`], digest
//!    checked: throughput and the heap it takes; then the same size encrypted (AES-256-GCM, then
//!    SM4-GCM, sealed by the server as it streams), decrypted as it streams, tag and digest checked.
//!
//! Heap figures come from a counting allocator (live bytes and their peak, process-wide: client,
//! server and runtime together); RSS from `/proc/self/status`. Without `--bench` (e.g.
//! `cargo test --benches`) it runs with small counts, as a smoke test.

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;
#[path = "../tests/services/mod.rs"]
mod services;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use http::HeaderMap;
use wechatpay::notify::{axum::handler, InMemoryReplayGuard, Notification, Notifications};
#[cfg(all(feature = "redis", feature = "postgres"))]
use wechatpay::notify::{postgres::PostgresReplayGuard, redis::RedisReplayGuard};
use wechatpay::v3::bill::sub_merchant_fundflowbill::get::Algorithm;
use wechatpay::{ApiV3Key, BillFile, Client, MerchantKey, PlatformCertificate, PublicKey, WechatpayKeys};

use fixtures::keys::{self, pem};
use fixtures::sample_transaction;
use wechatpay_sdk_sandbox::{CertChoice, Config, Sandbox, Signer, Tamper};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = System.alloc(layout);
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        System.dealloc(pointer, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = System.realloc(pointer, layout, new_size);
        if !moved.is_null() {
            if new_size > layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        moved
    }
}

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The peak of live heap bytes since the last call (which starts a new window at the live bytes now).
fn take_peak() -> usize {
    PEAK.swap(LIVE.load(Ordering::Relaxed), Ordering::Relaxed)
}

/// `VmRSS` and `VmHWM` in bytes.
fn rss() -> (usize, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

struct Counts {
    requests: usize,
    refresh: Duration,
    request_concurrency: usize,
    notifications: usize,
    notification_concurrency: usize,
    bill: u64,
}

const FULL: Counts = Counts {
    requests: 10_000,
    refresh: Duration::from_secs(1),
    request_concurrency: 256,
    notifications: 10_000,
    notification_concurrency: 64,
    bill: 512 * 1024 * 1024,
};
const SMOKE: Counts = Counts {
    requests: 400,
    refresh: Duration::from_millis(100),
    request_concurrency: 64,
    notifications: 200,
    notification_concurrency: 16,
    bill: 4 * 1024 * 1024,
};

/// The p-th percentile of sorted durations, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).map_or(0.0, |duration| duration.as_secs_f64() * 1000.0)
}

fn query(out_trade_no: &str) -> wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request {
    wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request::builder()
        .out_trade_no(out_trade_no)
        .mchid(keys::MERCHANT_ID)
        .build()
        .expect("a query")
}

fn merchant_key() -> MerchantKey {
    MerchantKey::from_pem(&pem("merchant_key.pem")).expect("test key")
}

async fn requests(total: usize, concurrency: usize, refresh: Duration) -> bool {
    let server = Sandbox::start(fixtures::config()).await.expect("sandbox starts");
    server.record_requests(false);
    let client = Client::builder(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, merchant_key())
        .base_url(server.base_url())
        .apiv3_key(ApiV3Key::new(keys::APIV3_KEY).expect("test key"))
        .certificate_refresh_interval(refresh)
        .build()
        .expect("a client");
    let window = 2_000.min(total / 4);
    let completed = AtomicUsize::new(0);
    let (mut first_peak, mut first_rss) = (0, 0);
    let mut latencies = Vec::with_capacity(total);
    let mut failures = Vec::new();
    take_peak();
    let started = Instant::now();
    let mut results = futures_util::stream::iter(0..total)
        .map(|n| {
            let (client, server) = (&client, &server);
            async move {
                if n == total / 2 {
                    // WeChat Pay rotates: a new certificate is listed and signs at once (in reality
                    // it is listed days before), so in-flight requests meet an unknown serial.
                    server.set_certificates(vec![CertChoice::Platform, CertChoice::Platform2]);
                    server.set_signer(Signer::Platform2);
                }
                let sent = Instant::now();
                let result = client.send(query(&format!("LOAD-{n:06}"))).await;
                (sent.elapsed(), result.map(drop))
            }
        })
        .buffer_unordered(concurrency);
    while let Some((latency, result)) = results.next().await {
        latencies.push(latency);
        if let Err(error) = result {
            failures.push(error.to_string());
        }
        let done = completed.fetch_add(1, Ordering::Relaxed) + 1;
        if done == window {
            first_peak = take_peak();
            first_rss = rss().0;
        } else if done == total - window {
            take_peak();
        }
    }
    let elapsed = started.elapsed();
    let (last_peak, last_rss) = (take_peak(), rss().0);
    latencies.sort();
    let downloads = server.request_count() - total;
    println!(
        "requests: {total} transaction queries, {concurrency} in flight, one Client, certificates refreshed every {refresh:?}, rotation at request {}",
        total / 2
    );
    println!(
        "  {:.0} requests/s ({:.2} s); latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; failures {}; certificate downloads {downloads}",
        total as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0),
        failures.len(),
    );
    println!(
        "  peak heap: first {window} requests {:.1} MiB, last {window} {:.1} MiB ({:+.1}%); RSS after them {:.1} / {:.1} MiB",
        mib(first_peak),
        mib(last_peak),
        (last_peak as f64 / first_peak.max(1) as f64 - 1.0) * 100.0,
        mib(first_rss),
        mib(last_rss),
    );
    for failure in failures.iter().take(5) {
        println!("  failure: {failure}");
    }
    // What bounds the run: each request costs the sandbox an RSA signature in RustCrypto.
    let started = Instant::now();
    let mut signatures = 0;
    while started.elapsed() < Duration::from_millis(500) {
        std::hint::black_box(server.signed_headers(b"{}"));
        signatures += 1;
    }
    println!(
        "  (the sandbox signs {:.0} answers/s on one core with RustCrypto: the run is bound by the server, not by the client)",
        signatures as f64 / started.elapsed().as_secs_f64()
    );
    failures.is_empty() && downloads >= 2
}

/// Signed deliveries: `unique` notifications, and `total - unique` redeliveries of some of them
/// (signed afresh, as WeChat Pay's are), shuffled. Signed with RustCrypto on every core.
async fn deliveries(server: &Arc<Sandbox>, total: usize, unique: usize) -> Vec<(HeaderMap, Vec<u8>)> {
    let ids: Vec<usize> = (0..unique).chain((0..total - unique).map(|n| n * 7 % unique)).collect();
    // Ids of this run only: a shared Redis or PostgreSQL remembers those of earlier runs.
    let run = wechatpay::keys::nonce();
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let chunk = ids.len().div_ceil(threads);
    let tasks: Vec<_> = ids
        .chunks(chunk)
        .map(|ids| {
            let (ids, server, run) = (ids.to_vec(), server.clone(), run.clone());
            tokio::task::spawn_blocking(move || {
                ids.into_iter()
                    .map(|id| {
                        let payload = sample_transaction(&format!("NOTIFY-{id:06}"));
                        let tamper = Tamper::Id(format!("EV-LOAD-{run}-{id:06}"));
                        server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, tamper)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = Vec::with_capacity(total);
    for task in tasks {
        all.extend(task.await.expect("signing"));
    }
    // A fixed shuffle (an LCG), so that runs compare.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    for index in (1..all.len()).rev() {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        all.swap(index, (state >> 33) as usize % (index + 1));
    }
    all
}

/// The replay guards compared: each serves two handler instances, as two processes would share it.
#[derive(Clone, Copy)]
enum Guard {
    /// One in-memory guard shared by both handlers (possible only within one process): the baseline.
    InMemory,
    Redis,
    Postgres,
}

impl Guard {
    fn name(self) -> &'static str {
        match self {
            Guard::InMemory => "in-memory guard (one, shared in-process)",
            Guard::Redis => "Redis guard (a connection each)",
            Guard::Postgres => "PostgreSQL guard (a pool each)",
        }
    }

    /// Two handler instances' notifications, or why not.
    async fn instances(self) -> Result<[Notifications; 2], String> {
        let notifications = || {
            let certificate = PlatformCertificate::from_pem(&pem("platform_cert.pem")).expect("test certificate");
            Notifications::new(
                WechatpayKeys::with_certificates([certificate]),
                ApiV3Key::new(keys::APIV3_KEY).expect("test key"),
            )
        };
        match self {
            Guard::InMemory => {
                let guard = InMemoryReplayGuard::new();
                Ok([notifications().replay_guard(guard.clone()), notifications().replay_guard(guard)])
            }
            #[cfg(all(feature = "redis", feature = "postgres"))]
            Guard::Redis => {
                let url = services::shared(services::Kind::Redis).ok_or("no redis-server (see above)")?;
                let connect = || async { RedisReplayGuard::connect(&url).await.expect("Redis") };
                Ok([notifications().replay_guard(connect().await), notifications().replay_guard(connect().await)])
            }
            #[cfg(all(feature = "redis", feature = "postgres"))]
            Guard::Postgres => {
                let url = services::shared(services::Kind::Postgres).ok_or("no PostgreSQL (see above)")?;
                let connect = || async {
                    let guard = PostgresReplayGuard::connect(&url).await.expect("PostgreSQL");
                    guard.migrate().await.expect("the migration");
                    guard
                };
                Ok([notifications().replay_guard(connect().await), notifications().replay_guard(connect().await)])
            }
            #[cfg(not(all(feature = "redis", feature = "postgres")))]
            Guard::Redis | Guard::Postgres => Err("built without the redis and postgres features".into()),
        }
    }
}

/// Two axum handlers (two listeners) counting what they handle in `handled`; their URLs.
async fn serve_handlers(instances: [Notifications; 2], handled: &Arc<Mutex<HashMap<String, usize>>>) -> Vec<String> {
    let mut urls = Vec::new();
    for notifications in instances {
        let handled = handled.clone();
        let app = axum::Router::new().route(
            "/notify",
            handler(notifications, move |notification: Notification| async move {
                *handled.lock().unwrap().entry(notification.id).or_default() += 1;
                Ok::<_, std::convert::Infallible>(())
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        urls.push(format!("http://{}/notify", listener.local_addr().expect("address")));
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    urls
}

async fn notifications(total: usize, concurrency: usize) -> bool {
    let unique = total * 9 / 10;
    let server = Arc::new(Sandbox::start(fixtures::config()).await.expect("sandbox starts"));
    let prepared = Instant::now();
    let deliveries = deliveries(&server, total, unique).await;
    let prepared = prepared.elapsed();
    println!(
        "notifications: {total} deliveries ({unique} notifications + {} redeliveries, shuffled), {concurrency} in flight, alternately to two axum handlers sharing one replay guard (signing them took {:.1} s, not counted)",
        total - unique,
        prepared.as_secs_f64()
    );
    let mut ok = true;
    for guard in [Guard::InMemory, Guard::Redis, Guard::Postgres] {
        match guard.instances().await {
            Ok(instances) => ok &= notifications_through(guard, instances, &deliveries, unique, concurrency).await,
            Err(reason) if !services::in_ci() => println!("  {}: skipped: {reason}", guard.name()),
            Err(reason) => panic!("{}: {reason}", guard.name()),
        }
    }
    ok
}

async fn notifications_through(
    guard: Guard,
    instances: [Notifications; 2],
    deliveries: &[(HeaderMap, Vec<u8>)],
    unique: usize,
    concurrency: usize,
) -> bool {
    let total = deliveries.len();
    let handled: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let urls = serve_handlers(instances, &handled).await;
    let http = reqwest::Client::builder().no_proxy().build().expect("an HTTP client");

    let redeliveries = AtomicUsize::new(0);
    let started = Instant::now();
    let mut outcomes: Vec<(Duration, bool)> = futures_util::stream::iter(deliveries.iter().enumerate())
        .map(|(n, (headers, body))| {
            let (http, url, redeliveries) = (&http, &urls[n % 2], &redeliveries);
            async move {
                let sent = Instant::now();
                for attempt in 0..50 {
                    let answer = http.post(url).headers(headers.clone()).body(body.clone()).send().await;
                    match answer.map(|answer| answer.status().as_u16()) {
                        Ok(204) => return (sent.elapsed(), true),
                        // Its twin is being processed: WeChat Pay delivers again later.
                        Ok(503) => {
                            redeliveries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(2 << attempt.min(6))).await;
                        }
                        _ => return (sent.elapsed(), false),
                    }
                }
                (sent.elapsed(), false)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let failures = outcomes.iter().filter(|(_, ok)| !ok).count();
    outcomes.sort();
    let latencies: Vec<Duration> = outcomes.iter().map(|(latency, _)| *latency).collect();
    let handled = handled.lock().unwrap();
    let once = handled.values().all(|count| *count == 1);
    println!(
        "  {}: {:.0} deliveries/s ({:.2} s); latency p50 {:.1} ms, p99 {:.1} ms; failures {failures}; 503 answers delivered again {}; {} distinct notifications handled, each exactly once: {once}",
        guard.name(),
        total as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        redeliveries.load(Ordering::Relaxed),
        handled.len(),
    );
    failures == 0 && once && handled.len() == unique
}

async fn bill(size: u64, encryption: Option<Algorithm>) -> bool {
    let server =
        Sandbox::start(Config { signer: Signer::PublicKey, ..fixtures::config() }).await.expect("sandbox starts");
    server.record_requests(false);
    let client = Client::builder(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, merchant_key())
        .base_url(server.base_url())
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, PublicKey::from_pem(&pem("wechatpay_pub_key.pem")).expect("key"))
        .bill_download_origins([server.base_url()])
        .build()
        .expect("a client");
    server.bill_size(Some(size));
    let (bill, what) = match &encryption {
        None => {
            let request = wechatpay::v3::bill::tradebill::get::Request::builder().bill_date("2024-03-01").build();
            (
                BillFile::from(client.send(request.expect("a request")).await.expect("the bill API")),
                "SHA-1 checked".to_owned(),
            )
        }
        Some(algorithm) => {
            let request = wechatpay::v3::bill::sub_merchant_fundflowbill::get::Request::builder()
                .sub_mchid("1900000109")
                .bill_date("2024-03-01")
                .algorithm(algorithm.clone())
                .account_type("BASIC")
                .build()
                .expect("a request");
            let answer = client.send(request.clone()).await.expect("the bill API");
            let file = BillFile::sub_merchant_fundflow(&request, &answer).remove(0);
            (file, format!("encrypted {algorithm}, decrypted as it streams, tag and SHA-1 checked"))
        }
    };
    let before = LIVE.load(Ordering::Relaxed);
    take_peak();
    let (rss_before, _) = rss();
    let started = Instant::now();
    let written = client.download_bill_to(&bill, &mut tokio::io::sink()).await;
    let elapsed = started.elapsed();
    let peak = take_peak();
    let (rss_after, _) = rss();
    let Ok(written) = written else {
        println!("bill: failed: {written:?}");
        return false;
    };
    println!("bill: {:.0} MiB streamed to a sink with download_bill_to, {what}", mib(written as usize));
    println!(
        "  {:.0} MiB/s ({:.2} s{}); heap peak {:.2} MiB above the {:.1} MiB live before; RSS {:.1} -> {:.1} MiB",
        mib(written as usize) / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        if encryption.is_some() { ", the server sealing it on the same CPUs" } else { "" },
        mib(peak.saturating_sub(before)),
        mib(before),
        mib(rss_before),
        mib(rss_after),
    );
    written + 64 * 1024 > size && peak.saturating_sub(before) < 64 * 1024 * 1024
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let counts = if full { FULL } else { SMOKE };
    let nproc = std::thread::available_parallelism().map_or(0, usize::from);
    println!("load benchmark: client, notification handler and test server in one process, {nproc} CPUs (nproc), tokio multi-thread runtime");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let ok = runtime.block_on(async {
        let requests = requests(counts.requests, counts.request_concurrency, counts.refresh).await;
        let notifications = notifications(counts.notifications, counts.notification_concurrency).await;
        let plain = bill(counts.bill, None).await;
        let aes = bill(counts.bill, Some(Algorithm::AeadAes256Gcm)).await;
        let sm4 = bill(counts.bill, Some(Algorithm::Sm4Gcm)).await;
        requests && notifications && plain && aes && sm4
    });
    if !full {
        println!("(smoke run with small counts: use `cargo bench --bench load --features axum` for numbers)");
    }
    assert!(ok, "the load benchmark's conditions failed (see above)");
}

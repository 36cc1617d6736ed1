//! `cargo bench --bench peer --features profitsharing,guomi`: this crate and the Node peer (npm `wechatpay-axios-plugin`, installed by
//! `.ci/install-peers`) doing the same three jobs on the same payloads, side by side:
//!
//! - (a) request preparation, as [`Client::prepare`] does it before sending: build a JSAPI prepay
//!   request with the generated builder (validating it), serialise and sign it (the Node peer:
//!   `JSON.stringify`, then its `Formatter` and `Rsa.sign`); the reference is the bare RSA-2048
//!   signature of each side;
//! - (a') the same with sensitive fields: a profit-sharing order whose two receivers' names are
//!   encrypted (RSA-OAEP) before signing (the Node peer: `Rsa.encrypt` per name first); the
//!   reference is the bare crypto of each side, one signature and two encryptions;
//! - (b) response handling: verify a signed query-transaction answer and deserialise it into the
//!   generated type (the Node peer: its client's response verifier, then `JSON.parse`);
//!   The reference is the bare crypto: one RSA-2048 signature verification;
//! - (c) notifications: verify, decrypt (AES-256-GCM) and parse a `TRANSACTION.SUCCESS` notification
//!   into its typed event (the Node peer: `Rsa.verify`, `AesGcm.decrypt`, `JSON.parse`). The
//!   reference is the bare crypto: one verification and one AES-256-GCM decryption.
//!
//! - (g) national cryptography (`guomi`), this crate only, each job against its bare crypto: a
//!   request prepared and signed with an SM2 merchant key (SM2-with-SM3), an SM2-signed answer
//!   verified and decoded, an `AEAD_SM4_GCM` notification verified, opened and parsed.
//!
//! Each side runs on one thread, one after the other: one warm-up batch, then the median of
//! [`BATCHES`] batches, the same iteration counts on both sides. The Node side is
//! `tests/interop/bench.js`. Without `--bench` (as `cargo test --benches` runs it) it only checks
//! once that everything works, with tiny counts.

#[path = "../tests/fixtures/keys.rs"]
#[allow(dead_code)] // Shared with the sandbox; the bench needs only some of the identifiers.
mod keys;

use std::hint::black_box;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};
use wechatpay::keys::nonce;
use wechatpay::notify::Event;
use wechatpay::runtime::{Body, Operation as _};
use wechatpay::v3::pay::transactions::id::by_transaction_id;
use wechatpay::v3::pay::transactions::jsapi;
use wechatpay::v3::profitsharing::orders;
use wechatpay::wechatpay_keys::unix;
use wechatpay::{ApiV3Key, Client, MerchantKey, Notifications, PublicKey, WechatpayKeys};

use keys::{key_path, APIV3_KEY, MERCHANT_ID, MERCHANT_SERIAL, PUBLIC_KEY_ID};

/// Timed batches per job (the median is reported).
const BATCHES: usize = 7;

/// Iterations per batch: (a) is one RSA signature each (about a millisecond), (b) and (c) one
/// verification each (tens of microseconds).
struct Iterations {
    request: usize,
    response: usize,
    notification: usize,
}

const FULL: Iterations = Iterations { request: 300, response: 3000, notification: 3000 };
const SMOKE: Iterations = Iterations { request: 2, response: 2, notification: 2 };

const TRANSACTION_ID: &str = "4200000985202103031441826014";
const QUERY_PATH: &str = "/v3/pay/transactions/id/4200000985202103031441826014";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Median ops/s of [`BATCHES`] timed batches of `iterations` calls to `op`, after one warm-up batch.
fn measure(iterations: usize, batches: usize, mut op: impl FnMut()) -> f64 {
    for _ in 0..iterations {
        op();
    }
    let mut rates: Vec<f64> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                op();
            }
            iterations as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[batches / 2]
}

/// The typical JSAPI prepay request, built as a merchant builds it.
fn jsapi_request() -> jsapi::post::Request {
    jsapi::post::Request::builder()
        .appid("wxd678efh567hg6787")
        .mchid(MERCHANT_ID)
        .description("Image形象店-深圳腾大-QQ公仔")
        .out_trade_no("1217752501201407033233368018")
        .notify_url("https://www.weixin.qq.com/wxpay/pay.php")
        .amount(jsapi::post::Amount::builder().total(100).currency("CNY"))
        .payer(jsapi::post::Payer::builder().openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
        .build()
        .expect("a complete request")
}

/// A profit-sharing order with two receivers whose names are sensitive, built as a merchant
/// builds it.
fn sharing_request() -> orders::post::Request {
    let receiver = |account: &str, name: &str, amount: i64| {
        orders::post::Receivers::builder()
            .r#type("PERSONAL_OPENID")
            .account(account)
            .name(name)
            .amount(amount)
            .description("分给商户")
    };
    orders::post::Request::builder()
        .appid("wxd678efh567hg6787")
        .transaction_id(TRANSACTION_ID)
        .out_order_no("P20150806125346")
        .receivers(receiver("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "张三", 10))
        .receivers(receiver("oUpF8uMuAJO_M2pxb1Q9zNjWeS6p", "Ada Lovelace", 20))
        .unfreeze_unsplit(true)
        .build()
        .expect("a complete request")
}

/// The client the bench prepares requests with (it sends nothing).
fn client(key: MerchantKey, public: PublicKey) -> Client {
    Client::builder(MERCHANT_ID, MERCHANT_SERIAL, key)
        .wechatpay_public_key(PUBLIC_KEY_ID, public)
        .build()
        .expect("a client")
}

/// WeChat Pay's side: headers signing `body` now with the WeChat Pay private key.
fn signed_headers(body: &str) -> Value {
    let wechatpay = MerchantKey::from_pem(&keys::pem("wechatpay_pub_key_private.pem")).expect("test key");
    let (timestamp, nonce) = (unix(SystemTime::now()).to_string(), nonce());
    json!({
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": wechatpay.sign(format!("{timestamp}\n{nonce}\n{body}\n").as_bytes()),
        "Wechatpay-Serial": PUBLIC_KEY_ID,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    })
}

fn header_map(headers: &Value) -> HeaderMap {
    let headers = headers.as_object().expect("headers");
    headers
        .iter()
        .map(|(name, value)| {
            let value = value.as_str().expect("text header");
            (HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value).unwrap())
        })
        .collect()
}

/// A `TRANSACTION.SUCCESS` notification body, its resource sealed with the APIv3 key.
fn notification_body(payload: &str) -> String {
    let resource_nonce = &nonce()[..12];
    let ciphertext =
        ApiV3Key::new(APIV3_KEY).unwrap().encrypt(resource_nonce, "transaction", payload.as_bytes()).unwrap();
    json!({
        "id": "EV-2018022511223320873", "create_time": "2015-05-20T13:29:35+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {
            "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM", "ciphertext": ciphertext,
            "associated_data": "transaction", "nonce": resource_nonce,
        },
    })
    .to_string()
}

/// ops/s of each job in this crate.
struct Results {
    request: f64,
    rsa_sign: f64,
    sensitive: f64,
    sensitive_crypto: f64,
    response: f64,
    rsa_verify: f64,
    notification: f64,
    verify_decrypt: f64,
}

/// The parts of a signed message the bare references work on: the message, its signature.
fn signed_message(headers: &Value, body: &str) -> (String, String) {
    let header = |name: &str| headers[name].as_str().expect("header").to_owned();
    let message = format!("{}\n{}\n{body}\n", header("Wechatpay-Timestamp"), header("Wechatpay-Nonce"));
    (message, header("Wechatpay-Signature"))
}

fn bench_rust(iterations: &Iterations, batches: usize, transaction: &str, notification: &str) -> Results {
    let key = MerchantKey::from_pem(&keys::pem("merchant_key.pem")).expect("test key");
    let public = PublicKey::from_pem(&keys::pem("wechatpay_pub_key.pem")).expect("test key");
    let wechatpay_keys = WechatpayKeys::with_public_key(PUBLIC_KEY_ID, public.clone());

    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");

    // (a)
    let client = client(key.clone(), public.clone());
    let prepared = runtime.block_on(client.prepare(&jsapi_request())).expect("prepares");
    assert!(prepared.headers()["authorization"].to_str().unwrap().starts_with("WECHATPAY2-SHA256-RSA2048 "));
    let request = measure(iterations.request, batches, || {
        black_box(runtime.block_on(client.prepare(&black_box(jsapi_request()))).expect("prepares"));
    });
    let message = reference_message(&jsapi_request());
    let rsa_sign = measure(iterations.request, batches, || {
        black_box(key.sign(black_box(message.as_bytes())));
    });

    // (a')
    let prepared = runtime.block_on(client.prepare(&sharing_request())).expect("prepares");
    let body = prepared.body().and_then(|body| body.as_bytes()).expect("a body");
    assert!(!body.windows("张三".len()).any(|w| w == "张三".as_bytes()), "names encrypted");
    let sensitive = measure(iterations.request, batches, || {
        black_box(runtime.block_on(client.prepare(&black_box(sharing_request()))).expect("prepares"));
    });
    let message = reference_message(&sharing_request());
    let sensitive_crypto = measure(iterations.request, batches, || {
        black_box(public.encrypt(black_box("张三")).expect("encrypts"));
        black_box(public.encrypt(black_box("Ada Lovelace")).expect("encrypts"));
        black_box(key.sign(black_box(message.as_bytes())));
    });

    // (b)
    let signed = signed_headers(transaction);
    let headers = header_map(&signed);
    let handle = || {
        wechatpay_keys.verify(&headers, transaction.as_bytes(), SystemTime::now()).expect("verifies");
        // What the client does with a verified body: the lenient decode of the typed response.
        <by_transaction_id::get::Response as wechatpay::runtime::Decode>::decode(transaction.as_bytes())
            .expect("deserialises")
            .value
    };
    assert_eq!(handle().transaction_id.as_deref(), Some(TRANSACTION_ID));
    let response = measure(iterations.response, batches, || {
        black_box(handle());
    });
    let (message, signature) = signed_message(&signed, transaction);
    assert!(public.verify(message.as_bytes(), &signature));
    let rsa_verify = measure(iterations.response, batches, || {
        black_box(public.verify(black_box(message.as_bytes()), black_box(&signature)));
    });

    // (c)
    let apiv3_key = ApiV3Key::new(APIV3_KEY).unwrap();
    let notifications = Notifications::new(wechatpay_keys.clone(), apiv3_key.clone());
    let signed = signed_headers(notification);
    let headers = header_map(&signed);
    let open = || runtime.block_on(notifications.open(&headers, notification.as_bytes())).expect("opens");
    assert!(
        matches!(open().event, Event::TransactionSuccess(payment) if payment.transaction_id.as_deref() == Some(TRANSACTION_ID))
    );
    let (message, signature) = signed_message(&signed, notification);
    let envelope: Value = serde_json::from_str(notification).expect("JSON");
    let resource = |field: &str| envelope["resource"][field].as_str().expect("resource field").to_owned();
    let (resource_nonce, aad, ciphertext) = (resource("nonce"), resource("associated_data"), resource("ciphertext"));
    let notification = measure(iterations.notification, batches, || {
        black_box(open());
    });
    let verify_decrypt = measure(iterations.notification, batches, || {
        assert!(public.verify(black_box(message.as_bytes()), black_box(&signature)));
        black_box(apiv3_key.decrypt(&resource_nonce, &aad, black_box(&ciphertext)).expect("decrypts"));
    });

    Results { request, rsa_sign, sensitive, sensitive_crypto, response, rsa_verify, notification, verify_decrypt }
}

/// Writes sensitive values in plain text: the Node side gets the payload to encrypt itself.
struct Plain;

impl wechatpay::runtime::Seal for Plain {
    fn seal(&self, plaintext: &str) -> Result<String, wechatpay::runtime::SealError> {
        Ok(plaintext.to_owned())
    }
}

fn plain() -> wechatpay::runtime::Writing<'static> {
    wechatpay::runtime::Writing::sealing(&Plain)
}

/// The message a request's signature covers, for the bare signature reference (sensitive names
/// replaced by text the length of their ciphertext).
fn reference_message<O: wechatpay::runtime::Operation>(request: &O) -> String {
    let Ok(Body::Json(body)) = request.body(&mut plain()) else { panic!("a JSON body") };
    let mut body: Value = serde_json::from_slice(&body).expect("JSON");
    if let Some(receivers) = body.get_mut("receivers").and_then(Value::as_array_mut) {
        for receiver in receivers {
            receiver["name"] = json!("A".repeat(344));
        }
    }
    format!("POST\n{}\n{}\n{}\n{body}\n", request.path(&mut plain()), unix(SystemTime::now()), nonce())
}

/// Runs `tests/interop/bench.js`; `Err` says why the Node side did not run.
fn bench_node(
    iterations: &Iterations,
    batches: usize,
    transaction: &str,
    notification: &str,
) -> Result<(String, Results), String> {
    let modules = root().join(".ci/peers/node/node_modules");
    if !modules.join("wechatpay-axios-plugin/package.json").exists() {
        return Err("wechatpay-axios-plugin is not installed: run .ci/install-peers".into());
    }
    let payload = |body: Body| {
        let Body::Json(body) = body else { panic!("a JSON body") };
        serde_json::from_slice::<Value>(&body).expect("JSON")
    };
    let (request, sharing) = (jsapi_request(), sharing_request());
    let input = json!({
        "iterations": {
            "request": iterations.request, "response": iterations.response, "notification": iterations.notification,
        },
        "batches": batches,
        "keys": {
            "merchant_key": key_path("merchant_key.pem"), "merchant_public": key_path("merchant_public.pem"),
            "wechatpay_public_key": key_path("wechatpay_pub_key.pem"),
        },
        "apiv3_key": APIV3_KEY,
        "request": {
            "mchid": MERCHANT_ID, "serial": MERCHANT_SERIAL, "path": request.path(&mut plain()),
            "payload": payload(request.body(&mut plain()).unwrap()), "message": reference_message(&request),
        },
        "sensitive": {
            "path": sharing.path(&mut plain()), "payload": payload(sharing.body(&mut plain()).unwrap()),
            "message": reference_message(&sharing),
        },
        // Signed now: each side gets fresh timestamps, well inside the 300 s window.
        "response": {
            "path": QUERY_PATH, "transaction_id": TRANSACTION_ID, "body": transaction, "headers": signed_headers(transaction),
        },
        "notification": { "body": notification, "headers": signed_headers(notification) },
    });
    let node = std::env::var("NODE").unwrap_or_else(|_| "node".into());
    let mut child = Command::new(&node)
        .arg(root().join("tests/interop/bench.js"))
        .env("NODE_PATH", &modules)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| format!("cannot start {node:?}: {error}"))?;
    child.stdin.take().expect("stdin").write_all(input.to_string().as_bytes()).expect("write to bench.js");
    let output = child.wait_with_output().expect("wait for bench.js");
    assert!(output.status.success(), "bench.js failed: {}", output.status);
    let answer: Value = serde_json::from_slice(&output.stdout).expect("bench.js answers JSON");
    let rate = |job: &str| answer["results"][job].as_f64().unwrap_or_else(|| panic!("bench.js: no {job}"));
    let results = Results {
        request: rate("request"),
        rsa_sign: rate("rsa_sign"),
        sensitive: rate("sensitive"),
        sensitive_crypto: rate("sensitive_crypto"),
        response: rate("response"),
        rsa_verify: rate("rsa_verify"),
        notification: rate("notification"),
        verify_decrypt: rate("verify_decrypt"),
    };
    let peer = format!("{} on {}", answer["peer"].as_str().unwrap_or("?"), answer["runtime"].as_str().unwrap_or("?"));
    Ok((peer, results))
}

/// ops/s of the national-cryptography jobs and their bare crypto.
struct Guomi {
    request: f64,
    sm2_sign: f64,
    response: f64,
    sm2_verify: f64,
    notification: f64,
    verify_open: f64,
}

fn bench_guomi(iterations: &Iterations, batches: usize, transaction: &str) -> Guomi {
    use wechatpay::keys::AEAD_SM4_GCM;
    let key = MerchantKey::from_pem(&keys::pem("sm2/merchant_key.pem")).expect("test key");
    let wechatpay = MerchantKey::from_pem(&keys::pem("sm2/wechatpay_pub_key_private.pem")).expect("test key");
    let public = PublicKey::from_pem(&keys::pem("sm2/wechatpay_pub_key.pem")).expect("test key");
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
    let client = Client::builder(MERCHANT_ID, MERCHANT_SERIAL, key.clone())
        .wechatpay_public_key(keys::SM2_PUBLIC_KEY_ID, public.clone())
        .build()
        .expect("a client");
    let prepared = runtime.block_on(client.prepare(&jsapi_request())).expect("prepares");
    assert!(prepared.headers()["authorization"].to_str().unwrap().starts_with("WECHATPAY2-SM2-WITH-SM3 "));
    let request = measure(iterations.request, batches, || {
        black_box(runtime.block_on(client.prepare(&black_box(jsapi_request()))).expect("prepares"));
    });
    let message = reference_message(&jsapi_request());
    let sm2_sign = measure(iterations.request, batches, || {
        black_box(key.sign(black_box(message.as_bytes())));
    });

    let signed = |body: &str| {
        let (timestamp, nonce) = (unix(SystemTime::now()).to_string(), nonce());
        let signature = wechatpay.sign(format!("{timestamp}\n{nonce}\n{body}\n").as_bytes());
        let headers = json!({
            "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
            "Wechatpay-Serial": keys::SM2_PUBLIC_KEY_ID, "Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3",
        });
        (
            header_map(&headers),
            format!("{timestamp}\n{nonce}\n{body}\n"),
            headers["Wechatpay-Signature"].as_str().unwrap().to_owned(),
        )
    };
    let keys = WechatpayKeys::with_public_key(keys::SM2_PUBLIC_KEY_ID, public.clone());
    let (headers, message, signature) = signed(transaction);
    let response = measure(iterations.response, batches, || {
        keys.verify(&headers, transaction.as_bytes(), SystemTime::now()).expect("verifies");
        black_box(
            <by_transaction_id::get::Response as wechatpay::runtime::Decode>::decode(transaction.as_bytes())
                .expect("deserialises")
                .value,
        );
    });
    let sm2_verify = measure(iterations.response, batches, || {
        assert!(public.verify(black_box(message.as_bytes()), black_box(&signature)));
    });

    let apiv3_key = ApiV3Key::new(APIV3_KEY).unwrap();
    let ciphertext = apiv3_key.seal(AEAD_SM4_GCM, "0123456789ab", "transaction", transaction.as_bytes()).unwrap();
    let body = json!({
        "id": "EV-2018022511223320873", "create_time": "2015-05-20T13:29:35+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {
            "original_type": "transaction", "algorithm": AEAD_SM4_GCM, "ciphertext": ciphertext,
            "associated_data": "transaction", "nonce": "0123456789ab",
        },
    })
    .to_string();
    let notifications = Notifications::new(keys.clone(), apiv3_key.clone());
    let (headers, message, signature) = signed(&body);
    let open = || runtime.block_on(notifications.open(&headers, body.as_bytes())).expect("opens");
    assert!(matches!(open().event, Event::TransactionSuccess(_)));
    let notification = measure(iterations.notification, batches, || {
        black_box(open());
    });
    let verify_open = measure(iterations.notification, batches, || {
        assert!(public.verify(black_box(message.as_bytes()), black_box(&signature)));
        black_box(apiv3_key.open(AEAD_SM4_GCM, "0123456789ab", "transaction", black_box(&ciphertext)).expect("opens"));
    });
    Guomi { request, sm2_sign, response, sm2_verify, notification, verify_open }
}

fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name")?.split_once(':').map(|(_, model)| model.trim()));
    model.unwrap_or("unknown").to_owned()
}

fn main() {
    // `cargo bench` passes `--bench`; any other run (e.g. `cargo test --benches`) is a smoke test.
    let full = std::env::args().any(|arg| arg == "--bench");
    let (iterations, batches) = if full { (FULL, BATCHES) } else { (SMOKE, 1) };
    let transaction = std::fs::read_to_string(root().join("tests/interop/transaction.json")).expect("fixture");
    let notification = notification_body(&transaction);

    let nproc = std::thread::available_parallelism().map_or(0, usize::from);
    println!("peer benchmark: wechatpay (Rust, this crate) vs the Node peer");
    println!("machine: {nproc} CPUs (nproc), {}", cpu_model());
    println!(
        "method: each side on one thread, one after the other; 1 warm-up batch, then the median of {batches} batches; \
         batches of {} / {} / {} iterations for (a) / (b) / (c), the same on both sides",
        iterations.request, iterations.response, iterations.notification,
    );
    let rust = bench_rust(&iterations, batches, &transaction, &notification);
    let node = bench_node(&iterations, batches, &transaction, &notification);
    match &node {
        Ok((peer, _)) => println!("peer: {peer}"),
        Err(why) => println!("peer: not run ({why}); Rust only"),
    }
    println!();
    println!("{:<58} {:>12} {:>12} {:>10}", "job (ops/s, higher is better)", "Rust", "Node", "Rust/Node");
    let rows = [
        (
            "(a) request preparation: build + serialise + sign (JSAPI)",
            rust.request,
            node.as_ref().ok().map(|(_, n)| n.request),
        ),
        ("    reference: bare RSA-2048 signature", rust.rsa_sign, node.as_ref().ok().map(|(_, n)| n.rsa_sign)),
        (
            "(a') the same + encrypt 2 names (profit sharing)",
            rust.sensitive,
            node.as_ref().ok().map(|(_, n)| n.sensitive),
        ),
        (
            "    reference: bare 1 signature + 2 OAEP encryptions",
            rust.sensitive_crypto,
            node.as_ref().ok().map(|(_, n)| n.sensitive_crypto),
        ),
        (
            "(b) response: verify + deserialise (query transaction)",
            rust.response,
            node.as_ref().ok().map(|(_, n)| n.response),
        ),
        ("    reference: bare RSA-2048 verification", rust.rsa_verify, node.as_ref().ok().map(|(_, n)| n.rsa_verify)),
        (
            "(c) notification: verify + decrypt + typed parse",
            rust.notification,
            node.as_ref().ok().map(|(_, n)| n.notification),
        ),
        (
            "    reference: bare verification + AES-256-GCM decryption",
            rust.verify_decrypt,
            node.as_ref().ok().map(|(_, n)| n.verify_decrypt),
        ),
    ];
    for (job, ours, theirs) in rows {
        match theirs {
            Some(theirs) => println!("{job:<58} {ours:>12.0} {theirs:>12.0} {:>9.2}x", ours / theirs),
            None => println!("{job:<58} {ours:>12.0} {:>12} {:>10}", "-", "-"),
        }
    }
    println!();
    println!(
        "cost of each job / its bare crypto (1.00 = no overhead): (a) {:.3}, (a') {:.3}, (b) {:.3}, (c) {:.3}",
        rust.rsa_sign / rust.request,
        rust.sensitive_crypto / rust.sensitive,
        rust.rsa_verify / rust.response,
        rust.verify_decrypt / rust.notification,
    );
    if let Ok((_, node)) = &node {
        println!(
            "the same for Node:                                      (a) {:.3}, (a') {:.3}, (b) {:.3}, (c) {:.3}",
            node.rsa_sign / node.request,
            node.sensitive_crypto / node.sensitive,
            node.rsa_verify / node.response,
            node.verify_decrypt / node.notification,
        );
    }
    // Decoding alone, beside the untyped parse of the same bytes (what Node's `JSON.parse` does).
    let typed = measure(iterations.response, batches, || {
        black_box(
            <by_transaction_id::get::Response as wechatpay::runtime::Decode>::decode(black_box(transaction.as_bytes()))
                .expect("deserialises"),
        );
    });
    let untyped = measure(iterations.response, batches, || {
        black_box(serde_json::from_slice::<Value>(black_box(transaction.as_bytes())).expect("JSON"));
    });
    let derived = measure(iterations.response, batches, || {
        black_box(serde_json::from_slice::<derived::Transaction>(black_box(transaction.as_bytes())).expect("JSON"));
    });
    println!(
        "decoding the {:.1} KB transaction of (b) alone: typed and lenient {:.2} µs; into a serde_json::Value {:.2} µs; \
         serde_json into #[derive(Deserialize)] structures of the same members (strict) {:.2} µs",
        transaction.len() as f64 / 1024.0,
        1e6 / typed,
        1e6 / untyped,
        1e6 / derived,
    );
    let guomi = bench_guomi(&iterations, batches, &transaction);
    println!();
    println!("{:<58} {:>12} {:>12} {:>10}", "national cryptography (ops/s), this crate", "job", "bare", "overhead");
    for (job, ours, bare) in [
        ("(g) request preparation signed SM2-with-SM3 (JSAPI)", guomi.request, guomi.sm2_sign),
        ("(g) SM2-signed response: verify + deserialise", guomi.response, guomi.sm2_verify),
        ("(g) notification: SM2 verify + SM4-GCM open + typed parse", guomi.notification, guomi.verify_open),
    ] {
        println!("{job:<58} {ours:>12.0} {bare:>12.0} {:>9.3}x", bare / ours);
    }
    if !full {
        println!(
            "\n(smoke run with tiny counts: use `cargo bench --bench peer --features profitsharing,guomi` for numbers)"
        );
    }
}

/// The transaction of (b) as `#[derive(Deserialize)]` structures of owned strings and integers
/// (its enumerations and its time as strings), the members the fixture holds: the fastest common
/// way to decode it typed (serde_json's parser, serde's generated visitors, strict), a reference
/// for the generated readers, which the crate does not derive (why: `runtime/src/from_json.rs`).
mod derived {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[allow(dead_code)] // Read to be measured, never looked at.
    pub struct Transaction {
        appid: Option<String>,
        mchid: Option<String>,
        out_trade_no: Option<String>,
        transaction_id: Option<String>,
        trade_type: Option<String>,
        trade_state: Option<String>,
        trade_state_desc: Option<String>,
        bank_type: Option<String>,
        attach: Option<String>,
        success_time: Option<String>,
        description: Option<String>,
        notify_url: Option<String>,
        payer: Option<Payer>,
        amount: Option<Amount>,
        scene_info: Option<SceneInfo>,
        promotion_detail: Option<Vec<Promotion>>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Payer {
        openid: Option<String>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Amount {
        total: Option<i64>,
        payer_total: Option<i64>,
        currency: Option<String>,
        payer_currency: Option<String>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct SceneInfo {
        device_id: Option<String>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Promotion {
        coupon_id: Option<String>,
        name: Option<String>,
        scope: Option<String>,
        r#type: Option<String>,
        amount: Option<i64>,
        stock_id: Option<String>,
        wechatpay_contribute: Option<i64>,
        merchant_contribute: Option<i64>,
        other_contribute: Option<i64>,
        currency: Option<String>,
        goods_detail: Option<Vec<Goods>>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    pub struct Goods {
        goods_id: Option<String>,
        quantity: Option<i64>,
        unit_price: Option<i64>,
        discount_amount: Option<i64>,
        goods_remark: Option<String>,
    }
}

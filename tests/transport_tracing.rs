//! Tracing: one span per request with its method, path template, status, Request-ID and
//! duration, and never a key, a signature or a sensitive value. (Its own test binary: tracing
//! caches per call site whether anyone listens, which races with tests on other threads.)

#[path = "fixtures/mod.rs"]
mod fixtures;
#[path = "it/support.rs"]
mod transport_support;

use fixtures::keys;
use transport_support::*;

const APPID: &str = "wxd678efh567hg6787";

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A subscriber capturing everything at `filter` into a buffer, installed for the current thread.
fn capture(filter: &str) -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(move || writer.clone()).with_ansi(false).finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn each_request_is_traced_without_secrets() {
    use wechatpay::v3::profitsharing::orders::post::{Receivers, Request};
    let (captured, _guard) = capture("wechatpay=debug");
    let server = public_key_server().await;
    let client = builder(&server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .apiv3_key(apiv3_key())
        .build()
        .unwrap();
    let request = Request::builder()
        .appid(APPID)
        .transaction_id("4208450740201411110007820472")
        .out_order_no("P20150806125346")
        .receivers(
            Receivers::builder()
                .r#type("PERSONAL_OPENID")
                .account("86693852")
                .name("王小二")
                .amount(10)
                .description("分账"),
        )
        .unfreeze_unsplit(true)
        .build()
        .unwrap();

    client.send(request).await.unwrap();

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("method=\"POST\"") && log.contains("path=\"/v3/profitsharing/orders\""), "{log}");
    assert!(log.contains("status=200") && log.contains("request_id=") && log.contains("duration_ms="), "{log}");
    assert!(!log.contains("王小二"), "sensitive plaintext in the log: {log}");
    assert!(!log.contains(keys::APIV3_KEY), "the APIv3 key in the log: {log}");
    assert!(!log.contains("WECHATPAY2-SHA256-RSA2048"), "authorization in the log: {log}");
}

/// A whole payment at TRACE level for every crate (reqwest, hyper, rustls, axum, this one): prepay
/// with a real-name payer, payment signature, query, a refund, the payment notification opened and
/// processed, and the bill downloaded. The log holds no key, no sensitive plaintext, no decrypted
/// payload and no Authorization header.
#[tokio::test(flavor = "current_thread")]
async fn a_whole_payment_at_trace_level_logs_no_secret() {
    use wechatpay::v3::pay::transactions::jsapi::post::{Amount, Identity, Payer, Request};
    const NAME: &str = "李四光";
    const ID_NUMBER: &str = "110101199003070000";
    const ATTACH: &str = "ATTACH-ONLY-IN-THE-CIPHERTEXT";
    let (captured, _guard) = capture("trace");
    let server = wechatpay_sdk_sandbox::Sandbox::start(fixtures::config()).await.expect("sandbox starts");
    let client = builder(&server).apiv3_key(apiv3_key()).build().unwrap();
    let order = Request::builder()
        .appid(APPID)
        .mchid(keys::MERCHANT_ID)
        .description("实名支付")
        .out_trade_no("TRACE-1")
        .notify_url("https://www.weixin.qq.com/wxpay/pay.php")
        .amount(Amount::builder().total(100))
        .payer(
            Payer::builder()
                .openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
                .identity(Identity::builder().r#type("IDCARD").number(ID_NUMBER).name(NAME)),
        )
        .build()
        .unwrap();

    let prepay = client.send(order).await.expect("prepay");
    let _ = client.jsapi_pay_params(APPID, &prepay.prepay_id).await.expect("signed");
    server.pay("TRACE-1").expect("the user pays");
    client.send(query("TRACE-1")).await.expect("query");
    {
        use wechatpay::v3::refund::domestic::refunds::post::{Amount, Request};
        let refund = Request::builder()
            .out_trade_no("TRACE-1")
            .out_refund_no("TRACE-R1")
            .amount(Amount::builder().refund(50).total(100).currency("CNY"))
            .build()
            .unwrap();
        client.send(refund).await.expect("refund");
    }
    let mut payload = fixtures::sample_transaction("TRACE-1");
    payload["attach"] = ATTACH.into();
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, wechatpay_sdk_sandbox::Tamper::None);
    let notifications = client.notifications().unwrap();
    notifications.process(&headers, &body, |_| async { Ok::<_, std::io::Error>(()) }).await.expect("processed");
    {
        use wechatpay::v3::bill::tradebill::get::Request;
        let bill = client.send(Request::builder().bill_date("2024-03-01").build().unwrap()).await.expect("bill");
        client.download_bill(&bill).await.expect("download");
    }

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("TRACE") && log.contains("hyper"), "TRACE events of the HTTP stack were captured");
    for secret in [keys::APIV3_KEY, NAME, ID_NUMBER, ATTACH, "signature=\"", "WECHATPAY2-SHA256-RSA2048 mchid"] {
        assert!(!log.contains(secret), "{secret:?} in the log:\n{log}");
    }
    for line in fixtures::keys::pem("merchant_key.pem").lines().filter(|line| !line.starts_with("-----")) {
        assert!(!log.contains(line), "private key material in the log");
    }
    for request in server.requests() {
        let authorization = request.headers["authorization"].to_str().unwrap().to_owned();
        let signature = authorization.split("signature=\"").nth(1).unwrap();
        assert!(!log.contains(&signature[..40]), "a request signature in the log");
    }
}

fn log_of(captured: &Captured) -> String {
    String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
}

/// An answer off its documented shape is logged at WARN, once per operation and JSON path however
/// often it comes.
#[tokio::test(flavor = "current_thread")]
async fn a_deviating_answer_is_logged_once_per_operation_and_path() {
    let (captured, _guard) = capture("wechatpay=warn");
    let server = public_key_server().await;
    let client = public_key_client(&server);
    for _ in 0..3 {
        server.misbehave(wechatpay_sdk_sandbox::Misbehaviour::SignedBody(
            br#"{"out_trade_no": "LOGGED-ONCE", "amount": {"total": 100}}"#.to_vec(),
        ));
        let order = client.send(query("LOGGED-ONCE")).await.expect("decodes");
        assert_eq!(order.deviations().len(), 1);
    }

    let log = log_of(&captured);
    let lines: Vec<&str> = log.lines().filter(|line| line.contains("path=trade_state")).collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains("WARN") && lines[0].contains("/v3/pay/transactions/out-trade-no/{out_trade_no}"),
        "{log}"
    );
}

/// Anyone can send a notification: rejected ones are logged a few times a minute, not once each.
#[tokio::test(flavor = "current_thread")]
async fn forged_notifications_are_logged_a_few_times_a_minute() {
    use axum::response::IntoResponse as _;
    let (captured, _guard) = capture("wechatpay=info");
    let server = wechatpay_sdk_sandbox::Sandbox::start(fixtures::config()).await.expect("sandbox starts");
    let keys = wechatpay::WechatpayKeys::with_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key());
    let notifications =
        wechatpay::Notifications::new(keys, apiv3_key()).key_refresher(|| async { Ok::<_, std::io::Error>(()) });
    for n in 0..60 {
        let payload = fixtures::sample_transaction(&format!("FORGED-{n}"));
        let (headers, body) = server.notification(
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            &payload,
            wechatpay_sdk_sandbox::Tamper::UnknownSerial,
        );
        let error = notifications.open(&headers, &body).await.expect_err("unknown serial");
        let _ = error.into_response();
    }

    let log = log_of(&captured);
    let lines =
        log.lines().filter(|line| line.contains("unknown key") || line.contains("notification rejected")).count();
    // The crate's budget is 10 lines a minute (`log_limit::PER_MINUTE`).
    assert!((1..=10).contains(&lines), "{lines} lines for 120 chances:\n{log}");
}

/// A failover is logged at WARN with its error, never with the URL (whose query may hold sealed
/// values).
#[tokio::test(flavor = "current_thread")]
async fn a_failover_is_logged_without_the_url() {
    use wechatpay::v3::capital::capitallhh::banks::search_banks_by_bank_account::get::Request;
    let (captured, _guard) = capture("wechatpay=debug");
    let generic = || wechatpay_sdk_sandbox::Config {
        signer: wechatpay_sdk_sandbox::Signer::PublicKey,
        answers: wechatpay_sdk_sandbox::Answers::Pages,
        ..fixtures::config()
    };
    let (primary, backup) = (
        wechatpay_sdk_sandbox::Sandbox::start(generic()).await.expect("sandbox starts"),
        wechatpay_sdk_sandbox::Sandbox::start(generic()).await.expect("sandbox starts"),
    );
    let client = builder(&primary)
        .backup_url(Some(&backup.base_url()))
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .build()
        .unwrap();
    primary.misbehave(wechatpay_sdk_sandbox::Misbehaviour::DropConnection);

    client
        .send(Request::builder().account_number("6214830000001234").build().unwrap())
        .await
        .expect("the backup answers");

    let log = log_of(&captured);
    assert!(log.contains("failing over to the backup host"), "{log}");
    assert!(!log.contains("account_number=") && !log.contains("6214830000001234"), "{log}");
}

/// A notification for a merchant the service does not hold is refused and logged by the merchant
/// id it named and its length: never its body.
#[cfg(feature = "axum")]
#[tokio::test(flavor = "current_thread")]
async fn a_notification_for_an_unknown_merchant_is_logged_without_its_body() {
    use wechatpay::notify::axum::merchant_router;
    let (captured, _guard) = capture("wechatpay=debug");
    let server = public_key_server().await;
    let merchants = wechatpay::merchants::Merchants::new().unwrap();
    merchants
        .add(builder(&server).wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key()).apiv3_key(apiv3_key()))
        .unwrap();
    let app = axum::Router::new()
        .nest("/notify", merchant_router(merchants, |_, _| async { Ok::<_, std::convert::Infallible>(()) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify/1900009999", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let payload = fixtures::sample_transaction("ORDER-X");
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, wechatpay_sdk_sandbox::Tamper::None);
    let envelope: serde_json::Value = serde_json::from_slice(&body).unwrap();

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer = http.post(&url).headers(headers).body(body).send().await.unwrap();

    assert_eq!(answer.status(), 404);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("does not know") && log.contains("1900009999"), "{log}");
    for part in ["id", "ciphertext", "nonce"] {
        let value = envelope.get(part).or_else(|| envelope["resource"].get(part)).and_then(|value| value.as_str());
        assert!(!log.contains(value.unwrap()), "the body's {part} in the log: {log}");
    }
}

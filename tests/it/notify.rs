//! Notifications as WeChat Pay delivers them, made by the sandbox (`wechatpay-sdk-sandbox`): verified,
//! decrypted, typed, rejected when spoiled, and processed once per id.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};
use wechatpay::keys::{ApiV3Key, CryptoError, MerchantKey, PublicKey};
use wechatpay::notify::{Event, NotifyError, ProcessError, Processed};
use wechatpay::runtime::Number;
use wechatpay::webhook::v3::{refund_success, transaction_success};
use wechatpay::wechatpay_keys::{unix, PlatformCertificate, VerifyError, WechatpayKeys};
use wechatpay::{Notifications, SignatureScheme};

use crate::fixtures::keys::{
    pem, APIV3_KEY, MERCHANT_ID, MERCHANT_SERIAL, PLATFORM2_SERIAL, PLATFORM_SERIAL, PUBLIC_KEY_ID, UNKNOWN_SERIAL,
};
use crate::fixtures::{sample_refund, sample_transaction};
use wechatpay_sdk_sandbox::{CertChoice, Sandbox, Signer, Tamper};

const RESOURCE: &str = "encrypt-resource";

/// What a merchant in the middle of a switchover holds: the public key and the platform certificate.
fn wechatpay_keys() -> WechatpayKeys {
    let keys =
        WechatpayKeys::with_public_key(PUBLIC_KEY_ID, PublicKey::from_pem(&pem("wechatpay_pub_key.pem")).unwrap());
    keys.add_certificates([PlatformCertificate::from_pem(&pem("platform_cert.pem")).unwrap()]);
    keys
}

fn notifications() -> Notifications {
    Notifications::new(wechatpay_keys(), ApiV3Key::new(APIV3_KEY).unwrap())
}

async fn start() -> Sandbox {
    Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts")
}

/// Headers signed as WeChat Pay signs, with the public key's private half from the fixtures: for bodies
/// the sandbox does not make (other algorithms, non-JSON, extreme timestamps).
fn sign_as_wechatpay(body: &[u8], timestamp: &str) -> HeaderMap {
    let signer = MerchantKey::from_pem(&pem("wechatpay_pub_key_private.pem")).unwrap();
    let nonce = wechatpay::keys::nonce();
    let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message.push(b'\n');
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("wechatpay-timestamp", timestamp.to_owned()),
        ("wechatpay-nonce", nonce),
        ("wechatpay-signature", signer.sign(&message)),
        ("wechatpay-serial", PUBLIC_KEY_ID.to_owned()),
        ("wechatpay-signature-type", "WECHATPAY2-SHA256-RSA2048".to_owned()),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_str(&value).unwrap());
    }
    headers
}

fn now() -> String {
    unix(std::time::SystemTime::now()).to_string()
}

/// An envelope sealed with the fixtures' APIv3 key, as WeChat Pay builds them.
fn envelope(algorithm: &str, event_type: &str, payload: &Value) -> Vec<u8> {
    let key = ApiV3Key::new(APIV3_KEY).unwrap();
    let ciphertext = key.encrypt("0123456789ab", "transaction", payload.to_string().as_bytes()).unwrap();
    json!({
        "id": "EV-SELF-SIGNED",
        "create_time": "2026-08-01T10:00:00+08:00",
        "event_type": event_type,
        "resource_type": RESOURCE,
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": algorithm,
            "ciphertext": ciphertext,
            "associated_data": "transaction",
            "nonce": "0123456789ab"
        }
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn transaction_success_is_verified_decrypted_and_typed() {
    let server = start().await;
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-1001"), Tamper::None);

    let notification = notifications().open(&headers, &body).await.unwrap();

    assert_eq!(notification.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(notification.resource_type, RESOURCE);
    assert_eq!(notification.summary, "支付成功");
    assert!(notification.id.starts_with("EV-"), "{}", notification.id);
    assert!(notification.create_time.as_str().ends_with("+08:00"), "{}", notification.create_time);
    let created = notification.create_time.to_time().expect("an RFC 3339 date-time");
    assert_eq!(created.offset().whole_hours(), 8);
    assert_eq!(notification.verified.serial, PLATFORM_SERIAL);
    let Event::TransactionSuccess(transaction) = notification.event else {
        panic!("not a TRANSACTION.SUCCESS: {:?}", notification.event);
    };
    assert_eq!(transaction.out_trade_no, "ORDER-1001");
    assert_eq!(transaction.transaction_id.as_ref().map(String::len), Some(28));
    assert_eq!(transaction.mchid.as_deref(), Some("1900000109"));
    assert_eq!(transaction.trade_state, transaction_success::TradeState::Success);
    assert_eq!(transaction.trade_type, Some(transaction_success::TransactionTradeType::Jsapi));
    assert_eq!(transaction.amount.total, 100);
    assert_eq!(transaction.amount.payer_total, Some(90));
    assert_eq!(transaction.amount.currency.as_deref(), Some("CNY"));
    assert_eq!(transaction.payer.as_ref().and_then(|p| p.openid.as_deref()), Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"));
    let promotion = &transaction.promotion_detail.as_ref().unwrap()[0];
    assert_eq!(promotion.amount, 10);
    assert_eq!(promotion.goods_detail.as_ref().unwrap()[0].goods_id, "M1006");
    assert!(notification.deviations.is_empty(), "{:?}", notification.deviations);
}

#[tokio::test]
async fn refund_success_is_typed() {
    let server = start().await;
    let (headers, body) = server.notification("REFUND.SUCCESS", RESOURCE, &sample_refund("REFUND-7"), Tamper::None);

    let notification = notifications().open(&headers, &body).await.unwrap();

    assert_eq!(notification.summary, "退款成功");
    let Event::RefundSuccess(refund) = notification.event else {
        panic!("not a REFUND.SUCCESS: {:?}", notification.event);
    };
    assert_eq!(refund.out_refund_no, "REFUND-7");
    assert_eq!(refund.out_trade_no, "REFUND-7-order");
    assert_eq!(refund.refund_status, refund_success::RefundStatus::Success);
    let amount = &refund.amount;
    assert_eq!(amount.refund, Number::from(100));
    assert_eq!(amount.payer_refund, Number::from(90));
}

#[tokio::test]
async fn an_undocumented_event_type_is_kept_as_json() {
    let server = start().await;
    let payload = json!({ "out_order_no": "PAYSCORE-1", "state": "DOING", "nested": { "n": [1, 2] } });
    let (headers, body) = server.notification("EXAMPLE.NOT_DOCUMENTED", RESOURCE, &payload, Tamper::None);

    let notification = notifications().open(&headers, &body).await.unwrap();

    assert_eq!(
        notification.event,
        Event::Unknown { event_type: "EXAMPLE.NOT_DOCUMENTED".into(), payload: payload.clone() }
    );
}

#[tokio::test]
async fn every_tamper_is_rejected_with_its_own_error() {
    let server = start().await;
    let notifications = notifications();
    let payload = sample_transaction("ORDER-TAMPER");
    let open = |tamper: Tamper| {
        let (headers, body) = server.notification("TRANSACTION.SUCCESS", RESOURCE, &payload, tamper);
        let notifications = notifications.clone();
        async move { notifications.open(&headers, &body).await.unwrap_err() }
    };

    let error = open(Tamper::Body).await;
    assert!(
        matches!(&error, NotifyError::Verify(VerifyError::BadSignature { serial }) if serial == PLATFORM_SERIAL),
        "{error:?}"
    );
    let error = open(Tamper::StaleTimestamp).await;
    assert!(matches!(error, NotifyError::Verify(VerifyError::StaleTimestamp { .. })), "{error:?}");
    let error = open(Tamper::UnknownSerial).await;
    assert!(
        matches!(&error, NotifyError::Verify(VerifyError::UnknownSerial(serial)) if serial == UNKNOWN_SERIAL),
        "{error:?}"
    );
    let error = open(Tamper::WrongSignatureType).await;
    assert!(
        matches!(
            &error,
            NotifyError::Verify(VerifyError::SchemeMismatch {
                signed: SignatureScheme::Sm2,
                key: SignatureScheme::Rsa,
                ..
            })
        ),
        "{error:?}"
    );
    let error = open(Tamper::SignTest).await;
    assert!(matches!(error, NotifyError::Verify(VerifyError::SignatureProbe)), "{error:?}");
    let error = open(Tamper::Ciphertext).await;
    assert!(matches!(error, NotifyError::Decrypt(CryptoError::Decrypt)), "{error:?}");
    let error = open(Tamper::WrongApiV3Key).await;
    assert!(matches!(error, NotifyError::Decrypt(CryptoError::Decrypt)), "{error:?}");

    // Verified, but not ours to decrypt: the same with the right data and another APIv3 key.
    let (headers, body) = server.notification("TRANSACTION.SUCCESS", RESOURCE, &payload, Tamper::None);
    let other = Notifications::new(wechatpay_keys(), ApiV3Key::new("0123456789abcdefghijklmnopqrstuv").unwrap());
    assert!(matches!(other.open(&headers, &body).await, Err(NotifyError::Decrypt(CryptoError::Decrypt))));
    assert!(notifications.open(&headers, &body).await.is_ok());
}

#[tokio::test]
async fn a_verified_body_that_is_not_an_envelope_is_rejected() {
    let body = b"<xml><return_code>SUCCESS</return_code></xml>";
    let error = notifications().open(&sign_as_wechatpay(body, &now()), body).await.unwrap_err();
    assert!(matches!(error, NotifyError::Envelope(_)), "{error:?}");

    let body = br#"{"id":"EV-1","event_type":"TRANSACTION.SUCCESS"}"#;
    let error = notifications().open(&sign_as_wechatpay(body, &now()), body).await.unwrap_err();
    assert!(matches!(error, NotifyError::Envelope(_)), "{error:?}");
}

#[tokio::test]
async fn another_resource_algorithm_is_rejected() {
    let body = envelope("AEAD_CHACHA20_POLY1305", "TRANSACTION.SUCCESS", &sample_transaction("ORDER-SM4"));
    let error = notifications().open(&sign_as_wechatpay(&body, &now()), &body).await.unwrap_err();
    assert!(
        matches!(&error, NotifyError::UnsupportedAlgorithm(algorithm) if algorithm == "AEAD_CHACHA20_POLY1305"),
        "{error:?}"
    );
    assert!(error.to_string().contains("AEAD_SM4_GCM"), "the supported ones are named: {error}");

    // An AES-256-GCM resource labelled SM4-GCM is opened as SM4-GCM, and fails as such.
    let body = envelope("AEAD_SM4_GCM", "TRANSACTION.SUCCESS", &sample_transaction("ORDER-SM4"));
    let error = notifications().open(&sign_as_wechatpay(&body, &now()), &body).await.unwrap_err();
    assert!(matches!(error, NotifyError::Decrypt(CryptoError::Decrypt)), "{error:?}");

    // The same envelope with the right algorithm goes through: only the algorithm was wrong.
    let body = envelope("AEAD_AES_256_GCM", "TRANSACTION.SUCCESS", &sample_transaction("ORDER-SM4"));
    let notification = notifications().open(&sign_as_wechatpay(&body, &now()), &body).await.unwrap();
    assert_eq!(notification.verified.serial, PUBLIC_KEY_ID);
}

#[tokio::test]
async fn a_payload_not_matching_its_type_decodes_says_where_and_shows_no_value() {
    let server = start().await;
    let mut payload = sample_transaction("ORDER-BAD");
    payload["amount"]["total"] = json!("一百元 13800138000");
    let (headers, body) = server.notification("TRANSACTION.SUCCESS", RESOURCE, &payload, Tamper::None);

    let notification = notifications().open(&headers, &body).await.expect("a verified payload always decodes");

    let [deviation] = notification.deviations.as_slice() else { panic!("{:?}", notification.deviations) };
    assert_eq!(deviation.path, "amount.total");
    assert_eq!(deviation.to_string(), "`amount.total`: expected an integer, found a string (read as its default)");
    let Event::TransactionSuccess(transaction) = &notification.event else { panic!("{:?}", notification.event) };
    assert_eq!(transaction.amount.total, 0, "defaulted");
    assert_eq!(transaction.out_trade_no, "ORDER-BAD", "the rest is typed");
    assert_eq!(notification.payload_json().unwrap()["amount"]["total"], "一百元 13800138000", "nothing is lost");
    let error = notification.strict().expect_err("a handler that must not act on a defaulted amount");
    assert_eq!(error.status(), http::StatusCode::INTERNAL_SERVER_ERROR, "delivered again later");
    for shown in [error.to_string(), format!("{error:?}"), format!("{notification:?}")] {
        assert!(!shown.contains("13800138000") && !shown.contains("一百"), "{shown}");
        assert!(!shown.contains("oUpF8u"), "{shown}");
    }
}

#[tokio::test]
async fn a_sealed_payload_that_is_not_a_json_object_is_refused() {
    let server = start().await;
    let (headers, body) =
        server.notification("REFUND.SUCCESS", RESOURCE, &json!(["not", "an", "object"]), Tamper::None);

    let error = notifications().open(&headers, &body).await.expect_err("nothing to type");

    let NotifyError::Payload { event_type, source } = &error else { panic!("{error:?}") };
    assert_eq!((event_type.as_str(), source.path()), ("REFUND.SUCCESS", ""));
    assert_eq!(error.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_payload_missing_a_required_field_decodes_and_says_so() {
    let server = start().await;
    let mut payload = sample_transaction("ORDER-PARTIAL");
    payload.as_object_mut().unwrap().remove("amount");
    payload["trade_state"] = json!(null);
    payload["mchid"] = json!(1900000109);
    let (headers, body) = server.notification("TRANSACTION.SUCCESS", RESOURCE, &payload, Tamper::None);

    let notification = notifications().open(&headers, &body).await.expect("decoded leniently");

    let paths: Vec<&str> = notification.deviations.iter().map(|deviation| deviation.path.as_str()).collect();
    assert_eq!(paths, ["trade_state", "amount"]);
    let Event::TransactionSuccess(transaction) = notification.event else { panic!("{:?}", notification.event) };
    assert_eq!(transaction.amount.total, 0);
    assert_eq!(transaction.mchid.as_deref(), Some("1900000109"), "a number where a string belongs is read as text");
}

#[tokio::test]
async fn public_key_and_certificate_signers_are_both_accepted() {
    let server = start().await;
    let notifications = notifications();
    for (signer, serial) in [(Signer::Platform, PLATFORM_SERIAL), (Signer::PublicKey, PUBLIC_KEY_ID)] {
        server.set_signer(signer);
        let (headers, body) =
            server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-SWITCH"), Tamper::None);
        let notification = notifications.open(&headers, &body).await.unwrap();
        assert_eq!(notification.verified.serial, serial);
    }

    // A merchant holding only the public key does not know the certificate.
    server.set_signer(Signer::Platform);
    let public_only = Notifications::new(
        WechatpayKeys::with_public_key(PUBLIC_KEY_ID, PublicKey::from_pem(&pem("wechatpay_pub_key.pem")).unwrap()),
        ApiV3Key::new(APIV3_KEY).unwrap(),
    );
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-SWITCH"), Tamper::None);
    let error = public_only.open(&headers, &body).await.unwrap_err();
    assert!(matches!(&error, NotifyError::Verify(VerifyError::UnknownSerial(serial)) if serial == PLATFORM_SERIAL));
}

#[tokio::test]
async fn an_unknown_serial_refreshes_the_keys_once_then_verifies() {
    let server = start().await;
    server.set_signer(Signer::Platform2);
    let keys = wechatpay_keys();
    let refreshes = Arc::new(AtomicUsize::new(0));
    let notifications = Notifications::new(keys.clone(), ApiV3Key::new(APIV3_KEY).unwrap()).key_refresher({
        let (keys, refreshes) = (keys.clone(), refreshes.clone());
        move || {
            refreshes.fetch_add(1, Ordering::SeqCst);
            keys.add_certificates([PlatformCertificate::from_pem(&pem("platform2_cert.pem")).unwrap()]);
            async { Ok::<_, std::io::Error>(()) }
        }
    });
    let deliver =
        |tamper| server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-ROT"), tamper);

    let (headers, body) = deliver(Tamper::None);
    let notification = notifications.open(&headers, &body).await.unwrap();
    assert_eq!(notification.verified.serial, PLATFORM2_SERIAL);
    assert_eq!(refreshes.load(Ordering::SeqCst), 1);

    // Known now: no refresh. A serial nobody has: one refresh a minute for it, then UnknownSerial.
    let (headers, body) = deliver(Tamper::None);
    notifications.open(&headers, &body).await.unwrap();
    for _ in 0..3 {
        let (headers, body) = deliver(Tamper::UnknownSerial);
        let error = notifications.open(&headers, &body).await.unwrap_err();
        assert!(matches!(error, NotifyError::Verify(VerifyError::UnknownSerial(_))), "{error:?}");
    }
    assert_eq!(refreshes.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_clients_certificate_download_serves_as_key_refresher() {
    let server = start().await;
    let merchant_key = MerchantKey::from_pem(&pem("merchant_key.pem")).unwrap();
    let client = wechatpay::Client::builder(MERCHANT_ID, MERCHANT_SERIAL, merchant_key)
        .base_url(server.base_url())
        .apiv3_key(ApiV3Key::new(APIV3_KEY).unwrap())
        .build()
        .unwrap();
    // The handler shares the client's keys, and asks the client to download certificates when needed.
    let notifications = Notifications::new(client.wechatpay_keys().clone(), ApiV3Key::new(APIV3_KEY).unwrap())
        .key_refresher({
            let client = client.clone();
            move || {
                let client = client.clone();
                async move { client.refresh_certificates().await.map(drop) }
            }
        });

    // WeChat Pay has rotated: it signs with a certificate the merchant has never downloaded.
    server.set_certificates(vec![CertChoice::Platform, CertChoice::Platform2]);
    server.set_signer(Signer::Platform2);
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-ROTATED"), Tamper::None);

    let notification = notifications.open(&headers, &body).await.unwrap();
    assert_eq!(notification.verified.serial, PLATFORM2_SERIAL);
    assert!(client.wechatpay_keys().certificate_serials().contains(&PLATFORM2_SERIAL.to_owned()));
}

#[tokio::test]
async fn a_failing_refresh_ends_in_unknown_serial() {
    let server = start().await;
    server.set_signer(Signer::Platform2);
    let notifications = notifications().key_refresher(|| async { Err::<(), _>("certificates endpoint down") });
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-ROT"), Tamper::None);
    let error = notifications.open(&headers, &body).await.unwrap_err();
    assert!(matches!(&error, NotifyError::Verify(VerifyError::UnknownSerial(serial)) if serial == PLATFORM2_SERIAL));
}

#[tokio::test]
async fn a_missing_signature_type_is_accepted_unless_required() {
    let server = start().await;
    let (mut headers, body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-NOTYPE"), Tamper::None);
    headers.remove("wechatpay-signature-type");

    assert!(notifications().open(&headers, &body).await.is_ok());
    let error = notifications().require_signature_type(true).open(&headers, &body).await.unwrap_err();
    assert!(matches!(error, NotifyError::Verify(VerifyError::MissingHeader("Wechatpay-Signature-Type"))), "{error:?}");
}

/// Counts the handler's runs and fails while `fail` says so.
#[derive(Clone, Default)]
struct Counter {
    runs: Arc<AtomicUsize>,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Counter {
    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    fn handler(&self, fail: bool) -> impl FnOnce(wechatpay::Notification) -> std::future::Ready<Result<(), String>> {
        let counter = self.clone();
        move |notification| {
            counter.runs.fetch_add(1, Ordering::SeqCst);
            if let Event::TransactionSuccess(transaction) = &notification.event {
                counter.seen.lock().unwrap().push(transaction.out_trade_no.clone());
            }
            std::future::ready(if fail { Err("database unavailable".to_owned()) } else { Ok(()) })
        }
    }
}

#[tokio::test]
async fn a_duplicate_is_answered_but_processed_once() {
    let server = start().await;
    let notifications = notifications();
    let counter = Counter::default();
    let id = "EV-DUPLICATE-1";
    let payload = sample_transaction("ORDER-DUP");

    for attempt in 0..3 {
        // Each delivery is signed afresh (new nonce and timestamp), as WeChat Pay's retries are.
        let (headers, body) = server.notification("TRANSACTION.SUCCESS", RESOURCE, &payload, Tamper::Id(id.into()));
        let processed = notifications.process(&headers, &body, counter.handler(false)).await.unwrap();
        let expected =
            if attempt == 0 { Processed::Handled { id: id.into() } } else { Processed::Duplicate { id: id.into() } };
        assert_eq!(processed, expected);
    }
    assert_eq!(counter.runs(), 1);
    assert_eq!(*counter.seen.lock().unwrap(), ["ORDER-DUP"]);

    // Another id is another notification.
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &payload, Tamper::Id("EV-DUPLICATE-2".into()));
    notifications.process(&headers, &body, counter.handler(false)).await.unwrap();
    assert_eq!(counter.runs(), 2);
}

#[tokio::test]
async fn a_failed_processing_is_processed_again_on_redelivery() {
    let server = start().await;
    let notifications = notifications();
    let counter = Counter::default();
    let deliver = || {
        server.notification(
            "TRANSACTION.SUCCESS",
            RESOURCE,
            &sample_transaction("ORDER-RETRY"),
            Tamper::Id("EV-RETRY".into()),
        )
    };

    let (headers, body) = deliver();
    let error = notifications.process(&headers, &body, counter.handler(true)).await.unwrap_err();
    assert!(
        matches!(&error, ProcessError::Handler { id, error } if id == "EV-RETRY" && error == "database unavailable")
    );
    assert_eq!(error.status(), 500);
    assert_eq!(error.message(), "processing failed");

    let (headers, body) = deliver();
    let processed = notifications.process(&headers, &body, counter.handler(false)).await.unwrap();
    assert_eq!(processed, Processed::Handled { id: "EV-RETRY".into() });

    let (headers, body) = deliver();
    let processed = notifications.process(&headers, &body, counter.handler(false)).await.unwrap();
    assert_eq!(processed, Processed::Duplicate { id: "EV-RETRY".into() });
    assert_eq!(counter.runs(), 2);
}

#[tokio::test]
async fn a_claim_keeps_concurrent_deliveries_out_until_committed() {
    let server = start().await;
    let notifications = notifications();
    let deliver = || {
        server.notification("REFUND.SUCCESS", RESOURCE, &sample_refund("REFUND-CLAIM"), Tamper::Id("EV-CLAIM".into()))
    };

    let (headers, body) = deliver();
    let (notification, claim) = notifications.handle(&headers, &body).await.unwrap();
    assert_eq!(claim.id(), notification.id);

    let (headers, body) = deliver();
    let error = notifications.handle(&headers, &body).await.unwrap_err();
    assert!(matches!(&error, NotifyError::InProgress { id } if id == "EV-CLAIM"), "{error:?}");
    assert_eq!(error.status(), 503);

    // Dropped (e.g. the handler was cancelled): the next delivery may take it.
    drop(claim);
    let (headers, body) = deliver();
    let (_, claim) = notifications.handle(&headers, &body).await.unwrap();
    claim.commit().await.unwrap();

    let (headers, body) = deliver();
    let error = notifications.handle(&headers, &body).await.unwrap_err();
    assert!(error.is_duplicate() && error.status() == 204, "{error:?}");
    // `open` does not consult the replay guard.
    assert!(notifications.open(&headers, &body).await.is_ok());
}

#[tokio::test]
async fn a_rejected_notification_is_not_recorded() {
    let server = start().await;
    let notifications = notifications();
    let counter = Counter::default();
    let payload = sample_transaction("ORDER-FORGED");

    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &payload, Tamper::Id("EV-FORGED".into()));
    let mut forged = body.clone();
    forged.extend_from_slice(b" ");
    let error = notifications.process(&headers, &forged, counter.handler(false)).await.unwrap_err();
    assert!(matches!(error, ProcessError::Notify(NotifyError::Verify(VerifyError::BadSignature { .. }))), "{error:?}");
    assert_eq!(error.status(), 401);

    let processed = notifications.process(&headers, &body, counter.handler(false)).await.unwrap();
    assert!(matches!(processed, Processed::Handled { .. }));
    assert_eq!(counter.runs(), 1);
}

#[tokio::test]
async fn secrets_and_payloads_stay_out_of_debug_and_errors() {
    let notifications = notifications();
    let shown = format!("{notifications:?}");
    assert!(!shown.contains(APIV3_KEY), "{shown}");
    assert!(shown.contains(PUBLIC_KEY_ID), "{shown}");

    let server = start().await;
    for tamper in [Tamper::Body, Tamper::Ciphertext, Tamper::WrongApiV3Key, Tamper::StaleTimestamp, Tamper::SignTest] {
        let (headers, body) =
            server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-SECRET"), tamper);
        let error = notifications.open(&headers, &body).await.unwrap_err();
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains(APIV3_KEY) && !shown.contains("oUpF8u"), "{shown}");
        }
    }
}

#[tokio::test]
async fn garbage_never_panics() {
    use rand::{Rng as _, SeedableRng as _};

    let notifications = notifications();
    let server = start().await;
    let (good_headers, good_body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-FUZZ"), Tamper::None);

    // Hand-picked: empty things, non-ASCII header bytes, absurd timestamps (validly signed), odd JSON.
    let mut cases: Vec<(HeaderMap, Vec<u8>)> =
        vec![(HeaderMap::new(), Vec::new()), (good_headers.clone(), Vec::new()), (HeaderMap::new(), good_body.clone())];
    let mut obs_text = good_headers.clone();
    obs_text.insert("wechatpay-serial", HeaderValue::from_bytes(b"\xff\xfe").unwrap());
    cases.push((obs_text, good_body.clone()));
    let mut obs_type = good_headers.clone();
    obs_type.insert("wechatpay-signature-type", HeaderValue::from_bytes(b"\xe4\xbd\xa0").unwrap());
    cases.push((obs_type, good_body.clone()));
    for timestamp in ["-9223372036854775808", "9223372036854775807", "-1", "0", "99999999999999999999", "1e9", " 1"] {
        let body = envelope("AEAD_AES_256_GCM", "TRANSACTION.SUCCESS", &sample_transaction("ORDER-FUZZ"));
        cases.push((sign_as_wechatpay(&body, timestamp), body));
    }
    for body in [
        "null",
        "[]",
        "{}",
        r#"{"id":1}"#,
        r#"{"id":"x","create_time":"","event_type":"","resource_type":"","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"","nonce":""}}"#,
        r#"{"id":"x","create_time":"","event_type":"E","resource_type":"","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"AAAA","nonce":"0123456789ab"}}"#,
        r#"{"id":"x","create_time":"","event_type":"E","resource_type":"","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"%%%","nonce":"0123456789ab"}}"#,
        r#"{"id":"x","create_time":"","event_type":"E","resource_type":"","resource":{"algorithm":"AEAD_AES_256_GCM","ciphertext":"AAAA","nonce":"ü"}}"#,
        "\u{feff}{}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    ] {
        cases.push((sign_as_wechatpay(body.as_bytes(), &now()), body.as_bytes().to_vec()));
    }
    // Sealed plaintexts that are not JSON, or deeply nested, decrypted for real.
    let key = ApiV3Key::new(APIV3_KEY).unwrap();
    for plaintext in [&b"\xff\x00not json"[..], b"", b"[1,", &[b'['; 10_000]] {
        let ciphertext = key.encrypt("0123456789ab", "", plaintext).unwrap();
        for event_type in ["TRANSACTION.SUCCESS", "REFUND.SUCCESS", "SOMETHING.ELSE"] {
            let body = json!({
                "id": "x", "create_time": "", "event_type": event_type, "resource_type": RESOURCE,
                "resource": { "algorithm": "AEAD_AES_256_GCM", "ciphertext": ciphertext, "nonce": "0123456789ab" }
            })
            .to_string();
            cases.push((sign_as_wechatpay(body.as_bytes(), &now()), body.into_bytes()));
        }
    }

    // Random: the good notification with random bytes flipped, random headers, random bodies.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let names = [
        "wechatpay-timestamp",
        "wechatpay-nonce",
        "wechatpay-signature",
        "wechatpay-serial",
        "wechatpay-signature-type",
    ];
    for _ in 0..300 {
        let mut body = good_body.clone();
        for _ in 0..rng.gen_range(1..4) {
            let at = rng.gen_range(0..body.len());
            body[at] ^= rng.gen_range(1..=255u8);
        }
        let mut headers = good_headers.clone();
        if rng.gen_bool(0.5) {
            let name = names[rng.gen_range(0..names.len())];
            let value: Vec<u8> =
                (0..rng.gen_range(0..40)).map(|_| rng.gen_range(0x20..=0xff)).filter(|b| *b != 0x7f).collect();
            headers.insert(name, HeaderValue::from_bytes(&value).unwrap());
        }
        cases.push((headers, body));
        let random: Vec<u8> = (0..rng.gen_range(0..200)).map(|_| rng.gen()).collect();
        cases.push((good_headers.clone(), random));
    }

    // A validly signed timestamp whose distance to now overflows `i64` is stale, not a panic.
    let body = envelope("AEAD_AES_256_GCM", "TRANSACTION.SUCCESS", &sample_transaction("ORDER-FUZZ"));
    let error = notifications.open(&sign_as_wechatpay(&body, "-9223372036854775808"), &body).await.unwrap_err();
    assert!(matches!(error, NotifyError::Verify(VerifyError::StaleTimestamp { .. })), "{error:?}");

    for (headers, body) in &cases {
        let result = notifications.process(headers, body, |_| async { Ok::<_, String>(()) }).await;
        assert!(result.is_err(), "accepted garbage: {:?}", String::from_utf8_lossy(body));
    }
    // And the untouched one still works.
    assert!(notifications.open(&good_headers, &good_body).await.is_ok());
}

#[cfg(feature = "axum")]
mod over_http {
    use super::*;

    use std::time::Duration;

    use tokio::sync::mpsc;
    use wechatpay::notify::axum::handler;

    /// An axum app on 127.0.0.1 whose notification handler reports each typed transaction, and fails while
    /// `fail` is set. Returns its URL.
    async fn app(
        notifications: Notifications,
        fail: Arc<std::sync::atomic::AtomicBool>,
    ) -> (String, mpsc::UnboundedReceiver<String>) {
        let (seen, receiver) = mpsc::unbounded_channel();
        let route = handler(notifications, move |notification: wechatpay::Notification| {
            let (seen, fail) = (seen.clone(), fail.clone());
            async move {
                if fail.load(Ordering::SeqCst) {
                    return Err("database unavailable");
                }
                match notification.event {
                    Event::TransactionSuccess(transaction) => {
                        let _ = seen.send(format!("{} {}", transaction.out_trade_no, transaction.amount.total));
                    }
                    other => {
                        let _ = seen.send(format!("other {other:?}"));
                    }
                }
                Ok(())
            }
        });
        let router = axum::Router::new().route("/wechatpay/notify", route);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/wechatpay/notify", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (url, receiver)
    }

    fn fail_message(body: &str) -> String {
        let value: Value = serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {body}"));
        assert_eq!(value["code"], "FAIL", "{body}");
        value["message"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn the_axum_handler_answers_as_wechatpay_expects() {
        let server = start().await;
        let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (url, mut seen) = app(notifications(), fail.clone()).await;
        let payload = sample_transaction("ORDER-HTTP");
        let id = || Tamper::Id("EV-HTTP-1".into());

        let (status, body) =
            server.deliver(&url, "TRANSACTION.SUCCESS", RESOURCE, &payload, id()).await.expect("delivered");
        assert_eq!((status, body.as_str()), (204, ""));
        assert_eq!(seen.recv().await.unwrap(), "ORDER-HTTP 100");

        // A duplicate: success again, not processed.
        let (status, _) =
            server.deliver(&url, "TRANSACTION.SUCCESS", RESOURCE, &payload, id()).await.expect("delivered");
        assert_eq!(status, 204);

        // Spoiled deliveries: failure statuses with the documented body, nothing processed.
        for (tamper, expected) in [
            (Tamper::Body, 401),
            (Tamper::StaleTimestamp, 401),
            (Tamper::UnknownSerial, 401),
            (Tamper::WrongSignatureType, 401),
            (Tamper::SignTest, 401),
            (Tamper::Ciphertext, 400),
            (Tamper::WrongApiV3Key, 400),
        ] {
            let (status, body) = server
                .deliver(&url, "TRANSACTION.SUCCESS", RESOURCE, &payload, tamper.clone())
                .await
                .expect("delivered");
            assert_eq!(status, expected, "{tamper:?}: {body}");
            let message = fail_message(&body);
            assert!(!message.contains(APIV3_KEY) && !message.contains("oUpF8u"), "{message}");
        }

        // A failing handler: 500, then WeChat Pay's retry is processed.
        fail.store(true, Ordering::SeqCst);
        let retry = || Tamper::Id("EV-HTTP-2".into());
        let payload = sample_transaction("ORDER-HTTP-RETRY");
        let (status, body) =
            server.deliver(&url, "TRANSACTION.SUCCESS", RESOURCE, &payload, retry()).await.expect("delivered");
        assert_eq!(status, 500);
        assert_eq!(fail_message(&body), "processing failed");
        fail.store(false, Ordering::SeqCst);
        let (status, _) =
            server.deliver(&url, "TRANSACTION.SUCCESS", RESOURCE, &payload, retry()).await.expect("delivered");
        assert_eq!(status, 204);
        assert_eq!(seen.recv().await.unwrap(), "ORDER-HTTP-RETRY 100");

        // Nothing else was processed.
        let extra = tokio::time::timeout(Duration::from_millis(100), seen.recv()).await;
        assert!(extra.is_err(), "processed more than expected: {extra:?}");
    }

    #[tokio::test]
    async fn the_axum_handler_types_refunds_and_keeps_unknown_events() {
        let server = start().await;
        let (url, mut seen) = app(notifications(), Arc::default()).await;

        let (status, _) = server
            .deliver(&url, "REFUND.SUCCESS", RESOURCE, &sample_refund("REFUND-HTTP"), Tamper::None)
            .await
            .expect("delivered");
        assert_eq!(status, 204);
        let refund = seen.recv().await.unwrap();
        assert!(refund.starts_with("other RefundSuccess(") && refund.contains("REFUND-HTTP"), "{refund}");

        let (status, _) = server
            .deliver(&url, "MARKETING.NEW", RESOURCE, &json!({ "k": "v" }), Tamper::None)
            .await
            .expect("delivered");
        assert_eq!(status, 204);
        let unknown = seen.recv().await.unwrap();
        assert!(unknown.contains("MARKETING.NEW") && unknown.contains("\"k\""), "{unknown}");
    }

    #[tokio::test]
    async fn garbage_over_http_gets_a_fail_body() {
        let server = start().await;
        let (url, _seen) = app(notifications(), Arc::default()).await;
        let client = reqwest::Client::new();
        for body in [&b""[..], b"{}", b"\xff\xfe garbage"] {
            let response = client.post(&url).body(body.to_vec()).send().await.unwrap();
            assert_eq!(response.status(), 401);
            fail_message(&response.text().await.unwrap());
        }
        drop(server);
    }
}

#[tokio::test]
async fn an_attackers_unknown_serial_does_not_use_up_the_refresh_for_a_genuine_rotation() {
    let server = start().await;
    let keys = wechatpay_keys();
    let rotated = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refreshes = Arc::new(AtomicUsize::new(0));
    // The refresher downloads what WeChat Pay lists at the time: the new certificate once it rotated.
    let notifications = Notifications::new(keys.clone(), ApiV3Key::new(APIV3_KEY).unwrap()).key_refresher({
        let (keys, rotated, refreshes) = (keys.clone(), rotated.clone(), refreshes.clone());
        move || {
            refreshes.fetch_add(1, Ordering::SeqCst);
            if rotated.load(Ordering::SeqCst) {
                keys.add_certificates([PlatformCertificate::from_pem(&pem("platform2_cert.pem")).unwrap()]);
            }
            async { Ok::<_, std::io::Error>(()) }
        }
    });

    let (headers, body) = server.notification(
        "TRANSACTION.SUCCESS",
        RESOURCE,
        &sample_transaction("ORDER-ATTACK"),
        Tamper::UnknownSerial,
    );
    let error = notifications.open(&headers, &body).await.unwrap_err();
    assert!(matches!(error, NotifyError::Verify(VerifyError::UnknownSerial(_))), "{error:?}");

    rotated.store(true, Ordering::SeqCst);
    server.set_signer(Signer::Platform2);
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-GENUINE"), Tamper::None);
    let notification = notifications.open(&headers, &body).await.expect("the new serial gets its own refresh");
    assert_eq!(notification.verified.serial, PLATFORM2_SERIAL);
    assert_eq!(refreshes.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_late_release_does_not_free_a_claim_taken_over_after_the_lease() {
    let server = start().await;
    let guard = wechatpay::notify::InMemoryReplayGuard::new().lease(std::time::Duration::from_millis(100));
    let notifications = notifications().replay_guard(guard);
    let deliver = || {
        server.notification("REFUND.SUCCESS", RESOURCE, &sample_refund("REFUND-LEASE"), Tamper::Id("EV-LEASE".into()))
    };

    let (headers, body) = deliver();
    let (_, first) = notifications.handle(&headers, &body).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    // The first handler outlived its lease: a redelivery takes the id over.
    let (headers, body) = deliver();
    let (_, second) = notifications.handle(&headers, &body).await.expect("the lease ran out");

    // The first handler fails late and gives up a claim that is no longer its own.
    let _ = first.release().await;

    let (headers, body) = deliver();
    let error = notifications.handle(&headers, &body).await.expect_err("the second delivery still holds the id");
    assert!(matches!(&error, NotifyError::InProgress { .. }), "{error:?}");
    second.commit().await.unwrap();
    let (headers, body) = deliver();
    assert!(notifications.handle(&headers, &body).await.unwrap_err().is_duplicate());
}

#[tokio::test]
async fn a_late_abandon_does_not_free_a_claim_taken_over_after_the_lease() {
    let server = start().await;
    let guard = wechatpay::notify::InMemoryReplayGuard::new().lease(std::time::Duration::from_millis(100));
    let notifications = notifications().replay_guard(guard);
    let deliver = || {
        server.notification("REFUND.SUCCESS", RESOURCE, &sample_refund("REFUND-LEASE"), Tamper::Id("EV-ABANDON".into()))
    };

    let (headers, body) = deliver();
    let (_, first) = notifications.handle(&headers, &body).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let (headers, body) = deliver();
    let (_, _second) = notifications.handle(&headers, &body).await.expect("the lease ran out");

    drop(first); // e.g. the first handler's future is cancelled late

    let (headers, body) = deliver();
    let error = notifications.handle(&headers, &body).await.expect_err("the second delivery still holds the id");
    assert!(matches!(&error, NotifyError::InProgress { .. }), "{error:?}");
}

#[tokio::test]
async fn a_lease_and_ttl_of_duration_max_mean_forever_not_a_panic() {
    let server = start().await;
    let guard = wechatpay::notify::InMemoryReplayGuard::with_limits(10, std::time::Duration::MAX)
        .lease(std::time::Duration::MAX);
    let notifications = notifications().replay_guard(guard);
    let deliver =
        || server.notification("REFUND.SUCCESS", RESOURCE, &sample_refund("REFUND-MAX"), Tamper::Id("EV-MAX".into()));

    let (headers, body) = deliver();
    let (_, claim) = notifications.handle(&headers, &body).await.unwrap();
    let (headers, body) = deliver();
    assert!(matches!(notifications.handle(&headers, &body).await, Err(NotifyError::InProgress { .. })));
    claim.commit().await.unwrap();
    let (headers, body) = deliver();
    assert!(notifications.handle(&headers, &body).await.unwrap_err().is_duplicate());
}

#[tokio::test]
async fn a_hanging_key_refresher_delays_only_unknown_serials_and_only_up_to_the_wait() {
    let server = start().await;
    let notifications = notifications()
        .key_refresher(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            Ok::<_, std::io::Error>(())
        })
        .key_refresh_wait(std::time::Duration::from_secs(2));

    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-HANG"), Tamper::UnknownSerial);
    let started = std::time::Instant::now();
    let pending = {
        let notifications = notifications.clone();
        tokio::spawn(async move { notifications.open(&headers, &body).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", RESOURCE, &sample_transaction("ORDER-KNOWN"), Tamper::None);
    notifications.open(&headers, &body).await.expect("a known key does not wait for the refresh");
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());

    let error = pending.await.unwrap().unwrap_err();
    assert!(matches!(error, NotifyError::Verify(VerifyError::UnknownSerial(_))), "{error:?}");
    let waited = started.elapsed();
    assert!(waited >= std::time::Duration::from_secs(2) && waited < std::time::Duration::from_secs(5), "{waited:?}");
}

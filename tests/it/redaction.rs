//! Secrets never show: `Debug` and `Display` of every public type that can hold a key, a sensitive
//! field's plaintext, a decrypted payload or an `Authorization` header, and the errors of a run
//! that met each of them, contain none of them. (Logs: `tests/transport_tracing.rs`.)

use wechatpay::notify::Notifications;
use wechatpay::runtime::Sensitive;
use wechatpay::{ApiV3Key, Error, MerchantKey};

use crate::fixtures::keys::{self, pem};
use crate::fixtures::sample_transaction;
use crate::support::*;
use wechatpay_sdk_sandbox::{Misbehaviour, Sandbox, Tamper};

const NAME: &str = "张三丰";
const ATTACH: &str = "ATTACH-ONLY-IN-THE-CIPHERTEXT";

/// The secrets of the run: the APIv3 key, each line of the merchant's private key, a sensitive
/// field's plaintext, a decrypted payload's marker, and `signatures` seen in Authorization headers.
fn assert_no_secret(shown: &str, signatures: &[String]) {
    assert!(!shown.contains(keys::APIV3_KEY), "the APIv3 key in {shown}");
    let private_key = pem("merchant_key.pem");
    for line in private_key.lines().filter(|line| !line.starts_with("-----")) {
        assert!(!shown.contains(line), "private key material in {shown}");
    }
    assert!(!shown.contains(NAME), "a sensitive field's plaintext in {shown}");
    assert!(!shown.contains(ATTACH), "a decrypted payload in {shown}");
    assert!(!shown.contains("signature=\""), "an Authorization header in {shown}");
    for signature in signatures {
        assert!(!shown.contains(&signature[..40]), "a request signature in {shown}");
    }
}

fn both(value: &(impl std::fmt::Debug + std::fmt::Display)) -> String {
    format!("{value} {value:?}")
}

fn profit_sharing() -> wechatpay::v3::profitsharing::orders::post::Request {
    use wechatpay::v3::profitsharing::orders::post::{Receivers, Request};
    Request::builder()
        .appid("wxd678efh567hg6787")
        .transaction_id("4208450740201411110007820472")
        .out_order_no("P-REDACTION")
        .receivers(
            Receivers::builder()
                .r#type("PERSONAL_OPENID")
                .account("86693852")
                .name(NAME)
                .amount(10)
                .description("分账"),
        )
        .unfreeze_unsplit(true)
        .build()
        .unwrap()
}

fn signatures(server: &Sandbox) -> Vec<String> {
    server
        .requests()
        .iter()
        .filter_map(|request| header(request, "authorization"))
        .filter_map(|value| value.split("signature=\"").nth(1))
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn keys_clients_builders_and_handlers_print_no_secret() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let merchant = MerchantKey::from_pem(&pem("merchant_key.pem")).unwrap();
    let apiv3 = ApiV3Key::new(keys::APIV3_KEY).unwrap();
    let builder =
        builder(&server).wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key()).apiv3_key(apiv3.clone());
    let shown = format!("{merchant:?} {apiv3:?} {builder:?}");
    let client = builder.build().unwrap();
    let notifications = client.notifications().unwrap();
    let standalone = Notifications::new(client.wechatpay_keys().clone(), apiv3);
    let shown = format!("{shown} {client:?} {notifications:?} {standalone:?} {:?}", client.wechatpay_keys());
    assert_no_secret(&shown, &[]);
    assert!(shown.contains(keys::MERCHANT_ID) && shown.contains(keys::PUBLIC_KEY_ID), "{shown}");
}

#[tokio::test]
async fn sensitive_fields_print_redacted_before_and_after_the_wire() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let request = profit_sharing();
    let sensitive = Sensitive::new(NAME);
    assert_no_secret(&format!("{request:?} {sensitive:?}"), &[]);

    let prepared = client.prepare(&request).await.unwrap();
    let shown = format!("{prepared:?}");
    assert_no_secret(&shown, &[]);
    let body = prepared.body().and_then(|body| body.as_bytes()).unwrap();
    assert!(!contains(body, NAME.as_bytes()), "encrypted on the wire");

    // A value WeChat Pay encrypted for the merchant, decrypted: still redacted when printed.
    let ciphertext = MerchantKey::from_pem(&pem("merchant_key.pem")).unwrap().public_key().encrypt(NAME).unwrap();
    let decrypted = client.decrypt(&wechatpay::runtime::Encrypted::new(ciphertext)).await.unwrap();
    assert_eq!(decrypted.expose(), NAME);
    assert_no_secret(&format!("{decrypted:?}"), &[]);
}

#[tokio::test]
async fn errors_met_on_the_way_print_no_secret() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let mut errors: Vec<Error> = Vec::new();
    for misbehaviour in [
        Misbehaviour::BadSignature,
        Misbehaviour::ServerError,
        Misbehaviour::HtmlPage(http::StatusCode::BAD_GATEWAY),
        Misbehaviour::DropMidBody,
        Misbehaviour::SignedBody(br#"{"unexpected":1}"#.to_vec()),
    ] {
        server.misbehave(misbehaviour);
        let strict = client.send(profit_sharing()).await.and_then(wechatpay::Reply::strict);
        errors.push(strict.map(drop).expect_err("misbehaved"));
    }
    let keyless = builder(&server).build().unwrap();
    errors.push(keyless.send(profit_sharing()).await.expect_err("no key to encrypt with"));
    errors.push(
        client.decrypt(&wechatpay::runtime::Encrypted::new("bm90IGEgY2lwaGVydGV4dA==")).await.expect_err("not ours"),
    );
    let signatures = signatures(&server);
    assert!(!signatures.is_empty());
    for error in &errors {
        assert_no_secret(&both(error), &signatures);
    }
}

#[tokio::test]
async fn notifications_and_their_errors_print_no_decrypted_payload() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    client.refresh_certificates().await.unwrap();
    let notifications = client.notifications().unwrap();
    let mut payload = sample_transaction("ORDER-REDACTED");
    payload["attach"] = ATTACH.into();

    let (headers, body) = server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::None);
    let notification = notifications.open(&headers, &body).await.unwrap();
    assert_no_secret(&format!("{notification:?}"), &[]);
    let (_, claim) = notifications.handle(&headers, &body).await.unwrap();
    assert_no_secret(&format!("{claim:?}"), &[]);

    // A payload off its documented shape: its deviations and `strict`'s error name the field,
    // not the values.
    payload["amount"] = ATTACH.into();
    let (headers, body) = server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::None);
    let notification = notifications.open(&headers, &body).await.unwrap();
    assert_no_secret(&format!("{notification:?}"), &[]);
    assert_no_secret(&both(&notification.strict().unwrap_err()), &[]);
    for tamper in [Tamper::Ciphertext, Tamper::WrongApiV3Key, Tamper::Body] {
        let (headers, body) = server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, tamper);
        assert_no_secret(&both(&notifications.open(&headers, &body).await.unwrap_err()), &[]);
    }
}

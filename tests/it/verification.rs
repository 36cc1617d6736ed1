//! Every signed answer is verified before it is parsed: each way a server can answer wrongly
//! becomes its own error.

use std::time::Duration;

use http::StatusCode;
use wechatpay::{Client, Error, VerifyError};

use crate::fixtures::keys;
use crate::support::*;
use wechatpay_sdk_sandbox::{Misbehaviour, Sandbox};

fn close() -> wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::close::post::Request {
    wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::close::post::Request::builder()
        .out_trade_no("1217752501201407033233368018")
        .mchid(keys::MERCHANT_ID)
        .build()
        .unwrap()
}

/// The error a query gets when the server misbehaves once; the next query must succeed again.
async fn misbehaving(client: &Client, server: &Sandbox, misbehaviour: Misbehaviour) -> Error {
    server.misbehave(misbehaviour.clone());
    let error = client.send(query(ORDER)).await.expect_err("misbehaviour must fail");
    client
        .send(query(ORDER))
        .await
        .unwrap_or_else(|error| panic!("after {misbehaviour:?}, a good answer fails: {error:?}"));
    error
}

fn verify_error(error: Error) -> VerifyError {
    match error {
        Error::Verify { source, request_id } => {
            assert!(request_id.is_some(), "the Request-ID is kept");
            source
        }
        other => panic!("expected Error::Verify, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_signature_is_rejected() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let error = verify_error(misbehaving(&client, &server, Misbehaviour::BadSignature).await);
    assert_eq!(error, VerifyError::BadSignature { serial: keys::PUBLIC_KEY_ID.to_owned() });
}

#[tokio::test]
async fn a_stale_timestamp_is_rejected() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let error = verify_error(misbehaving(&client, &server, Misbehaviour::StaleTimestamp).await);
    assert!(matches!(error, VerifyError::StaleTimestamp { timestamp, now } if now - timestamp >= 600), "{error:?}");
}

#[tokio::test]
async fn an_unknown_serial_is_rejected_without_a_certificate_download_on_public_keys() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let error = verify_error(misbehaving(&client, &server, Misbehaviour::UnknownSerial).await);
    assert_eq!(error, VerifyError::UnknownSerial(keys::UNKNOWN_SERIAL.to_owned()));
    assert!(requests_to(&server, "/v3/certificates").is_empty());
}

#[tokio::test]
async fn an_unknown_serial_refreshes_certificates_once_then_fails() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    client.refresh_certificates().await.unwrap();

    let error = verify_error(misbehaving(&client, &server, Misbehaviour::UnknownSerial).await);
    assert_eq!(error, VerifyError::UnknownSerial(keys::UNKNOWN_SERIAL.to_owned()));
    server.misbehave(Misbehaviour::UnknownSerial);
    client.send(query(ORDER)).await.expect_err("still unknown");

    // One download at start, one for the unknown serial, none for the same serial again.
    assert_eq!(requests_to(&server, "/v3/certificates").len(), 2);
}

#[tokio::test]
async fn a_signature_probe_is_rejected() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let error = verify_error(misbehaving(&client, &server, Misbehaviour::SignTest).await);
    assert_eq!(error, VerifyError::SignatureProbe);
}

#[tokio::test]
async fn missing_signature_headers_are_rejected() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let error = verify_error(misbehaving(&client, &server, Misbehaviour::MissingHeaders).await);
    assert_eq!(error, VerifyError::MissingHeader("Wechatpay-Signature"));
}

#[tokio::test]
async fn an_empty_204_is_verified_too() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    server.misbehave(Misbehaviour::BadSignature);
    let error = client.send(close()).await.expect_err("bad signature on 204");
    assert!(matches!(verify_error(error), VerifyError::BadSignature { .. }));
}

#[tokio::test]
async fn a_server_error_is_an_api_error() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let error = misbehaving(&client, &server, Misbehaviour::ServerError).await;
    match &error {
        Error::Api { status, code, body, request_id, .. } => {
            assert_eq!((*status, code.as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR"));
            assert!(body.is_none() && request_id.is_some());
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = public_key_server().await;
    let client = builder(&server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = misbehaving(&client, &server, Misbehaviour::Slow(Duration::from_secs(2))).await;
    assert!(
        matches!(&error, Error::Timeout { path, .. } if path == "/v3/pay/transactions/out-trade-no/{out_trade_no}"),
        "{error:?}"
    );
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let error = misbehaving(&client, &server, Misbehaviour::DropConnection).await;
    assert!(matches!(&error, Error::Transport { .. }), "{error:?}");
    assert!(error.outcome_unknown(), "the request was sent");
}

#[tokio::test]
async fn an_unsigned_error_page_from_a_proxy_is_reported_with_its_body() {
    let app = axum::Router::new().fallback(|| async {
        (StatusCode::BAD_GATEWAY, [("content-type", "text/html")], "<html><body>502 Bad Gateway</body></html>")
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = Client::builder(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, merchant_key())
        .base_url(format!("http://{address}/"))
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .build()
        .unwrap();

    let error = client.send(query(ORDER)).await.expect_err("502");

    match error {
        Error::Api { status, code, body: Some(body), .. } => {
            assert_eq!(status, StatusCode::BAD_GATEWAY);
            assert!(code.is_empty());
            assert!(body.contains("502 Bad Gateway"));
        }
        other => panic!("expected Error::Api with the body, got {other:?}"),
    }
}

#[tokio::test]
async fn a_signed_error_with_a_bad_signature_is_a_verification_error() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    server.misbehave(Misbehaviour::BadSignature);
    use wechatpay::v3::pay::transactions::id::by_transaction_id::get::Request;
    let request = Request::builder()
        .transaction_id(format!("{}4200", wechatpay_sdk_sandbox::MISSING_RESOURCE_PREFIX))
        .mchid(keys::MERCHANT_ID)
        .build()
        .unwrap();

    let error = client.send(request).await.expect_err("404 with a bad signature");

    assert!(matches!(verify_error(error), VerifyError::BadSignature { .. }));
}

#[tokio::test]
async fn an_unsigned_error_document_gives_no_code_or_message() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    server.misbehave(Misbehaviour::MissingHeaders);
    let out_trade_no = format!("{}UNSIGNED", wechatpay_sdk_sandbox::UNKNOWN_ORDER_PREFIX);

    let error = client.send(query(&out_trade_no)).await.expect_err("404");

    assert_eq!(error.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!((error.code(), error.message()), (None, None), "unverified: {error:?}");
    assert!(matches!(&error, Error::Api { body: Some(body), .. } if body.contains("ORDER_NOT_EXIST")), "{error:?}");
}

#[tokio::test]
async fn a_verified_answer_of_none_of_the_documented_members_decodes_and_says_so() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let body = serde_json::json!({ "padding": "x".repeat(100_000) }).to_string().into_bytes();
    server.misbehave(Misbehaviour::SignedBody(body));

    let reply = client.send(query(ORDER)).await.expect("a verified answer always decodes");

    let kinds: Vec<_> = reply.deviations().iter().map(|deviation| &deviation.kind).collect();
    assert_eq!(kinds, [&wechatpay::runtime::DeviationKind::Undocumented], "one deviation for the body");
    assert_eq!(reply.out_trade_no, "", "every member reads as its default");
    assert_eq!(reply.json().unwrap()["padding"].as_str().map(str::len), Some(100_000), "nothing is lost");
    let error = reply.strict().expect_err("not the documented answer");
    assert!(error.outcome_unknown());
}

//! Fault injection: the sandbox answers a refund (a `POST` that moves money) in each way a
//! network or a server can fail. Each fault is its own typed error, [`Error::outcome_unknown`] says
//! whether the refund may have happened, and the refund is never sent twice.

use std::time::Duration;

use http::StatusCode;
use wechatpay::{Client, Error, RetryPolicy, VerifyError};

use crate::support::*;
use wechatpay_sdk_sandbox::{Misbehaviour, Sandbox};

const REFUNDS: &str = "/v3/refund/domestic/refunds";

fn refund() -> wechatpay::v3::refund::domestic::refunds::post::Request {
    use wechatpay::v3::refund::domestic::refunds::post::{Amount, Request};
    Request::builder()
        .out_trade_no("1217752501201407033233368018")
        .out_refund_no("1217752501201407033233368019")
        .reason("商品已售完")
        .amount(Amount::builder().refund(50).total(100).currency("CNY"))
        .build()
        .unwrap()
}

/// A primary server misbehaving once and a healthy backup, and a client that may fail over.
struct Faulty {
    primary: Sandbox,
    backup: Sandbox,
    client: Client,
}

async fn faulty(misbehaviour: Misbehaviour) -> Faulty {
    let primary = public_key_server().await;
    let backup = public_key_server().await;
    let client = builder(&primary)
        .backup_url(Some(&backup.base_url()))
        .wechatpay_public_key(crate::fixtures::keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    primary.misbehave(misbehaviour);
    Faulty { primary, backup, client }
}

impl Faulty {
    /// The refund's error, after checking it reached the primary host once and the backup never.
    async fn refund_error(&self) -> Error {
        let error = self.client.send(refund()).await.expect_err("the fault must fail the refund");
        assert_eq!(requests_to(&self.primary, REFUNDS).len(), 1, "sent once: {error:?}");
        assert!(self.backup.requests().is_empty(), "never repeated on the backup host: {error:?}");
        error
    }
}

#[tokio::test]
async fn a_refund_answered_with_a_forged_signature_has_an_unknown_outcome() {
    let error = faulty(Misbehaviour::BadSignature).await.refund_error().await;
    assert!(matches!(&error, Error::Verify { source: VerifyError::BadSignature { .. }, .. }), "{error:?}");
    assert!(error.outcome_unknown(), "a 2xx that cannot be trusted may be a refund that happened");
}

#[tokio::test]
async fn a_refund_answered_while_the_clock_is_off_has_an_unknown_outcome() {
    let error = faulty(Misbehaviour::StaleTimestamp).await.refund_error().await;
    assert!(matches!(&error, Error::Verify { source: VerifyError::StaleTimestamp { .. }, .. }), "{error:?}");
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn a_refund_answered_off_its_documented_shape_is_never_a_definite_failure() {
    let faulty = faulty(Misbehaviour::SignedBody(br#"{"unexpected":true}"#.to_vec())).await;
    let reply = faulty.client.send(refund()).await.expect("a verified 2xx: the refund was accepted, and decodes");
    assert_eq!(requests_to(&faulty.primary, REFUNDS).len(), 1);
    assert!(!reply.deviations().is_empty(), "the caller can know nothing in it is as documented");
    assert_eq!(reply.json().unwrap()["unexpected"], true, "what it carried is kept");
    let error = reply.strict().expect_err("strict refuses it");
    assert!(error.outcome_unknown(), "query the refund: it happened");
}

#[tokio::test]
async fn a_refund_answered_with_an_html_page_has_an_unknown_outcome() {
    let error = faulty(Misbehaviour::HtmlPage(StatusCode::OK)).await.refund_error().await;
    assert!(matches!(&error, Error::Verify { source: VerifyError::MissingHeader(_), .. }), "{error:?}");
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn a_refund_answered_by_a_gateway_error_page_has_an_unknown_outcome() {
    let error = faulty(Misbehaviour::HtmlPage(StatusCode::BAD_GATEWAY)).await.refund_error().await;
    assert!(matches!(&error, Error::Api { status, body: Some(_), .. } if *status == 502), "{error:?}");
    assert_eq!(error.code(), None, "an unverified page has no WeChat Pay code");
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn a_refund_whose_answer_is_cut_short_has_an_unknown_outcome() {
    let error = faulty(Misbehaviour::DropMidBody).await.refund_error().await;
    assert!(matches!(&error, Error::Transport { .. }), "{error:?}");
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn a_refund_whose_connection_drops_has_an_unknown_outcome() {
    let error = faulty(Misbehaviour::DropConnection).await.refund_error().await;
    assert!(matches!(&error, Error::Transport { .. }), "{error:?}");
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn a_refund_answered_too_slowly_has_an_unknown_outcome() {
    let error = faulty(Misbehaviour::Slow(Duration::from_secs(3))).await.refund_error().await;
    assert!(matches!(&error, Error::Timeout { .. }), "{error:?}");
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn a_refund_whose_answer_drips_has_an_unknown_outcome() {
    let error = faulty(Misbehaviour::Drip { chunk: 16, pause: Duration::from_millis(400) }).await.refund_error().await;
    assert!(matches!(&error, Error::Timeout { .. }), "{error:?}");
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn a_refund_answered_with_a_server_error_has_an_unknown_outcome() {
    let error = faulty(Misbehaviour::ServerError).await.refund_error().await;
    assert_eq!(error.code(), Some("SYSTEM_ERROR"));
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn a_refund_refused_by_a_verified_error_has_a_known_outcome() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let mut request = refund();
    request.amount.refund = 0;
    let error = client.send(request).await.expect_err("refused");
    assert_eq!(error.status(), Some(StatusCode::FORBIDDEN));
    assert_eq!(error.code(), Some("NOT_ENOUGH"));
    assert!(!error.outcome_unknown(), "WeChat Pay said no, and said it verifiably");
}

#[tokio::test]
async fn a_refund_that_never_connects_has_a_known_outcome() {
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let client =
        Client::builder(crate::fixtures::keys::MERCHANT_ID, crate::fixtures::keys::MERCHANT_SERIAL, merchant_key())
            .base_url(format!("http://{closed}/"))
            .wechatpay_public_key(crate::fixtures::keys::PUBLIC_KEY_ID, wechatpay_public_key())
            .retry(RetryPolicy::never())
            .build()
            .unwrap();
    let error = client.send(refund()).await.expect_err("refused connection");
    assert!(!error.outcome_unknown(), "{error:?}");
}

#[tokio::test]
async fn a_refund_answered_with_an_oversized_body_has_an_unknown_outcome() {
    let primary = public_key_server().await;
    let client = builder(&primary)
        .wechatpay_public_key(crate::fixtures::keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .max_body_size(64 * 1024)
        .build()
        .unwrap();
    primary.misbehave(Misbehaviour::Oversized(200_000));

    let error = client.send(refund()).await.expect_err("too large");

    assert!(
        matches!(&error, Error::BodyTooLarge { limit: 65536, status, request_id: Some(_), .. } if *status == 200),
        "{error:?}"
    );
    assert!(error.outcome_unknown());
    assert_eq!(primary.requests().len(), 1);
}

#[tokio::test]
async fn an_http_client_that_follows_redirects_gets_its_answer_refused() {
    let server = public_key_server().await;
    let client = builder(&server)
        .wechatpay_public_key(crate::fixtures::keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .http_client(reqwest::Client::new())
        .build()
        .unwrap();
    server.misbehave(Misbehaviour::Redirect(format!("{REFUNDS}/elsewhere")));

    let error = client.send(refund()).await.expect_err("redirected");

    assert!(
        matches!(&error, Error::Redirect { location: Some(location), .. } if location.ends_with("/elsewhere")),
        "{error:?}"
    );
    assert!(error.outcome_unknown());
}

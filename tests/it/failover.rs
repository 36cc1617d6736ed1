//! Failover to the backup host (see `wechatpay::retry` for the policy): queries fail over on
//! 5xx, lost connections and timeouts; payments and other writes only when they provably never
//! reached the server, unless the merchant opts in, and never after a timeout.

use std::time::Duration;

use wechatpay::{Client, Error, RetryPolicy};

use crate::fixtures::keys;
use crate::support::*;
use wechatpay_sdk_sandbox::{Misbehaviour, Sandbox};

fn prepay() -> wechatpay::v3::pay::transactions::native::post::Request {
    use wechatpay::v3::pay::transactions::native::post::{Amount, Request};
    Request::builder()
        .appid("wxd678efh567hg6787")
        .mchid(keys::MERCHANT_ID)
        .description("Image形象店-深圳腾大-QQ公仔")
        .out_trade_no("1217752501201407033233368018")
        .notify_url("https://www.weixin.qq.com/wxpay/pay.php")
        .amount(Amount::builder().total(100))
        .build()
        .unwrap()
}

struct Pair {
    primary: Sandbox,
    backup: Sandbox,
}

async fn pair() -> Pair {
    Pair { primary: public_key_server().await, backup: public_key_server().await }
}

impl Pair {
    fn client(&self, policy: RetryPolicy) -> Client {
        builder(&self.primary)
            .backup_url(Some(&self.backup.base_url()))
            .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
            .timeout(Duration::from_millis(500))
            .retry(policy)
            .build()
            .unwrap()
    }

    fn counts(&self) -> (usize, usize) {
        (self.primary.requests().len(), self.backup.requests().len())
    }
}

#[tokio::test]
async fn a_query_fails_over_on_a_server_error_signed_afresh() {
    let pair = pair().await;
    pair.primary.misbehave(Misbehaviour::ServerError);

    pair.client(RetryPolicy::default()).send(query(ORDER)).await.expect("answered by the backup");

    assert_eq!(pair.counts(), (1, 1));
    let (first, second) = (&pair.primary.requests()[0], &pair.backup.requests()[0]);
    assert!(first.authorization_ok && second.authorization_ok);
    assert_ne!(header(first, "authorization"), header(second, "authorization"), "a fresh nonce and signature");
}

#[tokio::test]
async fn a_query_fails_over_on_a_dropped_connection() {
    let pair = pair().await;
    pair.primary.misbehave(Misbehaviour::DropConnection);
    pair.client(RetryPolicy::default()).send(query(ORDER)).await.expect("answered by the backup");
    assert_eq!(pair.counts(), (1, 1));
}

#[tokio::test]
async fn a_query_fails_over_on_a_timeout() {
    let pair = pair().await;
    pair.primary.misbehave(Misbehaviour::Slow(Duration::from_secs(3)));
    pair.client(RetryPolicy::default()).send(query(ORDER)).await.expect("answered by the backup");
    assert_eq!(pair.counts(), (1, 1));
}

#[tokio::test]
async fn a_payment_fails_over_when_the_primary_host_refuses_connections() {
    let backup = public_key_server().await;
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let client = Client::builder(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, merchant_key())
        .base_url(format!("http://{closed}/"))
        .backup_url(Some(&backup.base_url()))
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .build()
        .unwrap();

    let native = client.send(prepay()).await.expect("never reached the primary, so sent to the backup");

    assert!(native.code_url.starts_with("weixin://"));
    assert_eq!(backup.requests().len(), 1);
}

#[tokio::test]
async fn a_payment_is_not_repeated_after_a_server_error_by_default() {
    let pair = pair().await;
    pair.primary.misbehave(Misbehaviour::ServerError);
    let error = pair.client(RetryPolicy::default()).send(prepay()).await.expect_err("not retried");
    assert_eq!(error.code(), Some("SYSTEM_ERROR"));
    assert_eq!(pair.counts(), (1, 0));
}

#[tokio::test]
async fn a_payment_is_not_repeated_after_a_dropped_connection_by_default() {
    let pair = pair().await;
    pair.primary.misbehave(Misbehaviour::DropConnection);
    let error = pair.client(RetryPolicy::default()).send(prepay()).await.expect_err("not retried");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_eq!(pair.counts(), (1, 0));
}

#[tokio::test]
async fn opting_in_repeats_a_payment_after_a_server_error_or_a_dropped_connection() {
    let pair = pair().await;
    let client = pair.client(RetryPolicy::default().retry_non_idempotent(true));
    pair.primary.misbehave(Misbehaviour::ServerError);
    client.send(prepay()).await.expect("repeated on the backup");
    pair.primary.misbehave(Misbehaviour::DropConnection);
    client.send(prepay()).await.expect("repeated on the backup");
    assert_eq!(pair.counts(), (2, 2));
}

#[tokio::test]
async fn a_timed_out_payment_is_never_repeated_even_when_opted_in() {
    let pair = pair().await;
    pair.primary.misbehave(Misbehaviour::Slow(Duration::from_secs(3)));

    let error =
        pair.client(RetryPolicy::default().retry_non_idempotent(true)).send(prepay()).await.expect_err("timed out");

    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    assert!(error.outcome_unknown());
    assert_eq!(pair.counts(), (1, 0), "the backup never saw the payment");
}

#[tokio::test]
async fn failover_can_be_turned_off() {
    let pair = pair().await;
    pair.primary.misbehave(Misbehaviour::ServerError);
    let error = pair.client(RetryPolicy::never()).send(query(ORDER)).await.expect_err("one attempt only");
    assert_eq!(error.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(pair.counts(), (1, 0));
}

#[tokio::test]
async fn both_primary_hosts_fail_over_to_the_cross_city_backup_and_others_to_none() {
    let server = public_key_server().await;
    let on = |base: Option<&str>| {
        let builder = Client::builder(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, merchant_key());
        let client = match base {
            Some(base) => builder.base_url(base).build().unwrap(),
            None => builder.build().unwrap(),
        };
        format!("{client:?}")
    };
    for base in [None, Some("https://api.mch.weixin.qq.com/"), Some("https://api.wechatpay.cn")] {
        let debug = on(base);
        assert!(debug.contains("backup_url: Some(\"https://api2.wechatpay.cn/\")"), "{base:?}: {debug}");
    }
    let custom = public_key_client(&server);
    assert!(format!("{custom:?}").contains("backup_url: None"), "{custom:?}");
}

/// A port nothing listens on: connecting to it is refused.
async fn unreachable() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/")
}

#[tokio::test]
async fn a_payment_that_may_have_reached_the_primary_stays_unknown_when_the_backup_is_unreachable() {
    let primary = public_key_server().await;
    let client = builder(&primary)
        .backup_url(Some(&unreachable().await))
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .retry(RetryPolicy::default().retry_non_idempotent(true))
        .build()
        .unwrap();
    for misbehaviour in [Misbehaviour::ServerError, Misbehaviour::DropConnection] {
        primary.misbehave(misbehaviour.clone());
        let error = client.send(prepay()).await.expect_err("both hosts failed");
        let Error::FailedOver { first, backup } = &error else { panic!("{misbehaviour:?}: {error:?}") };
        assert!(first.outcome_unknown(), "{misbehaviour:?}: the primary may have taken the payment: {first:?}");
        assert!(!backup.outcome_unknown(), "the backup refused the connection: {backup:?}");
        assert!(error.outcome_unknown(), "{misbehaviour:?}: whatever the backup did, query before paying again");
    }
    assert_eq!(primary.requests().len(), 2);
}

#[tokio::test]
async fn a_query_failing_over_to_an_unreachable_backup_reports_both_hosts() {
    let primary = public_key_server().await;
    let client = builder(&primary)
        .backup_url(Some(&unreachable().await))
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .build()
        .unwrap();
    primary.misbehave(Misbehaviour::ServerError);
    let error = client.send(query(ORDER)).await.expect_err("both hosts failed");
    assert!(matches!(error, Error::FailedOver { .. }), "{error:?}");
    assert!(error.outcome_unknown());
    assert!(error.to_string().contains("then, on the backup host"), "{error}");
}

#[tokio::test]
async fn a_payment_that_never_reached_the_primary_has_a_known_outcome_when_the_backup_is_unreachable_too() {
    let client = Client::builder(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, merchant_key())
        .base_url(unreachable().await)
        .backup_url(Some(&unreachable().await))
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .build()
        .unwrap();
    let error = client.send(prepay()).await.expect_err("no host answers");
    assert!(!matches!(error, Error::FailedOver { .. }), "{error:?}");
    assert!(!error.outcome_unknown(), "no connection was ever made: {error:?}");
}

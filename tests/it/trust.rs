//! The paths real merchants take: a merchant switching from platform certificates to the public
//! key, sensitive query parameters, forged notifications on a public-key client, limits too large
//! to represent, certificate lists that hold nothing usable, paging at the end of `i64`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wechatpay::notify::NotifyError;
use wechatpay::{Error, Notifications, VerifyError};

use crate::fixtures::keys::{self, APIV3_KEY};
use crate::fixtures::sample_transaction;
use crate::support::*;
use wechatpay_sdk_sandbox::{CertChoice, Config, Misbehaviour, Sandbox, Signer, Tamper};

const CERTIFICATES: &str = "/v3/certificates";

/// A merchant in the middle of a switch: WeChat Pay signs each answer with the key the request's
/// `Wechatpay-Serial` names, and with the platform certificate when it names none.
async fn switching_server() -> Sandbox {
    Sandbox::start(Config { switching: true, ..crate::fixtures::config() }).await.expect("sandbox starts")
}

/// A merchant who has configured only the new public key (and the APIv3 key, for notifications).
fn public_key_only_client(server: &Sandbox) -> wechatpay::Client {
    builder(server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .apiv3_key(apiv3_key())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_public_key_client_of_a_merchant_mid_switch_gets_answers_it_can_verify() {
    let server = switching_server().await;
    let client = public_key_only_client(&server);

    let order = client.send(query(ORDER)).await.expect("answered with the public key the request named");

    assert_eq!(order.headers().get("Wechatpay-Serial").unwrap(), keys::PUBLIC_KEY_ID);
    let sent = &server.requests()[0];
    assert_eq!(
        header(sent, "wechatpay-serial"),
        Some(keys::PUBLIC_KEY_ID),
        "named on a request without sensitive fields"
    );
    assert!(requests_to(&server, CERTIFICATES).is_empty(), "a public-key merchant never downloads certificates");
}

#[tokio::test]
async fn the_switching_server_signs_with_the_certificate_when_the_request_names_no_key() {
    let server = switching_server().await;
    let client = public_key_only_client(&server);
    let http = reqwest::Client::new();
    let signer_of =
        |answer: &reqwest::Response| answer.headers().get("Wechatpay-Serial").unwrap().to_str().unwrap().to_owned();

    let named = http.execute(client.prepare(&query(ORDER)).await.unwrap()).await.unwrap();
    assert_eq!(signer_of(&named), keys::PUBLIC_KEY_ID, "the key the request named");

    // What an SDK that does not name the key sends: the same request without the header.
    let mut unnamed = client.prepare(&query(ORDER)).await.unwrap();
    unnamed.headers_mut().remove("Wechatpay-Serial");
    let answer = http.execute(unnamed).await.unwrap();
    assert_eq!(signer_of(&answer), keys::PLATFORM_SERIAL, "signed by the certificate");
    let headers = answer.headers().clone();
    let body = answer.bytes().await.unwrap();
    let verified = client.wechatpay_keys().verify(&headers, &body, std::time::SystemTime::now());
    assert!(
        matches!(verified, Err(VerifyError::UnknownSerial(_))),
        "what a public-key client cannot verify: {verified:?}"
    );
}

#[tokio::test]
async fn a_certificate_client_of_a_merchant_mid_switch_names_its_certificate() {
    let server = switching_server().await;
    let client = certificate_client(&server);

    let order = client.send(query(ORDER)).await.expect("verified with the downloaded certificate");

    assert_eq!(order.headers().get("Wechatpay-Serial").unwrap(), keys::PLATFORM_SERIAL);
    let queries: Vec<_> =
        server.requests().into_iter().filter(|r| !r.path_and_query.starts_with(CERTIFICATES)).collect();
    assert_eq!(header(&queries[0], "wechatpay-serial"), Some(keys::PLATFORM_SERIAL));
}

#[tokio::test]
async fn a_serial_the_request_sets_itself_wins() {
    let server = switching_server().await;
    let client = builder(&server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .platform_certificates([platform_certificate("platform_cert.pem")])
        .build()
        .unwrap();
    let mut request = profit_sharing();
    request.wechatpay_serial = Some(keys::PLATFORM_SERIAL.to_owned());

    client.send(request).await.expect("sealed with, and answered by, the certificate it named");

    let sent = &server.requests()[0];
    assert_eq!(header(sent, "wechatpay-serial"), Some(keys::PLATFORM_SERIAL));
    assert_eq!(sent.decrypted, [("receivers[0].name".to_owned(), "海南分账接收方".to_owned())]);
}

fn bank_search(
    account_number: &str,
) -> wechatpay::v3::capital::capitallhh::banks::search_banks_by_bank_account::get::Request {
    use wechatpay::v3::capital::capitallhh::banks::search_banks_by_bank_account::get::Request;
    Request::builder().account_number(account_number).build().unwrap()
}

const CARD: &str = "6214830000001234";

/// A server answering every documented operation from the pages.
async fn generic_server() -> Sandbox {
    Sandbox::start(Config {
        signer: Signer::PublicKey,
        answers: wechatpay_sdk_sandbox::Answers::Pages,
        ..crate::fixtures::config()
    })
    .await
    .expect("sandbox starts")
}

#[tokio::test]
async fn a_sensitive_query_parameter_travels_sealed() {
    let server = generic_server().await;
    let client = public_key_client(&server);

    client.send(bank_search(CARD)).await.expect("accepted");

    let sent = &server.requests()[0];
    assert!(!sent.path_and_query.contains(CARD), "{}", sent.path_and_query);
    assert!(sent
        .path_and_query
        .starts_with("/v3/capital/capitallhh/banks/search-banks-by-bank-account?account_number="));
    assert_eq!(sent.decrypted, [("query.account_number".to_owned(), CARD.to_owned())], "the key it names opens it");
    assert_eq!(header(sent, "wechatpay-serial"), Some(keys::PUBLIC_KEY_ID));
    let prepared = client.prepare(&bank_search(CARD)).await.unwrap();
    assert!(!prepared.url().as_str().contains(CARD), "{}", prepared.url());
}

#[tokio::test]
async fn a_failed_call_with_a_sensitive_query_shows_no_url() {
    let server = generic_server().await;
    let client = public_key_client(&server);
    server.misbehave(Misbehaviour::DropConnection);

    let error = client.send(bank_search(CARD)).await.expect_err("connection dropped");

    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("account_number") && !shown.contains("127.0.0.1"), "{shown}");
}

#[tokio::test]
async fn a_forged_notification_never_makes_a_public_key_client_download_certificates() {
    let server = Sandbox::start(Config { signer: Signer::PublicKey, ..crate::fixtures::config() })
        .await
        .expect("sandbox starts");
    let client = public_key_only_client(&server);
    let notifications = client.notifications().unwrap();
    for tamper in [Tamper::UnknownSerial, Tamper::UnknownSerial, Tamper::None] {
        let (headers, body) = server.notification(
            "TRANSACTION.SUCCESS",
            "encrypt-resource",
            &sample_transaction("FORGED"),
            tamper.clone(),
        );
        let result = notifications.open(&headers, &body).await;
        match tamper {
            Tamper::None => assert!(result.is_ok(), "{result:?}"),
            _ => assert!(matches!(result, Err(NotifyError::Verify(VerifyError::UnknownSerial(_)))), "{result:?}"),
        }
    }
    assert!(server.requests().is_empty(), "no download: {:?}", server.requests());
}

#[tokio::test]
async fn a_public_key_id_naming_no_key_never_calls_the_key_refresher() {
    let server = Sandbox::start(Config { signer: Signer::PublicKey, ..crate::fixtures::config() })
        .await
        .expect("sandbox starts");
    let refreshes = Arc::new(AtomicUsize::new(0));
    let keys = wechatpay::WechatpayKeys::with_public_key("PUB_KEY_ID_OTHER", wechatpay_public_key());
    let notifications = Notifications::new(keys, apiv3_key()).key_refresher({
        let refreshes = refreshes.clone();
        move || {
            refreshes.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, std::io::Error>(()) }
        }
    });
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &sample_transaction("PK"), Tamper::None);

    let error = notifications.open(&headers, &body).await.expect_err("signed by a public key not held");

    assert!(matches!(&error, NotifyError::Verify(VerifyError::UnknownSerial(serial)) if serial == keys::PUBLIC_KEY_ID));
    assert_eq!(refreshes.load(Ordering::SeqCst), 0, "a public key is configured, never downloaded");
}

#[tokio::test]
async fn a_switching_client_asked_to_downloads_certificates_for_the_serials_it_meets() {
    let server = switching_server().await;
    let client = builder(&server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .apiv3_key(apiv3_key())
        .download_platform_certificates(true)
        .build()
        .unwrap();
    let notifications = client.notifications().unwrap();
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &sample_transaction("CERT"), Tamper::None);

    let notification = notifications.open(&headers, &body).await.expect("the certificate was downloaded");

    assert_eq!(notification.verified.serial, keys::PLATFORM_SERIAL);
    assert_eq!(requests_to(&server, CERTIFICATES).len(), 1);
}

#[tokio::test]
async fn waits_of_duration_max_mean_no_limit_not_a_panic() {
    let server = public_key_server().await;
    server.set_signer(Signer::Platform2);
    let notifications = Notifications::new(wechatpay::WechatpayKeys::default(), apiv3_key())
        .key_refresher(|| async { Ok::<_, std::io::Error>(()) })
        .key_refresh_wait(Duration::MAX);
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &sample_transaction("MAX"), Tamper::None);
    let error = notifications.open(&headers, &body).await.expect_err("the refresher found nothing");
    assert!(matches!(error, NotifyError::Verify(VerifyError::UnknownSerial(_))), "{error:?}");

    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = builder(&server).apiv3_key(apiv3_key()).timeout(Duration::MAX).build().unwrap();
    client.send(query(ORDER)).await.expect("downloaded, then verified");
    server.misbehave(Misbehaviour::UnknownSerial);
    let error = client.send(query(ORDER)).await.expect_err("an unknown serial");
    assert!(matches!(error, Error::Verify { source: VerifyError::UnknownSerial(_), .. }), "{error:?}");
}

#[tokio::test]
async fn a_certificate_list_with_nothing_usable_keeps_the_certificates_held() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    assert_eq!(client.refresh_certificates().await.unwrap(), [keys::PLATFORM_SERIAL]);

    // Signed by the certificate held, listing only an expired one.
    server.set_certificates(vec![CertChoice::Expired]);
    let error = client.refresh_certificates().await.expect_err("nothing usable");

    assert!(matches!(error, Error::NoUsableCertificate { listed: 1 }), "{error:?}");
    assert_eq!(client.wechatpay_keys().certificate_serials(), [keys::PLATFORM_SERIAL], "kept");
    client.send(query(ORDER)).await.expect("still verifies");
}

#[tokio::test]
async fn a_certificate_list_opened_with_a_wrong_apiv3_key_keeps_the_certificates_held() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    client.refresh_certificates().await.unwrap();
    let wrong = builder(&server)
        .wechatpay_keys(client.wechatpay_keys().clone())
        .apiv3_key(wechatpay::ApiV3Key::new("00000000000000000000000000000000").unwrap())
        .build()
        .unwrap();

    let error = wrong.refresh_certificates().await.expect_err("nothing opens");

    assert!(matches!(error, Error::NoUsableCertificate { listed: 1 }), "{error:?}");
    assert!(error.to_string().contains("APIv3 key"), "{error}");
    assert_eq!(client.wechatpay_keys().certificate_serials(), [keys::PLATFORM_SERIAL], "the shared keys are kept");
    assert_ne!(APIV3_KEY, "00000000000000000000000000000000");
}

#[tokio::test]
async fn paging_from_an_offset_near_the_end_of_i64_ends_instead_of_overflowing() {
    use futures_util::StreamExt as _;
    use wechatpay::v3::marketing::favor::stocks::get::Request;
    let server = generic_server().await;
    let client = public_key_client(&server);
    let request = Request::builder().offset(i64::MAX).limit(10).stock_creator_mchid(keys::MERCHANT_ID).build().unwrap();

    let pages: Vec<_> = client.pages(request).collect().await;

    assert_eq!(pages.len(), 1, "one page, then the walk ends");
    assert!(pages[0].is_ok(), "{:?}", pages[0].as_ref().err());
}

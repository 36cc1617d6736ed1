//! Platform certificates: downloaded with the APIv3 key when needed, refreshed when an answer
//! names a new serial, never needed with a WeChat Pay public key.

use std::time::{Duration, Instant};

use wechatpay::{Client, Error, VerifyError};

use crate::fixtures::keys;
use crate::support::*;
use wechatpay_sdk_sandbox::{CertChoice, Config, Misbehaviour, Sandbox, Signer};

const CERTIFICATES: &str = "/v3/certificates";

#[tokio::test]
async fn certificates_are_downloaded_before_the_first_request_and_shared() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    assert!(client.wechatpay_keys().certificate_serials().is_empty(), "building never contacts the server");

    client.send(query("CERT-1")).await.expect("verified with the downloaded certificate");
    client.send(query("CERT-2")).await.expect("cached");

    let paths: Vec<String> = server.requests().into_iter().map(|request| request.path_and_query).collect();
    assert_eq!(paths[0], CERTIFICATES);
    assert_eq!(paths.iter().filter(|path| *path == CERTIFICATES).count(), 1, "{paths:?}");
    assert_eq!(client.clone().wechatpay_keys().certificate_serials(), [keys::PLATFORM_SERIAL]);
    assert!(requests_to(&server, CERTIFICATES)[0].authorization_ok);
}

#[tokio::test]
async fn an_unknown_serial_triggers_a_refresh_that_picks_up_the_new_certificate() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    client.send(query("ROTATE-1")).await.unwrap();

    // WeChat Pay rotates: a new certificate is listed and starts signing.
    server.set_certificates(vec![CertChoice::Platform, CertChoice::Platform2]);
    server.set_signer(Signer::Platform2);
    client.send(query("ROTATE-2")).await.expect("verified after the refresh");
    client.send(query("ROTATE-3")).await.expect("no further refresh needed");

    assert_eq!(requests_to(&server, CERTIFICATES).len(), 2);
    let mut serials = client.wechatpay_keys().certificate_serials();
    serials.sort();
    let mut expected = vec![keys::PLATFORM_SERIAL.to_owned(), keys::PLATFORM2_SERIAL.to_owned()];
    expected.sort();
    assert_eq!(serials, expected);
}

#[tokio::test]
async fn a_public_key_client_never_calls_the_certificates_endpoint() {
    let server = Sandbox::start(Config {
        signer: Signer::PublicKey,
        certificates: Vec::new(),
        certificates_available: false,
        ..crate::fixtures::config()
    })
    .await
    .expect("sandbox starts");
    let client = public_key_client(&server);

    client.send(query("PUBKEY-1")).await.unwrap();
    client.send(profit_sharing()).await.expect("encrypted with the public key");
    assert!(matches!(client.refresh_certificates().await, Err(Error::Config(_))), "no APIv3 key, no download");

    assert!(requests_to(&server, CERTIFICATES).is_empty());
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn expired_certificates_are_ignored() {
    let server = Sandbox::start(Config {
        certificates: vec![CertChoice::Expired, CertChoice::Platform],
        ..crate::fixtures::config()
    })
    .await
    .expect("sandbox starts");
    let client = certificate_client(&server);

    let serials = client.refresh_certificates().await.expect("download");

    assert_eq!(serials, [keys::PLATFORM_SERIAL]);
    assert_eq!(client.wechatpay_keys().certificate_serials(), [keys::PLATFORM_SERIAL]);
    let configured =
        builder(&server).platform_certificates([platform_certificate("platform_expired_cert.pem")]).build().unwrap();
    assert!(configured.wechatpay_keys().certificate_serials().is_empty(), "an expired certificate is not trusted");
}

#[tokio::test]
async fn during_a_switchover_answers_signed_by_either_kind_verify() {
    let server = Sandbox::start(Config { certificates_available: false, ..crate::fixtures::config() })
        .await
        .expect("sandbox starts");
    let client = builder(&server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .platform_certificates([platform_certificate("platform_cert.pem")])
        .apiv3_key(apiv3_key())
        .build()
        .unwrap();

    client.send(query("SWITCH-1")).await.expect("signed by the platform certificate");
    server.set_signer(Signer::PublicKey);
    client.send(query("SWITCH-2")).await.expect("signed by the public key");
    client.send(profit_sharing()).await.unwrap();

    assert!(requests_to(&server, CERTIFICATES).is_empty(), "nothing unknown, nothing downloaded");
    let sharing = requests_to(&server, "/v3/profitsharing/orders");
    assert_eq!(header(&sharing[0], "wechatpay-serial"), Some(keys::PUBLIC_KEY_ID), "the public key is preferred");
}

#[tokio::test]
async fn a_failed_download_fails_neither_construction_nor_unrelated_work() {
    let server = Sandbox::start(Config { certificates_available: false, ..crate::fixtures::config() })
        .await
        .expect("sandbox starts");
    let client: Client = certificate_client(&server);

    let error = client.refresh_certificates().await.expect_err("404");
    // Signed by a key the client does not have yet: reported, but as unverified.
    assert_eq!(error.status(), Some(http::StatusCode::NOT_FOUND));
    assert_eq!(error.code(), None);
    assert!(matches!(&error, Error::Api { body: Some(body), .. } if body.contains("RESOURCE_NOT_EXISTS")), "{error:?}");

    // Answers cannot be verified without a key, nor could the query that would follow: the
    // request is not sent, and says so (a known outcome), rather than fail verification after
    // WeChat Pay acted on it.
    let sent = server.request_count();
    let error = client.send(query("NO-CERT")).await.expect_err("no key to verify with");
    assert!(matches!(&error, Error::NoVerificationKey), "{error:?}");
    assert!(!error.outcome_unknown(), "nothing was sent");
    let queries =
        server.requests().into_iter().skip(sent).filter(|request| !request.path_and_query.starts_with(CERTIFICATES));
    assert_eq!(queries.count(), 0, "only certificate downloads reached the server");
}

#[tokio::test]
async fn without_any_wechatpay_key_nothing_is_sent() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = builder(&server).build().unwrap();

    let error = client.send(profit_sharing()).await.expect_err("nothing to encrypt or verify with");

    assert!(matches!(error, Error::NoVerificationKey), "{error:?}");
    assert!(server.requests().is_empty(), "nothing was sent, in plain text or otherwise");
}

#[tokio::test]
async fn sensitive_fields_for_a_key_the_client_does_not_hold_are_a_clear_error() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let mut request = profit_sharing();
    request.wechatpay_serial = Some("5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into());

    let error = client.send(request).await.expect_err("nothing to encrypt with");

    assert!(
        matches!(&error, Error::NoEncryptionKey { serial: Some(serial) } if serial == "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"),
        "{error:?}"
    );
    assert!(!error.outcome_unknown());
    assert!(server.requests().is_empty(), "nothing was sent in plain text");
}

#[tokio::test]
async fn sensitive_fields_use_a_downloaded_certificate() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);

    client.send(profit_sharing()).await.expect("encrypted with the platform certificate");

    let sharing = requests_to(&server, "/v3/profitsharing/orders");
    assert_eq!(header(&sharing[0], "wechatpay-serial"), Some(keys::PLATFORM_SERIAL));
    assert_eq!(sharing[0].decrypted, [("receivers[0].name".to_owned(), "海南分账接收方".to_owned())]);
}

#[tokio::test]
async fn a_request_naming_its_key_is_encrypted_with_that_key() {
    let server = Sandbox::start(Config {
        certificates: vec![CertChoice::Platform, CertChoice::Platform2],
        ..crate::fixtures::config()
    })
    .await
    .expect("sandbox starts");
    let client = certificate_client(&server);
    let mut request = profit_sharing();
    request.wechatpay_serial = Some(keys::PLATFORM2_SERIAL.to_owned());

    client.send(request).await.expect("encrypted with the named certificate");

    let sharing = requests_to(&server, "/v3/profitsharing/orders");
    assert_eq!(header(&sharing[0], "wechatpay-serial"), Some(keys::PLATFORM2_SERIAL));
    assert_eq!(sharing[0].decrypted.len(), 1);
}

#[tokio::test]
async fn certificates_are_refreshed_once_the_interval_has_passed() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = builder(&server)
        .apiv3_key(apiv3_key())
        .certificate_refresh_interval(std::time::Duration::from_secs(1))
        .build()
        .unwrap();

    client.send(query("PERIODIC-1")).await.unwrap();
    client.send(query("PERIODIC-2")).await.unwrap();
    assert_eq!(requests_to(&server, CERTIFICATES).len(), 1, "fresh: not downloaded again");

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    client.send(query("PERIODIC-3")).await.unwrap();
    // Stale: downloaded again, in the background (the request had a usable key and did not wait).
    let started = Instant::now();
    while requests_to(&server, CERTIFICATES).len() < 2 && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(requests_to(&server, CERTIFICATES).len(), 2, "stale: downloaded again");
}

#[tokio::test]
async fn notifications_share_the_clients_keys_and_refresh_through_it() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    let notifications = client.notifications().expect("the APIv3 key is configured");
    client.send(query("NOTIFY-1")).await.unwrap();

    let (headers, body) = server.notification(
        "TRANSACTION.SUCCESS",
        "encrypt-resource",
        &crate::fixtures::sample_transaction("NOTIFY-1"),
        wechatpay_sdk_sandbox::Tamper::None,
    );
    notifications.open(&headers, &body).await.expect("verified with the downloaded certificate");

    // Rotation seen first by a notification: the client downloads the new certificate for it.
    server.set_certificates(vec![CertChoice::Platform, CertChoice::Platform2]);
    server.set_signer(Signer::Platform2);
    let (headers, body) = server.notification(
        "TRANSACTION.SUCCESS",
        "encrypt-resource",
        &crate::fixtures::sample_transaction("NOTIFY-2"),
        wechatpay_sdk_sandbox::Tamper::None,
    );
    notifications.open(&headers, &body).await.expect("verified after the client's refresh");
    assert_eq!(requests_to(&server, CERTIFICATES).len(), 2);
    assert!(public_key_client(&server).notifications().is_err(), "no APIv3 key, no notifications");
}

/// A client on certificates refreshed every 300 ms, after its first download, once the next
/// download is due and the server has started answering downloads `slow`ly.
async fn due_for_a_slow_refresh(server: &Sandbox, slow: Duration) -> Client {
    let client = builder(server)
        .apiv3_key(apiv3_key())
        .certificate_refresh_interval(Duration::from_millis(300))
        .build()
        .unwrap();
    client.send(query("FIRST-DOWNLOAD")).await.unwrap();
    server.misbehave_on(CERTIFICATES, Some(Misbehaviour::Slow(slow)));
    tokio::time::sleep(Duration::from_millis(350)).await;
    client
}

#[tokio::test]
async fn a_hanging_certificate_refresh_does_not_hold_requests_that_have_a_usable_key() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = due_for_a_slow_refresh(&server, Duration::from_secs(4)).await;

    let started = Instant::now();
    for n in 2..6 {
        client.send(query(&format!("STALL-{n}"))).await.expect("verified with the certificate at hand");
    }

    assert!(started.elapsed() < Duration::from_secs(2), "requests waited {:?} for the refresh", started.elapsed());
    assert_eq!(requests_to(&server, CERTIFICATES).len(), 2, "the refresh was started, once");
}

#[tokio::test]
async fn a_certificate_withdrawn_from_the_list_is_no_longer_trusted_after_a_refresh() {
    let server = Sandbox::start(Config {
        certificates: vec![CertChoice::Platform, CertChoice::Platform2],
        ..crate::fixtures::config()
    })
    .await
    .expect("sandbox starts");
    let client = certificate_client(&server);
    client.refresh_certificates().await.unwrap();
    assert_eq!(client.wechatpay_keys().certificate_serials().len(), 2);

    server.set_certificates(vec![CertChoice::Platform2]);
    server.set_signer(Signer::Platform2);
    assert_eq!(client.refresh_certificates().await.unwrap(), [keys::PLATFORM2_SERIAL]);

    assert_eq!(client.wechatpay_keys().certificate_serials(), [keys::PLATFORM2_SERIAL]);
    server.set_signer(Signer::Platform);
    let error = client.send(query("WITHDRAWN")).await.expect_err("signed by a withdrawn certificate");
    assert!(
        matches!(&error, Error::Verify { source: VerifyError::UnknownSerial(serial), .. } if serial == keys::PLATFORM_SERIAL),
        "{error:?}"
    );
}

#[tokio::test]
async fn configured_certificates_survive_a_refresh_that_does_not_list_them() {
    let server = Sandbox::start(Config {
        certificates: vec![CertChoice::Platform2],
        signer: Signer::Platform2,
        ..crate::fixtures::config()
    })
    .await
    .expect("sandbox starts");
    let client = builder(&server)
        .platform_certificates([platform_certificate("platform_cert.pem")])
        .apiv3_key(apiv3_key())
        .build()
        .unwrap();

    client.refresh_certificates().await.unwrap();
    client.refresh_certificates().await.unwrap();

    let mut serials = client.wechatpay_keys().certificate_serials();
    serials.sort();
    assert_eq!(serials, [keys::PLATFORM_SERIAL, keys::PLATFORM2_SERIAL]);
    server.set_signer(Signer::Platform);
    client.send(query("CONFIGURED")).await.expect("the configured certificate is still trusted");
}

#[tokio::test]
async fn a_forged_certificate_list_is_rejected_before_it_is_parsed() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    server.misbehave_on(CERTIFICATES, Some(Misbehaviour::ForgedBody(br#"{"data":"not a list"}"#.to_vec())));

    let error = client.refresh_certificates().await.expect_err("forged");

    assert!(
        matches!(&error, Error::Verify { .. }),
        "the forgery is a verification error, not a decoding one: {error:?}"
    );
    assert!(!format!("{error:?}").contains("not a list"), "no unverified body in the error: {error:?}");
    assert!(client.wechatpay_keys().certificate_serials().is_empty());
}

#[tokio::test]
async fn a_forged_certificate_list_signed_by_a_known_serial_is_rejected_before_it_is_parsed() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    client.refresh_certificates().await.unwrap();
    server.misbehave_on(CERTIFICATES, Some(Misbehaviour::ForgedBody(br#"{"data":[{"serial_no":1}]}"#.to_vec())));

    let error = client.refresh_certificates().await.expect_err("forged");

    assert!(matches!(&error, Error::Verify { source: VerifyError::BadSignature { .. }, .. }), "{error:?}");
    assert_eq!(client.wechatpay_keys().certificate_serials(), [keys::PLATFORM_SERIAL], "nothing replaced");
}

#[tokio::test]
async fn concurrent_first_requests_share_one_certificate_download() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    let requests = (0..8).map(|n| {
        let client = client.clone();
        async move { client.send(query(&format!("FIRST-{n}"))).await }
    });
    for result in futures_util::future::join_all(requests).await {
        result.expect("verified");
    }
    assert_eq!(requests_to(&server, CERTIFICATES).len(), 1);
}

#[tokio::test]
async fn without_any_usable_key_a_request_waits_for_the_download_at_most_its_timeout() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = builder(&server).apiv3_key(apiv3_key()).timeout(Duration::from_millis(700)).build().unwrap();
    server.misbehave_on(CERTIFICATES, Some(Misbehaviour::Slow(Duration::from_secs(10))));

    let started = Instant::now();
    let error = client.send(query("KEYLESS")).await.expect_err("no key to verify with");

    assert!(started.elapsed() < Duration::from_secs(3), "waited {:?}", started.elapsed());
    assert!(matches!(&error, Error::NoVerificationKey), "{error:?}");
    assert_eq!(server.requests().iter().filter(|r| r.path_and_query.contains("KEYLESS")).count(), 0, "not sent");
}

#[tokio::test]
async fn a_serial_that_cannot_be_a_certificate_never_triggers_a_download() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let client = certificate_client(&server);
    client.refresh_certificates().await.unwrap();
    server.set_signer(Signer::PublicKey);

    let error = client.send(query("PUBKEY-UNKNOWN")).await.expect_err("PUB_KEY_ID_… is not configured");

    assert!(matches!(&error, Error::Verify { source: VerifyError::UnknownSerial(_), .. }), "{error:?}");
    assert_eq!(requests_to(&server, CERTIFICATES).len(), 1, "no download can bring a public key");
}

#[tokio::test]
async fn a_download_answered_before_a_rotation_does_not_use_up_the_new_serials_refresh() {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    // The next periodic download is answered with the old list, and arrives late.
    let client = due_for_a_slow_refresh(&server, Duration::from_millis(800)).await;
    client.send(query("STALE-2")).await.unwrap();
    let started = Instant::now();
    while requests_to(&server, CERTIFICATES).len() < 2 && started.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.misbehave_on(CERTIFICATES, None);

    // Meanwhile WeChat Pay rotates.
    server.set_certificates(vec![CertChoice::Platform, CertChoice::Platform2]);
    server.set_signer(Signer::Platform2);
    client.send(query("STALE-3")).await.expect("the download owed to the new serial starts after the stale one");

    assert_eq!(requests_to(&server, CERTIFICATES).len(), 3);
}

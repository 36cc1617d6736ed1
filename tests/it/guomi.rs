//! National cryptography (国密, feature `guomi`): a client whose merchant key is SM2 signs
//! `WECHATPAY2-SM2-WITH-SM3`, verifies SM2 answers, downloads SM2 platform certificates
//! (`?algorithm_type=SM2`, sealed `AEAD_SM4_GCM`), seals sensitive fields with SM2, opens SM4-GCM
//! notifications, SM2 `encrypt_key`s and SM3 bill digests; answers of the other scheme are
//! verification errors naming both.

use wechatpay::notify::{Event, NotifyError};
use wechatpay::v3::bill::sub_merchant_fundflowbill::get::Algorithm;
use wechatpay::{Client, ClientBuilder, Error, MerchantKey, PublicKey, SignatureScheme, VerifyError};

use crate::encrypted_bills::{encrypted_bill, rows};
use crate::fixtures::keys::{self, pem};
use crate::support::*;
use wechatpay_sdk_sandbox::{CertChoice, Config, Sandbox, Signer, Tamper};

fn sm2_merchant_key() -> MerchantKey {
    MerchantKey::from_pem(&pem("sm2/merchant_key.pem")).expect("sm2/merchant_key.pem")
}

/// A national-cryptography merchant's builder: its SM2 key, the server as host.
fn guomi_builder(server: &Sandbox) -> ClientBuilder {
    Client::builder(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, sm2_merchant_key())
        .base_url(server.base_url())
        .timeout(std::time::Duration::from_secs(10))
        .bill_download_origins([server.base_url()])
}

/// On the SM2 WeChat Pay public key.
fn guomi_client(server: &Sandbox) -> Client {
    let public = PublicKey::from_pem(&pem("sm2/wechatpay_pub_key.pem")).expect("sm2/wechatpay_pub_key.pem");
    guomi_builder(server).wechatpay_public_key(keys::SM2_PUBLIC_KEY_ID, public).build().unwrap()
}

async fn server(signer: Signer) -> Sandbox {
    Sandbox::start(Config {
        signer,
        certificates: vec![CertChoice::Platform, CertChoice::Sm2Platform],
        ..crate::fixtures::config()
    })
    .await
    .expect("sandbox starts")
}

#[tokio::test]
async fn a_guomi_client_signs_with_sm2_and_verifies_sm2_answers() {
    let server = server(Signer::Sm2PublicKey).await;
    let client = guomi_client(&server);

    let order = client.send(query(ORDER)).await.expect("an SM2-signed answer");

    assert_eq!(order.out_trade_no, ORDER);
    let sent = &server.requests()[0];
    assert!(sent.authorization_ok, "the server verified the SM2 signature");
    let authorization = header(sent, "authorization").unwrap();
    assert!(authorization.starts_with("WECHATPAY2-SM2-WITH-SM3 mchid=\""), "{authorization}");
    assert_eq!(header(sent, "wechatpay-serial"), Some(keys::SM2_PUBLIC_KEY_ID));
    let params = client.jsapi_pay_params("wxd678efh567hg6787", "wx201410272009395522657a690389285100").await.unwrap();
    assert_eq!(params.sign_type, "SM2");
    let message = format!("wxd678efh567hg6787\n{}\n{}\n{}\n", params.time_stamp, params.nonce_str, params.package);
    assert!(sm2_merchant_key().public_key().verify(message.as_bytes(), &params.pay_sign));
}

#[tokio::test]
async fn sm2_platform_certificates_are_downloaded_with_algorithm_type_sm2_and_opened_with_sm4() {
    let server = server(Signer::Sm2Platform).await;
    let client = guomi_builder(&server).apiv3_key(apiv3_key()).build().unwrap();

    client.send(query(ORDER)).await.expect("verified with the downloaded SM2 certificate");

    let downloads = requests_to(&server, "/v3/certificates");
    assert!(!downloads.is_empty());
    assert!(downloads.iter().all(|request| request.path_and_query == "/v3/certificates?algorithm_type=SM2"));
    assert_eq!(client.wechatpay_keys().certificate_serials(), [keys::SM2_PLATFORM_SERIAL]);
}

#[tokio::test]
async fn sensitive_fields_are_sealed_with_sm2_for_the_sm2_key() {
    let server = server(Signer::Sm2PublicKey).await;
    let client = guomi_client(&server);
    client.send(profit_sharing()).await.expect("sealed with SM2, opened by the server");

    let sent = &server.requests()[0];
    assert_eq!(header(sent, "wechatpay-serial"), Some(keys::SM2_PUBLIC_KEY_ID));
    assert_eq!(sent.decrypted, [("receivers[0].name".to_owned(), "海南分账接收方".to_owned())]);
    assert!(!contains(&sent.body, "海南分账接收方".as_bytes()));
}

#[tokio::test]
async fn sm4_gcm_notifications_open_and_tampered_ones_do_not() {
    let server = server(Signer::Sm2PublicKey).await;
    let client = guomi_builder(&server)
        .wechatpay_public_key(keys::SM2_PUBLIC_KEY_ID, PublicKey::from_pem(&pem("sm2/wechatpay_pub_key.pem")).unwrap())
        .apiv3_key(apiv3_key())
        .build()
        .unwrap();
    let notifications = client.notifications().unwrap();
    let payload = crate::fixtures::sample_transaction("1217752501201407033233368018");

    let (headers, body) = server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::None);
    assert!(String::from_utf8_lossy(&body).contains("AEAD_SM4_GCM"));
    let notification = notifications.open(&headers, &body).await.expect("an SM4-GCM notification");
    assert!(matches!(notification.event, Event::TransactionSuccess(_)));
    assert_eq!(notification.verified.serial, keys::SM2_PUBLIC_KEY_ID);

    let (headers, body) = server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::Ciphertext);
    assert!(matches!(notifications.open(&headers, &body).await, Err(NotifyError::Decrypt(_))));
    let (headers, body) = server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::Body);
    assert!(matches!(
        notifications.open(&headers, &body).await,
        Err(NotifyError::Verify(VerifyError::BadSignature { .. }))
    ));
    let (headers, body) =
        server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::WrongSignatureType);
    let error = notifications.open(&headers, &body).await.expect_err("the RSA type on an SM2 key");
    assert!(
        matches!(
            error,
            NotifyError::Verify(VerifyError::SchemeMismatch {
                signed: SignatureScheme::Rsa,
                key: SignatureScheme::Sm2,
                ..
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_answer_of_the_other_scheme_is_a_verification_error_naming_both() {
    let sm2_server = server(Signer::Sm2PublicKey).await;
    let rsa_client = public_key_client(&sm2_server);
    let error = rsa_client.send(query(ORDER)).await.expect_err("an SM2 answer to an RSA client");
    let Error::Verify { source, .. } = &error else { panic!("{error:?}") };
    assert!(
        matches!(source, VerifyError::SchemeMismatch { signed: SignatureScheme::Sm2, key: SignatureScheme::Rsa, .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("WECHATPAY2-SM2-WITH-SM3") && text.contains("WECHATPAY2-SHA256-RSA2048"), "{text}");
    assert!(error.outcome_unknown(), "the request reached WeChat Pay");

    let rsa_server = public_key_server().await;
    let guomi = guomi_client(&rsa_server);
    let error = guomi.send(query(ORDER)).await.expect_err("an RSA answer to an SM2 client");
    assert!(
        matches!(
            &error,
            Error::Verify {
                source: VerifyError::SchemeMismatch { signed: SignatureScheme::Rsa, key: SignatureScheme::Sm2, .. },
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_guomi_merchant_opens_sm2_encrypted_bill_keys_and_checks_sm3_digests() {
    let server = server(Signer::Sm2PublicKey).await;
    let client = guomi_client(&server);
    for algorithm in [Algorithm::Sm4Gcm, Algorithm::AeadAes256Gcm] {
        for gzip in [false, true] {
            let file = encrypted_bill(&client, algorithm.clone(), gzip).await.remove(0);
            assert_eq!(file.hash_type, "SM3");
            let bill =
                client.download_bill(&file).await.unwrap_or_else(|error| panic!("{algorithm} gzip={gzip}: {error}"));
            assert_eq!(rows(&bill), 20);
        }
    }
    // A plain bill of a national-cryptography merchant: SM3 over the streamed file.
    let bill = trade_bill(&client).await;
    assert_eq!(bill.hash_type, "SM3");
    assert!(!client.download_bill(&bill).await.expect("SM3 checked").is_empty());
    server.corrupt_bill(true);
    assert!(matches!(client.download_bill(&bill).await, Err(Error::Digest { .. })));
}

/// The SM2 keys the sandbox generates (no keys folder) work as the fixture ones: a client on its
/// SM2 merchant key signs, downloads its generated SM2 certificate and verifies answers with it.
#[tokio::test]
async fn a_sandbox_with_generated_keys_serves_a_guomi_merchant() {
    let server = Sandbox::start(Config {
        signer: Signer::Sm2Platform,
        certificates: vec![CertChoice::Sm2Platform],
        unrecorded: wechatpay_sdk_sandbox::Unrecorded::Samples,
        ..Config::default()
    })
    .await
    .expect("sandbox starts");
    let keys = server.keys();
    let client = Client::builder(
        keys.mchid(),
        keys.merchant_serial(),
        MerchantKey::from_pem(keys.sm2_merchant_key_pem()).expect("the generated SM2 merchant key"),
    )
    .base_url(server.base_url())
    .apiv3_key(wechatpay::ApiV3Key::new(keys.apiv3_key()).unwrap())
    .build()
    .unwrap();
    let query = wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request::builder()
        .out_trade_no(ORDER)
        .mchid(keys.mchid())
        .build()
        .unwrap();

    client.send(query).await.expect("an SM2 answer, verified with the generated SM2 certificate");

    assert!(server.requests().iter().all(|request| request.authorization_ok));
    assert_eq!(client.wechatpay_keys().certificate_serials(), [keys.platform_serial(CertChoice::Sm2Platform)]);
}

/// APIv2 knows no national cryptography: a Guomi merchant's APIv2 call is signed in its members
/// with the APIv2 key (no SM2 `Authorization`) and its answer verified with that key, while the
/// sandbox signs APIv3 answers with SM2; and an SM2 key cannot be the one APIv2 seals with.
#[cfg(feature = "v2-pay")]
#[tokio::test]
async fn a_guomi_merchant_calls_apiv2_with_the_apiv2_key_and_no_sm2_key_seals_apiv2_members() {
    use wechatpay::ApiV2Key;

    let server = Sandbox::start(Config {
        signer: Signer::Sm2PublicKey,
        apiv2_key: Some("apiv2key0123456789abcdefghijklmn".to_owned()),
        ..crate::fixtures::config()
    })
    .await
    .expect("sandbox starts");
    let public = PublicKey::from_pem(&pem("sm2/wechatpay_pub_key.pem")).expect("sm2/wechatpay_pub_key.pem");
    let apiv2_key = || ApiV2Key::new(server.apiv2_key()).expect("APIv2 key");
    let client = guomi_builder(&server)
        .wechatpay_public_key(keys::SM2_PUBLIC_KEY_ID, public.clone())
        .apiv2_key(apiv2_key())
        .build()
        .unwrap();
    let request = wechatpay::v2::pay::orderquery::post::Request::builder()
        .appid("wxd678efh567hg6787")
        .transaction_id("4200000001")
        .out_trade_no(ORDER)
        .build()
        .unwrap();

    // The sandbox answers FAIL to a request whose `sign` does not verify with the APIv2 key, and
    // the client refuses an answer whose `sign` does not.
    client.v2().pay().orderquery().post(request).await.expect("an APIv2 answer");

    let sent = &server.requests()[0];
    assert_eq!(header(sent, "authorization"), None, "APIv2 is signed in its members");
    let body = String::from_utf8_lossy(&sent.body);
    let mch_id = format!("<mch_id><![CDATA[{}]]></mch_id>", keys::MERCHANT_ID);
    assert!(body.contains("<sign>") && body.contains(&mch_id), "{body}");
    // The same client's APIv3 calls are still SM2 both ways.
    client.send(query(ORDER)).await.expect("an SM2-signed APIv3 answer");

    let error = guomi_builder(&server)
        .wechatpay_public_key(keys::SM2_PUBLIC_KEY_ID, public.clone())
        .apiv2_key(apiv2_key())
        .apiv2_rsa_public_key(public)
        .build()
        .unwrap_err();
    assert!(matches!(&error, Error::Config(message) if message.contains("RSA")), "{error}");
}

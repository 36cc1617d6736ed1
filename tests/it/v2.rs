//! APIv2 end to end, against the sandbox's APIv2 side (`wechatpay_sdk_sandbox::v2`): every
//! operation the crate holds is built from JSON by the registry, signed (MD5 and HMAC-SHA256 in
//! turn), sent, checked member by member by the sandbox, and its signed answer verified and decoded;
//! every notification page is sealed and signed by the sandbox, then verified, decrypted and typed.
//! Then the rules for bad answers: unsigned or wrongly signed successes, FAIL answers, err_codes;
//! and mutual TLS: the calls whose page says `security` reach the sandbox's HTTPS side with the
//! merchant's API client certificate, and are refused without it, with another merchant's, or
//! over plain HTTP. The sandbox's faults on APIv2 answers leave a refund's outcome unknown.

use serde_json::Value;
use wechatpay::apiv2::notify::V2Notifications;
use wechatpay::runtime::Protocol;
use wechatpay::{ApiV2Key, Client, ClientBuilder, ClientIdentity, Error, PublicKey, RootCertificates};
use wechatpay_sdk_sandbox::{v2 as pages, Config, Misbehaviour, Sandbox, Signer};

use crate::every_operation::same;
use crate::fixtures::keys::pem;
use crate::support::builder;

const APIV2_KEY: &str = "apiv2key0123456789abcdefghijklmn";

async fn sandbox() -> Sandbox {
    let config =
        Config { signer: Signer::PublicKey, apiv2_key: Some(APIV2_KEY.to_owned()), ..crate::fixtures::config() };
    Sandbox::start(config).await.expect("sandbox starts")
}

/// The merchant's builder for APIv2 against the sandbox's plain HTTP side, without the API client
/// certificate.
fn v2_builder(server: &Sandbox) -> ClientBuilder {
    let keys = server.keys();
    builder(server)
        .wechatpay_public_key(keys.public_key_id(), PublicKey::from_pem(keys.public_key_pem()).expect("public key"))
        .apiv2_key(ApiV2Key::new(server.apiv2_key()).expect("APIv2 key"))
        .apiv2_rsa_public_key(PublicKey::from_pem(keys.public_key_pem()).expect("public key"))
}

/// [`v2_builder`] on the sandbox's HTTPS side, trusting its CA.
fn tls_builder(server: &Sandbox) -> ClientBuilder {
    v2_builder(server)
        .base_url(server.tls_base_url())
        .add_root_certificates(RootCertificates::from_pem(server.keys().ca_certificate_pem()).expect("the sandbox CA"))
}

/// The merchant's API client certificate (`apiclient_cert.pem`) with its key.
fn identity() -> ClientIdentity {
    ClientIdentity::from_pem(&pem("apiclient_cert.pem"), &pem("merchant_key.pem")).expect("identity")
}

/// A merchant with everything APIv2 needs, over HTTPS: the calls that need mutual TLS too.
fn client(server: &Sandbox) -> Client {
    tls_builder(server).client_identity(identity()).build().expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_v2_operation_round_trips_through_the_client() {
    let server = sandbox().await;
    let client = client(&server);
    let operations: Vec<_> =
        wechatpay::registry::operations().iter().filter(|info| info.protocol == Protocol::V2).collect();
    assert!(!operations.is_empty(), "no APIv2 operation in the registry: is a v2-* feature missing?");
    let mut failures = Vec::new();
    let (mut calls, mut mutual_tls) = (0, 0);
    for (index, info) in operations.iter().enumerate() {
        if info.redirect {
            continue;
        }
        calls += 1;
        mutual_tls += usize::from(info.client_certificate);
        let op = pages::find(info.method, info.path)
            .unwrap_or_else(|| panic!("{} is in the registry but not in the sandbox", info.path));
        let fields = pages::request_json(op, &server.tls_base_url(), index % 2 == 1);
        let before = server.requests().len();
        let outcome = async {
            let request = info.request_from_json(fields.clone()).map_err(|e| format!("request_from_json: {e}"))?;
            let reply = client.send_erased(request).await.map_err(|e| format!("send: {e}"))?;
            if !reply.deviations().is_empty() {
                return Err(format!("the answer deviates from its page: {:?}", reply.deviations()));
            }
            let expected = match pages::response_json(op) {
                Some(expected) => expected,
                None if info.response == wechatpay::runtime::ResponseKind::Stream => {
                    use base64::Engine as _;
                    Value::String(
                        base64::engine::general_purpose::STANDARD.encode(wechatpay_sdk_sandbox::pages::stream_body(op)),
                    )
                }
                None => Value::Null,
            };
            let mut decoded = reply.into_inner();
            if let Some(object) = decoded.as_object_mut() {
                // The signature and its nonce are the transport's (the sandbox signs anew).
                object.remove("sign");
            }
            let mut expected = expected;
            if let (Some(object), Some(got)) = (expected.as_object_mut(), decoded.as_object()) {
                if let Some(nonce) = got.get("nonce_str") {
                    object.insert("nonce_str".into(), nonce.clone());
                }
            }
            if !same(&decoded, &expected) {
                return Err(format!("decoded {decoded} but the sandbox sent {expected}"));
            }
            let sent = &server.requests()[before..];
            let [sent] = sent else { return Err(format!("{} requests reached the sandbox", sent.len())) };
            if !sent.authorization_ok {
                return Err("the signature did not verify".into());
            }
            for (name, plaintext) in &sent.decrypted {
                if plaintext != &format!("secret {name}") {
                    return Err(format!("`{name}` decrypted to {plaintext:?}"));
                }
            }
            Ok(())
        }
        .await;
        if let Err(error) = outcome {
            failures.push(format!("{} {}: {error}", info.method, info.path));
        }
    }
    println!(
        "{}/{calls} v2 operations round-trip, over HTTPS ({mutual_tls} with the API client certificate; {} signed \
         URLs are not calls)",
        calls - failures.len(),
        operations.len() - calls
    );
    assert!(mutual_tls > 0, "no operation needs the client certificate: is the `security` flag lost?");
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn every_v2_notification_opens_typed() {
    let server = sandbox().await;
    let notifications = V2Notifications::new(ApiV2Key::new(server.apiv2_key()).unwrap())
        .apiv3_key(wechatpay::ApiV3Key::new(server.keys().apiv3_key()).unwrap());
    let infos = wechatpay::registry::v2_notifications();
    assert!(!infos.is_empty());
    let mut failures = Vec::new();
    for info in infos {
        let (body, payload) = server.v2_notification(info.event_type).expect("every registered page is the sandbox's");
        let outcome = (|| {
            let notification = notifications.open(info.event_type, &body).map_err(|e| format!("open: {e}"))?;
            if !notification.deviations.is_empty() {
                return Err(format!("the payload deviates from its page: {:?}", notification.deviations));
            }
            let plaintext = match notification.envelope.iter().any(|(k, _)| k == "req_info" || k == "event_ciphertext")
            {
                true => wechatpay::runtime::xml::write(
                    wechatpay::runtime::xml::members_of(payload.clone()).iter().map(|(k, v)| (k.as_str(), v.as_str())),
                ),
                false => String::from_utf8_lossy(&body).into_owned(),
            };
            let mut decoded = info.decode_payload(plaintext.as_bytes()).map_err(|e| format!("decode_payload: {e}"))?;
            if let Some(object) = decoded.as_object_mut() {
                object.remove("sign");
            }
            if !same(&decoded, &payload) {
                return Err(format!("decoded {decoded} but the sandbox sealed {payload}"));
            }
            Ok(())
        })();
        if let Err(error) = outcome {
            failures.push(format!("{}: {error}", info.event_type));
        }
    }
    println!("{}/{} v2 notifications", infos.len() - failures.len(), infos.len());
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn a_request_signed_with_another_key_is_answered_fail_and_that_is_a_typed_error() {
    let server = sandbox().await;
    let keys = server.keys();
    let wrong = builder(&server)
        .wechatpay_public_key(keys.public_key_id(), PublicKey::from_pem(keys.public_key_pem()).unwrap())
        .apiv2_key(ApiV2Key::new("00000000000000000000000000000000").unwrap())
        .build()
        .unwrap();
    let error = wrong.v2().pay().orderquery().post(orderquery()).await.unwrap_err();
    assert!(matches!(&error, Error::V2Return { return_code, .. } if return_code == "FAIL"), "{error}");
    assert!(!error.outcome_unknown(), "a FAIL answer says the request was not taken");
}

/// A refund of a v2 order: a call whose page says `security` (mutual TLS).
fn refund() -> wechatpay::v2::secapi::pay::refund::post::Request {
    let request = wechatpay::v2::secapi::pay::refund::post::Request::builder()
        .appid("wxd678efh567hg6787")
        .transaction_id("4200000001")
        .out_trade_no("1217752501201407033233368018")
        .out_refund_no("R1")
        .total_fee(100)
        .refund_fee(100)
        .build();
    match request {
        Ok(request) => request,
        Err(error) => panic!("{error}"),
    }
}

/// The order query: an APIv2 call without `security`.
fn orderquery() -> wechatpay::v2::pay::orderquery::post::Request {
    wechatpay::v2::pay::orderquery::post::Request::builder()
        .appid("wxd678efh567hg6787")
        .transaction_id("4200000001")
        .out_trade_no("1217752501201407033233368018")
        .build()
        .expect("request")
}

/// The sandbox refused a `security` call the way WeChat Pay does: a FAIL answer about the
/// certificate (`CA_ERROR`), which the client reports as a typed error.
fn assert_certificate_refused(error: &Error, says: &str) {
    assert!(
        matches!(error, Error::V2Return { return_code, return_msg, .. }
            if return_code == "FAIL" && return_msg.starts_with("CA_ERROR") && return_msg.contains(says)),
        "{error:?}"
    );
    assert!(!error.outcome_unknown(), "a FAIL answer says the request was not taken");
}

#[tokio::test]
async fn a_call_that_needs_the_client_certificate_is_refused_without_one() {
    let server = sandbox().await;
    let client = v2_builder(&server).build().unwrap();
    let error = client.send(refund()).await.unwrap_err();
    assert!(matches!(&error, Error::Config(message) if message.contains("client_identity")), "{error}");
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn the_sandbox_refuses_a_security_call_over_tls_without_a_client_certificate() {
    let server = sandbox().await;
    // The client's own guard refuses to send it: sign it with the client, send it without one.
    let client = tls_builder(&server).build().unwrap();
    let request = client.prepare(&refund()).await.expect("signed");
    assert!(request.url().as_str().starts_with(&server.tls_base_url()), "{}", request.url());
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(server.keys().ca_certificate_pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let answer = http.execute(request).await.expect("an answer").text().await.unwrap();
    assert!(answer.contains("<return_code><![CDATA[FAIL]]></return_code>"), "{answer}");
    assert!(answer.contains("CA_ERROR: the request carries no merchant API certificate"), "{answer}");
    let [recorded] = &server.requests()[..] else { panic!("one request reaches the sandbox") };
    assert!(!recorded.authorization_ok, "a refused request is not taken");
}

#[tokio::test]
async fn the_sandbox_refuses_a_security_call_with_another_merchants_certificate() {
    let server = sandbox().await;
    let other = server.keys().issue_client_certificate("1900000999").expect("a certificate");
    let identity = ClientIdentity::from_pem(&other, &pem("merchant_key.pem")).expect("identity");
    let client = tls_builder(&server).client_identity(identity).build().unwrap();
    let error = client.send(refund()).await.unwrap_err();
    assert_certificate_refused(&error, "merchant 1900000999's, not the request's 1900000109");
}

#[tokio::test]
async fn the_sandbox_refuses_a_security_call_over_plain_http() {
    let server = sandbox().await;
    let client = v2_builder(&server).client_identity(identity()).build().unwrap();
    let error = client.send(refund()).await.unwrap_err();
    assert_certificate_refused(&error, "over HTTPS");
}

#[tokio::test]
async fn a_security_call_over_tls_with_the_merchants_certificate_is_taken() {
    let server = sandbox().await;
    let reply = client(&server).send(refund()).await.expect("refund taken");
    assert_eq!(reply.return_code, wechatpay::v2::types::ReturnCode::Success);
}

/// A fault on a refund's answer (lost, cut short, unsigned, badly signed, an error status,
/// unreadable)
/// leaves its outcome unknown, as on APIv3; the faults of APIv3's signature headers alone do not
/// touch an APIv2 answer.
#[tokio::test]
async fn faults_on_a_v2_refunds_answer_leave_its_outcome_unknown() {
    use wechatpay::wechatpay_keys::VerifyError;
    let server = sandbox().await;
    let client = client(&server);
    let unreadable = b"<xml><return_code><![CDATA[SUCCESS]]></return_code>".to_vec();
    for fault in [
        Misbehaviour::DropConnection,
        Misbehaviour::DropMidBody,
        Misbehaviour::BadSignature,
        Misbehaviour::MissingHeaders,
        Misbehaviour::ServerError,
        // Unlike APIv3's, an APIv2 error status comes without a document signed for it.
        Misbehaviour::FrequencyLimited,
        Misbehaviour::SignedBody(unreadable),
    ] {
        server.misbehave(fault.clone());
        let error = client.send(refund()).await.expect_err("a spoiled answer");
        assert!(error.outcome_unknown(), "{fault:?}: {error}");
        match fault {
            Misbehaviour::BadSignature => {
                assert!(matches!(&error, Error::Verify { source: VerifyError::V2BadSignature(_), .. }), "{error}")
            }
            Misbehaviour::MissingHeaders => {
                assert!(matches!(&error, Error::Verify { source: VerifyError::V2Unsigned, .. }), "{error}")
            }
            Misbehaviour::ServerError => assert!(matches!(&error, Error::Api { status, .. } if status.as_u16() == 500)),
            _ => {}
        }
    }
    for fault in [Misbehaviour::StaleTimestamp, Misbehaviour::UnknownSerial, Misbehaviour::SignTest] {
        server.misbehave(fault.clone());
        let reply = client.send(refund()).await.unwrap_or_else(|error| panic!("{fault:?}: {error}"));
        assert_eq!(reply.return_code, wechatpay::v2::types::ReturnCode::Success);
    }
    let reply = client.send(refund()).await.expect("no fault left");
    assert_eq!(reply.return_code, wechatpay::v2::types::ReturnCode::Success);
}

/// The pages mark both order numbers required where the service wants one of them (reviewed
/// overrides in specs/overrides.toml): a merchant holding only its own order number queries,
/// refunds and looks the refund up with it, and nothing else is sent.
#[tokio::test]
async fn an_order_is_queried_refunded_and_its_refund_looked_up_by_one_number() {
    use wechatpay::v2::pay::{orderquery, refundquery};
    use wechatpay::v2::secapi::pay::refund;
    let server = sandbox().await;
    let client = client(&server);
    const ORDER: &str = "1217752501201407033233368018";
    let query = orderquery::post::Request::builder().appid("wxd678efh567hg6787").out_trade_no(ORDER).build();
    let order = client.v2().pay().orderquery().post(query.expect("an order number is enough")).await.expect("query");
    assert_eq!(order.return_code, wechatpay::v2::types::ReturnCode::Success);
    let refund = refund::post::Request::builder()
        .appid("wxd678efh567hg6787")
        .out_trade_no(ORDER)
        .out_refund_no("R1")
        .total_fee(100)
        .refund_fee(100)
        .build()
        .expect("an order number and a refund number are enough");
    assert_eq!(client.send(refund).await.expect("refund").return_code, wechatpay::v2::types::ReturnCode::Success);
    let lookup = refundquery::post::Request::builder().appid("wxd678efh567hg6787").out_refund_no("R1").build();
    let found = client.send(lookup.expect("a refund number is enough")).await.expect("refund query");
    assert_eq!(found.return_code, wechatpay::v2::types::ReturnCode::Success);
    let bodies: Vec<String> =
        server.requests().iter().map(|request| String::from_utf8_lossy(&request.body).into_owned()).collect();
    assert_eq!(bodies.len(), 3);
    for body in &bodies[..2] {
        assert!(body.contains(&format!("<out_trade_no><![CDATA[{ORDER}]]></out_trade_no>")), "{body}");
    }
    assert!(bodies.iter().all(|body| !body.contains("<transaction_id>")), "{bodies:?}");
    assert!(
        bodies[2].contains("<out_refund_no><![CDATA[R1]]></out_refund_no>") && !bodies[2].contains("<refund_id>"),
        "{}",
        bodies[2]
    );
}

/// One of the numbers is required: the builder, a request read from JSON and the sandbox refuse
/// an order query naming none.
#[tokio::test]
async fn an_order_query_naming_no_number_is_refused_by_the_builder_the_registry_and_the_sandbox() {
    use wechatpay::v2::pay::orderquery;
    let error = orderquery::post::Request::builder().appid("wxd678efh567hg6787").build().expect_err("no number");
    assert_eq!(error.missing(), ["transaction_id | out_trade_no"]);
    assert_eq!(error.to_string(), "missing required field(s): transaction_id | out_trade_no");

    let info = wechatpay::registry::find("POST", "/pay/orderquery").expect("the order query is in the registry");
    let error = info.request_from_json(serde_json::json!({ "xml": { "appid": "wxd678efh567hg6787" } })).err();
    let message = error.expect("no number").to_string();
    assert!(message.contains("one of `transaction_id`, `out_trade_no` is required"), "{message}");

    // Empty numbers get past the builder (they are set); the sandbox refuses them as WeChat Pay does.
    let server = sandbox().await;
    let empty = orderquery::post::Request::builder().appid("wxd678efh567hg6787").out_trade_no("").build().unwrap();
    let error = client(&server).v2().pay().orderquery().post(empty).await.expect_err("refused");
    assert!(
        matches!(&error, Error::V2Return { return_msg, .. } if return_msg.contains("one of `transaction_id`, `out_trade_no` is required")),
        "{error}"
    );
}

#[tokio::test]
async fn over_tls_without_a_client_certificate_other_v2_calls_and_apiv3_work() {
    let server = sandbox().await;
    let client = tls_builder(&server).build().unwrap();
    let order = client.v2().pay().orderquery().post(orderquery()).await.expect("v2 over https");
    assert_eq!(order.return_code, wechatpay::v2::types::ReturnCode::Success);
    let transaction = client.send(crate::support::query(crate::support::ORDER)).await.expect("APIv3 over https");
    assert_eq!(transaction.out_trade_no, crate::support::ORDER);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn the_sandbox_ca_is_not_trusted_unless_added() {
    let server = sandbox().await;
    let client = v2_builder(&server).base_url(server.tls_base_url()).build().unwrap();
    let error = client.v2().pay().orderquery().post(orderquery()).await.unwrap_err();
    assert!(matches!(&error, Error::Transport { .. }), "{error:?}");
    assert!(server.requests().is_empty(), "the handshake failed: nothing reached the sandbox");
}

/// A page the user's browser opens is a signed URL: its query signed with the APIv2 key (the
/// merchant id filled), then the fragment; never sent.
#[tokio::test]
async fn signed_urls_carry_the_query_its_signature_and_the_fragment() {
    let server = sandbox().await;
    let client = client(&server);
    let request = wechatpay::v2::papay::entrustweb::get::Request::builder()
        .appid("wxcbda96de0b165486")
        .plan_id(12535)
        .contract_code("100000")
        .request_serial(1000)
        .contract_display_account("微信代扣")
        .notify_url("https://weixin.qq.com")
        .version("1.0")
        .timestamp("1414488825")
        .build()
        .unwrap();
    let url = client.signed_url(&request).unwrap();
    assert_eq!(url.fragment(), Some("wechat_redirect"));
    assert!(url.as_str().starts_with(&format!("{}papay/entrustweb?", server.tls_base_url())), "{url}");
    let query: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(get("mch_id"), Some(server.keys().mchid()), "the merchant id is filled");
    assert_eq!(get("contract_display_account"), Some("微信代扣"));
    let unsigned: Vec<(String, String)> = query.iter().filter(|(k, _)| k != "sign").cloned().collect();
    assert_eq!(get("sign"), Some(wechatpay_sdk_sandbox::v2::wire::sign(&unsigned, server.apiv2_key(), false).as_str()));
    assert!(server.requests().is_empty(), "a signed URL is not a call");
    let error = client.send(request).await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "sending it is refused: {error}");

    // A page without a `sign` member (OAuth's authorization) is not signed; its host is its own.
    let request = wechatpay::v2::appauth::authindex::get::Request::builder()
        .appid("wxcbda96de0b165486")
        .redirect_uri("https://example.com/back")
        .response_type("code")
        .scope("pay_identity")
        .state("s1")
        .build()
        .unwrap();
    let url = client.signed_url(&request).unwrap();
    assert!(url.as_str().starts_with("https://payapp.weixin.qq.com/appauth/authindex?"), "{url}");
    assert!(!url.query_pairs().any(|(k, _)| k == "sign"));
    assert_eq!(url.fragment(), Some("wechat_redirect"));
}

/// The axum route answers APIv2 notifications in XML: handled once, a redelivery answered
/// SUCCESS without running the handler again, a forged one FAIL.
#[tokio::test]
async fn the_axum_route_answers_in_xml_and_handles_each_notification_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let server = sandbox().await;
    let notifications = client(&server).notifications_v2().unwrap();
    let handled = Arc::new(AtomicUsize::new(0));
    let counter = handled.clone();
    let app = axum::Router::new().route(
        "/refunds",
        wechatpay::apiv2::axum::handler(
            notifications,
            "refund-processed",
            move |notification: wechatpay::apiv2::notify::V2Notification| {
                let counter = counter.clone();
                async move {
                    assert!(matches!(notification.event, wechatpay::webhook::v2::Event::RefundProcessed(_)));
                    counter.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, std::io::Error>(())
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/refunds", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (body, _) = server.v2_notification("refund-processed").unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..2 {
        let answer = http.post(&url).body(body.clone()).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let text = answer.text().await.unwrap();
        assert!(text.contains("<return_code><![CDATA[SUCCESS]]></return_code>"), "{text}");
    }
    assert_eq!(handled.load(Ordering::SeqCst), 1, "a redelivery is not handled again");
    let forged = String::from_utf8(body).unwrap().replace("<req_info><![CDATA[", "<req_info><![CDATA[AAAA");
    let answer = http.post(&url).body(forged).send().await.unwrap();
    assert_ne!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("FAIL"));
}

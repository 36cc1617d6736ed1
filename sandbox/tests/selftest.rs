//! Tests of the sandbox itself, with a minimal request signer and response verifier written here
//! (RustCrypto), independent of both the SDK and the server's internals: if these pass, the server
//! speaks the protocol of `PROTOCOL.md`, and a failing SDK test points at the SDK.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use http::HeaderMap;
use rand::Rng as _;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use wechatpay_sdk_sandbox::{CertChoice, Config, Misbehaviour, Sandbox, Signer, Tamper};
use x509_cert::der::{DecodePem as _, Encode as _};

use crate::fixtures::keys;

// The fixture keys of the workspace's tests, and the sandbox configuration they use.
#[path = "../../tests/fixtures/mod.rs"]
mod fixtures;

// ---------------------------------------------------------------------------------------------------
// A minimal merchant: signs requests, verifies answers.

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock before 1970").as_secs() as i64
}

fn fresh_nonce() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    (0..32).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

fn merchant_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(&keys::pem("merchant_key.pem")).expect("merchant_key.pem")
}

/// The public key inside a PEM certificate.
fn cert_public_key(file: &str) -> RsaPublicKey {
    let text = keys::pem(file);
    let cert = x509_cert::Certificate::from_pem(text.as_bytes()).expect("X.509 PEM");
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().expect("DER");
    RsaPublicKey::from_public_key_der(&spki).expect("RSA public key")
}

/// The WeChat Pay key a client would know under `serial`.
fn wechatpay_key(serial: &str) -> Option<RsaPublicKey> {
    match serial {
        keys::PUBLIC_KEY_ID => {
            Some(RsaPublicKey::from_public_key_pem(&keys::pem("wechatpay_pub_key.pem")).expect("pub key"))
        }
        keys::PLATFORM_SERIAL => Some(cert_public_key("platform_cert.pem")),
        keys::PLATFORM2_SERIAL => Some(cert_public_key("platform2_cert.pem")),
        _ => None,
    }
}

struct Merchant {
    http: reqwest::Client,
    base: String,
    key: SigningKey<Sha256>,
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Verified with the key its `Wechatpay-Serial` names; returns that serial.
    fn verified(&self) -> String {
        verify(&self.headers, &self.body, now()).unwrap_or_else(|reject| panic!("response does not verify: {reject:?}"))
    }
}

impl Merchant {
    fn new(server: &Sandbox) -> Merchant {
        Merchant {
            http: reqwest::Client::builder().no_proxy().build().expect("client"),
            base: server.base_url(),
            key: SigningKey::new(merchant_key()),
        }
    }

    fn authorization_with(&self, pairs: [(&str, String); 5]) -> String {
        let pairs: Vec<String> = pairs.iter().map(|(key, value)| format!("{key}=\"{value}\"")).collect();
        format!("WECHATPAY2-SHA256-RSA2048 {}", pairs.join(","))
    }

    fn sign(&self, method: &str, path_and_query: &str, timestamp: i64, nonce: &str, body: &[u8]) -> String {
        let mut message = format!("{method}\n{path_and_query}\n{timestamp}\n{nonce}\n").into_bytes();
        message.extend_from_slice(body);
        message.push(b'\n');
        BASE64.encode(self.key.sign(&message).to_bytes())
    }

    fn authorization(&self, method: &str, path_and_query: &str, body: &[u8]) -> String {
        let (timestamp, nonce) = (now(), fresh_nonce());
        let signature = self.sign(method, path_and_query, timestamp, &nonce, body);
        self.authorization_with([
            ("mchid", keys::MERCHANT_ID.to_owned()),
            ("nonce_str", nonce),
            ("signature", signature),
            ("timestamp", timestamp.to_string()),
            ("serial_no", keys::MERCHANT_SERIAL.to_owned()),
        ])
    }

    async fn call(&self, method: &str, path_and_query: &str, body: &[u8]) -> Answer {
        let authorization = self.authorization(method, path_and_query, body);
        self.call_with(method, path_and_query, body, Some(&authorization), &[]).await
    }

    async fn call_json(&self, method: &str, path_and_query: &str, body: &Value) -> Answer {
        self.call(method, path_and_query, body.to_string().as_bytes()).await
    }

    async fn try_call_with(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        authorization: Option<&str>,
        extra: &[(&str, &str)],
    ) -> reqwest::Result<Answer> {
        let url = format!("{}{}", self.base, path_and_query.trim_start_matches('/'));
        let mut request = self
            .http
            .request(method.parse().expect("method"), url)
            .header("Accept", "application/json")
            .header("User-Agent", "server-selftest/0");
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        if !body.is_empty() {
            request = request.header("Content-Type", "application/json").body(body.to_vec());
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Answer { status, headers, body })
    }

    async fn call_with(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        authorization: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Answer {
        self.try_call_with(method, path_and_query, body, authorization, extra)
            .await
            .unwrap_or_else(|error| panic!("{method} {path_and_query}: {error}"))
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Reject {
    Missing(&'static str),
    UnknownSerial(String),
    Clock(i64),
    SignTest,
    BadSignature,
}

/// Response/notification verification as `PROTOCOL.md` describes it, with `now` as the clock.
fn verify(headers: &HeaderMap, body: &[u8], now: i64) -> Result<String, Reject> {
    let get = |name: &'static str| headers.get(name).and_then(|value| value.to_str().ok()).ok_or(Reject::Missing(name));
    let timestamp = get("Wechatpay-Timestamp")?;
    let nonce = get("Wechatpay-Nonce")?;
    let serial = get("Wechatpay-Serial")?;
    let signature = get("Wechatpay-Signature")?;
    get("Request-ID")?;
    let key = wechatpay_key(serial).ok_or_else(|| Reject::UnknownSerial(serial.to_owned()))?;
    let seconds: i64 = timestamp.parse().map_err(|_| Reject::Clock(i64::MAX))?;
    if (now - seconds).abs() > 300 {
        return Err(Reject::Clock(now - seconds));
    }
    if signature.starts_with("WECHATPAY/SIGNTEST/") {
        return Err(Reject::SignTest);
    }
    let mut message = format!("{timestamp}\n{nonce}\n").into_bytes();
    message.extend_from_slice(body);
    message.push(b'\n');
    let signature = BASE64.decode(signature).map_err(|_| Reject::BadSignature)?;
    let signature = Signature::try_from(signature.as_slice()).map_err(|_| Reject::BadSignature)?;
    VerifyingKey::<Sha256>::new(key).verify(&message, &signature).map_err(|_| Reject::BadSignature)?;
    Ok(serial.to_owned())
}

fn timestamp_of(headers: &HeaderMap) -> i64 {
    headers["Wechatpay-Timestamp"].to_str().expect("text").parse().expect("number")
}

fn aes_gcm_open(nonce: &str, aad: &str, ciphertext: &str) -> Result<Vec<u8>, String> {
    let sealed = BASE64.decode(ciphertext).map_err(|error| error.to_string())?;
    Aes256Gcm::new_from_slice(keys::APIV3_KEY.as_bytes())
        .expect("32-byte key")
        .decrypt(Nonce::from_slice(nonce.as_bytes()), Payload { msg: &sealed, aad: aad.as_bytes() })
        .map_err(|_| "AES-GCM authentication failed".to_owned())
}

fn oaep_encrypt(key: &RsaPublicKey, plaintext: &str) -> String {
    let sealed = key.encrypt(&mut rand::thread_rng(), Oaep::new::<Sha1>(), plaintext.as_bytes()).expect("OAEP");
    BASE64.encode(sealed)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

async fn start() -> (Sandbox, Merchant) {
    let server = Sandbox::start(crate::fixtures::config()).await.expect("sandbox starts");
    let merchant = Merchant::new(&server);
    (server, merchant)
}

const MCHID_QUERY: &str = "mchid=1900000109";

// ---------------------------------------------------------------------------------------------------
// Request authentication

#[tokio::test]
async fn accepts_a_signed_get_and_echoes_the_decoded_path_parameter() {
    let (server, merchant) = start().await;
    let path = format!("/v3/pay/transactions/out-trade-no/%E8%AE%A2%E5%8D%95-42?{MCHID_QUERY}");
    let answer = merchant.call("GET", &path, b"").await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.verified(), keys::PLATFORM_SERIAL);
    let json = answer.json();
    assert_eq!(json["out_trade_no"], "订单-42");
    assert_eq!(json["mchid"], keys::MERCHANT_ID);
    assert_eq!(json["trade_state"], "SUCCESS");

    let recorded = server.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].method, "GET");
    assert_eq!(recorded[0].path_and_query, path);
    assert!(recorded[0].authorization_ok);
    assert!(recorded[0].body.is_empty());
}

#[tokio::test]
async fn accepts_a_signed_post() {
    let (server, merchant) = start().await;
    let body = json!({
        "appid": "wxd678efh567hg6787", "mchid": keys::MERCHANT_ID, "description": "Image形象店",
        "out_trade_no": "1217752501201407033233368018", "notify_url": "https://example.com/notify",
        "amount": { "total": 100, "currency": "CNY" }, "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" }
    });
    let answer = merchant.call_json("POST", "/v3/pay/transactions/jsapi", &body).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    answer.verified();
    assert!(answer.json()["prepay_id"].as_str().unwrap().starts_with("wx"));
    assert_eq!(server.requests()[0].body, body.to_string().into_bytes());
}

#[tokio::test]
async fn accepts_the_authorization_pairs_in_any_order() {
    let (_server, merchant) = start().await;
    let path = format!("/v3/pay/transactions/id/4200000001?{MCHID_QUERY}");
    let (timestamp, nonce) = (now(), fresh_nonce());
    let signature = merchant.sign("GET", &path, timestamp, &nonce, b"");
    let authorization = merchant.authorization_with([
        ("serial_no", keys::MERCHANT_SERIAL.to_owned()),
        ("timestamp", timestamp.to_string()),
        ("signature", signature),
        ("nonce_str", nonce),
        ("mchid", keys::MERCHANT_ID.to_owned()),
    ]);
    let answer = merchant.call_with("GET", &path, b"", Some(&authorization), &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["transaction_id"], "4200000001");
}

/// A 401 SIGN_ERROR, itself a correctly signed response.
fn assert_sign_error(answer: &Answer) {
    assert_eq!(answer.status, 401, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.code(), "SIGN_ERROR");
    assert!(answer.json()["message"].as_str().is_some_and(|message| !message.is_empty()));
    answer.verified();
}

#[tokio::test]
async fn rejects_a_signature_over_other_bytes() {
    let (server, merchant) = start().await;
    let path = "/v3/refund/domestic/refunds";
    let body = br#"{"out_refund_no":"R1","out_trade_no":"T1","amount":{"refund":1,"total":1,"currency":"CNY"}}"#;
    let authorization = merchant.authorization("POST", path, b"{}");
    assert_sign_error(&merchant.call_with("POST", path, body, Some(&authorization), &[]).await);
    // Signed for another path, or another method.
    let authorization = merchant.authorization("POST", "/v3/refund/domestic/refunds?x=1", body);
    assert_sign_error(&merchant.call_with("POST", path, body, Some(&authorization), &[]).await);
    let authorization = merchant.authorization("PUT", path, body);
    assert_sign_error(&merchant.call_with("POST", path, body, Some(&authorization), &[]).await);
    assert!(server.requests().iter().all(|request| !request.authorization_ok));
}

#[tokio::test]
async fn rejects_a_wrong_serial_or_merchant() {
    let (_server, merchant) = start().await;
    let path = format!("/v3/pay/transactions/id/1?{MCHID_QUERY}");
    for (mchid, serial) in
        [(keys::MERCHANT_ID, "0000000000000000000000000000000000000000"), ("1230000109", keys::MERCHANT_SERIAL)]
    {
        let (timestamp, nonce) = (now(), fresh_nonce());
        let signature = merchant.sign("GET", &path, timestamp, &nonce, b"");
        let authorization = merchant.authorization_with([
            ("mchid", mchid.to_owned()),
            ("nonce_str", nonce),
            ("signature", signature),
            ("timestamp", timestamp.to_string()),
            ("serial_no", serial.to_owned()),
        ]);
        assert_sign_error(&merchant.call_with("GET", &path, b"", Some(&authorization), &[]).await);
    }
}

#[tokio::test]
async fn rejects_a_replayed_nonce() {
    let (server, merchant) = start().await;
    let path = format!("/v3/pay/transactions/id/1?{MCHID_QUERY}");
    let authorization = merchant.authorization("GET", &path, b"");
    let first = merchant.call_with("GET", &path, b"", Some(&authorization), &[]).await;
    assert_eq!(first.status, 200);
    let replay = merchant.call_with("GET", &path, b"", Some(&authorization), &[]).await;
    assert_sign_error(&replay);
    assert!(replay.json()["message"].as_str().unwrap().contains("replay"));
    let recorded = server.requests();
    assert!(recorded[0].authorization_ok);
    assert!(!recorded[1].authorization_ok);
}

#[tokio::test]
async fn rejects_a_timestamp_more_than_five_minutes_away() {
    let (_server, merchant) = start().await;
    let path = format!("/v3/pay/transactions/id/1?{MCHID_QUERY}");
    for skew in [-301, 301, -3600] {
        let (timestamp, nonce) = (now() + skew, fresh_nonce());
        let signature = merchant.sign("GET", &path, timestamp, &nonce, b"");
        let authorization = merchant.authorization_with([
            ("mchid", keys::MERCHANT_ID.to_owned()),
            ("nonce_str", nonce),
            ("signature", signature),
            ("timestamp", timestamp.to_string()),
            ("serial_no", keys::MERCHANT_SERIAL.to_owned()),
        ]);
        assert_sign_error(&merchant.call_with("GET", &path, b"", Some(&authorization), &[]).await);
    }
}

#[tokio::test]
async fn rejects_a_missing_or_malformed_authorization() {
    let (_server, merchant) = start().await;
    let path = format!("/v3/pay/transactions/id/1?{MCHID_QUERY}");
    assert_sign_error(&merchant.call_with("GET", &path, b"", None, &[]).await);
    let good = merchant.authorization("GET", &path, b"");
    for bad in [
        good.replacen("WECHATPAY2-SHA256-RSA2048", "WECHATPAY2-SHA256-RSA4096", 1),
        good.replace("nonce_str=", "nonce="),
        good.replace('"', ""),
        "WECHATPAY2-SHA256-RSA2048".to_owned(),
        "Bearer abc".to_owned(),
    ] {
        assert_sign_error(&merchant.call_with("GET", &path, b"", Some(&bad), &[]).await);
    }
}

// ---------------------------------------------------------------------------------------------------
// Response signing

#[tokio::test]
async fn responses_are_signed_by_the_configured_key_and_follow_rotation() {
    let server = Sandbox::start(Config { signer: Signer::PublicKey, ..crate::fixtures::config() })
        .await
        .expect("sandbox starts");
    let merchant = Merchant::new(&server);
    let path = format!("/v3/pay/transactions/id/1?{MCHID_QUERY}");
    let first = merchant.call("GET", &path, b"").await;
    assert_eq!(first.verified(), keys::PUBLIC_KEY_ID);

    server.set_signer(Signer::Platform2);
    let second = merchant.call("GET", &path, b"").await;
    assert_eq!(second.verified(), keys::PLATFORM2_SERIAL);

    server.set_signer(Signer::Platform);
    let third = merchant.call("GET", "/v3/no/such/route", b"").await;
    assert_eq!(third.status, 404);
    assert_eq!(third.code(), "RESOURCE_NOT_EXISTS");
    assert_eq!(third.verified(), keys::PLATFORM_SERIAL);

    let ids: std::collections::HashSet<_> =
        [&first, &second, &third].iter().map(|answer| answer.header("Request-ID").unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 3, "Request-ID must be unique");
}

#[tokio::test]
async fn an_empty_204_is_signed_over_the_empty_body() {
    let (_server, merchant) = start().await;
    let answer = merchant
        .call_json("POST", "/v3/pay/transactions/out-trade-no/T%2F1/close", &json!({ "mchid": keys::MERCHANT_ID }))
        .await;
    assert_eq!(answer.status, 204);
    assert!(answer.body.is_empty());
    answer.verified();
}

#[tokio::test]
async fn certificates_decrypt_to_the_configured_pems() {
    let server = Sandbox::start(Config {
        certificates: vec![CertChoice::Platform, CertChoice::Platform2, CertChoice::Expired],
        ..crate::fixtures::config()
    })
    .await
    .expect("sandbox starts");
    let merchant = Merchant::new(&server);
    let answer = merchant.call("GET", "/v3/certificates", b"").await;
    assert_eq!(answer.status, 200);
    answer.verified();
    let json = answer.json();
    let data = json["data"].as_array().expect("data[]");
    let expected = [
        (keys::PLATFORM_SERIAL, "platform_cert.pem"),
        (keys::PLATFORM2_SERIAL, "platform2_cert.pem"),
        (keys::PLATFORM_EXPIRED_SERIAL, "platform_expired_cert.pem"),
    ];
    assert_eq!(data.len(), expected.len());
    for (item, (serial, file)) in data.iter().zip(expected) {
        assert_eq!(item["serial_no"], serial);
        let sealed = &item["encrypt_certificate"];
        assert_eq!(sealed["algorithm"], "AEAD_AES_256_GCM");
        assert_eq!(sealed["associated_data"], "certificate");
        let nonce = sealed["nonce"].as_str().unwrap();
        assert_eq!(nonce.len(), 12);
        let pem = aes_gcm_open(nonce, "certificate", sealed["ciphertext"].as_str().unwrap()).unwrap();
        assert_eq!(String::from_utf8(pem).unwrap(), keys::pem(file));
        for field in ["effective_time", "expire_time"] {
            assert!(item[field].as_str().unwrap().ends_with("+08:00"), "{field}: {}", item[field]);
        }
    }
    assert_eq!(data[2]["effective_time"], "2020-01-01T08:00:00+08:00");
    assert_eq!(data[2]["expire_time"], "2025-01-01T08:00:00+08:00");

    server.set_certificates(vec![CertChoice::Platform2]);
    let rotated = merchant.call("GET", "/v3/certificates", b"").await.json();
    assert_eq!(rotated["data"].as_array().unwrap().len(), 1);
    assert_eq!(rotated["data"][0]["serial_no"], keys::PLATFORM2_SERIAL);

    server.set_certificates_available(false);
    let none = merchant.call("GET", "/v3/certificates", b"").await;
    assert_eq!(none.status, 404);
    assert_eq!(none.code(), "RESOURCE_NOT_EXISTS");
    none.verified();
}

#[tokio::test]
async fn certificates_can_be_unavailable_from_the_start() {
    let server = Sandbox::start(Config {
        signer: Signer::PublicKey,
        certificates: vec![],
        certificates_available: false,
        ..crate::fixtures::config()
    })
    .await
    .expect("sandbox starts");
    let answer = Merchant::new(&server).call("GET", "/v3/certificates", b"").await;
    assert_eq!((answer.status, answer.code()), (404, "RESOURCE_NOT_EXISTS".to_owned()));
    assert_eq!(answer.verified(), keys::PUBLIC_KEY_ID);
}

// ---------------------------------------------------------------------------------------------------
// Misbehaviours

async fn get_transaction(merchant: &Merchant) -> Answer {
    merchant.call("GET", &format!("/v3/pay/transactions/id/1?{MCHID_QUERY}"), b"").await
}

#[tokio::test]
async fn signature_misbehaviours_spoil_exactly_the_signature_headers() {
    let (server, merchant) = start().await;

    server.misbehave(Misbehaviour::BadSignature);
    let answer = get_transaction(&merchant).await;
    assert_eq!(answer.status, 200);
    assert_eq!(verify(&answer.headers, &answer.body, now()), Err(Reject::BadSignature));

    server.misbehave(Misbehaviour::StaleTimestamp);
    let answer = get_transaction(&merchant).await;
    let age = now() - timestamp_of(&answer.headers);
    assert!((595..=605).contains(&age), "age {age}");
    assert!(matches!(verify(&answer.headers, &answer.body, now()), Err(Reject::Clock(_))));
    // ... yet validly signed: a clock ten minutes behind accepts it.
    assert!(verify(&answer.headers, &answer.body, timestamp_of(&answer.headers)).is_ok());

    server.misbehave(Misbehaviour::UnknownSerial);
    let answer = get_transaction(&merchant).await;
    assert_eq!(
        verify(&answer.headers, &answer.body, now()),
        Err(Reject::UnknownSerial(keys::UNKNOWN_SERIAL.to_owned()))
    );

    server.misbehave(Misbehaviour::SignTest);
    let answer = get_transaction(&merchant).await;
    assert!(answer.header("Wechatpay-Signature").unwrap().starts_with("WECHATPAY/SIGNTEST/"));
    assert_eq!(verify(&answer.headers, &answer.body, now()), Err(Reject::SignTest));

    server.misbehave(Misbehaviour::MissingHeaders);
    let answer = get_transaction(&merchant).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("Wechatpay-Signature").is_none());
    assert_eq!(verify(&answer.headers, &answer.body, now()), Err(Reject::Missing("Wechatpay-Signature")));

    // The queue is empty again.
    get_transaction(&merchant).await.verified();
}

#[tokio::test]
async fn server_error_is_a_signed_500() {
    let (server, merchant) = start().await;
    server.misbehave(Misbehaviour::ServerError);
    let answer = get_transaction(&merchant).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.code(), "SYSTEM_ERROR");
    answer.verified();
    assert!(server.requests()[0].authorization_ok);
}

#[tokio::test]
async fn slow_delays_the_answer() {
    let (server, merchant) = start().await;
    server.misbehave(Misbehaviour::Slow(Duration::from_millis(700)));
    let started = Instant::now();
    let answer = get_transaction(&merchant).await;
    assert!(started.elapsed() >= Duration::from_millis(700));
    answer.verified();

    server.misbehave(Misbehaviour::Slow(Duration::from_secs(5)));
    let impatient = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(300)).build().unwrap();
    let impatient = Merchant { http: impatient, ..Merchant::new(&server) };
    let path = format!("/v3/pay/transactions/id/1?{MCHID_QUERY}");
    let authorization = impatient.authorization("GET", &path, b"");
    let result = impatient.try_call_with("GET", &path, b"", Some(&authorization), &[]).await;
    assert!(result.err().is_some_and(|error| error.is_timeout()));
}

#[tokio::test]
async fn drop_connection_closes_the_socket_without_an_answer() {
    let (server, merchant) = start().await;
    server.misbehave(Misbehaviour::DropConnection);
    let path = format!("/v3/pay/transactions/id/1?{MCHID_QUERY}");
    let authorization = merchant.authorization("GET", &path, b"");
    let result = merchant.try_call_with("GET", &path, b"", Some(&authorization), &[]).await;
    assert!(result.is_err(), "expected a transport error");
    // The request was read (and recorded), and the server goes on serving.
    assert_eq!(server.requests().len(), 1);
    assert_eq!(get_transaction(&merchant).await.status, 200);
}

#[tokio::test]
async fn misbehaviours_queue_one_per_request_and_always_applies_until_cleared() {
    let (server, merchant) = start().await;
    server.misbehave(Misbehaviour::ServerError);
    server.misbehave(Misbehaviour::BadSignature);
    assert_eq!(get_transaction(&merchant).await.status, 500);
    let second = get_transaction(&merchant).await;
    assert_eq!(verify(&second.headers, &second.body, now()), Err(Reject::BadSignature));
    get_transaction(&merchant).await.verified();

    server.misbehave_always(Some(Misbehaviour::ServerError));
    server.misbehave(Misbehaviour::MissingHeaders);
    let queued_first = get_transaction(&merchant).await;
    assert_eq!(queued_first.status, 200);
    assert!(queued_first.header("Wechatpay-Signature").is_none());
    assert_eq!(get_transaction(&merchant).await.status, 500);
    assert_eq!(get_transaction(&merchant).await.status, 500);
    server.misbehave_always(None);
    assert_eq!(get_transaction(&merchant).await.status, 200);
}

// ---------------------------------------------------------------------------------------------------
// Routes and request checks

#[tokio::test]
async fn invalid_json_is_a_param_error_and_unknown_routes_are_not_found() {
    let (_server, merchant) = start().await;
    let answer = merchant.call("POST", "/v3/pay/transactions/native", b"{not json").await;
    assert_eq!((answer.status, answer.code()), (400, "PARAM_ERROR".to_owned()));
    answer.verified();
    let answer = merchant.call("POST", "/v3/pay/transactions/native", b"").await;
    assert_eq!((answer.status, answer.code()), (400, "PARAM_ERROR".to_owned()));
    for (method, path) in [("GET", "/v3/nothing"), ("DELETE", "/v3/pay/transactions/jsapi"), ("GET", "/")] {
        let answer = merchant.call(method, path, b"").await;
        assert_eq!((answer.status, answer.code()), (404, "RESOURCE_NOT_EXISTS".to_owned()), "{method} {path}");
        answer.verified();
    }
}

#[tokio::test]
async fn a_missing_required_field_is_a_param_error_naming_it() {
    let (_server, merchant) = start().await;
    let body = json!({
        "appid": "wxd678efh567hg6787", "mchid": keys::MERCHANT_ID, "description": "d",
        "out_trade_no": "T1", "notify_url": "https://example.com/n", "amount": { "total": 1 }
    });
    let answer = merchant.call_json("POST", "/v3/pay/transactions/jsapi", &body).await;
    assert_eq!((answer.status, answer.code()), (400, "PARAM_ERROR".to_owned()));
    assert_eq!(answer.json()["detail"]["field"], "/body/payer");
    let answer = merchant.call("GET", "/v3/pay/transactions/id/1", b"").await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["detail"]["field"], "/query/mchid");
}

/// Every listed route answers with the required fields of its documentation's response table.
#[tokio::test]
async fn canned_routes_answer_with_the_documented_fields() {
    let (_server, merchant) = start().await;
    // Each kind with its documented fields only (the sandbox checks them against the pages).
    let order = |number: &str, extra: Value| {
        let mut body = json!({
            "appid": "wxd678efh567hg6787", "mchid": keys::MERCHANT_ID, "description": "d",
            "out_trade_no": number, "notify_url": "https://example.com/n", "amount": { "total": 1 }
        });
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let jsapi = order("T1", json!({ "payer": { "openid": "o1" } }));
    let h5 = order("T1H5", json!({ "scene_info": { "payer_client_ip": "127.0.0.1", "h5_info": { "type": "Wap" } } }));
    let app = order("T1APP", json!({}));
    let native = order("T1NATIVE", json!({}));
    let partner = json!({
        "sp_appid": "wx1", "sp_mchid": keys::MERCHANT_ID, "sub_mchid": "1900000110", "description": "d",
        "out_trade_no": "T1", "notify_url": "https://example.com/n", "amount": { "total": 1 },
        "payer": { "sp_openid": "o1" }
    });
    let refund = json!({ "out_trade_no": "T2", "out_refund_no": "R1", "amount": { "refund": 1, "total": 1, "currency": "CNY" } });
    let payscore = json!({
        "appid": "wx1", "service_id": "S1", "out_order_no": "P1", "service_introduction": "x",
        "risk_fund": { "name": "DEPOSIT", "amount": 1 }, "notify_url": "https://example.com/n"
    });
    let complete = json!({ "appid": "wx1", "service_id": "S1", "post_payments": [{ "name": "a", "amount": 1 }], "total_amount": 1 });
    // (method, path and query, JSON body, expected status, fields the answer must have)
    type Case = (&'static str, String, Option<Value>, u16, &'static [&'static str]);
    let cases: Vec<Case> = vec![
        ("POST", "/v3/pay/transactions/jsapi".into(), Some(jsapi.clone()), 200, &["prepay_id"]),
        ("POST", "/v3/pay/transactions/app".into(), Some(app.clone()), 200, &["prepay_id"]),
        ("POST", "/v3/pay/transactions/h5".into(), Some(h5.clone()), 200, &["h5_url"]),
        ("POST", "/v3/pay/transactions/native".into(), Some(native.clone()), 200, &["code_url"]),
        ("POST", "/v3/pay/partner/transactions/jsapi".into(), Some(partner.clone()), 200, &["prepay_id"]),
        (
            "POST",
            "/v3/pay/partner/transactions/app".into(),
            Some({
                let mut app = partner.clone();
                app.as_object_mut().unwrap().remove("payer");
                app
            }),
            200,
            &["prepay_id"],
        ),
        (
            "GET",
            format!("/v3/pay/transactions/id/42?{MCHID_QUERY}"),
            None,
            200,
            &["appid", "mchid", "description", "out_trade_no", "amount", "notify_url", "transaction_id", "trade_state"],
        ),
        (
            "POST",
            "/v3/refund/domestic/refunds".into(),
            Some(refund),
            200,
            &[
                "refund_id",
                "out_refund_no",
                "transaction_id",
                "out_trade_no",
                "channel",
                "user_received_account",
                "create_time",
                "status",
                "amount",
            ],
        ),
        (
            "GET",
            "/v3/refund/domestic/refunds/R1".into(),
            None,
            200,
            &["refund_id", "out_refund_no", "status", "amount", "success_time"],
        ),
        ("POST", "/v3/catering/orders/sync-status".into(), Some(json!({ "sub_mchid": "1" })), 204, &[]),
        (
            "POST",
            "/v3/payscore/serviceorder".into(),
            Some(payscore),
            200,
            &["appid", "mchid", "out_order_no", "service_id", "service_introduction", "state", "order_id", "package"],
        ),
        (
            "GET",
            "/v3/payscore/serviceorder?service_id=S1&out_order_no=P1&appid=wx1".into(),
            None,
            200,
            &["out_order_no", "service_id", "appid", "mchid", "service_introduction", "state", "notify_url"],
        ),
        (
            "POST",
            "/v3/payscore/serviceorder/P1/cancel".into(),
            Some(json!({ "appid": "wx1", "service_id": "S1", "reason": "r" })),
            200,
            &["appid", "mchid", "out_order_no", "service_id", "order_id"],
        ),
        (
            "POST",
            "/v3/payscore/serviceorder/P1/complete".into(),
            Some(complete),
            200,
            &[
                "appid",
                "mchid",
                "out_order_no",
                "service_id",
                "service_introduction",
                "state",
                "total_amount",
                "risk_fund",
            ],
        ),
        (
            "POST",
            "/v3/payscore/serviceorder/P1/sync".into(),
            Some(
                json!({ "appid": "wx1", "service_id": "S1", "type": "Order_Paid", "detail": { "paid_time": "20091225091210" } }),
            ),
            200,
            &["out_order_no", "service_id", "appid", "mchid", "service_introduction", "state", "openid", "order_id"],
        ),
        (
            "GET",
            "/v3/profitsharing/orders/P1?transaction_id=4200".into(),
            None,
            200,
            &["transaction_id", "out_order_no", "order_id", "state"],
        ),
    ];
    // The sandbox checks a documented body against its page: for the routes whose cases give only
    // what the route reads (payscore, catering), each case's values over the page's sample of
    // every field.
    fn over(sample: &mut Value, case: Value) {
        match (sample, case) {
            (Value::Object(sample), Value::Object(case)) => {
                for (key, value) in case {
                    over(sample.entry(key).or_insert(Value::Null), value);
                }
            }
            (sample, case) => *sample = case,
        }
    }
    for (method, path, body, status, fields) in cases {
        let body = body.map(|body| {
            let op = wechatpay_sdk_sandbox::pages::find(
                wechatpay_sdk_sandbox::pages::api(),
                method,
                path.split('?').next().unwrap(),
            );
            let op = op.filter(|_| path.starts_with("/v3/payscore") || path.starts_with("/v3/catering"));
            let mut sample =
                op.map(|op| wechatpay_sdk_sandbox::pages::request_json(op, "")["json"].clone()).unwrap_or(Value::Null);
            over(&mut sample, body);
            sample
        });
        let bytes = body.map(|body| body.to_string().into_bytes()).unwrap_or_default();
        let answer = merchant.call(method, &path, &bytes).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", String::from_utf8_lossy(&answer.body));
        answer.verified();
        if status == 204 {
            assert!(answer.body.is_empty());
            continue;
        }
        let json = answer.json();
        for field in fields {
            assert!(!json[field].is_null(), "{method} {path}: `{field}` missing in {json}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Sensitive fields

fn profitsharing(name_ciphertext: &str) -> Value {
    json!({
        "appid": "wx8888888888888888", "transaction_id": "4208450740201411110007820472",
        "out_order_no": "P20150806125346", "unfreeze_unsplit": true,
        "receivers": [
            { "type": "MERCHANT_ID", "account": "86693852", "amount": 888, "description": "分给商户A" },
            { "type": "PERSONAL_OPENID", "account": "o1", "name": name_ciphertext, "amount": 1, "description": "分给个人" }
        ]
    })
}

async fn post_profitsharing(merchant: &Merchant, body: &Value, serial: Option<&str>) -> Answer {
    let bytes = body.to_string().into_bytes();
    let authorization = merchant.authorization("POST", "/v3/profitsharing/orders", &bytes);
    let extra: Vec<(&str, &str)> = serial.map(|serial| ("Wechatpay-Serial", serial)).into_iter().collect();
    merchant.call_with("POST", "/v3/profitsharing/orders", &bytes, Some(&authorization), &extra).await
}

#[tokio::test]
async fn sensitive_fields_are_decrypted_with_the_key_named_by_wechatpay_serial() {
    let (server, merchant) = start().await;
    for serial in [keys::PUBLIC_KEY_ID, keys::PLATFORM_SERIAL, keys::PLATFORM2_SERIAL] {
        let ciphertext = oaep_encrypt(&wechatpay_key(serial).unwrap(), "张三");
        let answer = post_profitsharing(&merchant, &profitsharing(&ciphertext), Some(serial)).await;
        assert_eq!(answer.status, 200, "{serial}: {}", String::from_utf8_lossy(&answer.body));
        answer.verified();
        assert_eq!(answer.json()["receivers"].as_array().unwrap().len(), 2);
        let recorded = server.requests().pop().unwrap();
        assert_eq!(recorded.decrypted, vec![("receivers[1].name".to_owned(), "张三".to_owned())]);
    }
}

#[tokio::test]
async fn an_undecryptable_sensitive_field_is_a_param_error_naming_it() {
    let (_server, merchant) = start().await;
    // Encrypted for the public key, labelled as the platform certificate.
    let ciphertext = oaep_encrypt(&wechatpay_key(keys::PUBLIC_KEY_ID).unwrap(), "张三");
    let answer = post_profitsharing(&merchant, &profitsharing(&ciphertext), Some(keys::PLATFORM_SERIAL)).await;
    assert_eq!((answer.status, answer.code()), (400, "PARAM_ERROR".to_owned()));
    assert!(answer.json()["message"].as_str().unwrap().contains("receivers[1].name"));
    answer.verified();
    // Plain text where a ciphertext belongs.
    let answer = post_profitsharing(&merchant, &profitsharing("张三"), Some(keys::PUBLIC_KEY_ID)).await;
    assert_eq!(answer.status, 400);
    // No Wechatpay-Serial at all.
    let answer = post_profitsharing(&merchant, &profitsharing(&ciphertext), None).await;
    assert_eq!((answer.status, answer.code()), (400, "PARAM_ERROR".to_owned()));
}

#[tokio::test]
async fn a_wechatpay_serial_the_server_does_not_hold_is_a_param_error() {
    let (_server, merchant) = start().await;
    let ciphertext = oaep_encrypt(&wechatpay_key(keys::PUBLIC_KEY_ID).unwrap(), "张三");
    for serial in [keys::UNKNOWN_SERIAL, keys::PLATFORM_EXPIRED_SERIAL] {
        let answer = post_profitsharing(&merchant, &profitsharing(&ciphertext), Some(serial)).await;
        assert_eq!((answer.status, answer.code()), (400, "PARAM_ERROR".to_owned()), "{serial}");
        answer.verified();
    }
}

// ---------------------------------------------------------------------------------------------------
// Media upload

fn multipart_body(meta: &str, file: &[u8], boundary: &str) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n\
--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[tokio::test]
async fn media_upload_checks_the_meta_signature_and_the_file_digest() {
    let (server, merchant) = start().await;
    let path = "/v3/merchant/media/upload";
    let file: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let meta = json!({ "filename": "a.png", "sha256": hex(&Sha256::digest(&file)) }).to_string();

    // reqwest's own multipart encoder, signature over the meta text.
    let form = reqwest::multipart::Form::new()
        .part("meta", reqwest::multipart::Part::text(meta.clone()).mime_str("application/json").unwrap())
        .part("file", reqwest::multipart::Part::bytes(file.clone()).file_name("a.png").mime_str("image/png").unwrap());
    let response = merchant
        .http
        .post(format!("{}{}", merchant.base, &path[1..]))
        .header("Authorization", merchant.authorization("POST", path, meta.as_bytes()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    verify(&headers, &body, now()).unwrap();
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert!(!json["media_id"].as_str().unwrap().is_empty());

    let boundary = "----selftest-boundary";
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let send = |meta: String, file: Vec<u8>, signed: Vec<u8>| {
        let merchant = &merchant;
        let content_type = content_type.clone();
        async move {
            let body = multipart_body(&meta, &file, boundary);
            let authorization = merchant.authorization("POST", path, &signed);
            let response = merchant
                .http
                .post(format!("{}{}", merchant.base, &path[1..]))
                .header("Authorization", authorization)
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let json: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
            (status, json)
        }
    };
    let (status, _) = send(meta.clone(), file.clone(), meta.clone().into_bytes()).await;
    assert_eq!(status, 200);
    // The digest does not match the file.
    let mut other = file.clone();
    other[0] ^= 1;
    let (status, json) = send(meta.clone(), other, meta.clone().into_bytes()).await;
    assert_eq!((status, json["code"].as_str().unwrap()), (400, "PARAM_ERROR"));
    // Signed over the whole multipart body instead of the meta text.
    let whole = multipart_body(&meta, &file, boundary);
    let (status, json) = send(meta.clone(), file.clone(), whole).await;
    assert_eq!((status, json["code"].as_str().unwrap()), (401, "SIGN_ERROR"));

    assert!(server.requests()[0].authorization_ok);
}

// ---------------------------------------------------------------------------------------------------
// Bills

async fn bill(merchant: &Merchant, path: &str) -> (String, Vec<u8>, Answer) {
    let answer = merchant.call("GET", path, b"").await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    answer.verified();
    let json = answer.json();
    assert_eq!(json["hash_type"], "SHA1");
    let url = json["download_url"].as_str().unwrap();
    let download_path = url.strip_prefix(merchant.base.as_str()).expect("download_url on the server");
    let download = merchant.call("GET", &format!("/{download_path}"), b"").await;
    (json["hash_value"].as_str().unwrap().to_owned(), download.body.clone(), download)
}

#[tokio::test]
async fn bill_hash_matches_the_unsigned_download_until_corrupted() {
    let (server, merchant) = start().await;
    for path in ["/v3/bill/tradebill?bill_date=2026-11-20&bill_type=ALL", "/v3/bill/fundflowbill?bill_date=2026-11-20"]
    {
        let (hash, bytes, download) = bill(&merchant, path).await;
        assert_eq!(download.status, 200);
        assert!(download.header("Wechatpay-Signature").is_none(), "a byte stream is not signed");
        assert!(download.header("Request-ID").is_some());
        assert!(bytes.len() > 2000, "a few KB, got {}", bytes.len());
        assert!(String::from_utf8(bytes.clone()).unwrap().contains("2026-11-20"));
        assert_eq!(hex(&Sha1::digest(&bytes)), hash, "{path}");
    }
    server.corrupt_bill(true);
    let (hash, bytes, _) = bill(&merchant, "/v3/bill/tradebill?bill_date=2026-11-21").await;
    assert_ne!(hex(&Sha1::digest(&bytes)), hash);
    server.corrupt_bill(false);

    let answer = merchant.call("GET", "/v3/bill/tradebill", b"").await;
    assert_eq!((answer.status, answer.code()), (400, "PARAM_ERROR".to_owned()));
    let answer = merchant.call("GET", "/v3/billdownload/file?token=nope", b"").await;
    assert_eq!(answer.status, 400);
    answer.verified();
}

// ---------------------------------------------------------------------------------------------------
// Notifications

/// Verifies, checks the signature type, decrypts the resource: the merchant's side of a notification.
fn open_notification(headers: &HeaderMap, body: &[u8]) -> Result<(Value, Value), String> {
    verify(headers, body, now()).map_err(|reject| format!("{reject:?}"))?;
    let signature_type = headers.get("Wechatpay-Signature-Type").and_then(|v| v.to_str().ok());
    if signature_type != Some("WECHATPAY2-SHA256-RSA2048") {
        return Err(format!("signature type {signature_type:?}"));
    }
    let envelope: Value = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    let resource = &envelope["resource"];
    let plain = aes_gcm_open(
        resource["nonce"].as_str().unwrap_or_default(),
        resource["associated_data"].as_str().unwrap_or_default(),
        resource["ciphertext"].as_str().unwrap_or_default(),
    )?;
    let payload = serde_json::from_slice(&plain).map_err(|error| error.to_string())?;
    Ok((envelope, payload))
}

#[tokio::test]
async fn a_notification_verifies_and_decrypts_to_the_payload() {
    let server = Sandbox::start(Config { signer: Signer::PublicKey, ..crate::fixtures::config() })
        .await
        .expect("sandbox starts");
    let payload = crate::fixtures::sample_transaction("1217752501201407033233368018");
    let (headers, body) = server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::None);
    assert_eq!(headers["Wechatpay-Serial"], keys::PUBLIC_KEY_ID);
    assert_eq!(headers["Content-Type"], "application/json");
    let (envelope, opened) = open_notification(&headers, &body).unwrap();
    assert_eq!(opened, payload);
    assert_eq!(envelope["event_type"], "TRANSACTION.SUCCESS");
    assert_eq!(envelope["resource_type"], "encrypt-resource");
    assert_eq!(envelope["resource"]["algorithm"], "AEAD_AES_256_GCM");
    assert_eq!(envelope["resource"]["original_type"], "transaction");
    for field in ["id", "create_time", "summary"] {
        assert!(envelope[field].as_str().is_some_and(|value| !value.is_empty()), "{field}");
    }
    for field in [
        "appid",
        "mchid",
        "out_trade_no",
        "transaction_id",
        "trade_type",
        "trade_state",
        "success_time",
        "payer",
        "amount",
    ] {
        assert!(!opened[field].is_null(), "sample_transaction lacks {field}");
    }

    let refund = crate::fixtures::sample_refund("R1");
    server.set_signer(Signer::Platform);
    let (headers, body) = server.notification("REFUND.SUCCESS", "encrypt-resource", &refund, Tamper::None);
    assert_eq!(headers["Wechatpay-Serial"], keys::PLATFORM_SERIAL);
    let (envelope, opened) = open_notification(&headers, &body).unwrap();
    assert_eq!(envelope["resource"]["original_type"], "refund");
    assert_eq!(opened["out_refund_no"], "R1");
    assert_eq!(opened["refund_status"], "SUCCESS");
}

#[tokio::test]
async fn each_notification_tamper_is_detectable() {
    let (server, _) = start().await;
    let payload = crate::fixtures::sample_refund("R2");
    let open = |tamper: Tamper| {
        let (headers, body) = server.notification("REFUND.SUCCESS", "encrypt-resource", &payload, tamper);
        (open_notification(&headers, &body), headers, body)
    };
    let (result, ..) = open(Tamper::None);
    assert!(result.is_ok());

    let (result, ..) = open(Tamper::Body);
    assert_eq!(result.unwrap_err(), "BadSignature");

    for tamper in [Tamper::Ciphertext, Tamper::WrongApiV3Key] {
        let (result, headers, body) = open(tamper.clone());
        assert!(verify(&headers, &body, now()).is_ok(), "{tamper:?}: signature still valid");
        assert_eq!(result.unwrap_err(), "AES-GCM authentication failed", "{tamper:?}");
    }

    let (result, headers, body) = open(Tamper::StaleTimestamp);
    assert!(result.unwrap_err().starts_with("Clock"));
    assert!(verify(&headers, &body, timestamp_of(&headers)).is_ok());

    let (result, headers, body) = open(Tamper::WrongSignatureType);
    assert!(result.unwrap_err().starts_with("signature type"));
    assert!(verify(&headers, &body, now()).is_ok());

    let (result, ..) = open(Tamper::UnknownSerial);
    assert_eq!(result.unwrap_err(), format!("UnknownSerial({:?})", keys::UNKNOWN_SERIAL));

    let (result, ..) = open(Tamper::SignTest);
    assert_eq!(result.unwrap_err(), "SignTest");

    let (result, ..) = open(Tamper::Id("EV-duplicate-1".into()));
    let (envelope, _) = result.unwrap();
    assert_eq!(envelope["id"], "EV-duplicate-1");
}

#[tokio::test]
async fn deliver_posts_the_notification_and_returns_the_answer() {
    let (server, _) = start().await;
    type Seen = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;
    let seen: Seen = Arc::default();
    let receiver = axum::Router::new()
        .route(
            "/notify",
            axum::routing::post(
                |axum::extract::State(seen): axum::extract::State<Seen>,
                 headers: HeaderMap,
                 body: axum::body::Bytes| async move {
                    seen.lock().unwrap().push((headers, body.to_vec()));
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/fail",
            axum::routing::post(|| async {
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, r#"{"code":"FAIL","message":"失败"}"#)
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    let payload = crate::fixtures::sample_transaction("T-deliver");
    let answer = server
        .deliver(&format!("http://{address}/notify"), "TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::None)
        .await
        .expect("delivered");
    assert_eq!(answer, (204, String::new()));
    let (headers, body) = seen.lock().unwrap().pop().unwrap();
    let (_, opened) = open_notification(&headers, &body).unwrap();
    assert_eq!(opened, payload);

    let answer = server
        .deliver(&format!("http://{address}/fail"), "TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::Body)
        .await
        .expect("delivered");
    assert_eq!(answer.0, 500);
    assert!(answer.1.contains("FAIL"));
    task.abort();
}

// ---------------------------------------------------------------------------------------------------
// Fixtures

#[test]
fn fixture_keys_belong_together() {
    let pkcs8 = merchant_key();
    let pkcs1 = RsaPrivateKey::from_pkcs1_pem(&keys::pem("merchant_key_pkcs1.pem")).unwrap();
    assert_eq!(pkcs8, pkcs1);
    let public = RsaPublicKey::from_public_key_pem(&keys::pem("merchant_public.pem")).unwrap();
    assert_eq!(public, pkcs8.to_public_key());
    let wechatpay = RsaPrivateKey::from_pkcs8_pem(&keys::pem("wechatpay_pub_key_private.pem")).unwrap();
    assert_eq!(wechatpay.to_public_key(), wechatpay_key(keys::PUBLIC_KEY_ID).unwrap());
    for (key, cert) in [
        ("platform_key.pem", "platform_cert.pem"),
        ("platform2_key.pem", "platform2_cert.pem"),
        ("platform_expired_key.pem", "platform_expired_cert.pem"),
    ] {
        let private = RsaPrivateKey::from_pkcs8_pem(&keys::pem(key)).unwrap();
        assert_eq!(private.to_public_key(), cert_public_key(cert), "{key}");
    }
    assert_eq!(keys::APIV3_KEY.len(), 32);
    assert!(keys::PUBLIC_KEY_ID.starts_with("PUB_KEY_ID_"));
}

// ---------------------------------------------------------------------------------------------------
// Faults of the body, redirects, large and truncated bills, misbehaviours on one path

#[tokio::test]
async fn body_faults_cut_drip_bloat_replace_and_forge_the_answer() {
    let (server, merchant) = start().await;
    let path = format!("/v3/pay/transactions/id/1?{MCHID_QUERY}");

    server.misbehave(Misbehaviour::DropMidBody);
    let authorization = merchant.authorization("GET", &path, b"");
    let cut = merchant.try_call_with("GET", &path, b"", Some(&authorization), &[]).await;
    assert!(cut.is_err(), "the body stops short of its Content-Length");

    server.misbehave(Misbehaviour::Drip { chunk: 200, pause: Duration::from_millis(40) });
    let started = Instant::now();
    let answer = get_transaction(&merchant).await;
    answer.verified();
    let pauses = (answer.body.len() as u32).div_ceil(200) - 1;
    assert!(started.elapsed() >= Duration::from_millis(40) * pauses, "{:?} for {pauses} pauses", started.elapsed());

    server.misbehave(Misbehaviour::Oversized(300_000));
    let answer = get_transaction(&merchant).await;
    assert!(answer.body.len() >= 300_000);
    answer.verified();

    server.misbehave(Misbehaviour::SignedBody(b"{\"other\":1}".to_vec()));
    let answer = get_transaction(&merchant).await;
    assert_eq!(answer.body, b"{\"other\":1}");
    answer.verified();

    server.misbehave(Misbehaviour::ForgedBody(b"{\"other\":1}".to_vec()));
    let answer = get_transaction(&merchant).await;
    assert_eq!(verify(&answer.headers, &answer.body, now()), Err(Reject::BadSignature));

    server.misbehave(Misbehaviour::HtmlPage(http::StatusCode::OK));
    let answer = get_transaction(&merchant).await;
    assert_eq!(answer.status, 200);
    assert!(answer.header("Wechatpay-Signature").is_none() && String::from_utf8_lossy(&answer.body).contains("<html>"));
}

#[tokio::test]
async fn a_redirect_is_an_unsigned_302_with_its_location() {
    let (server, merchant) = start().await;
    let merchant = Merchant {
        http: reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        ..merchant
    };
    server.misbehave(Misbehaviour::Redirect("https://elsewhere.example/v3".into()));
    let answer = get_transaction(&merchant).await;
    assert_eq!(answer.status, 302);
    assert_eq!(answer.header("Location"), Some("https://elsewhere.example/v3"));
    assert!(answer.header("Wechatpay-Signature").is_none());
}

#[tokio::test]
async fn large_bills_are_generated_to_size_and_hashed_and_truncation_halves_them() {
    let (server, merchant) = start().await;
    server.bill_size(Some(1 << 20));
    let (hash, bytes, download) = bill(&merchant, "/v3/bill/tradebill?bill_date=2026-11-22").await;
    assert_eq!(download.header("Content-Length"), Some(bytes.len().to_string().as_str()));
    assert!(bytes.len() > (1 << 20) - 8192 && bytes.len() <= 1 << 20, "{}", bytes.len());
    assert_eq!(hex(&Sha1::digest(&bytes)), hash);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("交易时间,") && text.contains("总交易单数"));

    server.truncate_bill(true);
    let (hash, truncated, _) = bill(&merchant, "/v3/bill/tradebill?bill_date=2026-11-22").await;
    assert_eq!(truncated.len(), bytes.len() / 2);
    assert_ne!(hex(&Sha1::digest(&truncated)), hash);
}

#[tokio::test]
async fn a_misbehaviour_on_a_path_applies_to_that_path_until_cleared_and_the_queue_skips_certificates() {
    let (server, merchant) = start().await;
    server.misbehave_on("/v3/certificates", Some(Misbehaviour::ServerError));
    server.misbehave(Misbehaviour::BadSignature);
    for _ in 0..2 {
        assert_eq!(merchant.call("GET", "/v3/certificates", b"").await.status, 500);
    }
    let queued = get_transaction(&merchant).await;
    assert_eq!(verify(&queued.headers, &queued.body, now()), Err(Reject::BadSignature), "the queue was kept for it");
    server.misbehave_on("/v3/certificates", None);
    server.misbehave_always(Some(Misbehaviour::ServerError));
    assert_eq!(merchant.call("GET", "/v3/certificates", b"").await.status, 200, "certificates escape `always`");
    assert_eq!(get_transaction(&merchant).await.status, 500);
}

// ---------------------------------------------------------------------------------------------------
// National cryptography (国密): an SM2 merchant written here with RustCrypto's `sm2`, `sm3`, `sm4`.

/// A request signed `WECHATPAY2-SM2-WITH-SM3` by the fixture SM2 merchant is accepted, an answer by
/// `Signer::Sm2PublicKey` is an SM2 signature the SM2 public key verifies, and its notifications
/// open with SM4-GCM under the first 16 bytes of the APIv3 key's SM3.
#[tokio::test]
async fn an_sm2_merchant_is_verified_answered_with_sm2_and_notified_with_sm4_gcm() {
    use sm2::dsa::signature::{Signer as _, Verifier as _};
    use sm2::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
    use sm3::Digest as _;

    const SIGNER_ID: &str = "1234567812345678";
    let server = Sandbox::start(Config { signer: Signer::Sm2PublicKey, ..crate::fixtures::config() })
        .await
        .expect("sandbox starts");
    let merchant = Merchant::new(&server);
    let secret = sm2::SecretKey::from_pkcs8_pem(&keys::pem("sm2/merchant_key.pem")).expect("sm2/merchant_key.pem");
    let signing = sm2::dsa::SigningKey::new(SIGNER_ID, &secret).expect("an SM2 signing key");
    let path = format!("/v3/pay/transactions/id/1?{MCHID_QUERY}");
    let (timestamp, nonce) = (now(), fresh_nonce());
    let message = format!("GET\n{path}\n{timestamp}\n{nonce}\n\n");
    let signature: sm2::dsa::Signature = signing.sign(message.as_bytes());
    let authorization = format!(
        "WECHATPAY2-SM2-WITH-SM3 mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
        keys::MERCHANT_ID,
        BASE64.encode(signature.to_der().to_vec()),
        keys::MERCHANT_SERIAL
    );

    let answer = merchant.call_with("GET", &path, b"", Some(&authorization), &[]).await;

    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.header("Wechatpay-Serial"), Some(keys::SM2_PUBLIC_KEY_ID));
    assert_eq!(answer.header("Wechatpay-Signature-Type"), Some("WECHATPAY2-SM2-WITH-SM3"));
    let public = sm2::PublicKey::from_public_key_pem(&keys::pem("sm2/wechatpay_pub_key.pem")).expect("SM2 public key");
    let verifying = sm2::dsa::VerifyingKey::new(SIGNER_ID, public).expect("an SM2 verifying key");
    let mut signed =
        format!("{}\n{}\n", answer.header("Wechatpay-Timestamp").unwrap(), answer.header("Wechatpay-Nonce").unwrap())
            .into_bytes();
    signed.extend_from_slice(&answer.body);
    signed.push(b'\n');
    let der = BASE64.decode(answer.header("Wechatpay-Signature").unwrap()).expect("Base64");
    let signature = sm2::dsa::Signature::from_der(&der).expect("a DER SM2 signature");
    verifying.verify(&signed, &signature).expect("the answer's SM2 signature verifies");

    // An RSA-signed request still passes: the scheme picks the merchant key that verifies it.
    assert_eq!(get_transaction(&merchant).await.status, 200);

    let payload = json!({ "out_trade_no": "SM4-1" });
    let (_, body) = server.notification("TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::None);
    let envelope: Value = serde_json::from_slice(&body).expect("JSON");
    let resource = &envelope["resource"];
    assert_eq!(resource["algorithm"], "AEAD_SM4_GCM");
    let key = sm3::Sm3::digest(keys::APIV3_KEY.as_bytes());
    let cipher = aes_gcm::AesGcm::<sm4::Sm4, aes_gcm::aes::cipher::consts::U12>::new_from_slice(&key[..16]).unwrap();
    let plain = cipher
        .decrypt(
            Nonce::from_slice(resource["nonce"].as_str().unwrap().as_bytes()),
            Payload {
                msg: &BASE64.decode(resource["ciphertext"].as_str().unwrap()).unwrap(),
                aad: resource["associated_data"].as_str().unwrap().as_bytes(),
            },
        )
        .expect("opens with SM4-GCM");
    assert_eq!(serde_json::from_slice::<Value>(&plain).unwrap(), payload);
}

// ---------------------------------------------------------------------------------------------------
// HTTPS and mutual TLS

/// An HTTP client trusting only the sandbox CA, presenting `identity` (certificate, key) if given.
fn https_client(server: &Sandbox, identity: Option<(&str, &str)>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(server.keys().ca_certificate_pem().as_bytes()).expect("the sandbox CA");
    let mut builder = reqwest::Client::builder().no_proxy().tls_certs_only([ca]);
    if let Some((certificate, key)) = identity {
        let pem = format!("{certificate}{key}");
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
    }
    builder.build().expect("client")
}

/// A refund of a v2 order, unsigned: its page says `security`, so the certificate is checked
/// before anything else.
async fn post_v2_refund(http: &reqwest::Client, base: &str) -> reqwest::Result<String> {
    let body = format!(
        "<xml><appid>wxd678efh567hg6787</appid><mch_id>{}</mch_id><nonce_str>n1</nonce_str>\
         <out_trade_no>1217752501201407033233368018</out_trade_no><out_refund_no>R1</out_refund_no>\
         <total_fee>100</total_fee><refund_fee>100</refund_fee><sign>0</sign></xml>",
        keys::MERCHANT_ID
    );
    http.post(format!("{base}secapi/pay/refund")).body(body).send().await?.text().await
}

#[tokio::test]
async fn https_answers_apiv3_without_a_client_certificate_and_its_connections_can_be_cut() {
    let (server, mut merchant) = start().await;
    assert!(server.tls_base_url().starts_with("https://127.0.0.1:"), "{}", server.tls_base_url());
    assert_ne!(server.tls_base_url(), server.base_url().replace("http:", "https:"), "a port of its own");
    merchant.http = https_client(&server, None);
    merchant.base = server.tls_base_url();
    let answer = get_transaction(&merchant).await;
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.verified(), keys::PLATFORM_SERIAL);

    server.misbehave(Misbehaviour::DropConnection);
    let path = format!("/v3/pay/transactions/id/1?{MCHID_QUERY}");
    let authorization = merchant.authorization("GET", &path, b"");
    let result = merchant.try_call_with("GET", &path, b"", Some(&authorization), &[]).await;
    assert!(result.is_err(), "expected a transport error over TLS too");
    assert_eq!(get_transaction(&merchant).await.status, 200);
}

#[tokio::test]
async fn a_security_v2_call_needs_https_and_the_merchants_client_certificate() {
    let (server, _) = start().await;
    let keys = server.keys();
    let refused = |answer: &str, says: &str| {
        assert!(answer.contains("<return_code><![CDATA[FAIL]]></return_code>"), "{answer}");
        assert!(answer.contains(&format!("CA_ERROR: {says}")), "{answer}");
    };
    let plain = reqwest::Client::builder().no_proxy().build().unwrap();
    refused(
        &post_v2_refund(&plain, &server.base_url()).await.unwrap(),
        "this operation needs the merchant API certificate",
    );
    let anonymous = https_client(&server, None);
    refused(&post_v2_refund(&anonymous, &server.tls_base_url()).await.unwrap(), "the request carries no");
    let other = keys.issue_client_certificate("1900000999").unwrap();
    let other = https_client(&server, Some((&other, keys.merchant_key_pem())));
    refused(
        &post_v2_refund(&other, &server.tls_base_url()).await.unwrap(),
        "the merchant API certificate is merchant 1900000999's, not the request's 1900000109",
    );
    // The merchant's own certificate passes; the (unsigned) request then fails its signature.
    let merchant = https_client(&server, Some((keys.client_certificate_pem(), keys.merchant_key_pem())));
    let answer = post_v2_refund(&merchant, &server.tls_base_url()).await.unwrap();
    assert!(!answer.contains("CA_ERROR") && answer.contains("the signature does not verify"), "{answer}");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn the_merchants_client_certificate_is_the_sandbox_cas_with_the_merchant_id_and_serial() {
    let (server, _) = start().await;
    let keys = server.keys();
    let certificate = x509_cert::Certificate::from_pem(keys.client_certificate_pem().as_bytes()).unwrap();
    let ca = x509_cert::Certificate::from_pem(keys.ca_certificate_pem().as_bytes()).unwrap();
    let tbs = &certificate.tbs_certificate;
    assert_eq!(tbs.issuer, ca.tbs_certificate.subject);
    assert!(tbs.subject.to_string().contains(&format!("CN={}", keys::MERCHANT_ID)), "{}", tbs.subject);
    assert_eq!(hex(tbs.serial_number.as_bytes()).to_uppercase(), keys::MERCHANT_SERIAL);
    let public = RsaPublicKey::from_public_key_pem(keys.merchant_public_key_pem()).unwrap();
    let spki = rsa::pkcs8::EncodePublicKey::to_public_key_der(&public).unwrap();
    assert_eq!(tbs.subject_public_key_info.to_der().unwrap(), spki.as_bytes(), "for the merchant's key");
}

#[tokio::test]
async fn a_client_certificate_the_sandbox_ca_did_not_issue_fails_the_handshake() {
    let (server, _) = start().await;
    // The platform certificate is self-signed: no merchant's API certificate.
    let stranger = https_client(&server, Some((&keys::pem("platform_cert.pem"), &keys::pem("platform_key.pem"))));
    assert!(post_v2_refund(&stranger, &server.tls_base_url()).await.is_err());
    assert!(server.requests().is_empty());
}

#[test]
fn a_keys_folder_without_the_tls_files_loads_and_gets_them() {
    let dir = std::env::temp_dir().join(format!("wechatpay-sandbox-selftest-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys");
    for entry in std::fs::read_dir(&fixtures).unwrap().flatten() {
        let name = entry.file_name();
        if entry.path().is_file() && name != wechatpay_sdk_sandbox::CLIENT_CERTIFICATE_FILE {
            std::fs::copy(entry.path(), dir.join(&name)).unwrap();
        }
    }
    let loaded = wechatpay_sdk_sandbox::Keys::load(&dir).expect("a folder from before TLS loads");
    assert!(!dir.join(wechatpay_sdk_sandbox::CA_FILE).exists(), "load writes nothing");
    let written = wechatpay_sdk_sandbox::Keys::load_or_generate(&dir).expect("loads");
    assert_eq!(written.mchid(), loaded.mchid());
    let again = wechatpay_sdk_sandbox::Keys::load(&dir).expect("loads with the TLS files");
    assert_eq!(again.ca_certificate_pem(), written.ca_certificate_pem(), "the CA is kept");
    assert_eq!(again.client_certificate_pem(), written.client_certificate_pem());
    let _ = std::fs::remove_dir_all(&dir);
}

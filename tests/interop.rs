//! Interop with real peers: what this crate signs, encrypts and seals is accepted by the Node SDK
//! (npm `wechatpay-axios-plugin`) and the Python SDK (PyPI `wechatpayv3`), and what they make is
//! accepted by this crate.
//!
//! The peers run as small driver scripts (`tests/interop/peer.js`, `tests/interop/peer.py`) that take
//! one JSON request on stdin and answer JSON on stdout, calling only the peers' own functions. The
//! peers are installed by `.ci/install-peers` into `.ci/peers/`. A test whose peer (or its runtime) is
//! missing prints why and passes; a peer that is installed and disagrees fails the test.

#[path = "fixtures/keys.rs"]
#[allow(dead_code)] // Shared with the sandbox; this file needs only some of the identifiers.
mod keys;
#[path = "interop/peers.rs"]
mod peers;

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Value};
use wechatpay::keys::nonce;
use wechatpay::notify::Event;
use wechatpay::v3::pay::transactions::id::by_transaction_id;
use wechatpay::v3::pay::transactions::jsapi;
use wechatpay::{ApiV3Key, Client, Error, MerchantKey, Notifications, NotifyError, PlatformCertificate, PublicKey};
use wechatpay::{VerifyError, WechatpayKeys};

use keys::{key_path, APIV3_KEY, MERCHANT_ID, MERCHANT_SERIAL, PLATFORM_SERIAL, PUBLIC_KEY_ID};
use peers::{root, Peer};

// ---------------------------------------------------------------------------------------------
// Shared material
// ---------------------------------------------------------------------------------------------

fn merchant_key() -> MerchantKey {
    MerchantKey::from_pem(&keys::pem("merchant_key.pem")).unwrap()
}

/// What a merchant in the middle of a switchover trusts: the public key and the platform certificate.
fn wechatpay_keys() -> WechatpayKeys {
    let keys = WechatpayKeys::with_public_key(
        PUBLIC_KEY_ID,
        PublicKey::from_pem(&keys::pem("wechatpay_pub_key.pem")).unwrap(),
    );
    keys.add_certificates([PlatformCertificate::from_pem(&keys::pem("platform_cert.pem")).unwrap()]);
    keys
}

/// The WeChat Pay signers a peer can play: (private key file, `Wechatpay-Serial`).
const SIGNERS: [(&str, &str); 2] =
    [("wechatpay_pub_key_private.pem", PUBLIC_KEY_ID), ("platform_key.pem", PLATFORM_SERIAL)];

/// A paid JSAPI transaction: the query response body and the `TRANSACTION.SUCCESS` payload.
fn transaction() -> String {
    std::fs::read_to_string(root().join("tests/interop/transaction.json")).unwrap()
}

/// A typical JSAPI prepay request, built with the generated builder.
fn jsapi_request() -> jsapi::post::RequestBuilder {
    jsapi::post::Request::builder()
        .appid("wxd678efh567hg6787")
        .mchid(MERCHANT_ID)
        .description("Image形象店-深圳腾大-QQ公仔")
        .out_trade_no("1217752501201407033233368018")
        .notify_url("https://www.weixin.qq.com/wxpay/pay.php")
        .amount(jsapi::post::Amount::builder().total(100).currency("CNY"))
}

/// Its body, as the generated type serialises it.
fn jsapi_body() -> String {
    let request = jsapi_request().payer(jsapi::post::Payer::builder().openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"));
    wechatpay::runtime::ToJson::to_json(&request.build().unwrap(), &mut wechatpay::runtime::Writing::unsealed())
        .to_string()
}

fn unix_now() -> i64 {
    wechatpay::wechatpay_keys::unix(SystemTime::now())
}

fn header_map(headers: &Value) -> HeaderMap {
    headers
        .as_object()
        .expect("headers object")
        .iter()
        .map(|(name, value)| {
            (HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value.as_str().unwrap()).unwrap())
        })
        .collect()
}

/// The same JSON text with the paid amount changed, as a man in the middle would.
fn tampered(body: &str) -> String {
    let changed = body.replacen("\"total\": 100", "\"total\": 1", 1);
    assert_ne!(changed, body, "the tamper must change the body");
    changed
}

// ---------------------------------------------------------------------------------------------
// 1. Our request signatures verify in the peer
// ---------------------------------------------------------------------------------------------

fn request_signatures_verify_in(peer: &Peer) {
    let merchant = merchant_key();
    let requests = [
        ("POST", "/v3/pay/transactions/jsapi".to_owned(), jsapi_body()),
        ("GET", format!("/v3/pay/transactions/id/4200000985202103031441826014?mchid={MERCHANT_ID}"), String::new()),
    ];
    for (method, uri, body) in requests {
        let (timestamp, nonce) = (unix_now().to_string(), nonce());
        let message = format!("{method}\n{uri}\n{timestamp}\n{nonce}\n{body}\n");
        let signature = merchant.sign(message.as_bytes());
        let verify = |body: &str| {
            peer.call(json!({
                "op": "verify_request", "method": method, "uri": uri, "timestamp": timestamp, "nonce": nonce,
                "body": body, "signature": signature, "public_key": key_path("merchant_public.pem"),
            }))["valid"]
                .clone()
        };
        assert_eq!(verify(&body), json!(true), "{} rejects our signature of {method} {uri}", peer.name);
        assert_eq!(verify(&format!("{body} ")), json!(false), "{} accepts a signature over another body", peer.name);

        // RSASSA-PKCS1-v1_5 is deterministic: the peer signing the same message must get the same bytes.
        let theirs =
            peer.call(json!({ "op": "sign", "message": message, "private_key": key_path("merchant_key.pem") }));
        assert_eq!(theirs["signature"], json!(signature), "{} signs {method} {uri} differently", peer.name);
    }
}

#[test]
fn request_signatures_verify_in_node() {
    if let Some(peer) = Peer::node() {
        request_signatures_verify_in(peer);
    }
}

#[test]
fn request_signatures_verify_in_python() {
    if let Some(peer) = Peer::python() {
        request_signatures_verify_in(peer);
    }
}

/// The front end's payment signatures (JSAPI `paySign`, APP `sign`) are the peer's, byte for byte.
fn pay_signatures_match(peer: &Peer) {
    let key = merchant_key();
    let prepay_id = "wx201410272009395522657a690389285100";
    let (timestamp, nonce_str) = (unix_now(), nonce());
    let jsapi = wechatpay::pay_sign::jsapi_pay_params(&key, "wxd678efh567hg6787", prepay_id, timestamp, &nonce_str);
    let app =
        wechatpay::pay_sign::app_pay_params(&key, "wxd678efh567hg6787", MERCHANT_ID, prepay_id, timestamp, &nonce_str);
    let cases = [
        ("JSAPI paySign", [&jsapi.app_id, &jsapi.time_stamp, &jsapi.nonce_str, &jsapi.package], &jsapi.pay_sign),
        ("APP sign", [&app.appid, &app.timestamp, &app.noncestr, &app.prepayid], &app.sign),
    ];
    for (what, lines, ours) in cases {
        let theirs = peer.call(json!({
            "op": "pay_sign", "lines": lines, "private_key": key_path("merchant_key.pem"), "config": python_config(),
        }));
        assert_eq!(&theirs["signature"], ours, "{what} differs from {}'s", peer.name);
    }
}

#[test]
fn pay_signatures_match_node() {
    if let Some(peer) = Peer::node() {
        pay_signatures_match(peer);
    }
}

#[test]
fn pay_signatures_match_python() {
    if let Some(peer) = Peer::python() {
        pay_signatures_match(peer);
    }
}

// ---------------------------------------------------------------------------------------------
// 1 and 2 through the client: a round trip against WeChat Pay played by the peer
// ---------------------------------------------------------------------------------------------

/// A request as it reached the stand-in server.
struct Captured {
    method: String,
    uri: String,
    headers: HeaderMap,
    body: String,
}

/// WeChat Pay on 127.0.0.1, answering each path with a body and the headers the peer signed it with.
#[derive(Default)]
struct StandIn {
    answers: Vec<(&'static str, String, Value)>,
    captured: Mutex<Vec<Captured>>,
}

impl StandIn {
    /// Answers `path` (without query) with `body` under `headers`.
    fn answer(mut self, path: &'static str, body: String, headers: Value) -> Self {
        self.answers.push((path, body, headers));
        self
    }

    /// Serves on an ephemeral port; the base URL to give the client.
    async fn start(self) -> (String, Arc<StandIn>) {
        let stand_in = Arc::new(self);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(Self::handle).with_state(stand_in.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, stand_in)
    }

    async fn handle(State(stand_in): State<Arc<StandIn>>, request: Request) -> Response {
        let (parts, body) = request.into_parts();
        let body = String::from_utf8(axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec()).unwrap();
        let answer = stand_in.answers.iter().find(|(path, ..)| *path == parts.uri.path());
        stand_in.captured.lock().unwrap().push(Captured {
            method: parts.method.to_string(),
            uri: parts.uri.to_string(),
            headers: parts.headers,
            body,
        });
        match answer {
            Some((_, body, headers)) => {
                let mut headers = header_map(headers);
                headers.insert("content-type", HeaderValue::from_static("application/json"));
                headers.insert("request-id", HeaderValue::from_static("08F78BB5AF0610D302839C8A1A2C6E5B"));
                (headers, body.clone()).into_response()
            }
            None => {
                (http::StatusCode::NOT_FOUND, "{\"code\":\"NOT_FOUND\",\"message\":\"no such route\"}").into_response()
            }
        }
    }
}

/// Our client sends a JSAPI prepay (with sensitive fields) and a query to WeChat Pay played by the
/// peer: the peer verifies the `Authorization` headers the client produced and decrypts the fields it
/// encrypted; the client accepts the answers the peer signed, and rejects one altered after signing.
async fn client_round_trip_with(peer: &Peer, (private_key, serial): (&str, &str)) {
    const TRANSACTION_ID: &str = "4200000985202103031441826014";
    const TAMPERED_ID: &str = "4200000985202103031441829999";
    let prepay = r#"{"prepay_id":"wx201410272009395522657a690389285100"}"#.to_owned();
    let sign = |body: &str| {
        peer.call(json!({
            "op": "sign_response", "body": body, "private_key": key_path(private_key), "serial": serial,
            "config": python_config(),
        }))["headers"]
            .clone()
    };
    let (base_url, stand_in) = StandIn::default()
        .answer("/v3/pay/transactions/jsapi", prepay.clone(), sign(&prepay))
        .answer("/v3/pay/transactions/id/4200000985202103031441826014", transaction(), sign(&transaction()))
        .answer("/v3/pay/transactions/id/4200000985202103031441829999", tampered(&transaction()), sign(&transaction()))
        .start()
        .await;
    let client = Client::builder(MERCHANT_ID, MERCHANT_SERIAL, merchant_key())
        .wechatpay_public_key(PUBLIC_KEY_ID, PublicKey::from_pem(&keys::pem("wechatpay_pub_key.pem")).unwrap())
        .platform_certificates([PlatformCertificate::from_pem(&keys::pem("platform_cert.pem")).unwrap()])
        .base_url(base_url)
        .build()
        .unwrap();

    let identity = jsapi::post::Identity::builder().r#type("IDCARD").name(SENSITIVE[0]).number(SENSITIVE[1]);
    let payer = jsapi::post::Payer::builder().openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o").identity(identity);
    let prepaid = client.send(jsapi_request().payer(payer).build().unwrap()).await;
    let prepaid = prepaid.unwrap_or_else(|error| panic!("our client rejects an answer {} signed: {error}", peer.name));
    assert_eq!(prepaid.prepay_id, "wx201410272009395522657a690389285100");

    let query =
        |id: &str| by_transaction_id::get::Request::builder().transaction_id(id).mchid(MERCHANT_ID).build().unwrap();
    let paid = client.send(query(TRANSACTION_ID)).await;
    let paid = serde_json::to_value(
        paid.unwrap_or_else(|error| panic!("our client rejects {}'s answer: {error}", peer.name)).into_inner(),
    );
    assert_eq!(paid.unwrap()["amount"]["total"], 100);
    let tampered = client.send(query(TAMPERED_ID)).await;
    assert!(
        matches!(tampered, Err(Error::Verify { source: VerifyError::BadSignature { .. }, .. })),
        "an answer altered after {} signed it: {tampered:?}",
        peer.name,
    );

    let captured = stand_in.captured.lock().unwrap();
    assert!(captured.len() >= 3, "the stand-in saw {} requests", captured.len());
    for request in captured.iter() {
        let authorization = request.headers["authorization"].to_str().unwrap();
        let verified = peer.call(json!({
            "op": "verify_authorization", "authorization": authorization, "method": request.method, "uri": request.uri,
            "body": request.body, "public_key": key_path("merchant_public.pem"),
        }));
        assert_eq!(
            verified["valid"],
            json!(true),
            "{} rejects our client's {} {}: {authorization}",
            peer.name,
            request.method,
            request.uri
        );
        assert_eq!(verified["params"]["mchid"], MERCHANT_ID);
        assert_eq!(verified["params"]["serial_no"], MERCHANT_SERIAL);
    }

    // The sensitive fields travel encrypted for the key `Wechatpay-Serial` names, which the peer decrypts.
    let post = captured.iter().find(|request| request.method == "POST").expect("the prepay request");
    assert_eq!(post.headers["wechatpay-serial"], PUBLIC_KEY_ID);
    let sent: Value = serde_json::from_str(&post.body).unwrap();
    for (field, plaintext) in [("name", SENSITIVE[0]), ("number", SENSITIVE[1])] {
        let ciphertext = &sent["payer"]["identity"][field];
        assert_ne!(ciphertext, plaintext, "payer.identity.{field} sent in clear");
        let decrypted = peer.call(json!({
            "op": "rsa_decrypt", "ciphertext": ciphertext, "private_key": key_path("wechatpay_pub_key_private.pem"),
        }));
        assert_eq!(decrypted["plaintext"], plaintext, "payer.identity.{field} as {} decrypts it", peer.name);
    }
}

#[tokio::test]
async fn our_client_round_trips_with_node() {
    if let Some(peer) = Peer::node() {
        for signer in SIGNERS {
            client_round_trip_with(peer, signer).await;
        }
    }
}

#[tokio::test]
async fn our_client_round_trips_with_python() {
    if let Some(peer) = Peer::python() {
        client_round_trip_with(peer, SIGNERS[0]).await;
    }
}

// ---------------------------------------------------------------------------------------------
// 2. The peer's signed responses verify in ours
// ---------------------------------------------------------------------------------------------

fn peer_signed_responses_verify_in_ours(peer: &Peer, signers: &[(&str, &str)]) {
    let keys = wechatpay_keys();
    let body = transaction();
    for &(private_key, serial) in signers {
        let signed = peer.call(json!({
            "op": "sign_response", "body": body, "private_key": key_path(private_key), "serial": serial,
            "config": python_config(),
        }));
        let headers = header_map(&signed["headers"]);
        let verified = keys
            .verify(&headers, body.as_bytes(), SystemTime::now())
            .unwrap_or_else(|error| panic!("a response {} signed as {serial} is rejected: {error}", peer.name));
        assert_eq!(verified.serial, serial);

        // Deserialised into the generated type, the fields the merchant reads come through.
        let response: by_transaction_id::get::Response = serde_json::from_str(&body).unwrap();
        let response = serde_json::to_value(response).unwrap();
        assert_eq!(response["transaction_id"], "4200000985202103031441826014");
        assert_eq!(response["trade_state"], "SUCCESS");
        assert_eq!(response["amount"]["total"], 100);

        assert_eq!(
            keys.verify(&headers, tampered(&body).as_bytes(), SystemTime::now()),
            Err(VerifyError::BadSignature { serial: serial.to_owned() }),
            "a tampered body signed by {} is accepted",
            peer.name,
        );
    }
}

#[test]
fn node_signed_responses_verify_in_ours() {
    if let Some(peer) = Peer::node() {
        peer_signed_responses_verify_in_ours(peer, &SIGNERS);
    }
}

#[test]
fn python_signed_responses_verify_in_ours() {
    // The Python peer checks its own signature with its client (`Core`), which it can configure
    // offline with a WeChat Pay public key only (a certificate it would download).
    if let Some(peer) = Peer::python() {
        peer_signed_responses_verify_in_ours(peer, &SIGNERS[..1]);
    }
}

/// The Python peer's `Core` configuration: the merchant, the APIv3 key and the WeChat Pay public key.
fn python_config() -> Value {
    json!({
        "mchid": MERCHANT_ID, "serial": MERCHANT_SERIAL, "private_key": key_path("merchant_key.pem"),
        "apiv3_key": APIV3_KEY, "public_key": key_path("wechatpay_pub_key.pem"), "public_key_id": PUBLIC_KEY_ID,
    })
}

// ---------------------------------------------------------------------------------------------
// 3. Notifications made by the peer are accepted and typed
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn node_notifications_are_accepted_and_typed() {
    let Some(node) = Peer::node() else { return };
    let notifications = Notifications::new(wechatpay_keys(), ApiV3Key::new(APIV3_KEY).unwrap());
    for (private_key, serial) in SIGNERS {
        let made = node.call(json!({
            "op": "notification", "event_type": "TRANSACTION.SUCCESS", "payload": transaction(),
            "associated_data": "transaction", "apiv3_key": APIV3_KEY, "private_key": key_path(private_key), "serial": serial,
        }));
        let headers = header_map(&made["headers"]);
        let body = made["body"].as_str().unwrap();

        let notification = notifications
            .open(&headers, body.as_bytes())
            .await
            .unwrap_or_else(|error| panic!("a notification from node signed as {serial} is rejected: {error}"));
        assert_eq!(notification.event_type, "TRANSACTION.SUCCESS");
        assert_eq!(notification.verified.serial, serial);
        let Event::TransactionSuccess(payment) = notification.event else {
            panic!("not typed as TRANSACTION.SUCCESS: {:?}", notification.event)
        };
        assert_eq!(payment.transaction_id.as_deref(), Some("4200000985202103031441826014"));
        assert_eq!(payment.out_trade_no, "1217752501201407033233368018");
        assert_eq!((payment.amount.total, payment.amount.payer_total), (100, Some(90)));
        assert_eq!(
            payment.payer.as_ref().and_then(|payer| payer.openid.as_deref()),
            Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        );

        let forged = body.replace("TRANSACTION.SUCCESS", "REFUND.SUCCESS");
        assert!(
            matches!(
                notifications.open(&headers, forged.as_bytes()).await,
                Err(NotifyError::Verify(VerifyError::BadSignature { .. }))
            ),
            "a notification altered after node signed it is accepted"
        );
    }
}

/// The Python peer cannot encrypt with AES-GCM (it only receives notifications), so the direction that
/// can be tested is the other one: a notification sealed and signed by this crate, as WeChat Pay would,
/// is accepted and decrypted by the peer's `Core.callback`.
#[test]
fn python_accepts_notifications_sealed_by_us() {
    let Some(python) = Peer::python() else { return };
    let payload = transaction();
    let resource_nonce = &nonce()[..12];
    let ciphertext =
        ApiV3Key::new(APIV3_KEY).unwrap().encrypt(resource_nonce, "transaction", payload.as_bytes()).unwrap();
    let body = json!({
        "id": "EV-2018022511223320873", "create_time": "2015-05-20T13:29:35+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {
            "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM", "ciphertext": ciphertext,
            "associated_data": "transaction", "nonce": resource_nonce,
        },
    })
    .to_string();
    // WeChat Pay's side of the signature: its private key signs `TIMESTAMP\nNONCE\nBODY\n`.
    let wechatpay = MerchantKey::from_pem(&keys::pem("wechatpay_pub_key_private.pem")).unwrap();
    let (timestamp, header_nonce) = (unix_now().to_string(), nonce());
    let headers = |body: &str| {
        json!({
            "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": header_nonce, "Wechatpay-Serial": PUBLIC_KEY_ID,
            "Wechatpay-Signature": wechatpay.sign(format!("{timestamp}\n{header_nonce}\n{body}\n").as_bytes()),
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        })
    };

    let accepted =
        python.call(json!({ "op": "callback", "headers": headers(&body), "body": body, "config": python_config() }));
    assert_eq!(accepted["accepted"], json!(true), "python rejects our notification: {accepted}");
    let expected: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(accepted["notification"]["resource"], expected);

    let forged = body.replace("TRANSACTION.SUCCESS", "REFUND.SUCCESS");
    let rejected =
        python.call(json!({ "op": "callback", "headers": headers(&body), "body": forged, "config": python_config() }));
    assert_eq!(rejected["accepted"], json!(false), "python accepts a notification altered after signing");
}

// ---------------------------------------------------------------------------------------------
// 4. RSA-OAEP (SHA-1) both ways
// ---------------------------------------------------------------------------------------------

/// Sensitive values as they travel: a name and an id card number.
const SENSITIVE: [&str; 2] = ["张三", "330821199809085211"];

/// The WeChat Pay encryption keys we hold, with the private key the peer decrypts with.
fn wechatpay_encryption_keys() -> [(&'static str, PublicKey, &'static str); 2] {
    [
        (
            PUBLIC_KEY_ID,
            PublicKey::from_pem(&keys::pem("wechatpay_pub_key.pem")).unwrap(),
            "wechatpay_pub_key_private.pem",
        ),
        (
            PLATFORM_SERIAL,
            PlatformCertificate::from_pem(&keys::pem("platform_cert.pem")).unwrap().key,
            "platform_key.pem",
        ),
    ]
}

fn oaep_from_us_decrypts_in(peer: &Peer) {
    for (id, public, private_key) in wechatpay_encryption_keys() {
        for plaintext in SENSITIVE {
            let ciphertext = public.encrypt(plaintext).unwrap();
            let decrypted = peer
                .call(json!({ "op": "rsa_decrypt", "ciphertext": ciphertext, "private_key": key_path(private_key) }));
            assert_eq!(decrypted["plaintext"], json!(plaintext), "{} decrypts our OAEP for {id} wrongly", peer.name);
        }
    }
}

fn oaep_from_peer_decrypts_in_ours(peer: &Peer) {
    let merchant = merchant_key();
    for plaintext in SENSITIVE {
        let encrypted = peer.call(
            json!({ "op": "rsa_encrypt", "plaintext": plaintext, "public_key": key_path("merchant_public.pem") }),
        );
        let ciphertext = encrypted["ciphertext"].as_str().unwrap();
        assert_eq!(merchant.decrypt(ciphertext).as_deref(), Ok(plaintext), "{}'s OAEP ciphertext", peer.name);
    }
}

#[test]
fn oaep_from_us_decrypts_in_node() {
    if let Some(peer) = Peer::node() {
        oaep_from_us_decrypts_in(peer);
    }
}

#[test]
fn oaep_from_node_decrypts_in_ours() {
    if let Some(peer) = Peer::node() {
        oaep_from_peer_decrypts_in_ours(peer);
    }
}

#[test]
fn oaep_from_us_decrypts_in_python() {
    let Some(peer) = Peer::python() else { return };
    oaep_from_us_decrypts_in(peer);
    // A response field WeChat Pay encrypted for the merchant, decrypted by the peer's client (`Core.decrypt`).
    let ciphertext = merchant_key().public_key().encrypt(SENSITIVE[0]).unwrap();
    let decrypted = peer.call(json!({ "op": "merchant_decrypt", "ciphertext": ciphertext, "config": python_config() }));
    assert_eq!(decrypted["plaintext"], json!(SENSITIVE[0]));
}

#[test]
fn oaep_from_python_decrypts_in_ours() {
    if let Some(peer) = Peer::python() {
        oaep_from_peer_decrypts_in_ours(peer);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. AEAD_AES_256_GCM both ways
// ---------------------------------------------------------------------------------------------

/// (nonce, associated data, plaintext): a notification resource, a certificate (AAD may be empty).
fn aes_cases() -> [(&'static str, &'static str, String); 2] {
    [("fdasflkja484", "transaction", transaction()), ("d215b0511e9c", "", keys::pem("platform_cert.pem"))]
}

fn aes_gcm_from_us_decrypts_in(peer: &Peer) {
    let key = ApiV3Key::new(APIV3_KEY).unwrap();
    for (nonce, associated_data, plaintext) in aes_cases() {
        let ciphertext = key.encrypt(nonce, associated_data, plaintext.as_bytes()).unwrap();
        let decrypted = peer.call(json!({
            "op": "aes_decrypt", "ciphertext": ciphertext, "key": APIV3_KEY, "nonce": nonce, "associated_data": associated_data,
        }));
        assert_eq!(decrypted["plaintext"], json!(plaintext), "{} decrypts our AES-GCM wrongly", peer.name);
    }
}

#[test]
fn aes_gcm_from_us_decrypts_in_node() {
    if let Some(peer) = Peer::node() {
        aes_gcm_from_us_decrypts_in(peer);
    }
}

#[test]
fn aes_gcm_from_us_decrypts_in_python() {
    if let Some(peer) = Peer::python() {
        aes_gcm_from_us_decrypts_in(peer);
    }
}

#[test]
fn aes_gcm_from_node_decrypts_in_ours() {
    let Some(peer) = Peer::node() else { return };
    let key = ApiV3Key::new(APIV3_KEY).unwrap();
    for (nonce, associated_data, plaintext) in aes_cases() {
        let encrypted = peer.call(json!({
            "op": "aes_encrypt", "plaintext": plaintext, "key": APIV3_KEY, "nonce": nonce, "associated_data": associated_data,
        }));
        let ciphertext = encrypted["ciphertext"].as_str().unwrap();
        assert_eq!(key.decrypt(nonce, associated_data, ciphertext).unwrap(), plaintext.as_bytes());
        assert!(key.decrypt(nonce, "certificate", ciphertext).is_err(), "another AAD must not decrypt");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. National cryptography (国密): SM2-with-SM3 signatures, SM3, SM4-GCM
// ---------------------------------------------------------------------------------------------

/// The Guomi peers: npm `sm-crypto` (`tests/interop/guomi.js`) and PyPI `gmssl` with
/// `cryptography`'s SM4-GCM (`tests/interop/guomi.py`), installed beside the others.
#[cfg(feature = "guomi")]
mod guomi {
    use std::sync::OnceLock;
    use std::time::SystemTime;

    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    use serde_json::json;
    use sm2::elliptic_curve::sec1::ToSec1Point as _;
    use sm2::pkcs8::DecodePrivateKey as _;
    use wechatpay::keys::{ApiV3Key, AEAD_SM4_GCM};
    use wechatpay::{Client, MerchantKey, PublicKey};

    use super::keys::{self, APIV3_KEY, MERCHANT_ID, MERCHANT_SERIAL};
    use super::Peer;

    fn node() -> Option<&'static Peer> {
        static NODE: OnceLock<Result<Peer, String>> = OnceLock::new();
        Peer::node_driver(&NODE, "node (sm-crypto)", "tests/interop/guomi.js", "sm-crypto/package.json")
    }

    fn python() -> Option<&'static Peer> {
        static PYTHON: OnceLock<Result<Peer, String>> = OnceLock::new();
        Peer::python_driver(&PYTHON, "python (gmssl)", "tests/interop/guomi.py", "gmssl/sm2.py")
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// A fixture SM2 key pair as the peers take it: the private scalar, and the public point
    /// `04‖x‖y` (sm-crypto) or `x‖y` (gmssl).
    fn raw_keys(file: &str) -> (String, String) {
        let secret = sm2::SecretKey::from_pkcs8_pem(&keys::pem(file)).unwrap();
        let point = secret.public_key().to_sec1_point(false);
        (hex(&secret.to_bytes()), hex(point.as_bytes()))
    }

    /// The message of a request signature, as `Client::prepare` signed it, and the signature.
    async fn prepared_request() -> (String, String) {
        let key = MerchantKey::from_pem(&keys::pem("sm2/merchant_key.pem")).unwrap();
        let client = Client::builder(MERCHANT_ID, MERCHANT_SERIAL, key)
            .wechatpay_public_key(
                keys::SM2_PUBLIC_KEY_ID,
                PublicKey::from_pem(&keys::pem("sm2/wechatpay_pub_key.pem")).unwrap(),
            )
            .build()
            .unwrap();
        let query = wechatpay::v3::pay::transactions::id::by_transaction_id::get::Request::builder()
            .transaction_id("4200000985202103031441826014")
            .mchid(MERCHANT_ID)
            .build()
            .unwrap();
        let prepared = client.prepare(&query).await.unwrap();
        let authorization = prepared.headers()["authorization"].to_str().unwrap().to_owned();
        let scheme = "WECHATPAY2-SM2-WITH-SM3 ";
        assert!(authorization.starts_with(scheme), "{authorization}");
        let pair = |name: &str| {
            let start = authorization.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            authorization[start..start + authorization[start..].find('"').unwrap()].to_owned()
        };
        let url = prepared.url();
        let uri = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        (format!("GET\n{uri}\n{}\n{}\n\n", pair("timestamp"), pair("nonce_str")), pair("signature"))
    }

    fn signatures_verify_both_ways(peer: &Peer, public_key: impl Fn(String) -> String) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (message, signature) = runtime.block_on(prepared_request());
        let (_, public) = raw_keys("sm2/merchant_key.pem");
        let verify = |message: &str, signature: &str| {
            peer.call(json!({ "op": "sm2_verify", "message": message, "signature": signature, "public_key": public_key(public.clone()) }))["valid"].clone()
        };
        let der = hex(&BASE64.decode(&signature).unwrap());
        assert_eq!(verify(&message, &der), json!(true), "{} rejects our client's SM2 request signature", peer.name);
        assert_eq!(verify(&format!("{message} "), &der), json!(false), "{} accepts it over another message", peer.name);

        // What WeChat Pay's side signs (the peer playing it) verifies in ours.
        let (wechatpay_private, wechatpay_public) = raw_keys("sm2/wechatpay_pub_key_private.pem");
        let ours = PublicKey::from_pem(&keys::pem("sm2/wechatpay_pub_key.pem")).unwrap();
        let body = super::transaction();
        let timestamp = wechatpay::wechatpay_keys::unix(SystemTime::now());
        let signed = format!("{timestamp}\nnonce-{timestamp}\n{body}\n");
        let theirs = peer.call(json!({
            "op": "sm2_sign", "message": signed, "private_key": wechatpay_private, "public_key": public_key(wechatpay_public),
        }))["signature"]
            .as_str()
            .unwrap()
            .to_owned();
        let theirs = BASE64.encode(
            (0..theirs.len())
                .step_by(2)
                .map(|at| u8::from_str_radix(&theirs[at..at + 2], 16).unwrap())
                .collect::<Vec<u8>>(),
        );
        assert!(ours.verify(signed.as_bytes(), &theirs), "{}'s SM2 signature does not verify in ours", peer.name);
        assert!(!ours.verify(format!("{signed} ").as_bytes(), &theirs));
    }

    fn sm3_agrees(peer: &Peer) {
        for message in ["abc", "", "中文账单,`2024-03-01", &"abcd".repeat(16)] {
            let theirs = peer.call(json!({ "op": "sm3", "message": message }));
            assert_eq!(
                theirs["digest"],
                json!(wechatpay::digest::sm3_hex(message.as_bytes())),
                "{}: SM3 of {message:?}",
                peer.name
            );
        }
    }

    #[test]
    fn sm2_signatures_verify_both_ways_with_node() {
        if let Some(peer) = node() {
            signatures_verify_both_ways(peer, |public| public);
        }
    }

    #[test]
    fn sm2_signatures_verify_both_ways_with_python() {
        if let Some(peer) = python() {
            signatures_verify_both_ways(peer, |public| public[2..].to_owned());
        }
    }

    #[test]
    fn sm3_digests_agree_with_node_and_python() {
        for peer in [node(), python()].into_iter().flatten() {
            sm3_agrees(peer);
        }
    }

    /// A notification resource sealed `AEAD_SM4_GCM` by us opens in the peer (OpenSSL's SM4-GCM
    /// through `cryptography`, its key derived with gmssl's SM3), and the peer's opens in ours.
    #[test]
    fn sm4_gcm_resources_open_both_ways_with_python() {
        let Some(peer) = python() else { return };
        let apiv3_key = ApiV3Key::new(APIV3_KEY).unwrap();
        let sm4_key = hex(&wechatpay::digest::sm3(APIV3_KEY.as_bytes())[..16]);
        let payload = super::transaction();
        let sealed = apiv3_key.seal(AEAD_SM4_GCM, "fdasflkja484", "transaction", payload.as_bytes()).unwrap();
        let opened = peer.call(json!({
            "op": "sm4_gcm_open", "key": sm4_key, "nonce": "fdasflkja484", "associated_data": "transaction",
            "sealed": hex(&BASE64.decode(&sealed).unwrap()),
        }));
        assert_eq!(opened["plaintext"], json!(hex(payload.as_bytes())), "python opens our SM4-GCM: {opened}");
        let theirs = peer.call(json!({
            "op": "sm4_gcm_seal", "key": sm4_key, "nonce": "d215b0511e9c", "associated_data": "certificate",
            "plaintext": hex(keys::pem("sm2/platform_cert.pem").as_bytes()),
        }))["sealed"]
            .as_str()
            .unwrap()
            .to_owned();
        let theirs = BASE64.encode(
            (0..theirs.len())
                .step_by(2)
                .map(|at| u8::from_str_radix(&theirs[at..at + 2], 16).unwrap())
                .collect::<Vec<u8>>(),
        );
        assert_eq!(
            apiv3_key.open(AEAD_SM4_GCM, "d215b0511e9c", "certificate", &theirs).unwrap(),
            keys::pem("sm2/platform_cert.pem").as_bytes()
        );
        assert!(apiv3_key.open(AEAD_SM4_GCM, "d215b0511e9c", "transaction", &theirs).is_err(), "another AAD");
    }
}

// ---------------------------------------------------------------------------------------------
// 7. APIv2: signatures, XML and the refund notification's AES-ECB, both ways, with the Node peer
// ---------------------------------------------------------------------------------------------

const APIV2_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn apiv2_client() -> Client {
    Client::builder(MERCHANT_ID, MERCHANT_SERIAL, merchant_key())
        .apiv2_key(wechatpay::ApiV2Key::new(APIV2_KEY).unwrap())
        .build()
        .unwrap()
}

/// Our APIv2 requests (MD5 and HMAC-SHA256) verify in the peer, which reads our XML too.
#[tokio::test]
async fn node_verifies_our_v2_requests_in_both_algorithms() {
    let Some(peer) = Peer::node() else { return };
    use wechatpay::apiv2::SignType;
    use wechatpay::v2::pay::orderquery::post::Request;
    for sign_type in [SignType::Md5, SignType::HmacSha256] {
        let request = Request::builder()
            .appid("wxd678efh567hg6787")
            .transaction_id("4200000985202103031441826014")
            .out_trade_no("1217752501201407033233368018")
            .sign_type(sign_type.as_str())
            .build()
            .unwrap();
        let prepared = apiv2_client().prepare(&request).await.unwrap();
        let xml = String::from_utf8(prepared.body().and_then(|b| b.as_bytes()).unwrap().to_vec()).unwrap();
        let answer =
            peer.call(json!({ "op": "v2_verify_xml", "xml": xml, "sign_type": sign_type.as_str(), "key": APIV2_KEY }));
        assert_eq!(
            answer["valid"],
            json!(true),
            "{} rejects our {} signature: {answer}",
            peer.name,
            sign_type.as_str()
        );
        assert_eq!(answer["members"]["mch_id"], json!(MERCHANT_ID), "the peer reads our XML");
        let other = peer.call(json!({ "op": "v2_verify_xml", "xml": xml.replace("1217752501201407033233368018", "1"), "sign_type": sign_type.as_str(), "key": APIV2_KEY }));
        assert_eq!(other["valid"], json!(false), "{} accepts an altered request", peer.name);
    }
}

/// What the peer signs and writes (both algorithms) verifies here; the same members give the
/// same signature on both sides.
#[test]
fn node_v2_signatures_verify_in_ours() {
    let Some(peer) = Peer::node() else { return };
    let key = wechatpay::ApiV2Key::new(APIV2_KEY).unwrap();
    let members =
        json!({ "appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "body": "测试 & <test>", "nonce_str": nonce() });
    for sign_type in [wechatpay::apiv2::SignType::Md5, wechatpay::apiv2::SignType::HmacSha256] {
        let theirs = peer
            .call(json!({ "op": "v2_to_xml", "members": members, "sign_type": sign_type.as_str(), "key": APIV2_KEY }));
        let xml = theirs["xml"].as_str().unwrap();
        let parsed = wechatpay::runtime::xml::parse(xml.as_bytes()).unwrap();
        let texts = wechatpay::runtime::xml::text_members(&parsed);
        let sign = texts.iter().find(|(k, _)| *k == "sign").map(|(_, v)| *v).unwrap();
        assert!(
            wechatpay::apiv2::verify(texts.iter().copied(), &key, sign_type, sign),
            "the peer's {} XML does not verify here",
            sign_type.as_str()
        );
        let pairs: Vec<(&str, String)> =
            members.as_object().unwrap().iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap().to_owned())).collect();
        let ours = wechatpay::apiv2::sign(pairs.iter().map(|(k, v)| (*k, v.as_str())), &key, sign_type);
        let direct = peer
            .call(json!({ "op": "v2_sign", "members": members, "sign_type": sign_type.as_str(), "key": APIV2_KEY }));
        assert_eq!(direct["sign"], json!(ours), "{} signs differently", sign_type.as_str());
    }
}

/// A refund notification whose `req_info` the peer sealed opens and types here; ours opens there.
#[test]
fn node_req_info_opens_here_and_ours_there() {
    let Some(peer) = Peer::node() else { return };
    let key = wechatpay::ApiV2Key::new(APIV2_KEY).unwrap();
    let plaintext = "<root><out_refund_no><![CDATA[R-1217]]></out_refund_no><out_trade_no>1217</out_trade_no>\
        <refund_account>REFUND_SOURCE_RECHARGE_FUNDS</refund_account><refund_fee>100</refund_fee><refund_id>50000</refund_id>\
        <refund_status>SUCCESS</refund_status><total_fee>100</total_fee><transaction_id>4200</transaction_id>\
        <cash_refund_fee>100</cash_refund_fee></root>";
    let sealed = peer.call(json!({ "op": "v2_seal_req_info", "plaintext": plaintext, "key": APIV2_KEY }));
    let body = format!(
        "<xml><return_code>SUCCESS</return_code><appid>wx1</appid><mch_id>{MERCHANT_ID}</mch_id><nonce_str>n</nonce_str><req_info><![CDATA[{}]]></req_info></xml>",
        sealed["req_info"].as_str().unwrap()
    );
    let notification =
        wechatpay::apiv2::notify::V2Notifications::new(key.clone()).open("refund-processed", body.as_bytes()).unwrap();
    let wechatpay::webhook::v2::Event::RefundProcessed(refund) = &notification.event else {
        panic!("{:?}", notification.event)
    };
    assert_eq!((refund.out_refund_no.as_str(), refund.refund_fee.as_str()), ("R-1217", "100"));
    let ours = wechatpay::apiv2::notify::seal_req_info(&key, plaintext.as_bytes());
    let opened = peer.call(json!({ "op": "v2_open_req_info", "req_info": ours, "key": APIV2_KEY }));
    assert_eq!(opened["plaintext"], json!(plaintext), "the peer does not open our req_info");
}

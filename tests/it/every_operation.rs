//! Every operation the crate holds goes through the client to the sandbox, which answers
//! each from the IR of `specs/` (`wechatpay_sdk_sandbox::pages`): the request is built from JSON by the
//! registry into the typed `Request`, signed, its sensitive fields encrypted, checked field by
//! field by the server, and the signed answer decoded into the typed response. Every notification
//! type goes the other way: sealed by the server, opened and typed by `Notifications`.

use crate::support::{apiv3_key, public_key_client};
use serde_json::Value;
use wechatpay::notify::Notifications;
use wechatpay::webhook::Event;
use wechatpay_sdk_sandbox::pages as generic;
use wechatpay_sdk_sandbox::{Config, Sandbox, Signer, Tamper};

/// Equal as JSON, reading a string that carries a structure (JSON- or URL-encoded) as that
/// structure: the typed value writes it with its own member order.
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w)),
        (Value::String(x), Value::String(y)) if x != y => {
            let parse = |text: &str| {
                serde_json::from_str::<Value>(text).ok().filter(|v| v.is_object() || v.is_array()).or_else(|| {
                    serde_urlencoded::from_str::<serde_json::Map<String, Value>>(text).ok().map(Value::Object)
                })
            };
            matches!((parse(x), parse(y)), (Some(x), Some(y)) if same(&x, &y))
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A sandbox answering every operation from its page (signed with the public key).
async fn pages_sandbox() -> Sandbox {
    let config = Config {
        signer: Signer::PublicKey,
        answers: wechatpay_sdk_sandbox::Answers::Pages,
        ..crate::fixtures::config()
    };
    Sandbox::start(config).await.expect("sandbox starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_round_trips_through_the_client() {
    let server = pages_sandbox().await;
    let client = public_key_client(&server);
    // APIv3's: APIv2's are sent to the sandbox's APIv2 side (tests/it/v2.rs).
    let operations: Vec<_> = wechatpay::registry::operations()
        .iter()
        .filter(|info| info.protocol == wechatpay::runtime::Protocol::V3)
        .collect();
    assert!(!operations.is_empty(), "the registry is empty: is a feature missing?");
    let mut failures = Vec::new();
    for info in operations.iter().copied() {
        let op = generic::api()
            .operations
            .iter()
            .find(|op| op.path == info.path && op.method.as_str().eq_ignore_ascii_case(info.method))
            .unwrap_or_else(|| panic!("{} {} is in the registry but not in specs/", info.method, info.path));
        let fields = generic::request_json(op, &server.base_url());
        let before = server.requests().len();
        let outcome = async {
            let request = info.request_from_json(fields.clone()).map_err(|e| format!("request_from_json: {e}"))?;
            let reply = client.send_erased(request).await.map_err(|e| format!("send: {e}"))?;
            if !reply.deviations().is_empty() {
                return Err(format!("the answer deviates from its page: {:?}", reply.deviations()));
            }
            let expected = match generic::response_json(op) {
                Some(expected) => expected,
                None if info.response == wechatpay::runtime::ResponseKind::Stream => {
                    Value::String(base64_of(&generic::stream_body(op)))
                }
                None => Value::Null,
            };
            if !same(&reply.clone().into_inner(), &expected) {
                return Err(format!("decoded {} but the server sent {expected}", reply.into_inner()));
            }
            let sent = &server.requests()[before..];
            let [sent] = sent else { return Err(format!("{} requests reached the server", sent.len())) };
            if !sent.authorization_ok {
                return Err("the signature did not verify".into());
            }
            // Every request names the key the client verifies with, so that WeChat Pay signs the
            // answer with it (a merchant switching to the public key).
            let serial = sent.headers.get("Wechatpay-Serial").and_then(|value| value.to_str().ok());
            if serial != Some(crate::fixtures::keys::PUBLIC_KEY_ID) {
                return Err(format!("Wechatpay-Serial is {serial:?}"));
            }
            for (path, plaintext) in &sent.decrypted {
                let name = path.rsplit('.').next().unwrap_or(path).split('[').next().unwrap_or(path);
                if plaintext != &format!("secret {name}") {
                    return Err(format!("`{path}` decrypted to {plaintext:?}"));
                }
            }
            let meta = op.request.multipart.iter().flat_map(|body| body.fields.iter().filter(|f| f.name == "meta"));
            let expected_encrypted = op.request.json.iter().map(|j| count_encrypted(&j.fields)).sum::<usize>()
                + meta.map(|meta| count_encrypted(&meta.children)).sum::<usize>()
                + count_encrypted(&op.request.query)
                + count_encrypted(&op.request.headers);
            if sent.decrypted.len() != expected_encrypted {
                return Err(format!(
                    "{} fields arrived encrypted, {expected_encrypted} expected",
                    sent.decrypted.len()
                ));
            }
            Ok(())
        }
        .await;
        if let Err(error) = outcome {
            failures.push(format!("{} {}: {error}", info.method, info.path));
        }
    }
    let total = operations.len();
    println!("{}/{total} operations round-trip", total - failures.len());
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));
}

/// Encrypted fields a sample request sets (one item per list).
fn count_encrypted(fields: &[xtask::ir::Field]) -> usize {
    fields
        .iter()
        .filter(|f| f.filled.is_none())
        .map(|f| usize::from(f.encrypted == Some(xtask::ir::Encryption::RsaPubkey)) + count_encrypted(&f.children))
        .sum()
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn every_notification_type_is_opened_and_typed() {
    let server = Sandbox::start(Config { signer: Signer::PublicKey, ..crate::fixtures::config() })
        .await
        .expect("sandbox starts");
    let keys = wechatpay::WechatpayKeys::with_public_key(
        crate::fixtures::keys::PUBLIC_KEY_ID,
        crate::support::wechatpay_public_key(),
    );
    let notifications = Notifications::new(keys, apiv3_key());
    let infos = wechatpay::registry::notifications();
    assert!(!infos.is_empty());
    let mut failures = Vec::new();
    for info in infos {
        let payload = generic::payload_json(info.event_type).expect("every registered event type has a page");
        let (headers, body) = server.notification(info.event_type, "encrypt-resource", &payload, Tamper::None);
        let outcome = async {
            let notification = notifications.open(&headers, &body).await.map_err(|e| format!("open: {e}"))?;
            if let Event::Unknown { .. } = notification.event {
                return Err("opened as Event::Unknown".to_owned());
            }
            if !notification.deviations.is_empty() {
                return Err(format!("the payload deviates from its page: {:?}", notification.deviations));
            }
            let decoded =
                info.decode_payload(payload.to_string().as_bytes()).map_err(|e| format!("decode_payload: {e}"))?;
            if !same(&decoded, &payload) {
                return Err(format!("decoded {decoded} but the server sealed {payload}"));
            }
            Ok(())
        }
        .await;
        if let Err(error) = outcome {
            failures.push(format!("{}: {error}", info.event_type));
        }
    }
    println!("{}/{} notification types open and type", infos.len() - failures.len(), infos.len());
    assert!(failures.is_empty(), "{} failed:\n{}", failures.len(), failures.join("\n"));
}

/// A paged operation's pages are walked: the sandbox answers each page with one item and
/// `total_count` 7, so a page size of 1 takes 7 requests, at offsets 0 to 6.
#[tokio::test]
async fn pages_are_walked_until_total_count() {
    use futures_util::StreamExt as _;
    use wechatpay::v3::marketing::favor::stocks::get::Request;
    let server = pages_sandbox().await;
    let client = public_key_client(&server);
    let request =
        Request::builder().offset(0).limit(1).stock_creator_mchid(crate::fixtures::keys::MERCHANT_ID).build().unwrap();

    let pages: Vec<_> = client.pages(request).collect().await;

    assert_eq!(pages.len(), 7);
    for page in &pages {
        let page = page.as_ref().expect("every page answered");
        assert_eq!(page.total_count, 7);
        assert_eq!(page.data.as_ref().map(Vec::len), Some(1));
    }
    let offsets: Vec<String> = server
        .requests()
        .iter()
        .map(|r| {
            r.path_and_query
                .split("offset=")
                .nth(1)
                .unwrap_or_default()
                .split('&')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(offsets, ["0", "1", "2", "3", "4", "5", "6"]);
}

/// A page shorter than the page size asked for is the last.
#[tokio::test]
async fn a_short_page_ends_the_walk() {
    use futures_util::StreamExt as _;
    use wechatpay::v3::marketing::favor::stocks::get::Request;
    let server = pages_sandbox().await;
    let client = public_key_client(&server);
    let request =
        Request::builder().offset(0).limit(10).stock_creator_mchid(crate::fixtures::keys::MERCHANT_ID).build().unwrap();

    let pages: Vec<_> = client.pages(request).collect().await;

    assert_eq!(pages.len(), 1, "one item where ten were asked for: no next page");
    assert_eq!(server.requests().len(), 1);
}

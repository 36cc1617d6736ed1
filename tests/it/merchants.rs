//! Many merchants in one service: the registry's clients share one connection pool, and the router
//! verifies and decrypts each notification with the keys of the merchant its path names.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::ConnectInfo;
use serde_json::Value;
use wechatpay::merchants::Merchants;
use wechatpay::notify::axum::merchant_router;
use wechatpay::notify::{InMemoryReplayGuard, Notification};
use wechatpay::{ApiV3Key, Client, ClientBuilder, PublicKey};

use crate::fixtures::keys::{self, pem};
use crate::fixtures::sample_transaction;
use crate::support::merchant_key;
use wechatpay_sdk_sandbox::{Config, Sandbox, Signer, Tamper};

const MERCHANT_A: &str = "1900000109";
const MERCHANT_B: &str = "1900000110";
/// Merchant B's APIv3 key: the one the sandbox seals `Tamper::WrongApiV3Key` notifications with.
const APIV3_KEY_B: &str = "0123456789abcdefghijklmnopqrstuv";

/// A merchant on the WeChat Pay public key (no certificate downloads) with its own APIv3 key.
fn merchant(server: &Sandbox, mchid: &str, apiv3_key: &str) -> ClientBuilder {
    Client::builder(mchid, keys::MERCHANT_SERIAL, merchant_key())
        .base_url(server.base_url())
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, PublicKey::from_pem(&pem("wechatpay_pub_key.pem")).unwrap())
        .apiv3_key(ApiV3Key::new(apiv3_key).unwrap())
}

/// Serves `merchant_router` under `/notify`; its base URL and what the handler saw
/// (merchant id of the client it was given, notification id).
async fn serve(merchants: Merchants) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let app = axum::Router::new().nest(
        "/notify",
        merchant_router(merchants, {
            let seen = seen.clone();
            move |client: Client, notification: Notification| async move {
                seen.lock().unwrap().push((client.mchid().to_owned(), notification.id));
                Ok::<_, std::convert::Infallible>(())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn public_key_server() -> Sandbox {
    Sandbox::start(Config { signer: Signer::PublicKey, ..crate::fixtures::config() }).await.expect("sandbox starts")
}

#[tokio::test]
async fn each_merchant_is_verified_and_decrypted_with_its_own_keys() {
    let server = public_key_server().await;
    let merchants = Merchants::new().unwrap();
    merchants.add(merchant(&server, MERCHANT_A, keys::APIV3_KEY)).unwrap();
    merchants.add(merchant(&server, MERCHANT_B, APIV3_KEY_B)).unwrap();
    let (url, seen) = serve(merchants).await;
    let payload = sample_transaction("ORDER-MULTI");
    let deliver = |mchid: &str, tamper: Tamper| {
        let url = format!("{url}/{mchid}");
        let server = &server;
        let payload = &payload;
        async move {
            server.deliver(&url, "TRANSACTION.SUCCESS", "encrypt-resource", payload, tamper).await.expect("delivered")
        }
    };

    assert_eq!(deliver(MERCHANT_A, Tamper::Id("EV-FOR-A".into())).await.0, 204);
    // Sealed with B's APIv3 key: B opens it, A cannot.
    let (status, body) = deliver(MERCHANT_A, Tamper::WrongApiV3Key).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(deliver(MERCHANT_B, Tamper::WrongApiV3Key).await.0, 204);
    assert_eq!(deliver(MERCHANT_B, Tamper::Id("EV-FOR-A".into())).await.0, 400);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0], (MERCHANT_A.to_owned(), "EV-FOR-A".to_owned()));
    assert_eq!(seen[1].0, MERCHANT_B, "the handler got the other merchant's client");
}

#[tokio::test]
async fn a_notification_for_an_unknown_merchant_is_refused() {
    let server = public_key_server().await;
    let merchants = Merchants::new().unwrap();
    merchants.add(merchant(&server, MERCHANT_A, keys::APIV3_KEY)).unwrap();
    let (url, seen) = serve(merchants.clone()).await;
    let deliver = |mchid: &str| {
        let (url, server) = (format!("{url}/{mchid}"), &server);
        async move {
            let payload = sample_transaction("ORDER-UNKNOWN");
            server
                .deliver(&url, "TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::None)
                .await
                .expect("delivered")
        }
    };

    let (status, body) = deliver("1900009999").await;

    assert_eq!(status, 404);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["code"], "FAIL");
    assert_eq!(body["message"], "unknown merchant");
    assert!(seen.lock().unwrap().is_empty());
    // Removed merchants are unknown from then on.
    assert!(merchants.remove(MERCHANT_A).is_some());
    assert_eq!(deliver(MERCHANT_A).await.0, 404);
}

#[tokio::test]
async fn a_shared_replay_guard_keeps_each_merchants_ids_apart() {
    let server = public_key_server().await;
    let merchants = Merchants::new().unwrap().replay_guard(InMemoryReplayGuard::new());
    merchants.add(merchant(&server, MERCHANT_A, keys::APIV3_KEY)).unwrap();
    merchants.add(merchant(&server, MERCHANT_B, keys::APIV3_KEY)).unwrap();
    let (url, seen) = serve(merchants).await;
    let deliver = |mchid: &str| {
        let url = format!("{url}/{mchid}");
        let server = &server;
        async move {
            let payload = sample_transaction("ORDER-SAME-ID");
            server
                .deliver(&url, "TRANSACTION.SUCCESS", "encrypt-resource", &payload, Tamper::Id("EV-SAME".into()))
                .await
                .expect("delivered")
                .0
        }
    };

    for mchid in [MERCHANT_A, MERCHANT_B, MERCHANT_A, MERCHANT_B] {
        assert_eq!(deliver(mchid).await, 204);
    }

    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    let expected = [MERCHANT_A, MERCHANT_B].map(|mchid| (mchid.to_owned(), "EV-SAME".to_owned()));
    assert_eq!(seen, expected, "each merchant's notification handled once, neither taken for the other's");
}

#[tokio::test]
async fn the_merchants_clients_share_one_connection_pool() {
    // A server that answers 404 to anything and notes each connection's peer.
    let peers: Arc<Mutex<Vec<SocketAddr>>> = Arc::default();
    let app = axum::Router::new().fallback({
        let peers = peers.clone();
        move |ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
            peers.lock().unwrap().push(peer);
            (axum::http::StatusCode::NOT_FOUND, "no")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await });
    let merchants = Merchants::new().unwrap();
    for mchid in [MERCHANT_A, MERCHANT_B] {
        let builder = Client::builder(mchid, keys::MERCHANT_SERIAL, merchant_key())
            .base_url(base_url.clone())
            .wechatpay_public_key(keys::PUBLIC_KEY_ID, PublicKey::from_pem(&pem("wechatpay_pub_key.pem")).unwrap());
        merchants.add(builder).unwrap();
    }

    for mchid in [MERCHANT_A, MERCHANT_B, MERCHANT_A] {
        let client = merchants.client(mchid).unwrap();
        // Refused (an unsigned 404): what matters is the connection it went over.
        assert!(client.send(crate::support::query("ORDER-POOL")).await.is_err());
    }

    let peers = peers.lock().unwrap();
    assert_eq!(peers.len(), 3);
    assert!(peers.iter().all(|peer| *peer == peers[0]), "not one connection: {peers:?}");
}

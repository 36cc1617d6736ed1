//! Shared set-up of the transport tests: clients configured the way a merchant would, pointed
//! at the in-process test server (`wechatpay-sdk-sandbox`).

// The tracing test binary uses part of this module.
#![allow(dead_code)]

use std::time::Duration;

use wechatpay::{ApiV3Key, Client, ClientBuilder, MerchantKey, PlatformCertificate, PublicKey};

use crate::fixtures::keys::{self, pem};
use wechatpay_sdk_sandbox::{Config, RecordedRequest, Sandbox, Signer};

pub fn merchant_key() -> MerchantKey {
    MerchantKey::from_pem(&pem("merchant_key.pem")).expect("merchant_key.pem")
}

pub fn wechatpay_public_key() -> PublicKey {
    PublicKey::from_pem(&pem("wechatpay_pub_key.pem")).expect("wechatpay_pub_key.pem")
}

pub fn platform_certificate(file: &str) -> PlatformCertificate {
    PlatformCertificate::from_pem(&pem(file)).expect("platform certificate")
}

pub fn apiv3_key() -> ApiV3Key {
    ApiV3Key::new(keys::APIV3_KEY).expect("APIv3 key")
}

/// The merchant's builder against `server`, with no WeChat Pay key yet and no backup host; bills
/// may be downloaded from the server (plain http on 127.0.0.1, allowed explicitly).
pub fn builder(server: &Sandbox) -> ClientBuilder {
    Client::builder(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, merchant_key())
        .base_url(server.base_url())
        .timeout(Duration::from_secs(10))
        .bill_download_origins([server.base_url()])
}

/// A merchant on the WeChat Pay public key (no APIv3 key, so no certificates ever).
pub fn public_key_client(server: &Sandbox) -> Client {
    builder(server).wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key()).build().expect("client")
}

/// A merchant on platform certificates, downloaded with the APIv3 key.
pub fn certificate_client(server: &Sandbox) -> Client {
    builder(server).apiv3_key(apiv3_key()).build().expect("client")
}

/// A server signing with the WeChat Pay public key.
pub async fn public_key_server() -> Sandbox {
    Sandbox::start(Config { signer: Signer::PublicKey, ..crate::fixtures::config() }).await.expect("sandbox starts")
}

/// The requests of `server` to `path` (query excluded).
pub fn requests_to(server: &Sandbox, path: &str) -> Vec<RecordedRequest> {
    server.requests().into_iter().filter(|request| request.path_and_query.split('?').next() == Some(path)).collect()
}

pub fn header<'a>(request: &'a RecordedRequest, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|value| value.to_str().ok())
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// An order number the server knows.
pub const ORDER: &str = "1217752501201407033233368018";

/// The query of order `out_trade_no` (a signed `GET` with a path parameter and a query string).
pub fn query(out_trade_no: &str) -> wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request {
    wechatpay::v3::pay::transactions::out_trade_no::by_out_trade_no::get::Request::builder()
        .out_trade_no(out_trade_no)
        .mchid(keys::MERCHANT_ID)
        .build()
        .unwrap()
}

/// The trade bill of 2024-03-01: where to download it and its digest.
pub async fn trade_bill(client: &Client) -> wechatpay::v3::bill::tradebill::get::Response {
    use wechatpay::v3::bill::tradebill::get::Request;
    client
        .send(Request::builder().bill_date("2024-03-01").bill_type("ALL").build().unwrap())
        .await
        .expect("bill")
        .into_inner()
}

/// A profit-sharing order whose receiver's name is sensitive (sealed on the wire).
pub fn profit_sharing() -> wechatpay::v3::profitsharing::orders::post::Request {
    use wechatpay::v3::profitsharing::orders::post::{Receivers, Request};
    Request::builder()
        .appid("wxd678efh567hg6787")
        .transaction_id("4208450740201411110007820472")
        .out_order_no("P20150806125346")
        .receivers(
            Receivers::builder()
                .r#type("MERCHANT_ID")
                .account("86693852")
                .name("海南分账接收方")
                .amount(888)
                .description("分给商户A"),
        )
        .unfreeze_unsplit(true)
        .build()
        .unwrap()
}

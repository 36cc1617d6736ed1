//! Bill downloads: streamed with a read-idle timeout rather than a total one, digest checked,
//! memory bounded, and only to the hosts allowed to receive the signed request.

use std::time::Duration;

use wechatpay::{BillFile, Client, Error};

use crate::server::keys;
use crate::server::Misbehaviour;
use crate::support::*;

const DOWNLOAD: &str = "/v3/billdownload/file";

async fn trade_bill(client: &Client) -> wechatpay::v3::bill::tradebill::get::Response {
    use wechatpay::v3::bill::tradebill::get::Request;
    client
        .send(Request::builder().bill_date("2024-03-01").bill_type("ALL").build().unwrap())
        .await
        .expect("bill")
}

#[tokio::test]
async fn a_bill_longer_to_transfer_than_the_request_timeout_downloads_while_data_flows() {
    let server = public_key_server().await;
    let client = builder(&server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let bill = trade_bill(&client).await;
    // About 4 KB in 1 KB pieces, 200 ms apart: a second in all, never idle for long.
    server.misbehave_on(DOWNLOAD, Some(Misbehaviour::Drip { chunk: 1024, pause: Duration::from_millis(200) }));

    let file = client.download_bill(&bill).await.expect("data kept flowing");

    assert!(file.len() > 3000, "{}", file.len());
}

#[tokio::test]
async fn a_truncated_bill_is_a_digest_error() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let bill = trade_bill(&client).await;
    server.truncate_bill(true);
    let error = client.download_bill(&bill).await.expect_err("truncated");
    assert!(matches!(error, Error::Digest { .. }), "{error:?}");
}

#[tokio::test]
async fn a_bill_cut_short_by_the_connection_is_a_transport_error() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let bill = trade_bill(&client).await;
    server.misbehave_on(DOWNLOAD, Some(Misbehaviour::DropMidBody));
    let error = client.download_bill(&bill).await.expect_err("cut short");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn a_bill_is_only_downloaded_from_an_allowed_host() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let bill = trade_bill(&client).await;
    let elsewhere = BillFile::new(bill.download_url.replace("127.0.0.1", "localhost"), "SHA1", &bill.hash_value);

    let error = client.download_bill(elsewhere).await.expect_err("not an allowed host");

    assert!(error.to_string().contains("localhost"), "{error}");
    assert!(requests_to(&server, DOWNLOAD).is_empty(), "the signed request never left");
}

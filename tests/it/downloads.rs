//! Bill downloads: streamed with a read-idle timeout rather than a total one, digest checked,
//! memory bounded, and only to the hosts allowed to receive the signed request.

use std::time::Duration;

use wechatpay::{BillFile, Client, Error};

use crate::fixtures::keys;
use crate::support::*;
use wechatpay_sdk_sandbox::Misbehaviour;

const DOWNLOAD: &str = "/v3/billdownload/file";

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

#[tokio::test]
async fn a_bill_silent_for_longer_than_the_read_timeout_is_a_body_timeout() {
    let server = public_key_server().await;
    let client = builder(&server)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .read_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let bill = trade_bill(&client).await;
    server.misbehave_on(DOWNLOAD, Some(Misbehaviour::Drip { chunk: 1024, pause: Duration::from_millis(600) }));

    let mut written = Vec::new();
    let error = client.download_bill_to(&bill, &mut written).await.expect_err("stalled");

    assert!(matches!(error, Error::Timeout { waiting_for: wechatpay::Waiting::Body, .. }), "{error:?}");
    assert_eq!(written.len(), 1024, "what came before the stall was written");
}

#[tokio::test]
async fn a_large_bill_streams_to_a_writer_but_is_refused_in_memory_beyond_the_cap() {
    const SIZE: u64 = 40 * 1024 * 1024;
    let server = public_key_server().await;
    let client = public_key_client(&server);
    server.bill_size(Some(SIZE));
    let bill = trade_bill(&client).await;

    let error = client.download_bill(&bill).await.expect_err("over the 16 MiB default");
    assert!(
        matches!(error, Error::BodyTooLarge { limit, .. } if limit == wechatpay::client::DEFAULT_MAX_BODY_SIZE as u64),
        "{error:?}"
    );

    let mut sink = tokio::io::sink();
    let written = client.download_bill_to(&bill, &mut sink).await.expect("streamed, digest checked");
    assert!(written > SIZE - 64 * 1024 && written <= SIZE, "{written}");
}

#[tokio::test]
async fn bills_are_refused_from_plain_http_wechat_pay_and_from_other_hosts_by_default() {
    let server = public_key_server().await;
    let client = Client::builder(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, merchant_key())
        .base_url(server.base_url())
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .build()
        .unwrap();
    for url in [
        "http://api.mch.weixin.qq.com/v3/billdownload/file?token=x",
        "https://evil.example/v3/billdownload/file?token=x",
        "https://api.mch.weixin.qq.com.evil.example/v3/billdownload/file?token=x",
    ] {
        let error = client.download_bill(BillFile::new(url, "SHA1", "00")).await.expect_err(url);
        assert!(matches!(error, Error::DownloadOrigin { .. }), "{url}: {error:?}");
    }
    let own =
        client.download_bill(BillFile::new(format!("{}v3/billdownload/file?token=x", server.base_url()), "SHA1", "00"));
    assert!(matches!(own.await, Err(Error::DownloadOrigin { .. })), "the sandbox is not WeChat Pay");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn a_bill_download_is_not_redirected_with_its_signature() {
    let server = public_key_server().await;
    let elsewhere = public_key_server().await;
    let client = public_key_client(&server);
    let bill = trade_bill(&client).await;
    server
        .misbehave_on(DOWNLOAD, Some(Misbehaviour::Redirect(format!("{}v3/billdownload/file", elsewhere.base_url()))));

    let error = client.download_bill(&bill).await.expect_err("a redirect");

    assert!(
        matches!(&error, Error::Redirect { location: Some(location), .. } if location.starts_with(&elsewhere.base_url())),
        "{error:?}"
    );
    assert!(elsewhere.requests().is_empty(), "the signed request went nowhere else");
}

#[tokio::test]
async fn a_downloaded_bill_reads_as_rows_while_it_streams() {
    use wechatpay::bill::{BillParser, Section};
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let bill = trade_bill(&client).await;

    let mut stream = client.download_bill_stream(&bill).await.unwrap();
    let mut parser = BillParser::new();
    let mut rows = Vec::new();
    while let Some(chunk) = stream.next_chunk().await {
        parser.push(&chunk.unwrap(), &mut rows).unwrap();
    }
    parser.finish(&mut rows).unwrap();

    let columns = parser.columns().unwrap();
    assert_eq!(columns[0], "交易时间");
    let details: Vec<_> = rows.iter().filter(|row| row.section == Section::Details).collect();
    assert_eq!(details.len(), 24);
    assert!(details.iter().all(|row| row.fields.len() == columns.len() && !row.fields[0].starts_with('`')));
    let summary = rows.last().unwrap();
    assert_eq!((summary.section, summary.fields[0].as_str()), (Section::Summary, "24"));
}

async fn gzip_trade_bill(client: &Client) -> wechatpay::v3::bill::tradebill::get::Response {
    use wechatpay::v3::bill::tradebill::get::Request;
    let request = Request::builder().bill_date("2024-03-01").bill_type("ALL").tar_type("GZIP").build().unwrap();
    client.send(request).await.expect("bill").into_inner()
}

/// `tar_type=GZIP`: the file arrives compressed, its `hash_value` is the bill's; every way of
/// downloading yields the bill itself, checked.
#[tokio::test]
async fn a_bill_requested_gzip_compressed_arrives_as_the_bill_checked() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let plain = client.download_bill(&trade_bill(&client).await).await.expect("the bill as text");
    let compressed = gzip_trade_bill(&client).await;

    assert_eq!(client.download_bill(&compressed).await.expect("decompressed and checked"), plain);
    let mut written = Vec::new();
    let count = client.download_bill_to(&compressed, &mut written).await.expect("to a writer");
    assert_eq!((count as usize, &written), (plain.len(), &plain));
    let mut stream = client.download_bill_stream(&compressed).await.unwrap();
    let (mut parser, mut rows) = (wechatpay::bill::BillParser::new(), Vec::new());
    while let Some(chunk) = stream.next_chunk().await {
        parser.push(&chunk.expect("a piece of the bill"), &mut rows).expect("bill rows");
    }
    parser.finish(&mut rows).unwrap();
    assert!(rows.iter().any(|row| row.section == wechatpay::bill::Section::Details), "{rows:?}");
}

#[tokio::test]
async fn a_gzip_bill_cut_short_is_a_gzip_error() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let bill = gzip_trade_bill(&client).await;
    server.truncate_bill(true);
    let error = client.download_bill(&bill).await.expect_err("half a gzip file");
    assert!(matches!(error, Error::Gzip(_)), "{error:?}");
}

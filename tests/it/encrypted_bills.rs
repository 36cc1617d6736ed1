//! Encrypted bills (`/v3/bill/sub-merchant-fundflowbill`): the file key opened with the merchant
//! key, the file decrypted as it streams (AES-256-GCM or SM4-GCM as the request named), then
//! checked against its digest; tampered and truncated files are typed errors.

use wechatpay::bill::{BillParser, Section};
use wechatpay::v3::bill::sub_merchant_fundflowbill::get::{Algorithm, Request};
use wechatpay::{BillDecryptError, BillEncryption, BillFile, Client, Error};

use crate::support::*;

fn request(algorithm: Algorithm, gzip: bool) -> Request {
    let builder =
        Request::builder().sub_mchid("1900000109").bill_date("2024-03-01").algorithm(algorithm).account_type("BASIC");
    let builder = if gzip { builder.tar_type("GZIP") } else { builder };
    builder.build().unwrap()
}

/// The encrypted bill's files, as the answer and the request describe them.
pub async fn encrypted_bill(client: &Client, algorithm: Algorithm, gzip: bool) -> Vec<BillFile> {
    let request = request(algorithm, gzip);
    let answer = client.send(request.clone()).await.expect("the bill API");
    BillFile::sub_merchant_fundflow(&request, &answer)
}

/// The rows of a downloaded fund-flow bill.
pub fn rows(bill: &[u8]) -> usize {
    let mut parser = BillParser::new();
    let mut rows = Vec::new();
    parser.push(bill, &mut rows).expect("a bill");
    parser.finish(&mut rows).expect("a bill");
    assert!(parser.columns().unwrap()[0].contains("记账时间"), "{:?}", parser.columns());
    rows.iter().filter(|row| row.section == Section::Details).count()
}

#[tokio::test]
async fn encrypted_bills_are_decrypted_and_checked_in_both_algorithms_plain_and_gzip() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    for algorithm in [Algorithm::AeadAes256Gcm, Algorithm::Sm4Gcm] {
        for gzip in [false, true] {
            let files = encrypted_bill(&client, algorithm.clone(), gzip).await;
            assert_eq!(files.len(), 1);
            let file = &files[0];
            assert_eq!(file.encryption.as_ref().unwrap().algorithm, algorithm.as_str());
            let bill =
                client.download_bill(file).await.unwrap_or_else(|error| panic!("{algorithm} gzip={gzip}: {error}"));
            assert_eq!(rows(&bill), 20, "{algorithm} gzip={gzip}");
            let mut written = Vec::new();
            let length = client.download_bill_to(file, &mut written).await.expect("streamed");
            assert_eq!((length as usize, &written), (bill.len(), &bill));
        }
    }
}

#[tokio::test]
async fn a_tampered_or_truncated_encrypted_bill_is_a_typed_error_and_the_stream_ends_with_it() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    for algorithm in [Algorithm::AeadAes256Gcm, Algorithm::Sm4Gcm] {
        let file = encrypted_bill(&client, algorithm.clone(), false).await.remove(0);
        server.corrupt_bill(true);
        let error = client.download_bill(&file).await.expect_err("tampered");
        assert!(matches!(error, Error::BillDecrypt(BillDecryptError::Tag)), "{algorithm}: {error:?}");
        assert!(!error.outcome_unknown());
        server.corrupt_bill(false);
        server.truncate_bill(true);
        let mut stream = client.download_bill_stream(&file).await.expect("the head");
        let mut last = None;
        while let Some(item) = stream.next_chunk().await {
            last = Some(item);
        }
        assert!(
            matches!(last, Some(Err(Error::BillDecrypt(BillDecryptError::Tag)))),
            "{algorithm}: the stream ends with the error, got {last:?}"
        );
        let mut written = Vec::new();
        let error = client.download_bill_to(&file, &mut written).await.expect_err("truncated");
        assert!(matches!(error, Error::BillDecrypt(_)), "{error:?}");
        server.truncate_bill(false);
    }
}

#[tokio::test]
async fn an_encrypted_bill_that_cannot_open_costs_no_download() {
    let server = public_key_server().await;
    let client = public_key_client(&server);
    let file = encrypted_bill(&client, Algorithm::AeadAes256Gcm, false).await.remove(0);
    let before = requests_to(&server, "/v3/billdownload/file").len();

    let mut unknown = file.clone();
    unknown.encryption.as_mut().unwrap().algorithm = "AEAD_CHACHA20_POLY1305".into();
    let error = client.download_bill(&unknown).await.expect_err("unknown algorithm");
    assert!(error.to_string().contains("AEAD_CHACHA20_POLY1305"), "{error}");

    let encryption = file.encryption.clone().unwrap();
    let wrong_key = file.clone().encrypted(BillEncryption::new(
        "AEAD_AES_256_GCM",
        merchant_key().public_key().encrypt("0123456789abcdef").unwrap(),
        encryption.nonce,
    ));
    let error = client.download_bill(&wrong_key).await.expect_err("a 16-byte key for AES-256");
    assert!(
        matches!(error, Error::BillDecrypt(BillDecryptError::KeyLength { expected: 32, actual: 16, .. })),
        "{error:?}"
    );

    let mut unknown_digest = file.clone();
    unknown_digest.hash_type = "MD5".into();
    let error = client.download_bill(&unknown_digest).await.expect_err("unknown digest");
    assert!(matches!(&error, Error::UnsupportedDigest(name) if name == "MD5"), "{error:?}");

    assert_eq!(requests_to(&server, "/v3/billdownload/file").len(), before, "nothing was downloaded");
}

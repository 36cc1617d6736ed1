//! `wechatpay::sandbox::client_builder`: a client ready for a sandbox, whichever key the sandbox
//! signs with: payments, bills and APIv2 calls (those needing mutual TLS too) work with nothing
//! else configured.

use wechatpay::sandbox::{client_builder, Config, Sandbox, Signer};
use wechatpay::v3::pay::transactions::jsapi::post::{Amount, Payer, Request};
use wechatpay::Client;

use crate::support::{query, requests_to, trade_bill};

async fn sandbox(signer: Signer) -> Sandbox {
    Sandbox::start(Config { signer, ..crate::fixtures::config() }).await.expect("sandbox starts")
}

/// An order paid and queried, a bill downloaded (digest checked) and an APIv2 order query: each
/// verified with the key the sandbox signs with.
async fn pays_downloads_and_calls_apiv2(sandbox: &Sandbox, client: &Client) {
    let order = Request::builder()
        .appid("wxd678efh567hg6787")
        .description("QQ公仔")
        .out_trade_no("SB-1")
        .notify_url("https://example.com/notify")
        .amount(Amount::builder().total(100))
        .payer(Payer::builder().openid("o-1"))
        .build()
        .unwrap();
    client.send(order).await.expect("the order is placed");
    sandbox.pay("SB-1").expect("the sandbox pays it");
    let paid = client.send(query("SB-1")).await.expect("the query is answered and verified");
    assert_eq!(paid.trade_state.to_string(), "SUCCESS");

    let bill = trade_bill(client).await;
    let file = client.download_bill(&bill).await.expect("the bill downloads from the sandbox");
    assert!(!file.is_empty());

    let v2 = wechatpay::v2::pay::orderquery::post::Request::builder()
        .appid("wxd678efh567hg6787")
        .transaction_id(paid.transaction_id.clone().expect("a paid order has a transaction id"))
        .out_trade_no("SB-1")
        .build()
        .unwrap();
    client.v2().pay().orderquery().post(v2).await.expect("an APIv2 call signed with the sandbox's APIv2 key");

    // A call that needs mutual TLS: over HTTPS, with the merchant's API client certificate.
    let refund = wechatpay::v2::secapi::pay::refund::post::Request::builder()
        .appid("wxd678efh567hg6787")
        .transaction_id(paid.transaction_id.clone().unwrap_or_default())
        .out_trade_no("SB-1")
        .out_refund_no("SB-R1")
        .total_fee(100)
        .refund_fee(100)
        .build()
        .unwrap();
    client.send(refund).await.expect("a security call with the client certificate");
}

#[tokio::test]
async fn a_client_for_a_public_key_sandbox_verifies_with_the_public_key_and_downloads_no_certificate() {
    let sandbox = sandbox(Signer::PublicKey).await;
    let client = client_builder(&sandbox).expect("the sandbox's keys read").build().expect("client");

    pays_downloads_and_calls_apiv2(&sandbox, &client).await;

    assert!(requests_to(&sandbox, "/v3/certificates").is_empty());
}

#[tokio::test]
async fn a_client_for_a_certificate_sandbox_downloads_its_certificates() {
    let sandbox = sandbox(Signer::Platform).await;
    let client = client_builder(&sandbox).expect("the sandbox's keys read").build().expect("client");

    pays_downloads_and_calls_apiv2(&sandbox, &client).await;

    assert!(!requests_to(&sandbox, "/v3/certificates").is_empty());
}

#[cfg(feature = "guomi")]
#[tokio::test]
async fn a_client_for_an_sm2_sandbox_signs_with_the_sm2_key_and_verifies_sm2_answers() {
    for signer in [Signer::Sm2PublicKey, Signer::Sm2Platform] {
        let sandbox = sandbox(signer).await;
        let client = client_builder(&sandbox).expect("the sandbox's keys read").build().expect("client");

        pays_downloads_and_calls_apiv2(&sandbox, &client).await;

        let order = requests_to(&sandbox, "/v3/pay/transactions/jsapi");
        let authorization = crate::support::header(&order[0], "authorization").expect("signed");
        assert!(authorization.starts_with("WECHATPAY2-SM2-WITH-SM3 "), "{signer:?}: {authorization}");
        let downloads = requests_to(&sandbox, "/v3/certificates");
        assert_eq!(downloads.is_empty(), signer == Signer::Sm2PublicKey, "{signer:?}");
    }
}

//! The merchant key behind `Signer` and `Decrypter`: a key held elsewhere signs every request and
//! the front end's parameters and opens encrypted fields; one that fails sends nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use wechatpay::runtime::Encrypted;
use wechatpay::signer::{BoxFuture, Decrypter, SignatureScheme, Signer, SignerError};
use wechatpay::{Client, Error};

use crate::fixtures::keys;
use crate::support::*;

/// A key "elsewhere": the merchant key behind a counter, or a failing service.
struct Remote {
    calls: AtomicUsize,
    down: bool,
}

impl Signer for Remote {
    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::Rsa
    }
    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, SignerError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            tokio::task::yield_now().await;
            if self.down {
                return Err(SignerError::new("the key service is unreachable"));
            }
            Signer::sign(&merchant_key(), message).await
        })
    }
}

impl Decrypter for Remote {
    fn decrypt<'a>(&'a self, ciphertext: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, SignerError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move { Decrypter::decrypt(&merchant_key(), ciphertext).await })
    }
}

fn client(server: &wechatpay_sdk_sandbox::Sandbox, remote: Arc<Remote>) -> Client {
    Client::builder_with_signer(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, remote.clone())
        .decrypter(remote)
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .base_url(server.base_url())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_key_held_elsewhere_signs_requests_and_pay_parameters_and_opens_fields() {
    let server = public_key_server().await;
    let remote = Arc::new(Remote { calls: AtomicUsize::new(0), down: false });
    let client = client(&server, remote.clone());

    client.send(query(ORDER)).await.expect("signed by the remote key");
    assert!(server.requests()[0].authorization_ok);
    let params = client.jsapi_pay_params("wxd678efh567hg6787", "wx2014").await.unwrap();
    let message = format!("wxd678efh567hg6787\n{}\n{}\nprepay_id=wx2014\n", params.time_stamp, params.nonce_str);
    assert!(merchant_key().public_key().verify(message.as_bytes(), &params.pay_sign));
    let sealed = merchant_key().public_key().encrypt("13800138000").unwrap();
    assert_eq!(client.decrypt(&Encrypted::new(sealed)).await.unwrap().expose(), "13800138000");
    assert_eq!(remote.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_signer_that_fails_sends_nothing_and_says_why() {
    let server = public_key_server().await;
    let client = client(&server, Arc::new(Remote { calls: AtomicUsize::new(0), down: true }));

    let error = client.send(query(ORDER)).await.expect_err("no signature");

    assert!(matches!(error, Error::Signer(_)), "{error:?}");
    assert!(error.to_string().contains("the key service is unreachable"), "{error}");
    assert!(!error.outcome_unknown(), "nothing was sent");
    assert_eq!(server.request_count(), 0);
    let signer_only = Client::builder_with_signer(keys::MERCHANT_ID, keys::MERCHANT_SERIAL, Arc::new(merchant_key()))
        .wechatpay_public_key(keys::PUBLIC_KEY_ID, wechatpay_public_key())
        .base_url(server.base_url())
        .build()
        .unwrap();
    let error = signer_only.decrypt(&Encrypted::new("AAAA")).await.expect_err("no decrypter");
    assert!(error.to_string().contains("ClientBuilder::decrypter"), "{error}");
}

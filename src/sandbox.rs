//! Testing without real money: the sandbox (the `wechatpay-sdk-sandbox` crate, a WeChat Pay
//! emulator on 127.0.0.1) re-exported, and [`client_builder`], a [`ClientBuilder`] ready for it.
//!
//! Enable the `sandbox` feature where the tests are built only:
//!
//! ```toml
//! [dev-dependencies]
//! wechatpay-sdk = { version = "0.2", features = ["sandbox"] }
//! ```
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wechatpay::sandbox::{client_builder, Config, Sandbox};
//!
//! let sandbox = Sandbox::start(Config::default()).await?; // fresh keys for both sides
//! let client = client_builder(&sandbox)?.build()?;
//! # Ok(()) }
//! ```

pub use wechatpay_sdk_sandbox::*;

use crate::{
    ApiV2Key, ApiV3Key, Client, ClientBuilder, ClientIdentity, KeyError, MerchantKey, PublicKey, RootCertificates,
};

/// A [`ClientBuilder`] for `sandbox`'s merchant: its id, serial and private key, the APIv3 and
/// APIv2 keys (and the RSA key APIv2 seals bank details with), the sandbox's HTTPS URL with its
/// CA trusted and the merchant's API client certificate (for the APIv2 calls that need mutual
/// TLS), bills downloaded from the sandbox, and the key that verifies the sandbox's answers as it signs them now: its WeChat
/// Pay public key, or, when it signs with a platform certificate ([`Signer::Platform`]), no key at
/// all, so that the client downloads the certificates from the sandbox's `/v3/certificates` as it
/// would from WeChat Pay. For a sandbox signing with SM2 ([`Signer::Sm2PublicKey`],
/// [`Signer::Sm2Platform`]: national cryptography, the `guomi` feature), the merchant's key is its
/// SM2 key. Anything else (timeouts, retries, a replay guard for notifications) is
/// set on the builder as usual.
pub fn client_builder(sandbox: &Sandbox) -> Result<ClientBuilder, KeyError> {
    let keys = sandbox.keys();
    let signer = sandbox.signer();
    // A national-cryptography sandbox answers an SM2 merchant (an SM2 key needs the `guomi`
    // feature: without it, reading the key is the error).
    let sm2 = matches!(signer, Signer::Sm2PublicKey | Signer::Sm2Platform);
    let merchant_key = MerchantKey::from_pem(if sm2 { keys.sm2_merchant_key_pem() } else { keys.merchant_key_pem() })?;
    let builder = Client::builder(keys.mchid(), keys.merchant_serial(), merchant_key)
        .apiv3_key(ApiV3Key::new(keys.apiv3_key())?)
        .apiv2_key(ApiV2Key::new(sandbox.apiv2_key())?)
        // What APIv2's `risk/getpublickey` would hand out: the sandbox opens `pay_bank`'s sealed
        // members with the private half of its (RSA) WeChat Pay public key.
        .apiv2_rsa_public_key(PublicKey::from_pem(keys.public_key_pem())?)
        // Over HTTPS, as with WeChat Pay: the sandbox's certificate is its own CA's, and the
        // APIv2 calls that need mutual TLS present the merchant's API client certificate.
        .base_url(sandbox.tls_base_url())
        .add_root_certificates(RootCertificates::from_pem(keys.ca_certificate_pem())?)
        .client_identity(ClientIdentity::from_pem(keys.client_certificate_pem(), keys.merchant_key_pem())?)
        // Bills are downloaded from the sandbox itself (the address it answers is plain http).
        .bill_download_origins([sandbox.base_url(), sandbox.tls_base_url()]);
    Ok(match signer {
        Signer::PublicKey => {
            builder.wechatpay_public_key(keys.public_key_id(), PublicKey::from_pem(keys.public_key_pem())?)
        }
        Signer::Sm2PublicKey => {
            builder.wechatpay_public_key(keys.sm2_public_key_id(), PublicKey::from_pem(keys.sm2_public_key_pem())?)
        }
        // Without a public key the client downloads the certificates.
        Signer::Platform | Signer::Platform2 | Signer::Sm2Platform => builder,
    })
}

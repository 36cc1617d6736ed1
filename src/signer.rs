//! The merchant's private key behind a trait, so that it can live outside the process (a KMS, an
//! HSM, a signing service): [`Signer`] makes the request signatures (and the front end's payment
//! signatures), [`Decrypter`] opens what WeChat Pay encrypts for the merchant (`Encrypted` answer
//! fields, the file keys of encrypted bills). [`MerchantKey`] implements both in process; give the
//! client your own with [`Client::builder_with_signer`](crate::Client::builder_with_signer).
//!
//! Both are async (a remote key answers over the network) and object-safe: they return a
//! [`BoxFuture`]. A failure is a [`SignerError`] (its text is yours: keep secrets out of it); the
//! request is then not sent ([`Error::Signer`](crate::Error::Signer), a known outcome).
//!
//! ```
//! use wechatpay::signer::{BoxFuture, SignatureScheme, Signer, SignerError};
//!
//! /// Signs through a key service (here a stand-in).
//! struct Remote;
//!
//! impl Signer for Remote {
//!     fn scheme(&self) -> SignatureScheme {
//!         SignatureScheme::Rsa
//!     }
//!     fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, SignerError>> {
//!         Box::pin(async move {
//!             let _ = message; // send it to the key service, which answers the raw signature
//!             Err(SignerError::new("the key service is a stand-in"))
//!         })
//!     }
//! }
//! ```

use std::fmt;

pub use futures_util::future::BoxFuture;

use crate::keys::MerchantKey;

/// The signature scheme of a key: the `Authorization` scheme of requests and the
/// `Wechatpay-Signature-Type` of answers and notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureScheme {
    /// `WECHATPAY2-SHA256-RSA2048`: RSASSA-PKCS1-v1_5 with SHA-256.
    Rsa,
    /// `WECHATPAY2-SM2-WITH-SM3`: SM2 with SM3, signer id `1234567812345678`, the signature
    /// DER-encoded (national-cryptography merchants, feature `guomi`).
    Sm2,
}

impl SignatureScheme {
    /// The scheme's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureScheme::Rsa => "WECHATPAY2-SHA256-RSA2048",
            SignatureScheme::Sm2 => "WECHATPAY2-SM2-WITH-SM3",
        }
    }

    /// The scheme named `name` (as `Wechatpay-Signature-Type` writes it), if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        [SignatureScheme::Rsa, SignatureScheme::Sm2].into_iter().find(|scheme| scheme.as_str() == name)
    }
}

impl fmt::Display for SignatureScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a [`Signer`] or [`Decrypter`] failed: its own words (no secret in them, please).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SignerError(Box<dyn std::error::Error + Send + Sync>);

impl SignerError {
    /// An error with this cause (a message, or any error).
    pub fn new(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        SignerError(cause.into())
    }

    /// The [`CryptoError`](crate::CryptoError) of an in-process key, or this error.
    pub(crate) fn into_crypto(self) -> Result<crate::CryptoError, Self> {
        self.0.downcast::<crate::CryptoError>().map(|crypto| *crypto).map_err(SignerError)
    }
}

/// Makes the merchant's signatures: of every request (`Authorization`) and of the front end's
/// payment parameters.
pub trait Signer: Send + Sync + 'static {
    /// The scheme the key signs with: [`SignatureScheme::Rsa`] for an RSA key,
    /// [`SignatureScheme::Sm2`] for a national-cryptography merchant's SM2 key.
    fn scheme(&self) -> SignatureScheme;

    /// The raw signature of `message` (not Base64): RSASSA-PKCS1-v1_5/SHA-256 for RSA; SM2 with
    /// SM3 (signer id `1234567812345678`), DER-encoded, for SM2.
    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, SignerError>>;
}

/// Opens what WeChat Pay encrypted with the merchant's public key: `Encrypted` answer fields and
/// the file keys of encrypted bills.
pub trait Decrypter: Send + Sync + 'static {
    /// The plaintext of `ciphertext` (the raw bytes, Base64 already decoded): RSAES-OAEP with
    /// SHA-1 for RSA; SM2 encryption (C1C3C2, DER) for SM2.
    fn decrypt<'a>(&'a self, ciphertext: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, SignerError>>;
}

impl Signer for MerchantKey {
    fn scheme(&self) -> SignatureScheme {
        MerchantKey::scheme(self)
    }

    fn sign<'a>(&'a self, message: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, SignerError>> {
        let signature = self.sign_raw(message).map_err(SignerError::new);
        Box::pin(std::future::ready(signature))
    }
}

impl Decrypter for MerchantKey {
    fn decrypt<'a>(&'a self, ciphertext: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, SignerError>> {
        let plaintext = self.decrypt_raw(ciphertext).map_err(SignerError::new);
        Box::pin(std::future::ready(plaintext))
    }
}

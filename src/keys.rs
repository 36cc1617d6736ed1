//! The keys of an APIv3 exchange: the merchant's RSA key (signs requests, decrypts what WeChat Pay
//! encrypts for the merchant), a WeChat Pay RSA public key (verifies signatures, encrypts sensitive
//! fields) and the APIv3 key (AES-256-GCM for notifications and certificates).
//!
//! Crypto comes from aws-lc-rs. Compared for the three primitives the protocol needs:
//! - aws-lc-rs: RSA PKCS#1 v1.5 signing, RSA-OAEP with SHA-1 (both ways) and AES-256-GCM, all
//!   constant-time in AWS-LC (FIPS-validated C); it is also rustls' default provider, which
//!   reqwest pulls in anyway, so it costs no extra dependency.
//! - ring: signing and AES-GCM, but no RSA encryption at all (OAEP is required for sensitive
//!   fields), so a second crate would be needed.
//! - RustCrypto (`rsa`, `aes-gcm`): complete, but `rsa` carries the unfixed Marvin timing advisory
//!   (RUSTSEC-2023-0071) on decryption, and it signs several times slower. The tests use it as an
//!   independent implementation on the server side, where that does not matter.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1,
};
use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, SubjectPublicKeyInfoDer};

/// A key that could not be read or used. Never contains key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{what}: not a PEM document of the expected kind ({reason})")]
    Pem { what: &'static str, reason: String },
    #[error("{what}: key rejected ({reason})")]
    Rejected { what: &'static str, reason: String },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("the APIv3 key must be 32 bytes, got {0}")]
    ApiV3KeyLength(usize),
    #[error("the APIv2 key must be 32 printable ASCII characters, got {0} bytes")]
    ApiV2KeyLength(usize),
    #[error("certificate: {0}")]
    Certificate(String),
}

/// A value that could not be encrypted or decrypted. Never contains plaintext or keys.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("ciphertext is not valid Base64")]
    Base64,
    #[error("decryption failed (wrong key or tampered ciphertext)")]
    Decrypt,
    #[error("the nonce must be {NONCE_LEN} bytes, got {0}")]
    NonceLength(usize),
    #[error("plaintext too long for RSA-OAEP ({0} bytes)")]
    TooLong(usize),
    #[error("decrypted value is not UTF-8")]
    Utf8,
    #[error("RSA-OAEP encryption failed")]
    Encrypt,
}

/// The merchant's API private key (RSA, from PKCS#8 or PKCS#1 PEM).
#[derive(Clone)]
pub struct MerchantKey(Arc<MerchantKeyInner>);

struct MerchantKeyInner {
    signing: RsaKeyPair,
    decrypting: PrivateDecryptingKey,
}

impl MerchantKey {
    /// Reads a `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1) PEM document.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "merchant private key";
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|error| KeyError::Pem { what: WHAT, reason: error.to_string() })?;
        let rejected = |reason: String| KeyError::Rejected { what: WHAT, reason };
        let signing = match &der {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => return Err(rejected("not an RSA key".into())),
        }
        .map_err(|error| rejected(error.to_string()))?;
        let pkcs8 = signing.as_der().map_err(|_| rejected("cannot re-encode as PKCS#8".into()))?;
        let decrypting =
            PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref()).map_err(|error| rejected(error.to_string()))?;
        Ok(MerchantKey(Arc::new(MerchantKeyInner { signing, decrypting })))
    }

    /// Reads the PEM document at `path`.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let pem = std::fs::read_to_string(path)
            .map_err(|source| KeyError::Io { path: path.display().to_string(), source })?;
        Self::from_pem(&pem)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`, Base64.
    pub fn sign(&self, message: &[u8]) -> String {
        let signing = &self.0.signing;
        let mut signature = vec![0; signing.public_modulus_len()];
        // Signing with a key that parsed cannot fail short of an allocation failure inside AWS-LC.
        signing
            .sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
            .expect("RSA signing with a validated key");
        BASE64.encode(signature)
    }

    /// Decrypts a Base64 RSA-OAEP (SHA-1) ciphertext made with the merchant's public key, as some
    /// responses return personal data.
    pub fn decrypt(&self, ciphertext: &str) -> Result<String, CryptoError> {
        let ciphertext = BASE64.decode(ciphertext.trim()).map_err(|_| CryptoError::Base64)?;
        let key = OaepPrivateDecryptingKey::new(self.0.decrypting.clone()).map_err(|_| CryptoError::Decrypt)?;
        let mut plaintext = vec![0; key.min_output_size()];
        let plaintext =
            key.decrypt(&OAEP_SHA1_MGF1SHA1, &ciphertext, &mut plaintext, None).map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plaintext.to_vec()).map_err(|_| CryptoError::Utf8)
    }

    /// The public half, e.g. for a test peer that encrypts to the merchant.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_rsa_der(self.0.signing.public_key().as_ref())
            .expect("the public half of a validated key is valid")
    }
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MerchantKey(<redacted>)")
    }
}

/// A WeChat Pay RSA public key: the configured `PUB_KEY_ID_…` key or a platform certificate's.
#[derive(Clone)]
pub struct PublicKey {
    verifying: UnparsedPublicKey<Vec<u8>>,
    encrypting: PublicEncryptingKey,
}

impl PublicKey {
    /// Reads an `RSA PUBLIC KEY` (PKCS#1) PEM document: how APIv2's `risk/getpublickey` hands
    /// out the key that seals bank card numbers and names (`pay_bank`).
    pub fn from_pkcs1_pem(pem: &str) -> Result<Self, KeyError> {
        // rustls-pki-types reads no `RSA PUBLIC KEY` section: its Base64 body is taken directly.
        let missing = || KeyError::Pem { what: "public key", reason: "no RSA PUBLIC KEY section".into() };
        let body = pem.split("-----BEGIN RSA PUBLIC KEY-----").nth(1).ok_or_else(missing)?;
        let body = body
            .split("-----END RSA PUBLIC KEY-----")
            .next()
            .filter(|_| body.contains("-----END"))
            .ok_or_else(missing)?;
        let text: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = BASE64.decode(text).map_err(|_| KeyError::Pem { what: "public key", reason: "not Base64".into() })?;
        Self::from_rsa_der(&der)
    }

    /// Reads a `PUBLIC KEY` (SubjectPublicKeyInfo) PEM document, as WeChat Pay hands them out.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let der = SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes())
            .map_err(|error| KeyError::Pem { what: "public key", reason: error.to_string() })?;
        Self::from_spki_der(der.as_ref())
    }

    /// Reads the PEM document at `path`.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let pem = std::fs::read_to_string(path)
            .map_err(|source| KeyError::Io { path: path.display().to_string(), source })?;
        Self::from_pem(&pem)
    }

    /// From DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let rejected =
            |error: aws_lc_rs::error::KeyRejected| KeyError::Rejected { what: "public key", reason: error.to_string() };
        let encrypting = PublicEncryptingKey::from_der(der).map_err(rejected)?;
        Ok(PublicKey {
            verifying: UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der.to_vec()),
            encrypting,
        })
    }

    fn from_rsa_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = aws_lc_rs::rsa::PublicKey::from_der(der)
            .map_err(|error| KeyError::Rejected { what: "public key", reason: error.to_string() })?;
        let spki =
            key.as_der().map_err(|_| KeyError::Rejected { what: "public key", reason: "cannot encode".into() })?;
        Self::from_spki_der(spki.as_ref())
    }

    /// Checks a Base64 RSASSA-PKCS1-v1_5/SHA-256 signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &str) -> bool {
        match BASE64.decode(signature.trim()) {
            Ok(signature) => self.verifying.verify(message, &signature).is_ok(),
            Err(_) => false,
        }
    }

    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1, Base64: how sensitive request fields travel.
    pub fn encrypt(&self, plaintext: &str) -> Result<String, CryptoError> {
        let key = OaepPublicEncryptingKey::new(self.encrypting.clone()).map_err(|_| CryptoError::Encrypt)?;
        if plaintext.len() > key.max_plaintext_size(&OAEP_SHA1_MGF1SHA1) {
            return Err(CryptoError::TooLong(plaintext.len()));
        }
        let mut ciphertext = vec![0; key.ciphertext_size()];
        let ciphertext = key
            .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext.as_bytes(), &mut ciphertext, None)
            .map_err(|_| CryptoError::Encrypt)?;
        Ok(BASE64.encode(ciphertext))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(RSA-{})", self.encrypting.key_size_bits())
    }
}

/// The merchant's APIv3 key: 32 ASCII bytes, the AES-256-GCM key of notifications and
/// certificate downloads.
#[derive(Clone)]
pub struct ApiV3Key(Arc<LessSafeKey>);

impl ApiV3Key {
    /// The key as configured in the merchant platform (32 characters).
    pub fn new(key: &str) -> Result<Self, KeyError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key.as_bytes()).map_err(|_| KeyError::ApiV3KeyLength(key.len()))?;
        Ok(ApiV3Key(Arc::new(LessSafeKey::new(unbound))))
    }

    /// Decrypts an `AEAD_AES_256_GCM` resource: `ciphertext` is Base64 of ciphertext and tag.
    pub fn decrypt(&self, nonce: &str, associated_data: &str, ciphertext: &str) -> Result<Vec<u8>, CryptoError> {
        let nonce =
            Nonce::try_assume_unique_for_key(nonce.as_bytes()).map_err(|_| CryptoError::NonceLength(nonce.len()))?;
        let mut buffer = BASE64.decode(ciphertext.trim()).map_err(|_| CryptoError::Base64)?;
        let plaintext = self
            .0
            .open_in_place(nonce, Aad::from(associated_data.as_bytes()), &mut buffer)
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(plaintext.to_vec())
    }

    /// Encrypts as WeChat Pay does (for tests, peers and local tooling): Base64 of ciphertext and tag.
    pub fn encrypt(&self, nonce: &str, associated_data: &str, plaintext: &[u8]) -> Result<String, CryptoError> {
        let nonce =
            Nonce::try_assume_unique_for_key(nonce.as_bytes()).map_err(|_| CryptoError::NonceLength(nonce.len()))?;
        let mut buffer = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(nonce, Aad::from(associated_data.as_bytes()), &mut buffer)
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(BASE64.encode(buffer))
    }
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(<redacted>)")
    }
}

/// A random string of 32 ASCII letters and digits: the nonce of a signed message.
pub fn nonce() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 32];
    // The system RNG only fails when the OS has no entropy source at all.
    SystemRandom::new().fill(&mut bytes).expect("system random number generator");
    // The modulo makes a few characters slightly likelier; a nonce only has to be unique.
    bytes.iter().map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_gcm_round_trip_and_tamper() {
        let key = ApiV3Key::new("0123456789abcdef0123456789abcdef").unwrap();
        let sealed = key.encrypt("0123456789ab", "certificate", b"hello").unwrap();
        assert_eq!(key.decrypt("0123456789ab", "certificate", &sealed).unwrap(), b"hello");
        assert_eq!(key.decrypt("0123456789ab", "other", &sealed), Err(CryptoError::Decrypt));
        assert_eq!(key.decrypt("short", "", &sealed), Err(CryptoError::NonceLength(5)));
        assert!(matches!(ApiV3Key::new("short"), Err(KeyError::ApiV3KeyLength(5))));
        assert_eq!(format!("{key:?}"), "ApiV3Key(<redacted>)");
    }

    #[test]
    fn pkcs8_and_pkcs1_read_the_same_key_and_oaep_round_trips() {
        let pkcs8 = MerchantKey::from_pem(include_str!("../tests/fixtures/keys/merchant_key.pem")).unwrap();
        let pkcs1 = MerchantKey::from_pem(include_str!("../tests/fixtures/keys/merchant_key_pkcs1.pem")).unwrap();
        let public = PublicKey::from_pem(include_str!("../tests/fixtures/keys/merchant_public.pem")).unwrap();
        // PKCS#1 v1.5 signatures are deterministic: one key, one signature.
        assert_eq!(pkcs8.sign(b"message\n"), pkcs1.sign(b"message\n"));
        assert!(public.verify(b"message\n", &pkcs8.sign(b"message\n")));
        assert!(!public.verify(b"message!\n", &pkcs8.sign(b"message\n")));
        let ciphertext = public.encrypt("张三").unwrap();
        assert_ne!(public.encrypt("张三").unwrap(), ciphertext, "OAEP is randomized");
        assert_eq!(pkcs1.decrypt(&ciphertext).unwrap(), "张三");
        assert_eq!(pkcs8.decrypt("AAAA"), Err(CryptoError::Decrypt));
        // RSA-2048 with OAEP-SHA1 holds at most 256 - 2 * 20 - 2 = 214 bytes.
        assert!(public.encrypt(&"a".repeat(214)).is_ok());
        assert_eq!(public.encrypt(&"a".repeat(215)), Err(CryptoError::TooLong(215)));
        assert_eq!(format!("{pkcs8:?}"), "MerchantKey(<redacted>)");
        assert!(matches!(MerchantKey::from_pem("not a key"), Err(KeyError::Pem { .. })));
    }

    #[test]
    fn nonces_are_fresh_alphanumerics() {
        let (a, b) = (nonce(), nonce());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|byte| byte.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }
}

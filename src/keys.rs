//! The keys of an APIv3 exchange: the merchant's private key (signs requests, decrypts what
//! WeChat Pay encrypts for the merchant), a WeChat Pay public key (verifies signatures, encrypts
//! sensitive fields) and the APIv3 key (AES-256-GCM, or SM4-GCM for national-cryptography
//! merchants, for notifications and certificates). Keys are RSA, or SM2 with the `guomi` feature
//! (see [`crate::guomi`]).
//!
//! RSA and AES come from aws-lc-rs. Compared for the three primitives the protocol needs:
//! - aws-lc-rs: RSA PKCS#1 v1.5 signing, RSA-OAEP with SHA-1 (both ways) and AES-256-GCM, all
//!   constant-time in AWS-LC (FIPS-validated C); it is also rustls' default provider, which
//!   reqwest pulls in anyway, so it costs no extra dependency.
//! - ring: signing and AES-GCM, but no RSA encryption at all (OAEP is required for sensitive
//!   fields), so a second crate would be needed.
//! - RustCrypto (`rsa`, `aes-gcm`): complete, but `rsa` carries the unfixed Marvin timing advisory
//!   (RUSTSEC-2023-0071) on decryption, and it signs several times slower. The tests use it as an
//!   independent implementation on the server side, where that does not matter.
//!
//! The national algorithms (SM2, SM3, SM4) are in none of these: they come from RustCrypto's
//! `sm2`, `sm3` and `sm4`, the maintained pure-Rust implementations.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1,
};
use aws_lc_rs::signature::{self, KeyPair, ParsedPublicKey, RsaKeyPair};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, SubjectPublicKeyInfoDer};

use crate::gcm_stream::{self, Cipher, GcmError};
use crate::signer::SignatureScheme;

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
#[non_exhaustive]
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
    #[error("encryption failed")]
    Encrypt,
    #[error("unsupported resource algorithm {0:?} (supported: AEAD_AES_256_GCM, AEAD_SM4_GCM)")]
    Algorithm(String),
    #[error("signing failed")]
    Sign,
}

/// The SM2 curve's object identifier (1.2.156.10197.1.301) as DER writes it: how an SM2 key is
/// recognised (to name it) in a build without the `guomi` feature.
const SM2_CURVE_OID: [u8; 10] = [0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D];

fn names_sm2(der: &[u8]) -> bool {
    der.windows(SM2_CURVE_OID.len()).any(|window| window == SM2_CURVE_OID)
}

/// The merchant's API private key: RSA (PKCS#8 or PKCS#1 PEM), or, with the `guomi` feature,
/// SM2 (PKCS#8 or SEC1 PEM) for a national-cryptography merchant. The key decides the mode: an
/// SM2 key signs with `WECHATPAY2-SM2-WITH-SM3` and makes the client a Guomi client (see
/// [`crate::guomi`]).
#[derive(Clone)]
pub struct MerchantKey(Arc<MerchantKeyInner>);

enum MerchantKeyInner {
    Rsa {
        signing: RsaKeyPair,
        decrypting: PrivateDecryptingKey,
    },
    #[cfg(feature = "guomi")]
    Sm2(Box<crate::guomi::Sm2PrivateKey>),
}

impl MerchantKey {
    /// Reads a `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1) PEM document; with the
    /// `guomi` feature also an SM2 `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "merchant private key";
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|error| KeyError::Pem { what: WHAT, reason: error.to_string() })?;
        let rejected = |reason: String| KeyError::Rejected { what: WHAT, reason };
        if names_sm2(der.secret_der()) {
            #[cfg(feature = "guomi")]
            return crate::guomi::Sm2PrivateKey::from_der(&der)
                .map(|key| MerchantKey(Arc::new(MerchantKeyInner::Sm2(Box::new(key)))))
                .map_err(rejected);
            #[cfg(not(feature = "guomi"))]
            return Err(rejected("an SM2 key (national cryptography): enable the `guomi` feature".into()));
        }
        let signing = match &der {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => return Err(rejected("not an RSA key".into())),
        }
        .map_err(|error| rejected(error.to_string()))?;
        let pkcs8 = signing.as_der().map_err(|_| rejected("cannot re-encode as PKCS#8".into()))?;
        let decrypting =
            PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref()).map_err(|error| rejected(error.to_string()))?;
        Ok(MerchantKey(Arc::new(MerchantKeyInner::Rsa { signing, decrypting })))
    }

    /// Reads the PEM document at `path`.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let pem = std::fs::read_to_string(path)
            .map_err(|source| KeyError::Io { path: path.display().to_string(), source })?;
        Self::from_pem(&pem)
    }

    /// The scheme this key signs with.
    pub fn scheme(&self) -> SignatureScheme {
        match &*self.0 {
            MerchantKeyInner::Rsa { .. } => SignatureScheme::Rsa,
            #[cfg(feature = "guomi")]
            MerchantKeyInner::Sm2(_) => SignatureScheme::Sm2,
        }
    }

    /// The signature of `message`, Base64: RSASSA-PKCS1-v1_5 with SHA-256, or SM2 with SM3 (DER).
    pub fn sign(&self, message: &[u8]) -> String {
        // Signing with a key that parsed cannot fail short of an allocation failure.
        BASE64.encode(self.sign_raw(message).expect("signing with a validated key"))
    }

    /// The raw signature of `message`.
    pub(crate) fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &*self.0 {
            MerchantKeyInner::Rsa { signing, .. } => {
                let mut signature = vec![0; signing.public_modulus_len()];
                signing
                    .sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
                    .map_err(|_| CryptoError::Sign)?;
                Ok(signature)
            }
            #[cfg(feature = "guomi")]
            MerchantKeyInner::Sm2(key) => key.sign(message),
        }
    }

    /// Decrypts a Base64 ciphertext made with the merchant's public key, as some responses return
    /// personal data: RSA-OAEP (SHA-1), or SM2 (C1C3C2, DER) for an SM2 key.
    pub fn decrypt(&self, ciphertext: &str) -> Result<String, CryptoError> {
        let ciphertext = BASE64.decode(ciphertext.trim()).map_err(|_| CryptoError::Base64)?;
        String::from_utf8(self.decrypt_raw(&ciphertext)?).map_err(|_| CryptoError::Utf8)
    }

    /// The plaintext bytes of a raw ciphertext made with the merchant's public key.
    pub(crate) fn decrypt_raw(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &*self.0 {
            MerchantKeyInner::Rsa { decrypting, .. } => {
                let key = OaepPrivateDecryptingKey::new(decrypting.clone()).map_err(|_| CryptoError::Decrypt)?;
                let mut plaintext = vec![0; key.min_output_size()];
                let plaintext = key
                    .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut plaintext, None)
                    .map_err(|_| CryptoError::Decrypt)?;
                Ok(plaintext.to_vec())
            }
            #[cfg(feature = "guomi")]
            MerchantKeyInner::Sm2(key) => key.decrypt(ciphertext),
        }
    }

    /// The public half, e.g. for a test peer that encrypts to the merchant.
    pub fn public_key(&self) -> PublicKey {
        match &*self.0 {
            MerchantKeyInner::Rsa { signing, .. } => PublicKey::from_rsa_der(signing.public_key().as_ref())
                .expect("the public half of a validated key is valid"),
            #[cfg(feature = "guomi")]
            MerchantKeyInner::Sm2(key) => PublicKey(PublicKeyInner::Sm2(Box::new(key.public_key()))),
        }
    }
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MerchantKey(<redacted>)")
    }
}

/// A WeChat Pay public key: the configured `PUB_KEY_ID_…` key or a platform certificate's; RSA,
/// or SM2 with the `guomi` feature.
#[derive(Clone)]
pub struct PublicKey(PublicKeyInner);

#[derive(Clone)]
enum PublicKeyInner {
    Rsa {
        // Parsed once: an unparsed key would parse its DER and set up its Montgomery context on
        // every verification (about a tenth of its cost).
        verifying: ParsedPublicKey,
        encrypting: PublicEncryptingKey,
    },
    #[cfg(feature = "guomi")]
    Sm2(Box<crate::guomi::Sm2PublicKey>),
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

    /// From DER `SubjectPublicKeyInfo`: RSA, or SM2 with the `guomi` feature.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let rejected = |reason: String| KeyError::Rejected { what: "public key", reason };
        if names_sm2(der) {
            #[cfg(feature = "guomi")]
            return crate::guomi::Sm2PublicKey::from_spki_der(der)
                .map(|key| PublicKey(PublicKeyInner::Sm2(Box::new(key))))
                .map_err(rejected);
            #[cfg(not(feature = "guomi"))]
            return Err(rejected("an SM2 key (national cryptography): enable the `guomi` feature".into()));
        }
        let encrypting = PublicEncryptingKey::from_der(der).map_err(|error| rejected(error.to_string()))?;
        Ok(PublicKey(PublicKeyInner::Rsa {
            verifying: ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der)
                .map_err(|error| rejected(error.to_string()))?,
            encrypting,
        }))
    }

    fn from_rsa_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = aws_lc_rs::rsa::PublicKey::from_der(der)
            .map_err(|error| KeyError::Rejected { what: "public key", reason: error.to_string() })?;
        let spki =
            key.as_der().map_err(|_| KeyError::Rejected { what: "public key", reason: "cannot encode".into() })?;
        Self::from_spki_der(spki.as_ref())
    }

    /// The scheme of the signatures this key verifies.
    pub fn scheme(&self) -> SignatureScheme {
        match &self.0 {
            PublicKeyInner::Rsa { .. } => SignatureScheme::Rsa,
            #[cfg(feature = "guomi")]
            PublicKeyInner::Sm2(_) => SignatureScheme::Sm2,
        }
    }

    /// Checks a Base64 signature over `message`: RSASSA-PKCS1-v1_5/SHA-256, or SM2 with SM3 (DER).
    pub fn verify(&self, message: &[u8], signature: &str) -> bool {
        match BASE64.decode(signature.trim()) {
            Ok(signature) => self.verify_decoded(message, &signature),
            Err(_) => false,
        }
    }

    /// [`verify`](Self::verify) with the signature already decoded from Base64.
    pub(crate) fn verify_decoded(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.0 {
            PublicKeyInner::Rsa { verifying, .. } => verifying.verify_sig(message, signature).is_ok(),
            #[cfg(feature = "guomi")]
            PublicKeyInner::Sm2(key) => key.verify(message, signature),
        }
    }

    /// Encrypts a sensitive field as it travels, Base64: RSAES-OAEP with SHA-1 and MGF1-SHA-1, or
    /// SM2 encryption (C1C3C2, DER) for an SM2 key.
    pub fn encrypt(&self, plaintext: &str) -> Result<String, CryptoError> {
        match &self.0 {
            PublicKeyInner::Rsa { encrypting, .. } => {
                let key = OaepPublicEncryptingKey::new(encrypting.clone()).map_err(|_| CryptoError::Encrypt)?;
                if plaintext.len() > key.max_plaintext_size(&OAEP_SHA1_MGF1SHA1) {
                    return Err(CryptoError::TooLong(plaintext.len()));
                }
                let mut ciphertext = vec![0; key.ciphertext_size()];
                let ciphertext = key
                    .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext.as_bytes(), &mut ciphertext, None)
                    .map_err(|_| CryptoError::Encrypt)?;
                Ok(BASE64.encode(ciphertext))
            }
            #[cfg(feature = "guomi")]
            PublicKeyInner::Sm2(key) => key.encrypt(plaintext.as_bytes()).map(|ciphertext| BASE64.encode(ciphertext)),
        }
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            PublicKeyInner::Rsa { encrypting, .. } => write!(f, "PublicKey(RSA-{})", encrypting.key_size_bits()),
            #[cfg(feature = "guomi")]
            PublicKeyInner::Sm2(_) => f.write_str("PublicKey(SM2)"),
        }
    }
}

/// The resource algorithm of notifications and certificates: AES-256-GCM with the APIv3 key.
pub const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";
/// The resource algorithm of national-cryptography merchants: SM4-GCM, its key the first 16 bytes
/// of SM3(APIv3 key).
pub const AEAD_SM4_GCM: &str = "AEAD_SM4_GCM";

/// The merchant's APIv3 key: 32 ASCII bytes, the AES-256-GCM key of notifications and
/// certificate downloads (and, through SM3, the SM4-GCM key of national-cryptography merchants').
#[derive(Clone)]
pub struct ApiV3Key(Arc<ApiV3Inner>);

struct ApiV3Inner {
    aes: LessSafeKey,
    /// The first 128 bits of SM3(APIv3 key), as WeChat Pay's national-cryptography guide derives it.
    sm4: [u8; 16],
}

impl ApiV3Key {
    /// The key as configured in the merchant platform (32 characters).
    pub fn new(key: &str) -> Result<Self, KeyError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key.as_bytes()).map_err(|_| KeyError::ApiV3KeyLength(key.len()))?;
        let mut sm4 = [0u8; 16];
        sm4.copy_from_slice(&crate::digest::sm3(key.as_bytes())[..16]);
        Ok(ApiV3Key(Arc::new(ApiV3Inner { aes: LessSafeKey::new(unbound), sm4 })))
    }

    /// Decrypts an `AEAD_AES_256_GCM` resource: `ciphertext` is Base64 of ciphertext and tag.
    pub fn decrypt(&self, nonce: &str, associated_data: &str, ciphertext: &str) -> Result<Vec<u8>, CryptoError> {
        self.open(AEAD_AES_256_GCM, nonce, associated_data, ciphertext)
    }

    /// Decrypts a resource sealed with `algorithm`: [`AEAD_AES_256_GCM`] or [`AEAD_SM4_GCM`]
    /// (anything else is [`CryptoError::Algorithm`]); `ciphertext` is Base64 of ciphertext and tag.
    pub fn open(
        &self,
        algorithm: &str,
        nonce: &str,
        associated_data: &str,
        ciphertext: &str,
    ) -> Result<Vec<u8>, CryptoError> {
        let cipher = resource_cipher(algorithm)?;
        if nonce.len() != NONCE_LEN {
            return Err(CryptoError::NonceLength(nonce.len()));
        }
        let mut buffer = BASE64.decode(ciphertext.trim()).map_err(|_| CryptoError::Base64)?;
        match cipher {
            Cipher::Aes256 => {
                let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes())
                    .map_err(|_| CryptoError::NonceLength(nonce.len()))?;
                let plaintext = self
                    .0
                    .aes
                    .open_in_place(nonce, Aad::from(associated_data.as_bytes()), &mut buffer)
                    .map_err(|_| CryptoError::Decrypt)?;
                Ok(plaintext.to_vec())
            }
            Cipher::Sm4 => {
                gcm_stream::open(Cipher::Sm4, &self.0.sm4, nonce.as_bytes(), associated_data.as_bytes(), &buffer)
                    .map_err(gcm_error)
            }
        }
    }

    /// Encrypts as WeChat Pay does (for tests, peers and local tooling): Base64 of ciphertext and tag.
    pub fn encrypt(&self, nonce: &str, associated_data: &str, plaintext: &[u8]) -> Result<String, CryptoError> {
        self.seal(AEAD_AES_256_GCM, nonce, associated_data, plaintext)
    }

    /// Encrypts with `algorithm` as WeChat Pay does ([`AEAD_AES_256_GCM`] or [`AEAD_SM4_GCM`]):
    /// Base64 of ciphertext and tag.
    pub fn seal(
        &self,
        algorithm: &str,
        nonce: &str,
        associated_data: &str,
        plaintext: &[u8],
    ) -> Result<String, CryptoError> {
        let cipher = resource_cipher(algorithm)?;
        let sealed = match cipher {
            Cipher::Aes256 => {
                let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes())
                    .map_err(|_| CryptoError::NonceLength(nonce.len()))?;
                let mut buffer = plaintext.to_vec();
                self.0
                    .aes
                    .seal_in_place_append_tag(nonce, Aad::from(associated_data.as_bytes()), &mut buffer)
                    .map_err(|_| CryptoError::Encrypt)?;
                buffer
            }
            Cipher::Sm4 => {
                gcm_stream::seal(Cipher::Sm4, &self.0.sm4, nonce.as_bytes(), associated_data.as_bytes(), plaintext)
                    .map_err(gcm_error)?
            }
        };
        Ok(BASE64.encode(sealed))
    }
}

fn resource_cipher(algorithm: &str) -> Result<Cipher, CryptoError> {
    match algorithm {
        AEAD_AES_256_GCM => Ok(Cipher::Aes256),
        AEAD_SM4_GCM => Ok(Cipher::Sm4),
        other => Err(CryptoError::Algorithm(other.to_owned())),
    }
}

fn gcm_error(error: GcmError) -> CryptoError {
    match error {
        GcmError::NonceLength(length) => CryptoError::NonceLength(length),
        GcmError::KeyLength(_) | GcmError::Truncated | GcmError::Tag => CryptoError::Decrypt,
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
    fn sm4_gcm_resources_use_the_first_16_bytes_of_the_sm3_of_the_apiv3_key() {
        let key = ApiV3Key::new("0123456789abcdef0123456789abcdef").unwrap();
        let sealed = key.seal(AEAD_SM4_GCM, "0123456789ab", "transaction", b"hello").unwrap();
        assert_eq!(key.open(AEAD_SM4_GCM, "0123456789ab", "transaction", &sealed).unwrap(), b"hello");
        let sm4_key = &crate::digest::sm3(b"0123456789abcdef0123456789abcdef")[..16];
        let independent = gcm_stream::seal(Cipher::Sm4, sm4_key, b"0123456789ab", b"transaction", b"hello").unwrap();
        assert_eq!(BASE64.decode(&sealed).unwrap(), independent);
        assert_eq!(key.open(AEAD_AES_256_GCM, "0123456789ab", "transaction", &sealed), Err(CryptoError::Decrypt));
        assert_eq!(
            key.open("AEAD_CHACHA20", "0123456789ab", "", &sealed),
            Err(CryptoError::Algorithm("AEAD_CHACHA20".into()))
        );
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

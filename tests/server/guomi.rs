//! The server's national cryptography (国密), for merchants on WeChat Pay's SM2 access: SM2 keys
//! (`tests/fixtures/keys/sm2/`), SM2-with-SM3 signatures (signer id `1234567812345678`, DER), SM2
//! encryption (C1C3C2, DER), SM4-GCM through `aes-gcm`'s generic GCM (an assembly independent of
//! the SDK's streaming one), SM3. Kept apart from `crypto.rs` so that it moves as one piece.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::cipher::consts::U12;
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::elliptic_curve::common::getrandom::SysRng;
use sm2::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use sm2::pke::{DecryptingKey, EncryptingKey, Mode};

use super::crypto::{cert, Held, HeldKey};
use super::keys::{self, pem};

/// WeChat Pay's SM2 signer id.
pub(crate) const SIGNER_ID: &str = "1234567812345678";
/// The signature type of SM2 answers and notifications.
pub(crate) const SCHEME: &str = "WECHATPAY2-SM2-WITH-SM3";
/// The resource algorithm of SM2 merchants' notifications and certificates.
pub(crate) const SM4_GCM: &str = "AEAD_SM4_GCM";

/// An SM2 private key the server holds.
pub(crate) struct Sm2Held {
    signing: sm2::dsa::SigningKey,
    decrypting: DecryptingKey,
}

impl Sm2Held {
    fn read(file: &str) -> Sm2Held {
        let secret = sm2::SecretKey::from_pkcs8_pem(&pem(file)).unwrap_or_else(|error| panic!("{file}: {error}"));
        Sm2Held {
            signing: sm2::dsa::SigningKey::new(SIGNER_ID, &secret).unwrap_or_else(|error| panic!("{file}: {error}")),
            decrypting: DecryptingKey::new_with_mode(secret.to_nonzero_scalar(), Mode::C1C3C2),
        }
    }

    /// SM2 with SM3, DER.
    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing
            .try_sign(message)
            .map(|signature: sm2::dsa::Signature| signature.to_der().to_vec())
            .unwrap_or_default()
    }

    pub(crate) fn decrypt(&self, ciphertext: &[u8]) -> Option<Vec<u8>> {
        self.decrypting.decrypt_der(ciphertext).ok()
    }
}

/// The SM2 keys of the national-cryptography side.
pub(crate) struct Sm2Material {
    /// The merchant's SM2 public key: verifies its requests, encrypts for it.
    pub merchant: sm2::PublicKey,
    /// The SM2 WeChat Pay public key, `keys::SM2_PUBLIC_KEY_ID`.
    pub public_key: Held,
    /// The SM2 platform certificate, `keys::SM2_PLATFORM_SERIAL`.
    pub platform: Held,
}

pub(crate) fn material() -> Sm2Material {
    let merchant = sm2::PublicKey::from_public_key_pem(&pem("sm2/merchant_public.pem"))
        .unwrap_or_else(|error| panic!("sm2/merchant_public.pem: {error}"));
    Sm2Material {
        merchant,
        public_key: Held {
            id: keys::SM2_PUBLIC_KEY_ID,
            key: HeldKey::Sm2(Box::new(Sm2Held::read("sm2/wechatpay_pub_key_private.pem"))),
            cert: None,
        },
        platform: Held {
            id: keys::SM2_PLATFORM_SERIAL,
            key: HeldKey::Sm2(Box::new(Sm2Held::read("sm2/platform_key.pem"))),
            cert: Some(cert(keys::SM2_PLATFORM_SERIAL, "sm2/platform_cert.pem")),
        },
    }
}

/// `Ok` when `signature` (Base64 DER) is the SM2 merchant's signature of `message`.
pub(crate) fn verify_merchant(message: &[u8], signature: &str) -> Result<(), &'static str> {
    let der = BASE64.decode(signature).map_err(|_| "signature is not valid Base64")?;
    let signature = sm2::dsa::Signature::from_der(&der).map_err(|_| "signature is not an SM2 DER signature")?;
    let merchant = super::crypto::material().sm2.merchant;
    let verifying = sm2::dsa::VerifyingKey::new(SIGNER_ID, merchant).map_err(|_| "the SM2 merchant key")?;
    verifying.verify(message, &signature).map_err(|_| "signature does not verify with the SM2 merchant public key")
}

/// SM2 encryption for the merchant (C1C3C2 DER, Base64): `Encrypted` fields and bill file keys.
pub(crate) fn encrypt_for_merchant(plaintext: &[u8]) -> String {
    let key = EncryptingKey::new_with_mode(super::crypto::material().sm2.merchant, Mode::C1C3C2);
    key.encrypt_der(&mut SysRng, plaintext).map(|ciphertext| BASE64.encode(ciphertext)).unwrap_or_default()
}

/// The SM4 key of the APIv3 key: the first 128 bits of its SM3.
pub(crate) fn sm4_key(apiv3_key: &str) -> [u8; 16] {
    use sm3::Digest as _;
    let digest = sm3::Sm3::digest(apiv3_key.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// SM4-GCM as `aes-gcm` assembles GCM over any 128-bit block cipher.
type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// Base64 of SM4-GCM(`key`, `nonce`, `aad`, `plaintext`) followed by the 16-byte tag.
pub(crate) fn sm4_gcm_encrypt(key: &[u8; 16], nonce: &str, aad: &str, plaintext: &[u8]) -> String {
    sm4_gcm_seal(key, nonce.as_bytes(), aad.as_bytes(), plaintext)
        .map(|sealed| BASE64.encode(sealed))
        .unwrap_or_default()
}

/// SM4-GCM ciphertext and tag.
pub(crate) fn sm4_gcm_seal(key: &[u8], nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    if nonce.len() != 12 {
        return None;
    }
    let cipher = Sm4Gcm::new_from_slice(key).ok()?;
    cipher.encrypt(nonce.into(), Payload { msg: plaintext, aad }).ok()
}

/// SM3 of the concatenated pieces, hex.
pub(crate) fn sm3_hex_of(pieces: impl Iterator<Item = bytes::Bytes>) -> String {
    use sm3::Digest as _;
    let mut hasher = sm3::Sm3::new();
    for piece in pieces {
        hasher.update(&piece);
    }
    super::crypto::hex_lower(&hasher.finalize())
}

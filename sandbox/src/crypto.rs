//! The sandbox's crypto, all from RustCrypto (`rsa`, `sha1`, `sha2`, `aes-gcm`; the national
//! algorithms in `guomi.rs`): an implementation independent of the SDK's aws-lc-rs, so a shared
//! misunderstanding cannot hide in a shared library.

use std::time::{SystemTime, UNIX_EPOCH};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rand::Rng as _;
use rsa::pkcs1v15::Signature;
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::Oaep;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::keys::{Held, HeldKey, Keys};

/// `Ok` when `signature` (Base64) is the merchant's RSA-SHA256 signature of `message`.
pub(crate) fn verify_merchant(keys: &Keys, message: &[u8], signature: &str) -> Result<(), &'static str> {
    let bytes = BASE64.decode(signature).map_err(|_| "signature is not valid Base64")?;
    let signature = Signature::try_from(bytes.as_slice()).map_err(|_| "signature has a bad length")?;
    keys.merchant.verify(message, &signature).map_err(|_| "signature does not verify with the merchant public key")
}

/// Base64 of the RSA-SHA256 (PKCS#1 v1.5) signature of `message` by `key`, or of its SM2-with-SM3
/// signature (DER) for an SM2 key.
pub(crate) fn sign(key: &Held, message: &[u8]) -> String {
    // Signing with a valid key cannot fail; an empty signature would then simply fail verification
    // on the client.
    match &key.key {
        HeldKey::Rsa { signing, .. } => {
            signing.try_sign(message).map(|signature| BASE64.encode(signature.to_bytes())).unwrap_or_default()
        }
        HeldKey::Sm2(sm2) => BASE64.encode(sm2.sign(message)),
    }
}

/// Decrypts a Base64 sensitive field to UTF-8 text: RSA-OAEP (SHA-1, MGF1-SHA-1), or SM2 (C1C3C2,
/// DER) for an SM2 key.
pub(crate) fn decrypt_field(key: &Held, ciphertext: &str) -> Result<String, &'static str> {
    let bytes = BASE64.decode(ciphertext).map_err(|_| "not valid Base64")?;
    let plain = match &key.key {
        HeldKey::Rsa { private, .. } => {
            private.decrypt(Oaep::new::<Sha1>(), &bytes).map_err(|_| "RSA-OAEP decryption failed")?
        }
        HeldKey::Sm2(sm2) => sm2.decrypt(&bytes).ok_or("SM2 decryption failed")?,
    };
    String::from_utf8(plain).map_err(|_| "plaintext is not UTF-8")
}

/// Base64 RSA-OAEP (SHA-1) encryption for the merchant (its public key): what WeChat Pay does to
/// bill file keys.
pub(crate) fn encrypt_for_merchant(keys: &Keys, plaintext: &[u8]) -> String {
    let public: &rsa::RsaPublicKey = keys.merchant.as_ref();
    public
        .encrypt(&mut rand::thread_rng(), Oaep::new::<Sha1>(), plaintext)
        .map(|ciphertext| BASE64.encode(ciphertext))
        .unwrap_or_default()
}

/// Base64 of AES-256-GCM(`key`, `nonce`, `aad`, `plaintext`) followed by the 16-byte tag.
pub(crate) fn aes_gcm_encrypt(key: &[u8], nonce: &str, aad: &str, plaintext: &[u8]) -> String {
    let Ok(cipher) = Aes256Gcm::new_from_slice(key) else {
        return String::new();
    };
    if nonce.len() != 12 {
        return String::new();
    }
    cipher
        .encrypt(Nonce::from_slice(nonce.as_bytes()), Payload { msg: plaintext, aad: aad.as_bytes() })
        .map(|sealed| BASE64.encode(sealed))
        .unwrap_or_default()
}

/// SHA-1 of the concatenated pieces, hex.
pub(crate) fn sha1_hex_of(pieces: impl Iterator<Item = bytes::Bytes>) -> String {
    let mut hasher = sha1::Sha1::new();
    for piece in pieces {
        hasher.update(&piece);
    }
    hex_lower(&hasher.finalize())
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex_lower(&Sha256::digest(bytes))
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

/// `len` random ASCII letters and digits.
pub(crate) fn random_alphanumeric(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

/// `len` random decimal digits.
pub(crate) fn random_digits(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect()
}

pub(crate) fn random_bytes(len: usize) -> Vec<u8> {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| rng.gen()).collect()
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text).ok()
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs() as i64).unwrap_or_default()
}

/// RFC 3339 in China Standard Time, as WeChat Pay writes times: `2026-11-23T17:05:04+08:00`.
pub(crate) fn rfc3339_cst(unix: i64) -> String {
    let local = unix + 8 * 3600;
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+08:00", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

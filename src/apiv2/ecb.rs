//! AES-256-ECB with PKCS#7 padding, the cipher of a refund notification's `req_info`: the key is
//! the lower-case hex MD5 of the APIv2 key (32 ASCII bytes). RustCrypto's `aes` and `ecb`
//! (aws-lc-rs offers no ECB mode, rightly: it is WeChat Pay's choice, not ours).

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyInit};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::sign::{md5_lower_hex, ApiV2Key};
use crate::keys::CryptoError;

type Decryptor = ecb::Decryptor<aes::Aes256>;
type Encryptor = ecb::Encryptor<aes::Aes256>;

/// Opens a Base64 `req_info`.
pub(crate) fn decrypt(key: &ApiV2Key, ciphertext: &str) -> Result<Vec<u8>, CryptoError> {
    let bytes = BASE64.decode(ciphertext.trim()).map_err(|_| CryptoError::Base64)?;
    let key = md5_lower_hex(key.expose());
    Decryptor::new_from_slice(key.as_bytes())
        .map_err(|_| CryptoError::Decrypt)?
        .decrypt_padded_vec_mut::<Pkcs7>(&bytes)
        .map_err(|_| CryptoError::Decrypt)
}

/// Seals as WeChat Pay does (for tests, peers and local tooling).
pub fn encrypt(key: &ApiV2Key, plaintext: &[u8]) -> String {
    let key = md5_lower_hex(key.expose());
    // A 32-byte key is what AES-256 takes: `new_from_slice` cannot fail.
    let cipher = Encryptor::new_from_slice(key.as_bytes()).expect("the MD5 hex is 32 bytes");
    BASE64.encode(cipher.encrypt_padded_vec_mut::<Pkcs7>(plaintext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn req_info_round_trips_and_a_wrong_key_fails() {
        let key = ApiV2Key::new("192006250b4c09247ec02edce69f6a2d").unwrap();
        let sealed = encrypt(&key, b"<root><refund_status>SUCCESS</refund_status></root>");
        assert_eq!(decrypt(&key, &sealed).unwrap(), b"<root><refund_status>SUCCESS</refund_status></root>");
        let other = ApiV2Key::new("00000000000000000000000000000000").unwrap();
        assert!(
            decrypt(&other, &sealed).is_err()
                || decrypt(&other, &sealed).unwrap() != b"<root><refund_status>SUCCESS</refund_status></root>"
        );
        assert_eq!(decrypt(&key, "not base64!"), Err(CryptoError::Base64));
        assert_eq!(decrypt(&key, "AAAA"), Err(CryptoError::Decrypt), "not a whole block");
    }
}

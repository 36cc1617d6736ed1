//! WeChat Pay's national-cryptography access (国密), feature `guomi`: merchants WeChat Pay enables
//! on request (government and state-owned customers, through their account manager or technical
//! support) get an SM2 merchant API certificate and key, and SM2 platform certificates.
//!
//! **One switch: the merchant key.** [`MerchantKey::from_pem`](crate::MerchantKey::from_pem) reads
//! an SM2 key too, and a client built with one is a Guomi client:
//! - requests are signed `WECHATPAY2-SM2-WITH-SM3`: the same message as RSA, an SM2 signature
//!   with SM3 and the standard signer id `1234567812345678`, DER-encoded, Base64;
//! - answers and notifications are verified with SM2 keys (`Wechatpay-Signature-Type:
//!   WECHATPAY2-SM2-WITH-SM3`); an answer signed with the other scheme than the key it names is a
//!   [`VerifyError::SchemeMismatch`](crate::VerifyError::SchemeMismatch) naming both;
//! - platform certificates come from `GET /v3/certificates?algorithm_type=SM2`;
//! - notifications and certificates are sealed `AEAD_SM4_GCM`: SM4-GCM whose key is the first 16
//!   bytes of SM3(APIv3 key) (the [`ApiV3Key`](crate::ApiV3Key) opens both algorithms);
//! - sensitive fields are encrypted with SM2 (C1C3C2, DER, Base64) for the SM2 WeChat Pay key;
//! - `Encrypted` answer fields and the file keys of encrypted bills are SM2-encrypted for the
//!   merchant, and open with its SM2 key.
//!
//! Built on RustCrypto's `sm2` (SM2DSA and SM2 encryption, GM/T 0003), `sm3` and `sm4`: the
//! maintained pure-Rust implementations (no C library to build, constant-time field arithmetic).

use rustls_pki_types::PrivateKeyDer;
use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::elliptic_curve::common::getrandom::SysRng;
use sm2::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use sm2::pke::{DecryptingKey, EncryptingKey, Mode};

use crate::keys::CryptoError;

/// The signer id of every WeChat Pay SM2 signature: GM/T 0009's default user id.
pub const SIGNER_ID: &str = "1234567812345678";

/// A merchant's SM2 private key.
pub(crate) struct Sm2PrivateKey {
    signing: sm2::dsa::SigningKey,
    decrypting: DecryptingKey,
}

impl Sm2PrivateKey {
    /// From a PKCS#8 or SEC1 document.
    pub(crate) fn from_der(der: &PrivateKeyDer<'_>) -> Result<Self, String> {
        let secret = match der {
            PrivateKeyDer::Pkcs8(der) => {
                sm2::SecretKey::from_pkcs8_der(der.secret_pkcs8_der()).map_err(|error| error.to_string())?
            }
            PrivateKeyDer::Sec1(der) => {
                sm2::SecretKey::from_sec1_der(der.secret_sec1_der()).map_err(|error| error.to_string())?
            }
            _ => return Err("an SM2 key must be PKCS#8 or SEC1".into()),
        };
        let signing = sm2::dsa::SigningKey::new(SIGNER_ID, &secret).map_err(|error| error.to_string())?;
        let decrypting = DecryptingKey::new_with_mode(secret.to_nonzero_scalar(), Mode::C1C3C2);
        Ok(Sm2PrivateKey { signing, decrypting })
    }

    /// SM2 with SM3 over `message`, DER.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let signature: sm2::dsa::Signature = self.signing.try_sign(message).map_err(|_| CryptoError::Sign)?;
        Ok(signature.to_der().to_vec())
    }

    /// SM2 decryption of a C1C3C2 DER ciphertext.
    pub(crate) fn decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.decrypting.decrypt_der(ciphertext).map_err(|_| CryptoError::Decrypt)
    }

    pub(crate) fn public_key(&self) -> Sm2PublicKey {
        let public: sm2::PublicKey = self.signing.verifying_key().into();
        Sm2PublicKey::new(public).expect("the public half of a valid key")
    }
}

/// A WeChat Pay SM2 public key (the public key or a platform certificate's).
#[derive(Clone)]
pub(crate) struct Sm2PublicKey {
    verifying: sm2::dsa::VerifyingKey,
    encrypting: EncryptingKey,
}

impl Sm2PublicKey {
    fn new(public: sm2::PublicKey) -> Result<Self, String> {
        let verifying = sm2::dsa::VerifyingKey::new(SIGNER_ID, public).map_err(|error| error.to_string())?;
        Ok(Sm2PublicKey { verifying, encrypting: EncryptingKey::new_with_mode(public, Mode::C1C3C2) })
    }

    /// From DER `SubjectPublicKeyInfo` (id-ecPublicKey on the SM2 curve).
    pub(crate) fn from_spki_der(der: &[u8]) -> Result<Self, String> {
        Self::new(sm2::PublicKey::from_public_key_der(der).map_err(|error| error.to_string())?)
    }

    /// Whether `signature` (DER) is this key's SM2-with-SM3 signature of `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match sm2::dsa::Signature::from_der(signature) {
            Ok(signature) => self.verifying.verify(message, &signature).is_ok(),
            Err(_) => false,
        }
    }

    /// SM2 encryption of `plaintext`, C1C3C2 DER.
    pub(crate) fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.encrypting.encrypt_der(&mut SysRng, plaintext).map_err(|_| CryptoError::Encrypt)
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;

    use super::*;
    use crate::{MerchantKey, PublicKey};

    const KEY: &str = include_str!("../tests/fixtures/keys/sm2/merchant_key.pem");

    #[test]
    fn an_sm2_key_signs_verifies_and_encrypts_both_ways() {
        let key = MerchantKey::from_pem(KEY).unwrap();
        assert_eq!(key.scheme(), crate::signer::SignatureScheme::Sm2);
        let public = key.public_key();
        let signature = key.sign(b"GET\n/v3/certificates?algorithm_type=SM2\n1554208460\nnonce\n\n");
        assert!(public.verify(b"GET\n/v3/certificates?algorithm_type=SM2\n1554208460\nnonce\n\n", &signature));
        assert!(!public.verify(b"GET\n/v3/certificates\n1554208460\nnonce\n\n", &signature));
        let der = BASE64.decode(&signature).unwrap();
        assert_eq!(der[0], 0x30, "RS_ASN1: a DER SEQUENCE of r and s");
        let sealed = public.encrypt("张三").unwrap();
        assert_eq!(key.decrypt(&sealed).unwrap(), "张三");
        let mut tampered = BASE64.decode(&sealed).unwrap();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(key.decrypt(&BASE64.encode(tampered)), Err(CryptoError::Decrypt));
        assert_eq!(format!("{public:?}"), "PublicKey(SM2)");
        let pem = include_str!("../tests/fixtures/keys/sm2/merchant_public.pem");
        assert!(PublicKey::from_pem(pem).unwrap().verify(b"x", &key.sign(b"x")));
    }

    fn hex(text: &str) -> Vec<u8> {
        let text: String = text.split_whitespace().collect();
        (0..text.len()).step_by(2).map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap()).collect()
    }

    /// The signature example of GM/T 0003.5 (GB/T 32918.5) on the recommended curve: the published
    /// key pair, the default user id `1234567812345678` (WeChat Pay's signer id), message
    /// `message digest`, and the published (r, s), which must verify through our SM2 public key;
    /// the private key must give the published public key.
    #[test]
    fn the_published_gm_t_0003_signature_verifies() {
        use sm2::dsa::signature::Verifier as _;
        let private = hex("3945208F 7B2144B1 3F36E38A C6D39F95 88939369 2860B51A 42FB81EF 4DF7C5B8");
        let public = [
            &[0x04][..],
            &hex("09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3 56F35020"),
            &hex("CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A 6632F607 2DA9AD13"),
        ]
        .concat();
        let id = SIGNER_ID;
        let signing = sm2::dsa::SigningKey::from_slice(id, &private).unwrap();
        assert_eq!(&*signing.verifying_key().to_sec1_bytes(), &public[..]);
        let verifying = sm2::dsa::VerifyingKey::from_sec1_bytes(id, &public).unwrap();
        let r: [u8; 32] =
            hex("F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC EEE720B3").try_into().unwrap();
        let s: [u8; 32] =
            hex("B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4 85BBC1AA").try_into().unwrap();
        let signature = sm2::dsa::Signature::from_scalars(r, s).unwrap();
        assert!(verifying.verify(b"message digest", &signature).is_ok());
        let ours = Sm2PublicKey::new(sm2::PublicKey::from_sec1_bytes(&public).unwrap()).unwrap();
        assert!(ours.verify(b"message digest", &signature.to_der().to_vec()));
        assert!(!ours.verify(b"message digesT", &signature.to_der().to_vec()));
        // Our own signatures of the same message with the same key verify too (deterministic per
        // RFC 6979, so not the published one, whose k was random).
        let mine: sm2::dsa::Signature = sm2::dsa::signature::Signer::sign(&signing, b"message digest");
        assert!(verifying.verify(b"message digest", &mine).is_ok());
    }
}

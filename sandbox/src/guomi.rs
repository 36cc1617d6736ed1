//! The sandbox's national cryptography (国密), for merchants on WeChat Pay's SM2 access: the SM2
//! keys of both sides (a keys folder's `sm2/`, or generated), SM2-with-SM3 signatures (signer id
//! `1234567812345678`, DER), SM2 encryption (C1C3C2, DER), SM4-GCM through `aes-gcm`'s generic GCM
//! (an assembly independent of the SDK's streaming one), SM3 digests. The rest of the sandbox
//! reaches it through small hooks: the `Authorization` scheme (`auth.rs`), the signing key's kind
//! (`respond.rs`, `notify.rs`), `?algorithm_type=SM2` and SM3 bill digests (`routes.rs`).

use std::path::Path;
use std::time::{Duration, SystemTime};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::cipher::consts::U12;
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::elliptic_curve::common::getrandom::SysRng;
use sm2::elliptic_curve::Generate as _;
use sm2::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _};
use sm2::pke::{DecryptingKey, EncryptingKey, Mode};
use x509_cert::der::asn1::BitString;
use x509_cert::der::{Encode as _, EncodePem as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

use crate::crypto;
use crate::keys::{self, Cert, Held, HeldKey, Keys, KeysError};

/// WeChat Pay's SM2 signer id.
pub(crate) const SIGNER_ID: &str = "1234567812345678";
/// The `Authorization` scheme of SM2 merchants, and the signature type of SM2 answers and
/// notifications.
pub(crate) const SCHEME: &str = "WECHATPAY2-SM2-WITH-SM3";
/// The resource algorithm of SM2 merchants' notifications and certificates.
pub(crate) const SM4_GCM: &str = "AEAD_SM4_GCM";
/// `SM2-with-SM3` (GM/T 0006), the signature algorithm of SM2 certificates.
const SM2_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");

/// The sub-folder of a keys folder that holds the SM2 keys.
const DIR: &str = "sm2";
/// `sm2/sandbox.json`: the SM2 public key's id (the other ids are the RSA merchant's).
const IDS: &str = "sandbox.json";

#[derive(Serialize, Deserialize)]
struct Ids {
    public_key_id: String,
}

/// An SM2 private key the sandbox holds.
pub(crate) struct Sm2Held {
    signing: sm2::dsa::SigningKey,
    decrypting: DecryptingKey,
}

impl Sm2Held {
    fn new(secret: &sm2::SecretKey) -> Result<Sm2Held, KeysError> {
        Ok(Sm2Held {
            signing: sm2::dsa::SigningKey::new(SIGNER_ID, secret)
                .map_err(|error| KeysError(format!("an SM2 signing key: {error}")))?,
            decrypting: DecryptingKey::new_with_mode(secret.to_nonzero_scalar(), Mode::C1C3C2),
        })
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

/// The SM2 keys of an instance: the merchant's and WeChat Pay's.
pub(crate) struct Sm2Keys {
    /// The merchant's SM2 public key: verifies its requests, encrypts for it.
    pub(crate) merchant: sm2::PublicKey,
    merchant_private_pem: String,
    merchant_public_pem: String,
    /// The SM2 WeChat Pay public key ([`crate::Signer::Sm2PublicKey`]).
    pub(crate) public_key: Held,
    /// The SM2 platform certificate ([`crate::Signer::Sm2Platform`]).
    pub(crate) platform: Held,
}

impl Sm2Keys {
    /// Three fresh SM2 pairs (merchant, public key, platform certificate valid five years) and a
    /// random public key id.
    pub(crate) fn generate() -> Result<Sm2Keys, KeysError> {
        let merchant = sm2::SecretKey::generate();
        let public_key = sm2::SecretKey::generate();
        let platform = sm2::SecretKey::generate();
        let now = SystemTime::now();
        let cert = certificate(&platform, now - 86_400 * keys::ONE_SEC, now + Duration::from_secs(5 * 365 * 86_400))?;
        Ok(Sm2Keys {
            merchant: merchant.public_key(),
            merchant_private_pem: private_pem(&merchant)?,
            merchant_public_pem: public_pem(&merchant.public_key())?,
            public_key: held(format!("PUB_KEY_ID_01{}", crypto::random_digits(28)), &public_key, None)?,
            platform: held(String::new(), &platform, Some(cert))?,
        })
    }

    /// Whether `dir` holds SM2 keys (its `sm2/` sub-folder).
    pub(crate) fn present(dir: &Path) -> bool {
        dir.join(DIR).join(IDS).exists()
    }

    /// The SM2 keys in `dir`'s `sm2/`, `None` when it has none.
    pub(crate) fn load(dir: &Path) -> Result<Option<Sm2Keys>, KeysError> {
        if !Sm2Keys::present(dir) {
            return Ok(None);
        }
        let dir = dir.join(DIR);
        let fail =
            |name: &str, error: &dyn std::fmt::Display| KeysError(format!("{}: {error}", dir.join(name).display()));
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).map_err(|error| fail(name, &error));
        let secret = |name: &str| sm2::SecretKey::from_pkcs8_pem(&read(name)?).map_err(|error| fail(name, &error));
        let ids: Ids = serde_json::from_str(&read(IDS)?).map_err(|error| fail(IDS, &error))?;
        let merchant_public_pem = read("merchant_public.pem")?;
        let merchant = sm2::PublicKey::from_public_key_pem(&merchant_public_pem)
            .map_err(|error| fail("merchant_public.pem", &error))?;
        let cert =
            keys::parse_certificate(&read("platform_cert.pem")?).map_err(|error| fail("platform_cert.pem", &error))?;
        Ok(Some(Sm2Keys {
            merchant,
            merchant_private_pem: read("merchant_key.pem")?,
            merchant_public_pem,
            public_key: held(ids.public_key_id, &secret("wechatpay_pub_key_private.pem")?, None)?,
            platform: held(String::new(), &secret("platform_key.pem")?, Some(cert))?,
        }))
    }

    /// Writes the SM2 files into `dir`'s `sm2/` (created if missing).
    pub(crate) fn write(&self, dir: &Path) -> Result<(), KeysError> {
        let dir = dir.join(DIR);
        let fail = |error: std::io::Error| KeysError(format!("{}: {error}", dir.display()));
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let ids = Ids { public_key_id: self.public_key.id.clone() };
        let ids = serde_json::to_string_pretty(&ids).map_err(|error| KeysError(error.to_string()))?;
        let cert = self.platform.cert.as_ref().map(|cert| cert.pem.clone()).unwrap_or_default();
        let files = [
            (IDS, ids + "\n"),
            ("merchant_key.pem", self.merchant_private_pem.clone()),
            ("merchant_public.pem", self.merchant_public_pem.clone()),
            ("wechatpay_pub_key.pem", self.public_key.public_pem.clone()),
            ("wechatpay_pub_key_private.pem", self.public_key.private_pem.clone()),
            ("platform_cert.pem", cert),
            ("platform_key.pem", self.platform.private_pem.clone()),
        ];
        for (name, contents) in files {
            keys::write_private(&dir.join(name), contents.as_bytes()).map_err(fail)?;
        }
        Ok(())
    }

    pub(crate) fn merchant_private_pem(&self) -> &str {
        &self.merchant_private_pem
    }

    pub(crate) fn merchant_public_pem(&self) -> &str {
        &self.merchant_public_pem
    }
}

fn held(id: String, secret: &sm2::SecretKey, cert: Option<Cert>) -> Result<Held, KeysError> {
    let key = HeldKey::Sm2(Box::new(Sm2Held::new(secret)?));
    Held::new(id, key, private_pem(secret)?, public_pem(&secret.public_key())?, cert)
}

fn private_pem(secret: &sm2::SecretKey) -> Result<String, KeysError> {
    secret
        .to_pkcs8_pem(sm2::pkcs8::LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|error| KeysError(format!("cannot encode an SM2 private key: {error}")))
}

fn public_pem(public: &sm2::PublicKey) -> Result<String, KeysError> {
    public
        .to_public_key_pem(sm2::pkcs8::LineEnding::LF)
        .map_err(|error| KeysError(format!("cannot encode an SM2 public key: {error}")))
}

/// A self-signed SM2-with-SM3 certificate for `secret`. Assembled from its parts: x509-cert's
/// builder takes signers of the RustCrypto generation before `sm2`'s.
fn certificate(secret: &sm2::SecretKey, not_before: SystemTime, not_after: SystemTime) -> Result<Cert, KeysError> {
    let fail = |error: &dyn std::fmt::Display| KeysError(format!("cannot make the SM2 platform certificate: {error}"));
    let subject: Name =
        "CN=Tenpay.com Root CA,OU=Sandbox platform certificate (SM2) (TEST ONLY),O=Tenpay.com,L=Shenzhen,ST=Guangdong,C=CN"
            .parse()
            .map_err(|error| fail(&error))?;
    let spki_der = secret.public_key().to_public_key_der().map_err(|error| fail(&error))?;
    let algorithm = AlgorithmIdentifierOwned { oid: SM2_WITH_SM3, parameters: None };
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&keys::serial_bytes()).map_err(|error| fail(&error))?,
        signature: algorithm.clone(),
        issuer: subject.clone(),
        validity: Validity {
            not_before: Time::try_from(not_before).map_err(|error| fail(&error))?,
            not_after: Time::try_from(not_after).map_err(|error| fail(&error))?,
        },
        subject,
        subject_public_key_info: SubjectPublicKeyInfoOwned::try_from(spki_der.as_bytes())
            .map_err(|error| fail(&error))?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: None,
    };
    let signed = tbs.to_der().map_err(|error| fail(&error))?;
    let signature = Sm2Held::new(secret)?.sign(&signed);
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(&signature).map_err(|error| fail(&error))?,
    };
    let pem = cert.to_pem(x509_cert::der::pem::LineEnding::LF).map_err(|error| fail(&error))?;
    keys::parse_certificate(&pem)
}

/// `Ok` when `signature` (Base64 DER) is the SM2 merchant's signature of `message`.
pub(crate) fn verify_merchant(keys: &Keys, message: &[u8], signature: &str) -> Result<(), &'static str> {
    let der = BASE64.decode(signature).map_err(|_| "signature is not valid Base64")?;
    let signature = sm2::dsa::Signature::from_der(&der).map_err(|_| "signature is not an SM2 DER signature")?;
    let verifying = sm2::dsa::VerifyingKey::new(SIGNER_ID, keys.sm2.merchant).map_err(|_| "the SM2 merchant key")?;
    verifying.verify(message, &signature).map_err(|_| "signature does not verify with the SM2 merchant public key")
}

/// SM2 encryption for the merchant (C1C3C2 DER, Base64): bill file keys.
pub(crate) fn encrypt_for_merchant(keys: &Keys, plaintext: &[u8]) -> String {
    let key = EncryptingKey::new_with_mode(keys.sm2.merchant, Mode::C1C3C2);
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
    if nonce.len() != 12 {
        return String::new();
    }
    let Ok(cipher) = Sm4Gcm::new_from_slice(key) else {
        return String::new();
    };
    let payload = Payload { msg: plaintext, aad: aad.as_bytes() };
    cipher.encrypt(nonce.as_bytes().into(), payload).map(|sealed| BASE64.encode(sealed)).unwrap_or_default()
}

/// SM3 of `bytes`, hex.
pub(crate) fn sm3_hex(bytes: &[u8]) -> String {
    use sm3::Digest as _;
    crypto::hex_lower(&sm3::Sm3::digest(bytes))
}

/// SM3 of the concatenated pieces, hex.
pub(crate) fn sm3_hex_of(pieces: impl Iterator<Item = bytes::Bytes>) -> String {
    use sm3::Digest as _;
    let mut hasher = sm3::Sm3::new();
    for piece in pieces {
        hasher.update(&piece);
    }
    crypto::hex_lower(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use sm2::dsa::signature::Verifier as _;
    use sm2::pkcs8::DecodePublicKey as _;
    use x509_cert::der::{DecodePem as _, Encode as _};

    use super::*;

    /// The generated certificate is a self-signed SM2-with-SM3 certificate of the platform key, and
    /// the keys written to a folder load back the same.
    #[test]
    fn generated_sm2_keys_make_a_verifiable_certificate_and_load_back() {
        let keys = Sm2Keys::generate().unwrap();
        let pem = &keys.platform.cert.as_ref().unwrap().pem;
        let cert = Certificate::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(cert.signature_algorithm.oid, SM2_WITH_SM3);
        let spki = cert.tbs_certificate.subject_public_key_info.to_der().unwrap();
        let public = sm2::PublicKey::from_public_key_der(&spki).unwrap();
        let signature = sm2::dsa::Signature::from_der(cert.signature.raw_bytes()).unwrap();
        let verifying = sm2::dsa::VerifyingKey::new(SIGNER_ID, public).unwrap();
        verifying.verify(&cert.tbs_certificate.to_der().unwrap(), &signature).unwrap();
        assert_eq!(keys.platform.id, crypto::hex_upper(cert.tbs_certificate.serial_number.as_bytes()));

        let dir = std::env::temp_dir().join(format!("sandbox-sm2-{}", crypto::random_alphanumeric(12)));
        keys.write(&dir).unwrap();
        let loaded = Sm2Keys::load(&dir).unwrap().expect("sm2/ was written");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            (&loaded.public_key.id, &loaded.platform.id, loaded.merchant),
            (&keys.public_key.id, &keys.platform.id, keys.merchant)
        );
        assert!(Sm2Keys::load(&dir).unwrap().is_none(), "no sm2/: nothing to load");
    }
}

//! The key material of both sides: the merchant's (whose signatures the sandbox checks, and which a
//! client under test signs with) and WeChat Pay's (the public key and the platform certificates the
//! sandbox signs with). Generated at start or loaded from a folder, and exported as PEM files.
//!
//! A keys folder holds these files (the names of `tests/fixtures/keys/` in this repository):
//!
//! | file | what |
//! | --- | --- |
//! | `sandbox.json` | `{"mchid": …, "merchant_serial": …, "public_key_id": …}` |
//! | `apiv3_key.txt` | the APIv3 key, 32 ASCII characters |
//! | `merchant_key.pem`, `merchant_public.pem` | the merchant API key (PKCS#8) and its public key |
//! | `wechatpay_pub_key.pem`, `wechatpay_pub_key_private.pem` | the WeChat Pay public key and its private half |
//! | `platform_cert.pem`, `platform_key.pem` | the platform certificate (self-signed) and its key |
//! | `platform2_cert.pem`, `platform2_key.pem` | the second platform certificate (rotation) |
//! | `platform_expired_cert.pem`, `platform_expired_key.pem` | an expired platform certificate |
//! | `sm2/sandbox.json` | `{"public_key_id": …}`: the id of the SM2 WeChat Pay public key |
//! | `sm2/merchant_key.pem`, `sm2/merchant_public.pem` | a national-cryptography (国密) merchant's SM2 key (PKCS#8) and its public key |
//! | `sm2/wechatpay_pub_key.pem`, `sm2/wechatpay_pub_key_private.pem` | the SM2 WeChat Pay public key and its private half |
//! | `sm2/platform_cert.pem`, `sm2/platform_key.pem` | the SM2 platform certificate (SM2-with-SM3) and its key |
//! | `apiclient_cert.pem` | the merchant's API client certificate (for `merchant_key.pem`; CN the merchant id) |
//! | `tls/ca.pem`, `tls/ca_key.pem` | the sandbox CA, which clients trust for HTTPS and which issues both TLS certificates |
//! | `tls/server_cert.pem`, `tls/server_key.pem` | the HTTPS server's certificate (`127.0.0.1`, `::1`, `localhost`) |
//!
//! The SM2 merchant has the RSA merchant's id and serial: the scheme of its `Authorization` header
//! says which key verifies it. A folder without `sm2/` (written before the sandbox knew Guomi) or
//! without the TLS files (before it spoke HTTPS) still loads: what is missing is generated, and
//! [`Keys::load_or_generate`] writes it there.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rsa::pkcs1v15::{SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use x509_cert::builder::{Builder as _, CertificateBuilder, Profile};
use x509_cert::der::{DecodePem as _, EncodePem as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use crate::crypto;
use crate::guomi::{Sm2Held, Sm2Keys};
use crate::tls::TlsKeys;
use crate::{CertChoice, Signer};

/// A serial no key has: what [`Misbehaviour::UnknownSerial`](crate::Misbehaviour::UnknownSerial)
/// and [`Tamper::UnknownSerial`](crate::Tamper::UnknownSerial) send.
pub const UNKNOWN_SERIAL: &str = "1DCE8A9F0A3E2B4C5D6E7F8091A2B3C4D5E6F708";

/// A key the sandbox cannot use, with the file or step and the reason.
#[derive(Debug)]
pub struct KeysError(pub(crate) String);

impl std::fmt::Display for KeysError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeysError {}

/// One WeChat Pay key pair the sandbox holds.
pub(crate) struct Held {
    /// The `Wechatpay-Serial` value: the public-key id or the certificate serial.
    pub id: String,
    pub key: HeldKey,
    pub private_pem: String,
    pub public_pem: String,
    /// The certificate, for platform keys.
    pub cert: Option<Cert>,
}

/// The private half of a WeChat Pay key: RSA, or SM2 for national-cryptography merchants.
pub(crate) enum HeldKey {
    Rsa { private: Box<RsaPrivateKey>, signing: Box<SigningKey<Sha256>> },
    Sm2(Box<Sm2Held>),
}

impl Held {
    /// A key pair; with a certificate, its serial is the id, whatever the caller named it.
    pub(crate) fn new(
        id: String,
        key: HeldKey,
        private_pem: String,
        public_pem: String,
        cert: Option<Cert>,
    ) -> Result<Held, KeysError> {
        let id = match &cert {
            Some(cert) => certificate_serial(&cert.pem)?,
            None => id,
        };
        Ok(Held { id, key, private_pem, public_pem, cert })
    }

    pub(crate) fn is_sm2(&self) -> bool {
        matches!(self.key, HeldKey::Sm2(_))
    }
}

pub(crate) struct Cert {
    pub pem: String,
    pub not_before: i64,
    pub not_after: i64,
}

/// Everything both sides need: ids, the merchant's key, WeChat Pay's keys, the APIv3 key.
///
/// `Debug` shows the ids only, never a private key or the APIv3 key.
pub struct Keys {
    mchid: String,
    merchant_serial: String,
    apiv3_key: String,
    merchant_private_pem: String,
    merchant_public_pem: String,
    /// The CA, the server's certificate, the merchant's API client certificate (`tls.rs`).
    pub(crate) tls: TlsKeys,
    pub(crate) merchant: VerifyingKey<Sha256>,
    pub(crate) public_key: Held,
    pub(crate) platform: Held,
    pub(crate) platform2: Held,
    pub(crate) expired: Held,
    /// The national-cryptography side (`guomi.rs`).
    pub(crate) sm2: Sm2Keys,
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("public_key_id", &self.public_key.id)
            .field("platform_serials", &[&self.platform.id, &self.platform2.id, &self.expired.id])
            .field("sm2_public_key_id", &self.sm2.public_key.id)
            .field("sm2_platform_serial", &self.sm2.platform.id)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct Ids {
    mchid: String,
    merchant_serial: String,
    public_key_id: String,
}

const IDS: &str = "sandbox.json";
const APIV3_KEY: &str = "apiv3_key.txt";

impl Keys {
    /// Fresh keys: four RSA-2048 pairs (merchant, public key, two platform certificates; the
    /// expired certificate reuses the first platform key), three SM2 pairs (merchant, public key,
    /// platform certificate), random ids, a random APIv3 key.
    pub fn generate() -> Result<Keys, KeysError> {
        let pairs: Vec<Result<RsaPrivateKey, KeysError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
                            .map_err(|error| KeysError(format!("cannot generate an RSA key: {error}")))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap_or_else(|_| Err(KeysError("key generation panicked".into()))))
                .collect()
        });
        let mut pairs = pairs.into_iter().collect::<Result<Vec<_>, _>>()?.into_iter();
        let mut next = || pairs.next().ok_or_else(|| KeysError("key generation gave too few keys".into()));
        let (merchant, public_key, platform, platform2) = (next()?, next()?, next()?, next()?);
        let now = SystemTime::now();
        let year = Duration::from_secs(365 * 86_400);
        let platform_cert =
            certificate(&platform, "Sandbox platform certificate", now - 86_400 * ONE_SEC, now + 5 * year)?;
        let platform2_cert =
            certificate(&platform2, "Sandbox platform certificate (rotation)", now - 86_400 * ONE_SEC, now + 5 * year)?;
        let expired_cert =
            certificate(&platform, "Sandbox platform certificate (expired)", now - 2 * year, now - year)?;
        let merchant_public_pem = public_pem(&RsaPublicKey::from(&merchant))?;
        let mchid = format!("19{:08}", rand::random::<u32>() % 100_000_000);
        let merchant_serial = crypto::hex_upper(&serial_bytes());
        Ok(Keys {
            tls: TlsKeys::generate(&mchid, &merchant_serial, &RsaPublicKey::from(&merchant))?,
            mchid,
            merchant_serial,
            apiv3_key: crypto::random_alphanumeric(32),
            merchant_private_pem: private_pem(&merchant)?,
            merchant_public_pem,
            merchant: VerifyingKey::new(RsaPublicKey::from(&merchant)),
            public_key: held(format!("PUB_KEY_ID_01{}", crypto::random_digits(28)), public_key, None)?,
            platform: held(String::new(), platform.clone(), Some(platform_cert))?,
            platform2: held(String::new(), platform2, Some(platform2_cert))?,
            expired: held(String::new(), platform, Some(expired_cert))?,
            sm2: Sm2Keys::generate()?,
            dir: None,
        })
    }

    /// The keys in `dir` (the layout of the module documentation).
    pub fn load(dir: impl AsRef<Path>) -> Result<Keys, KeysError> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|error| KeysError(format!("{}: {error}", dir.join(name).display())))
        };
        let ids: Ids = serde_json::from_str(&read(IDS)?)
            .map_err(|error| KeysError(format!("{}: {error}", dir.join(IDS).display())))?;
        let apiv3_key = read(APIV3_KEY)?.trim().to_owned();
        if apiv3_key.len() != 32 || !apiv3_key.is_ascii() {
            return Err(KeysError(format!(
                "{}: the APIv3 key must be 32 ASCII characters",
                dir.join(APIV3_KEY).display()
            )));
        }
        let private = |name: &str| {
            RsaPrivateKey::from_pkcs8_pem(&read(name)?)
                .map_err(|error| KeysError(format!("{}: {error}", dir.join(name).display())))
        };
        let cert = |name: &str| -> Result<Cert, KeysError> {
            parse_certificate(&read(name)?).map_err(|error| KeysError(format!("{}: {error}", dir.join(name).display())))
        };
        let merchant_public_pem = read("merchant_public.pem")?;
        let merchant = RsaPublicKey::from_public_key_pem(&merchant_public_pem)
            .map_err(|error| KeysError(format!("{}: {error}", dir.join("merchant_public.pem").display())))?;
        let tls = match TlsKeys::load(dir)? {
            Some(tls) => tls,
            None => TlsKeys::generate(&ids.mchid, &ids.merchant_serial, &merchant)?,
        };
        Ok(Keys {
            tls,
            mchid: ids.mchid,
            merchant_serial: ids.merchant_serial,
            apiv3_key,
            merchant_private_pem: read("merchant_key.pem")?,
            merchant_public_pem,
            merchant: VerifyingKey::new(merchant),
            public_key: held(ids.public_key_id, private("wechatpay_pub_key_private.pem")?, None)?,
            platform: held(String::new(), private("platform_key.pem")?, Some(cert("platform_cert.pem")?))?,
            platform2: held(String::new(), private("platform2_key.pem")?, Some(cert("platform2_cert.pem")?))?,
            expired: held(
                String::new(),
                private("platform_expired_key.pem")?,
                Some(cert("platform_expired_cert.pem")?),
            )?,
            sm2: match Sm2Keys::load(dir)? {
                Some(sm2) => sm2,
                None => Sm2Keys::generate()?,
            },
            dir: Some(dir.to_path_buf()),
        })
    }

    /// The keys in `dir` when it holds them, else fresh ones written there (the folder is created).
    pub fn load_or_generate(dir: impl AsRef<Path>) -> Result<Keys, KeysError> {
        let dir = dir.as_ref();
        if dir.join(IDS).exists() {
            let keys = Keys::load(dir)?;
            if !Sm2Keys::present(dir) {
                keys.sm2.write(dir)?;
            }
            if !TlsKeys::present(dir) {
                keys.tls.write(dir)?;
            }
            return Ok(keys);
        }
        let mut keys = Keys::generate()?;
        keys.write(dir)?;
        Ok(keys)
    }

    /// Writes every file of the layout into `dir` (created if missing); the keys remember it.
    pub fn write(&mut self, dir: impl AsRef<Path>) -> Result<(), KeysError> {
        let dir = dir.as_ref();
        let fail = |error: std::io::Error| KeysError(format!("{}: {error}", dir.display()));
        std::fs::create_dir_all(dir).map_err(fail)?;
        let ids = Ids {
            mchid: self.mchid.clone(),
            merchant_serial: self.merchant_serial.clone(),
            public_key_id: self.public_key.id.clone(),
        };
        let ids = serde_json::to_string_pretty(&ids).map_err(|error| KeysError(error.to_string()))?;
        let cert_pem = |held: &Held| held.cert.as_ref().map(|cert| cert.pem.clone()).unwrap_or_default();
        let files = [
            (IDS, ids + "\n"),
            (APIV3_KEY, format!("{}\n", self.apiv3_key)),
            ("merchant_key.pem", self.merchant_private_pem.clone()),
            ("merchant_public.pem", self.merchant_public_pem.clone()),
            ("wechatpay_pub_key.pem", self.public_key.public_pem.clone()),
            ("wechatpay_pub_key_private.pem", self.public_key.private_pem.clone()),
            ("platform_cert.pem", cert_pem(&self.platform)),
            ("platform_key.pem", self.platform.private_pem.clone()),
            ("platform2_cert.pem", cert_pem(&self.platform2)),
            ("platform2_key.pem", self.platform2.private_pem.clone()),
            ("platform_expired_cert.pem", cert_pem(&self.expired)),
            ("platform_expired_key.pem", self.expired.private_pem.clone()),
        ];
        for (name, contents) in files {
            write_private(&dir.join(name), contents.as_bytes()).map_err(fail)?;
        }
        self.sm2.write(dir)?;
        self.tls.write(dir)?;
        self.dir = Some(dir.to_path_buf());
        Ok(())
    }

    /// The merchant id (`mchid`) the sandbox expects in every `Authorization` header.
    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// The merchant API certificate's serial (`serial_no` in `Authorization`).
    pub fn merchant_serial(&self) -> &str {
        &self.merchant_serial
    }

    /// The merchant's private key (PKCS#8 PEM), which the client signs with.
    pub fn merchant_key_pem(&self) -> &str {
        &self.merchant_private_pem
    }

    /// The merchant's public key (SPKI PEM), which the sandbox verifies with.
    pub fn merchant_public_key_pem(&self) -> &str {
        &self.merchant_public_pem
    }

    /// The id of the WeChat Pay public key (`PUB_KEY_ID_…`).
    pub fn public_key_id(&self) -> &str {
        &self.public_key.id
    }

    /// The WeChat Pay public key (SPKI PEM).
    pub fn public_key_pem(&self) -> &str {
        &self.public_key.public_pem
    }

    /// The APIv3 key (notifications and certificate downloads are sealed with it).
    pub fn apiv3_key(&self) -> &str {
        &self.apiv3_key
    }

    /// The serial of a platform certificate (upper-case hex, as `Wechatpay-Serial` carries it).
    pub fn platform_serial(&self, which: CertChoice) -> &str {
        &self.certificate(which).id
    }

    /// A platform certificate (PEM).
    pub fn platform_certificate_pem(&self, which: CertChoice) -> &str {
        self.certificate(which).cert.as_ref().map_or("", |cert| cert.pem.as_str())
    }

    /// The id or serial a signer signs under.
    pub fn signer_id(&self, signer: Signer) -> &str {
        &self.signer(signer).id
    }

    /// The national-cryptography merchant's SM2 private key (PKCS#8 PEM): a client signs
    /// `WECHATPAY2-SM2-WITH-SM3` with it (same `mchid` and serial as the RSA merchant).
    pub fn sm2_merchant_key_pem(&self) -> &str {
        self.sm2.merchant_private_pem()
    }

    /// The SM2 merchant's public key (SPKI PEM).
    pub fn sm2_merchant_public_key_pem(&self) -> &str {
        self.sm2.merchant_public_pem()
    }

    /// The id of the SM2 WeChat Pay public key ([`Signer::Sm2PublicKey`]).
    pub fn sm2_public_key_id(&self) -> &str {
        &self.sm2.public_key.id
    }

    /// The SM2 WeChat Pay public key (SPKI PEM).
    pub fn sm2_public_key_pem(&self) -> &str {
        &self.sm2.public_key.public_pem
    }

    /// The folder the keys were loaded from or written to.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    pub(crate) fn signer(&self, signer: Signer) -> &Held {
        match signer {
            Signer::PublicKey => &self.public_key,
            Signer::Platform => &self.platform,
            Signer::Platform2 => &self.platform2,
            Signer::Sm2PublicKey => &self.sm2.public_key,
            Signer::Sm2Platform => &self.sm2.platform,
        }
    }

    pub(crate) fn certificate(&self, choice: CertChoice) -> &Held {
        match choice {
            CertChoice::Platform => &self.platform,
            CertChoice::Platform2 => &self.platform2,
            CertChoice::Expired => &self.expired,
            CertChoice::Sm2Platform => &self.sm2.platform,
        }
    }

    /// The key a client may have encrypted a sensitive field with, by `Wechatpay-Serial`: the
    /// public keys and the platform certificates that have not expired (case ignored).
    pub(crate) fn encryption_key(&self, serial: &str) -> Option<&Held> {
        let now = crypto::unix_now();
        [&self.public_key, &self.platform, &self.platform2, &self.expired, &self.sm2.public_key, &self.sm2.platform]
            .into_iter()
            .find(|held| held.id.eq_ignore_ascii_case(serial))
            .filter(|held| !matches!(&held.cert, Some(cert) if cert.not_after <= now))
    }
}

pub(crate) const ONE_SEC: Duration = Duration::from_secs(1);

fn held(id: String, private: RsaPrivateKey, cert: Option<Cert>) -> Result<Held, KeysError> {
    let (private_pem, public_pem) = (private_pem(&private)?, public_pem(&RsaPublicKey::from(&private))?);
    let key = HeldKey::Rsa { signing: Box::new(SigningKey::new(private.clone())), private: Box::new(private) };
    Held::new(id, key, private_pem, public_pem, cert)
}

fn private_pem(key: &RsaPrivateKey) -> Result<String, KeysError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|error| KeysError(format!("cannot encode a private key: {error}")))
}

fn public_pem(key: &RsaPublicKey) -> Result<String, KeysError> {
    key.to_public_key_pem(LineEnding::LF).map_err(|error| KeysError(format!("cannot encode a public key: {error}")))
}

/// 20 random bytes, the first below 0x80 and not zero, so the DER serial has no leading zero and
/// its hex is the same however a client prints it.
pub(crate) fn serial_bytes() -> Vec<u8> {
    let mut bytes = crypto::random_bytes(20);
    bytes[0] = (bytes[0] & 0x7f).max(0x10);
    bytes
}

/// A self-signed certificate for `key`, valid from `not_before` to `not_after`.
fn certificate(
    key: &RsaPrivateKey,
    unit: &str,
    not_before: SystemTime,
    not_after: SystemTime,
) -> Result<Cert, KeysError> {
    let fail = |error: &dyn std::fmt::Display| KeysError(format!("cannot make a platform certificate: {error}"));
    let subject: Name =
        format!("CN=Tenpay.com Root CA,OU={unit} (TEST ONLY),O=Tenpay.com,L=Shenzhen,ST=Guangdong,C=CN")
            .parse()
            .map_err(|error| fail(&error))?;
    let validity = Validity {
        not_before: Time::try_from(not_before).map_err(|error| fail(&error))?,
        not_after: Time::try_from(not_after).map_err(|error| fail(&error))?,
    };
    let spki_der = RsaPublicKey::from(key).to_public_key_der().map_err(|error| fail(&error))?;
    let spki = SubjectPublicKeyInfoOwned::try_from(spki_der.as_bytes()).map_err(|error| fail(&error))?;
    let serial = SerialNumber::new(&serial_bytes()).map_err(|error| fail(&error))?;
    let signer = SigningKey::<Sha256>::new(key.clone());
    let builder = CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &signer)
        .map_err(|error| fail(&error))?;
    let cert = builder.build::<rsa::pkcs1v15::Signature>().map_err(|error| fail(&error))?;
    let pem = cert.to_pem(x509_cert::der::pem::LineEnding::LF).map_err(|error| fail(&error))?;
    parse_certificate(&pem)
}

pub(crate) fn parse_certificate(pem: &str) -> Result<Cert, KeysError> {
    let cert =
        Certificate::from_pem(pem.as_bytes()).map_err(|error| KeysError(format!("not a certificate: {error}")))?;
    let validity = &cert.tbs_certificate.validity;
    Ok(Cert {
        pem: pem.to_owned(),
        not_before: validity.not_before.to_unix_duration().as_secs() as i64,
        not_after: validity.not_after.to_unix_duration().as_secs() as i64,
    })
}

/// The serial of a PEM certificate, upper-case hex.
fn certificate_serial(pem: &str) -> Result<String, KeysError> {
    let cert =
        Certificate::from_pem(pem.as_bytes()).map_err(|error| KeysError(format!("not a certificate: {error}")))?;
    Ok(crypto::hex_upper(cert.tbs_certificate.serial_number.as_bytes()))
}

/// Writes a file readable by its owner only (Unix): it may hold a private key.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    std::io::Write::write_all(&mut options.open(path)?, contents)
}

//! The merchant's settings, from flags, `WECHATPAY_*` variables and a TOML file (in that order of
//! precedence), and what they build: a client, the WeChat Pay keys, the APIv3 key.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use wechatpay::{ApiV3Key, Client, MerchantKey, PlatformCertificate, PublicKey, RootCertificates, WechatpayKeys};

use crate::args::MerchantArgs;
use crate::failure::Failure;

/// The TOML file: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    mchid: Option<String>,
    merchant_serial: Option<String>,
    merchant_key_file: Option<PathBuf>,
    public_key_id: Option<String>,
    public_key_file: Option<PathBuf>,
    apiv3_key_file: Option<PathBuf>,
    certificates: Option<PathBuf>,
    base_url: Option<String>,
    ca_file: Option<PathBuf>,
}

/// The settings, resolved. Holds paths and ids only: keys are read when used, and `Debug` shows
/// nothing secret.
#[derive(Debug)]
pub struct Settings {
    pub mchid: Option<String>,
    pub merchant_serial: Option<String>,
    pub merchant_key_file: Option<PathBuf>,
    pub public_key_id: Option<String>,
    pub public_key_file: Option<PathBuf>,
    pub apiv3_key_file: Option<PathBuf>,
    pub certificates: Option<PathBuf>,
    pub base_url: Option<String>,
    pub ca_file: Option<PathBuf>,
}

impl Settings {
    pub fn resolve(args: MerchantArgs) -> Result<Settings, Failure> {
        let file = match &args.config {
            None => File::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|error| Failure::usage(format!("config {}: {error}", path.display())))?;
                toml::from_str(&text)
                    .map_err(|error| Failure::usage(format!("config {}: {}", path.display(), error.message())))?
            }
        };
        // Paths in the file are relative to the file.
        let base = args.config.as_deref().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
        let relative = |path: Option<PathBuf>| path.map(|path| base.join(path));
        Ok(Settings {
            mchid: args.mchid.or(file.mchid),
            merchant_serial: args.merchant_serial.or(file.merchant_serial),
            merchant_key_file: args.merchant_key_file.or(relative(file.merchant_key_file)),
            public_key_id: args.public_key_id.or(file.public_key_id),
            public_key_file: args.public_key_file.or(relative(file.public_key_file)),
            apiv3_key_file: args.apiv3_key_file.or(relative(file.apiv3_key_file)),
            certificates: args.certificates.or(relative(file.certificates)),
            base_url: args.base_url.or(file.base_url),
            ca_file: args.ca_file.or(relative(file.ca_file)),
        })
    }

    /// The APIv3 key: `WECHATPAY_APIV3_KEY`, else the key file; `None` when neither is set.
    pub fn apiv3_key(&self) -> Result<Option<ApiV3Key>, Failure> {
        let text = match (std::env::var("WECHATPAY_APIV3_KEY").ok().filter(|key| !key.is_empty()), &self.apiv3_key_file)
        {
            (Some(key), _) => key,
            (None, Some(path)) => read(path, "the APIv3 key file")?.trim().to_owned(),
            (None, None) => return Ok(None),
        };
        ApiV3Key::new(&text).map(Some).map_err(|error| Failure::usage(format!("the APIv3 key: {error}")))
    }

    /// The WeChat Pay keys configured: the public key and the certificates of the folder.
    pub fn wechatpay_keys(&self) -> Result<WechatpayKeys, Failure> {
        let keys = match (&self.public_key_id, &self.public_key_file) {
            (Some(id), Some(path)) => {
                let key = PublicKey::from_pem(&read(path, "the public key file")?)
                    .map_err(|error| Failure::usage(format!("{}: {error}", path.display())))?;
                WechatpayKeys::with_public_key(id.clone(), key)
            }
            (None, None) => WechatpayKeys::with_certificates([]),
            _ => {
                return Err(Failure::usage(
                    "the public key needs both its id and its file (--public-key-id, --public-key-file)",
                ))
            }
        };
        keys.add_certificates(self.platform_certificates()?);
        Ok(keys)
    }

    fn platform_certificates(&self) -> Result<Vec<PlatformCertificate>, Failure> {
        let Some(dir) = &self.certificates else {
            return Ok(Vec::new());
        };
        let entries = std::fs::read_dir(dir).map_err(|error| Failure::usage(format!("{}: {error}", dir.display())))?;
        let mut certificates = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|extension| extension == "pem") {
                let certificate = PlatformCertificate::from_pem(&read(&path, "a certificate")?)
                    .map_err(|error| Failure::usage(format!("{}: {error}", path.display())))?;
                certificates.push(certificate);
            }
        }
        Ok(certificates)
    }

    /// A client: the merchant's id, serial and key are required; WeChat Pay's keys are the
    /// public key, the certificates folder, and downloads with the APIv3 key.
    pub fn client(&self) -> Result<Client, Failure> {
        let need = |value: &Option<String>, what: &str, flag: &str| {
            value.clone().ok_or_else(|| Failure::usage(format!("{what} is not set ({flag})")))
        };
        let mchid = need(&self.mchid, "the merchant id", "--mchid or WECHATPAY_MCHID")?;
        let serial =
            need(&self.merchant_serial, "the merchant serial", "--merchant-serial or WECHATPAY_MERCHANT_SERIAL")?;
        let key_file = self.merchant_key_file.as_ref().ok_or_else(|| {
            Failure::usage("the merchant key file is not set (--merchant-key-file or WECHATPAY_MERCHANT_KEY_FILE)")
        })?;
        let key = MerchantKey::from_pem(&read(key_file, "the merchant key file")?)
            .map_err(|error| Failure::usage(format!("{}: {error}", key_file.display())))?;
        let mut builder = Client::builder(mchid, serial, key).wechatpay_keys(self.wechatpay_keys()?);
        if let Some(apiv3_key) = self.apiv3_key()? {
            builder = builder.apiv3_key(apiv3_key);
        }
        if let Some(path) = &self.ca_file {
            let roots = RootCertificates::from_pem(&read(path, "the CA file")?)
                .map_err(|error| Failure::usage(format!("{}: {error}", path.display())))?;
            builder = builder.add_root_certificates(roots);
        }
        if let Some(base_url) = &self.base_url {
            // Bills are downloaded from the API's own host (a sandbox on plain http included).
            builder = builder.base_url(base_url.clone()).bill_download_origins([base_url.clone()]);
        }
        Ok(builder.build()?)
    }
}

fn read(path: &Path, what: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|error| Failure::usage(format!("{what} {}: {error}", path.display())))
}

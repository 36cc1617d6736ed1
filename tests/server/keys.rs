//! Identifiers of the test keys in `tests/fixtures/keys/` (test-only material, see its README).

/// The merchant id (`mchid`) the server expects in every `Authorization` header.
pub const MERCHANT_ID: &str = "1900000109";
/// Serial number of the merchant API certificate (`serial_no` in `Authorization`). The certificate itself
/// is not needed: only this string travels on the wire.
pub const MERCHANT_SERIAL: &str = "3775B6A45ACD588826D15E583A95F5DD2C6B5C94";
/// The merchant's APIv3 key (AES-256-GCM for notifications and certificates): 32 ASCII characters.
pub const APIV3_KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
/// Id of the "WeChat Pay public key" (`wechatpay_pub_key.pem`).
pub const PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";
/// Serial of `platform_cert.pem`.
pub const PLATFORM_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
/// Serial of `platform2_cert.pem` (the rotation certificate).
pub const PLATFORM2_SERIAL: &str = "7132D72A03E93CDDF8C03BBD1F37EEDF204E3C8A";
/// Serial of `platform_expired_cert.pem` (valid 2020-01-01 to 2025-01-01).
pub const PLATFORM_EXPIRED_SERIAL: &str = "3FB3A1B2C4D5E6F708192A3B4C5D6E7F80910A0B";
/// Id of the SM2 "WeChat Pay public key" of national-cryptography merchants (`sm2/wechatpay_pub_key.pem`).
pub const SM2_PUBLIC_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000SM2";
/// Serial of `sm2/platform_cert.pem`, the SM2 platform certificate.
pub const SM2_PLATFORM_SERIAL: &str = "6B2F3C8D9E0A1B2C3D4E5F60718293A4B5C6D7E8";
/// A serial no key has: what `Misbehaviour::UnknownSerial` and `Tamper::UnknownSerial` send.
pub const UNKNOWN_SERIAL: &str = "1DCE8A9F0A3E2B4C5D6E7F8091A2B3C4D5E6F708";

/// The path of `tests/fixtures/keys/<name>`, for tools that read keys from files (the peers).
pub fn key_path(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
        .display()
        .to_string()
}

/// The text of `tests/fixtures/keys/<name>`, e.g. `pem("merchant_key.pem")`.
///
/// Panics with the path when the file cannot be read: the fixtures are part of the repository.
pub fn pem(name: &str) -> String {
    let path = key_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read test key {path}: {error}"))
}

//! WeChat Pay APIv3 for Rust: every documented operation typed (generated from the documentation
//! into [`wechatpay_generated`], re-exported here), sent signed, verified and encrypted.

pub mod keys;
pub mod wechatpay_keys;

pub use keys::{ApiV3Key, CryptoError, KeyError, MerchantKey, PublicKey};
pub use wechatpay_keys::{PlatformCertificate, Verified, VerifyError, WechatpayKeys};
pub use wechatpay_generated::*;

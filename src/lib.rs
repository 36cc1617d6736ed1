//! WeChat Pay APIv3 for Rust: every documented operation typed (generated from the documentation
//! into [`wechatpay_generated`], re-exported here), sent signed, verified and encrypted.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bill;
pub mod certificates;
pub mod client;
pub mod doctor;
pub mod download;
pub mod error;
mod exchange;
// The fuzz targets' entry points, with the test keys: compiled only by cargo-fuzz (which sets
// `--cfg fuzzing`) and for this crate's own unit tests, which replay the corpus. No feature can
// turn it on.
pub mod apiv2;
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
pub mod keys;
mod log_limit;
pub mod merchants;
pub mod notify;
pub mod paging;
pub mod pay_sign;
mod refresh;
pub mod reply;
pub mod retry;
pub mod signing;
pub mod wechatpay_keys;

pub use apiv2::{ApiV2Key, ClientIdentity};
pub use client::{Client, ClientBuilder};
pub use download::{BillFile, BillStream};
pub use error::{Error, KeptBody, Waiting};
pub use keys::{ApiV3Key, CryptoError, KeyError, MerchantKey, PublicKey};
pub use notify::{Notification, Notifications, NotifyError};
pub use pay_sign::{AppPayParams, JsapiPayParams};
pub use reply::Reply;
pub use retry::RetryPolicy;
pub use wechatpay_generated::*;
pub use wechatpay_keys::{PlatformCertificate, Verified, VerifyError, WechatpayKeys};

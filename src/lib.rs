//! WeChat Pay (微信支付) APIv3 for Rust: every documented operation and notification typed
//! (generated from the documentation into [`wechatpay_generated`], re-exported here), sent signed,
//! verified and sealed.
//!
//! # Quickstart
//!
//! The client (keys: see the README's "Getting your keys"), a JSAPI order, what the front end
//! needs to pay it, the notification that it was paid, and a refund:
//!
//! ```no_run
//! use wechatpay::notify::{Event, Notification};
//! use wechatpay::v3::pay::transactions::jsapi::post::{Amount, Payer, Request};
//! use wechatpay::v3::refund::domestic::refunds::post as refund;
//! use wechatpay::{ApiV3Key, Client, MerchantKey, PublicKey};
//!
//! # async fn run(headers: http::HeaderMap, body: bytes::Bytes) -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("1900000109", "3775B6A45ACD588826D15E583A95F5DD2C6B5C94",
//!         MerchantKey::from_pem_file("apiclient_key.pem")?)
//!     .wechatpay_public_key("PUB_KEY_ID_0114232134912410000000000000", PublicKey::from_pem_file("pub_key.pem")?)
//!     .apiv3_key(ApiV3Key::new(&std::env::var("WECHATPAY_APIV3_KEY")?)?)
//!     .build()?;
//!
//! // The order: `mchid` is the client's; `build()` names every missing field by JSON path.
//! let order = Request::builder()
//!     .appid("wxd678efh567hg6787")
//!     .description("Image形象店-深圳腾大-QQ公仔")
//!     .out_trade_no("1217752501201407033233368018")
//!     .notify_url("https://shop.example.com/wechatpay/notify")
//!     .amount(Amount::builder().total(100))
//!     .payer(Payer::builder().openid("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
//!     .build()?;
//! let prepay = client.send(order).await?;
//! let params = client.jsapi_pay_params("wxd678efh567hg6787", &prepay.prepay_id).await?; // for wx.requestPayment
//!
//! // The notification POSTed to `notify_url`: its headers and raw body, verified then opened.
//! let notifications = client.notifications()?;
//! let answer = notifications
//!     .process(&headers, &body, |notification: Notification| async move {
//!         if let Event::TransactionSuccess(paid) = &notification.strict()?.event {
//!             println!("{} paid {} fen", paid.out_trade_no, paid.amount.total);
//!         }
//!         Ok::<_, wechatpay::notify::NotifyError>(())
//!     })
//!     .await;
//!
//! // A refund. If it fails with `error.outcome_unknown()`, query it before anything else.
//! let refund = refund::Request::builder()
//!     .out_trade_no("1217752501201407033233368018")
//!     .out_refund_no("R1217752501201407033233368018")
//!     .amount(refund::Amount::builder().refund(100).total(100).currency("CNY"))
//!     .build()?;
//! match client.send(refund).await {
//!     Ok(refund) => println!("refund {} is {:?}", refund.out_refund_no, refund.status),
//!     Err(error) if error.outcome_unknown() => println!("query the refund: it may have happened"),
//!     Err(error) => return Err(error.into()),
//! }
//! # let _ = (params, answer); Ok(()) }
//! ```
//!
//! Operations are modules named after their URL path and method (`v3::pay::transactions::jsapi::post`),
//! each family behind a cargo feature; notifications are [`webhook::Event`]; every operation is
//! also data in [`registry`]. What the client promises when things go wrong (unknown outcomes,
//! failover, certificates, limits): [`Error::outcome_unknown`] and the repository's
//! `docs/reliability.md`.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod apiv2;
pub mod bill;
pub mod certificates;
pub mod client;
pub mod digest;
pub mod doctor;
pub mod download;
pub mod error;
mod exchange;
// The fuzz targets' entry points, with the test keys: compiled only by cargo-fuzz (which sets
// `--cfg fuzzing`) and for this crate's own unit tests, which replay the corpus. No feature can
// turn it on.
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
mod gcm_stream;
#[cfg(feature = "guomi")]
#[cfg_attr(docsrs, doc(cfg(feature = "guomi")))]
pub mod guomi;
pub mod keys;
mod log_limit;
pub mod merchants;
pub mod notify;
pub mod paging;
pub mod pay_sign;
mod refresh;
pub mod reply;
pub mod retry;
#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;
pub mod signer;
pub mod signing;
mod tls;
pub mod wechatpay_keys;

pub use apiv2::{ApiV2Key, ClientIdentity};
pub use client::{Client, ClientBuilder};
pub use download::{BillDecryptError, BillEncryption, BillFile, BillStream};
pub use error::{Error, KeptBody, Waiting};
pub use keys::{ApiV3Key, CryptoError, KeyError, MerchantKey, PublicKey};
pub use notify::{Notification, Notifications, NotifyError};
pub use pay_sign::{AppPayParams, JsapiPayParams};
pub use reply::Reply;
pub use retry::RetryPolicy;
pub use signer::{Decrypter, SignatureScheme, Signer, SignerError};
pub use tls::RootCertificates;
pub use wechatpay_generated::*;
pub use wechatpay_keys::{PlatformCertificate, Verified, VerifyError, WechatpayKeys};

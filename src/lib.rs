//! WeChat Pay APIv3 for Rust: every documented operation typed (re-exported from the generated
//! crate), sent by a thin transport that signs, verifies and encrypts.

pub use wechatpay_generated::*;

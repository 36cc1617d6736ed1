//! The APIv2 notification opener: signed bodies, `req_info`, the typed payloads
//! (`wechatpay::fuzzing::v2_notification`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wechatpay::fuzzing::v2_notification(data));

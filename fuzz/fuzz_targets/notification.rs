//! The notification opener, headers and body (`wechatpay::fuzzing::notification`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wechatpay::fuzzing::notification(data));

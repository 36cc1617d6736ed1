//! The response verifier and decoder (`wechatpay::fuzzing::response`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wechatpay::fuzzing::response(data));

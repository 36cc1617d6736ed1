//! SM2 signatures and ciphertexts, SM4-GCM resources (`wechatpay::fuzzing::guomi`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wechatpay::fuzzing::guomi(data));

//! The encrypted-bill opener: streaming GCM, gzip and the digest (`wechatpay::fuzzing::encrypted_bill`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wechatpay::fuzzing::encrypted_bill(data));

//! The bill-file parser and digest check (`wechatpay::fuzzing::bill`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wechatpay::fuzzing::bill(data));
